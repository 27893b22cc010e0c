"""Settings from CDK context (cdk.json, -c): parsing, and one failing-input test per rule in context names."""

from __future__ import annotations

import json
import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match

from constructs_lib.core.settings import (
    AppSettings,
    AuthTrust,
    InvalidSettingsError,
    KeyAdminMode,
    StorageSettings,
    specs,
    validate,
)
from constructs_lib.storage import SessionRecordingsStorage
from tests.conftest import (
    ACCOUNT,
    ADMIN_ROLE,
    DENIED_ROLE,
    FULL_CONTEXT,
    make_app,
    recordings_key,
    synth_stack,
    template_of,
)

ROLE = f"arn:aws:iam::{ACCOUNT}:role/teleport-auth"
OIDC = f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF"


def problems_for(context: dict[str, Any]) -> str:
    settings = AppSettings.from_context(context)
    with pytest.raises(InvalidSettingsError) as caught:
        validate(settings, settings.environment())
    return str(caught.value)


def test_defaults_need_no_settings() -> None:
    config = AppSettings.from_context({})
    assert config == AppSettings()
    assert config.recordings_prefix == "records"
    assert config.key_admin_mode is KeyAdminMode.RFD
    assert config.auth_trust is AuthTrust.EC2
    assert config.scope_key_to_s3 is True
    assert config.require_encryption_headers is False
    assert (config.key_rotation_days, config.key_pending_window_days) == (365, 30)


def test_every_setting_parses_from_strings() -> None:
    config = AppSettings.from_context(FULL_CONTEXT)
    assert config.bucket_name == "acme-teleport-recordings"
    assert config.key_admins == (ADMIN_ROLE, f"arn:aws:iam::{ACCOUNT}:user/security/alice")
    assert config.denied_principals[0] == DENIED_ROLE
    assert config.key_admin_mode is KeyAdminMode.SEPARATED
    assert config.require_encryption_headers is True
    assert config.key_rotation_days == 180
    assert config.auth_trust is AuthTrust.IRSA


def test_json_typed_values_from_cdk_json_parse_too() -> None:
    config = AppSettings.from_context(
        {"keyAdminArns": [ADMIN_ROLE], "scopeKeyToS3": False, "keyRotationDays": 730, "requireEncryptionHeaders": True}
    )
    assert config.key_admins == (ADMIN_ROLE,)
    assert config.scope_key_to_s3 is False
    assert config.key_rotation_days == 730


def test_context_names_are_the_documented_ones() -> None:
    """cdk.json files of users who deployed use these names: they are a contract."""
    assert {d.context for d in specs(AppSettings)} >= {
        "bucketName",
        "recordingsPrefix",
        "keyAlias",
        "keyAdminArns",
        "deniedPrincipalArns",
        "keyAdminMode",
        "scopeKeyToS3",
        "requireEncryptionHeaders",
        "keyRotationDays",
        "keyPendingWindowDays",
        "authTrust",
        "authPrincipalArn",
        "oidcProviderArn",
        "serviceAccount",
        "existingAuthRoleArn",
        "accessLogsBucketName",
        "deployRoleArn",
    }


