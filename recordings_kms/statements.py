"""Reading IAM policy statements by what they do: principals, actions, resources and conditions.

Just enough of IAM's evaluation rules to judge the statements of a key policy and a bucket policy
against sample requests: wildcards in actions (case-insensitive) and resources, ``NotAction`` and
``NotResource``, and the condition operators these policies use, with ``...IfExists``,
``ForAnyValue:``/``ForAllValues:`` and the rule that a negated operator is true when the request
lacks the key. Condition keys outside ``context`` are unknown: a condition that depends on one
evaluates to ``None`` ("cannot tell") rather than guessing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from constructs_lib.core import arns

Statement = Mapping[str, Any]


def as_list(value: Any) -> list[Any]:
    """A policy element that may be one value or a list, as a list."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def statements_of(document: Mapping[str, Any] | None) -> list[Statement]:
    if document is None:
        return []
    return [s for s in as_list(document.get("Statement")) if isinstance(s, Mapping)]


def label(statement: Statement, index: int) -> str:
    """How a report names a statement: its Sid, or its position when it has none."""
    sid = statement.get("Sid")
    return repr(sid) if isinstance(sid, str) and sid else f"statement #{index + 1}"


# --- principals ------------------------------------------------------------------------------------


def aws_principals(statement: Statement) -> list[str]:
    """The AWS principals a statement names (``"*"`` for everyone); ``[]`` with ``NotPrincipal``."""
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    if isinstance(principal, Mapping):
        return [str(p) for p in as_list(principal.get("AWS"))]
    return []


def other_principals(statement: Statement) -> list[str]:
    """Service and federated principals, reported but never judged as IAM identities."""
    principal = statement.get("Principal")
    if not isinstance(principal, Mapping):
        return []
    return [f"{kind}:{value}" for kind, values in principal.items() if kind != "AWS" for value in as_list(values)]


def is_everyone(principal: str) -> bool:
    return principal == "*"


def is_account_root(principal: str) -> bool:
    """``arn:PARTITION:iam::ACCOUNT:root`` or a bare account id: every IAM identity of that account."""
    parsed = arns.parse_iam_principal(principal)
    return (parsed is not None and parsed.kind == "root") or arns.is_account(principal)


def applies_to_everyone(statement: Statement) -> bool:
    return "NotPrincipal" not in statement and any(is_everyone(p) for p in aws_principals(statement))


def applies_to(statement: Statement, principal_arn: str) -> bool:
    return "NotPrincipal" not in statement and any(p in ("*", principal_arn) for p in aws_principals(statement))


# --- actions and resources -------------------------------------------------------------------------


@cache
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """IAM wildcards: ``*`` any run of characters, ``?`` any one character; nothing else is special."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def glob_matches(pattern: str, text: str, *, ignore_case: bool = False) -> bool:
    return _glob(pattern, ignore_case).match(text) is not None


def covers_action(statement: Statement, action: str) -> bool:
    """Whether the statement's ``Action`` (or ``NotAction``) covers ``action``."""
    if "Action" in statement:
        return any(glob_matches(str(p), action, ignore_case=True) for p in as_list(statement["Action"]))
    if "NotAction" in statement:
        return not any(glob_matches(str(p), action, ignore_case=True) for p in as_list(statement["NotAction"]))
    return False


def covers_resource(statement: Statement, resource: str) -> bool:
    """Whether ``Resource`` (or ``NotResource``) covers ``resource``.

    Pass a pattern such as ``arn:aws:s3:::bucket/*`` to ask whether the statement covers every
    object: ``bucket/*`` and ``*`` match it literally, ``bucket/records/*`` does not.
    """
    if "Resource" in statement:
        return any(glob_matches(str(p), resource) for p in as_list(statement["Resource"]))
    if "NotResource" in statement:
        return not any(glob_matches(str(p), resource) for p in as_list(statement["NotResource"]))
    return False


# --- conditions ------------------------------------------------------------------------------------

_NEGATED = frozenset(
    {
        "StringNotEquals",
        "StringNotEqualsIgnoreCase",
        "StringNotLike",
        "NumericNotEquals",
        "ArnNotEquals",
        "ArnNotLike",
        "DateNotEquals",
    }
)


def _compare(operator: str, policy_values: Sequence[Any], value: str) -> bool | None:
    texts = ["true" if v is True else "false" if v is False else str(v) for v in policy_values]
    if operator in ("StringEquals", "StringNotEquals"):
        hit = value in texts
    elif operator in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        hit = value.lower() in (t.lower() for t in texts)
    elif operator in ("StringLike", "StringNotLike", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"):
        hit = any(glob_matches(t, value) for t in texts)
    elif operator == "Bool":
        hit = value.lower() in (t.lower() for t in texts)
    elif operator.startswith("Numeric"):
        try:
            number = float(value)
            limits = [float(t) for t in texts]
        except ValueError:
            return None
        base = operator.removeprefix("Numeric")
        tests = {
            "Equals": lambda a, b: a == b,
            "NotEquals": lambda a, b: a == b,
            "LessThan": lambda a, b: a < b,
            "LessThanEquals": lambda a, b: a <= b,
            "GreaterThan": lambda a, b: a > b,
            "GreaterThanEquals": lambda a, b: a >= b,
        }
        if base not in tests:
            return None
        hit = any(tests[base](number, limit) for limit in limits)
    else:
        return None
    return not hit if operator in _NEGATED else hit


def evaluate_condition_entry(operator: str, key: str, policy_values: Any, context: Mapping[str, str]) -> bool | None:
    """One ``operator: {key: values}`` entry against a request context whose keys are lower case.

    ``None`` when the operator is not understood (or a numeric value is not a number).
    """
    values = as_list(policy_values)
    key = key.lower()
    set_operator = ""
    if ":" in operator and operator.split(":", 1)[0] in ("ForAnyValue", "ForAllValues"):
        set_operator, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists") and operator != "IfExists"
    operator = operator.removesuffix("IfExists") if if_exists else operator
    present = key in context
    if operator == "Null":
        wanted = {str(v).lower() for v in values}
        return ("true" if not present else "false") in wanted
    if not present:
        if if_exists or set_operator == "ForAllValues":
            return True
        if set_operator == "ForAnyValue":
            return False
        return operator in _NEGATED
    return _compare(operator, values, context[key])


@dataclass(frozen=True)
class Request:
    """A sample request: what it does, on what, and the condition keys it carries (lower-case names)."""

    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)
    description: str = ""


def evaluate_conditions(statement: Statement, request: Request, known_keys: Iterable[str]) -> bool | None:
    """Three-valued AND over every condition entry; keys outside ``known_keys`` are unknown."""
    known = {k.lower() for k in known_keys}
    unknown = False
    condition = statement.get("Condition") or {}
    if not isinstance(condition, Mapping):
        return None
    for operator, entries in condition.items():
        if not isinstance(entries, Mapping):
            return None
        for key, values in entries.items():
            result = (
                evaluate_condition_entry(str(operator), str(key), values, request.context)
                if str(key).lower() in known
                else None
            )
            if result is False:
                return False
            if result is None:
                unknown = True
    return None if unknown else True


def statement_matches(statement: Statement, request: Request, known_keys: Iterable[str]) -> bool | None:
    """Whether the statement applies to the request (principals aside); ``None``: cannot tell."""
    if not covers_action(statement, request.action) or not covers_resource(statement, request.resource):
        return False
    return evaluate_conditions(statement, request, known_keys)
