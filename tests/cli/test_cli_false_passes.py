"""The six false PASSes issue 9 reproduced against the old `verify`: each now FAILs (exit 1) with a reason.

Cases 1, 2, 3, 5 and 6 run end to end: the policies and grants are written to the moto server and
`recordings-kms verify` reads them back over HTTP (moto stores grants, key policies and bucket
policies faithfully). Case 4 puts a Deny statement in the key policy, and moto 5.2.5 then refuses
DescribeKey to every caller, so it is tested on the facts verify would have read
(``checks.verify``), with the same design and evidence.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest

from constructs_lib.core import policies
from recordings_kms.results import CheckResult, Status
from tests.cli.conftest import VERIFY_FIXTURES
from tests.cli.deployment import (
    ACCOUNT,
    ADMIN_ROLE,
    ATTACKER,
    DEPLOY_ROLE,
    PREFIX,
    REGION,
    Checks,
    Deployment,
    verify_json,
)
from tests.cli.facts import AUTH, design_key_policy, live_facts, verdicts, verify_facts

Deploy = Callable[..., Deployment]
moto = pytest.mark.usefixtures(*VERIFY_FIXTURES)


def _fails(deployment: Deployment, capsys: pytest.CaptureFixture[str], *check_ids: str) -> Checks:
    code, checks = verify_json(deployment, capsys)
    assert code == 1
    for check_id in check_ids:
        assert checks[check_id]["status"] == "FAIL", checks[check_id]
    return checks


def _statement(document: dict[str, Any], sid: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in document["Statement"] if s.get("Sid") == sid)
    return found


# --- 1. a grant ------------------------------------------------------------------------------------


@moto
def test_case_1_a_grant_giving_another_role_decrypt_fails_p1(
    deploy: Deploy, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment = deploy()
    grant = deployment.kms.create_grant(
        KeyId=deployment.key_id, GranteePrincipal=ATTACKER, Operations=["Decrypt", "GenerateDataKey"]
    )
    checks = _fails(deployment, capsys, "access.P1")
    p1 = checks["access.P1"]
    assert p1["reason"].startswith(f"{ATTACKER} can call kms:")
    assert f"through grant {grant['GrantId']}" in p1["reason"]
    assert p1["counterexample"]["principal"] == ATTACKER
    assert p1["counterexample"]["action"] in ("kms:Decrypt", "kms:GenerateDataKey")


# --- 2. CreateGrant and PutKeyPolicy ---------------------------------------------------------------


@moto
@pytest.mark.parametrize("action", ["kms:CreateGrant", "kms:PutKeyPolicy"])
def test_case_2_another_role_allowed_create_grant_or_put_key_policy_fails_p1_and_p3(
    deploy: Deploy, capsys: pytest.CaptureFixture[str], action: str
) -> None:
    """Not "administration without decryption": either action lets the attacker give itself decryption."""
    deployment = deploy()
    document = deployment.key_policy()
    document["Statement"].append({"Effect": "Allow", "Principal": {"AWS": ATTACKER}, "Action": action, "Resource": "*"})
    deployment.put_key_policy(document)
    checks = _fails(deployment, capsys, "access.P1", "access.P3")
    assert checks["access.P1"]["reason"].startswith(f"{ATTACKER} can call {action} and so give itself decryption")
    assert (checks["access.P3"]["counterexample"]["principal"], checks["access.P3"]["counterexample"]["action"]) == (
        ATTACKER,
        action,
    )


# --- 3. the auth statement's scope -----------------------------------------------------------------


def _other_bucket(conditions: dict[str, Any]) -> None:
    conditions["StringLike"]["kms:EncryptionContext:aws:s3:arn"] = ["arn:aws:s3:::other", "arn:aws:s3:::other/*"]


def _other_region(conditions: dict[str, Any]) -> None:
    conditions["StringEquals"]["kms:ViaService"] = "s3.us-east-1.amazonaws.com"


def _if_exists(conditions: dict[str, Any]) -> None:
    conditions["StringEqualsIfExists"] = conditions.pop("StringEquals")


def _like_star(conditions: dict[str, Any]) -> None:
    del conditions["StringEquals"]
    conditions["StringLike"]["kms:ViaService"] = "*"


@moto
@pytest.mark.parametrize(
    ("change", "also_failing"),
    [
        (_other_bucket, "access.P5"),
        (_other_region, "access.P5"),
        (_if_exists, None),
        (_like_star, None),
    ],
    ids=["other-bucket", "other-region", "string-equals-if-exists", "string-like-star"],
)
def test_case_3_an_auth_statement_scoped_elsewhere_or_not_at_all_fails_p2(
    deploy: Deploy,
    capsys: pytest.CaptureFixture[str],
    change: Callable[[dict[str, Any]], None],
    also_failing: str | None,
) -> None:
    deployment = deploy()
    document = deployment.key_policy()
    change(_statement(document, policies.SID_AUTH)["Condition"])
    deployment.put_key_policy(document)
    checks = _fails(deployment, capsys, "access.P2", *([also_failing] if also_failing else []))
    p2 = checks["access.P2"]
    assert p2["reason"].startswith("the key is usable outside S3 for this bucket")
    assert p2["counterexample"]["principal"] == deployment.auth_role
    context = p2["counterexample"]["context"]
    assert context.get("kms:viaservice") != f"s3.{REGION}.amazonaws.com" or not str(
        context.get("kms:encryptioncontext:aws:s3:arn", "")
    ).startswith(deployment.bucket_arn)
    if also_failing:
        assert checks["access.P5"]["reason"].startswith("Teleport's ")


# --- 4. Denies that break Teleport (facts: moto refuses DescribeKey under a key-policy Deny) -------


def verify_key_policy(key_policy: dict[str, Any]) -> dict[str, CheckResult]:
    return verdicts(verify_facts(live_facts(key_policy)))


def test_case_4_baseline_the_same_facts_without_a_deny_pass() -> None:
    """The facts the case-4 tests start from pass every check, so each FAIL below is the Deny's."""
    results = verify_key_policy(design_key_policy())
    assert {check_id: r.status for check_id, r in results.items() if r.status is not Status.PASS} == {}


