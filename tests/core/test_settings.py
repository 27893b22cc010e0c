"""The settings model: every setting declared once, documented, and validated in every spelling.

Pure tests (no CDK): the model is exercised with Python values, CDK context values and CLI options,
and every message must name the setting the way the caller spelled it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.core import arns
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


#: Every public name ``constructs_lib/core/settings.py`` had before it became a package (issue 15), and the
#: private ones other modules import: the package keeps them all.
NAMES_OF_THE_SETTINGS_MODULE = (
    "ABORT_INCOMPLETE_UPLOADS_DEFAULT_DAYS",
    "ABORT_INCOMPLETE_UPLOADS_FLOOR_DAYS",
    "DOCUMENTED_GROUPS",
    "PCI_RETENTION_DAYS",
    "READABLE_STORAGE_CLASSES",
    "AlarmSettings",
    "AppSettings",
    "AuthSettings",
    "AuthTrust",
    "BucketSettings",
    "Declared",
    "Environment",
    "GuardrailSettings",
    "InvalidSettingsError",
    "KeyAdminMode",
    "KeySettings",
    "NameClashError",
    "ObjectLockMode",
    "Problem",
    "RetentionSettings",
    "Rule",
    "SettingsType",
    "Spec",
    "Spelling",
    "StackSettings",
    "StorageSettings",
    "_Settings",
    "account_rule",
    "alias_rule",
    "bucket_name_rule",
    "check",
    "email_rule",
    "is_error",
    "oidc_provider_rule",
    "organization_id_rule",
    "prefix_rule",
    "readme_table",
    "region_rule",
    "render",
    "role_arn_rule",
    "role_name_rule",
    "rule",
    "service_account_rule",
    "setting",
    "sns_topic_rule",
    "specs",
    "storage_class_rule",
    "target_id_rule",
    "validate",
)


def test_the_settings_package_keeps_every_name_of_the_old_module() -> None:
    import constructs_lib.core.settings as package

    assert [name for name in NAMES_OF_THE_SETTINGS_MODULE if not hasattr(package, name)] == []
    assert set(package.__all__) >= set(NAMES_OF_THE_SETTINGS_MODULE)


def test_a_new_group_is_one_module_and_one_base_class() -> None:
    """What the package docstring promises: a group declared alone, added as a base of an aggregate, gets
    its context name, its rule in check() and its README table, with no other change."""
    from dataclasses import dataclass
    from typing import ClassVar

    from constructs_lib.core.kinds import Text
    from constructs_lib.core.problems import Problem
    from constructs_lib.core.settings import Spec, _Settings, region_rule, rule, setting
    from constructs_lib.core.settings.readme import documented_groups

    @dataclass(frozen=True, kw_only=True)
    class ArchiveSettings(_Settings):
        heading: ClassVar[str] = "Archive"

        archive_region: str | None = setting(
            None,
            Spec(
                "archiveRegion", Text("region name", region_rule, optional=True), "Archive recordings in this region."
            ),
        )

    @rule(ArchiveSettings, "archive_region")
    def _another_region(s: ArchiveSettings, env: Environment) -> Any:
        if s.archive_region is not None and s.archive_region == env.region:
            yield Problem("archive_region", s.archive_region, "a region other than the stack's")

    @dataclass(frozen=True, kw_only=True)
    class WithArchive(AppSettings, ArchiveSettings):
        pass

    settings = WithArchive.from_context({"archiveRegion": "eu-west-1", "region": "eu-west-1"})
    assert settings.archive_region == "eu-west-1"
    assert "'archiveRegion' must be a region other than the stack's" in messages(settings, settings.environment())
    assert "'archiveRegion' must be an AWS region name" in messages(WithArchive.from_context({"archiveRegion": "x"}))
    assert documented_groups(WithArchive)[-1] is ArchiveSettings
    assert "#### Archive" in readme_table(WithArchive)
    assert "#### Archive" not in readme_table()
    plain = check(AppSettings(region="eu-west-1"), Environment(region="eu-west-1"))
    assert [p.setting for p in plain if p.setting == "archive_region"] == [], "the rule applies to its group only"


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
        (
            StorageSettings(key_rotation_days=None),
            r"'key_rotation_days' must be a whole number \(an int, or a float with a whole value\), got nothing",
        ),
        (
            StorageSettings(key_rotation_days="365"),
            r"'key_rotation_days' must be a whole number \(an int, or a float with a whole value\), got \"365\"",
        ),
        (
            StorageSettings(key_rotation_days=True),
            r"'key_rotation_days' must be a whole number \(an int, or a float with a whole value\), got True",
        ),
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


# --- issue 19: inputs that got through or got the wrong answer ------------------------------------------

OPTION_DECLARED = [d for d in DECLARED if d.spec.cli]
OTHER_ACCOUNT = "444455556666"
OIDC = "arn:aws:iam::{}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"


def errors_of(settings: Any, env: Environment | None = None) -> list[str]:
    label, spelling = settings.label(), settings.spelling
    return [p.render(label, spelling) for p in check(settings, env) if p.severity is Severity.ERROR]


def warning_codes(settings: Any, env: Environment | None = None) -> list[str]:
    return [p.code for p in check(settings, env) if p.severity is Severity.WARNING]


# Regions: botocore's endpoint data, read offline.


@pytest.mark.parametrize(
    ("settings", "name"),
    [
        (AppSettings(region="eu-wset-1"), "region"),
        (AppSettings.from_context({"region": "eu-wset-1"}), "region"),
        (AppSettings.from_options({"region": "eu-wset-1"}), "--region"),
    ],
    ids=["python", "context", "option"],
)
def test_a_region_typo_is_refused_with_the_region_meant(settings: AppSettings, name: str) -> None:
    """Before: accepted, and the key policy said kms:ViaService = s3.eu-wset-1.amazonaws.com."""
    (line,) = errors_of(settings, settings.environment())
    assert line.startswith(f"'{name}' must be an AWS region name like eu-west-1 (did you mean 'eu-west-1'?)")
    assert "botocore" in line
    assert line.endswith('got "eu-wset-1"')


@pytest.mark.parametrize(
    ("region", "meant"),
    [("EU-WEST-1", "eu-west-1"), ("eu_west_1", "eu-west-1"), ("us-gvo-west-1", "us-gov-west-1"), ("eu-west-01", "")],
)
def test_region_typos_of_every_kind_are_refused(region: str, meant: str) -> None:
    (line,) = errors_of(AppSettings(region=region))
    assert (f"(did you mean '{meant}'?)" in line) == bool(meant), line


def test_every_region_botocore_knows_is_accepted_without_a_warning() -> None:
    """The data is botocore's own: its endpoint resolver's regions are the regions the rule knows."""
    import botocore.session

    session = botocore.session.get_session()
    regions = {r for p in session.get_available_partitions() for r in session.get_available_regions("s3", p)}
    assert {"eu-west-1", "us-gov-west-1", "cn-north-1"} <= regions
    for region in sorted(regions):
        admin = f"arn:{arns.partition_of_region(region)}:iam::{ACCOUNT}:role/KeyAdmins"
        settings = AppSettings(region=region, key_admins=[admin])
        assert errors_of(settings, settings.environment()) == [], region
        assert warning_codes(settings, settings.environment()) == [], region


@pytest.mark.parametrize("region", ["ap-southeast-9", "us-west-3", "us-gov-central-1"])
def test_a_region_newer_than_the_data_is_allowed_with_a_warning(region: str) -> None:
    admin = f"arn:{arns.partition_of_region(region)}:iam::{ACCOUNT}:role/KeyAdmins"
    settings = AppSettings(region=region, key_admins=[admin])
    env = settings.environment()
    assert errors_of(settings, env) == []
    (found,) = [p for p in check(settings, env) if p.severity is Severity.WARNING]
    assert found.code == "teleport-recordings:regionNotInEndpointData"
    text = found.render(settings.label(), settings.spelling)
    assert text.startswith(f"'region' is \"{region}\": not a region of botocore ")
    assert f"kms:ViaService names s3.{region}.amazonaws.com" in text


def test_without_botocores_data_regions_are_judged_by_shape_and_the_warning_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(arns, "region_data", lambda: None)
    settings = AppSettings(region="eu-wset-1", key_admins=[ADMIN])
    assert errors_of(settings, settings.environment()) == []
    (found,) = [p for p in check(settings, settings.environment()) if p.severity is Severity.WARNING]
    assert "not checked (botocore's data was not found)" in found.allowed


def test_judging_a_region_loads_no_aws_sdk() -> None:
    code = (
        "import sys\n"
        "from constructs_lib.core.settings import AppSettings, check\n"
        "assert [p for p in check(AppSettings(region='eu-wset-1')) if p.severity == 'error']\n"
        "assert not check(AppSettings(region='eu-west-1', key_admins=['arn:aws:iam::111122223333:role/A']))\n"
        "assert 'botocore' not in sys.modules and 'boto3' not in sys.modules, 'the core imported an AWS SDK'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_the_policy_command_refuses_a_region_typo_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """`recordings-kms policy --region` is read through the settings model: exit 2, one line."""
    from recordings_kms.cli import main

    argv = ["policy", "--auth", ROLE, "--admin", ADMIN, "--bucket", "acme-recordings", "--region", "eu-wset-1"]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith("recordings-kms: error: '--region' must be an AWS region name like eu-west-1 (did you mean")


def test_the_policy_command_warns_about_a_region_newer_than_the_data(capsys: pytest.CaptureFixture[str]) -> None:
    from recordings_kms.cli import main

    argv = ["policy", "--auth", ROLE, "--admin", ADMIN, "--bucket", "acme-recordings", "--region", "ap-southeast-9"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "s3.ap-southeast-9.amazonaws.com" in captured.out
    (line,) = captured.err.splitlines()
    assert line.startswith("recordings-kms: warning: '--region' is \"ap-southeast-9\": not a region of botocore ")


# Empty values: one rule, every setting, every spelling.


@pytest.mark.parametrize("declared", DECLARED, ids=lambda d: d.name)
@pytest.mark.parametrize("empty", ["", "  "], ids=["empty", "blank"])
def test_an_empty_context_value_is_an_error_naming_the_setting(declared: Any, empty: str) -> None:
    """Before: `-c account=` and `-c region=` gave an agnostic template, `retentionDays=` meant forever,
    `bucketName=` the default name, while `alarms=` or `authTrust=` were errors."""
    settings = AppSettings.from_context({declared.context: empty})
    (line,) = errors_of(settings)
    assert line == (
        f"'{declared.context}' must be a value, not an empty one (an empty value is often an unset shell variable: "
        f"leave the setting out for its default), got {json.dumps(empty)}"
    )


@pytest.mark.parametrize("declared", OPTION_DECLARED, ids=lambda d: d.name)
def test_an_empty_option_value_is_an_error_naming_the_option(declared: Any) -> None:
    raw: Any = [""] if isinstance(declared.spec.kind, PrincipalList) else ""
    settings = AppSettings.from_options({declared.name: raw})
    lines = errors_of(settings)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"'{declared.spec.cli}' must be a ")
    assert "unset shell variable" in lines[0]


@pytest.mark.parametrize("declared", DECLARED, ids=lambda d: d.name)
def test_an_empty_python_value_is_an_error_naming_the_keyword(declared: Any) -> None:
    (line,) = errors_of(AppSettings(**{declared.name: ""}))
    assert line.startswith(f"'{declared.name}' must be a value, not an empty one")


def test_an_empty_account_does_not_fall_back_to_the_cli_environment() -> None:
    """`-c account=$ACCOUNT` with ACCOUNT unset: neither agnostic nor the credentials' account, an error."""
    settings = AppSettings.from_context({"account": ""}, environ={"CDK_DEFAULT_ACCOUNT": ACCOUNT})
    assert settings.account is None
    assert errors_of(settings) == [
        "'account' must be a value, not an empty one (an empty value is often an unset shell variable: leave the "
        'setting out for its default), got ""'
    ]


