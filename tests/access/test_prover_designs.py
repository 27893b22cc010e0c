"""The package's own policies pass P1-P6, built by ``constructs_lib.core.policies`` with concrete
ARNs (the synthesized templates are in test_prover_templates.py), and what breaks them fails."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from typing import Any

import pytest

from constructs_lib.core import policies
from constructs_lib.core.prover import Design, Evidence, Verdict, prove
from tests.access.conftest import (
    ACCOUNT,
    ADMIN,
    ATTACKER,
    AUTH,
    READER,
    assert_fails,
    assert_passes,
    auth_identity,
    bucket_policy,
    design,
    evidence,
    key_policy,
    replay,
    with_statements,
)

DESIGNS = {
    "scoped-deploy-role-only": design(),
    "rfd-admins-scoped": design(admin_arns=(ADMIN,), admin_mode="rfd"),
    "rfd-admins-unscoped": design(admin_arns=(ADMIN,), admin_mode="rfd", scope_key_to_s3=False),
    "separated-admins": design(admin_arns=(ADMIN,), admin_mode="separated"),
    "admins-without-deploy-role": design(admin_arns=(ADMIN,), deploy_role_arn=None),
    "key-id-as-sse-kms-key": design(sse_kms_key="1234abcd-12ab-34cd-56ef-1234567890ab"),
    "nested-prefix": design(prefix="teleport/sessions"),
}


@pytest.mark.parametrize("name", DESIGNS)
def test_the_package_policies_pass(name: str) -> None:
    d = DESIGNS[name]
    e = Evidence(key_policy=key_policy(d), bucket_policy=bucket_policy(d), identity_policies={AUTH: [auth_identity(d)]})
    assert_passes(d, e)


def test_the_deploy_role_and_admins_escalation_paths_are_findings_not_failures() -> None:
    d = design(admin_arns=(ADMIN,), admin_mode="separated")
    (p3,) = prove(d, evidence(d), ["P3"])
    assert p3.verdict is Verdict.PASS
    assert any(ADMIN in f and "kms:PutKeyPolicy" in f for f in p3.findings)
    assert any(d.deploy_role_arn and d.deploy_role_arn in f and "kms:CreateGrant" in f for f in p3.findings)


def test_separated_admins_may_not_decrypt_but_rfd_admins_may() -> None:
    """The same rfd-mode key policy (admins get kms:*) judged against a separated design fails P1."""
    rfd = design(admin_arns=(ADMIN,), admin_mode="rfd")
    e = evidence(rfd)
    assert_passes(rfd, e, ["P1"])
    assert any(ADMIN in f and "may decrypt" in f for f in prove(rfd, e, ["P1"])[0].findings)
    example = assert_fails(replace(rfd, admin_mode="separated"), e, "P1")
    assert example.principal == ADMIN


def _reader_statements(d: Design, actions: list[str]) -> list[dict[str, Any]]:
    scoped = copy.deepcopy(next(s for s in key_policy(d)["Statement"] if s["Sid"] == policies.SID_AUTH))
    scoped |= {"Sid": "Reader", "Principal": {"AWS": READER}, "Action": actions}
    describe = {
        "Sid": "ReaderDescribe",
        "Effect": "Allow",
        "Principal": {"AWS": READER},
        "Action": "kms:DescribeKey",
        "Resource": "*",
    }
    return [scoped, describe]


def test_a_decrypt_only_reader_passes() -> None:
    d = design(reader_arns=(READER,))
    e = replace(evidence(d), key_policy=with_statements(key_policy(d), *_reader_statements(d, ["kms:Decrypt"])))
    assert_passes(d, e)


def test_a_reader_that_can_encrypt_fails_p1() -> None:
    d = design(reader_arns=(READER,))
    e = replace(
        evidence(d), key_policy=with_statements(key_policy(d), *_reader_statements(d, ["kms:Decrypt", "kms:Encrypt"]))
    )
    example = assert_fails(d, e, "P1")
    assert (example.principal, example.action) == (READER, "kms:Encrypt")
    assert replay(e, example).value == "ALLOWED"


def test_p4_fails_when_neither_the_deploy_role_nor_an_admin_can_put_the_key_policy() -> None:
    d = design(admin_arns=(ADMIN,), deploy_role_arn=None)
    e = evidence(d)
    without = json.loads(json.dumps(e.key_policy).replace('"kms:Put*", ', ""))
    without = json.loads(json.dumps(without).replace('"kms:*"', '"kms:Describe*"'))
    example = assert_fails(d, replace(e, key_policy=without), "P4")
    assert (example.principal, example.action) == (ADMIN, "kms:PutKeyPolicy")


def test_p4_reports_a_design_without_key_administrators_as_a_break_glass_finding() -> None:
    (with_deploy_role_only,) = prove(design(), evidence(), ["P4"])
    assert with_deploy_role_only.verdict is Verdict.PASS
    assert any("break-glass" in f for f in with_deploy_role_only.findings)
    d = design(admin_arns=(ADMIN,))
    (with_admins,) = prove(d, evidence(d), ["P4"])
    assert with_admins.findings == ()


def test_p4_fails_without_anyone_meant_to_administer_the_key() -> None:
    (p4,) = prove(design(deploy_role_arn=None), evidence(design(deploy_role_arn=None)), ["P4"])
    assert p4.verdict is Verdict.FAIL
    assert "nobody" in p4.summary


def test_p5_checks_the_auth_roles_identity_policies_when_given() -> None:
    d = design()
    no_delete = auth_identity(d)
    assert_passes(d, replace(evidence(d), identity_policies={AUTH: [no_delete]}), ["P5"])
    read_only = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}
    e = replace(evidence(d), identity_policies={AUTH: [read_only]})
    example = assert_fails(d, e, "P5")
    assert example.principal == AUTH
    assert not example.action.startswith("s3:Get")
    (p5,) = prove(d, evidence(d), ["P5"])
    assert "identity side was not checked" in p5.summary


def test_a_root_statement_lets_any_iam_principal_of_the_account_decrypt() -> None:
    """CDK's default "Enable IAM User Permissions" statement: identity policies now count, and
    every account has IAM administrators whose identity policies allow everything."""
    e = evidence()
    root = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}
    e = replace(e, key_policy=with_statements(e.key_policy, root))
    (p1,) = prove(design(), e, ["P1"])
    example = p1.counterexample
    assert p1.verdict is Verdict.FAIL
    assert example is not None
    assert example.principal.startswith(f"arn:aws:iam::{ACCOUNT}:")
    assert example.principal != AUTH
    assert replay(e, example).value == "ALLOWED"
    assert "not supplied" in p1.summary or example.principal.endswith(":root")


def test_a_statement_for_another_account_lets_its_principals_decrypt() -> None:
    e = evidence()
    other = {"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "kms:Decrypt", "Resource": "*"}
    e = replace(e, key_policy=with_statements(e.key_policy, other))
    example = assert_fails(design(), e, "P1")
    assert example.principal.startswith("arn:aws:iam::444455556666:")
    assert replay(e, example).value == "ALLOWED"


def test_dropping_any_statement_of_the_package_policies_fails_a_property() -> None:
    """The proofs can fail: each statement of the key policy and the bucket policy is needed by
    some property (the RFD's optional "Deny AdministratorAccess users" statement is defence in
    depth: no property needs it; the admins' statement is needed by P4 when there is no deploy
    role: test_p4_fails_when_neither_the_deploy_role_nor_an_admin_can_put_the_key_policy)."""
    d = design()
    full = Evidence(
        key_policy=key_policy(d, denied_principal_arns=[ATTACKER]),
        bucket_policy=bucket_policy(d),
    )
    undecided = []
    for document in ("key_policy", "bucket_policy"):
        for dropped in getattr(full, document)["Statement"]:
            if dropped.get("Sid") in (policies.SID_DENY, policies.SID_DENY_MISSING_ENCRYPTION):
                continue
            mutated = copy.deepcopy(getattr(full, document))
            mutated["Statement"] = [s for s in mutated["Statement"] if s.get("Sid") != dropped.get("Sid")]
            e = replace(full, **{document: mutated})
            if not any(prove(d, e, [p])[0].verdict is Verdict.FAIL for p in ("P6", "P4", "P5", "P2", "P1", "P3")):
                undecided.append(dropped.get("Sid"))
    assert undecided == []


def test_principals_keep_their_spelling_from_the_identity_policies() -> None:
    """aws:PrincipalArn is compared case-sensitively: a principal known only from
    ``identity_policies`` must be seen with the spelling given there (a lower-cased copy once
    turned this FAIL into a PASS)."""
    admin = f"arn:aws:iam::{ACCOUNT}:role/AccountAdministrator"
    e = evidence()
    everyone = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalArn": admin}},
    }
    e = replace(e, key_policy=with_statements(e.key_policy, everyone), identity_policies={admin: []})
    example = assert_fails(design(), e, "P1")
    assert example.principal == admin
    assert replay(e, example).value == "ALLOWED"
