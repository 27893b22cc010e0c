"""`recordings-kms verify` and `teleport-config --stack-name` against a moto server on 127.0.0.1.

The CLI runs in-process (``main(argv)``) with boto3 unchanged: it talks HTTP to the moto server
through ``--endpoint-url``. Every test builds its own deployment (a fresh key and bucket), so the
seeded breakages are independent of each other.

moto 5.2.5 quirks these tests live with (see docs/CLI.md):
- a Deny statement in a key policy makes moto refuse DescribeKey to everyone, whatever its
  principal: deployments here have no ``deniedPrincipalArns`` (the stack's default), and the
  deny statement is covered by the pure tests in test_cli_checks.py;
- moto does not evaluate the conditions of a bucket policy: with the design's policy (every
  statement is conditional) it answers 403 to every object write, allowed or not.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from constructs_lib.core import policies
from recordings_kms import aws
from recordings_kms.cli import main
from recordings_kms.probe import PROBE_PREFIX, ProbeTarget, run_probe

ACCOUNT = "123456789012"  # moto's default account
REGION = "eu-west-1"
AUTH_ROLE = f"arn:aws:iam::{ACCOUNT}:role/teleport-auth"
ADMIN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/KeyAdmins"
DEPLOY_ROLE = f"arn:aws:iam::{ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-{ACCOUNT}-{REGION}"
PREFIX = "records"
#: A key that need not exist: for errors raised before any AWS call.
KEY_ARN_EXAMPLE = "arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Test credentials only: no profile, no config file, no instance metadata lookups."""
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@dataclass
class Deployment:
    endpoint: str
    bucket: str
    key_arn: str
    key_id: str
    s3: Any
    kms: Any

    @property
    def bucket_arn(self) -> str:
        return f"arn:aws:s3:::{self.bucket}"

    def argv(self, *extra: str) -> list[str]:
        return ["verify", "--bucket", self.bucket, "--key", self.key_arn, "--endpoint-url", self.endpoint, *extra]

    def key_policy(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(
            self.kms.get_key_policy(KeyId=self.key_id, PolicyName="default")["Policy"]
        )
        return document

    def put_key_policy(self, document: dict[str, Any]) -> None:
        self.kms.put_key_policy(KeyId=self.key_id, PolicyName="default", Policy=json.dumps(document))

    def bucket_policy(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.s3.get_bucket_policy(Bucket=self.bucket)["Policy"])
        return document

    def put_encryption(self, algorithm: str = "aws:kms", key: str | None = None, *, bucket_key: bool = True) -> None:
        default: dict[str, str] = {"SSEAlgorithm": algorithm}
        if key is not None:
            default["KMSMasterKeyID"] = key
        self.s3.put_bucket_encryption(
            Bucket=self.bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": bucket_key}]
            },
        )


Deploy = Callable[..., Deployment]


@pytest.fixture
def deploy(moto_endpoint: str) -> Deploy:
    """Build the design's key and bucket with boto3, from the same policy builders as the constructs."""

    def build(
        *, key_spec: str = "SYMMETRIC_DEFAULT", key_usage: str = "ENCRYPT_DECRYPT", bucket_policy: bool = True
    ) -> Deployment:
        s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name=REGION)
        kms = boto3.client("kms", endpoint_url=moto_endpoint, region_name=REGION)
        bucket = f"teleport-recordings-{uuid.uuid4().hex[:12]}"
        bucket_arn = f"arn:aws:s3:::{bucket}"
        key_policy = policies.key_policy(
            auth_principal_arn=AUTH_ROLE,
            deploy_role_arn=DEPLOY_ROLE,
            key_admin_arns=[ADMIN_ROLE],
            bucket_arn=bucket_arn,
            region=REGION,
        )
        key = kms.create_key(Policy=json.dumps(key_policy), KeySpec=key_spec, KeyUsage=key_usage)["KeyMetadata"]
        if key_spec == "SYMMETRIC_DEFAULT":
            kms.enable_key_rotation(KeyId=key["KeyId"], RotationPeriodInDays=365)
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        s3.put_bucket_ownership_controls(
            Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        )
        deployment = Deployment(moto_endpoint, bucket, key["Arn"], key["KeyId"], s3, kms)
        deployment.put_encryption("aws:kms", key["Arn"])
        if bucket_policy:
            document = policies.bucket_policy(bucket_arn=bucket_arn, key_arn=key["Arn"], key_id=key["KeyId"])
            s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(document))
        return deployment

    return build


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def verify_json(
    deployment: Deployment, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, dict[str, str]]]:
    code, out, err = run(deployment.argv("--json", *extra), capsys)
    assert "Traceback" not in err
    document = json.loads(out)
    return code, {check["id"]: check for check in document["checks"]}