@pytest.mark.parametrize(
    "settings",
    [
        AppSettings.from_context({"keyAdminArns": f"{ADMIN},"}),
        AppSettings.from_context({"keyAdminArns": f"{ADMIN},,{ROLE.replace('teleport-auth', 'other')}"}),
        AppSettings.from_context({"alarmEmails": ["security@example.com", " "]}),
        AppSettings.from_options({"key_admins": [ADMIN, ""]}),
        AppSettings(key_admins=[ADMIN, ""]),
        AppSettings(guardrail_target_ids=["r-abcd", ""]),
    ],
    ids=["trailing-comma", "double-comma", "json-item", "option-item", "python-item", "python-text-item"],
)
def test_an_empty_list_item_is_an_error_not_dropped(settings: AppSettings) -> None:
    """Before: `-c keyAdminArns=$A,$B` with B unset silently named one administrator."""
    lines = errors_of(settings)
    assert len(lines) == 1, lines
    assert "must be a list without empty items (an empty item is often an unset shell variable)" in lines[0]


@pytest.mark.parametrize("raw", [[], "[]"])
def test_an_explicit_empty_list_is_none(raw: Any) -> None:
    assert AppSettings.from_context({"readerArns": raw}).readers == ()
    assert errors_of(AppSettings.from_context({"readerArns": raw})) == []


