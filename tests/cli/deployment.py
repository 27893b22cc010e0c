"""A live deployment of the design on the moto server, and helpers to run `recordings-kms verify` on it.

The key, the bucket and the auth role are built with boto3 from the same policy builders as the
constructs (``constructs_lib.core.policies``); each deployment has its own key, bucket and auth
role (IAM names are account-wide), so the seeded breakages are independent of each other.

moto 5.2.5 quirks these helpers live with (see docs/CLI.md):
- a Deny statement in a key policy makes moto refuse DescribeKey to everyone, whatever its
  principal: deployments here have no ``deniedPrincipalArns`` (the stack's default), and key-policy
  Denies are tested on facts (``tests/cli/test_cli_false_passes.py``, case 4);
- moto does not evaluate the conditions of a bucket policy: with the design's policy (every
  statement is conditional) it answers 403 to every object write, allowed or not.
"""

from __future__ import annotations

import functools
import json
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from constructs_lib.core import outputs, policies
from constructs_lib.core.retention import recording_rules
from constructs_lib.core.settings import RetentionSettings
from recordings_kms.cli import main

ACCOUNT = "123456789012"  # moto's default account
REGION = "eu-west-1"
ADMIN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/KeyAdmins"
DEPLOY_ROLE = f"arn:aws:iam::{ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-{ACCOUNT}-{REGION}"
ATTACKER = f"arn:aws:iam::{ACCOUNT}:role/Attacker"
PREFIX = "records"
#: A key that need not exist: for errors raised before any AWS call.
KEY_ARN_EXAMPLE = "arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
Checks = dict[str, dict[str, Any]]


@functools.cache
def harness_client(service: str, endpoint: str, region: str = REGION) -> Any:
    """The tests' own boto3 client for building and breaking deployments, one per service, endpoint and region.

    Creating a client costs ~25 ms of CPU and each deployment used three; the command under test
    still builds its own clients on every run. These use boto3's default session, whose
    credentials (the test ones of ``aws_env``) it resolves once anyway.
    """
    return boto3.client(service, endpoint_url=endpoint, region_name=region)


@dataclass
class Deployment:
    endpoint: str
    bucket: str
    key_arn: str
    key_id: str
    auth_role: str
    s3: Any
    kms: Any
    iam: Any
    #: The design options of ``verify --bucket/--key``.
    design: list[str] = field(default_factory=list)

    @property
    def bucket_arn(self) -> str:
        return f"arn:aws:s3:::{self.bucket}"

    def argv(self, *extra: str) -> list[str]:
        return [
            "verify",
            "--bucket",
            self.bucket,
            "--key",
            self.key_arn,
            "--endpoint-url",
            self.endpoint,
            *self.design,
            *extra,
        ]

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

    def put_bucket_policy(self, document: dict[str, Any]) -> None:
        self.s3.put_bucket_policy(Bucket=self.bucket, Policy=json.dumps(document))

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

    def access_design(self, **changes: Any) -> dict[str, Any]:
        """The ``AccessDesign`` output a stack of this deployment publishes."""
        design = {
            "authPrincipalArn": self.auth_role,
            "readers": [],
            "admins": [ADMIN_ROLE],
            "adminMode": "rfd",
            "deployRole": DEPLOY_ROLE,
            "scopeKeyToS3": True,
            "prefix": PREFIX,
        }
        design.update(changes)
        return design

    def create_stack(self, *, role_arn: str | None = DEPLOY_ROLE, **output_changes: Any) -> str:
        """A stack carrying the outputs a deployed SessionRecordingsStack has, deployed as ``role_arn``.

        moto's CloudFormation cannot create the real stack (no AWS::S3::BucketPolicy): a stand-in
        resource carries the outputs. An output changed to ``None`` is left out.
        """
        cloudformation = harness_client("cloudformation", self.endpoint)
        name = f"recordings-{uuid.uuid4().hex[:8]}"
        values: dict[str, Any] = {
            outputs.STORAGE_URI: policies.storage_uri(
                bucket_name=self.bucket, prefix=PREFIX, region=REGION, key_arn=self.key_arn
            ),
            outputs.KEY_ARN: self.key_arn,
            outputs.KEY_ID: self.key_id,
            outputs.BUCKET_NAME: self.bucket,
            outputs.AUTH_ROLE_ARN: self.auth_role,
            outputs.ACCESS_DESIGN: json.dumps(self.access_design()),
        }
        values.update(output_changes)
        create_stack_with_outputs(cloudformation, name, values, role_arn=role_arn)
        return name


def create_stack_with_outputs(cloudformation: Any, name: str, values: dict[str, Any], *, role_arn: str | None) -> None:
    """A moto stack carrying ``values`` as outputs (an output ``None`` is left out), deployed as ``role_arn``.

    moto's CloudFormation cannot create the package's stacks (no AWS::S3::BucketPolicy): a stand-in
    resource carries the outputs.
    """
    template = {
        "Resources": {
            "Marker": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Name": f"/{name}/marker", "Type": "String", "Value": "x"},
            }
        },
        "Outputs": {key: {"Value": value} for key, value in values.items() if value is not None},
    }
    extra = {"RoleARN": role_arn} if role_arn is not None else {}
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template), **extra)


