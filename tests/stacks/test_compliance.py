"""Every synthesis is a compliance check: four cdk-nag packs, cfn-lint, and the gate must bite."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from constructs_lib import SessionRecordingsStorage, compliance
from constructs_lib.core.settings import StorageSettings
from stacks.guardrails_stack import GUARDRAILS_STACK_NAME
from stacks.iam_events_stack import IAM_EVENTS_STACK_NAME
from stacks.recordings_stack import DEFAULT_STACK_NAME
from tests.conftest import ACCOUNT, FULL_CONTEXT, TEST_ENV, cdk_json_context

PACKS = ("AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
LINT_REGIONS = ["us-east-1", "eu-west-1"]

CONFIGS: dict[str, tuple[dict[str, Any], cdk.Environment | None]] = {
    "default": ({}, TEST_ENV),
    "default-env-agnostic": ({}, None),
    "fully-configured": (FULL_CONTEXT, TEST_ENV),
    "prefix-and-name": ({"recordingsPrefix": "clusters/prod/records", "bucketName": "prod-recordings"}, None),
    "pod-identity": ({"authTrust": "pod-identity"}, TEST_ENV),
    "principal": ({"authTrust": "principal", "authPrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/ops"}, TEST_ENV),
    "existing-role": ({"existingAuthRoleArn": f"arn:aws:iam::{ACCOUNT}:role/teleport/auth"}, TEST_ENV),
    "literal-rfd": ({"scopeKeyToS3": "false", "keyAdminArns": f"arn:aws:iam::{ACCOUNT}:role/KeyAdmins"}, TEST_ENV),
    "retention": (
        {
            "objectLockMode": "compliance",
            "objectLockRetentionDays": "400",
            "retentionDays": "730",
            "transitionStorageClass": "GLACIER_IR",
            "transitionDays": "90",
        },
        TEST_ENV,
    ),
    "readers": (
        {"readerArns": f"arn:aws:iam::{ACCOUNT}:role/ReadOnlyCluster,arn:aws:iam::444455556666:role/Auditors"},
        TEST_ENV,
    ),
    # Alarms off or with an existing topic only take resources away from "default": not repeated here.
    "alarm-emails": ({"alarmEmails": "security@example.com,oncall@example.com"}, TEST_ENV),
}
#: Whole apps as app.py builds them (every stack: IAM events in us-east-1, recordings, guardrails).
APP_CONFIGS: dict[str, dict[str, Any]] = {
    "organization": {
        "account": ACCOUNT,
        "region": "eu-west-1",
        "guardrailTargetIds": "ou-ab12-cdef3456",
        "managementAccount": "999988887777",
        "organizationId": "o-a1b2c3d4e5",
        "authRoleName": "teleport-auth",
        "breakGlassPrincipalArns": f"arn:aws:iam::{ACCOUNT}:role/BreakGlass",
        "keyAdminArns": f"arn:aws:iam::{ACCOUNT}:role/KeyAdmins",
        "alarmEmails": "security@example.com",
    },
    # The disaster-recovery replica (issue 17): the replica stack in eu-central-1, the replication on the primary.
    "replica": {
        "account": ACCOUNT,
        "region": "eu-west-1",
        "replicaRegion": "eu-central-1",
        "authRoleName": "teleport-auth",
        "keyAdminArns": f"arn:aws:iam::{ACCOUNT}:role/KeyAdmins",
        "objectLockMode": "governance",
        "objectLockRetentionDays": "30",
        "alarmEmails": "security@example.com",
    },
    # The organization layout (README: Organization layout): a cluster of another account with IRSA, and
    # one in the recordings account itself (the same-account form), with a reader each side.
    "clusters": {
        "account": ACCOUNT,
        "region": "eu-west-1",
        "keyAdminArns": f"arn:aws:iam::{ACCOUNT}:role/KeyAdmins",
        "readerArns": f"arn:aws:iam::{ACCOUNT}:role/Auditors",
        "clusters": [
            {
                "name": "prod",
                "account": "222222222222",
                "authTrust": "irsa",
                "oidcProviderArn": "arn:aws:iam::222222222222:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF",
                "readerArns": ["arn:aws:iam::222222222222:role/prod-readers"],
            },
            {"name": "staging"},
        ],
    },
}
#: The same with a key per cluster (``clusterIsolation=key``): staging's own key names a role of its own account.
APP_CONFIGS["clusters-key"] = {**APP_CONFIGS["clusters"], "clusterIsolation": "key"}
# The same with the guardrails over both sides (one SCP; the workload accounts under the OU): issue 16.
APP_CONFIGS["clusters-guardrails"] = {
    **APP_CONFIGS["clusters"],
    "guardrailTargetIds": "ou-ab12-cdef3456",
    "managementAccount": "999988887777",
    "organizationId": "o-a1b2c3d4e5",
    "alarmEmails": "security@example.com",
}


def synth_with_packs(build: Callable[[cdk.App], None], out_dir: Path) -> dict[str, Any]:
    """Synthesize like app.py does; return the validation report (raises if a finding is unacknowledged)."""
    app = cdk.App(context=cdk_json_context(), outdir=str(out_dir))
    compliance.enable_compliance_packs(app)
    build(app)
    app.synth()
    report: dict[str, Any] = json.loads((out_dir / "validation-report.json").read_text())
    return report


@pytest.fixture(scope="module")
def cfn_lint() -> Callable[[str], list[str]]:
    """cfn-lint on a template's text in both regions, as ``cfnlint.api.lint`` runs it, with the rules loaded once.

    ``lint`` builds a new ``Runner`` per call, which loads and configures every rule (~0.8 s); the
    cfn-lint command checks many templates with one. A template identical to one already checked (a
    snapshot file records the synthesized default template) gets the findings it got then.
    """
    from cfnlint.config import ConfigMixIn, ManualArgs  # ~2 s of imports (sympy): only where lint tests run
    from cfnlint.decode.decode import decode_str
    from cfnlint.runner import Runner

    runner = Runner(ConfigMixIn(**ManualArgs(regions=LINT_REGIONS)))
    findings: dict[str, list[str]] = {}

    def run(text: str) -> list[str]:
        template, errors = decode_str(text)
        if errors:
            return [str(m) for m in errors]
        if template is None:
            return []
        key = json.dumps(template, sort_keys=True)
        if key not in findings:
            findings[key] = [str(m) for m in runner.validate_template(template)]
        return findings[key]

    return run


def test_cfn_lint_still_finds_a_broken_template(cfn_lint: Callable[[str], list[str]]) -> None:
    """The shared runner reports as cfn-lint does: an unknown property and a missing required one."""
    broken = {
        "Resources": {
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": "sometimes", "Colour": "red"}},
            "Alias": {"Type": "AWS::KMS::Alias", "Properties": {"TargetKeyId": {"Ref": "Key"}}},
        }
    }
    found = " ".join(cfn_lint(json.dumps(broken)))
    assert "E3002" in found, found  # Colour is not a property of AWS::KMS::Key
    assert "E3003" in found, found  # AliasName is required
    assert "E3012" in found, found  # EnableKeyRotation is a boolean
    assert cfn_lint(json.dumps(broken)) == cfn_lint(json.dumps(broken, indent=2)), "one result per template"


@pytest.fixture(scope="module")
def reports(gated_assemblies: dict[str, tuple[dict[str, Any], Path]]) -> dict[str, tuple[dict[str, Any], list[Path]]]:
    """Each configuration's validation report and templates (synthesized once per process: tests/stacks/conftest.py)."""
    return {name: (report, sorted(out.glob("*.template.json"))) for name, (report, out) in gated_assemblies.items()}