def failures(checks: dict[str, dict[str, str]]) -> dict[str, str]:
    return {check_id: c["reason"] for check_id, c in checks.items() if c["status"] == "FAIL"}


# --- a correct deployment ------------------------------------------------------------------------


def test_correct_deployment_passes(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    deployment = deploy()
    code, out, err = run(deployment.argv(), capsys)
    assert code == 0, out + err
    lines = out.splitlines()
    check_lines = [line for line in lines if line[:4] in ("PASS", "WARN", "FAIL")]
    assert len(check_lines) >= 20
    assert [line for line in check_lines if not line.startswith("PASS")] == []
    assert "0 failed" in lines[-1]


def test_json_document(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    deployment = deploy()
    code, out, _ = run(deployment.argv("--json"), capsys)
    document = json.loads(out)
    assert code == 0
    assert document["ok"] is True
    assert document["bucket"] == deployment.bucket
    assert document["key"] == deployment.key_arn
    assert document["summary"]["FAIL"] == 0
    assert {"id", "status", "reason"} <= set(document["checks"][0])


def test_no_deny_statement_passes_with_the_rfd_advice(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    code, checks = verify_json(deploy(), capsys)
    assert checks["key.policy.deny"]["status"] == "PASS"
    assert "deniedPrincipalArns" in checks["key.policy.deny"]["reason"]
    assert code == 0


def test_warnings_fail_unless_warnings_ok(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    """Strict mode leaves one question open (does S3 apply the header deny to UploadPart?): a WARN."""
    deployment = deploy()
    strict = policies.bucket_policy(
        bucket_arn=deployment.bucket_arn,
        key_arn=deployment.key_arn,
        key_id=deployment.key_id,
        require_encryption_headers=True,
    )
    deployment.s3.put_bucket_policy(Bucket=deployment.bucket, Policy=json.dumps(strict))
    code, checks = verify_json(deployment, capsys)
    assert checks["bucket.policy.header-less-puts"]["status"] == "WARN"
    assert failures(checks) == {}
    assert code == 1
    code, _ = verify_json(deployment, capsys, "--warnings-ok")
    assert code == 0


def test_key_given_by_id_with_region_from_environment(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    deployment = deploy()
    argv = ["verify", "--bucket", deployment.bucket, "--key", deployment.key_id, "--endpoint-url", deployment.endpoint]
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
    code, out, err = run(argv, capsys)
    assert code == 0, out + err


@pytest.mark.parametrize(
    ("region", "key", "environment", "expected"),
    [
        ("us-east-2", KEY_ARN_EXAMPLE, {"AWS_REGION": "eu-north-1"}, ("us-east-2", "--region")),
        (None, KEY_ARN_EXAMPLE, {"AWS_REGION": "eu-north-1"}, ("eu-central-1", "the key ARN")),
        (None, "alias/recordings", {"AWS_REGION": "eu-north-1"}, ("eu-north-1", "AWS_REGION")),
        (None, None, {}, ("ap-south-1", "AWS_DEFAULT_REGION or the AWS config profile")),
    ],
)
def test_region_resolution_order(
    region: str | None,
    key: str | None,
    environment: dict[str, str],
    expected: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert aws.resolve_region(region=region, key=key, configured="ap-south-1") == expected


def _assert_error_json(code: int, out: str, err: str, fragment: str) -> None:
    _assert_error(code, out, err, fragment)
    assert json.loads(out) == {"ok": False, "error": err.strip().removeprefix("recordings-kms: error: ")}


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
    _assert_error(*run(argv, capsys), fragment)
    _assert_error_json(*run([*argv, "--json"], capsys), fragment)
    argv = ["teleport-config", "--stack-name", "some-stack", "--endpoint-url", endpoint]
    _assert_error(*run(argv, capsys), fragment)


@pytest.mark.parametrize("bucket", ["arn:aws:s3:::acme-recordings", "s3://acme-recordings", "bad bucket!"])
def test_bad_bucket_name(bucket: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["verify", "--bucket", bucket, "--key", KEY_ARN_EXAMPLE, "--json"]
    _assert_error_json(*run(argv, capsys), f"--bucket {bucket!r} is not an S3 bucket name")


def test_endpoint_refused_by_botocore_is_one_line() -> None:
    """Behind the up-front check, make_clients still turns botocore's ValueError into an AwsError."""
    with pytest.raises(aws.AwsError, match=r"--endpoint-url 'notaurl' is not usable: Invalid endpoint: notaurl"):
        aws.make_clients(region=REGION, endpoint_url="notaurl")


def test_bad_region(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    argv = ["verify", "--bucket", "some-bucket", "--key", KEY_ARN_EXAMPLE, "--region", "eu west 1", "--json"]
    _assert_error_json(
        *run(argv, capsys),
        "'--region' must be an AWS region name like eu-west-1 (lower case letters, digits and dashes), got \"eu west 1\"",
    )
    monkeypatch.setenv("AWS_REGION", "not a region")
    argv = ["teleport-config", "--stack-name", "some-stack"]
    _assert_error(*run(argv, capsys), "region 'not a region' (from AWS_REGION) is not a valid AWS region name")


def test_missing_profile(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    _assert_error(
        *run(["teleport-config", "--stack-name", "some-stack"], capsys),
        "cannot read the AWS configuration: The config profile (no-such-profile) could not be found",
    )
    argv = ["verify", "--bucket", "some-bucket", "--key", KEY_ARN_EXAMPLE, "--json"]
    _assert_error_json(*run(argv, capsys), "The config profile (no-such-profile) could not be found")


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
        d.s3.put_bucket_policy(Bucket=d.bucket, Policy=json.dumps(document))

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
        "key.policy.no-account-root",
        r"allows the account root arn:aws:iam::",
    ),
    ("auth-extra-action", {}, _auth_granted_create_grant, "key.policy.auth", r"extra kms:CreateGrant"),
    (
        "deny-other-key-removed",
        {},
        _remove_bucket_statement(policies.SID_DENY_WRONG_KEY),
        "bucket.policy.deny-other-key",
        r"PutObject with aws:kms and key arn:aws:kms:.* is not denied",
    ),
    (
        "tls-deny-removed",
        {},
        _remove_bucket_statement(policies.SID_DENY_INSECURE_TRANSPORT),
        "bucket.policy.deny-insecure-transport",
        r"over plain HTTP is not denied",
    ),
    (
        "sse-c-deny-removed",
        {},
        _remove_bucket_statement(policies.SID_DENY_SSE_C),
        "bucket.policy.deny-sse-c",
        r"PutObject with SSE-C is not denied",
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
    assert out.splitlines()[-1].endswith("1 failed")


def test_missing_bucket_policy_fails_every_deny(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    code, checks = verify_json(deploy(bucket_policy=False), capsys)
    assert code == 1
    assert sorted(failures(checks)) == [
        "bucket.policy.deny-insecure-transport",
        "bucket.policy.deny-kms-without-key",
        "bucket.policy.deny-non-kms-encryption",
        "bucket.policy.deny-other-key",
        "bucket.policy.deny-outdated-tls",
        "bucket.policy.deny-sse-c",
    ]
    assert all(reason.startswith("bucket has no bucket policy") for reason in failures(checks).values())


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


def test_moto_default_key_policy_has_no_named_administrator(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    """moto's default key policy (like AWS's) gives the account root kms:*: that is no named administrator."""
    deployment = deploy()
    key = deployment.kms.create_key(KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    deployment.kms.enable_key_rotation(KeyId=key["KeyId"])
    deployment.key_arn, deployment.key_id = key["Arn"], key["KeyId"]
    code, checks = verify_json(deployment, capsys)
    assert code == 1
    assert checks["key.policy.no-account-root"]["status"] == "FAIL"
    admin = checks["key.policy.admin"]
    assert admin["status"] == "FAIL", admin
    assert admin["reason"].startswith(f"no named key administrator: only arn:aws:iam::{ACCOUNT}:root")
    assert "have kms:*" not in admin["reason"]


# --- --stack-name and teleport-config ------------------------------------------------------------


def _create_stack(d: Deployment, *, auth_role: str = AUTH_ROLE) -> str:
    cloudformation = boto3.client("cloudformation", endpoint_url=d.endpoint, region_name=REGION)
    name = f"recordings-{uuid.uuid4().hex[:8]}"
    outputs = {
        "StorageUri": policies.storage_uri(bucket_name=d.bucket, prefix=PREFIX, region=REGION, key_arn=d.key_arn),
        "KeyArn": d.key_arn,
        "KeyId": d.key_id,
        "BucketName": d.bucket,
        "AuthRoleArn": auth_role,
    }
    template = {
        # moto's CloudFormation cannot create the real stack (no AWS::S3::BucketPolicy): a stand-in
        # resource carries the outputs a deployed SessionRecordingsStack has.
        "Resources": {
            "Marker": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Name": f"/{name}/marker", "Type": "String", "Value": "x"},
            }
        },
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))
    return name


def test_verify_by_stack_name(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    deployment = deploy()
    stack = _create_stack(deployment)
    code, out, err = run(["verify", "--stack-name", stack, "--endpoint-url", deployment.endpoint, "--json"], capsys)
    checks = {c["id"]: c for c in json.loads(out)["checks"]}
    assert code == 0, err
    assert checks["stack.storage-uri"]["status"] == "PASS"
    assert checks["key.policy.auth"]["status"] == "PASS"


def test_verify_by_stack_name_finds_another_auth_principal(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    deployment = deploy()
    stack = _create_stack(deployment, auth_role=f"arn:aws:iam::{ACCOUNT}:role/someone-else")
    code, out, _ = run(["verify", "--stack-name", stack, "--endpoint-url", deployment.endpoint, "--json"], capsys)
    checks = {c["id"]: c for c in json.loads(out)["checks"]}
    assert code == 1
    assert (
        "but the stack's auth role is arn:aws:iam::123456789012:role/someone-else"
        in checks["key.policy.auth"]["reason"]
    )


def test_teleport_config_from_stack(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    deployment = deploy()
    stack = _create_stack(deployment)
    code, out, _ = run(["teleport-config", "--stack-name", stack, "--endpoint-url", deployment.endpoint], capsys)
    assert code == 0
    uri = f"s3://{deployment.bucket}/{PREFIX}?region={REGION}&sse_kms_key={deployment.key_arn}"
    assert f'    audit_sessions_uri: "{uri}"' in out.splitlines()
    assert "teleport:\n  storage:\n" in out


# --- errors: one line, exit 2, never a traceback -------------------------------------------------


def _assert_error(code: int, out: str, err: str, fragment: str) -> None:
    assert code == 2, out + err
    assert "Traceback" not in err
    assert err.startswith("recordings-kms: error: ")
    assert len(err.strip().splitlines()) == 1, err
    assert fragment in err, err


def test_missing_bucket(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    deployment = deploy()
    deployment.bucket = "no-such-recordings-bucket"
    _assert_error(*run(deployment.argv(), capsys), "bucket no-such-recordings-bucket does not exist")


def test_missing_key(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    deployment = deploy()
    deployment.key_arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-4333-8444-555555555555"
    _assert_error(*run(deployment.argv(), capsys), "not found in this region")


def test_missing_stack(moto_endpoint: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["verify", "--stack-name", "no-such-stack", "--endpoint-url", moto_endpoint]
    _assert_error(*run(argv, capsys), "stack no-such-stack not found")


def test_missing_credentials(
    deploy: Deploy, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment = deploy()
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    _assert_error(*run(deployment.argv(), capsys), "no AWS credentials found")


def test_missing_region(
    moto_endpoint: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    argv = ["verify", "--bucket", "some-bucket", "--key", "alias/some-key", "--endpoint-url", moto_endpoint]
    code, out, err = run(argv, capsys)
    _assert_error(code, out, err, "no AWS region: pass --region, or set AWS_REGION or AWS_DEFAULT_REGION")
    assert "region in the AWS config profile" in err
    assert "(--key alias/some-key is not a key ARN, so it names no region)" in err


def test_unreachable_endpoint(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    deployment = deploy()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    deployment.endpoint = f"http://127.0.0.1:{closed_port}"
    _assert_error(*run(deployment.argv(), capsys), "cannot reach the kms endpoint")


def _set_moto_auth(endpoint: str, initial_no_auth_action_count: str) -> None:
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=initial_no_auth_action_count.encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request) as response:
        response.read()


def _run_as_user(
    deployment: Deployment,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    actions: list[str],
    argv: list[str],
) -> tuple[int, str, str]:
    """Run the CLI as a new IAM user allowed ``actions``, with moto's IAM checks on."""
    iam = boto3.client("iam", endpoint_url=deployment.endpoint, region_name=REGION)
    user = f"auditor-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    iam.put_user_policy(
        UserName=user,
        PolicyName="verify",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
        ),
    )
    access_key = iam.create_access_key(UserName=user)["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", access_key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", access_key["SecretAccessKey"])
    _set_moto_auth(deployment.endpoint, "0")
    try:
        return run(argv, capsys)
    finally:
        _set_moto_auth(deployment.endpoint, "inf")


def test_access_denied(deploy: Deploy, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """An IAM user with S3 rights only: moto (with IAM checks on) denies kms:DescribeKey."""
    deployment = deploy()
    code, out, err = _run_as_user(deployment, capsys, monkeypatch, ["s3:*"], deployment.argv("--json"))
    _assert_error_json(code, out, err, f"access denied: DescribeKey on {deployment.key_arn}")
    assert "needs kms:DescribeKey" in err
    assert "run verify as a key administrator or the CloudFormation execution role" in err


def test_access_denied_names_the_missing_action(
    deploy: Deploy, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The auth role's KMS rights (DescribeKey, no GetKeyPolicy) are not enough: say which action is missing."""
    deployment = deploy()
    code, out, err = _run_as_user(deployment, capsys, monkeypatch, ["s3:*", "kms:DescribeKey"], deployment.argv())
    _assert_error(code, out, err, f"access denied: GetKeyPolicy on {deployment.key_arn}")
    assert "needs kms:GetKeyPolicy" in err
    assert "only the key administrators (keyAdminArns) and the CloudFormation execution role have" in err
    assert "the auth role has only kms:DescribeKey" in err


@pytest.mark.parametrize(
    ("service", "operation", "action"),
    [
        ("kms", "DescribeKey", "kms:DescribeKey"),
        ("kms", "GetKeyPolicy", "kms:GetKeyPolicy"),
        ("kms", "GetKeyRotationStatus", "kms:GetKeyRotationStatus"),
        ("s3", "GetBucketVersioning", "s3:GetBucketVersioning"),
        ("s3", "GetBucketEncryption", "s3:GetEncryptionConfiguration"),
        ("s3", "GetBucketPolicy", "s3:GetBucketPolicy"),
        ("s3", "GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
        ("s3", "GetBucketOwnershipControls", "s3:GetBucketOwnershipControls"),
        ("cloudformation", "DescribeStacks", "cloudformation:DescribeStacks"),
    ],
)
def test_every_read_names_its_action_when_denied(service: str, operation: str, action: str) -> None:
    from botocore.exceptions import ClientError

    error = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}, operation)
    line = aws.describe_client_error(error, service, "the-resource")
    assert line.startswith(f"access denied: {operation} on the-resource: not authorized; needs {action}; ")
    assert "\n" not in line


def test_arguments_are_checked(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["verify", "--bucket", "only-a-bucket"])
    assert exit_info.value.code == 2
    assert "needs --stack-name, or both --bucket and --key" in capsys.readouterr().err
