"""The kinds of value a setting can hold: how each is parsed, type-checked, judged and documented.

A kind knows three ways a value arrives: typed Python values (``StorageSettings(key_admins=[...])``),
text or JSON from CDK context (``cdk.json``, ``cdk synth -c name=value``), and text from the
``recordings-kms`` command line. Every kind judges values the same way whichever way they came,
and skips values that are CDK tokens (known only at deployment): the caller's
:class:`Environment` says what is a token, so that this module never imports CDK.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from constructs_lib.core import arns
from constructs_lib.core.problems import Problem, hint, warning


class KindError(ValueError):
    """A raw value that cannot be turned into the setting's type; the text says what is allowed."""


@runtime_checkable
class PrincipalObject(Protocol):
    """Anything shaped like CDK's ``iam.IPrincipal`` (``iam.IRole``, ``iam.IUser``, ``iam.ArnPrincipal``...)."""

    @property
    def policy_fragment(self) -> object: ...


@runtime_checkable
class BucketObject(Protocol):
    """Anything shaped like CDK's ``s3.IBucket``."""

    @property
    def bucket_name(self) -> str: ...


#: A principal as Python callers give it: an ARN, or a CDK principal object.
PrincipalInput = str | PrincipalObject


def _never(_: object) -> bool:
    return False


def _no_principal_objects(_: object) -> str | None:
    return None


@dataclass(frozen=True)
class Environment:
    """What the caller knows about where the settings will be deployed.

    The CDK adapter fills it from the stack (partition, account and region when concrete, the
    role CloudFormation deploys with, how to tell a token, how to read a principal object's ARN);
    the CLI fills it from its options. Unknown facts are ``None`` and the rules that need them
    are skipped.
    """

    partition: str | None = None
    account: str | None = None
    region: str | None = None
    #: A regular expression matching the role that deploys the stack when it is only known as a
    #: template (``cdk-QUALIFIER-cfn-exec-role-${AWS::AccountId}-...``), to refuse denying it.
    deploy_role_pattern: str | None = None
    #: Why the role that deploys the stack cannot be known (a synthesizer without one); empty when known.
    deploy_role_unknown: str = ""
    is_unresolved: Callable[[object], bool] = field(default=_never, compare=False)
    #: The ARN of a principal object (may be a token); ``None`` for objects with no single IAM ARN.
    principal_arn: Callable[[object], str | None] = field(default=_no_principal_objects, compare=False)


class Kind:
    """Base of every kind; subclasses override what differs."""

    #: The README's "Type" column.
    doc: str = ""
    #: What a wrong Python type is told ("a string").
    python_type: str = ""

    def parse(self, raw: object) -> object:
        """A value from CDK context or the command line (text, or JSON from cdk.json)."""
        return raw

    def admits(self, value: object) -> bool:
        """Whether a Python value has this kind's type (tokens are strings and pass)."""
        return True

    def check(self, setting: str, value: object, env: Environment) -> list[Problem]:
        """Problems of a value of the right type; tokens are never judged."""
        return []

    def normalize(self, value: object) -> object:
        """The value a settings object keeps (lists become tuples, whole floats ints)."""
        return normalized(value)

    def argparse(self) -> dict[str, Any]:
        return {"metavar": "VALUE"}


class Text(Kind):
    """A string judged by ``rule`` (a function returning what is allowed, or ``None`` when fine)."""

    python_type = "a string"

    def __init__(self, doc: str, rule: Callable[[str], str | None] | None = None, *, optional: bool = False) -> None:
        self.doc = doc
        self.rule = rule
        self.optional = optional

    def parse(self, raw: object) -> object:
        if not isinstance(raw, str):
            raise KindError(self.python_type)
        return raw.strip()

    def admits(self, value: object) -> bool:
        return isinstance(value, str) or (self.optional and value is None)

    def check(self, setting: str, value: object, env: Environment) -> list[Problem]:
        if value is None or self.rule is None or env.is_unresolved(value):
            return []
        allowed = self.rule(str(value))
        return [Problem(setting, value, allowed)] if allowed else []

    def argparse(self) -> dict[str, Any]:
        return {"metavar": "TEXT"}


