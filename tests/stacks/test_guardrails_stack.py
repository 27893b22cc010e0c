"""The guardrails stack names exactly what the recordings stack creates, from the settings alone.

The management account cannot read the recordings stack's outputs, so a name that differs between the
two stacks would be a guardrail that protects nothing: these tests synthesize both, as app.py does,
and compare the names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from app import build
from constructs_lib.core import guardrails
from constructs_lib.core.settings import AppSettings, InvalidSettingsError
from constructs_lib.proofs import RECORD_FILE, enable_access_proofs
from stacks.guardrails_stack import GuardrailsStack, guarded_design
from stacks.recordings_stack import SessionRecordingsStack
from tests.conftest import ACCOUNT, REGION, cdk_json_context, make_app, only_resource, resources_of_type, template_of

MANAGEMENT = "999988887777"
BREAK_GLASS = f"arn:aws:iam::{ACCOUNT}:role/BreakGlass"
CONTEXT: dict[str, Any] = {
    "account": ACCOUNT,
    "region": REGION,
    "guardrailTargetIds": f"ou-ab12-cdef3456,{ACCOUNT}",
    "managementAccount": MANAGEMENT,
    "organizationId": "o-a1b2c3d4e5",
    "authRoleName": "teleport-auth",
    "breakGlassPrincipalArns": BREAK_GLASS,
    "keyAdminArns": f"arn:aws:iam::{ACCOUNT}:role/KeyAdmins",
}


def built(context: dict[str, Any], app_context: dict[str, Any] | None = None) -> dict[str, cdk.Stack]:
    stacks = build(make_app(app_context), AppSettings.from_context(context))
    return {type(stack).__name__: stack for stack in stacks}


@pytest.fixture(scope="module")
def organization() -> dict[str, cdk.Stack]:
    return built(CONTEXT)


def policies(stack: cdk.Stack) -> dict[str, dict[str, Any]]:
    return {
        p["Properties"]["Name"]: p["Properties"]
        for p in resources_of_type(template_of(stack), "AWS::Organizations::Policy").values()
    }


def test_the_guardrails_deploy_to_the_management_account_protected(organization: dict[str, cdk.Stack]) -> None:
    stack = organization["GuardrailsStack"]
    assert (stack.account, stack.region) == (MANAGEMENT, REGION)
    assert stack.termination_protection is True


def test_an_scp_and_an_rcp_are_attached_to_every_target(organization: dict[str, cdk.Stack]) -> None:
    found = policies(organization["GuardrailsStack"])
    assert {name: p["Type"] for name, p in found.items()} == {
        "teleport-recordings-protectrecordings": "SERVICE_CONTROL_POLICY",
        "teleport-recordings-recordingsperimeter": "RESOURCE_CONTROL_POLICY",
    }
    for policy in found.values():
        assert policy["TargetIds"] == ["ou-ab12-cdef3456", ACCOUNT]
        assert guardrails.size(policy["Content"]) <= guardrails.POLICY_SIZE_LIMIT
    design = guarded_design(AppSettings.from_context(CONTEXT), cdk.DefaultStackSynthesizer.DEFAULT_QUALIFIER)
    scp = found["teleport-recordings-protectrecordings"]["Content"]
    assert scp["Statement"] == guardrails.scp_statements(design)


def test_the_names_are_the_recordings_stacks_names(organization: dict[str, cdk.Stack]) -> None:
    recordings = template_of(organization["SessionRecordingsStack"])
    design = organization["GuardrailsStack"].design  # type: ignore[attr-defined]
    bucket = next(
        b["Properties"]["BucketName"]
        for k, b in resources_of_type(recordings, "AWS::S3::Bucket").items()
        if "AccessLogs" not in k
    )
    assert design.bucket_name == bucket
    assert design.key_alias == only_resource(recordings, "AWS::KMS::Alias")["Properties"]["AliasName"]
    role = only_resource(recordings, "AWS::IAM::Role")["Properties"]
    assert design.auth_role_arn == f"arn:aws:iam::{ACCOUNT}:role{role.get('Path', '/')}{role['RoleName']}"
    assert design.auth_role_service == "ec2.amazonaws.com"
    assert json.dumps(role["AssumeRolePolicyDocument"]).count("ec2.amazonaws.com") == 1
    assert design.prefix == "records"


def test_the_exempt_deploy_role_is_the_one_the_recordings_stack_deploys_with(
    organization: dict[str, cdk.Stack],
) -> None:
    recordings = organization["SessionRecordingsStack"]
    manifest_role = (
        cdk.DefaultStackSynthesizer.DEFAULT_CLOUDFORMATION_ROLE_ARN.replace("${Qualifier}", "hnb659fds")
        .replace("${AWS::Partition}", "aws")
        .replace("${AWS::AccountId}", recordings.account)
        .replace("${AWS::Region}", recordings.region)
    )
    design = organization["GuardrailsStack"].design  # type: ignore[attr-defined]
    assert design.exempt_principal_arns == (BREAK_GLASS, manifest_role)


def test_a_custom_bootstrap_qualifier_is_followed() -> None:
    stacks = built(CONTEXT, {"@aws-cdk/core:bootstrapQualifier": "teleprt01"})
    design = stacks["GuardrailsStack"].design  # type: ignore[attr-defined]
    assert design.exempt_principal_arns[-1] == (
        f"arn:aws:iam::{ACCOUNT}:role/cdk-teleprt01-cfn-exec-role-{ACCOUNT}-{REGION}"
    )


def test_an_existing_role_and_deploy_role_and_names_are_used_as_given() -> None:
    existing = f"arn:aws:iam::{ACCOUNT}:role/teleport/auth"
    context = {k: v for k, v in CONTEXT.items() if k != "authRoleName"}
    context |= {
        "existingAuthRoleArn": existing,
        "deployRoleArn": f"arn:aws:iam::{ACCOUNT}:role/cfn-deployer",
        "bucketName": "acme-teleport-recordings",
        "keyAlias": "alias/acme/recordings",
        "recordingsPrefix": "clusters/prod/",
    }
    design = guarded_design(AppSettings.from_context(context), "hnb659fds")
    assert design.auth_role_arn == existing
    assert design.exempt_principal_arns == (BREAK_GLASS, f"arn:aws:iam::{ACCOUNT}:role/cfn-deployer")
    assert (design.bucket_name, design.key_alias) == ("acme-teleport-recordings", "alias/acme/recordings")
    deletes = next(s for s in guardrails.scp_statements(design) if s["Sid"] == guardrails.SID_DELETES)
    assert deletes["Resource"] == ["arn:aws:s3:::acme-teleport-recordings/clusters/prod/*"]


def test_many_break_glass_principals_split_the_scp_into_numbered_policies() -> None:
    many = ",".join(f"arn:aws:iam::{ACCOUNT}:role/break-glass/operator-{n:02d}" for n in range(30))
    stack = GuardrailsStack(
        make_app(), "Guardrails", settings=AppSettings.from_context(CONTEXT | {"breakGlassPrincipalArns": many})
    )
    names = sorted(policies(stack))
    assert names[0] == "teleport-recordings-protectrecordings1"
    assert "teleport-recordings-protectrecordings2" in names
    assert all(guardrails.size(p["Content"]) <= guardrails.POLICY_SIZE_LIMIT for p in policies(stack).values())
    outputs = template_of(stack)["Outputs"]
    assert {"ProtectRecordings1Id", "ProtectRecordings2Id", "RecordingsPerimeterId"} <= set(outputs)


def test_too_many_break_glass_principals_name_the_setting() -> None:
    many = ",".join(f"arn:aws:iam::{ACCOUNT}:role/break-glass/operator-{n:03d}" for n in range(200))
    settings = AppSettings.from_context(CONTEXT | {"breakGlassPrincipalArns": many})
    with pytest.raises(InvalidSettingsError, match=r"'breakGlassPrincipalArns' must be .*5120-character limit"):
        GuardrailsStack(make_app(), "Guardrails", settings=settings)


def test_the_iam_events_stack_is_a_dependency_of_the_recordings_stack(organization: dict[str, cdk.Stack]) -> None:
    recordings = organization["SessionRecordingsStack"]
    assert isinstance(recordings, SessionRecordingsStack)
    forwarder = organization["IamEventsStack"]
    assert forwarder.region == "us-east-1"
    assert forwarder.account == ACCOUNT
    assert forwarder in recordings.dependencies


def test_no_forwarder_in_us_east_1_or_without_alarms() -> None:
    assert "IamEventsStack" not in built(CONTEXT | {"region": "us-east-1"})
    assert "IamEventsStack" not in built({"account": ACCOUNT, "region": REGION, "alarms": "false"})


# --- G1-G4 at synthesis -----------------------------------------------------------------------------


def synthesize_organization(tmp_path: Path, context: dict[str, Any] = CONTEXT) -> dict[str, Any]:
    """The organization app with the access proofs on: the proof record, and the error if synthesis failed."""
    app = cdk.App(context=cdk_json_context(), outdir=str(tmp_path))
    enable_access_proofs(app)
    build(app, AppSettings.from_context(context))
    error = ""
    try:
        app.synth()
    except RuntimeError as failure:
        error = str(failure)
    record: dict[str, Any] = json.loads((tmp_path / RECORD_FILE).read_text())
    return {"error": error, "guardrails": [s for s in record["storages"] if "guardrails" in s]}


def test_the_synthesized_guardrails_are_proven_g1_to_g4(tmp_path: Path) -> None:
    outcome = synthesize_organization(tmp_path)
    assert outcome["error"] == ""
    (proof,) = outcome["guardrails"]
    assert proof["template"] == "TeleportSessionRecordingsGuardrails.template.json"
    assert {r["id"]: r["verdict"] for r in proof["results"]} == {f"G{n}": "PASS" for n in range(1, 5)}


def test_a_guardrail_without_its_deletes_statement_fails_synthesis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    complete = guardrails.scp_statements
    monkeypatch.setattr(
        guardrails,
        "scp_statements",
        lambda design: [s for s in complete(design) if s["Sid"] != guardrails.SID_DELETES],
    )
    outcome = synthesize_organization(tmp_path)
    assert "ValidationFailed" in outcome["error"]
    (proof,) = outcome["guardrails"]
    g1 = next(r for r in proof["results"] if r["id"] == "G1")
    assert g1["verdict"] == "FAIL"
    assert (
        "s3:DeleteObject" in g1["counterexample"]
        or "s3:DeleteObjectVersion" in g1["counterexample"]
        or ("s3:BypassGovernanceRetention" in g1["counterexample"])
    )


def test_guardrails_for_a_bucket_this_app_does_not_create_cannot_be_proven(tmp_path: Path) -> None:
    app = cdk.App(context=cdk_json_context(), outdir=str(tmp_path))
    enable_access_proofs(app)
    GuardrailsStack(app, "Guardrails", settings=AppSettings.from_context(CONTEXT | {"bucketName": "elsewhere"}))
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    record = json.loads((tmp_path / RECORD_FILE).read_text())
    (proof,) = record["storages"]
    assert "no storage of this app has account 111122223333 and bucket elsewhere" in proof["error"]