# Numbers: a whole value, however written, in every spelling.


@pytest.mark.parametrize(
    "settings",
    [
        AppSettings.from_context({"keyRotationDays": 365.0}),
        AppSettings.from_context({"keyRotationDays": "365.0"}),
        AppSettings.from_context({"keyRotationDays": "3.65e2"}),
        AppSettings.from_context({"keyRotationDays": " 365 "}),
        AppSettings(key_rotation_days=365.0),
    ],
    ids=["cdk-json-float", "context-text", "context-exponent", "context-spaces", "python-float"],
)
def test_a_whole_number_is_accepted_however_it_is_written(settings: AppSettings) -> None:
    """Before: `keyRotationDays: 365.0` in cdk.json passed (the CDK CLI hands JavaScript numbers on, 365.0 is 365),
    `-c keyRotationDays=365.0` and Python `365.0` were refused."""
    assert errors_of(settings) == []
    assert settings.key_rotation_days == 365
    assert type(settings.key_rotation_days) is int


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (AppSettings.from_context({"keyRotationDays": 365.5}), "'keyRotationDays' must be a whole number, got 365.5"),
        (AppSettings.from_context({"keyRotationDays": "365.5"}), "'keyRotationDays' must be a whole number, got"),
        (
            AppSettings.from_context({"keyRotationDays": "1e999999"}),
            "'keyRotationDays' must be a whole number of days from 90",
        ),
        (AppSettings.from_context({"keyRotationDays": True}), "'keyRotationDays' must be a whole number, got true"),
        (AppSettings(key_rotation_days=365.5), "'key_rotation_days' must be a whole number (an int, or a float"),
        (AppSettings(key_rotation_days=float("inf")), "'key_rotation_days' must be a whole number (an int, or a"),
        (AppSettings(key_rotation_days=30.0), "'key_rotation_days' must be a whole number of days from 90 to 2560"),
    ],
)
def test_a_fraction_is_refused_in_every_spelling(settings: AppSettings, expected: str) -> None:
    (line,) = errors_of(settings)
    assert line.startswith(expected), line


