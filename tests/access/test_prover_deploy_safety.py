"""Deploy safety: principals created in the same deployment are matched by ARN, and that grants exactly the same.

KMS refuses a key policy naming a principal it cannot see yet (IAM propagation), and CloudFormation
does not retry. The key policy therefore names a role created with the key through
``Principal: *`` and ``ArnEquals aws:PrincipalArn`` (which KMS does not look up). These tests prove,
over every request, that the two forms allow and deny exactly the same requests, and that the new
form still passes P1-P6.
"""

from __future__ import annotations

from typing import Any

import pytest

from constructs_lib.core import policies
from constructs_lib.core.prover import Evidence, Verdict, new_access, prove
from tests.access.conftest import ADMIN, ATTACKER, AUTH, DEPLOY, READER, bucket_policy, design

DESIGNS: dict[str, dict[str, Any]] = {
    "auth-role": {"created": {AUTH}},
    "auth-role-and-reader": {"reader_arns": (READER,), "created": {AUTH, READER}},
    "auth-role-reader-admin-separated": {
        "reader_arns": (READER,),
        "admin_arns": (ADMIN,),
        "admin_mode": "separated",
        "created": {AUTH, READER, ADMIN},
    },
    "rfd-unscoped-with-deny": {
        "admin_arns": (ADMIN,),
        "scope_key_to_s3": False,
        "denied": (ATTACKER,),
        "created": {AUTH, ATTACKER},
    },
}


def document(spec: dict[str, Any], created: set[str]) -> dict[str, Any]:
    d = design(**{k: v for k, v in spec.items() if k not in ("created", "denied")})
    return policies.key_policy(
        auth_principal_arn=d.auth_role_arn,
        deploy_role_arn=DEPLOY,
        key_admin_arns=d.admin_arns,
        denied_principal_arns=spec.get("denied", ()),
        key_admin_mode=policies.KeyAdminMode(d.admin_mode),
        bucket_arn=d.bucket_arn if d.scope_key_to_s3 else None,
        region=d.region if d.scope_key_to_s3 else None,
        reader_arns=d.reader_arns,
        created_principal_arns=created,
    )


@pytest.mark.parametrize("name", DESIGNS)
def test_matching_new_principals_by_arn_grants_exactly_what_naming_them_grants(name: str) -> None:
    spec = DESIGNS[name]
    d = design(**{k: v for k, v in spec.items() if k not in ("created", "denied")})
    named = Evidence(key_policy=document(spec, set()), bucket_policy=bucket_policy(d))
    by_arn = Evidence(key_policy=document(spec, spec["created"]), bucket_policy=bucket_policy(d))
    assert named.key_policy != by_arn.key_policy, "the two forms differ in text"
    assert new_access(d, named, by_arn) is None, "matching by ARN allows nothing naming did not"
    assert new_access(d, by_arn, named) is None, "naming allows nothing matching by ARN did not"


@pytest.mark.parametrize("name", DESIGNS)
def test_the_by_arn_form_passes_every_property(name: str) -> None:
    spec = DESIGNS[name]
    d = design(**{k: v for k, v in spec.items() if k not in ("created", "denied")})
    results = prove(d, Evidence(key_policy=document(spec, spec["created"]), bucket_policy=bucket_policy(d)))
    assert {r.id: r.verdict for r in results} == {f"P{n}": Verdict.PASS for n in range(1, 7)}


def test_a_condition_naming_another_role_is_new_access() -> None:
    """The proof can fail: confining the wildcard to the wrong ARN is caught."""
    spec = DESIGNS["auth-role"]
    d = design()
    named = Evidence(key_policy=document(spec, set()), bucket_policy=bucket_policy(d))
    wrong = document(spec, spec["created"])
    for statement in wrong["Statement"]:
        if statement["Principal"] == {"AWS": "*"}:
            statement["Condition"]["ArnEquals"]["aws:PrincipalArn"] = ATTACKER
    found = new_access(d, named, Evidence(key_policy=wrong, bucket_policy=bucket_policy(d)))
    assert found is not None
    assert found.principal == ATTACKER