class Bool(Kind):
    doc = "boolean"
    python_type = "True or False"

    def parse(self, raw: object) -> object:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
            return raw.strip().lower() == "true"
        raise KindError("true or false")

    def admits(self, value: object) -> bool:
        return isinstance(value, bool)

    def argparse(self) -> dict[str, Any]:
        return {"action": "store_true"}


#: A number as JSON writes it (``365``, ``365.0``, ``3.65e2``); leading zeros are tolerated.
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?", re.ASCII)


class Days(Kind):
    """A whole number of days in ``low..high``.

    One rule in every spelling: a number whose value is whole, however it is written. ``cdk.json``
    cannot tell ``365.0`` from ``365`` (the CDK CLI passes context through JavaScript numbers), so
    ``-c keyRotationDays=365.0`` and Python's ``365.0`` are accepted too; ``7.5`` never is.
    """

    python_type = "a whole number (an int, or a float with a whole value)"

    def __init__(self, low: int, high: int, *, optional: bool = False) -> None:
        self.low, self.high = low, high
        self.optional = optional
        self.doc = f"integer {low}..{high}"

    def parse(self, raw: object) -> object:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            if _whole(raw):
                return int(raw)
            raise KindError("a whole number")
        if isinstance(raw, str) and _NUMBER.fullmatch(raw.strip()):
            number = Decimal(raw.strip())  # the pattern admits numbers only
            if number != number.to_integral_value():
                raise KindError("a whole number")
            if number.adjusted() > 9:  # int() of 1e999999 would take a while
                raise KindError(f"a whole number of days from {self.low} to {self.high}")
            return int(number)
        raise KindError("a whole number")

    def admits(self, value: object) -> bool:
        whole = isinstance(value, int | float) and not isinstance(value, bool) and _whole(value)
        return whole or (self.optional and value is None)

    def check(self, setting: str, value: object, env: Environment) -> list[Problem]:
        if env.is_unresolved(value) or not isinstance(value, int | float) or self.low <= value <= self.high:
            return []
        return [Problem(setting, value, f"a whole number of days from {self.low} to {self.high}")]

    def normalize(self, value: object) -> object:
        return int(value) if isinstance(value, float) and _whole(value) else super().normalize(value)

    def argparse(self) -> dict[str, Any]:
        return {"metavar": "DAYS", "type": int}


def _whole(number: int | float) -> bool:
    return isinstance(number, int) or (math.isfinite(number) and number.is_integer())


class Choice(Kind):
    """One of an enumeration's values; Python callers may pass the enum member or its value.

    Values are exact (``irsa``, not ``IRSA``): the same text every spelling, as they are shown in
    templates and outputs. A near miss is told what was meant.
    """

    def __init__(self, choices: type[StrEnum], *, optional: bool = False) -> None:
        self.choices = choices
        #: ``None`` is admitted (a default that says "as another setting", in its ``default_doc``).
        self.optional = optional
        self.values = [c.value for c in choices]
        self.doc = " \\| ".join(f"`{v}`" for v in self.values)
        self.python_type = f"one of {self._listed()}"

    def _listed(self) -> str:
        return ", ".join(json.dumps(v) for v in self.values)

    def allowed(self, value: str) -> str:
        return f"one of {self._listed()}{hint(value, self.values)}"

    def parse(self, raw: object) -> object:
        if isinstance(raw, str) and raw.strip() in self.values:
            return self.choices(raw.strip())
        raise KindError(self.allowed(raw) if isinstance(raw, str) else self.python_type)

    def admits(self, value: object) -> bool:
        return isinstance(value, str) or (self.optional and value is None)

    def check(self, setting: str, value: object, env: Environment) -> list[Problem]:
        if not isinstance(value, str) or value in self.values or env.is_unresolved(value):
            return []
        return [Problem(setting, value, self.allowed(value))]

    def argparse(self) -> dict[str, Any]:
        # The values are judged by the model (one message for every spelling), not by argparse's choices.
        return {"metavar": "{" + ",".join(self.values) + "}"}


# --- principals ------------------------------------------------------------------------------------


