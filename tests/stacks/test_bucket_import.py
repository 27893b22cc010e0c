"""Adopting a bucket that exists (``existingBucket``): the import template, its resource mapping, and the update.

What CloudFormation resource import requires (docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/
resource-import.html): a ``DeletionPolicy`` on each resource to import, the resource found by its type's
identifier property (``BucketName`` for AWS::S3::Bucket), and no other change in the same operation (the
CDK CLI's README: "The only changes allowed in an 'import' operation are the addition of new resources
which you want to import"). Deploying needs AWS; everything before the ``cdk import`` call is tested here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

import app as bundled_app
from constructs_lib import compliance
from constructs_lib.core import gates
from constructs_lib.core.bucket_import import BUCKET_IDENTIFIER, ImportTemplateError, resource_mapping
from constructs_lib.core.settings import AppSettings, InvalidSettingsError, check, is_error, render, validate
from recordings_kms.upgrade_check.command import Upgrade
from stacks.recordings_stack import DEFAULT_STACK_NAME
from tests.conftest import ACCOUNT, REGION, REPO, cdk_json_context

BUCKET = "acme-teleport-recordings"
BUCKET_LOGICAL_ID = "StorageBucketE81A0E79"
ADOPTED = {"existingBucket": "true", "bucketName": BUCKET, "account": ACCOUNT, "region": REGION}
IMPORT_PHASE = {**ADOPTED, "bucketImportPhase": "true"}


def synthesized(out: Path, context: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The app's templates for ``context``, through every gate (packs and proofs), by file name."""
    app = cdk.App(context=cdk_json_context(), outdir=str(out))
    compliance.enable_compliance_packs(app)
    settings = AppSettings.from_context(context)
    validate(settings, settings.environment())
    bundled_app.build(app, settings)
    compliance.synth(app)  # raises GateFailed when a pack or a proof does not pass
    return {p.name: json.loads(p.read_text()) for p in sorted(out.glob("*.template.json"))}


@pytest.fixture(scope="module")
def phases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict[str, Any]]]:
    base = tmp_path_factory.mktemp("phases")
    without_switch = {k: v for k, v in ADOPTED.items() if k != "existingBucket"}
    return {
        "import": synthesized(base / "import", IMPORT_PHASE),
        "update": synthesized(base / "update", ADOPTED),
        "plain": synthesized(base / "plain", without_switch),
    }


def test_the_import_template_is_the_bucket_alone_named_and_retained(phases: dict[str, Any]) -> None:
    templates = phases["import"]
    assert list(templates) == [f"{DEFAULT_STACK_NAME}.template.json"]  # no IAM events stack, no guardrails
    template = templates[f"{DEFAULT_STACK_NAME}.template.json"]
    resources = {i: r for i, r in template["Resources"].items() if r["Type"] != "AWS::CDK::Metadata"}
    assert list(resources) == [BUCKET_LOGICAL_ID]
    bucket = resources[BUCKET_LOGICAL_ID]
    assert bucket["Type"] == "AWS::S3::Bucket"
    assert bucket["Properties"] == {"BucketName": BUCKET}  # claims nothing about the live bucket
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert "Outputs" not in template


def test_the_import_keeps_the_recordings_stacks_logical_id(phases: dict[str, Any]) -> None:
    """The update after the import must find the imported bucket under the same logical id, or it would plan a
    new bucket (and fail: the name exists)."""
    update = phases["update"][f"{DEFAULT_STACK_NAME}.template.json"]
    buckets = [
        i for i, r in update["Resources"].items() if r["Type"] == "AWS::S3::Bucket" and i.startswith("StorageBucket")
    ]
    assert BUCKET_LOGICAL_ID in buckets
    assert update["Resources"][BUCKET_LOGICAL_ID]["Properties"]["BucketName"] == BUCKET


def test_the_mapping_names_the_bucket_by_the_schemas_primary_identifier(phases: dict[str, Any]) -> None:
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", "AWS::S3::Bucket").schema
    assert schema["primaryIdentifier"] == [f"/properties/{BUCKET_IDENTIFIER}"]
    assert {"create", "read", "update", "delete", "list"} <= set(schema["handlers"])  # an importable type
    mapping = resource_mapping(phases["import"][f"{DEFAULT_STACK_NAME}.template.json"])
    assert mapping == {BUCKET_LOGICAL_ID: {"BucketName": BUCKET}}


