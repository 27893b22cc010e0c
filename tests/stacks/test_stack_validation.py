"""Problems only the stack can see (its account and synthesizer), reported in context-setting names."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from constructs_lib import SessionRecordingsStorage
from constructs_lib.core.settings import AppSettings, InvalidSettingsError, StorageSettings
from tests.conftest import ACCOUNT, REGION, TEST_ENV, make_app, recordings_key, synth_stack, template_of

BOOTSTRAP_EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-{ACCOUNT}-{REGION}"


def test_denying_the_bootstrap_execution_role_is_refused_before_deployment() -> None:
    config = AppSettings.from_context({"deniedPrincipalArns": BOOTSTRAP_EXECUTION_ROLE})
    with pytest.raises(InvalidSettingsError) as caught:
        synth_stack(config)
    message = str(caught.value)
    assert "'deniedPrincipalArns' must be a list without the CloudFormation execution role" in message
    assert BOOTSTRAP_EXECUTION_ROLE in message


def test_denying_the_execution_role_is_refused_for_env_agnostic_stacks_too() -> None:
    config = AppSettings.from_context(
        {"deniedPrincipalArns": BOOTSTRAP_EXECUTION_ROLE.replace("eu-west-1", "us-east-2")}
    )
    with pytest.raises(InvalidSettingsError, match="CloudFormation execution role"):
        synth_stack(config, env=None)


def test_another_role_of_the_bootstrap_is_not_mistaken_for_the_execution_role() -> None:
    deploy_role = f"arn:aws:iam::{ACCOUNT}:role/cdk-hnb659fds-deploy-role-{ACCOUNT}-{REGION}"
    synth_stack(AppSettings.from_context({"deniedPrincipalArns": deploy_role}))


def test_deploy_role_setting_is_the_role_cloudformation_deploys_with() -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/cfn-deployer"
    stack = synth_stack(AppSettings.from_context({"deployRoleArn": role}))
    assembly = cdk.App.of(stack).synth()  # type: ignore[union-attr]
    assert assembly.get_stack_artifact(stack.artifact_id).cloud_formation_execution_role_arn == role
    key_policy = recordings_key(template_of(stack))
    principals = [s["Principal"]["AWS"] for s in key_policy["Properties"]["KeyPolicy"]["Statement"]]
    assert role in principals
    assert not any("cfn-exec-role" in str(p) for p in principals)


def test_existing_role_of_another_account_is_refused() -> None:
    other = "arn:aws:iam::444455556666:role/teleport-auth"
    with pytest.raises(InvalidSettingsError) as caught:
        synth_stack(AppSettings.from_context({"existingAuthRoleArn": other}))
    assert f"'existingAuthRoleArn' must be a role in the stack's account {ACCOUNT}" in str(caught.value)


def test_role_imported_from_a_deploy_time_arn_gets_a_warning() -> None:
    stack = cdk.Stack(make_app(), "Importer", env=TEST_ENV)
    arn = cdk.CfnParameter(stack, "AuthRoleArn").value_as_string
    SessionRecordingsStorage(
        stack, "Storage", settings=StorageSettings(auth_role=iam.Role.from_role_arn(stack, "Auth", arn))
    )
    warnings = cdk.assertions.Annotations.from_stack(stack).find_warning(
        "/Importer/Storage", cdk.assertions.Match.string_like_regexp("Role.from_role_name")
    )
    assert len(warnings) == 1