def test_case_4_a_deny_on_the_auth_role_for_generate_data_key_and_encrypt_fails_p5() -> None:
    document = design_key_policy()
    document["Statement"].append(
        {
            "Effect": "Deny",
            "Principal": {"AWS": AUTH},
            "Action": ["kms:GenerateDataKey*", "kms:Encrypt"],
            "Resource": "*",
        }
    )
    results = verify_key_policy(document)
    p5 = results["access.P5"]
    assert p5.status is Status.FAIL
    assert p5.reason.startswith("Teleport's GenerateDataKey through S3")
    assert p5.counterexample is not None
    assert (p5.counterexample.principal, p5.counterexample.action) == (AUTH, "kms:GenerateDataKey")
    assert [check_id for check_id, r in results.items() if r.status is not Status.PASS] == ["access.P5"]


def test_case_4_a_conditional_deny_of_everyone_but_admin_and_deploy_role_fails_p5() -> None:
    document = design_key_policy()
    document["Statement"].append(
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "kms:*",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:PrincipalArn": [ADMIN_ROLE, DEPLOY_ROLE]}},
        }
    )
    results = verify_key_policy(document)
    p5 = results["access.P5"]
    assert p5.status is Status.FAIL
    assert p5.counterexample is not None
    assert p5.counterexample.principal == AUTH
    assert [check_id for check_id, r in results.items() if r.status is not Status.PASS] == ["access.P5"]


# --- 5. bucket-policy Denies -----------------------------------------------------------------------


def _deny_put_under_the_prefix(d: Deployment) -> dict[str, Any]:
    return {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"{d.bucket_arn}/{PREFIX}/*"}