def auth_s3_policy(bucket_arn: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": policies.auth_s3_policy_statements(bucket_arn=bucket_arn, prefix=PREFIX),
    }


def build_deployment(
    endpoint: str,
    *,
    key_spec: str = "SYMMETRIC_DEFAULT",
    key_usage: str = "ENCRYPT_DECRYPT",
    bucket_policy: bool = True,
    iam_role: bool = True,
) -> Deployment:
    """The design's key, bucket and auth role (with its S3 managed policy unless ``iam_role`` is False)."""
    s3, kms, iam = (harness_client(service, endpoint) for service in ("s3", "kms", "iam"))
    suffix = uuid.uuid4().hex[:12]
    bucket = f"teleport-recordings-{suffix}"
    bucket_arn = f"arn:aws:s3:::{bucket}"
    auth_role = f"arn:aws:iam::{ACCOUNT}:role/teleport-auth-{suffix}"
    if iam_role:
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
        iam.create_role(RoleName=f"teleport-auth-{suffix}", AssumeRolePolicyDocument=json.dumps(trust))
        managed = iam.create_policy(
            PolicyName=f"teleport-recordings-s3-{suffix}", PolicyDocument=json.dumps(auth_s3_policy(bucket_arn))
        )["Policy"]["Arn"]
        iam.attach_role_policy(RoleName=f"teleport-auth-{suffix}", PolicyArn=managed)
    key_policy = policies.key_policy(
        auth_principal_arn=auth_role,
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
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": recording_rules(RetentionSettings(), PREFIX)}
    )
    design = ["--auth", auth_role, "--admin", ADMIN_ROLE, "--deploy-role", DEPLOY_ROLE]
    deployment = Deployment(endpoint, bucket, key["Arn"], key["KeyId"], auth_role, s3, kms, iam, design)
    deployment.put_encryption("aws:kms", key["Arn"])
    if bucket_policy:
        document = policies.bucket_policy(bucket_arn=bucket_arn, key_arn=key["Arn"], key_id=key["KeyId"])
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(document))
    return deployment


# --- running the command ---------------------------------------------------------------------------


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def verify_json(deployment: Deployment, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, Checks]:
    """Run verify --json; the checks by id (for INFO lines, which may repeat an id, the first one)."""
    code, out, err = run(deployment.argv("--json", *extra), capsys)
    assert "Traceback" not in err
    return code, checks_of(out)


def checks_of(out: str) -> Checks:
    """The checks of a JSON report by id: the verdict line, not the INFO lines that may follow it."""
    found: Checks = {}
    for check in json.loads(out)["checks"]:
        current = found.get(check["id"])
        if current is None or (current["status"] == "INFO" and check["status"] != "INFO"):
            found[check["id"]] = check
    return found


def infos(out: str) -> list[str]:
    """Every INFO line of a JSON report, as ``id: reason``."""
    return [f"{c['id']}: {c['reason']}" for c in json.loads(out)["checks"] if c["status"] == "INFO"]


def failures(checks: Checks) -> dict[str, str]:
    return {check_id: c["reason"] for check_id, c in checks.items() if c["status"] == "FAIL"}


def assert_error(code: int, out: str, err: str, fragment: str) -> None:
    """One line on stderr, exit 2, never a traceback."""
    assert code == 2, out + err
    assert "Traceback" not in err
    assert err.startswith("recordings-kms: error: ")
    assert len(err.strip().splitlines()) == 1, err
    assert fragment in err, err


def assert_error_json(code: int, out: str, err: str, fragment: str) -> None:
    assert_error(code, out, err, fragment)
    assert json.loads(out) == {"ok": False, "error": err.strip().removeprefix("recordings-kms: error: ")}


def _set_moto_auth(endpoint: str, initial_no_auth_action_count: str) -> None:
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=initial_no_auth_action_count.encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request) as response:
        response.read()


def run_as_user(
    deployment: Deployment,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    actions: list[str],
    argv: list[str],
) -> tuple[int, str, str]:
    """Run the CLI as a new IAM user allowed ``actions``, with moto's IAM checks on."""
    user = f"auditor-{uuid.uuid4().hex[:8]}"
    deployment.iam.create_user(UserName=user)
    deployment.iam.put_user_policy(
        UserName=user,
        PolicyName="verify",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
        ),
    )
    access_key = deployment.iam.create_access_key(UserName=user)["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", access_key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", access_key["SecretAccessKey"])
    _set_moto_auth(deployment.endpoint, "0")
    try:
        return run(argv, capsys)
    finally:
        _set_moto_auth(deployment.endpoint, "inf")
