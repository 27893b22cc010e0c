"""The organization guardrails as data: documents within Organizations' limit, and their settings.

Whether the statements deny what they should, and nothing the deploy needs, is proven over every
request in ``tests/access/test_prover_guardrails*.py``; here are the shapes the proof relies on.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from constructs_lib.core import guardrails
from constructs_lib.core.prover.catalog import KMS_ACTIONS
from constructs_lib.core.settings import AppSettings, InvalidSettingsError, validate

ACCOUNT = "111122223333"
MANAGEMENT = "999988887777"
BREAK_GLASS = f"arn:aws:iam::{ACCOUNT}:role/BreakGlass"
DEPLOY = f"arn:aws:iam::{ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-{ACCOUNT}-eu-west-1"

GUARDED: dict[str, Any] = {
    "account": ACCOUNT,
    "region": "eu-west-1",
    "guardrailTargetIds": f"ou-ab12-cdef3456,{ACCOUNT}",
    "managementAccount": MANAGEMENT,
    "organizationId": "o-a1b2c3d4e5",
    "authRoleName": "teleport-auth",
    "breakGlassPrincipalArns": BREAK_GLASS,
    "keyAdminArns": f"arn:aws:iam::{ACCOUNT}:role/KeyAdmins",
}


def design(exempt: tuple[str, ...] = (BREAK_GLASS, DEPLOY), service: str | None = "ec2.amazonaws.com") -> Any:
    return guardrails.GuardedDesign(
        partition="aws",
        account=ACCOUNT,
        auth_role_arn=f"arn:aws:iam::{ACCOUNT}:role/teleport-auth",
        auth_role_service=service,
        key_alias="alias/teleport/session-recordings",
        bucket_name=f"teleport-recordings-{ACCOUNT}-eu-west-1",
        prefix="/records/",
        exempt_principal_arns=exempt,
        organization_id="o-a1b2c3d4e5",
    )


def test_the_documents_are_within_the_organizations_limit_and_say_so() -> None:
    for statements in (guardrails.scp_statements(design()), guardrails.rcp_statements(design())):
        (document,) = guardrails.documents(statements)
        assert guardrails.size(document) <= guardrails.POLICY_SIZE_LIMIT
        assert guardrails.size(document) == len(json.dumps(document, separators=(",", ":")))


def test_many_exempt_principals_split_the_scp_in_order_and_each_part_fits() -> None:
    exempt = tuple(f"arn:aws:iam::{ACCOUNT}:role/break-glass/operator-{n:02d}" for n in range(30))
    statements = guardrails.scp_statements(design(exempt))
    parts = guardrails.documents(statements)
    assert len(parts) > 1
    assert [s for part in parts for s in part["Statement"]] == statements, "every statement, once, in order"
    assert all(guardrails.size(part) <= guardrails.POLICY_SIZE_LIMIT for part in parts)


def test_a_statement_too_large_for_any_document_is_refused() -> None:
    exempt = tuple(f"arn:aws:iam::{ACCOUNT}:role/break-glass/operator-{n:03d}" for n in range(200))
    with pytest.raises(ValueError, match=r"statement ProtectTeleportAuthRole alone has \d+ characters"):
        guardrails.documents(guardrails.scp_statements(design(exempt)))


def test_every_scp_statement_exempts_the_break_glass_and_deploy_roles() -> None:
    for statement in guardrails.scp_statements(design()):
        assert statement["Effect"] == "Deny"
        assert statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == [BREAK_GLASS, DEPLOY], statement["Sid"]


def test_the_auth_role_may_still_be_passed_to_its_own_service_only() -> None:
    statements = {s["Sid"]: s for s in guardrails.scp_statements(design())}
    assert statements[guardrails.SID_PASS_ROLE]["Condition"]["StringNotEquals"] == {
        "iam:PassedToService": "ec2.amazonaws.com"
    }
    unknown = {s["Sid"]: s for s in guardrails.scp_statements(design(service=None))}
    assert "StringNotEquals" not in unknown[guardrails.SID_PASS_ROLE]["Condition"], "no service: never passed"


def test_recording_deletes_are_scoped_to_the_prefix_and_key_changes_to_the_alias() -> None:
    statements = {s["Sid"]: s for s in guardrails.scp_statements(design())}
    assert statements[guardrails.SID_DELETES]["Resource"] == [
        f"arn:aws:s3:::teleport-recordings-{ACCOUNT}-eu-west-1/records/*"
    ]
    aliases = statements[guardrails.SID_KEY]["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"]
    assert aliases == ["alias/teleport/session-recordings"]
    assert set(guardrails.KEY_CHANGES) <= set(KMS_ACTIONS), "KMS action names from the catalogue"


def test_rcp_statements_name_every_principal_and_spare_aws_services_of_this_account() -> None:
    for statement in guardrails.rcp_statements(design()):
        assert statement["Principal"] == "*"
        assert statement["Effect"] == "Deny"
    outside, _, foreign, _ = guardrails.rcp_statements(design())
    assert outside["Condition"]["StringNotEqualsIfExists"] == {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}
    assert outside["Condition"]["BoolIfExists"] == {"aws:PrincipalIsAWSService": "false"}
    assert foreign["Condition"]["StringNotEqualsIfExists"] == {"aws:SourceAccount": ACCOUNT}


# --- settings --------------------------------------------------------------------------------------


def errors(context: dict[str, Any]) -> str:
    settings = AppSettings.from_context(context)
    with pytest.raises(InvalidSettingsError) as caught:
        validate(settings, settings.environment())
    return str(caught.value)


def test_a_complete_guardrails_configuration_is_valid() -> None:
    settings = AppSettings.from_context(GUARDED)
    assert validate(settings, settings.environment()) == []


def test_guardrails_need_every_name_the_management_account_cannot_look_up() -> None:
    message = errors({"guardrailTargetIds": "r-ab12"})
    for name in ("managementAccount", "organizationId", "account", "region", "authRoleName"):
        assert re.search(rf"'{name}' must be set with guardrailTargetIds", message), message


def test_guardrail_settings_without_targets_are_refused() -> None:
    message = errors({"breakGlassPrincipalArns": BREAK_GLASS, "organizationId": "o-a1b2c3d4e5"})
    assert "'breakGlassPrincipalArns' must be unset unless guardrailTargetIds is set" in message
    assert "'organizationId' must be unset unless guardrailTargetIds is set" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"managementAccount": ACCOUNT}, "'managementAccount' must be another account than account"),
        (
            {"authRoleName": None, "existingAuthRoleArn": f"arn:aws:iam::{ACCOUNT}:user/teleport"},
            "'existingAuthRoleArn' must be an IAM role, not a user",
        ),
        ({"guardrailTargetIds": "ou-nope"}, "'guardrailTargetIds' must be an organization root id (r-...)"),
        ({"organizationId": "org-1"}, "'organizationId' must be an AWS Organizations id like o-a1b2c3d4e5"),
        ({"authRoleName": "teleport auth"}, "'authRoleName' must be an IAM role name"),
    ],
)
def test_wrong_guardrail_settings_name_the_setting(change: dict[str, Any], expected: str) -> None:
    context = {k: v for k, v in {**GUARDED, **change}.items() if v is not None}
    assert expected in errors(context)


def test_no_break_glass_principal_warns() -> None:
    context = {k: v for k, v in GUARDED.items() if k != "breakGlassPrincipalArns"}
    settings = AppSettings.from_context(context)
    assert [w.code for w in validate(settings, settings.environment())] == ["teleport-recordings:noBreakGlass"]


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"alarms": "false", "alarmEmails": "sec@example.com"}, "'alarmEmails' must be unset when alarms is false"),
        ({"alarmEmails": "not-an-email"}, "'alarmEmails' must be an email address"),
        (
            {"alarmTopicArn": f"arn:aws:sns:eu-west-1:{ACCOUNT}:sec", "alarmEmails": "sec@example.com"},
            "'alarmEmails' must be unset with alarmTopicArn",
        ),
        (
            {"alarmTopicArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:sec", "region": "eu-west-1"},
            "'alarmTopicArn' must be a topic in the stack's region eu-west-1",
        ),
        ({"alarmTopicArn": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:sec"}, "'alarmTopicArn' must be an SNS topic ARN"),
    ],
)
def test_wrong_alarm_settings_name_the_setting(context: dict[str, Any], expected: str) -> None:
    assert expected in errors(context)


def test_adding_the_auth_role_to_another_instance_profile_is_denied_by_its_passrole() -> None:
    statements = {s["Sid"]: s for s in guardrails.scp_statements(design())}
    profile = statements[guardrails.SID_INSTANCE_PROFILES]
    assert profile["Action"] == ["iam:PassRole"]
    assert profile["Resource"] == [f"arn:aws:iam::{ACCOUNT}:role/teleport-auth"]
    # StringEquals compares the IAM API reference's literal value: a launch's concrete instance ARN differs.
    assert profile["Condition"]["StringEquals"] == {"iam:AssociatedResourceArn": f"arn:aws:ec2:*:{ACCOUNT}:instance/*"}
