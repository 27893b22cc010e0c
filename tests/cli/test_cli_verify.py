"""`recordings-kms verify` and `teleport-config --stack-name` against a moto server on 127.0.0.1.

The CLI runs in-process (``main(argv)``) with boto3 unchanged: it talks HTTP to the moto server
through ``--endpoint-url``. Every test builds its own deployment (``tests/cli/deployment.py``: a
fresh key, bucket and auth role), so the seeded breakages are independent of each other. The six
false PASSes of issue 9 are in ``test_cli_false_passes.py``, the deploy-role checks in
``test_cli_deploy_safety.py``.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable
from typing import Any

import pytest

from constructs_lib.core import outputs, policies
from recordings_kms import aws
from recordings_kms.cli import main
from recordings_kms.verify.probe import PROBE_PREFIX, ProbeTarget, run_probe
from tests.cli.conftest import VERIFY_FIXTURES
from tests.cli.deployment import (
    ACCOUNT,
    ADMIN_ROLE,
    DEPLOY_ROLE,
    KEY_ARN_EXAMPLE,
    PREFIX,
    REGION,
    Deployment,
    assert_error,
    assert_error_json,
    checks_of,
    failures,
    infos,
    run,
    run_as_user,
    verify_json,
)

pytestmark = pytest.mark.usefixtures(*VERIFY_FIXTURES)
Deploy = Callable[..., Deployment]
ACCESS = [f"access.P{n}" for n in range(1, 7)]


# --- a correct deployment ------------------------------------------------------------------------


def test_correct_deployment_passes(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    deployment = deploy()
    code, out, err = run(deployment.argv(), capsys)
    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[1].startswith(f"design: auth {deployment.auth_role}; readers none; key admins {ADMIN_ROLE} (rfd)")
    statuses = [line.split()[0] for line in lines[2:-1] if line[:1].isupper()]
    assert set(statuses) == {"PASS", "INFO"}, out
    for check_id in ACCESS:
        assert any(line.startswith("PASS") and f"  {check_id}  " in line for line in lines), check_id
    assert lines[-1].startswith(f"{statuses.count('PASS')} passed, 0 warnings, 0 failed")
    assert lines[-1].endswith(f"({statuses.count('INFO')} informational)")


def test_a_spent_prover_budget_still_prints_every_line_and_fails_closed(
    deploy: Deploy, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 14: the whole command shares one budget; once it is spent the proofs are CANNOT-PROVE
    (never PASS), every other check still runs, and the command exits 1."""
    deployment = deploy()
    code, checks = verify_json(deployment, capsys, "--prover-budget", "1")
    assert code == 1
    for check_id in ACCESS:
        assert checks[check_id]["status"] == "CANNOT-PROVE", checks[check_id]
    assert checks["deploy.put-key-policy"]["status"] != "PASS"
    assert checks["bucket.versioning"]["status"] == "PASS"
    assert checks["key.enabled"]["status"] == "PASS"


