"""Problems with settings, and how they are told to the person who made them (pure).

A :class:`Problem` names a setting by its Python name. It is rendered in the spelling of the
caller: the ``cdk.json`` context name for ``cdk synth -c``, the keyword for Python, the option for
the ``recordings-kms`` command. Values are shown as JSON-like text (``"records\\n"``, ``null`` is
never shown: an unset value reads "nothing"), never as Python reprs. Every character that is not
printable ASCII is shown escaped (``"eu-west-1\\u200b"``): every value the settings accept is ASCII,
so an invisible or look-alike character is always the culprit, and must not look valid in the
message. A long value is cut (its length said), so that one bad value cannot bury the others.
"""

from __future__ import annotations

import difflib
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


#: Characters of a string value shown in a message; longer values are cut there.
SHOWN_CHARACTERS = 120
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if " " <= char <= "~":
        return char
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _cut(text: str) -> str:
    return "".join(_escaped(c) for c in text[:SHOWN_CHARACTERS])


def escaped(text: str) -> str:
    """``text`` with every character but printable ASCII escaped, cut after SHOWN_CHARACTERS."""
    return _cut(text) if len(text) <= SHOWN_CHARACTERS else f"{_cut(text)}... ({len(text)} characters)"


def quoted(text: str) -> str:
    """``text`` in double quotes, escaped and cut as :func:`escaped` does (the length outside the quotes)."""
    return f'"{_cut(text)}"' if len(text) <= SHOWN_CHARACTERS else f'"{_cut(text)}..." ({len(text)} characters)'


def folded(text: str) -> str:
    """``text`` without case, dashes, underscores, spaces and invisible characters: how a near-miss compares."""
    return "".join(c for c in text.lower() if c.isprintable() and c not in "-_ ")


def did_you_mean(value: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``value`` most likely means (same letters in another case or with other separators,
    else the closest spelling), or ``None``."""
    listed = list(candidates)
    by_fold = {folded(c): c for c in listed}
    if folded(value) in by_fold:
        return by_fold[folded(value)]
    lowered = {c.lower(): c for c in listed}
    close = difflib.get_close_matches(value.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


def hint(value: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for :func:`did_you_mean`, or nothing."""
    meant = did_you_mean(value, candidates)
    return f" (did you mean '{meant}'?)" if meant is not None and meant != value else ""


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
        return quoted(value)
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
        setting = escaped(self.setting) if self.verbatim else label(self.setting)
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


class NameClashError(InvalidSettingsError):
    """Two constructs of one app would deploy the same physical name (each clash is told once)."""


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity is Severity.ERROR]


def warnings(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity is Severity.WARNING]
