"""The settings model: every setting declared once, documented, and validated in every spelling.

Pure tests (no CDK): the model is exercised with Python values, CDK context values and CLI options,
and every message must name the setting the way the caller spelled it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.core.kinds import PrincipalList
from constructs_lib.core.problems import Severity, Spelling
from constructs_lib.core.settings import (
    AppSettings,
    AuthTrust,
    Environment,
    InvalidSettingsError,
    KeyAdminMode,
    StorageSettings,
    check,
    readme_table,
    specs,
    validate,
)

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/teleport-auth"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/KeyAdmins"
DECLARED = specs(AppSettings)


def messages(settings: Any, env: Environment | None = None) -> str:
    with pytest.raises(InvalidSettingsError) as caught:
        validate(settings, env)
    return str(caught.value)


class _Opaque:
    """A Python object of no kind the model knows."""


# --- every setting: declared once, documented, validated -------------------------------------------


def test_every_setting_is_declared_once_with_unique_names() -> None:
    for attribute in ("name", "context"):
        names = [getattr(d, attribute) for d in DECLARED]
        assert len(names) == len(set(names)), attribute
    options = [d.spec.cli for d in DECLARED if d.spec.cli]
    assert len(options) == len(set(options))


@pytest.mark.parametrize("declared", DECLARED, ids=lambda d: d.name)
def test_every_setting_is_documented(declared: Any) -> None:
    spec = declared.spec
    assert re.fullmatch(r"[a-z][A-Za-z0-9]+", spec.context)
    assert spec.doc.endswith(".")
    assert len(spec.doc) > 20
    assert spec.kind.doc
    assert spec.kind.python_type
    assert spec.cli is None or re.fullmatch(r"--[a-z][a-z-]+", spec.cli)
    assert f"| `{spec.context}` | `{declared.name}`" in readme_table()


@pytest.mark.parametrize("declared", DECLARED, ids=lambda d: d.name)
def test_every_setting_refuses_a_wrong_python_type_by_its_keyword(declared: Any) -> None:
    settings = AppSettings(**{declared.name: _Opaque()})
    message = messages(settings)
    assert f"'{declared.name}' must be {declared.spec.kind.python_type}, got an object of type _Opaque" in message


@pytest.mark.parametrize("declared", DECLARED, ids=lambda d: d.name)
def test_every_setting_refuses_an_unparseable_context_value_by_its_context_name(declared: Any) -> None:
    settings = AppSettings.from_context({declared.context: {"not": "a setting value"}})
    assert settings.spelling is Spelling.CONTEXT
    message = messages(settings)
    assert f"'{declared.context}' must be " in message
    assert declared.name not in message.replace(declared.context, "") or declared.name == declared.context


@pytest.mark.parametrize("declared", [d for d in DECLARED if d.spec.cli], ids=lambda d: d.name)
def test_every_option_is_judged_by_the_model_under_its_option_name(declared: Any) -> None:
    raw: Any = ["not-an-arn"] if isinstance(declared.spec.kind, PrincipalList) else "not a valid value!"
    settings = AppSettings.from_options({declared.name: raw})
    found = [p for p in check(settings) if p.severity is Severity.ERROR]
    if declared.name == "require_encryption_headers":
        assert settings.require_encryption_headers is False or found
        return
    assert found, declared.name
    assert any(
        p.render(settings.label(), settings.spelling).startswith(f"'{declared.spec.cli}' must be ") for p in found
    )


def test_readme_settings_tables_are_generated_from_the_model() -> None:
    readme = (REPO / "README.md").read_text()
    start, end = "<!-- settings-table:start -->\n", "<!-- settings-table:end -->"
    assert start in readme, "README.md lost its settings-table start marker"
    assert end in readme, "README.md lost its settings-table end marker"
    block = readme.split(start, 1)[1].split(end, 1)[0]
    assert block.strip() == readme_table().strip(), "README settings tables are stale: run `make docs`"


# --- the defaults ----------------------------------------------------------------------------------


def test_defaults_are_valid_and_warn_only_about_the_missing_break_glass_admin() -> None:
    warnings = validate(StorageSettings())
    assert [w.code for w in warnings] == ["teleport-recordings:noKeyAdmin"]
    assert validate(StorageSettings(key_admins=[ADMIN])) == []


def test_context_defaults_equal_python_defaults() -> None:
    assert AppSettings.from_context({}) == AppSettings()


def test_account_and_region_default_to_the_cdk_cli_environment_and_say_so() -> None:
    settings = AppSettings.from_context({}, environ={"CDK_DEFAULT_ACCOUNT": ACCOUNT, "CDK_DEFAULT_REGION": "eu-west-1"})
    assert (settings.account, settings.region) == (ACCOUNT, "eu-west-1")
    assert settings.sources == {"account": "CDK_DEFAULT_ACCOUNT", "region": "CDK_DEFAULT_REGION"}
    chosen = AppSettings.from_context({"region": "eu-central-1"}, environ={"CDK_DEFAULT_REGION": "eu-west-1"})
    assert chosen.region == "eu-central-1"
    assert chosen.sources["region"] == "context (cdk.json or -c)"


# --- the validation holes of the review --------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (StorageSettings(recordings_prefix="records\n"), r"'recordings_prefix' must be .*got \"records\\n\""),
        (
            StorageSettings(key_admins=[f"{ADMIN}\n"]),
            r"'key_admins' must be .*got \"arn:aws:iam::111122223333:role/KeyAdmins\\n\"",
        ),
        (StorageSettings(bucket_name="recordings\n"), r"'bucket_name' must be a valid S3 bucket name"),
        (StorageSettings(key_alias="alias/teleport\n"), r"'key_alias' must be 'alias/' followed by"),
        (StorageSettings(key_admins=[f"arn:aws:iam::{ACCOUNT}:role/Admin\u00e9"]), r"IAM names and paths are ASCII"),
        (StorageSettings(key_admins=[f"arn:aws:iam::{ACCOUNT}:role/{'a' * 65}"]), r"the name has 65 characters"),
        (StorageSettings(service_account="teleport:teleport\n", auth_trust="irsa"), r"'service_account' must be"),
    ],
)
def test_trailing_newlines_unicode_and_long_names_are_refused(settings: StorageSettings, expected: str) -> None:
    assert re.search(expected, messages(settings)), messages(settings)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            StorageSettings(key_admins=None),
            r"'key_admins' must be a list \(or tuple\) of IAM role/user ARNs.*got nothing",
        ),
        (StorageSettings(key_admins=ADMIN), r"'key_admins' must be a list .*a single ARN still goes in a list, got \""),
        (StorageSettings(key_rotation_days=None), r"'key_rotation_days' must be a whole number \(int\), got nothing"),
        (StorageSettings(key_rotation_days="365"), r"'key_rotation_days' must be a whole number \(int\), got \"365\""),
        (StorageSettings(key_rotation_days=True), r"'key_rotation_days' must be a whole number \(int\), got True"),
        (StorageSettings(scope_key_to_s3="false"), r"'scope_key_to_s3' must be True or False, got \"false\""),
        (StorageSettings(recordings_prefix=123), r"'recordings_prefix' must be a string, got 123"),
        (StorageSettings(auth_trust=None), r"'auth_trust' must be one of \"ec2\", .*got nothing"),
        (
            StorageSettings(key_admin_mode="strict"),
            r"'key_admin_mode' must be one of \"rfd\", \"separated\", got \"strict\"",
        ),
        (StorageSettings(readers=[_Opaque()]), r"'readers' must be a list .*got \[an object of type _Opaque\]"),
        (StorageSettings(access_logs_bucket=7), r"'access_logs_bucket' must be a bucket name or an s3.IBucket, got 7"),
    ],
)
def test_wrong_python_types_are_settings_errors_not_crashes(settings: StorageSettings, expected: str) -> None:
    message = messages(settings)
    assert re.search(expected, message), message


def test_a_bare_string_for_a_list_is_one_error_not_one_per_character() -> None:
    message = messages(StorageSettings(denied_principals=ADMIN))
    assert message.startswith("1 invalid setting:")


def test_messages_never_show_python_reprs() -> None:
    message = messages(
        StorageSettings(
            auth_role=ROLE,
            auth_trust=AuthTrust.IRSA,
            key_admin_mode=KeyAdminMode.RFD,
            auth_principal=None,
            oidc_provider_arn=None,
            key_rotation_days=None,
        )
    )
    assert "<AuthTrust" not in message
    assert "None" not in message
    assert (
        "'auth_trust' must be unset when auth_role is set (the existing role's trust is not managed here), got \"irsa\""
        in message
    )


def test_arns_of_another_partition_than_the_stacks_are_refused() -> None:
    env = Environment(partition="aws", region="eu-west-1", account=ACCOUNT)
    message = messages(StorageSettings(key_admins=["arn:aws-cn:iam::111122223333:role/Admin"]), env)
    assert "'key_admins' must be an ARN in the stack's partition 'aws', not 'aws-cn'" in message


def test_the_auth_role_cannot_be_a_key_admin() -> None:
    for mode in KeyAdminMode:
        message = messages(StorageSettings(auth_role=ROLE, key_admins=[ROLE], key_admin_mode=mode))
        assert "'key_admins' must be a principal not also given as 'auth_role'" in message


@pytest.mark.parametrize(
    ("principal", "code"),
    [
        (f"arn:aws:iam::{ACCOUNT}:root", "teleport-recordings:authTrustsAccount"),
        ("arn:aws:iam::444455556666:root", "teleport-recordings:authTrustsAccount"),
        ("arn:aws:iam::444455556666:role/ops", "teleport-recordings:authTrustsForeignPrincipal"),
    ],
)
def test_trusting_an_account_or_a_foreign_principal_warns(principal: str, code: str) -> None:
    env = Environment(account=ACCOUNT)
    warnings = validate(StorageSettings(auth_trust="principal", auth_principal=principal, key_admins=[ADMIN]), env)
    assert [w.code for w in warnings] == [code]
    assert "can read every recording" in warnings[0].render()


def test_trusting_a_principal_of_this_account_does_not_warn() -> None:
    env = Environment(account=ACCOUNT)
    assert validate(StorageSettings(auth_trust="principal", auth_principal=ROLE, key_admins=[ADMIN]), env) == []


def test_an_identity_center_role_without_its_path_warns() -> None:
    bare = f"arn:aws:iam::{ACCOUNT}:role/AWSReservedSSO_AdministratorAccess_0123456789abcdef"
    warnings = validate(StorageSettings(denied_principals=[bare], key_admins=[ADMIN]))
    assert [w.code for w in warnings] == ["teleport-recordings:ssoRoleWithoutPath"]
    assert "/aws-reserved/sso.amazonaws.com/" in warnings[0].render()
    with_path = f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123"
    assert validate(StorageSettings(denied_principals=[with_path], key_admins=[ADMIN])) == []


def test_problems_of_malformed_settings_do_not_cascade() -> None:
    """A rule that reads a malformed setting is skipped: one problem per mistake, not several."""
    message = messages(StorageSettings(key_admins="oops", denied_principals=[ADMIN]))
    assert message.startswith("1 invalid setting:")


def test_validation_is_remembered_for_the_same_settings_object() -> None:
    settings = StorageSettings()
    assert validate(settings, remember=True) != []
    assert validate(settings, remember=True) == [], "a second validation of the same object is skipped"
    assert validate(settings.replaced(key_rotation_days=400), remember=True) != []


def test_replaced_keeps_the_spelling_of_the_caller() -> None:
    settings = AppSettings.from_context({"keyRotationDays": "400"})
    copy = settings.replaced(key_rotation_days=10)
    assert "'keyRotationDays' must be a whole number of days" in messages(copy)