def test_the_organization_app_has_its_three_stacks(reports: dict[str, tuple[dict[str, Any], list[Path]]]) -> None:
    _, templates = reports["organization"]
    assert sorted(t.name for t in templates) == sorted(
        f"{name}.template.json" for name in (GUARDRAILS_STACK_NAME, DEFAULT_STACK_NAME, IAM_EVENTS_STACK_NAME)
    )


@pytest.mark.parametrize("name", [*CONFIGS, *APP_CONFIGS])
def test_every_pack_passes(name: str, reports: dict[str, tuple[dict[str, Any], list[Path]]]) -> None:
    report, templates = reports[name]
    conclusions = {r["pluginName"]: r["conclusion"] for r in report["pluginReports"]}
    for pack in PACKS:
        assert conclusions.get(pack) == "success", (pack, report)
    assert templates


@pytest.mark.parametrize("name", [*CONFIGS, *APP_CONFIGS])
def test_cfn_lint_finds_nothing(
    name: str, reports: dict[str, tuple[dict[str, Any], list[Path]]], cfn_lint: Callable[[str], list[str]]
) -> None:
    _, templates = reports[name]
    for template in templates:
        assert cfn_lint(template.read_text()) == []


def test_every_acknowledgment_is_one_finding_on_its_own_resource_with_this_designs_reason(
    reports: dict[str, tuple[dict[str, Any], list[Path]]],
) -> None:
    report, _ = reports["default"]
    recordings, access_logs, policy = (
        "Recordings/Storage/Bucket/Resource/Resource",
        "Recordings/Storage/Bucket/AccessLogs/Resource",
        "Recordings/Storage/AuthRole/RecordingsAccess/Resource/Resource",
    )
    wildcard = "arn:<AWS::Partition>:s3:::teleport-recordings-111122223333-eu-west-1/records/*"
    expected = {
        ("AwsSolutions-IAM5[Resource::" + wildcard + "]", policy, compliance.REASON_RECORDINGS_PREFIX_WILDCARD),
        *{
            (f"{pack}-S3BucketReplicationEnabled", recordings, compliance.REASON_REPLICATION_RECORDINGS)
            for pack in PACKS[1:]
        },
        *{
            (f"{pack}-S3BucketReplicationEnabled", access_logs, compliance.REASON_REPLICATION_ACCESS_LOGS)
            for pack in PACKS[1:]
        },
        *{(f"{pack}-S3DefaultEncryptionKMS", access_logs, compliance.REASON_ACCESS_LOGS_SSE_S3) for pack in PACKS[1:]},
    }
    suppressed = []
    for plugin in report["pluginReports"]:
        for violation in plugin.get("suppressedViolations", []):
            [construct] = violation["violatingConstructs"]
            assert violation["acknowledgedAt"] == construct["constructPath"], "acknowledged on the resource itself"
            suppressed.append((violation["ruleName"], construct["constructPath"], violation["reason"]))
    assert sorted(suppressed) == sorted(expected)


