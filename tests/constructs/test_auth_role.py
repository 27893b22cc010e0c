"""AuthNodeRole: Teleport's S3 permission set in a managed policy, and each trust mode."""

from __future__ import annotations

from typing import Any

import pytest

from constructs_lib.core import policies
from constructs_lib.core.settings import AppSettings, AuthTrust
from tests.conftest import ACCOUNT, FULL_CONTEXT, only_resource, resources_of_type

BUCKET_ARN = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::teleport-recordings-111122223333-eu-west-1"]]}
DELETE_ACTIONS = {"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:DeleteBucket", "s3:*", "*"}


@pytest.fixture(scope="module")
def default_template(synth: Any) -> dict[str, Any]:
    return synth()  # type: ignore[no-any-return]


def _trust(template: dict[str, Any]) -> list[dict[str, Any]]:
    role = only_resource(template, "AWS::IAM::Role")
    return role["Properties"]["AssumeRolePolicyDocument"]["Statement"]  # type: ignore[no-any-return]


def test_s3_permissions_are_teleports_documented_set_in_a_managed_policy(default_template: dict[str, Any]) -> None:
    assert not resources_of_type(default_template, "AWS::IAM::Policy"), "no inline policies"
    policy = only_resource(default_template, "AWS::IAM::ManagedPolicy")
    [role_id] = resources_of_type(default_template, "AWS::IAM::Role")
    assert policy["Properties"]["Roles"] == [{"Ref": role_id}]
    bucket_statement, objects_statement = policy["Properties"]["PolicyDocument"]["Statement"]
    assert bucket_statement == {
        "Sid": policies.SID_AUTH_S3_BUCKET,
        "Effect": "Allow",
        "Action": sorted(policies.AUTH_S3_BUCKET_ACTIONS),
        "Resource": BUCKET_ARN,
    }
    assert objects_statement["Sid"] == policies.SID_AUTH_S3_OBJECTS
    assert objects_statement["Action"] == sorted(policies.AUTH_S3_OBJECT_ACTIONS)
    assert objects_statement["Resource"] == {
        "Fn::Join": [
            "",
            ["arn:", {"Ref": "AWS::Partition"}, ":s3:::teleport-recordings-111122223333-eu-west-1/records/*"],
        ]
    }
    assert set(policies.AUTH_S3_BUCKET_ACTIONS) == {
        "s3:ListBucket",
        "s3:ListBucketVersions",
        "s3:ListBucketMultipartUploads",
        "s3:GetEncryptionConfiguration",
        "s3:GetBucketVersioning",
    }
    assert set(policies.AUTH_S3_OBJECT_ACTIONS) == {
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:GetObjectRetention",
        "s3:PutObject",
        "s3:ListMultipartUploadParts",
        "s3:AbortMultipartUpload",
    }


def test_role_can_delete_nothing_and_has_no_kms_identity_permissions(default_template: dict[str, Any]) -> None:
    document = only_resource(default_template, "AWS::IAM::ManagedPolicy")["Properties"]["PolicyDocument"]
    actions = {a for s in document["Statement"] for a in s["Action"]}
    assert not actions & DELETE_ACTIONS
    assert not any(a.startswith("kms:") for a in actions), "KMS access comes from the key policy alone"
    assert all(s["Effect"] == "Allow" and "NotAction" not in s for s in document["Statement"])


def test_prefix_follows_the_setting(synth: Any) -> None:
    template = synth(AppSettings(recordings_prefix="teleport/sessions"))
    document = only_resource(template, "AWS::IAM::ManagedPolicy")["Properties"]["PolicyDocument"]
    resource = document["Statement"][1]["Resource"]
    assert resource["Fn::Join"][1][-1].endswith("/teleport/sessions/*")


def test_ec2_trust_with_instance_profile(default_template: dict[str, Any]) -> None:
    assert _trust(default_template) == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}}
    ]
    [role_id] = resources_of_type(default_template, "AWS::IAM::Role")
    profile = only_resource(default_template, "AWS::IAM::InstanceProfile")
    assert profile["Properties"]["Roles"] == [{"Ref": role_id}]
    role = only_resource(default_template, "AWS::IAM::Role")
    assert role["Properties"]["MaxSessionDuration"] == 3600
    assert "ManagedPolicyArns" not in role["Properties"]


