"""RecordingsKey: key properties and every key policy statement (RFD 42 templates, hardened)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest

from constructs_lib.core import policies
from constructs_lib.core.settings import AppSettings, InvalidSettingsError, KeyAdminMode, KeySettings
from constructs_lib.key import RecordingsKey
from tests.conftest import (
    ACCOUNT,
    ADMIN_ROLE,
    ADMIN_USER,
    DENIED_ROLE,
    DENIED_USER,
    make_app,
    only_resource,
    recordings_key,
    statements_by_sid,
    template_of,
)

CRYPTO_ACTIONS = {"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"}
ALL_CRYPTO_PATTERNS = CRYPTO_ACTIONS | {"kms:*", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey"}


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def _principals(statement: dict[str, Any]) -> list[Any]:
    aws = statement["Principal"]["AWS"]
    return aws if isinstance(aws, list) else [aws]


@pytest.fixture(scope="module")
def default_key(synth: Any) -> dict[str, Any]:
    return recordings_key(synth())


@pytest.fixture(scope="module")
def configured_key(synth: Any, full_config: AppSettings) -> dict[str, Any]:
    return recordings_key(synth(full_config))


def test_standard_spec_symmetric_rotating_key(default_key: dict[str, Any]) -> None:
    props = default_key["Properties"]
    assert props["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert props["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert props["EnableKeyRotation"] is True
    assert props["RotationPeriodInDays"] == 365
    assert props["PendingWindowInDays"] == 30
    assert "BypassPolicyLockoutSafetyCheck" not in props
    assert "MultiRegion" not in props


def test_key_is_retained(default_key: dict[str, Any]) -> None:
    assert default_key["DeletionPolicy"] == "Retain"
    assert default_key["UpdateReplacePolicy"] == "Retain"


def test_configured_rotation_and_pending_window(configured_key: dict[str, Any]) -> None:
    assert configured_key["Properties"]["RotationPeriodInDays"] == 180
    assert configured_key["Properties"]["PendingWindowInDays"] == 14


def test_alias(synth: Any, full_config: AppSettings) -> None:
    assert only_resource(synth(), "AWS::KMS::Alias")["Properties"]["AliasName"] == "alias/teleport-session-recordings"
    assert only_resource(synth(full_config), "AWS::KMS::Alias")["Properties"]["AliasName"] == (
        "alias/acme/teleport-recordings"
    )


@pytest.mark.parametrize("which", ["default", "configured"])
def test_no_statement_names_the_account_root(
    which: str, default_key: dict[str, Any], configured_key: dict[str, Any]
) -> None:
    key = default_key if which == "default" else configured_key
    rendered = str(key["Properties"]["KeyPolicy"])
    assert ":root" not in rendered
    for statement in key["Properties"]["KeyPolicy"]["Statement"]:
        for principal in _principals(statement):
            assert principal != ACCOUNT
            if principal == "*":  # a role created with the key, matched by ARN (deploy safety)
                assert set(statement["Condition"]["ArnEquals"]) == {"aws:PrincipalArn"}


def test_default_policy_has_deploy_role_and_scoped_auth_only(default_key: dict[str, Any]) -> None:
    statements = statements_by_sid(default_key["Properties"]["KeyPolicy"])
    assert set(statements) == {policies.SID_DEPLOY_ROLE, policies.SID_AUTH, policies.SID_AUTH_DESCRIBE}


def test_deploy_role_is_the_bootstrap_execution_role_with_admin_actions_only(default_key: dict[str, Any]) -> None:
    deploy = statements_by_sid(default_key["Properties"]["KeyPolicy"])[policies.SID_DEPLOY_ROLE]
    assert deploy["Effect"] == "Allow"
    assert deploy["Principal"]["AWS"] == {
        "Fn::Sub": f"arn:${{AWS::Partition}}:iam::{ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-{ACCOUNT}-eu-west-1"
    }
    assert set(_actions(deploy)) == set(policies.KEY_ADMIN_ACTIONS)
    assert "kms:Put*" in _actions(deploy), "the lockout safety check needs PutKeyPolicy"
    assert not set(_actions(deploy)) & ALL_CRYPTO_PATTERNS
    assert "Condition" not in deploy


def test_configured_deploy_role(configured_key: dict[str, Any]) -> None:
    deploy = statements_by_sid(configured_key["Properties"]["KeyPolicy"])[policies.SID_DEPLOY_ROLE]
    assert deploy["Principal"]["AWS"] == f"arn:aws:iam::{ACCOUNT}:role/cfn-deployer"
    assert not set(_actions(deploy)) & ALL_CRYPTO_PATTERNS


def test_scoped_auth_statement(default_key: dict[str, Any]) -> None:
    statements = statements_by_sid(default_key["Properties"]["KeyPolicy"])
    auth = statements[policies.SID_AUTH]
    assert auth["Effect"] == "Allow"
    assert set(_actions(auth)) == CRYPTO_ACTIONS
    # The auth role is created with the key: matched by aws:PrincipalArn, which KMS does not look up
    # (a new role may not have propagated when the key policy is set).
    assert auth["Principal"]["AWS"] == "*"
    created = {"aws:PrincipalArn": {"Fn::GetAtt": [_auth_role_id(default_key), "Arn"]}}
    bucket_arn = ":s3:::teleport-recordings-111122223333-eu-west-1"
    assert auth["Condition"] == {
        "ArnEquals": created,
        "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"},
        "StringLike": {
            "kms:EncryptionContext:aws:s3:arn": [
                {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, bucket_arn]]},
                {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f"{bucket_arn}/*"]]},
            ]
        },
    }
    describe = statements[policies.SID_AUTH_DESCRIBE]
    assert _actions(describe) == ["kms:DescribeKey"]
    assert describe["Principal"] == auth["Principal"]
    assert describe["Condition"] == {"ArnEquals": created}


def _auth_role_id(key: dict[str, Any]) -> str:
    auth = statements_by_sid(key["Properties"]["KeyPolicy"])[policies.SID_AUTH]
    logical_id: str = auth["Condition"]["ArnEquals"]["aws:PrincipalArn"]["Fn::GetAtt"][0]
    assert logical_id.startswith("StorageAuthRole")
    return logical_id


def test_unscoped_auth_statement_is_the_rfd_literal(synth: Any) -> None:
    key = recordings_key(synth(AppSettings(scope_key_to_s3=False)))
    statements = statements_by_sid(key["Properties"]["KeyPolicy"])
    assert policies.SID_AUTH_DESCRIBE not in statements
    auth = statements[policies.SID_AUTH]
    assert sorted(_actions(auth)) == sorted(policies.AUTH_KMS_ACTIONS)
    assert set(policies.AUTH_KMS_ACTIONS) == CRYPTO_ACTIONS | {"kms:DescribeKey"}
    assert set(auth["Condition"]) == {"ArnEquals"}, "only the created role's ARN, no S3 scoping"
    assert auth["Resource"] == "*"


def test_rfd_mode_admins_get_kms_star(synth: Any) -> None:
    key = recordings_key(synth(AppSettings(key_admins=(ADMIN_ROLE, ADMIN_USER))))
    admin = statements_by_sid(key["Properties"]["KeyPolicy"])[policies.SID_KEY_ADMIN]
    assert admin["Effect"] == "Allow"
    assert admin["Action"] == "kms:*"
    assert _principals(admin) == [ADMIN_ROLE, ADMIN_USER]
    assert admin["Resource"] == "*"


def test_separated_mode_admins_get_no_cryptographic_action(configured_key: dict[str, Any]) -> None:
    admin = statements_by_sid(configured_key["Properties"]["KeyPolicy"])[policies.SID_KEY_ADMIN]
    assert set(_actions(admin)) == set(policies.KEY_ADMIN_ACTIONS)
    assert not set(_actions(admin)) & ALL_CRYPTO_PATTERNS
    assert _principals(admin) == [ADMIN_ROLE, ADMIN_USER]


def test_deny_statement_for_named_administrators(configured_key: dict[str, Any]) -> None:
    deny = statements_by_sid(configured_key["Properties"]["KeyPolicy"])[policies.SID_DENY]
    assert deny["Effect"] == "Deny"
    assert deny["Action"] == "kms:*"
    assert deny["Resource"] == "*"
    assert _principals(deny) == [DENIED_ROLE, DENIED_USER]


def test_deny_statement_omitted_without_denied_principals(default_key: dict[str, Any]) -> None:
    assert all(s["Effect"] == "Allow" for s in default_key["Properties"]["KeyPolicy"]["Statement"])


def test_key_depends_on_no_bucket_resource(default_key: dict[str, Any]) -> None:
    """The bucket ARN in the key policy comes from the synth-time name: no key -> bucket reference."""
    assert "StorageBucket" not in str(default_key)


def test_standalone_key_needs_a_deploy_role_without_default_synthesizer() -> None:
    app = make_app()
    stack = cdk.Stack(app, "Legacy", synthesizer=cdk.LegacyStackSynthesizer())
    with pytest.raises(InvalidSettingsError, match="'deploy_role' must be the ARN of the role that deploys the stack"):
        RecordingsKey(stack, "Key", auth_principal_arn=f"arn:aws:iam::{ACCOUNT}:role/teleport-auth")


def test_standalone_key_with_explicit_deploy_role() -> None:
    app = make_app()
    stack = cdk.Stack(app, "Legacy", synthesizer=cdk.LegacyStackSynthesizer())
    RecordingsKey(
        stack,
        "Key",
        auth_principal_arn=f"arn:aws:iam::{ACCOUNT}:role/teleport-auth",
        settings=KeySettings(
            deploy_role=f"arn:aws:iam::{ACCOUNT}:role/deployer", key_admin_mode=KeyAdminMode.SEPARATED
        ),
    )
    key = recordings_key(template_of(stack))
    statements = statements_by_sid(key["Properties"]["KeyPolicy"])
    assert statements[policies.SID_DEPLOY_ROLE]["Principal"]["AWS"] == f"arn:aws:iam::{ACCOUNT}:role/deployer"
    assert statements[policies.SID_AUTH]["Principal"]["AWS"] == f"arn:aws:iam::{ACCOUNT}:role/teleport-auth"
