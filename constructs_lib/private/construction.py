"""How the constructs take their settings: as keywords or one object, validated once, nothing left on failure."""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

import aws_cdk as cdk
from constructs import Construct, IConstruct

from constructs_lib.core.kinds import Environment
from constructs_lib.core.problems import Problem, Severity, hint
from constructs_lib.core.settings import InvalidSettingsError, SettingsType, _Settings, render, specs, validate

_Params = ParamSpec("_Params")
_Props = ParamSpec("_Props")
_Built = TypeVar("_Built", bound=Construct)


def settings_as_keywords(
    props: Callable[_Props, object], **groups: type[_Settings]
) -> Callable[[Callable[..., None]], Callable[Concatenate[Any, Construct, str, _Props], None]]:
    """A construct's ``__init__`` that also takes each setting as a keyword, as aws-cdk constructs take their props.

    ``groups`` names the settings parameters of ``__init__`` and their group (``settings=KeySettings``):
    ``RecordingsKey(self, "Key", key_admins=[role], ...)`` is ``RecordingsKey(self, "Key",
    settings=KeySettings(key_admins=[role]), ...)``, the same object built the same way, so that both
    spellings validate, build and fail alike. A keyword the construct takes itself stays its own
    (``RecordingsBucket``'s ``bucket_name``). Passing a group's settings object and keywords of that
    group is refused, naming the keywords: which would win is not obvious, so neither does. An unknown
    keyword is an ``InvalidSettingsError`` naming it (with the setting meant), as an unknown
    ``cdk.json`` name is.

    For type checkers the decorated ``__init__`` takes ``props``'s parameters: a frozen dataclass
    deriving from the groups that declares the construct's own keywords too (``RecordingsKeyProps``),
    so that a caller's misspelt keyword or wrong type is a type error. Its fields must be exactly the
    construct's keywords and the groups' settings (checked here, when the class is defined).
    """

    def decorate(init: Callable[..., None]) -> Callable[Concatenate[Any, Construct, str, _Props], None]:
        parameters = inspect.signature(init).parameters
        own = {name for name, p in parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
        routes: dict[str, str] = {}
        for parameter, group in groups.items():
            for declared in specs(group):
                if declared.name not in own:
                    routes.setdefault(declared.name, parameter)
        _refuse_props_that_differ(props, init, own, set(routes))

        def build(self: Any, /, *positional: Any, **keywords: Any) -> None:
            passed: dict[str, Any] = {name: keywords.pop(name) for name in ("scope", "id") if name in keywords}
            grouped: dict[str, dict[str, Any]] = {}
            problems = []
            for name, value in keywords.items():
                if name in own:
                    passed[name] = value
                elif name in routes:
                    grouped.setdefault(routes[name], {})[name] = value
                else:
                    known = sorted(own | set(routes))
                    meant = hint(name, known)
                    problems.append(
                        Problem(
                            name,
                            value,
                            f"a keyword {type(self).__name__} takes{meant or ': ' + ', '.join(known)}",
                            verbatim=True,
                        )
                    )
            for parameter, given in grouped.items():
                if passed.get(parameter) is not None:
                    problems += [
                        Problem(
                            name,
                            value,
                            f"left out when {parameter}= is given (give every setting of {groups[parameter].__name__} "
                            f"as a keyword or all of them in {parameter}=, not both)",
                        )
                        for name, value in given.items()
                    ]
            if problems:
                raise InvalidSettingsError(problems)
            for parameter, given in grouped.items():
                passed[parameter] = groups[parameter](**given)
            init(self, *positional, **passed)

        functools.update_wrapper(build, init)
        return build

    return decorate


def _refuse_props_that_differ(props: object, init: Callable[..., None], own: set[str], settings: set[str]) -> None:
    """The typed keywords (``props``'s fields) must be the keywords ``__init__`` accepts, with the same defaults."""
    if not (isinstance(props, type) and dataclasses.is_dataclass(props)):
        raise TypeError(f"{init.__qualname__}: the props of settings_as_keywords must be a dataclass, got {props!r}")
    fields = {f.name: f for f in dataclasses.fields(props) if f.init}
    parameters = inspect.signature(init).parameters
    differences = sorted(set(fields) ^ (own | settings))
    for name in own & set(fields):
        typed, accepted = fields[name], parameters[name]
        default = inspect.Parameter.empty if typed.default is dataclasses.MISSING else typed.default
        if (default, str(typed.type)) != (accepted.default, str(accepted.annotation)):
            differences.append(name)
    if differences:
        raise TypeError(f"{init.__qualname__} and {props.__name__} differ in {', '.join(differences)}")


def removed_on_failure(
    init: Callable[Concatenate[_Built, _Params], None],
) -> Callable[Concatenate[_Built, _Params], None]:
    """A construct's ``__init__`` that, when it raises, takes the half-built construct out of the tree again.

    ``super().__init__`` adds a construct to its scope before its settings are judged: left there after
    an ``InvalidSettingsError``, it would break the rest of the app (validations and lookups that find a
    construct without its attributes, names derived from "the first construct of a stack", its id taken).
    """

    def build(self: _Built, /, *args: _Params.args, **kwargs: _Params.kwargs) -> None:
        try:
            init(self, *args, **kwargs)
        except Exception:
            _take_out_of_the_tree(self)
            raise

    functools.update_wrapper(build, init)
    return build


def _take_out_of_the_tree(construct: Construct) -> None:
    try:
        node = construct.node
    except Exception:  # its super().__init__ failed: it never entered the tree
        return
    scope = node.scope
    if scope is not None and scope.node.try_find_child(node.id) is construct:
        scope.node.try_remove_child(node.id)


def settings_of(given: object, expected: type[SettingsType]) -> SettingsType:
    """``given`` when it is the construct's settings type (``None``: the defaults); else one clear error."""
    if given is None:
        return expected()
    if not isinstance(given, expected):
        raise InvalidSettingsError(
            [Problem("settings", given, f"a {expected.__name__} (or nothing, for the defaults)")]
        )
    return given


def check_settings(scope: Construct, settings: _Settings, env: Environment) -> None:
    """Validate once (errors raise ``InvalidSettingsError``); warnings become CDK warnings on ``scope``."""
    for problem in validate(settings, env, remember=True):
        _warn(scope, problem, settings)


def _warn(scope: IConstruct, problem: Problem, settings: _Settings) -> None:
    if problem.severity is Severity.WARNING:
        cdk.Annotations.of(scope).add_warning_v2(
            problem.code or "teleport-recordings:setting", render(problem, settings)
        )