# IRSA: the OIDC provider lives in the role's account.


def test_an_oidc_provider_of_another_account_than_the_role_is_refused() -> None:
    """IAM looks the provider of a web-identity trust up in the role's own account (EKS User Guide,
    "Authenticate to another account with IRSA": the other account creates a provider for the cluster's
    issuer, https://docs.aws.amazon.com/eks/latest/userguide/cross-account-access.html)."""
    settings = StorageSettings(auth_trust="irsa", oidc_provider_arn=OIDC.format(OTHER_ACCOUNT), key_admins=[ADMIN])
    (line,) = errors_of(settings, Environment(account=ACCOUNT))
    assert line.startswith(
        f"'oidc_provider_arn' must be an IAM OIDC provider of the stack's account {ACCOUNT}, where the auth role is "
        f"created (IAM looks a web-identity trust's provider up in the role's own account, so a provider of account "
        f"{OTHER_ACCOUNT} never matches)"
    )
    same = StorageSettings(auth_trust="irsa", oidc_provider_arn=OIDC.format(ACCOUNT), key_admins=[ADMIN])
    assert errors_of(same, Environment(account=ACCOUNT)) == []
    assert errors_of(settings, Environment()) == [], "an account-agnostic stack cannot tell"


# An IAM user as the auth principal: refused for what the package builds.


def test_an_iam_user_as_the_existing_auth_role_is_refused_with_what_to_use() -> None:
    user = f"arn:aws:iam::{ACCOUNT}:user/teleport"
    (line,) = errors_of(AppSettings.from_context({"existingAuthRoleArn": user, "keyAdminArns": ADMIN}))
    assert line == (
        "'existingAuthRoleArn' must be an IAM role, not a user: Teleport should run as a role (instance profile, "
        "IRSA, Pod Identity) rather than with a user's long-lived access keys, the compliance packs refuse policies "
        "attached to a user (IAMUserNoPolicies) and the guardrails protect a role only; to keep the user, leave "
        'existingAuthRoleArn out and let the user assume the created role (authTrust "principal", '
        f'authPrincipalArn = the user\'s ARN), got "{user}"'
    )
    assert errors_of(AppSettings(auth_trust="principal", auth_principal=user, key_admins=[ADMIN])) == []


