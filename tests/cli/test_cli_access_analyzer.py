"""`verify --access-analyzer`: AWS IAM Access Analyzer's verdicts beside the prover's, with botocore's Stubber.

No AWS account is reachable here and moto has no Access Analyzer, so the client is a real boto3
client under ``botocore.stub.Stubber``: each test states the exact request AWS must receive
(``expected_params``) and AWS's answer (PASS or FAIL with reasons, or an error). The rest of verify
runs against the moto server as usual.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from constructs_lib.core import policies
from constructs_lib.core.prover import CRYPTO_ACTIONS, Design, Request
from recordings_kms import aws
from recordings_kms.results import CheckResult, Status
from recordings_kms.verify.access_analyzer import AnalyzerAnswer, AnalyzerQuestion, judge, questions
from tests.cli.conftest import VERIFY_FIXTURES
from tests.cli.deployment import ADMIN_ROLE, ATTACKER, REGION, Checks, Deployment, checks_of, run

pytestmark = pytest.mark.usefixtures(*VERIFY_FIXTURES)
Deploy = Callable[..., Deployment]
ACTIONS = list(CRYPTO_ACTIONS)


@pytest.fixture
def analyzer(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """The Access Analyzer client verify gets, stubbed; every queued answer must have been asked for."""
    client = boto3.client("accessanalyzer", region_name=REGION)
    stubber = Stubber(client)
    monkeypatch.setattr(aws, "access_analyzer_client", lambda clients: client)
    with stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def _verdict(result: str, *reasons: dict[str, Any]) -> dict[str, Any]:
    message = "The policy does not grant the access." if result == "PASS" else "The policy grants the access."
    return {"result": result, "message": message, "reasons": list(reasons)}


def _expected_crypto_document(deployment: Deployment) -> str:
    """The key policy as KMS returns it, plus the Deny for the design's own principals (rfd: the admins too)."""
    document = deployment.key_policy()
    document["Statement"].append(
        {
            "Sid": "RecordingsKmsVerifyDesignPrincipals",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ACTIONS,
            "Resource": "*",
            "Condition": {"ArnEquals": {"aws:PrincipalArn": [deployment.auth_role, ADMIN_ROLE]}},
        }
    )
    return json.dumps(document)


def _queue(
    stubber: Stubber, deployment: Deployment, *, key: dict[str, Any], bucket: dict[str, Any], crypto: dict[str, Any]
) -> None:
    key_policy_text = deployment.kms.get_key_policy(KeyId=deployment.key_id, PolicyName="default")["Policy"]
    bucket_policy_text = deployment.s3.get_bucket_policy(Bucket=deployment.bucket)["Policy"]
    stubber.add_response(
        "check_no_public_access", key, {"policyDocument": key_policy_text, "resourceType": "AWS::KMS::Key"}
    )
    stubber.add_response(
        "check_no_public_access", bucket, {"policyDocument": bucket_policy_text, "resourceType": "AWS::S3::Bucket"}
    )
    stubber.add_response(
        "check_access_not_granted",
        crypto,
        {
            "policyDocument": _expected_crypto_document(deployment),
            "access": [{"actions": ACTIONS}],
            "policyType": "RESOURCE_POLICY",
        },
    )


def _verify(deployment: Deployment, capsys: pytest.CaptureFixture[str]) -> tuple[int, Checks, list[str]]:
    code, out, err = run(deployment.argv("--access-analyzer", "--json"), capsys)
    assert "Traceback" not in err
    every = [f"{c['status']} {c['id']}: {c['reason']}" for c in json.loads(out)["checks"]]
    return code, checks_of(out), every


