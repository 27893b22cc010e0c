"""Shared fixtures of the prover tests: concrete ARNs and the design's own policies."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pytest

from constructs_lib.core import policies
from constructs_lib.core.prover import (
    Decision,
    Design,
    Evidence,
    PropertyResult,
    Request,
    Verdict,
    decide,
    prove,
)

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
REGION = "eu-west-1"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"
OTHER_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0987dcba-09fe-87dc-65ba-ab0987654321"
BUCKET = "teleport-recordings"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
OBJECT_ARN = f"{BUCKET_ARN}/records/2024/05/07/9f3c.tar"
AUTH = f"arn:aws:iam::{ACCOUNT}:role/TeleportAuth"
DEPLOY = f"arn:aws:iam::{ACCOUNT}:role/cfn-deployer"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/KeyAdmins"
READER = f"arn:aws:iam::{ACCOUNT}:role/RecordingsAuditor"
ATTACKER = f"arn:aws:iam::{ACCOUNT}:role/Attacker"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
VIA_S3 = f"s3.{REGION}.amazonaws.com"

ADMINISTRATOR_ACCESS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def design(**changes: Any) -> Design:
    base = Design(
        account=ACCOUNT,
        region=REGION,
        key_arn=KEY_ARN,
        key_id=KEY_ID,
        bucket_name=BUCKET,
        auth_role_arn=AUTH,
        deploy_role_arn=DEPLOY,
    )
    return replace(base, **changes)


def key_policy(d: Design | None = None, **changes: Any) -> dict[str, Any]:
    """The package's key policy for a design (scoped to S3 unless the design says otherwise)."""
    d = d or design()
    arguments: dict[str, Any] = {
        "auth_principal_arn": d.auth_role_arn,
        "deploy_role_arn": d.deploy_role_arn,
        "key_admin_arns": d.admin_arns,
        "key_admin_mode": policies.KeyAdminMode(d.admin_mode),
    }
    if d.scope_key_to_s3:
        arguments |= {"bucket_arn": d.bucket_arn, "region": d.region}
    return policies.key_policy(**(arguments | changes))


def bucket_policy(d: Design | None = None, **changes: Any) -> dict[str, Any]:
    d = d or design()
    return policies.bucket_policy(bucket_arn=d.bucket_arn, key_arn=d.key_arn, key_id=d.key_id, **changes)


def auth_identity(d: Design | None = None) -> dict[str, Any]:
    d = d or design()
    return {
        "Version": "2012-10-17",
        "Statement": policies.auth_s3_policy_statements(bucket_arn=d.bucket_arn, prefix=d.prefix),
    }


def evidence(d: Design | None = None, **changes: Any) -> Evidence:
    d = d or design()
    base = Evidence(key_policy=key_policy(d), bucket_policy=bucket_policy(d))
    return replace(base, **changes)


def with_statements(document: Mapping[str, Any], *statements: Mapping[str, Any]) -> dict[str, Any]:
    copied = copy.deepcopy(dict(document))
    copied["Statement"] = [*copied["Statement"], *statements]
    return copied


def statement(document: Mapping[str, Any], sid: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in document["Statement"] if s.get("Sid") == sid)
    return found


def result(d: Design, e: Evidence, prop: str) -> PropertyResult:
    (only,) = prove(d, e, [prop])
    return only


def assert_fails(d: Design, e: Evidence, prop: str) -> Request:
    """The property FAILs, and its counterexample replays: the concrete evaluator agrees."""
    found = result(d, e, prop)
    assert found.verdict is Verdict.FAIL, found
    assert found.counterexample is not None
    return found.counterexample


def assert_passes(d: Design, e: Evidence, props: Sequence[str] = ("P1", "P2", "P3", "P4", "P5", "P6")) -> None:
    results = prove(d, e, props)
    assert [r.verdict for r in results] == [Verdict.PASS] * len(results), [
        r for r in results if r.verdict is not Verdict.PASS
    ]


def replay(e: Evidence, request: Request) -> Decision:
    """The concrete decision for a counterexample, under the prover's assumption about principals
    whose identity policies were not supplied: they allow everything and deny nothing."""
    identity = dict(e.identity_policies)
    named = (":role/", ":user/", ":federated-user/")
    if any(kind in request.principal for kind in named) and not any(
        a.lower() == request.principal.lower() for a in identity
    ):
        identity[request.principal] = [ADMINISTRATOR_ACCESS]
    return decide(replace(e, identity_policies=identity), request, account=ACCOUNT)


@pytest.fixture
def default_design() -> Design:
    return design()