def _principal_problem(
    setting: str, value: str, kinds: tuple[str, ...], example: str, env: Environment
) -> list[Problem]:
    """Problems of one principal ARN: its shape, the refused root, the partition, SSO paths."""
    principal = arns.parse_iam_principal(value)
    if principal is None or principal.kind not in kinds:
        why = arns.why_not_iam_principal(value, kinds) if principal is None else f"this is an IAM {principal.kind} ARN"
        if principal is not None and principal.kind == "root":
            why = "the account root principal stands for every IAM identity of the account"
        return [Problem(setting, value, example + (f" ({why})" if why else ""))]
    problems: list[Problem] = []
    if env.partition is not None and principal.partition != env.partition:
        problems.append(
            Problem(setting, value, f"an ARN in the stack's partition {env.partition!r}, not {principal.partition!r}")
        )
    if arns.is_sso_role_without_path(principal):
        problems.append(
            warning(
                setting,
                value,
                "IAM Identity Center roles live under the path /aws-reserved/sso.amazonaws.com/ (sometimes with a "
                "region after it); an ARN without that path names no role, and KMS refuses a key policy naming a "
                "principal that does not exist: copy the role's ARN from the IAM console",
                code="teleport-recordings:ssoRoleWithoutPath",
            )
        )
    return problems


def _described(kinds: tuple[str, ...]) -> tuple[str, str]:
    names = {"role": "role", "user": "user", "root": "account root"}
    listed = [names[k] for k in kinds]
    text = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " or " + listed[-1]
    example = "arn:aws:iam::123456789012:role/NAME" if "role" in kinds else "arn:aws:iam::123456789012:user/NAME"
    return text, example


class Principal(Kind):
    """One IAM principal: an ARN string, or (from Python) a CDK principal object."""

    def __init__(
        self, kinds: tuple[str, ...], *, objects: bool = True, optional: bool = True, doc: str | None = None
    ) -> None:
        self.kinds = kinds
        self.objects = objects
        self.optional = optional
        text, example = _described(kinds)
        self.doc = doc or f"IAM {text} ARN"
        self.allowed = f"an IAM {text} ARN like {example}"
        self.python_type = self.allowed + (" or an iam principal object (iam.IRole, iam.IUser)" if objects else "")

    def parse(self, raw: object) -> object:
        if not isinstance(raw, str):
            raise KindError("a string")
        return raw.strip()

    def admits(self, value: object) -> bool:
        if value is None:
            return self.optional
        return isinstance(value, str) or (self.objects and isinstance(value, PrincipalObject))

    def check(self, setting: str, value: object, env: Environment) -> list[Problem]:
        arn = principal_arn(value, env)
        if arn is None:
            if value is not None and not isinstance(value, str) and not env.is_unresolved(value):
                return [Problem(setting, value, f"{self.allowed}: this principal object has no single IAM ARN")]
            return []
        return [] if env.is_unresolved(arn) else _principal_problem(setting, arn, self.kinds, self.allowed, env)

    def argparse(self) -> dict[str, Any]:
        return {"metavar": "ARN"}


class PrincipalList(Kind):
    """IAM role and user ARNs (and, from Python, principal objects); the account root is refused."""

    kinds = ("role", "user")

    def __init__(self) -> None:
        self.doc = "list of IAM role/user ARNs"
        self.allowed = "IAM role or user ARNs like arn:aws:iam::123456789012:role/NAME"
        self.python_type = (
            "a list (or tuple) of IAM role/user ARNs or iam principal objects; a single ARN still goes in a list"
        )

    def parse(self, raw: object) -> object:
        if isinstance(raw, str):
            text = raw.strip()
            if not text.startswith("["):
                return _without_empty_items(text.split(","))
            try:
                raw = json.loads(text)
            except json.JSONDecodeError as error:
                raise KindError("a JSON array of strings or a comma-separated list") from error
        if isinstance(raw, list) and all(isinstance(item, str) for item in raw):
            return _without_empty_items(raw)
        raise KindError("a JSON array of strings or a comma-separated list")

    def admits(self, value: object) -> bool:
        return isinstance(value, list | tuple) and all(isinstance(item, str | PrincipalObject) for item in value)

    def check(self, setting: str, value: object, env: Environment) -> list[Problem]:
        if not isinstance(value, list | tuple):
            return []
        problems: list[Problem] = []
        seen: set[str] = set()
        for item in value:
            arn = principal_arn(item, env)
            if arn is None:
                problems.append(Problem(setting, item, f"{self.allowed}: this principal object has no single IAM ARN"))
                continue
            if env.is_unresolved(arn):
                continue
            if arn.lower() in seen:
                problems.append(Problem(setting, arn, "a list without duplicates (IAM names ignore case)"))
            seen.add(arn.lower())
            problems += _principal_problem(setting, arn, self.kinds, self.allowed, env)
        return problems

    def argparse(self) -> dict[str, Any]:
        return {"metavar": "ARN", "nargs": "+", "action": "extend", "default": []}


