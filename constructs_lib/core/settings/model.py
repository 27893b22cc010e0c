"""The settings machinery: how a setting is declared, parsed, judged and worded (pure).

A group of settings is a frozen dataclass deriving from :class:`_Settings`, each field made with
:func:`setting` and carrying its :class:`Spec`; a rule across settings is a function registered with
:func:`rule` on the group whose fields it reads. :func:`check` runs the kinds' checks and every rule
registered on a group the settings belong to; :func:`validate` raises the errors as one
:class:`InvalidSettingsError`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from constructs_lib.core.kinds import EMPTY_ITEM, EMPTY_VALUE, Environment, Kind, KindError, is_empty
from constructs_lib.core.problems import (
    InvalidSettingsError,
    Label,
    Problem,
    Severity,
    Spelling,
    errors,
    folded,
    hint,
    warnings,
)


@dataclass(frozen=True)
class Spec:
    """How one setting is named, typed and documented outside Python."""

    #: The ``cdk.json`` / ``cdk synth -c`` name.
    context: str
    kind: Kind
    #: One line for the README and ``--help``: what the setting does and why.
    doc: str
    #: The ``recordings-kms`` option, where a command takes this setting.
    cli: str | None = None
    #: The default as behaviour, when the Python default (often ``None``) does not say it.
    default_doc: str | None = None


def setting(default: Any, spec: Spec) -> Any:
    """A dataclass field carrying its :class:`Spec`."""
    return field(default=default, metadata={"spec": spec})


@dataclass(frozen=True)
class Declared:
    """A setting as the model declares it: its Python name, default and :class:`Spec`."""

    name: str
    default: Any
    spec: Spec

    @property
    def context(self) -> str:
        return self.spec.context

    def label(self, spelling: Spelling) -> str:
        if spelling is Spelling.CONTEXT:
            return self.spec.context
        if spelling is Spelling.CLI:
            return self.spec.cli or self.spec.context
        return self.name


def specs(group: type[_Settings] | _Settings) -> list[Declared]:
    """The declared settings of a group, in declaration order."""
    return [Declared(f.name, f.default, f.metadata["spec"]) for f in dataclasses.fields(group) if "spec" in f.metadata]


@dataclass(frozen=True, kw_only=True)
class _Settings:
    """What every group shares: how the values were spelled, and what failed to parse."""

    _spelling: Spelling = field(default=Spelling.PYTHON, init=False, compare=False, repr=False)
    _parse_problems: tuple[Problem, ...] = field(default=(), init=False, compare=False, repr=False)
    #: Settings the caller gave explicitly (context and CLI); Python callers: those differing from defaults.
    _given: frozenset[str] = field(default=frozenset(), init=False, compare=False, repr=False)
    #: Where each value came from, for messages (``{"region": "CDK_DEFAULT_REGION"}``).
    _sources: tuple[tuple[str, str], ...] = field(default=(), init=False, compare=False, repr=False)
    #: Set once :func:`validate` accepted these settings with ``remember=True`` (constructs validate once).
    _validated: bool = field(default=False, init=False, compare=False, repr=False)

    _PRIVATE: ClassVar[tuple[str, ...]] = ("_spelling", "_parse_problems", "_given", "_sources")
    #: The group's heading in the README's settings tables; an aggregate of groups declares none.
    heading: ClassVar[str] = ""

    def __post_init__(self) -> None:
        for declared in specs(self):
            value = getattr(self, declared.name)
            object.__setattr__(self, declared.name, declared.spec.kind.normalize(value))

    @property
    def spelling(self) -> Spelling:
        return self._spelling

    @property
    def sources(self) -> dict[str, str]:
        return dict(self._sources)

    def given(self, name: str) -> bool:
        """Whether the caller set ``name`` (explicitly in context/CLI; away from the default in Python)."""
        if self._spelling is Spelling.PYTHON:
            declared = next(d for d in specs(self) if d.name == name)
            return bool(getattr(self, name) != declared.default)
        return name in self._given

    def replaced(self: SettingsType, *, still_valid: bool = False, **changes: Any) -> SettingsType:
        """A copy with ``changes``, keeping how the settings were spelled (and what failed to parse).

        ``still_valid``: the changes are the package's own resolved defaults (a derived bucket name),
        so a copy of validated settings needs no second validation.
        """
        made = dataclasses.replace(self, **changes)
        for name in self._PRIVATE:
            object.__setattr__(made, name, getattr(self, name))
        object.__setattr__(made, "_validated", still_valid and self._validated)
        return made

    def label(self) -> Label:
        names = {d.name: d.label(self._spelling) for d in specs(self)}
        return lambda name: names.get(name, name)

    # -- constructing from text ---------------------------------------------------------------------

    @classmethod
    def from_context(
        cls: type[SettingsType], context: Mapping[str, Any], *, environ: Mapping[str, str] | None = None
    ) -> SettingsType:
        """Settings from CDK context (``cdk.json`` and ``-c name=value``); never raises.

        Values that do not parse are left at their defaults and reported by :func:`check`, together
        with every other problem. Unknown camelCase names are reported as typos. ``environ``
        supplies defaults that come from the environment (the CDK CLI's ``CDK_DEFAULT_ACCOUNT``
        and ``CDK_DEFAULT_REGION``), for the groups that have such settings.
        """
        declared = {d.context: d for d in specs(cls)}
        values: dict[str, Any] = {}
        problems: list[Problem] = []
        for name, raw in context.items():
            found = declared.get(name)
            if found is None:
                problems += _unknown_name(name, raw, declared)
                continue
            parsed = _parsed(found, raw)
            if isinstance(parsed, Problem):
                problems.append(parsed)
            else:
                values[found.name] = parsed
        sources = dict.fromkeys(values, "context (cdk.json or -c)")
        given = {declared[name].name for name in context if name in declared}
        for name, (variable, value) in cls._environment_defaults(environ or {}).items():
            if name not in given and value:  # a value given but refused never falls back to the environment
                values[name] = value
                sources[name] = variable
        return cls._made(values, Spelling.CONTEXT, problems, frozenset(values), sources)

    @classmethod
    def from_options(cls: type[SettingsType], options: Mapping[str, Any]) -> SettingsType:
        """Settings from ``recordings-kms`` options, keyed by Python name (argparse ``dest``)."""
        declared = {d.name: d for d in specs(cls)}
        values: dict[str, Any] = {}
        problems: list[Problem] = []
        for name, raw in options.items():
            if raw is None or raw == []:
                continue
            parsed = _parsed(declared[name], list(raw) if isinstance(raw, tuple) else raw)
            if isinstance(parsed, Problem):
                problems.append(parsed)
            else:
                values[name] = parsed
        return cls._made(values, Spelling.CLI, problems, frozenset(values), {})

    @classmethod
    def _environment_defaults(cls, environ: Mapping[str, str]) -> dict[str, tuple[str, str | None]]:
        return {}

    @classmethod
    def _made(
        cls: type[SettingsType],
        values: dict[str, Any],
        spelling: Spelling,
        problems: list[Problem],
        given: frozenset[str],
        sources: Mapping[str, str],
    ) -> SettingsType:
        made = cls(**{k: v for k, v in values.items() if v is not None})
        object.__setattr__(made, "_spelling", spelling)
        object.__setattr__(made, "_parse_problems", tuple(problems))
        object.__setattr__(made, "_given", given)
        object.__setattr__(made, "_sources", tuple(sorted(sources.items())))
        return made


SettingsType = TypeVar("SettingsType", bound=_Settings)


def _parsed(declared: Declared, raw: object) -> object:
    """A context or option value parsed by its kind, or the :class:`Problem` that stops it.

    One rule for every setting: an empty value is refused (it is never "unset": ``-c account=$ACCOUNT``
    with ``ACCOUNT`` unset must not quietly give an account-agnostic template); leave a setting out
    for its default.
    """
    if is_empty(raw):
        return Problem(declared.name, raw, EMPTY_VALUE)
    try:
        return declared.spec.kind.parse(raw)
    except KindError as error:
        return Problem(declared.name, raw, str(error))


def _looks_like_setting(name: str, declared: Mapping[str, Declared]) -> bool:
    """A plain camelCase word (CDK's own context keys hold ':' or '@'), or a spelling of one of ours
    (another case, dashes, underscores, an invisible character)."""
    return re.fullmatch(r"[a-z][A-Za-z0-9]*", name) is not None or folded(name) in {folded(c) for c in declared}


def _unknown_name(name: str, raw: object, declared: Mapping[str, Declared]) -> list[Problem]:
    if not _looks_like_setting(name, declared):
        return []
    meant = hint(name, declared)
    allowed = f"a known setting{meant}" if meant else "a known setting: " + ", ".join(declared)
    return [Problem(name, raw, allowed, verbatim=True)]


# --- rules across settings --------------------------------------------------------------------------

Rule = Callable[[Any, Environment], Iterable[Problem]]


@dataclass(frozen=True)
class _RegisteredRule:
    group: type[_Settings]
    reads: tuple[str, ...]
    check: Rule


_RULES: list[_RegisteredRule] = []


def rule(group: type[_Settings], *reads: str) -> Callable[[Rule], Rule]:
    """Register a rule over ``group``'s settings; it is skipped when a setting it reads is malformed."""

    def register(function: Rule) -> Rule:
        _RULES.append(_RegisteredRule(group, reads, function))
        return function

    return register


def _folded(values: Iterable[str]) -> set[str]:
    return {v.lower() for v in values}


def overlap(setting: str, values: Sequence[str], other: str, others: Iterable[str], why: str) -> Iterator[Problem]:
    """A principal listed in ``setting`` that ``other`` lists too (IAM names ignore case)."""
    taken = _folded(others)
    for value in values:
        if value.lower() in taken:
            yield Problem(setting, value, f"a principal not also given as '{{{other}}}' ({why})")


# --- checking ------------------------------------------------------------------------------------------


def check(settings: _Settings, env: Environment | None = None) -> list[Problem]:
    """Every problem of ``settings``, errors and warnings, in declaration order."""
    env = env or Environment()
    problems = list(settings._parse_problems)
    malformed = {p.setting for p in problems}
    for declared in specs(settings):
        value = getattr(settings, declared.name)
        if declared.name in malformed:
            continue
        empty = _empty_problem(declared.name, value)
        if empty is not None:
            problems.append(empty)
            malformed.add(declared.name)
            continue
        if not (declared.spec.kind.admits(value) or env.is_unresolved(value)):
            problems.append(Problem(declared.name, value, declared.spec.kind.python_type))
            malformed.add(declared.name)
            continue
        found = declared.spec.kind.check(declared.name, value, env)
        problems += found
        malformed |= {p.setting for p in errors(found)}
    for registered in _rules_of(type(settings)):
        if not malformed.intersection(registered.reads):
            problems += registered.check(settings, env)
    return problems


def _rules_of(group: type[_Settings]) -> list[_RegisteredRule]:
    """The rules over ``group`` and the groups it holds, in the order their fields are declared (the parts'
    rules before the aggregate's, each group's in the order of its module), whatever order the modules were
    imported in."""
    order = {cls: position for position, cls in enumerate(reversed(group.__mro__))}
    held = [registered for registered in _RULES if registered.group in order]
    return sorted(held, key=lambda registered: order[registered.group])


def _empty_problem(name: str, value: object) -> Problem | None:
    """The empty-value rule for Python values (context and options are judged as they are parsed)."""
    if is_empty(value):
        return Problem(name, value, EMPTY_VALUE)
    if isinstance(value, list | tuple) and any(is_empty(item) for item in value):
        return Problem(name, value, EMPTY_ITEM)
    return None


def validate(settings: _Settings, env: Environment | None = None, *, remember: bool = False) -> list[Problem]:
    """Raise one :class:`InvalidSettingsError` with every error; return the warnings.

    With ``remember``, settings already accepted that way are not checked again (and their warnings
    not returned again): a construct validates its settings once, and the parts it builds from the
    same settings object skip the work.
    """
    if remember and settings._validated:
        return []
    problems = check(settings, env)
    found = errors(problems)
    if found:
        raise InvalidSettingsError(found, settings.label(), settings.spelling)
    if remember:
        object.__setattr__(settings, "_validated", True)
    return warnings(problems)


def render(problem: Problem, settings: _Settings) -> str:
    """One problem worded in the settings' spelling."""
    return problem.render(settings.label(), settings.spelling)


def is_error(problem: Problem) -> bool:
    return problem.severity is Severity.ERROR
