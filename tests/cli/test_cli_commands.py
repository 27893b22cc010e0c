"""`recordings-kms policy`, `bucket-policy` and `teleport-config --uri`; the installed console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from constructs_lib.core import policies
from recordings_kms.cli import main

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "111122223333"
AUTH = f"arn:aws:iam::{ACCOUNT}:role/teleport-auth"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/KeyAdmins"
ADMIN_USER = f"arn:aws:iam::{ACCOUNT}:user/security/alice"
DENIED = f"arn:aws:iam::{ACCOUNT}:role/Administrator"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/{KEY_ID}"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_policy_prints_the_builders_document(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["policy", "--auth", AUTH, "--admin", ADMIN, ADMIN_USER, "--deny", DENIED, "--admin-mode", "separated"]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert json.loads(out) == policies.key_policy(
        auth_principal_arn=AUTH,
        deploy_role_arn=None,
        key_admin_arns=[ADMIN, ADMIN_USER],
        denied_principal_arns=[DENIED],
        key_admin_mode=policies.KeyAdminMode.SEPARATED,
    )
    assert err == ""


def test_policy_scoped_to_a_bucket(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["policy", "--auth", AUTH, "--admin", ADMIN, "--admin", ADMIN_USER, "--bucket", "acme-recordings"]
    code, out, _ = run([*argv, "--region", "eu-central-1"], capsys)
    assert code == 0
    assert json.loads(out) == policies.key_policy(
        auth_principal_arn=AUTH,
        deploy_role_arn=None,
        key_admin_arns=[ADMIN, ADMIN_USER],
        bucket_arn="arn:aws:s3:::acme-recordings",
        region="eu-central-1",
    )


def test_policy_without_admin_says_why_kms_would_refuse_it(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["policy", "--auth", AUTH], capsys)
    assert code == 0
    assert json.loads(out)["Statement"][0]["Sid"] == policies.SID_AUTH
    assert "kms:PutKeyPolicy" in err


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"AWS_REGION": "eu-central-1", "AWS_DEFAULT_REGION": "us-east-1"}, "eu-central-1"),
        ({"AWS_DEFAULT_REGION": "us-east-1"}, "us-east-1"),
    ],
)
def test_policy_region_from_the_environment(
    environment: dict[str, str], expected: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    code, out, _ = run(["policy", "--auth", AUTH, "--admin", ADMIN, "--bucket", "acme-recordings"], capsys)
    assert code == 0
    assert policies.s3_via_service(expected) in out


def test_policy_without_a_region_names_what_it_reads(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    code, _, err = run(["policy", "--auth", AUTH, "--admin", ADMIN, "--bucket", "acme-recordings"], capsys)
    assert code == 2
    assert "'--region' must be set with --bucket, or AWS_REGION or AWS_DEFAULT_REGION set" in err
    assert "the AWS config file is not read" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["policy", "--auth", "teleport-auth"], "'--auth' must be an IAM role or user ARN"),
        (["policy", "--auth", f"arn:aws:iam::{ACCOUNT}:root"], "'--auth' must be an IAM role or user ARN"),
        (["policy", "--auth", AUTH, "--admin", f"arn:aws:iam::{ACCOUNT}:root"], "'--admin' must be IAM role or user"),
        (
            ["policy", "--auth", AUTH, "--admin", ADMIN, "--deny", ADMIN],
            "'--deny' must be a principal not also given as '--admin'",
        ),
        (["policy", "--auth", AUTH, "--deny", AUTH], "'--deny' must be a principal not also given as '--auth'"),
        (["policy", "--auth", AUTH, "--admin", AUTH], "'--admin' must be a principal not also given as '--auth'"),
        (
            ["policy", "--auth", AUTH, "--reader", f"arn:aws:iam::{ACCOUNT}:group/x"],
            "'--reader' must be IAM role or user",
        ),
        (
            ["policy", "--auth", AUTH, "--bucket", "acme-recordings", "--region", "eu west"],
            "'--region' must be an AWS region name like eu-west-1",
        ),
        (
            [
                "policy",
                "--auth",
                AUTH,
                "--admin",
                "arn:aws-cn:iam::111122223333:role/A",
                "--bucket",
                "b-c-d",
                "--region",
                "eu-west-1",
            ],
            "'--admin' must be an ARN in the stack's partition 'aws', not 'aws-cn'",
        ),
        (
            ["policy", "--auth", AUTH, "--admin-mode", "strict"],
            '\'--admin-mode\' must be one of "rfd", "separated", got "strict"',
        ),
        (["policy", "--auth", AUTH, "--bucket", "acme-recordings"], "'--region' must be set with --bucket"),
        (["policy", "--auth", AUTH, "--bucket", "Bad_Bucket", "--region", "eu-west-1"], "valid S3 bucket name"),
        (["bucket-policy", "--bucket", "acme-recordings", "--key", KEY_ID], "'--key' must be a KMS key ARN"),
    ],
)
def test_bad_arguments_exit_2_with_the_setting_named(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    code, out, err = run(argv, capsys)
    assert code == 2
    assert out == ""
    assert message in err


@pytest.mark.parametrize("strict", [False, True])
def test_bucket_policy_prints_the_builders_document(strict: bool, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["bucket-policy", "--bucket", "acme-recordings", "--key", KEY_ARN] + (["--strict"] if strict else [])
    code, out, err = run(argv, capsys)
    assert code == 0
    assert json.loads(out) == policies.bucket_policy(
        bucket_arn="arn:aws:s3:::acme-recordings", key_arn=KEY_ARN, key_id=KEY_ID, require_encryption_headers=strict
    )
    assert ("multipart" in err) is strict


def test_teleport_config_from_uri(capsys: pytest.CaptureFixture[str]) -> None:
    uri = policies.storage_uri(bucket_name="acme-recordings", prefix="records", region="eu-west-1", key_arn=KEY_ARN)
    code, out, err = run(["teleport-config", "--uri", uri], capsys)
    assert code == 0
    assert out.splitlines()[-3:] == ["teleport:", "  storage:", f'    audit_sessions_uri: "{uri}"']
    assert err == ""


def test_teleport_config_refuses_a_uri_without_key(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["teleport-config", "--uri", "s3://acme-recordings/records?region=eu-west-1"], capsys)
    assert code == 2
    assert out == ""
    assert "has no sse_kms_key" in err


# --- the installed command -----------------------------------------------------------------------


def test_console_script_and_module_run(tmp_path: Path) -> None:
    """``python -m recordings_kms`` in this checkout lists every command; so does the console script when it was
    installed from this checkout (``pip install -e`` in another work tree of the repository points it there)."""
    script = Path(sys.executable).parent / "recordings-kms"
    assert script.exists(), "make installs the package (pip install -e .), which creates the console script"
    where = [sys.executable, "-c", "import recordings_kms; print(recordings_kms.__file__)"]
    installed = subprocess.run(where, capture_output=True, text=True, check=True, cwd=tmp_path).stdout.strip()
    commands = [[sys.executable, "-m", "recordings_kms", "--help"]]
    if Path(installed).resolve().is_relative_to(REPO):
        commands.append([str(script), "--help"])
    else:
        assert subprocess.run([str(script), "--help"], capture_output=True, check=False).returncode == 0
    for command in commands:
        result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO)
        assert result.returncode == 0, result.stderr
        for subcommand in ("verify", "prove", "policy", "bucket-policy", "teleport-config", "migrate"):
            assert subcommand in result.stdout


def test_cli_never_imports_cdk() -> None:
    """The policy commands load neither CDK nor jsii (nor boto3, which only the AWS commands need)."""
    code = "\n".join(
        [
            "import runpy, sys",
            "key_arn = sys.argv[1]",
            "sys.argv = ['recordings-kms', 'bucket-policy', '--bucket', 'acme-recordings', '--key', key_arn]",
            "try:",
            "    runpy.run_module('recordings_kms', run_name='__main__')",
            "except SystemExit:",
            "    pass",
            "loaded = sorted(m for m in ('aws_cdk', 'jsii', 'constructs', 'boto3') if m in sys.modules)",
            "print('LOADED', loaded, file=sys.stderr)",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-c", code, KEY_ARN], capture_output=True, text=True, check=False, cwd=REPO
    )
    assert "LOADED []" in result.stderr, result.stderr
    assert json.loads(result.stdout)["Version"] == "2012-10-17"