def test_aws_agrees_that_nobody_else_can_use_the_key(
    deploy: Deploy, capsys: pytest.CaptureFixture[str], analyzer: Stubber
) -> None:
    deployment = deploy()
    _queue(analyzer, deployment, key=_verdict("PASS"), bucket=_verdict("PASS"), crypto=_verdict("PASS"))
    code, checks, every = _verify(deployment, capsys)
    assert code == 0
    assert checks["access-analyzer.key-public"]["reason"] == (
        "AWS: the key policy grants no public access (The policy does not grant the access.)"
    )
    assert checks["access-analyzer.bucket-public"]["status"] == "PASS"
    assert checks["access-analyzer.key-crypto"]["reason"].startswith(
        "AWS: with the design's own principals denied, the key policy grants nobody else kms:Encrypt, kms:Decrypt"
    )
    assert "INFO access-analyzer.vs-P1: AWS and the prover agree: nobody outside the design can use the key" in every


def test_aws_finding_access_the_prover_does_not_is_a_disagreement(
    deploy: Deploy, capsys: pytest.CaptureFixture[str], analyzer: Stubber
) -> None:
    deployment = deploy()
    reason = {
        "description": "grants kms:Decrypt to a principal",
        "statementIndex": 1,
        "statementId": "Teleport CMK Auth",
    }
    _queue(analyzer, deployment, key=_verdict("PASS"), bucket=_verdict("PASS"), crypto=_verdict("FAIL", reason))
    code, checks, _ = _verify(deployment, capsys)
    assert code == 1
    crypto = checks["access-analyzer.key-crypto"]
    assert crypto["status"] == "FAIL"
    assert crypto["reason"] == (
        "AWS: the key policy grants someone outside the design a cryptographic action "
        "(statement 'Teleport CMK Auth': grants kms:Decrypt to a principal)"
    )
    versus = checks["access-analyzer.vs-P1"]
    assert versus["status"] == "WARN"
    assert versus["reason"].startswith("disagreement: AWS says the key policy grants someone outside the design")
    assert checks["access.P1"]["status"] == "PASS"


def test_public_policies_fail_with_aws_reasons(
    deploy: Deploy, capsys: pytest.CaptureFixture[str], analyzer: Stubber
) -> None:
    deployment = deploy()
    public = _verdict("FAIL", {"description": "Principal * without a condition", "statementIndex": 0})
    _queue(analyzer, deployment, key=public, bucket=public, crypto=_verdict("PASS"))
    code, checks, _ = _verify(deployment, capsys)
    assert code == 1
    assert checks["access-analyzer.key-public"]["reason"] == (
        "AWS: the key policy grants public access (statement #1: Principal * without a condition)"
    )
    assert checks["access-analyzer.bucket-public"]["status"] == "FAIL"


def test_a_grant_fails_p1_where_aws_judging_the_key_policy_alone_passes(
    deploy: Deploy, capsys: pytest.CaptureFixture[str], analyzer: Stubber
) -> None:
    """Access Analyzer does not read grants: its PASS beside P1's FAIL is explained, not a disagreement."""
    deployment = deploy()
    deployment.kms.create_grant(KeyId=deployment.key_id, GranteePrincipal=ATTACKER, Operations=["Decrypt"])
    _queue(analyzer, deployment, key=_verdict("PASS"), bucket=_verdict("PASS"), crypto=_verdict("PASS"))
    code, checks, every = _verify(deployment, capsys)
    assert code == 1
    assert checks["access.P1"]["status"] == "FAIL"
    assert checks["access-analyzer.key-crypto"]["status"] == "PASS"
    assert any(line.startswith("INFO access-analyzer.vs-P1: no disagreement: P1 fails through") for line in every)


def test_access_analyzer_refused_is_a_warning(
    deploy: Deploy, capsys: pytest.CaptureFixture[str], analyzer: Stubber
) -> None:
    deployment = deploy()
    for operation in ("check_no_public_access", "check_no_public_access", "check_access_not_granted"):
        analyzer.add_client_error(
            operation,
            service_error_code="AccessDeniedException",
            service_message="not authorized",
            http_status_code=403,
        )
    code, checks, every = _verify(deployment, capsys)
    assert code == 1
    assert checks["access-analyzer.key-public"] == {
        "id": "access-analyzer.key-public",
        "status": "WARN",
        "reason": "could not ask IAM Access Analyzer: CheckNoPublicAccess: AccessDeniedException: not authorized; "
        "needs access-analyzer:CheckNoPublicAccess",
    }
    assert "needs access-analyzer:CheckAccessNotGranted" in checks["access-analyzer.key-crypto"]["reason"]
    assert not any("access-analyzer.vs-P1" in line for line in every)
    assert all(checks[f"access.P{n}"]["status"] == "PASS" for n in range(1, 7))


