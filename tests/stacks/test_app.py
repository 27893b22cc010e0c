"""The app through the pinned CDK CLI, as users run it: good settings synthesize, bad ones write nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

CDK = REPO / "node_modules" / ".bin" / "cdk"

pytestmark = pytest.mark.skipif(not CDK.exists(), reason="the CDK CLI is installed by `make test`")


def run_cdk_synth(out_dir: Path, *context: str, app: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        # The app runs with this virtualenv's python and the repository's Node 22, as under make.
        "PATH": os.pathsep.join([str(CDK.parent), str(Path(sys.executable).parent), os.environ["PATH"]]),
        "CDK_DISABLE_CLI_TELEMETRY": "true",
    }
    for variable in ("CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION", "AWS_PROFILE"):
        env.pop(variable, None)
    env["PYTHONPATH"] = str(REPO)
    args = [str(CDK), "synth", "--quiet", "--no-notices", "--output", str(out_dir)]
    if app is not None:
        args += ["--app", app]
    for item in context:
        args += ["-c", item]
    return subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=240, check=False)


def test_cdk_synth_with_defaults_writes_the_template(tmp_path: Path) -> None:
    result = run_cdk_synth(tmp_path / "out")
    assert result.returncode == 0, result.stderr
    template = json.loads((tmp_path / "out" / "TeleportSessionRecordings.template.json").read_text())
    assert "StorageUri" in template["Outputs"]
    summary = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "synth_summary.py"), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "StorageUri: s3://teleport-recordings-" in summary.stdout
    assert "/records?region=" in summary.stdout
    assert "&sse_kms_key=${" in summary.stdout


def test_cdk_synth_with_bad_settings_fails_with_every_problem_and_writes_no_template(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cdk_synth(out, "keyRotationDays=30", "existingAuthRoleArn=arn:aws:iam::123:role/x", "bucketNme=x")
    assert result.returncode != 0
    assert "3 invalid settings" in result.stderr
    assert "'keyRotationDays' must be a whole number of days from 90 to 2560, got 30" in result.stderr
    assert "'existingAuthRoleArn' must be an IAM role or user ARN" in result.stderr
    assert "account id '123' is not 12 digits" in result.stderr
    assert "did you mean 'bucketName'?" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(out.glob("*.template.json"))


CARELESS_APP = """
import aws_cdk as cdk
import jsii
from aws_cdk import aws_kms as kms
from constructs_lib import SessionRecordingsStorage, compliance


@jsii.implements(cdk.IPolicyValidationPlugin)
class CrashingPack:
    name = property(lambda self: "CrashingPack")
    version = property(lambda self: "1")
    rule_ids = property(lambda self: ["CP1"])

    def validate(self, context):
        raise RuntimeError("the pack could not parse a template")


app = cdk.App()
compliance.enable_compliance_packs(app)
cdk.Validations.of(app).add_plugins(CrashingPack())
stack = cdk.Stack(app, "Careless")
SessionRecordingsStorage(stack, "Storage")
kms.Key(stack, "UnrotatedKey", enable_key_rotation=False, removal_policy=cdk.RemovalPolicy.RETAIN)
compliance.synth(app)
"""


def test_cdk_synth_of_an_app_with_a_noncompliant_resource_fails_and_names_the_rule(tmp_path: Path) -> None:
    """What an importing team sees: the gate stops `cdk synth`, says which rule on which resource, and
    which plugin crashed, and leaves no template. Alone, CDK records a crashed plugin and the CLI,
    which ignores a failure without violations (aws/aws-cdk#26844), writes the template (issue 14);
    tests/stacks/test_gates.py shows the crash alone fails the gate."""
    app_file = tmp_path / "careless_app.py"
    app_file.write_text(CARELESS_APP)
    out = tmp_path / "out"
    result = run_cdk_synth(out, app=f"{sys.executable} {app_file}")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "AwsSolutions::AwsSolutions-KMS5" in output
    assert "compliance gate: AwsSolutions: AwsSolutions-KMS5 on Careless/UnrotatedKey/Resource: " in result.stderr
    assert "Careless/Storage/" not in output, "the construct itself raises nothing"
    assert (
        "compliance gate: CrashingPack: Validation plugin 'CrashingPack' failed: the pack could not parse a template"
        in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert not list(out.rglob("*.template.json"))


def test_the_app_prints_the_warnings_no_construct_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """validate() returns the app-level warnings (no break-glass principal for the guardrails), and app.py used
    to drop them: no construct reports them. The storage's own (no key administrator) stay CDK warnings only."""
    import aws_cdk as cdk

    import app as bundled_app
    from tests.conftest import cdk_json_context

    organization = {
        "account": "111122223333",
        "region": "eu-west-1",
        "guardrailTargetIds": "ou-abcd-12345678",
        "managementAccount": "999988887777",
        "organizationId": "o-a1b2c3d4e5",
        "authRoleName": "teleport-auth",
    }
    app = cdk.App(context={**cdk_json_context(), **organization}, outdir=str(tmp_path))
    assert bundled_app.main(app) == 0
    stderr = capsys.readouterr().err
    warnings = [line for line in stderr.splitlines() if line.startswith("warning: ")]
    assert warnings == [
        "warning: 'breakGlassPrincipalArns' is []: no break-glass principal: only the role CloudFormation deploys "
        "with may change the auth role, the key and the bucket once the guardrails are attached"
    ]
    storage = app.node.find_child("TeleportSessionRecordings").node.find_child("Storage")
    assert "teleport-recordings:noKeyAdmin" in str([entry.data for entry in storage.node.metadata])