def _not_principal_deny(d: Deployment) -> dict[str, Any]:
    """IAM User Guide, "NotPrincipal": a role ARN alone does not exempt the role's sessions."""
    return {
        "Effect": "Deny",
        "NotPrincipal": {"AWS": [d.auth_role, f"arn:aws:iam::{ACCOUNT}:root"]},
        "Action": ["s3:GetObject*", "s3:PutObject"],
        "Resource": f"{d.bucket_arn}/*",
    }


def _deny_naming_the_account_root(d: Deployment) -> dict[str, Any]:
    return {
        "Effect": "Deny",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "s3:GetObjectVersion",
        "Resource": f"{d.bucket_arn}/*",
    }


@moto
@pytest.mark.parametrize(
    "deny",
    [_deny_put_under_the_prefix, _not_principal_deny, _deny_naming_the_account_root],
    ids=["put-under-the-prefix", "not-principal", "account-root"],
)
def test_case_5_a_bucket_policy_deny_that_refuses_teleport_fails_p5(
    deploy: Deploy, capsys: pytest.CaptureFixture[str], deny: Callable[[Deployment], dict[str, Any]]
) -> None:
    deployment = deploy()
    document = deployment.bucket_policy()
    document["Statement"].append(deny(deployment))
    deployment.put_bucket_policy(document)
    checks = _fails(deployment, capsys, "access.P5")
    p5 = checks["access.P5"]
    assert p5["reason"].startswith("Teleport's ")
    assert p5["counterexample"]["principal"] == deployment.auth_role
    assert p5["counterexample"]["resource"].startswith(deployment.bucket_arn)
    assert [check_id for check_id in checks if checks[check_id]["status"] == "FAIL"] == ["access.P5"]


# --- 6. the wrong-key Deny -------------------------------------------------------------------------


@moto
def test_case_6_a_foreign_key_allowed_by_the_wrong_key_deny_fails_p6(
    deploy: Deploy, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment = deploy()
    foreign = f"arn:aws:kms:{REGION}:444455556666:key/0987dcba-09fe-87dc-65ba-ab0987654321"
    document = copy.deepcopy(deployment.bucket_policy())
    condition = _statement(document, policies.SID_DENY_WRONG_KEY)["Condition"]["StringNotEquals"]
    condition[policies.SSE_KMS_KEY_HEADER].append(foreign)
    deployment.put_bucket_policy(document)
    checks = _fails(deployment, capsys, "access.P6")
    p6 = checks["access.P6"]
    assert p6["reason"].startswith("the bucket policy does not deny")
    assert p6["counterexample"]["action"] == "s3:PutObject"
    assert p6["counterexample"]["context"][policies.SSE_KMS_KEY_HEADER] == foreign


# --- issue 18: a live policy with duplicate keys ---------------------------------------------------


def test_a_live_key_policy_with_a_duplicate_key_is_cannot_prove_naming_the_statement() -> None:
    """AWS stores a policy's text as given; Python's json keeps the last of duplicate keys where AWS may
    read the first. A live key policy whose attacker statement says Effect twice (Allow, then Deny)
    was proven as a Deny: P1 PASS. Now no property is proven, and the statement is named."""
    document = design_key_policy()
    document["Statement"].append(
        {"Sid": "Twice", "Effect": "Deny", "Principal": {"AWS": ATTACKER}, "Action": "kms:*", "Resource": "*"}
    )
    text = json.dumps(document).replace(
        '"Effect": "Deny", "Principal"', '"Effect": "Allow", "Effect": "Deny", "Principal"'
    )
    facts = live_facts()
    facts = dataclasses.replace(facts, key=dataclasses.replace(facts.key, policy_text=text))
    results = verdicts(verify_facts(facts))
    for prop in ("P1", "P2", "P3", "P4", "P5", "P6"):
        assert results[f"access.{prop}"].status is Status.CANNOT_PROVE
    assert "statement 'Twice' has the key 'Effect' more than once" in results["access.P1"].reason