def test_irsa_trust_names_the_provider_and_service_account(synth: Any, full_config: AppSettings) -> None:
    template = synth(full_config)
    issuer = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
    assert _trust(template) == [
        {
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{issuer}:sub": "system:serviceaccount:teleport:teleport-auth",
                    f"{issuer}:aud": "sts.amazonaws.com",
                }
            },
            "Effect": "Allow",
            "Principal": {"Federated": FULL_CONTEXT["oidcProviderArn"]},
        }
    ]
    assert not resources_of_type(template, "AWS::IAM::InstanceProfile")


def test_pod_identity_trust_requires_the_service_account_session_tags(synth: Any) -> None:
    template = synth(AppSettings(auth_trust=AuthTrust.POD_IDENTITY, service_account="teleport:auth"))
    [statement] = _trust(template)
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert sorted(statement["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
    assert statement["Condition"] == {
        "StringEquals": {
            "aws:RequestTag/kubernetes-namespace": "teleport",
            "aws:RequestTag/kubernetes-service-account": "auth",
        }
    }
    assert not resources_of_type(template, "AWS::IAM::InstanceProfile")


POD_IDENTITY_ROLE = "arn:aws:iam::444455556666:role/eks-pod-identity-teleport"


def _chained(synth: Any) -> dict[str, Any]:
    settings = AppSettings(
        auth_trust=AuthTrust.POD_IDENTITY, service_account="teleport:auth", pod_identity_role_arn=POD_IDENTITY_ROLE
    )
    return synth(settings)  # type: ignore[no-any-return]


def test_pod_identity_role_chaining_trusts_the_pod_identity_role_with_its_session_tags(synth: Any) -> None:
    """``targetRoleArn``: the trust of AWS's example (EKS User Guide, "Access AWS Resources using EKS Pod Identity
    Target IAM Roles", https://docs.aws.amazon.com/eks/latest/userguide/pod-id-assign-target-role.html): the Pod
    Identity role's account root with ``aws:PrincipalArn``, sts:AssumeRole and sts:TagSession, the session tags."""
    [statement] = _trust(_chained(synth))
    assert statement["Principal"] == {"AWS": "arn:aws:iam::444455556666:root"}
    assert sorted(statement["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
    assert statement["Condition"] == {
        "StringEquals": {
            "aws:RequestTag/kubernetes-namespace": "teleport",
            "aws:RequestTag/kubernetes-service-account": "auth",
        },
        "ArnEquals": {"aws:PrincipalArn": POD_IDENTITY_ROLE},
    }
    assert "pods.eks.amazonaws.com" not in str(statement)


def _t1(template: dict[str, Any], expected: Any) -> Any:
    """T1 on the template's auth role trust, resolved for the test account."""
    from constructs_lib.core.prover.model import Design, Evidence
    from constructs_lib.core.prover.trust import prove_t1
    from constructs_lib.core.template import IntrinsicResolver

    key = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    role = only_resource(template, "AWS::IAM::Role")["Properties"]["AssumeRolePolicyDocument"]
    trust = IntrinsicResolver(template, account=ACCOUNT, region="eu-west-1").resolve(role)
    design = Design(
        account=ACCOUNT,
        region="eu-west-1",
        key_arn=key,
        key_id=key.rsplit("/", 1)[1],
        bucket_name="b",
        auth_role_arn=f"arn:aws:iam::{ACCOUNT}:role/auth",
        auth_trusted=expected,
    )
    return prove_t1(design, Evidence(key_policy={}, auth_trust_policy=trust))


def test_the_synthesized_trusts_pass_t1_and_chaining_admits_exactly_the_pod_identity_role(synth: Any) -> None:
    from constructs_lib.core.prover.model import Verdict
    from constructs_lib.core.prover.trust import trusted_principal

    cases = [
        (_chained(synth), trusted_principal("pod-identity", pod_identity_role_arn=POD_IDENTITY_ROLE)),
        (synth(AppSettings(auth_trust=AuthTrust.POD_IDENTITY)), trusted_principal("pod-identity")),
        (synth(), trusted_principal("ec2")),
    ]
    for template, expected in cases:
        result = _t1(template, expected)
        assert result.verdict is Verdict.PASS, result
    assert _t1(_chained(synth), trusted_principal("pod-identity")).verdict is Verdict.FAIL


def test_principal_trust(synth: Any) -> None:
    principal = f"arn:aws:iam::{ACCOUNT}:role/teleport-auth-nodes"
    template = synth(AppSettings(auth_trust=AuthTrust.PRINCIPAL, auth_principal=principal))
    assert _trust(template) == [{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"AWS": principal}}]
    assert not resources_of_type(template, "AWS::IAM::InstanceProfile")