def test_json_document_with_the_provers_evidence_and_the_break_glass(
    deploy: Deploy, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment = deploy()
    code, out, _ = run(deployment.argv("--json"), capsys)
    document = json.loads(out)
    assert code == 0
    assert document["ok"] is True
    assert document["bucket"] == deployment.bucket
    assert document["key"] == deployment.key_arn
    assert document["deploy_role"] == DEPLOY_ROLE
    assert document["design"]["authPrincipalArn"] == deployment.auth_role
    assert document["design"]["admins"] == [ADMIN_ROLE]
    assert document["summary"] == {
        "PASS": document["summary"]["PASS"],
        "WARN": 0,
        "FAIL": 0,
        "CANNOT-PROVE": 0,
        "INFO": document["summary"]["INFO"],
    }
    assert {"id", "status", "reason"} <= set(document["checks"][0])
    checks = checks_of(out)
    assert checks["access.P1"]["title"].startswith("Only the auth role, the readers")
    assert checks["evidence.identity-policies"]["status"] == "PASS"
    assert "(1 attached, 0 inline)" in checks["evidence.identity-policies"]["reason"]
    assert "identity policies were not supplied" not in checks["access.P5"]["reason"]
    assert checks["deploy.put-key-policy"]["reason"].startswith(f"{DEPLOY_ROLE} (--deploy-role) can call")
    found = infos(out)
    assert f"deploy.break-glass: break-glass key administrators who can update the key policy: {ADMIN_ROLE}" in found
    assert f"access.P1: key administrator {ADMIN_ROLE} may decrypt recordings (rfd mode: kms:*)" in found


def test_warnings_fail_unless_warnings_ok(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    """An auth role IAM does not know: its identity side cannot be read (a WARN), the rest still proves."""
    deployment = deploy(iam_role=False)
    code, checks = verify_json(deployment, capsys)
    warning = checks["evidence.identity-policies"]
    assert warning["status"] == "WARN"
    assert f"IAM has no role {deployment.auth_role.rsplit('/', 1)[1]}" in warning["reason"]
    assert "P5 judged the key policy, the grants and the bucket policy only" in warning["reason"]
    assert failures(checks) == {}
    assert code == 1
    code, _ = verify_json(deployment, capsys, "--warnings-ok")
    assert code == 0


def test_identity_policies_that_do_not_allow_teleport_fail_p5(
    deploy: Deploy, capsys: pytest.CaptureFixture[str]
) -> None:
    """The S3 side of Teleport's requests: an inline Deny of s3:PutObject on the auth role."""
    deployment = deploy()
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"}]}
    name = deployment.auth_role.rsplit("/", 1)[1]
    deployment.iam.put_role_policy(RoleName=name, PolicyName="no-writes", PolicyDocument=json.dumps(deny))
    code, checks = verify_json(deployment, capsys)
    assert code == 1
    assert "(1 attached, 1 inline)" in checks["evidence.identity-policies"]["reason"]
    assert checks["access.P5"]["status"] == "FAIL"
    assert checks["access.P5"]["counterexample"]["action"] == "s3:PutObject"
    assert checks["access.P5"]["counterexample"]["principal"] == deployment.auth_role


def test_strict_bucket_policy_fails_p5_with_upload_part(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    """Strict mode denies puts without encryption headers; Teleport's UploadPart carries none."""
    deployment = deploy()
    strict = policies.bucket_policy(
        bucket_arn=deployment.bucket_arn,
        key_arn=deployment.key_arn,
        key_id=deployment.key_id,
        require_encryption_headers=True,
    )
    deployment.put_bucket_policy(strict)
    code, checks = verify_json(deployment, capsys)
    assert code == 1
    assert set(failures(checks)) == {"access.P5"}
    assert "Teleport's UploadPart is refused" in checks["access.P5"]["reason"]


# --- region, endpoint and bucket options --------------------------------------------------------


def test_key_given_by_id_with_region_from_environment(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    deployment = deploy()
    argv = ["verify", "--bucket", deployment.bucket, "--key", deployment.key_id, "--endpoint-url", deployment.endpoint]
    argv += deployment.design
    code, out, _ = run(argv, capsys)
    assert code == 0, out


def test_region_from_aws_region(
    deploy: Deploy, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """boto3 ignores AWS_REGION; verify reads it itself (after --region and the key ARN)."""
    deployment = deploy()
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", REGION)
    argv = ["verify", "--bucket", deployment.bucket, "--key", deployment.key_id, "--endpoint-url", deployment.endpoint]
    argv += deployment.design
    code, out, err = run([*argv, "--json"], capsys)
    assert code == 0, out + err
    assert json.loads(out)["region"] == REGION


def test_aws_region_comes_before_aws_default_region(
    deploy: Deploy, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment = deploy()
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", REGION)
    argv = ["verify", "--bucket", deployment.bucket, "--key", deployment.key_id, "--endpoint-url", deployment.endpoint]
    argv += deployment.design
    code, out, err = run(argv, capsys)
    assert code == 0, out + err
    assert f"({REGION} via " in out.splitlines()[0]


def test_key_arn_region_comes_before_the_environment(
    deploy: Deploy, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment = deploy()
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-2")
    code, out, err = run(deployment.argv(), capsys)
    assert code == 0, out + err


def test_region_from_the_aws_config_file(
    deploy: Deploy, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    deployment = deploy()
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    config = tmp_path / "config"
    config.write_text(f"[default]\nregion = {REGION}\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    argv = ["verify", "--bucket", deployment.bucket, "--key", deployment.key_id, "--endpoint-url", deployment.endpoint]
    argv += deployment.design
    code, out, err = run(argv, capsys)
    assert code == 0, out + err


@pytest.mark.parametrize(
    ("region", "key", "environment", "expected"),
    [
        ("us-east-2", KEY_ARN_EXAMPLE, {"AWS_REGION": "eu-north-1"}, ("us-east-2", "--region")),
        (None, KEY_ARN_EXAMPLE, {"AWS_REGION": "eu-north-1"}, ("eu-central-1", f"--key {KEY_ARN_EXAMPLE}")),
        (None, "alias/recordings", {"AWS_REGION": "eu-north-1"}, ("eu-north-1", "AWS_REGION")),
        (None, None, {"AWS_DEFAULT_REGION": "ap-south-1"}, ("ap-south-1", "AWS_DEFAULT_REGION")),
        (None, None, {}, ("ap-south-1", "the AWS config profile's region")),
    ],
)
def test_region_resolution_order(
    region: str | None,
    key: str | None,
    environment: dict[str, str],
    expected: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The source is how an error names a bad region: as the caller set it (the session's region is
    AWS_DEFAULT_REGION's when that variable holds it, else the config profile's)."""
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert aws.resolve_region(region=region, key=key, configured="ap-south-1") == expected


@pytest.mark.parametrize(
    ("endpoint", "fragment"),
    [
        ("notaurl", "--endpoint-url 'notaurl' must be an http:// or https:// URL with a host"),
        ("http://", "must be an http:// or https:// URL with a host"),
        ("ftp://127.0.0.1:5000", "must be an http:// or https:// URL with a host"),
        ("127.0.0.1:5000", "must be an http:// or https:// URL with a host"),
        ("http://127.0.0.1:port", "is not a valid URL"),
        ("http://[::1", "is not a valid URL"),
    ],
)
def test_bad_endpoint_url(endpoint: str, fragment: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["verify", "--bucket", "some-bucket", "--key", KEY_ARN_EXAMPLE, "--endpoint-url", endpoint]
    argv += ["--auth", f"arn:aws:iam::{ACCOUNT}:role/teleport-auth"]
    assert_error(*run(argv, capsys), fragment)
    assert_error_json(*run([*argv, "--json"], capsys), fragment)
    argv = ["teleport-config", "--stack-name", "some-stack", "--endpoint-url", endpoint]
    assert_error(*run(argv, capsys), fragment)


@pytest.mark.parametrize("bucket", ["arn:aws:s3:::acme-recordings", "s3://acme-recordings", "bad bucket!"])
def test_bad_bucket_name(bucket: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "verify",
        "--bucket",
        bucket,
        "--key",
        KEY_ARN_EXAMPLE,
        "--json",
        "--auth",
        f"arn:aws:iam::{ACCOUNT}:role/a",
    ]
    assert_error_json(*run(argv, capsys), f"--bucket {bucket!r} is not an S3 bucket name")


def test_endpoint_refused_by_botocore_is_one_line() -> None:
    """Behind the up-front check, make_clients still turns botocore's ValueError into an AwsError."""
    with pytest.raises(aws.AwsError, match=r"--endpoint-url 'notaurl' is not usable: Invalid endpoint: notaurl"):
        aws.make_clients(region=REGION, endpoint_url="notaurl")


def test_bad_region(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    argv = ["verify", "--bucket", "some-bucket", "--key", KEY_ARN_EXAMPLE, "--region", "eu west 1", "--json"]
    argv += ["--auth", f"arn:aws:iam::{ACCOUNT}:role/teleport-auth"]
    assert_error_json(
        *run(argv, capsys),
        "'--region' must be an AWS region name like eu-west-1 (did you mean 'eu-west-1'?): lower case letters, digits "
        'and dashes, got "eu west 1"',
    )
    monkeypatch.setenv("AWS_REGION", "not a region")
    argv = ["teleport-config", "--stack-name", "some-stack"]
    # Judged by the settings model's rule, named by the variable it came from (was botocore's InvalidRegionError).
    assert_error(
        *run(argv, capsys),
        'AWS_REGION must be an AWS region name like eu-west-1: lower case letters, digits and dashes, got "not a region"',
    )


def test_missing_profile(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    assert_error(
        *run(["teleport-config", "--stack-name", "some-stack"], capsys),
        "cannot read the AWS configuration: The config profile (no-such-profile) could not be found",
    )
    argv = ["verify", "--bucket", "some-bucket", "--key", KEY_ARN_EXAMPLE, "--json"]
    argv += ["--auth", f"arn:aws:iam::{ACCOUNT}:role/teleport-auth"]
    assert_error_json(*run(argv, capsys), "The config profile (no-such-profile) could not be found")


# --- seeded breakages ----------------------------------------------------------------------------


def _rotation_off(d: Deployment) -> None:
    d.kms.disable_key_rotation(KeyId=d.key_id)


def _aes256_default_encryption(d: Deployment) -> None:
    d.put_encryption("AES256")


def _another_key_in_default_encryption(d: Deployment) -> None:
    other = d.kms.create_key(KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    d.put_encryption("aws:kms", other["Arn"])


def _bucket_key_off(d: Deployment) -> None:
    d.put_encryption("aws:kms", d.key_arn, bucket_key=False)


def _root_statement_added(d: Deployment) -> None:
    document = d.key_policy()
    document["Statement"].append(
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    )
    d.put_key_policy(document)


def _auth_granted_create_grant(d: Deployment) -> None:
    document = d.key_policy()
    for statement in document["Statement"]:
        if statement["Sid"] == policies.SID_AUTH:
            statement["Action"].append("kms:CreateGrant")
    d.put_key_policy(document)


def _remove_bucket_statement(sid: str) -> Callable[[Deployment], None]:
    def remove(d: Deployment) -> None:
        document = d.bucket_policy()
        document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != sid]
        d.put_bucket_policy(document)

    return remove


def _versioning_suspended(d: Deployment) -> None:
    d.s3.put_bucket_versioning(Bucket=d.bucket, VersioningConfiguration={"Status": "Suspended"})


def _public_policy_block_off(d: Deployment) -> None:
    d.s3.put_public_access_block(
        Bucket=d.bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": True,
        },
    )


def _object_writer_ownership(d: Deployment) -> None:
    d.s3.put_bucket_ownership_controls(
        Bucket=d.bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    )


def _key_disabled(d: Deployment) -> None:
    d.kms.disable_key(KeyId=d.key_id)


def _key_pending_deletion(d: Deployment) -> None:
    d.kms.schedule_key_deletion(KeyId=d.key_id, PendingWindowInDays=7)


def _nothing(d: Deployment) -> None:
    pass


BREAKAGES: list[tuple[str, dict[str, str], Callable[[Deployment], None], str, str]] = [
    ("rotation-off", {}, _rotation_off, "key.rotation", r"automatic key rotation is off"),
    ("aes256-default", {}, _aes256_default_encryption, "bucket.encryption.sse-kms", r"AES256 \(SSE-S3"),
    (
        "other-key-default",
        {},
        _another_key_in_default_encryption,
        "bucket.encryption.key",
        r"another key: arn:aws:kms:",
    ),
    ("bucket-key-off", {}, _bucket_key_off, "bucket.encryption.bucket-key", r"Bucket Key is off"),
    (
        "root-kms-star",
        {},
        _root_statement_added,
        "access.P1",
        r"^arn:aws:iam::123456789012:\S+ can call kms:\w+",
    ),
    ("auth-create-grant", {}, _auth_granted_create_grant, "access.P1", r"can call kms:CreateGrant and so give itself"),
    (
        "deny-other-key-removed",
        {},
        _remove_bucket_statement(policies.SID_DENY_WRONG_KEY),
        "access.P6",
        r"^the bucket policy does not deny: .* s3:PutObject on arn:aws:s3:::\S+/.*"
        r"s3:x-amz-server-side-encryption-aws-kms-key-id=",
    ),
    ("versioning-suspended", {}, _versioning_suspended, "bucket.versioning", r"versioning is Suspended"),
    ("public-policy-block-off", {}, _public_policy_block_off, "bucket.public-access-block", r"off: BlockPublicPolicy$"),
    ("object-writer", {}, _object_writer_ownership, "bucket.object-ownership", r"ObjectOwnership is ObjectWriter"),
    ("key-disabled", {}, _key_disabled, "key.enabled", r"not enabled \(KeyState Disabled\)"),
    (
        "key-pending-deletion",
        {},
        _key_pending_deletion,
        "key.not-pending-deletion",
        r"scheduled for deletion on \d{4}-",
    ),
    (
        "asymmetric-key",
        {"key_spec": "RSA_2048"},
        _nothing,
        "key.spec",
        r"key is RSA_2048 for ENCRYPT_DECRYPT: RFD 42 needs a symmetric",
    ),
]


@pytest.mark.parametrize(
    ("deploy_kwargs", "breakage", "check_id", "reason"),
    [
        pytest.param(kwargs, breakage, check_id, reason, id=name)
        for name, kwargs, breakage, check_id, reason in BREAKAGES
    ],
)
def test_seeded_breakage_fails_with_reason(
    deploy: Deploy,
    capsys: pytest.CaptureFixture[str],
    deploy_kwargs: dict[str, str],
    breakage: Callable[[Deployment], None],
    check_id: str,
    reason: str,
) -> None:
    deployment = deploy(**deploy_kwargs)
    breakage(deployment)
    code, checks = verify_json(deployment, capsys)
    assert code == 1
    assert checks[check_id]["status"] == "FAIL", checks[check_id]
    assert re.search(reason, checks[check_id]["reason"]), checks[check_id]["reason"]


def test_text_output_names_the_failure(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    deployment = deploy()
    _rotation_off(deployment)
    code, out, _ = run(deployment.argv(), capsys)
    assert code == 1
    assert any(line.startswith("FAIL  key.rotation") and "rotation is off" in line for line in out.splitlines())
    assert "1 failed" in out.splitlines()[-1]


def test_missing_bucket_policy_fails_p6_only(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    code, checks = verify_json(deploy(bucket_policy=False), capsys)
    assert code == 1
    assert list(failures(checks)) == ["access.P6"]
    assert checks["access.P5"]["status"] == "PASS"


def test_moto_default_key_policy_lets_iam_policies_decrypt(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    """moto's default key policy (like AWS's) gives the account root kms:*: every IAM administrator can decrypt."""
    deployment = deploy()
    key = deployment.kms.create_key(KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    deployment.kms.enable_key_rotation(KeyId=key["KeyId"])
    deployment.key_arn, deployment.key_id = key["Arn"], key["KeyId"]
    deployment.put_encryption("aws:kms", key["Arn"])
    code, checks = verify_json(deployment, capsys)
    assert code == 1
    assert checks["access.P1"]["status"] == "FAIL"
    assert checks["access.P3"]["status"] == "FAIL"
    counterexample = checks["access.P1"]["counterexample"]
    # The root user itself is allowed kms:* by the key policy; without identity policies, so may be
    # every IAM principal the key policy delegates to. Either is a true counterexample.
    assert counterexample["principal"] not in (deployment.auth_role, ADMIN_ROLE)
    if counterexample["principal"].endswith(":root"):
        assert checks["access.P1"]["reason"].startswith(counterexample["principal"] + " can call kms:")
    else:
        assert "its identity policies were not supplied" in checks["access.P1"]["reason"]


# --- --probe -------------------------------------------------------------------------------------


def _probe_leftovers(d: Deployment) -> tuple[list[Any], list[Any]]:
    versions = d.s3.list_object_versions(Bucket=d.bucket, Prefix=f"{PROBE_PREFIX}/")
    uploads = d.s3.list_multipart_uploads(Bucket=d.bucket, Prefix=f"{PROBE_PREFIX}/")
    return versions.get("Versions", []) + versions.get("DeleteMarkers", []), uploads.get("Uploads", [])


def test_probe_writes_like_teleport_and_never_passes_unenforced_denies(
    deploy: Deploy, capsys: pytest.CaptureFixture[str]
) -> None:
    """moto cannot evaluate the design's bucket policy, so this bucket has none: writes succeed,
    the forbidden puts succeed too, and the probe must say so (WARN), never PASS."""
    deployment = deploy(bucket_policy=False)
    code, checks = verify_json(deployment, capsys, "--probe")
    assert code == 1, "a check that could not be settled is not a pass"
    for check_id in ("probe.multipart", "probe.put-with-key", "probe.put-without-headers"):
        assert checks[check_id]["status"] == "PASS", checks[check_id]
        assert "stored as aws:kms under this key" in checks[check_id]["reason"]
    for check_id in ("probe.reject-aes256", "probe.reject-other-key", "probe.reject-kms-without-key"):
        assert checks[check_id]["status"] == "WARN", checks[check_id]
        assert "did not reject" in checks[check_id]["reason"]
        assert "policies are not enforced here" in checks[check_id]["reason"]
    assert checks["probe.cleanup"]["status"] == "PASS"
    assert "removed 6 object versions" in checks["probe.cleanup"]["reason"]
    assert _probe_leftovers(deployment) == ([], [])
    assert not [c for c in failures(checks) if c.startswith("probe.")]


def test_probe_does_not_count_blanket_rejections_as_enforcement(
    deploy: Deploy, capsys: pytest.CaptureFixture[str]
) -> None:
    """With the design's policy moto rejects every object write (it cannot evaluate conditions):
    the forbidden puts are rejected too, which proves nothing, so they are WARN, not PASS."""
    deployment = deploy()
    _, checks = verify_json(deployment, capsys, "--probe")
    assert checks["probe.put-with-key"]["status"] == "FAIL"
    for check_id in ("probe.reject-aes256", "probe.reject-other-key", "probe.reject-kms-without-key"):
        assert checks[check_id]["status"] == "WARN", checks[check_id]
        assert "says nothing about the bucket policy" in checks[check_id]["reason"]
    assert checks["probe.cleanup"]["status"] == "PASS"
    assert _probe_leftovers(deployment) == ([], [])


class _FailingComplete:
    """An S3 client whose CompleteMultipartUpload fails: the probe must still clean up."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def complete_multipart_upload(self, **kwargs: Any) -> Any:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "InternalError", "Message": "injected"}}, "CompleteMultipartUpload")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _moto_probe_target(deployment: Deployment) -> ProbeTarget:
    """What `verify --probe` targets for this deployment, on an endpoint that enforces no policies."""
    return ProbeTarget(
        bucket=deployment.bucket,
        key_arn=deployment.key_arn,
        key_id=deployment.key_id,
        sse_kms_key=deployment.key_arn,
        enforces_policies=False,
        endpoint=deployment.endpoint,
    )


def test_probe_cleans_up_when_a_step_fails(deploy: Deploy) -> None:
    deployment = deploy(bucket_policy=False)
    target = _moto_probe_target(deployment)
    results = {r.id: r for r in run_probe(_FailingComplete(deployment.s3), target)}  # type: ignore[arg-type]
    assert results["probe.multipart"].status == "FAIL"
    assert "CompleteMultipartUpload: InternalError" in results["probe.multipart"].reason
    assert results["probe.cleanup"].status == "PASS"
    assert "aborted 1 multipart uploads" in results["probe.cleanup"].reason
    assert _probe_leftovers(deployment) == ([], [])


class _DeniedCleanup(_FailingComplete):
    """Like the auth role: it may write, but neither delete object versions nor abort uploads."""

    def abort_multipart_upload(self, **kwargs: Any) -> Any:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "AbortMultipartUpload")

    def delete_objects(self, *, Delete: Any, **kwargs: Any) -> Any:  # noqa: N803 (boto3's parameter name)
        # S3 authorizes DeleteObjects per object and reports each refusal in Errors (HTTP 200).
        return {
            "Errors": [
                {"Key": o["Key"], "VersionId": o["VersionId"], "Code": "AccessDenied", "Message": "Access Denied"}
                for o in Delete["Objects"]
            ]
        }


def test_probe_cleanup_denied_names_what_was_left_behind(deploy: Deploy) -> None:
    deployment = deploy(bucket_policy=False)
    target = _moto_probe_target(deployment)
    result = run_probe(_DeniedCleanup(deployment.s3), target)[-1]  # type: ignore[arg-type]
    versions, uploads = _probe_leftovers(deployment)
    assert result.id == "probe.cleanup"
    assert result.status == "FAIL"
    assert len(versions) == 5
    assert len(uploads) == 1
    assert f"left behind 6 items under s3://{deployment.bucket}/{PROBE_PREFIX}/" in result.reason
    for version in versions:
        assert f"{version['Key']} (version {version['VersionId']})" in result.reason
    assert f"multipart upload {uploads[0]['Key']} (upload id {uploads[0]['UploadId']})" in result.reason
    assert "AbortMultipartUpload: AccessDenied, needs s3:AbortMultipartUpload" in result.reason
    assert "DeleteObjects: AccessDenied, needs s3:DeleteObjectVersion" in result.reason
    assert result.reason.endswith(
        "remove them by hand as a principal with s3:DeleteObjectVersion and s3:AbortMultipartUpload"
    )


# --- --stack-name and teleport-config ------------------------------------------------------------


def _verify_stack(deployment: Deployment, stack: str, capsys: pytest.CaptureFixture[str], *extra: str) -> Any:
    return run(["verify", "--stack-name", stack, "--endpoint-url", deployment.endpoint, "--json", *extra], capsys)


def test_verify_by_stack_name(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    deployment = deploy()
    code, out, err = _verify_stack(deployment, deployment.create_stack(), capsys)
    checks = checks_of(out)
    assert code == 0, err
    assert checks["stack.storage-uri"]["status"] == "PASS"
    assert all(checks[check_id]["status"] == "PASS" for check_id in ACCESS)
    assert checks["deploy.put-key-policy"]["reason"].startswith(
        f"{DEPLOY_ROLE} (the stack's RoleARN, the role CloudFormation last deployed with) can call kms:PutKeyPolicy"
    )
    assert json.loads(out)["design"]["admins"] == [ADMIN_ROLE]


def test_verify_by_stack_name_finds_another_auth_principal(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    """The key policy serves teleport-auth-...; the stack's design says someone-else: P1 and P5 fail."""
    deployment = deploy()
    someone_else = f"arn:aws:iam::{ACCOUNT}:role/someone-else"
    design = json.dumps(deployment.access_design(authPrincipalArn=someone_else))
    stack = deployment.create_stack(**{outputs.ACCESS_DESIGN: design, outputs.AUTH_ROLE_ARN: someone_else})
    code, out, _ = _verify_stack(deployment, stack, capsys)
    checks = checks_of(out)
    assert code == 1
    assert checks["access.P1"]["counterexample"]["principal"] == deployment.auth_role
    assert checks["access.P5"]["counterexample"]["principal"] == someone_else


def test_stack_prefix_must_match_the_storage_uri(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    deployment = deploy()
    stack = deployment.create_stack(**{outputs.ACCESS_DESIGN: json.dumps(deployment.access_design(prefix="other"))})
    code, out, _ = _verify_stack(deployment, stack, capsys)
    assert code == 1
    assert "names prefix records, not the design's other" in checks_of(out)["stack.storage-uri"]["reason"]


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({outputs.ACCESS_DESIGN: None}, "has no output AccessDesign"),
        ({outputs.ACCESS_DESIGN: "{not json"}, "output AccessDesign is not JSON"),
        ({outputs.ACCESS_DESIGN: json.dumps({"adminMode": "rfd"})}, "has no authPrincipalArn, scopeKeyToS3, prefix"),
        ({outputs.AUTH_ROLE_ARN: f"arn:aws:iam::{ACCOUNT}:role/other"}, "outputs disagree: AuthRoleArn is"),
    ],
    ids=["no-access-design", "not-json", "incomplete", "disagreeing-outputs"],
)
def test_unusable_stack_outputs_exit_2(
    deploy: Deploy, capsys: pytest.CaptureFixture[str], changes: dict[str, Any], fragment: str
) -> None:
    deployment = deploy()
    assert_error_json(*_verify_stack(deployment, deployment.create_stack(**changes), capsys), fragment)


def test_teleport_config_from_stack(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    deployment = deploy()
    stack = deployment.create_stack()
    code, out, _ = run(["teleport-config", "--stack-name", stack, "--endpoint-url", deployment.endpoint], capsys)
    assert code == 0
    uri = f"s3://{deployment.bucket}/{PREFIX}?region={REGION}&sse_kms_key={deployment.key_arn}"
    assert f'    audit_sessions_uri: "{uri}"' in out.splitlines()
    assert "teleport:\n  storage:\n" in out


# --- errors: one line, exit 2, never a traceback -------------------------------------------------


def test_missing_bucket(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    deployment = deploy()
    deployment.bucket = "no-such-recordings-bucket"
    assert_error(*run(deployment.argv(), capsys), "bucket no-such-recordings-bucket does not exist")


def test_missing_key(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    deployment = deploy()
    deployment.key_arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-4333-8444-555555555555"
    assert_error(*run(deployment.argv(), capsys), "not found in this region")


def test_missing_stack(moto_endpoint: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["verify", "--stack-name", "no-such-stack", "--endpoint-url", moto_endpoint]
    assert_error(*run(argv, capsys), "stack no-such-stack not found")


def test_missing_credentials(
    deploy: Deploy, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment = deploy()
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    assert_error(*run(deployment.argv(), capsys), "no AWS credentials found")


def test_missing_region(
    moto_endpoint: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    argv = ["verify", "--bucket", "some-bucket", "--key", "alias/some-key", "--endpoint-url", moto_endpoint]
    argv += ["--auth", f"arn:aws:iam::{ACCOUNT}:role/teleport-auth"]
    code, out, err = run(argv, capsys)
    assert_error(code, out, err, "no AWS region: pass --region, or set AWS_REGION or AWS_DEFAULT_REGION")
    assert "region in the AWS config profile" in err
    assert "(--key alias/some-key is not a key ARN, so it names no region)" in err


def test_unreachable_endpoint(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    deployment = deploy()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    deployment.endpoint = f"http://127.0.0.1:{closed_port}"
    assert_error(*run(deployment.argv(), capsys), "cannot reach the kms endpoint")


def test_access_denied(deploy: Deploy, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """An IAM user with S3 rights only: moto (with IAM checks on) denies kms:DescribeKey."""
    deployment = deploy()
    code, out, err = run_as_user(deployment, capsys, monkeypatch, ["s3:*"], deployment.argv("--json"))
    assert_error_json(code, out, err, f"access denied: DescribeKey on {deployment.key_arn}")
    assert "needs kms:DescribeKey" in err
    assert "run verify as a key administrator or the CloudFormation execution role" in err


def test_access_denied_names_the_missing_action(
    deploy: Deploy, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The auth role's KMS rights (DescribeKey, no GetKeyPolicy) are not enough: say which action is missing."""
    deployment = deploy()
    code, out, err = run_as_user(deployment, capsys, monkeypatch, ["s3:*", "kms:DescribeKey"], deployment.argv())
    assert_error(code, out, err, f"access denied: GetKeyPolicy on {deployment.key_arn}")
    assert "needs kms:GetKeyPolicy" in err
    assert "only the key administrators (keyAdminArns) and the CloudFormation execution role have" in err
    assert "the auth role has only kms:DescribeKey" in err


def test_identity_policies_denied_is_a_warning(
    deploy: Deploy, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A caller with the KMS and S3 reads but no IAM reads: verify still runs, and says what it could not see."""
    deployment = deploy()
    code, out, err = run_as_user(deployment, capsys, monkeypatch, ["s3:*", "kms:*"], deployment.argv("--json"))
    checks = checks_of(out)
    assert code == 1, err
    assert checks["evidence.identity-policies"]["status"] == "WARN"
    assert "(access denied: GetRole)" in checks["evidence.identity-policies"]["reason"]
    assert "needs iam:GetRole" in checks["evidence.identity-policies"]["reason"]
    assert all(checks[check_id]["status"] == "PASS" for check_id in ACCESS)


@pytest.mark.parametrize(
    ("service", "operation", "action"),
    [
        ("kms", "DescribeKey", "kms:DescribeKey"),
        ("kms", "GetKeyPolicy", "kms:GetKeyPolicy"),
        ("kms", "GetKeyRotationStatus", "kms:GetKeyRotationStatus"),
        ("kms", "ListGrants", "kms:ListGrants"),
        ("s3", "GetBucketVersioning", "s3:GetBucketVersioning"),
        ("s3", "GetBucketEncryption", "s3:GetEncryptionConfiguration"),
        ("s3", "GetBucketPolicy", "s3:GetBucketPolicy"),
        ("s3", "GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
        ("s3", "GetBucketOwnershipControls", "s3:GetBucketOwnershipControls"),
        ("s3", "GetBucketLifecycleConfiguration", "s3:GetLifecycleConfiguration"),
        ("s3", "GetObjectLockConfiguration", "s3:GetBucketObjectLockConfiguration"),
        ("cloudformation", "DescribeStacks", "cloudformation:DescribeStacks"),
    ],
)
def test_every_read_names_its_action_when_denied(service: str, operation: str, action: str) -> None:
    from botocore.exceptions import ClientError

    error = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}, operation)
    line = aws.describe_client_error(error, service, "the-resource")
    assert line.startswith(f"access denied: {operation} on the-resource: not authorized; needs {action}; ")
    assert "\n" not in line


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["verify", "--bucket", "only-a-bucket"], "needs --stack-name, or both --bucket and --key"),
        (["verify", "--bucket", "b", "--key", KEY_ARN_EXAMPLE], "--bucket/--key need --auth"),
        (
            ["verify", "--stack-name", "s", "--auth", f"arn:aws:iam::{ACCOUNT}:role/a", "--admin-mode", "separated"],
            "verify: the design options (--auth, --admin-mode) go with --bucket/--key",
        ),
        (["verify", "--stack-name", "s", "--bucket", "b"], "use --stack-name, or --bucket and --key, not both"),
    ],
)
def test_arguments_are_checked(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("design", "fragment"),
    [
        (["--auth", "teleport-auth"], "'--auth' must be an IAM role or user ARN"),
        (["--auth", f"arn:aws:iam::{ACCOUNT}:role/a", "--admin", f"arn:aws:iam::{ACCOUNT}:role/a"], "'--admin' must"),
        (["--auth", f"arn:aws:iam::{ACCOUNT}:role/a", "--admin-mode", "strict"], "'--admin-mode' must be one of"),
        (["--auth", f"arn:aws:iam::{ACCOUNT}:role/a", "--prefix", "/records"], "'--prefix' must be a key prefix"),
        (["--auth", f"arn:aws:iam::{ACCOUNT}:role/a", "--deploy-role", f"arn:aws:iam::{ACCOUNT}:user/u"], "IAM role"),
    ],
    ids=["auth-not-an-arn", "admin-is-auth", "admin-mode", "prefix", "deploy-role-user"],
)
def test_design_options_are_judged_by_the_settings_model(
    design: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["verify", "--bucket", "some-bucket", "--key", KEY_ARN_EXAMPLE, *design, "--json"]
    assert_error_json(*run(argv, capsys), fragment)
