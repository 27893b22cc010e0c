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
from dataclasses import dataclass
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


#: Every caller module the tests below type-check, by module name: one mypy process checks them all.
CALLERS = {
    "caller_ok": CALLER,
    "caller_misuse": CALLER + "storage.bucket.add_lifecycle_rule(expiration=7)\n",
    "caller_keywords": CALLER
    + (
        "from aws_cdk import aws_kms as kms\n"
        "from constructs_lib import AuthNodeRole, RecordingsBucket, RecordingsKey\n"
        'RecordingsKey(stack, "Key", auth_principal_arn="arn:aws:iam::111122223333:role/a", key_admins=[auditor])\n'
        'RecordingsBucket(stack, "Bucket", bucket_name="b-recordings", encryption_key=kms.Key(stack, "K"), '
        "retention_days=400, require_encryption_headers=True)\n"
        'AuthNodeRole(stack, "Role", bucket_arn="arn:aws:s3:::b", recordings_prefix="r", auth_trust="irsa")\n'
    ),
    "caller_misspelt": CALLER + 'SessionRecordingsStorage(stack, "Typo", key_admin=[auditor])\n',
    "caller_mistyped": CALLER + 'SessionRecordingsStorage(stack, "Type", key_rotation_days="1")\n',
}


@dataclass(frozen=True)
class Checked:
    """mypy's verdict on one caller module: ``errors`` are its lines of the report (errors and their notes)."""

    errors: list[str]

    @property
    def clean(self) -> bool:
        return not any(": error: " in line for line in self.errors)


@pytest.fixture(scope="module")
def mypy(fresh_python: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Checked]:
    """mypy --strict on every caller of ``CALLERS``, each a module of its own, in one process against the fresh install.

    The modules import nothing of each other, so each one's errors are those a run on it alone reports
    (mypy checks a file's body against the modules it imports only); one process reads aws_cdk's stubs
    once instead of once per caller (five runs took about 5 s more). A run that crashed or reported
    errors in no caller's file fails here, never passes a test.
    """
    directory = tmp_path_factory.mktemp("callers")
    for module, source in CALLERS.items():
        (directory / f"{module}.py").write_text(source)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(directory / "mypy-cache"),  # never the checkout's .mypy_cache
            "--python-executable",
            str(fresh_python),
            "--config-file",
            str(REPO / "pyproject.toml"),
            *(f"{module}.py" for module in CALLERS),
        ],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
    )
    report = result.stdout.splitlines()
    summary = report[-1] if report else ""
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert summary.endswith(f" {len(CALLERS)} source files)") or summary.endswith(f" {len(CALLERS)} source files"), (
        summary
    )
    checked = {module: Checked([line for line in report if line.startswith(f"{module}.py:")]) for module in CALLERS}
    assert len(report) - 1 == sum(len(c.errors) for c in checked.values()), "a line of no caller's: " + result.stdout
    assert (result.returncode == 0) == all(c.clean for c in checked.values()), result.stdout
    return checked


def test_callers_type_check_against_the_installed_package(mypy: dict[str, Checked]) -> None:
    """py.typed ships; storage.bucket is an s3.Bucket and storage.key a kms.Key for the caller's mypy."""
    assert mypy["caller_ok"].clean, mypy["caller_ok"].errors
    misuse = mypy["caller_misuse"]
    assert not misuse.clean, misuse.errors
    assert any('Argument "expiration" to "add_lifecycle_rule" of "Bucket"' in line for line in misuse.errors)


def test_the_constructs_keywords_type_check_for_the_caller(mypy: dict[str, Checked]) -> None:
    """The settings as keywords are typed from their declarations: a misspelt keyword or a wrong type is a
    caller's type error, and every part takes them as the storage does."""
    assert mypy["caller_keywords"].clean, mypy["caller_keywords"].errors
    misspelt = mypy["caller_misspelt"]
    assert not misspelt.clean, misspelt.errors
    assert any(
        'Unexpected keyword argument "key_admin" for "SessionRecordingsStorage"' in line for line in misspelt.errors
    )
    mistyped = mypy["caller_mistyped"]
    assert not mistyped.clean, mistyped.errors
    assert any(
        'Argument "key_rotation_days" to "SessionRecordingsStorage" has incompatible type "str"' in line
        for line in mistyped.errors
    )
