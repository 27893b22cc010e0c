"""How the constructs take their settings: validated once, warnings as CDK warnings, nothing left on failure."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

import aws_cdk as cdk
from constructs import Construct, IConstruct

from constructs_lib.core.kinds import Environment
from constructs_lib.core.problems import Problem, Severity
from constructs_lib.core.settings import InvalidSettingsError, SettingsType, _Settings, render, validate

_Params = ParamSpec("_Params")
_Built = TypeVar("_Built", bound=Construct)


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
