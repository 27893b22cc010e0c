"""`recordings-kms verify --cluster` on the organization layout, against a moto server on 127.0.0.1.

The key and bucket live in the recordings account (moto's default, 123456789012); cluster ``prod``'s role
lives in a second account, ``staging``'s in the recordings account itself. moto 5.2.5 picks the account of
a request by ``MOTO_ACCOUNT_ID``, else the ``x-moto-account-id`` header, else the access key: the account
of the IAM user or assumed role that owns it (``moto/core/responses.py`` ``get_current_account``,
``moto/iam/models.py`` ``get_account_id_from``), and ``AssumeRole`` of a role ARN in another account
returns credentials of that account without the role having to exist ("The ARN can point to another
account, providing an opportunity to switch accounts": ``moto/sts/models.py`` ``assume_role``). So the
harness builds the second account's role with assumed credentials, and ``verify`` reads it there through
``--workload-role-arn`` (assumed) or ``--workload-profile`` (an access key of a user of that account).

The policies are the ones the stacks synthesize, from the same builders (``constructs_lib.core.clusters``
and ``policies``), for the layout ``clusters.plan`` makes of the settings.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from constructs_lib.core import clusters, outputs, policies
from constructs_lib.core.retention import recording_rules
from constructs_lib.core.settings import AppSettings, RetentionSettings
from tests.cli.conftest import VERIFY_FIXTURES
from tests.cli.deployment import (
    ACCOUNT,
    ADMIN_ROLE,
    DEPLOY_ROLE,
    REGION,
    Checks,
    assert_error,
    checks_of,
    create_stack_with_outputs,
    harness_client,
    run,
)

pytestmark = pytest.mark.usefixtures(*VERIFY_FIXTURES)
#: One cluster, for the option tests.
A = ["--cluster", "a=arn:aws:iam::111122223333:role/a"]
WORKLOAD = "222233334444"
PROPERTIES = [*(f"P{n}" for n in range(1, 8))]
EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _assumed(endpoint: str, role_arn: str) -> boto3.session.Session:
    sts = harness_client("sts", endpoint)
    found = sts.assume_role(RoleArn=role_arn, RoleSessionName="harness")["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=found["AccessKeyId"],
        aws_secret_access_key=found["SecretAccessKey"],
        aws_session_token=found["SessionToken"],
        region_name=REGION,
    )


@dataclass
class Central:
    endpoint: str
    layout: clusters.OrganizationPlan
    key_arn: str
    #: IAM of the second account (harness credentials there).
    workload_iam: Any
    #: A role of the second account that verify may assume to read its IAM.
    reader_role: str

    def cluster_options(self) -> list[str]:
        """``--cluster NAME=ROLE_ARN`` for every cluster of the layout."""
        found = []
        for cluster in self.layout.clusters:
            found += ["--cluster", f"{cluster.name}={cluster.role_arn}"]
        return found

    def argv(self, *extra: str) -> list[str]:
        return [
            "verify",
            "--bucket",
            self.layout.bucket_name,
            "--key",
            self.key_arn,
            "--endpoint-url",
            self.endpoint,
            "--admin",
            ADMIN_ROLE,
            "--deploy-role",
            DEPLOY_ROLE,
            *self.cluster_options(),
            *extra,
        ]


def build_central(endpoint: str) -> Central:
    """The recordings account's key and bucket with the cluster statements, and each cluster's role in its account."""
    suffix = uuid.uuid4().hex[:10]
    settings = AppSettings.from_context(
        {
            "account": ACCOUNT,
            "region": REGION,
            "bucketName": f"teleport-recordings-{suffix}",
            "clusters": [
                {"name": "prod", "account": WORKLOAD, "authRoleName": f"teleport-prod-{suffix}"},
                {"name": "staging", "authRoleName": f"teleport-staging-{suffix}"},
            ],
        }
    )
    layout = clusters.plan(settings)
    s3, kms, iam = (harness_client(service, endpoint) for service in ("s3", "kms", "iam"))
    workload_iam = _assumed(endpoint, f"arn:aws:iam::{WORKLOAD}:role/harness").client("iam", endpoint_url=endpoint)
    for cluster in layout.clusters:
        client = workload_iam if cluster.account == WORKLOAD else iam
        document = {
            "Version": "2012-10-17",
            "Statement": [
                *policies.auth_s3_policy_statements(bucket_arn=layout.bucket_arn, prefix=cluster.prefix),
                *clusters.identity_kms_statements(layout),
            ],
        }
        client.create_role(RoleName=cluster.role_name, AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
        managed = client.create_policy(PolicyName=f"{cluster.role_name}-s3", PolicyDocument=json.dumps(document))
        client.attach_role_policy(RoleName=cluster.role_name, PolicyArn=managed["Policy"]["Arn"])
    key_policy = policies.key_policy(
        auth_principal_arn=None,
        deploy_role_arn=DEPLOY_ROLE,
        key_admin_arns=[ADMIN_ROLE],
        bucket_arn=layout.bucket_arn,
        region=REGION,
    )
    key_policy["Statement"] += clusters.key_statements(layout)
    key = kms.create_key(Policy=json.dumps(key_policy), KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT")[
        "KeyMetadata"
    ]
    kms.enable_key_rotation(KeyId=key["KeyId"], RotationPeriodInDays=365)
    bucket = layout.bucket_name
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration=dict.fromkeys(
            ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
        ),
    )
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": recording_rules(RetentionSettings(), layout.recordings_prefix)}
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]},
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    bucket_policy = policies.bucket_policy(bucket_arn=layout.bucket_arn, key_arn=key["Arn"], key_id=key["KeyId"])
    bucket_policy["Statement"] += clusters.bucket_statements(layout)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(bucket_policy))
    reader = f"verify-reader-{suffix}"
    workload_iam.create_role(
        RoleName=reader,
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    return Central(endpoint, layout, key["Arn"], workload_iam, f"arn:aws:iam::{WORKLOAD}:role/{reader}")


@pytest.fixture
def central(moto_endpoint: str, aws_env: None) -> Central:
    return build_central(moto_endpoint)


def verify_checks(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, Checks, str]:
    code, out, err = run([*argv, "--json"], capsys)
    assert "Traceback" not in err
    return code, checks_of(out), out


def statuses(checks: Checks, name: str) -> dict[str, str]:
    return {p: checks[f"access.{p}[{name}]"]["status"] for p in PROPERTIES}


# --- a good layout --------------------------------------------------------------------------------------


def test_a_good_layout_read_with_an_assumed_workload_role_passes_p1_to_p7_per_cluster(
    central: Central, capsys: pytest.CaptureFixture[str]
) -> None:
    code, checks, out = verify_checks(central.argv("--workload-role-arn", central.reader_role), capsys)
    assert code == 0, out
    for name in ("prod", "staging"):
        assert statuses(checks, name) == dict.fromkeys(PROPERTIES, "PASS"), checks
        assert checks[f"evidence.identity-policies[{name}]"]["status"] == "PASS"
    assert (
        f"account {WORKLOAD}; credentials: --workload-role-arn {central.reader_role}"
        in (checks["evidence.identity-policies[prod]"]["reason"])
    )
    assert "identity side was not checked" not in checks["access.P5[prod]"]["reason"]
    assert checks["deploy.put-key-policy"]["status"] == "PASS"
    document = json.loads(out)
    assert [c["name"] for c in document["clusters"]] == ["prod", "staging"]
    assert document["clusters"][0]["roleAccount"] == WORKLOAD


def test_cluster_trust_proves_t1_on_the_live_trust_policies(
    central: Central, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both roles trust EC2: T1 PASS when --cluster-trust says ec2, FAIL naming the admitted principal when it
    says pod-identity role chaining; without --cluster-trust the trust is an INFO line (not judged)."""
    pod_role = f"arn:aws:iam::{WORKLOAD}:role/eks-pod-identity"
    argv = central.argv("--workload-role-arn", central.reader_role, "--cluster-trust", "staging=ec2")
    code, checks, out = verify_checks([*argv, "--cluster-trust", "prod=ec2"], capsys)
    assert code == 0, out
    assert checks["access.T1[prod]"]["status"] == "PASS"
    assert checks["access.T1[staging]"]["status"] == "PASS"
    code, checks, out = verify_checks([*argv, "--cluster-trust", f"prod=pod-identity,{pod_role}"], capsys)
    assert code == 1
    t1 = checks["access.T1[prod]"]
    assert t1["status"] == "FAIL"
    assert t1["counterexample"]["principal"] == "ec2.amazonaws.com"
    assert pod_role in t1["reason"]
    code, checks, out = verify_checks(argv, capsys)
    assert code == 0, out
    assert checks["access.T1[prod]"]["status"] == "INFO"