def test_cdk_own_context_keys_are_not_settings() -> None:
    AppSettings.from_context(
        {"@aws-cdk/core:newStyleStackSynthesis": True, "aws:cdk:enable-path-metadata": True, "cdk-nag": "x"}
    )


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (
            {"existingAuthRoleArn": f"arn:aws:iam::{ACCOUNT}:group/teleport"},
            r"'existingAuthRoleArn' must be an IAM role or user ARN.*kind iam:group",
        ),
        (
            {"deployRoleArn": "arn:aws:iam::12345:role/deployer"},
            r"'deployRoleArn' must be an IAM role ARN.*account id '12345' is not 12 digits",
        ),
        (
            {"deployRoleArn": f"arn:aws:iam::{ACCOUNT}:user/deployer"},
            r"'deployRoleArn' must be an IAM role ARN.*this is an IAM user ARN",
        ),
        (
            {"keyAdminArns": "arn:aws:s3:::bucket"},
            r"'keyAdminArns' must be IAM role or user ARNs.*kind s3:bucket\), got \"arn:aws:s3:::bucket\"",
        ),
        (
            {"keyAdminArns": f"arn:aws:iam::{ACCOUNT}:root"},
            r"'keyAdminArns' must be IAM role or user ARNs.*the account root principal stands for every IAM identity",
        ),
        (
            {"deniedPrincipalArns": f"arn:aws:iam::{ACCOUNT}:root"},
            r"'deniedPrincipalArns' must be .*account root principal stands for every IAM identity",
        ),
        (
            {"deniedPrincipalArns": "not-an-arn"},
            r"'deniedPrincipalArns' must be IAM role or user ARNs.*got \"not-an-arn\"",
        ),
        (
            {"readerArns": f"arn:aws:iam::{ACCOUNT}:role/Auditor{'x' * 60}"},
            r"'readerArns' must be IAM role or user ARNs.*the name has 67 characters; IAM allows 64",
        ),
        (
            {"readerArns": [f"arn:aws:iam::{ACCOUNT}:role/Audit\u00e9r"]},
            r"'readerArns' must be .*IAM names and paths are ASCII",
        ),
        (
            {"keyAdminArns": f"arn:aws:iam::{ACCOUNT}:role/{'p/' * 260}Admin"},
            r"'keyAdminArns' must be .*the path is longer than IAM's 512 characters",
        ),
        (
            {"keyAdminArns": f"arn:aws:iam::{ACCOUNT}:role/Admin*"},
            r"'keyAdminArns' must be .*a principal ARN cannot hold wildcards",
        ),
        ({"keyAdminArns": f"{ADMIN_ROLE},{ADMIN_ROLE}"}, r"'keyAdminArns' must be a list without duplicates"),
        (
            {"bucketName": "Teleport_Recordings"},
            r"'bucketName' must be a valid S3 bucket name.*got \"Teleport_Recordings\"",
        ),
        ({"bucketName": "192.168.1.1"}, r"'bucketName' must be a valid S3 bucket name"),
        ({"bucketName": "ab"}, r"'bucketName' must be a valid S3 bucket name"),
        ({"accessLogsBucketName": "logs..bucket"}, r"'accessLogsBucketName' must be a valid S3 bucket name"),
        (
            {"bucketName": "same-bucket", "accessLogsBucketName": "same-bucket"},
            r"'accessLogsBucketName' must be a bucket other than bucketName",
        ),
        (
            {"recordingsPrefix": "/records"},
            r"'recordingsPrefix' must be a key prefix without a leading slash, like \"records\", got \"/records\"",
        ),
        (
            {"recordingsPrefix": "records/"},
            r"'recordingsPrefix' must be 1-512 characters.*no leading, trailing or double slash",
        ),
        ({"recordingsPrefix": "rec*"}, r"'recordingsPrefix' must be .*wildcards are refused"),
        ({"recordingsPrefix": "a/../b"}, r"'recordingsPrefix' must be a key prefix without '.' or '..' segments"),
        (
            {"keyAlias": "alias/aws/teleport"},
            r"'keyAlias' must be an alias outside the reserved 'alias/aws/' namespace",
        ),
        ({"keyAlias": "teleport"}, r"'keyAlias' must be 'alias/' followed by"),
        ({"keyRotationDays": "30"}, r"'keyRotationDays' must be a whole number of days from 90 to 2560, got 30"),
        ({"keyRotationDays": "yearly"}, r"'keyRotationDays' must be a whole number, got \"yearly\""),
        ({"keyPendingWindowDays": 45}, r"'keyPendingWindowDays' must be a whole number of days from 7 to 30, got 45"),
        ({"keyPendingWindowDays": "7.5"}, r"'keyPendingWindowDays' must be a whole number, got \"7.5\""),
        ({"keyAdminMode": "strict"}, r"'keyAdminMode' must be one of \"rfd\", \"separated\", got \"strict\""),
        (
            {"authTrust": "lambda"},
            r"'authTrust' must be one of \"ec2\", \"irsa\", \"pod-identity\", \"principal\", got \"lambda\"",
        ),
        ({"scopeKeyToS3": "yes"}, r"'scopeKeyToS3' must be true or false, got \"yes\""),
        ({"requireEncryptionHeaders": 1}, r"'requireEncryptionHeaders' must be true or false, got 1"),
        ({"keyAdminArns": "[not json"}, r"'keyAdminArns' must be a JSON array of strings or a comma-separated list"),
        ({"keyAdminArns": {"a": 1}}, r"'keyAdminArns' must be a JSON array of strings or a comma-separated list"),
        (
            {"keyAdminArns": ADMIN_ROLE, "deniedPrincipalArns": ADMIN_ROLE},
            r"'deniedPrincipalArns' must be a principal not also given as 'keyAdminArns' \(an explicit deny overrides",
        ),
        (
            {"readerArns": ADMIN_ROLE, "deniedPrincipalArns": ADMIN_ROLE},
            r"'deniedPrincipalArns' must be a principal not also given as 'readerArns'",
        ),
        (
            {"existingAuthRoleArn": ROLE, "deniedPrincipalArns": ROLE},
            r"'deniedPrincipalArns' must be a principal not also given as 'existingAuthRoleArn' \(Teleport could not",
        ),
        (
            {"existingAuthRoleArn": ROLE, "keyAdminArns": ROLE},
            r"'keyAdminArns' must be a principal not also given as 'existingAuthRoleArn' \(in rfd mode a key admin "
            r"gets kms:\*",
        ),
        (
            {"existingAuthRoleArn": ROLE, "readerArns": ROLE},
            r"'readerArns' must be a principal not also given as 'existingAuthRoleArn' \(the auth role already reads",
        ),
        (
            {"deployRoleArn": ROLE, "deniedPrincipalArns": ROLE},
            r"'deniedPrincipalArns' must be a principal not also given as 'deployRoleArn' \(KMS would refuse the policy",
        ),
        ({"authTrust": "irsa"}, r"'oidcProviderArn' must be set when authTrust is \"irsa\", got nothing"),
        (
            {"authTrust": "irsa", "oidcProviderArn": ROLE},
            r"'oidcProviderArn' must be an IAM OIDC provider ARN.*kind iam:role",
        ),
        ({"oidcProviderArn": OIDC}, r"'oidcProviderArn' must be unset unless authTrust is \"irsa\""),
        (
            {"authTrust": "irsa", "oidcProviderArn": OIDC, "serviceAccount": "Teleport"},
            r"'serviceAccount' must be 'NAMESPACE:SERVICEACCOUNT'",
        ),
        ({"authTrust": "principal"}, r"'authPrincipalArn' must be set when authTrust is \"principal\""),
        (
            {"authTrust": "principal", "authPrincipalArn": "arn:aws:iam::111122223333:group/admins"},
            r"'authPrincipalArn' must be an IAM role, user or account root ARN.*kind iam:group",
        ),
        ({"authPrincipalArn": ROLE}, r"'authPrincipalArn' must be unset unless authTrust is \"principal\""),
        (
            {"existingAuthRoleArn": ROLE, "authTrust": "irsa"},
            r"'authTrust' must be unset when existingAuthRoleArn is set",
        ),
        (
            {"existingAuthRoleArn": ROLE, "serviceAccount": "teleport:teleport"},
            r"'serviceAccount' must be unset when existingAuthRoleArn is set",
        ),
        ({"bucketNmae": "x"}, r"'bucketNmae' must be a known setting \(did you mean 'bucketName'\?\)"),
        ({"keyadminarns": ADMIN_ROLE}, r"'keyadminarns' must be a known setting \(did you mean 'keyAdminArns'\?\)"),
        ({"keyAlias": 7}, r"'keyAlias' must be a string, got 7"),
        ({"bucket_name": "x"}, r"'bucket_name' must be a known setting \(did you mean 'bucketName'\?\)"),
        ({"BucketName": "x"}, r"'BucketName' must be a known setting \(did you mean 'bucketName'\?\)"),
        ({"key-alias": "x"}, r"'key-alias' must be a known setting \(did you mean 'keyAlias'\?\)"),
        (
            {
                "keyAdminArns": ADMIN_ROLE,
                "deniedPrincipalArns": ADMIN_ROLE.replace("KeyAdmins", "KEYADMINS"),
            },
            r"'deniedPrincipalArns' must be a principal not also given as 'keyAdminArns'",
        ),
        (
            {"keyAdminArns": f"{ADMIN_ROLE},{ADMIN_ROLE.replace('KeyAdmins', 'keyadmins')}"},
            r"'keyAdminArns' must be a list without duplicates",
        ),
        ({"region": "eu west 1"}, r"'region' must be an AWS region name like eu-west-1.*got \"eu west 1\""),
        ({"account": "1234"}, r"'account' must be a 12-digit AWS account id, got \"1234\""),
        (
            {"region": "eu-west-1", "keyAdminArns": "arn:aws-cn:iam::111122223333:role/Admin"},
            r"'keyAdminArns' must be an ARN in the stack's partition 'aws', not 'aws-cn'",
        ),
        (
            {"keyAdminArns": ADMIN_ROLE, "deniedPrincipalArns": "arn:aws-us-gov:iam::111122223333:role/Administrator"},
            r"'deniedPrincipalArns' must be an ARN in the same partition as keyAdminArns \('aws'\), not 'aws-us-gov'",
        ),
        (
            {"account": ACCOUNT, "existingAuthRoleArn": "arn:aws:iam::444455556666:role/teleport-auth"},
            rf"'existingAuthRoleArn' must be a role in the stack's account {ACCOUNT}",
        ),
        # issue 19: inputs that got through
        (
            {"region": "eu-wset-1"},
            r"'region' must be an AWS region name like eu-west-1 \(did you mean 'eu-west-1'\?\): not a region of "
            r"botocore [0-9.]+'s endpoint data",
        ),
        ({"region": ""}, r"'region' must be a value, not an empty one .*got \"\"$"),
        ({"account": ""}, r"'account' must be a value, not an empty one"),
        ({"retentionDays": ""}, r"'retentionDays' must be a value, not an empty one"),
        ({"bucketName": " "}, r"'bucketName' must be a value, not an empty one"),
        ({"keyAdminArns": f"{ADMIN_ROLE},"}, r"'keyAdminArns' must be a list without empty items"),
        ({"keyRotationDays": "365.5"}, r"'keyRotationDays' must be a whole number, got \"365.5\""),
        (
            {"account": ACCOUNT, "authTrust": "irsa", "oidcProviderArn": OIDC.replace(ACCOUNT, "444455556666")},
            rf"'oidcProviderArn' must be an IAM OIDC provider of the stack's account {ACCOUNT}",
        ),
        (
            {"existingAuthRoleArn": f"arn:aws:iam::{ACCOUNT}:user/teleport"},
            r"'existingAuthRoleArn' must be an IAM role, not a user: .*leave existingAuthRoleArn out and let the user "
            r"assume the created role \(authTrust \"principal\", authPrincipalArn = the user's ARN\)",
        ),
        ({"authTrust": "IRSA"}, r"'authTrust' must be one of .* \(did you mean 'irsa'\?\), got \"IRSA\""),
        ({"keyAdminMode": "Separated"}, r"\(did you mean 'separated'\?\), got \"Separated\""),
        (
            {"transitionStorageClass": "glacier_ir", "transitionDays": "30"},
            r"'transitionStorageClass' must be one of .*\(did you mean 'GLACIER_IR'\?\)",
        ),
        ({"bucketName": "acme\u200brecordings"}, r'got "acme\\u200brecordings"$'),
    ],
)
def test_invalid_setting_is_named_with_value_and_what_is_allowed(context: dict[str, Any], expected: str) -> None:
    assert re.search(expected, problems_for(context)), problems_for(context)