def test_the_gate_bites_on_an_unrotated_key_and_an_unencrypted_bucket(tmp_path: Path) -> None:
    def build(app: cdk.App) -> None:
        stack = cdk.Stack(app, "Careless", env=TEST_ENV)
        SessionRecordingsStorage(stack, "Storage")
        kms.Key(stack, "UnrotatedKey", enable_key_rotation=False, removal_policy=cdk.RemovalPolicy.RETAIN)
        s3.Bucket(stack, "PlainBucket", removal_policy=cdk.RemovalPolicy.RETAIN)

    with pytest.raises(RuntimeError, match="ValidationFailed") as caught:
        synth_with_packs(build, tmp_path)
    report = json.loads((tmp_path / "validation-report.json").read_text())
    failed = {violation["ruleName"] for plugin in report["pluginReports"] for violation in plugin["violations"]}
    assert "AwsSolutions-KMS5" in failed, failed
    assert "AwsSolutions-S1" in failed
    assert "HIPAA.Security-S3DefaultEncryptionKMS" in failed
    # The storage construct itself contributes no finding.
    assert not any("Careless/Storage/" in json.dumps(v) for p in report["pluginReports"] for v in p["violations"])
    assert "ValidationFailed" in str(caught.value)


@pytest.mark.parametrize(
    "snapshot_file", sorted((Path(__file__).parent / "__snapshots__").rglob("*.json")), ids=lambda p: p.name
)
def test_cfn_lint_finds_nothing_in_snapshot_templates(
    snapshot_file: Path, cfn_lint: Callable[[str], list[str]]
) -> None:
    assert cfn_lint(snapshot_file.read_text()) == []


def test_acknowledgments_follow_a_bucket_name_given_as_a_parameter(tmp_path: Path) -> None:
    """The IAM5 finding id embeds the resource; a deploy-time bucket name must still be acknowledged."""

    def build(app: cdk.App) -> None:
        stack = cdk.Stack(app, "Parameterized")
        name = cdk.CfnParameter(stack, "RecordingsBucketName").value_as_string
        SessionRecordingsStorage(
            stack, "Storage", settings=StorageSettings(bucket_name=name, recordings_prefix="clusters/prod")
        )

    report = synth_with_packs(build, tmp_path)
    suppressed = [v["ruleName"] for p in report["pluginReports"] for v in p.get("suppressedViolations", [])]
    assert "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::<RecordingsBucketName>/clusters/prod/*]" in suppressed
