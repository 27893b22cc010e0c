"""The package as another CDK app gets it: a wheel, installed into a fresh virtualenv.

The virtualenv is new and holds only the wheel built from this checkout; its dependencies (the
pinned aws-cdk-lib, constructs, cdk-nag, boto3) come from the project's .venv through a ``.pth``
file instead of a 400 MB download. Nothing of the checkout is importable there: ``stacks`` is not
part of the package, and the editable install's import hook is not loaded (``.pth`` files of a
directory added by another ``.pth`` file are not processed).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NODE_BIN = REPO / "node_modules" / ".bin"


@pytest.fixture(scope="module")
def fresh_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("installed")
    wheels = root / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(REPO)],
        check=True,
        capture_output=True,
    )
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(purelib) / "project-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    (wheel,) = wheels.glob("*.whl")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-compile", "--target", purelib, str(wheel)],
        check=True,
        capture_output=True,
    )
    return python


def run(python: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "CDK_"))}
    env["PATH"] = f"{NODE_BIN}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run([str(python), *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)


def test_the_package_comes_from_the_wheel_and_stacks_is_not_installed(fresh_python: Path, tmp_path: Path) -> None:
    result = run(
        fresh_python,
        tmp_path,
        "-c",
        "import constructs_lib, importlib.util; print(constructs_lib.__file__); "
        "print(importlib.util.find_spec('stacks'))",
    )
    assert result.returncode == 0, result.stderr
    location, stacks = result.stdout.split()
    assert not location.startswith(str(REPO)), location
    assert stacks == "None"


def readme_snippet() -> str:
    readme = (REPO / "README.md").read_text()
    match = re.search(r"<!-- library-snippet -->\n```python\n(.*?)```", readme, re.DOTALL)
    assert match, "README.md lost its <!-- library-snippet --> python block"
    return match.group(1)


def test_the_readme_library_snippet_runs_as_written(fresh_python: Path, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(readme_snippet())
    result = run(fresh_python, tmp_path, "app.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr


CALLER = """
import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs_lib import KeyAdminMode, SessionRecordingsStorage, StorageSettings

stack = cdk.Stack(cdk.App(), "Caller")
auditor = iam.Role(stack, "Auditor", assumed_by=iam.AccountRootPrincipal())
storage = SessionRecordingsStorage(
    stack, "Recordings", settings=StorageSettings(key_admins=[auditor], key_admin_mode=KeyAdminMode.SEPARATED)
)
storage.bucket.add_lifecycle_rule(abort_incomplete_multipart_upload_after=cdk.Duration.days(7))
storage.key.add_alias("alias/also-teleport")
grant: iam.Grant = storage.grant_read_recordings(auditor)
keywords = SessionRecordingsStorage(
    stack, "Keywords", bucket_name="caller-recordings", key_alias="alias/caller", readers=[auditor], key_rotation_days=180
)
"""


def mypy(fresh_python: Path, tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    """mypy --strict on ``source`` as a caller's module, against the fresh install.

    Every run against one install shares an incremental cache beside it (never the checkout's
    .mypy_cache): after the first, a run re-checks only the changed caller, not aws_cdk's stubs again.
    """
    caller = tmp_path / "caller.py"
    caller.write_text(source)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(fresh_python.parents[2] / "mypy-cache"),  # venv/bin/python -> the install's root
            "--python-executable",
            str(fresh_python),
            "--config-file",
            str(REPO / "pyproject.toml"),
            str(caller),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )


def test_callers_type_check_against_the_installed_package(fresh_python: Path, tmp_path: Path) -> None:
    """py.typed ships; storage.bucket is an s3.Bucket and storage.key a kms.Key for the caller's mypy."""
    result = mypy(fresh_python, tmp_path, CALLER)
    assert result.returncode == 0, result.stdout + result.stderr
    misuse = mypy(fresh_python, tmp_path, CALLER + "storage.bucket.add_lifecycle_rule(expiration=7)\n")
    assert misuse.returncode == 1, misuse.stdout
    assert 'Argument "expiration" to "add_lifecycle_rule" of "Bucket"' in misuse.stdout


def test_the_constructs_keywords_type_check_for_the_caller(fresh_python: Path, tmp_path: Path) -> None:
    """The settings as keywords are typed from their declarations: a misspelt keyword or a wrong type is a
    caller's type error, and every part takes them as the storage does."""
    parts = CALLER + (
        "from aws_cdk import aws_kms as kms\n"
        "from constructs_lib import AuthNodeRole, RecordingsBucket, RecordingsKey\n"
        'RecordingsKey(stack, "Key", auth_principal_arn="arn:aws:iam::111122223333:role/a", key_admins=[auditor])\n'
        'RecordingsBucket(stack, "Bucket", bucket_name="b-recordings", encryption_key=kms.Key(stack, "K"), '
        "retention_days=400, require_encryption_headers=True)\n"
        'AuthNodeRole(stack, "Role", bucket_arn="arn:aws:s3:::b", recordings_prefix="r", auth_trust="irsa")\n'
    )
    result = mypy(fresh_python, tmp_path, parts)
    assert result.returncode == 0, result.stdout + result.stderr
    misspelt = mypy(fresh_python, tmp_path, CALLER + 'SessionRecordingsStorage(stack, "Typo", key_admin=[auditor])\n')
    assert misspelt.returncode == 1, misspelt.stdout
    assert 'Unexpected keyword argument "key_admin" for "SessionRecordingsStorage"' in misspelt.stdout
    mistyped = mypy(fresh_python, tmp_path, CALLER + 'SessionRecordingsStorage(stack, "Type", key_rotation_days="1")\n')
    assert mistyped.returncode == 1, mistyped.stdout
    assert 'Argument "key_rotation_days" to "SessionRecordingsStorage" has incompatible type "str"' in mistyped.stdout