def test_a_chained_pod_identity_trust_passes_t1_and_an_unread_one_is_cannot_prove(
    central: Central, capsys: pytest.CaptureFixture[str]
) -> None:
    prod = central.layout.clusters[0]
    pod_role = f"arn:aws:iam::{WORKLOAD}:role/eks-pod-identity"
    chained = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{WORKLOAD}:root"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {
                    "StringEquals": {
                        "aws:RequestTag/kubernetes-namespace": "teleport",
                        "aws:RequestTag/kubernetes-service-account": "teleport",
                    },
                    "ArnEquals": {"aws:PrincipalArn": pod_role},
                },
            }
        ],
    }
    central.workload_iam.update_assume_role_policy(RoleName=prod.role_name, PolicyDocument=json.dumps(chained))
    trust = f"prod=pod-identity,{pod_role}"
    code, checks, out = verify_checks(
        central.argv("--workload-role-arn", central.reader_role, "--cluster-trust", trust), capsys
    )
    assert code == 0, out
    assert checks["access.T1[prod]"]["status"] == "PASS"
    code, checks, out = verify_checks(central.argv("--cluster-trust", trust), capsys)
    assert code == 1
    assert checks["access.T1[prod]"]["status"] == "CANNOT-PROVE"
    assert f"no credentials for account {WORKLOAD}" in checks["access.T1[prod]"]["reason"]