# --- the pure part ---------------------------------------------------------------------------------

ACCOUNT = "111122223333"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
AUTH = f"arn:aws:iam::{ACCOUNT}:role/teleport-auth"
READER = f"arn:aws:iam::{ACCOUNT}:role/auditor"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/KeyAdmins"


def _design(**changes: Any) -> Design:
    base: dict[str, Any] = {
        "account": ACCOUNT,
        "region": REGION,
        "key_arn": KEY_ARN,
        "key_id": KEY_ARN.rsplit("/", 1)[1],
        "bucket_name": "acme-recordings",
        "auth_role_arn": AUTH,
        "admin_arns": (ADMIN,),
        "reader_arns": (READER,),
    }
    return Design(**(base | changes))


def test_separated_admins_are_not_exempted_and_readers_only_from_decrypt() -> None:
    key_policy = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": AUTH}, "Action": "*"}}
    asked = questions(_design(admin_mode="separated"), json.dumps(key_policy), None)
    assert [(q.check_id, q.resource_type, q.actions) for q in asked] == [
        ("access-analyzer.key-public", "AWS::KMS::Key", ()),
        ("access-analyzer.key-crypto", None, CRYPTO_ACTIONS),
    ]
    statements = json.loads(asked[1].policy_document)["Statement"]
    assert statements[0] == key_policy["Statement"]
    assert statements[1]["Condition"] == {"ArnEquals": {"aws:PrincipalArn": [AUTH]}}
    assert statements[2] == {
        "Sid": "RecordingsKmsVerifyReadersDecrypt",
        "Effect": "Deny",
        "Principal": "*",
        "Action": ["kms:Decrypt"],
        "Resource": "*",
        "Condition": {"ArnEquals": {"aws:PrincipalArn": [READER]}},
    }


def test_p1_failing_on_the_key_policy_alone_where_aws_passes_is_a_disagreement() -> None:
    """AWS PASS, and the prover finds direct decryption by someone else in the same key policy: one is wrong."""
    design = _design()
    key_policy = policies.key_policy(auth_principal_arn=AUTH, deploy_role_arn=None, key_admin_arns=[ADMIN])
    key_policy["Statement"].append(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/x"},
            "Action": "kms:Decrypt",
            "Resource": "*",
        }
    )
    crypto = AnalyzerQuestion("access-analyzer.key-crypto", "{}", actions=CRYPTO_ACTIONS)
    p1 = CheckResult("access.P1", Status.FAIL, "someone else can use the key")
    (line,) = [
        r
        for r in judge([AnalyzerAnswer(crypto, result="PASS")], design=design, key_policy=key_policy, p1=p1)
        if r.id.endswith("vs-P1")
    ]
    assert line.status is Status.WARN
    assert isinstance(line.counterexample, Request)
    assert line.counterexample.principal == f"arn:aws:iam::{ACCOUNT}:role/x"
    assert line.reason.startswith("disagreement: the prover finds arn:aws:iam::111122223333:role/x kms:Decrypt")


def test_without_a_bucket_policy_there_is_nothing_to_ask_about_the_bucket() -> None:
    key_policy = {"Version": "2012-10-17", "Statement": []}
    asked = questions(_design(), json.dumps(key_policy), None)
    assert [q.check_id for q in asked] == ["access-analyzer.key-public", "access-analyzer.key-crypto"]
    answers = [AnalyzerAnswer(q, result="PASS") for q in asked]
    p1 = CheckResult("access.P1", Status.PASS, "nobody else")
    lines = {r.id: r for r in judge(answers, design=_design(), key_policy=key_policy, p1=p1)}
    assert lines["access-analyzer.bucket-public"].status is Status.INFO
    assert lines["access-analyzer.bucket-public"].reason == "the bucket has no bucket policy: nothing to ask"