def test_a_region_newer_than_the_data_is_built_with_a_warning_in_the_synth_output() -> None:
    """`cdk synth` prints the storage's warnings on stderr: a region newer than botocore's data is never silent."""
    settings = AppSettings.from_context({"account": ACCOUNT, "region": "ap-southeast-9", "keyAdminArns": ADMIN_ROLE})
    validate(settings, settings.environment())
    stack = synth_stack(settings, env=cdk.Environment(account=ACCOUNT, region="ap-southeast-9"))
    found = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("endpoint data"))
    assert [w.id for w in found] == ["/Recordings/Storage"]
    assert "kms:ViaService names s3.ap-southeast-9.amazonaws.com" in str(found[0].entry.data)
    key_policy = recordings_key(template_of(stack))["Properties"]["KeyPolicy"]
    assert "s3.ap-southeast-9.amazonaws.com" in json.dumps(key_policy)


def test_a_stack_given_a_region_typo_directly_warns_too() -> None:
    """A library user's `cdk.Environment(region=...)` is no setting, but the key policy is built from it."""
    stack = cdk.Stack(make_app(), "Typo", env=cdk.Environment(account=ACCOUNT, region="eu-wset-1"))
    SessionRecordingsStorage(stack, "Storage", settings=StorageSettings(key_admins=[ADMIN_ROLE]))
    found = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("endpoint data"))
    assert len(found) == 1