def test_recordings_kms_still_judges_a_deployment_whose_auth_principal_is_a_user() -> None:
    """RFD 42's own key policy names a user; `policy` and `verify` print and judge such deployments."""
    assert errors_of(AppSettings.from_options({"auth_role": f"arn:aws:iam::{ACCOUNT}:user/teleport"})) == []


# Enumerations: exact values, and the near miss told what was meant.


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            StorageSettings(auth_trust="IRSA"),
            '\'auth_trust\' must be one of "ec2", "irsa", "pod-identity", "principal" (did you mean \'irsa\'?)',
        ),
        (AppSettings.from_context({"authTrust": "IRSA"}), "(did you mean 'irsa'?), got \"IRSA\""),
        (AppSettings.from_context({"authTrust": "pod_identity"}), "(did you mean 'pod-identity'?)"),
        (AppSettings.from_context({"keyAdminMode": "Separated"}), "(did you mean 'separated'?), got \"Separated\""),
        (AppSettings.from_context({"objectLockMode": "Governance"}), "(did you mean 'governance'?)"),
        (
            AppSettings.from_options({"key_admin_mode": "SEPARATED"}),
            '\'--admin-mode\' must be one of "rfd", "separated" (did you mean',
        ),
        (
            AppSettings.from_context({"transitionStorageClass": "glacier_ir", "transitionDays": "30"}),
            "(did you mean 'GLACIER_IR'?) (classes Teleport reads at once), got \"glacier_ir\"",
        ),
        (
            StorageSettings(transition_storage_class="standard-ia", transition_days=30),
            "(did you mean 'STANDARD_IA'?)",
        ),
    ],
)
def test_an_enumeration_value_in_another_case_is_told_what_was_meant(settings: Any, expected: str) -> None:
    lines = errors_of(settings)
    assert len(lines) == 1, lines
    assert expected in lines[0], lines[0]
    assert "did you mean" in lines[0]


def test_a_value_unlike_any_choice_gets_no_guess() -> None:
    (line,) = errors_of(AppSettings.from_context({"authTrust": "lambda"}))
    assert "did you mean" not in line


# Messages: invisible characters escaped, long values cut, one suggestion instead of 35 names.


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("acme\u200brecordings", '"acme\\u200brecordings"'),
        ("acme\u00a0recordings", '"acme\\u00a0recordings"'),
        ("acme\x07recordings", '"acme\\u0007recordings"'),
        ("acme\u202erecordings", '"acme\\u202erecordings"'),
        ("acme-r\u0435cordings", '"acme-r\\u0435cordings"'),
    ],
    ids=["zero-width-space", "no-break-space", "bell", "right-to-left-override", "cyrillic-e"],
)
def test_invisible_and_look_alike_characters_are_shown_escaped(raw: str, shown: str) -> None:
    """Before: echoed as is, so the message showed a name that looked valid."""
    (line,) = errors_of(AppSettings.from_context({"bucketName": raw}))
    assert line.endswith(f"got {shown}")
    assert line.isascii()


def test_a_very_long_value_is_cut_in_the_message() -> None:
    (line,) = errors_of(AppSettings.from_context({"recordingsPrefix": "r" * 10_000}))
    assert len(line) < 600
    assert line.endswith('..." (10000 characters)')


def test_a_typo_with_a_suggestion_does_not_also_list_every_setting() -> None:
    (line,) = errors_of(AppSettings.from_context({"bucketNme": "x"}))
    assert line == "'bucketNme' must be a known setting (did you mean 'bucketName'?), got \"x\""
    (unguessed,) = errors_of(AppSettings.from_context({"zzzzzzzz": "x"}))
    assert "recordingsPrefix" in unguessed, "with nothing close, the known names are listed"


def test_a_setting_name_with_an_invisible_character_is_not_ignored() -> None:
    (line,) = errors_of(AppSettings.from_context({"bucket\u200bName": "acme-recordings"}))
    assert line == "'bucket\\u200bName' must be a known setting (did you mean 'bucketName'?), got \"acme-recordings\""
