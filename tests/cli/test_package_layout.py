"""``recordings_kms``'s folders are its architecture: one folder per command, the modules beside ``cli.py`` shared.

The arrows run one way: a command imports the shared modules and its own parts, never another
command; a shared module never imports a command (``cli.py`` dispatches to them by name). Read from
the source with ``ast``, function-level imports as well as module-level ones, so a lazy import counts.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "recordings_kms"
COMMANDS = sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file())
#: The entry points, which dispatch to the commands.
ENTRIES = ("cli.py", "__main__.py")


def _imports(path: Path) -> set[str]:
    """Every ``recordings_kms`` name ``path`` imports: ``a.b`` for ``import a.b``, ``a.b`` and ``a.b.c`` for
    ``from a.b import c`` (``c`` may be a module)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.relative_to(REPO)}: a relative import, which this test does not follow"
            assert node.module is not None
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in names if name.split(".")[0] == "recordings_kms"}


def _command_of(name: str) -> str | None:
    """The command folder a dotted ``recordings_kms`` name is in, if any."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in COMMANDS else None


def _dispatched() -> dict[str, str]:
    """What cli.py hands each command to: ``_command(NAME, FUNCTION)`` calls, and the modules whose
    ``register`` adds a subcommand (the handler it sets is that module's ``run``)."""
    tree = ast.parse((PACKAGE / "cli.py").read_text())
    targets = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_command":
            name, *function = (ast.literal_eval(argument) for argument in node.args)
            targets[f"{name}.{function[0] if function else 'run'}"] = name
        elif isinstance(node, ast.ImportFrom) and node.module and _command_of(node.module):
            targets[f"{_command_of(node.module)}.run"] = str(_command_of(node.module))
    return targets


def test_every_folder_is_a_command_cli_dispatches_to() -> None:
    """Each folder's ``command.py`` holds what cli.py runs for it, and every folder is a command."""
    dispatched = _dispatched()
    for target in dispatched:
        name, _, function = target.partition(".")
        assert callable(getattr(importlib.import_module(f"recordings_kms.{name}.command"), function)), target
    assert sorted(set(dispatched.values())) == COMMANDS
    assert COMMANDS == ["import_check", "migrate", "policy", "prove", "teleport_config", "upgrade_check", "verify"]


@pytest.mark.parametrize("path", sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in ENTRIES))
def test_a_shared_module_never_imports_a_command(path: str) -> None:
    commands = sorted({name for name in _imports(PACKAGE / path) if _command_of(name)})
    assert commands == [], f"recordings_kms/{path} is shared by the commands and must not import one"


@pytest.mark.parametrize("command", COMMANDS)
def test_a_command_never_imports_another(command: str) -> None:
    others = sorted(
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in (PACKAGE / command).rglob("*.py")
        for name in _imports(path)
        if _command_of(name) not in (None, command)
    )
    assert others == [], "what two commands need belongs in a shared module beside cli.py"
