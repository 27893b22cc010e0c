"""SessionRecordingsStack and the composite: outputs, protection, existing role, snapshots."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match, Template
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from constructs_lib import SessionRecordingsStorage
from constructs_lib.core.settings import AppSettings, StorageSettings
from tests.conftest import (
    ACCOUNT,
    make_app,
    only_resource,
    recordings_key,
    recordings_keys,
    resources_of_type,
    synth_stack,
    template_of,
)

EXISTING_ROLE = f"arn:aws:iam::{ACCOUNT}:role/teleport/auth-nodes"


@pytest.fixture
def json_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.fixture(scope="module")
def default_stack() -> cdk.Stack:
    return synth_stack()


@pytest.fixture(scope="module")
def default_template(default_stack: cdk.Stack) -> dict[str, Any]:
    return template_of(default_stack)


def test_termination_protection(default_stack: cdk.Stack) -> None:
    assert default_stack.termination_protection is True


def test_stateful_resources_are_retained_and_counted(default_stack: cdk.Stack) -> None:
    template = Template.from_stack(default_stack)
    for resource_type, count in (("AWS::KMS::Key", 2), ("AWS::S3::Bucket", 2)):
        template.resource_count_is(resource_type, count)
        template.all_resources(resource_type, {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})
    template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeySpec": "SYMMETRIC_DEFAULT",
            "KeyUsage": "ENCRYPT_DECRYPT",
            "EnableKeyRotation": True,
            "KeyPolicy": {"Statement": Match.array_with([Match.object_like({"Sid": "Teleport CMK Auth"})])},
        },
    )
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    Match.object_like(
                        {
                            "BucketKeyEnabled": True,
                            "ServerSideEncryptionByDefault": Match.object_like({"SSEAlgorithm": "aws:kms"}),
                        }
                    )
                ]
            },
            "VersioningConfiguration": {"Status": "Enabled"},
        },
    )
    template.has_output("StorageUri", {"Description": Match.string_like_regexp("audit_sessions_uri")})


def test_outputs_with_descriptions(default_template: dict[str, Any]) -> None:
    outputs = default_template["Outputs"]
    assert set(outputs) == {
        "StorageUri",
        "KeyArn",
        "KeyId",
        "BucketName",
        "AuthRoleArn",
        "AuthInstanceProfileName",
        "AccessDesign",
        "AlarmTopicArn",
        "RetentionDesign",
    }
    assert all(output["Description"] for output in outputs.values())
    [key_id] = recordings_keys(default_template)
    [role_id] = resources_of_type(default_template, "AWS::IAM::Role")
    [profile_id] = resources_of_type(default_template, "AWS::IAM::InstanceProfile")
    assert outputs["StorageUri"]["Value"] == {
        "Fn::Join": [
            "",
            [
                "s3://teleport-recordings-111122223333-eu-west-1/records?region=eu-west-1&sse_kms_key=",
                {"Fn::GetAtt": [key_id, "Arn"]},
            ],
        ]
    }
    assert outputs["KeyArn"]["Value"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert outputs["KeyId"]["Value"] == {"Ref": key_id}
    assert outputs["AuthRoleArn"]["Value"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert outputs["AuthInstanceProfileName"]["Value"] == {"Ref": profile_id}
    design = outputs["AccessDesign"]["Value"]["Fn::Join"][1]
    assert design[0] == '{"authPrincipalArn":"'
    assert design[1] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert '"readers":[],"admins":[],"adminMode":"rfd","deployRole":"' in design[2]


def test_configured_uri_and_no_instance_profile_output(synth: Any, full_config: AppSettings) -> None:
    outputs = synth(full_config)["Outputs"]
    assert "AuthInstanceProfileName" not in outputs
    assert outputs["StorageUri"]["Value"]["Fn::Join"][1][0] == (
        "s3://acme-teleport-recordings/teleport/sessions?region=eu-west-1&sse_kms_key="
    )


def test_existing_role_is_used_not_created(synth: Any) -> None:
    template = synth(AppSettings(auth_role=EXISTING_ROLE))
    assert not resources_of_type(template, "AWS::IAM::Role")
    assert not resources_of_type(template, "AWS::IAM::InstanceProfile")
    policy = only_resource(template, "AWS::IAM::ManagedPolicy")
    assert policy["Properties"]["Roles"] == ["auth-nodes"]
    key_policy = recordings_key(template)["Properties"]["KeyPolicy"]
    auth = next(s for s in key_policy["Statement"] if s["Sid"] == "Teleport CMK Auth")
    assert auth["Principal"] == {"AWS": EXISTING_ROLE}
    assert template["Outputs"]["AuthRoleArn"]["Value"] == EXISTING_ROLE


def test_composite_with_scope_and_id_only() -> None:
    stack = cdk.Stack(make_app(), "Importer")
    storage = SessionRecordingsStorage(stack, "Recordings")
    template = template_of(stack)
    for resource_type, count in (
        ("AWS::KMS::Key", 2),  # the recordings key and the alarm topic's key
        ("AWS::KMS::Alias", 1),
        ("AWS::S3::Bucket", 2),
        ("AWS::S3::BucketPolicy", 2),
        ("AWS::IAM::Role", 1),
        ("AWS::IAM::ManagedPolicy", 1),
        ("AWS::IAM::InstanceProfile", 1),
        ("AWS::SNS::Topic", 1),
        ("AWS::Events::Rule", 4),
    ):
        assert len(resources_of_type(template, resource_type)) == count, resource_type
    assert "Outputs" not in template, "constructs never create outputs"
    assert isinstance(storage.auth_role, iam.Role)
    assert storage.instance_profile is not None
    assert cdk.Token.is_unresolved(storage.storage_uri)


def test_composite_accepts_an_existing_irole() -> None:
    stack = cdk.Stack(make_app(), "Importer", env=cdk.Environment(account=ACCOUNT, region="us-west-2"))
    role = iam.Role.from_role_arn(stack, "Existing", EXISTING_ROLE)
    storage = SessionRecordingsStorage(
        stack, "Recordings", settings=StorageSettings(auth_role=role, bucket_name="importer-recordings")
    )
    assert storage.auth_role is role
    assert storage.instance_profile is None
    assert stack.resolve(storage.storage_uri)["Fn::Join"][1][0] == (
        "s3://importer-recordings/records?region=us-west-2&sse_kms_key="
    )


def test_default_stack_snapshot(default_template: dict[str, Any], json_snapshot: SnapshotAssertion) -> None:
    assert default_template == json_snapshot


def test_fully_configured_stack_snapshot(
    synth: Any, full_config: AppSettings, json_snapshot: SnapshotAssertion
) -> None:
    assert synth(full_config) == json_snapshot


def test_the_retention_design_output_carries_the_settings_verify_compares(full_config: AppSettings, synth: Any) -> None:
    from constructs_lib.core.retention import retention_design

    for config in (
        AppSettings(),
        full_config,
        AppSettings(object_lock_mode="compliance", object_lock_retention_days=400, retention_days=730),
    ):
        value = json.loads(synth(config)["Outputs"]["RetentionDesign"]["Value"])
        assert value == retention_design(config)
        assert AppSettings.from_context(value).retention_days == config.retention_days


def test_each_synth_call_gets_a_template_of_its_own(synth: Any) -> None:
    """The synth cache is shared by every module of a process: a test that edits its template edits only its copy."""
    mine = synth()
    mine["Resources"].clear()
    assert synth()["Resources"], "another module's template was emptied through the cache"
