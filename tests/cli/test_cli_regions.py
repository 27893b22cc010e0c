"""``--region`` in every command that takes one: a typo is refused before any AWS call (exit 2, one
line); a region botocore's endpoint data does not know yet, but named like a newer region of one of
its partitions, is allowed and said on stderr, never silently (issue 19)."""

from __future__ import annotations

import argparse
from typing import Any

import pytest
from botocore.exceptions import NoCredentialsError

from recordings_kms import aws
from recordings_kms.cli import main
from recordings_kms.verify import command as verify_command

ACCOUNT = "111122223333"
AUTH = f"arn:aws:iam::{ACCOUNT}:role/teleport-auth"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/KeyAdmins"
DEPLOY = f"arn:aws:iam::{ACCOUNT}:role/cdk-deploy"
KEY_ARN = f"arn:aws:kms:REGION:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TYPO = "eu-wset-1"
NEWER = "ap-southeast-9"  # not in the pinned botocore's data; shaped like an Asia Pacific region


def _argv(command: str, region: str) -> list[str]:
    common = ["--region", region]
    if command == "policy":
        return ["policy", "--auth", AUTH, "--admin", ADMIN, "--bucket", "acme-recordings", *common]
    if command == "teleport-config":
        return ["teleport-config", "--stack-name", "TeleportSessionRecordings", *common]
    key = KEY_ARN.replace("REGION", region)
    return ["verify", "--bucket", "acme-recordings", "--key", key, "--auth", AUTH, "--deploy-role", DEPLOY, *common]


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """No AWS call may run: the commands stop where they would first reach AWS (and record that they got there)."""
    reached: list[str] = []

    def make_clients(**_: object) -> object:
        reached.append("teleport-config")
        raise NoCredentialsError

    def verify(args: argparse.Namespace) -> int:
        reached.append("verify")
        return 0

    monkeypatch.setattr(aws, "make_clients", make_clients)
    monkeypatch.setattr(verify_command, "_verify", verify)
    return reached


@pytest.mark.parametrize("command", ["policy", "verify", "teleport-config"])
def test_a_region_typo_is_refused_before_any_aws_call(
    command: str, no_aws: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(_argv(command, TYPO))
    err = capsys.readouterr().err
    assert code == 2
    assert f'"{TYPO}"' in err
    assert "region" in err
    assert len(err.strip().splitlines()) == 1, err
    assert no_aws == []


@pytest.mark.parametrize("command", ["policy", "verify", "teleport-config"])
def test_a_region_newer_than_the_endpoint_data_is_allowed_and_said(
    command: str, no_aws: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    main(_argv(command, NEWER))
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if "warning" in line and NEWER in line]
    assert warnings, err
    assert "endpoint data" in warnings[0]
    assert "typo" in warnings[0]
    if command != "policy":
        assert no_aws == [command]  # the warning did not stop the command


@pytest.mark.parametrize("command", ["policy", "verify", "teleport-config"])
def test_a_known_region_gets_no_warning(command: str, no_aws: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    main(_argv(command, "eu-west-1"))
    assert "endpoint data" not in capsys.readouterr().err


@pytest.mark.parametrize("variable", ["AWS_REGION", "AWS_DEFAULT_REGION"])
def test_a_region_typo_read_from_the_environment_is_named_as_the_variable(
    variable: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``policy --bucket`` without ``--region`` reads the environment: its typo is named by the variable the
    caller set, not by an option the caller never gave."""
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv(variable, TYPO)
    code = main(["policy", "--auth", AUTH, "--admin", ADMIN, "--bucket", "acme-recordings"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"recordings-kms: error: {variable} must be an AWS region name"), err
    assert f'got "{TYPO}"' in err
    assert len(err.strip().splitlines()) == 1


def _no_region_options(command: str) -> list[str]:
    argv = _argv(command, "eu-west-1")
    i = argv.index("--region")
    argv = argv[:i] + argv[i + 2 :]
    if command == "verify":  # a key alias: no region from --key
        argv[argv.index("--key") + 1] = "alias/teleport-recordings"
    return [*argv, "--endpoint-url", "http://127.0.0.1:9"]  # never reached: the region is refused first


@pytest.mark.parametrize("command", ["verify", "teleport-config", "migrate"])
@pytest.mark.parametrize("source", ["AWS_REGION", "AWS_DEFAULT_REGION", "profile"])
def test_a_region_typo_from_the_environment_or_profile_is_refused_by_its_name(
    command: str, source: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    """Without ``--region`` the commands that call AWS take the region from AWS_REGION, AWS_DEFAULT_REGION or
    the config profile; a typo there is refused like ``--region``'s, named by where it was read, before any
    AWS call (botocore itself accepts ``eu-wset-1`` and only fails to reach its endpoint)."""
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    if source == "profile":
        config = tmp_path / "config"
        config.write_text(f"[default]\nregion = {TYPO}\n")
        monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    else:
        monkeypatch.setenv(source, TYPO)
    if command == "migrate":
        argv = ["migrate", "--source-bucket", "old-recordings", "--bucket", "acme-recordings", "--key", "alias/x"]
        argv += ["--endpoint-url", "http://127.0.0.1:9"]
    else:
        argv = _no_region_options(command)
    code = main(argv)
    err = capsys.readouterr().err
    named = "the AWS config profile's region" if source == "profile" else source
    assert code == 2, err
    assert err.startswith(f"recordings-kms: error: {named} must be an AWS region name"), err
    assert f'got "{TYPO}"' in err
    assert len(err.strip().splitlines()) == 1
