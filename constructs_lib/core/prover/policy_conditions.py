"""Condition blocks: operators, qualifiers (``ForAnyValue:``/``ForAllValues:``, ``IfExists``) and
values, with what the prover does not model marked instead of guessed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from constructs_lib.core.prover.model import PolicyFormatError
from constructs_lib.core.prover.policy_json import as_list

# --- conditions ------------------------------------------------------------------------------------

STRING_OPERATORS = {
    "StringEquals": False,
    "StringNotEquals": True,
    "StringEqualsIgnoreCase": False,
    "StringNotEqualsIgnoreCase": True,
    "StringLike": False,
    "StringNotLike": True,
}
ARN_OPERATORS = {"ArnEquals": False, "ArnLike": False, "ArnNotEquals": True, "ArnNotLike": True}
NUMERIC_OPERATORS = {
    "NumericEquals": False,
    "NumericNotEquals": True,
    "NumericLessThan": False,
    "NumericLessThanEquals": False,
    "NumericGreaterThan": False,
    "NumericGreaterThanEquals": False,
}
#: Operators IAM has that the prover does not model.
UNMODELLED_OPERATORS = frozenset(
    {
        "DateEquals",
        "DateNotEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
        "IpAddress",
        "NotIpAddress",
        "BinaryEquals",
    }
)


class Family(StrEnum):
    STRING = "string"
    ARN = "arn"
    NUMERIC = "numeric"
    BOOL = "bool"
    NULL = "null"


class Qualifier(StrEnum):
    NONE = ""
    ANY = "ForAnyValue"
    ALL = "ForAllValues"


@dataclass(frozen=True)
class Condition:
    """One ``operator: {key: values}`` entry of a Condition block."""

    operator: str
    key: str  # as written
    values: tuple[str, ...]
    #: The base operator (``StringNotLike``), or "" when unsupported.
    base: str = ""
    family: Family = Family.STRING
    negated: bool = False
    if_exists: bool = False
    qualifier: Qualifier = Qualifier.NONE
    #: Why this entry is not modelled ("" when it is).
    unsupported: str = ""

    @property
    def key_lower(self) -> str:
        return self.key.lower()

    def describe(self) -> str:
        values = self.values[0] if len(self.values) == 1 else list(self.values)
        return f"{self.operator} {self.key} {values}"


def _condition_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        # IAM reads JSON numbers as their text.
        return json.dumps(value)
    raise PolicyFormatError(f"condition values are strings, booleans or numbers: {value!r}")


def parse_condition(operator: str, key: str, raw_values: Any) -> Condition:
    values = tuple(_condition_value(v) for v in as_list(raw_values, f"condition {operator} {key}"))
    if not values:
        raise PolicyFormatError(f"condition {operator} {key} has no values")
    name, qualifier = operator, Qualifier.NONE
    for candidate in (Qualifier.ANY, Qualifier.ALL):
        if name.startswith(candidate.value + ":"):
            name, qualifier = name[len(candidate.value) + 1 :], candidate
    if_exists = name.endswith("IfExists")
    base = name[: -len("IfExists")] if if_exists else name

    def unsupported(reason: str) -> Condition:
        return Condition(operator, key, values, unsupported=reason)

    if any("${" in v for v in values):
        return unsupported(f"policy variable in {operator} {key} values")
    if base in STRING_OPERATORS:
        family, negated = Family.STRING, STRING_OPERATORS[base]
    elif base in ARN_OPERATORS:
        family, negated = Family.ARN, ARN_OPERATORS[base]
    elif base in NUMERIC_OPERATORS:
        family, negated = Family.NUMERIC, NUMERIC_OPERATORS[base]
        for v in values:
            try:
                float(v)
            except ValueError:
                return unsupported(f"{operator} {key}: {v!r} is not a number")
    elif base == "Bool":
        family, negated = Family.BOOL, False
        if any(v.lower() not in ("true", "false") for v in values):
            return unsupported(f"Bool {key}: values other than true/false")
    elif base == "Null":
        if if_exists or qualifier is not Qualifier.NONE:
            return unsupported(f"operator {operator}")
        if any(v.lower() not in ("true", "false") for v in values):
            return unsupported(f"Null {key}: values other than true/false")
        family, negated = Family.NULL, False
    elif base in UNMODELLED_OPERATORS:
        return unsupported(f"condition operator {operator} is not modelled")
    else:
        return unsupported(f"unknown condition operator {operator}")
    return Condition(operator, key, values, base, family, negated, if_exists, qualifier)