def test_a_workload_profile_reads_the_second_account(
    central: Central, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    user = f"auditor-{uuid.uuid4().hex[:8]}"
    central.workload_iam.create_user(UserName=user)
    access_key = central.workload_iam.create_access_key(UserName=user)["AccessKey"]
    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[workload]\naws_access_key_id = {access_key['AccessKeyId']}\n"
        f"aws_secret_access_key = {access_key['SecretAccessKey']}\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    code, checks, out = verify_checks(central.argv("--workload-profile", f"{WORKLOAD}=workload"), capsys)
    assert code == 0, out
    assert statuses(checks, "prod") == dict.fromkeys(PROPERTIES, "PASS")
    assert (
        f"credentials: --workload-profile {WORKLOAD}=workload" in checks["evidence.identity-policies[prod]"]["reason"]
    )


# --- evidence that could not be read ------------------------------------------------------------------------


def test_no_credentials_for_the_workload_account_is_cannot_prove_by_name_and_fails_the_run(
    central: Central, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without the prod role's identity policies P5 is CANNOT-PROVE (a role of another account needs both sides),
    naming the account and the role; --warnings-ok does not excuse it. The recordings account's cluster still
    passes everything."""
    code, checks, out = verify_checks(central.argv("--warnings-ok"), capsys)
    assert code == 1, out
    prod_role = central.layout.clusters[0].role_arn
    evidence = checks["evidence.identity-policies[prod]"]
    assert evidence["status"] == "WARN"
    assert f"no credentials for account {WORKLOAD}" in evidence["reason"]
    assert prod_role in evidence["reason"]
    p5 = checks["access.P5[prod]"]
    assert p5["status"] == "CANNOT-PROVE"
    assert prod_role in p5["reason"]
    assert WORKLOAD in p5["reason"]
    assert statuses(checks, "staging") == dict.fromkeys(PROPERTIES, "PASS")


def test_an_assume_role_the_caller_is_refused_is_cannot_prove_naming_the_role(
    central: Central, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With moto's IAM checks on, a caller allowed every read verify makes but not sts:AssumeRole."""
    from tests.cli.deployment import _set_moto_auth

    iam = harness_client("iam", central.endpoint)
    user = f"auditor-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    allowed = ["kms:*", "s3:*", "iam:*", "cloudformation:*"]
    iam.put_user_policy(
        UserName=user,
        PolicyName="verify",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": allowed, "Resource": "*"}]}
        ),
    )
    access_key = iam.create_access_key(UserName=user)["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", access_key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", access_key["SecretAccessKey"])
    _set_moto_auth(central.endpoint, "0")
    try:
        code, checks, out = verify_checks(central.argv("--workload-role-arn", central.reader_role), capsys)
    finally:
        _set_moto_auth(central.endpoint, "inf")
    assert code == 1, out
    evidence = checks["evidence.identity-policies[prod]"]
    assert evidence["status"] == "WARN"
    assert f"sts:AssumeRole on {central.reader_role} failed (access denied)" in evidence["reason"]
    assert checks["access.P5[prod]"]["status"] == "CANNOT-PROVE"
    assert checks["evidence.identity-policies[staging]"]["status"] == "PASS"


def test_a_cluster_role_missing_from_its_account_is_cannot_prove_naming_it(
    central: Central, capsys: pytest.CaptureFixture[str]
) -> None:
    """The credentials work (an assumed role of the workload account) but IAM there has no such role."""
    prod = central.layout.clusters[0]
    central.workload_iam.detach_role_policy(
        RoleName=prod.role_name, PolicyArn=f"arn:aws:iam::{WORKLOAD}:policy/{prod.role_name}-s3"
    )
    central.workload_iam.delete_role(RoleName=prod.role_name)
    code, checks, out = verify_checks(central.argv("--workload-role-arn", central.reader_role), capsys)
    assert code == 1, out
    evidence = checks["evidence.identity-policies[prod]"]
    assert evidence["status"] == "WARN"
    assert f"IAM has no role {prod.role_name}" in evidence["reason"]
    assert checks["access.P5[prod]"]["status"] == "CANNOT-PROVE"


# --- a misconfigured role ------------------------------------------------------------------------------------


def test_a_workload_role_whose_identity_policy_misses_kms_fails_p5(
    central: Central, capsys: pytest.CaptureFixture[str]
) -> None:
    """The recordings account allows the prod role; its own account's policy lacks kms:Decrypt (multipart uploads
    need it): P5 FAILs for prod only."""
    prod = central.layout.clusters[0]
    policy_arn = f"arn:aws:iam::{WORKLOAD}:policy/{prod.role_name}-s3"
    document = {
        "Version": "2012-10-17",
        "Statement": [
            *policies.auth_s3_policy_statements(bucket_arn=central.layout.bucket_arn, prefix=prod.prefix),
            {**clusters.identity_kms_statements(central.layout)[0], "Action": ["kms:GenerateDataKey"]},
        ],
    }
    central.workload_iam.create_policy_version(
        PolicyArn=policy_arn, PolicyDocument=json.dumps(document), SetAsDefault=True
    )
    code, checks, out = verify_checks(central.argv("--workload-role-arn", central.reader_role), capsys)
    assert code == 1, out
    assert checks["access.P5[prod]"]["status"] == "FAIL"
    assert "kms:decrypt" in json.dumps(checks["access.P5[prod]"]).lower()
    assert checks["access.P5[staging]"]["status"] == "PASS"


def test_a_cluster_role_allowed_another_clusters_prefix_fails_p7(
    central: Central, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bucket policy statement that lets staging's role write under prod's prefix: P7 of prod FAILs."""
    s3 = harness_client("s3", central.endpoint)
    bucket = central.layout.bucket_name
    document = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    prod, staging = central.layout.clusters
    document["Statement"] = [s for s in document["Statement"] if not s["Sid"].startswith("ClusterStaging")]
    document["Statement"].append(
        {
            "Sid": "Mistake",
            "Effect": "Allow",
            "Principal": {"AWS": staging.role_arn},
            "Action": "s3:PutObject",
            "Resource": f"{central.layout.bucket_arn}/{prod.prefix}/*",
        }
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(document))
    code, checks, out = verify_checks(central.argv("--workload-role-arn", central.reader_role), capsys)
    assert code == 1, out
    assert checks["access.P7[prod]"]["status"] == "FAIL"
    assert checks["access.P7[prod]"]["counterexample"]["principal"] == staging.role_arn


def test_a_cluster_verify_was_not_told_of_fails_p1_naming_its_role(
    central: Central, capsys: pytest.CaptureFixture[str]
) -> None:
    """verify told of prod only: staging's role, which the key policy lets use the key, is nobody the design
    names (P1 FAIL), whatever the identity policies."""
    staging = central.layout.clusters[1]
    argv = central.argv("--workload-role-arn", central.reader_role)
    at = argv.index(f"staging={staging.role_arn}")
    del argv[at - 1 : at + 1]
    code, checks, out = verify_checks(argv, capsys)
    assert code == 1, out
    assert checks["access.P1[prod]"]["status"] == "FAIL"
    assert checks["access.P1[prod]"]["counterexample"]["principal"] == staging.role_arn


# --- the stack's outputs ---------------------------------------------------------------------------------------


def _central_stack(central: Central, **changes: Any) -> str:
    cloudformation = harness_client("cloudformation", central.endpoint)
    name = f"recordings-{uuid.uuid4().hex[:8]}"
    values = {
        outputs.KEY_ARN: central.key_arn,
        outputs.BUCKET_NAME: central.layout.bucket_name,
        **{c.output_id: clusters.storage_uri(central.layout, c, central.key_arn) for c in central.layout.clusters},
    }
    values.update(changes)
    create_stack_with_outputs(cloudformation, name, values, role_arn=DEPLOY_ROLE)
    return name


def test_stack_name_reads_the_bucket_key_and_each_clusters_storage_uri(
    central: Central, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = _central_stack(central)
    argv = [
        "verify",
        "--stack-name",
        stack,
        "--endpoint-url",
        central.endpoint,
        "--admin",
        ADMIN_ROLE,
        *central.cluster_options(),
        "--workload-role-arn",
        central.reader_role,
    ]
    code, checks, out = verify_checks(argv, capsys)
    assert code == 0, out
    assert checks["stack.storage-uri[prod]"]["status"] == "PASS"
    assert checks["stack.storage-uri[staging]"]["status"] == "PASS"
    assert "the stack's RoleARN" in checks["deploy.put-key-policy"]["reason"]
    stack = _central_stack(central, StorageUriStaging=None)
    code, checks, out = verify_checks([*argv[:2], stack, *argv[3:]], capsys)
    assert code == 1
    assert checks["stack.storage-uri[staging]"]["status"] == "FAIL"


# --- bad option values --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--cluster", "prod"], "'--cluster' must be NAME=ROLE_ARN[:PREFIX]"),
        (["--cluster", "Prod=arn:aws:iam::111122223333:role/r"], "the cluster name must be"),
        (["--cluster", "prod=arn:aws:iam::111122223333:user/u"], "must be an IAM role ARN"),
        (["--cluster", "prod=arn:aws:iam::111122223333:role/r:/abs"], "the prefix must be"),
        (
            [
                "--cluster",
                "a=arn:aws:iam::111122223333:role/a:records/a",
                "--cluster",
                "b=arn:aws:iam::111122223333:role/b:records/ab",
            ],
            "overlaps cluster a's",
        ),
        (
            ["--cluster", "a=arn:aws:iam::111122223333:role/a", "--cluster", "a=arn:aws:iam::111122223333:role/b"],
            "a cluster name given twice",
        ),
        (
            ["--cluster", "a=arn:aws:iam::111122223333:role/a", "--workload-profile", "1111=p"],
            "'--workload-profile' must be ACCOUNT=PROFILE",
        ),
        (
            ["--cluster", "a=arn:aws:iam::111122223333:role/a", "--workload-role-arn", "nope"],
            "'--workload-role-arn' must be an IAM role ARN",
        ),
        (
            [
                "--cluster",
                "a=arn:aws:iam::111122223333:role/a",
                "--workload-role-arn",
                "arn:aws:iam::444455556666:role/r",
            ],
            "no --cluster role is in account 444455556666",
        ),
        (
            [
                "--cluster",
                "a=arn:aws:iam::111122223333:role/a",
                "--workload-profile",
                "111122223333=p",
                "--workload-role-arn",
                "arn:aws:iam::111122223333:role/r",
            ],
            "account 111122223333 already has credentials",
        ),
        (
            ["--cluster", "a=arn:aws:iam::111122223333:role/a", "--auth", "arn:aws:iam::111122223333:role/x"],
            "'--auth' is refused with --cluster",
        ),
        (["--cluster", "a=arn:aws:iam::111122223333:role/a", "--admin", "nope"], "'--admin'"),
        ([*A, "--cluster-trust", "a=kerberos"], "'--cluster-trust' must be NAME=ec2"),
        ([*A, "--probe"], "'--probe' is not built with --cluster yet"),
        ([*A, "--access-analyzer"], "'--access-analyzer' is not built with --cluster yet"),
        ([*A, "--cluster-trust", "a=irsa,arn:aws:iam::111122223333:role/x"], "must be an IAM OIDC provider ARN"),
        ([*A, "--cluster-trust", "a=pod-identity,arn:aws:iam::111122223333:user/u"], "must be an IAM role ARN"),
        ([*A, "--cluster-trust", "b=ec2"], 'no --cluster is named "b"'),
        ([*A, "--cluster-trust", "a=ec2", "--cluster-trust", "a=ec2"], "has a --cluster-trust already"),
        (["--auth", "arn:aws:iam::111122223333:role/x", "--cluster-trust", "a=ec2"], "go with --cluster"),
    ],
)
def test_bad_central_options_exit_2_with_one_line_naming_the_option(
    extra: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["verify", "--bucket", "b", "--key", "arn:aws:kms:eu-west-1:111122223333:key/k", *extra]
    code, out, err = run(argv, capsys)
    assert_error(code, out, err, fragment)


def test_a_workload_profile_that_does_not_exist_exits_2_naming_the_option(
    central: Central, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(central.argv("--workload-profile", f"{WORKLOAD}=nowhere"), capsys)
    assert_error(
        code, out, err, f"--workload-profile {WORKLOAD}=nowhere: The config profile (nowhere) could not be found"
    )


def test_workload_options_without_a_cluster_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "verify",
        "--bucket",
        "b",
        "--key",
        "k",
        "--auth",
        "arn:aws:iam::111122223333:role/x",
        "--workload-role-arn",
        "arn:aws:iam::111122223333:role/r",
    ]
    code, out, err = run(argv, capsys)
    assert_error(code, out, err, "--workload-role-arn")