#: What an empty value or list item is told, in every spelling (README: Settings, empty values).
EMPTY_VALUE = (
    "a value, not an empty one (an empty value is often an unset shell variable: leave the setting out for its default)"
)
EMPTY_ITEM = "a list without empty items (an empty item is often an unset shell variable)"


def is_empty(value: object) -> bool:
    """A string of nothing but whitespace."""
    return isinstance(value, str) and value.strip() == ""


def _without_empty_items(items: list[str]) -> tuple[str, ...]:
    """The items stripped; an empty one (``a,,b``, a trailing comma) is refused, never dropped."""
    if any(is_empty(item) for item in items):
        raise KindError(EMPTY_ITEM)
    return tuple(item.strip() for item in items)


def principal_arn(value: object, env: Environment) -> str | None:
    """The ARN of a principal setting's value: the string itself, or the object's ARN (maybe a token)."""
    if isinstance(value, str):
        return value
    if value is None:
        return None
    return env.principal_arn(value)


def principal_kind(value: object, env: Environment) -> str | None:
    """``role``, ``user`` or ``root``: from the ARN, or (an ARN known only at deployment) the object's shape."""
    arn = principal_arn(value, env)
    if arn is not None and not env.is_unresolved(arn):
        parsed = arns.parse_iam_principal(arn)
        return parsed.kind if parsed is not None else None
    for attribute, kind in (("role_arn", "role"), ("user_arn", "user")):
        if hasattr(value, attribute):
            return kind
    return None


def principal_arns(values: object, env: Environment, *, tokens: bool = False) -> list[str]:
    """The ARNs of a principal list; tokens are left out unless ``tokens`` (unreadable objects always are)."""
    if not isinstance(values, list | tuple):
        return []
    found = [principal_arn(v, env) for v in values]
    return [a for a in found if a is not None and (tokens or not env.is_unresolved(a))]


class Bucket(Kind):
    """An existing bucket: its name, or (from Python) a CDK bucket object."""

    doc = "bucket name"
    python_type = "a bucket name or an s3.IBucket"

    def __init__(self, rule: Callable[[str], str | None]) -> None:
        self.rule = rule

    def parse(self, raw: object) -> object:
        if not isinstance(raw, str):
            raise KindError("a string")
        return raw.strip()

    def admits(self, value: object) -> bool:
        return value is None or isinstance(value, str | BucketObject)

    def check(self, setting: str, value: object, env: Environment) -> list[Problem]:
        if not isinstance(value, str) or env.is_unresolved(value):
            return []
        allowed = self.rule(value)
        return [Problem(setting, value, allowed)] if allowed else []


class TextList(Kind):
    """A list of strings, each judged by ``rule``."""

    python_type = "a list (or tuple) of strings; a single value still goes in a list"

    def __init__(self, doc: str, rule: Callable[[str], str | None]) -> None:
        self.doc = doc
        self.rule = rule

    def parse(self, raw: object) -> object:
        return PrincipalList.parse(PrincipalList(), raw)

    def admits(self, value: object) -> bool:
        return isinstance(value, list | tuple) and all(isinstance(item, str) for item in value)

    def check(self, setting: str, value: object, env: Environment) -> list[Problem]:
        problems: list[Problem] = []
        seen: set[str] = set()
        for item in value if isinstance(value, list | tuple) else ():
            if env.is_unresolved(item):
                continue
            if item in seen:
                problems.append(Problem(setting, item, "a list without duplicates"))
            seen.add(item)
            allowed = self.rule(item)
            if allowed:
                problems.append(Problem(setting, item, allowed))
        return problems

    def argparse(self) -> dict[str, Any]:
        return {"metavar": "VALUE", "nargs": "+", "action": "extend", "default": []}


def normalized(value: object) -> object:
    """Lists become tuples, so that settings stay hashable and immutable."""
    if isinstance(value, list):
        return tuple(value)
    return value
