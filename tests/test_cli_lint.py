"""ruff and mypy --strict over the recordings-kms package and its tests (configuration in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PATHS = ["recordings_kms", *sorted(str(p.relative_to(REPO)) for p in (REPO / "tests").glob("test_cli_*.py"))]


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", *PATHS],
        ["ruff", "format", "--check", *PATHS],
        # A cold mypy cache takes about a minute (it reads aws_cdk's types through constructs_lib).
        ["mypy", "recordings_kms"],
    ],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_clean(command: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", *command], capture_output=True, text=True, check=False, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