def test_the_update_after_the_import_replaces_nothing(phases: dict[str, Any]) -> None:
    """upgrade-check, deployed = the imported stack, new = the recordings stack: the bucket is updated in place.

    The deployed template is what ``cdk import`` sends for a stack that does not exist yet: the current template
    (``{}``) plus each mapped resource's definition and nothing else (aws-cdk-cli toolkit-lib
    ``ResourceImporter.currentTemplateWithAdditions``); the synthesized import template is checked too.
    """
    synthesized_import = phases["import"][f"{DEFAULT_STACK_NAME}.template.json"]
    mapping = resource_mapping(synthesized_import)
    sent = {"Resources": {i: synthesized_import["Resources"][i] for i in mapping}}
    new = phases["update"][f"{DEFAULT_STACK_NAME}.template.json"]
    for deployed in (sent, synthesized_import):
        upgrade = Upgrade(deployed, new)
        assert upgrade.stateful() == [BUCKET_LOGICAL_ID]
        assert [f.line() for f in upgrade.findings()] == []


def test_the_update_is_the_recordings_stack_the_same_settings_give_without_the_switch(phases: dict[str, Any]) -> None:
    assert phases["update"] == phases["plain"]


def test_make_import_writes_the_mapping_file(phases: dict[str, Any], tmp_path: Path) -> None:
    template = tmp_path / "t.json"
    template.write_text(json.dumps(phases["import"][f"{DEFAULT_STACK_NAME}.template.json"]))
    result = run_mapping_script(template, tmp_path / "mapping.json")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "mapping.json").read_text()) == {BUCKET_LOGICAL_ID: {"BucketName": BUCKET}}


def test_the_mapping_script_refuses_the_recordings_stack_with_one_line(phases: dict[str, Any], tmp_path: Path) -> None:
    template = tmp_path / "t.json"
    template.write_text(json.dumps(phases["update"][f"{DEFAULT_STACK_NAME}.template.json"]))
    result = run_mapping_script(template, tmp_path / "mapping.json")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "resources other than the bucket, which an import cannot create: " in result.stderr
    assert "StorageKey7CE16CA6 (AWS::KMS::Key)" in result.stderr
    assert "outputs (" in result.stderr
    assert not (tmp_path / "mapping.json").exists()


def run_mapping_script(template: Path, mapping: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / "import_mapping.py"), str(template), str(mapping)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": ""},
    )


def test_make_import_first_steps_through_the_cdk_cli(tmp_path: Path) -> None:
    """What ``make import`` runs before ``cdk import``: ``cdk synth`` with the import phase, then the mapping."""
    from tests.stacks.test_app import CDK, run_cdk_synth

    if not CDK.exists():
        pytest.skip("the CDK CLI is installed by `make test`")
    out = tmp_path / "out"
    context = [f"{k}={v}" for k, v in IMPORT_PHASE.items()]
    result = run_cdk_synth(out, *context)
    assert result.returncode == 0, result.stderr
    assert "the update after the import replaces the bucket's policy" in result.stderr
    assert sorted(p.name for p in out.glob("*.template.json")) == [f"{DEFAULT_STACK_NAME}.template.json"]
    mapped = run_mapping_script(out / f"{DEFAULT_STACK_NAME}.template.json", out / "import-mapping.json")
    assert mapped.returncode == 0, mapped.stderr
    assert json.loads((out / "import-mapping.json").read_text()) == {BUCKET_LOGICAL_ID: {"BucketName": BUCKET}}


def test_make_import_runs_these_steps() -> None:
    """The Makefile's recipe is the one the test above follows, with the mapping file it writes."""
    makefile = (REPO / "Makefile").read_text()
    recipe = makefile.split("\nimport:", 1)[1].split("\n\n", 1)[0]
    assert "synth --quiet --output $(CDK_OUT) -c existingBucket=true -c bucketImportPhase=true $(ARGS)" in recipe
    assert "scripts/import_mapping.py $(CDK_OUT)/$(STACKS).template.json $(IMPORT_MAPPING)" in recipe
    assert "import $(STACKS) --app $(CDK_OUT) --resource-mapping $(IMPORT_MAPPING)" in recipe


# --- failing inputs ---------------------------------------------------------------------------------------


