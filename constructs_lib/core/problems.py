"""Problems with settings, and how they are told to the person who made them (pure).

A :class:`Problem` names a setting by its Python name. It is rendered in the spelling of the
caller: the ``cdk.json`` context name for ``cdk synth -c``, the keyword for Python, the option for
the ``recordings-kms`` command. Values are shown as JSON-like text (``"records\\n"``, ``null`` is
never shown: an unset value reads "nothing"), never as Python reprs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum


class Spelling(StrEnum):
    """How the caller named the settings."""

    PYTHON = "python"
    CONTEXT = "context"
    CLI = "cli"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


#: Maps a setting's Python name to the name the caller used.
Label = Callable[[str], str]


def show(value: object, spelling: Spelling = Spelling.PYTHON) -> str:
    """A value as the caller would write it; strings keep their escapes visible (``"a\\n"``)."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        if spelling is Spelling.PYTHON:
            return "True" if value else "False"
        return "true" if value else "false"
    if isinstance(value, Enum):
        return show(value.value, spelling)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(v, spelling) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{show(k, spelling)}: {show(v, spelling)}" for k, v in value.items()) + "}"
    return f"an object of type {type(value).__name__}"


@dataclass(frozen=True)
class Problem:
    """One problem: which setting, the value received, what would be allowed, and how bad it is.

    ``allowed`` may refer to other settings as ``{python_name}``; they are rendered in the same
    spelling as the setting itself.
    """

    setting: str
    value: object
    allowed: str
    severity: Severity = Severity.ERROR
    #: ``setting`` is a name as the caller wrote it (an unknown one): never relabelled.
    verbatim: bool = False
    #: Warnings carry a stable id (CDK acknowledges warnings by id).
    code: str = ""

    def render(self, label: Label = str, spelling: Spelling = Spelling.PYTHON) -> str:
        allowed = re.sub(r"\{([a-z0-9_]+)\}", lambda m: label(m.group(1)), self.allowed)
        setting = self.setting if self.verbatim else label(self.setting)
        if self.severity is Severity.WARNING:
            return f"'{setting}' is {show(self.value, spelling)}: {allowed}"
        return f"'{setting}' must be {allowed}, got {show(self.value, spelling)}"


def warning(setting: str, value: object, message: str, code: str) -> Problem:
    return Problem(setting, value, message, Severity.WARNING, code=code)


class InvalidSettingsError(ValueError):
    """Raised once with every error of a configuration, before anything is built."""

    def __init__(self, problems: Sequence[Problem], label: Label = str, spelling: Spelling = Spelling.PYTHON) -> None:
        self.problems = tuple(problems)
        self.spelling = spelling
        self.lines = tuple(p.render(label, spelling) for p in self.problems)
        count = len(self.problems)
        listing = "\n".join(f"  - {line}" for line in self.lines)
        super().__init__(f"{count} invalid setting{'s' if count != 1 else ''}:\n{listing}")


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity is Severity.ERROR]


def warnings(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity is Severity.WARNING]