def test_the_stack_reports_problems_in_context_names(synth: Any) -> None:
    """Problems only the stack can see (its synthesizer) are worded in the spelling of the settings too."""
    settings = AppSettings.from_context(
        {"deniedPrincipalArns": f"arn:aws:iam::{ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-{ACCOUNT}-eu-west-1"}
    )
    with pytest.raises(InvalidSettingsError, match=r"'deniedPrincipalArns' must be a list without the CloudFormation"):
        synth(settings)


def test_all_problems_are_reported_at_once() -> None:
    message = problems_for(
        {"keyRotationDays": "30", "bucketName": "Bad_Name", "authTrust": "lambda", "recordingsPrefix": "/x", "typo": 1}
    )
    assert message.startswith("5 invalid settings:")
    for setting in ("keyRotationDays", "bucketName", "authTrust", "recordingsPrefix", "typo"):
        assert f"'{setting}'" in message


def test_construct_reports_problems_with_python_names() -> None:
    stack = cdk.Stack(make_app(), "Direct")
    with pytest.raises(InvalidSettingsError) as caught:
        SessionRecordingsStorage(
            stack,
            "Storage",
            settings=StorageSettings(key_rotation_days=10, recordings_prefix="/x", key_alias="alias/aws/x"),
        )
    message = str(caught.value)
    assert "'key_rotation_days' must be a whole number of days from 90 to 2560, got 10" in message
    assert "'recordings_prefix' must be a key prefix without a leading slash" in message
    assert "'key_alias' must be an alias outside the reserved 'alias/aws/' namespace" in message
    assert stack.node.try_find_child("Storage") is None, (
        "nothing is built, or left in the tree, when settings are invalid"
    )


def test_tokens_are_not_judged_at_synth_time() -> None:
    stack = cdk.Stack(make_app(), "Tokens")
    bucket_name = cdk.CfnParameter(stack, "BucketName").value_as_string
    admin = cdk.CfnParameter(stack, "Admin").value_as_string
    storage = SessionRecordingsStorage(
        stack, "Storage", settings=StorageSettings(bucket_name=bucket_name, key_admins=[admin])
    )
    assert cdk.Token.is_unresolved(storage.storage_uri)