def _bucket(**changes: Any) -> dict[str, Any]:
    bucket: dict[str, Any] = {
        "Type": "AWS::S3::Bucket",
        "Properties": {"BucketName": BUCKET},
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
    }
    bucket.update(changes)
    return {k: v for k, v in bucket.items() if v is not None}


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ({"Resources": {"B": _bucket(DeletionPolicy=None)}}, "B: DeletionPolicy is None, not 'Retain'"),
        (
            {"Resources": {"B": _bucket(UpdateReplacePolicy="Delete")}},
            "B: UpdateReplacePolicy is 'Delete', not 'Retain'",
        ),
        (
            {"Resources": {"B": _bucket(Properties={"BucketName": {"Fn::Sub": "r-${AWS::AccountId}"}})}},
            "B: BucketName is {'Fn::Sub': 'r-${AWS::AccountId}'}, not the literal name of the bucket",
        ),
        (
            {"Resources": {"B": _bucket(Properties={"BucketName": BUCKET, "VersioningConfiguration": {}})}},
            "B: properties besides BucketName (VersioningConfiguration)",
        ),
        (
            {"Resources": {"B": _bucket(), "K": {"Type": "AWS::KMS::Key", "Properties": {}}}},
            "resources other than the bucket, which an import cannot create: K (AWS::KMS::Key)",
        ),
        ({"Resources": {"B": _bucket(), "C": _bucket()}}, "2 AWS::S3::Bucket resources, not one: B, C"),
        ({"Resources": {}}, "0 AWS::S3::Bucket resources, not one: none"),
        ({"Resources": {"B": _bucket()}, "Outputs": {"X": {"Value": "x"}}}, "outputs (X), which an import cannot add"),
        ({}, "the template has no Resources object"),
    ],
)
def test_the_mapping_refuses_a_template_import_would_refuse(template: dict[str, Any], reason: str) -> None:
    with pytest.raises(ImportTemplateError, match="not an import template") as raised:
        resource_mapping(template)
    assert reason in str(raised.value)


def problems_of(context: dict[str, str]) -> list[str]:
    settings = AppSettings.from_context(context)
    return [render(p, settings) for p in check(settings, settings.environment()) if is_error(p)]


def test_an_existing_bucket_needs_its_name() -> None:
    assert (
        "'bucketName' must be set with existingBucket: the name of the bucket that exists (CloudFormation import "
        "finds an S3 bucket by its BucketName), got nothing"
    ) in problems_of({"existingBucket": "true"})


def test_an_existing_bucket_refuses_turning_object_lock_on() -> None:
    found = problems_of({**ADOPTED, "objectLockMode": "governance", "objectLockRetentionDays": "30"})
    assert [p for p in found if p.startswith("'objectLockMode' must be \"none\" with existingBucket")] == [
        "'objectLockMode' must be \"none\" with existingBucket: turning Object Lock on for an existing bucket through "
        "CloudFormation is contested (cloudformation-coverage-roadmap issue 1929: a change set replacing the bucket, "
        'which a bucket with a fixed name cannot complete), got "governance"'
    ]


def test_the_import_phase_needs_an_existing_bucket() -> None:
    assert "'bucketImportPhase' must be unset unless existingBucket is true, got true" in problems_of(
        {"bucketImportPhase": "true", "bucketName": BUCKET}
    )


def test_an_existing_bucket_warns_that_the_update_reconfigures_it() -> None:
    settings = AppSettings.from_context(ADOPTED)
    codes = [p.code for p in validate(settings, settings.environment())]
    assert "teleport-recordings:existingBucketReconfigured" in codes


def test_the_app_refuses_an_unnamed_existing_bucket_before_building_anything() -> None:
    settings = AppSettings.from_context({"existingBucket": "true"})
    with pytest.raises(InvalidSettingsError, match="'bucketName' must be set with existingBucket"):
        validate(settings, settings.environment())


def test_the_import_template_passes_the_gates_only_with_its_acknowledgments(tmp_path: Path) -> None:
    """The packs' findings on the bucket as it is are acknowledged one by one, none left over: the validation
    report lists every pack as a success, and no access proof ran (no key, no policy to prove)."""
    synthesized(tmp_path, IMPORT_PHASE)
    report = json.loads((tmp_path / gates.VALIDATION_REPORT).read_text())
    conclusions = {p["pluginName"]: p["conclusion"] for p in report["pluginReports"]}
    assert {"AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321"} <= set(conclusions)
    assert set(conclusions.values()) == {"success"}, conclusions


def test_the_import_template_is_lint_clean(phases: dict[str, Any]) -> None:
    """cfn-lint in both regions the other templates are linted in: no error, no warning."""
    from cfnlint.api import ManualArgs, lint

    text = json.dumps(phases["import"][f"{DEFAULT_STACK_NAME}.template.json"])
    assert [str(m) for m in lint(text, config=ManualArgs(regions=["us-east-1", "eu-west-1"]))] == []
