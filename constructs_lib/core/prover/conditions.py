"""Conditions: a statement's ``Condition`` block as formulas over the request's condition keys
(operators, ``IfExists``, set qualifiers, ``Null``), and a statement's body (action, resource, conditions).
"""

from __future__ import annotations

from decimal import Decimal

import z3

from constructs_lib.core.prover.keys import DERIVED_KEYS, KeyTerm, Type
from constructs_lib.core.prover.match import (
    arn_segments,
)
from constructs_lib.core.prover.parse import (
    ACCOUNT_KINDS,
    Condition,
    Family,
    Qualifier,
    Statement,
)
from constructs_lib.core.prover.strings import Bool, Expr, arn_re, literal_re, string_matches
from constructs_lib.core.prover.targets import TargetEncoder


class ConditionEncoder(TargetEncoder):
    """Condition blocks and statement bodies."""

    def condition(self, condition: Condition, statement: Statement) -> Bool:
        effect = statement.effect
        where = f"{statement.label}: {condition.describe()}"
        if condition.unsupported:
            return self.unknown(f"{statement.label}: {condition.unsupported}", effect=effect)
        if self._principal_arn_equality(condition):
            # Decided per candidate, without building the principal's ARN as a string.
            present = self.r.is_kind(*ACCOUNT_KINDS)
            hit = z3.Or(*(self.r.principal_arn_is(v) for v in condition.values))
            matched = z3.Not(hit) if condition.negated else hit
            return z3.If(present, matched, z3.BoolVal(condition.if_exists or condition.negated))
        like = self._principal_arn_pattern(condition)
        if like is not None:
            present = self.r.is_kind(*ACCOUNT_KINDS)
            hit = z3.Or(*like)
            matched = z3.Not(hit) if condition.negated else hit
            return z3.If(present, matched, z3.BoolVal(condition.if_exists or condition.negated))
        if condition.family is Family.NULL and condition.key_lower in DERIVED_KEYS:
            # Whether a key derived from the principal exists depends on its kind only.
            return self._null(condition, self.r.derived_presence(condition.key_lower))
        term = self.r.key(condition.key_lower)
        if term is None:
            return self.unknown(f"{where}: condition key {condition.key} is not modelled", effect=effect)
        if condition.key_lower == "aws:resourceaccount":
            self._fix_resource_account(term)
        if condition.family is Family.NULL:
            return self._null(condition, term.present)
        numeric_key = term.type is Type.NUMERIC
        if (condition.family is Family.NUMERIC) != numeric_key:
            return self.unknown(f"{where}: operator family does not fit the key's type", effect=effect)

        def satisfied(value: Expr) -> Bool:
            hits = [self._one(condition, value, expected) for expected in condition.values]
            matched = z3.Or(*hits)
            return z3.Not(matched) if condition.negated else matched

        absent_value = z3.BoolVal(condition.if_exists or condition.negated)
        if condition.qualifier is Qualifier.NONE:
            if term.type is Type.SET:
                return self.unknown(f"{where}: single-valued operator on a multi-valued key", effect=effect)
            return z3.If(term.present, satisfied(term.value), absent_value)
        slots = term.slots if term.type is Type.SET else [(term.present, term.value)]
        if condition.qualifier is Qualifier.ANY:
            some = z3.Or(*(z3.And(p, satisfied(v)) for p, v in slots))
            return z3.Or(some, z3.And(z3.Not(term.present), z3.BoolVal(condition.if_exists)))
        return z3.And(*(z3.Implies(p, satisfied(v)) for p, v in slots))

    @staticmethod
    def _null(condition: Condition, present: Bool) -> Bool:
        wanted = {v.lower() for v in condition.values}
        return z3.Or(
            z3.And(z3.BoolVal("true" in wanted), z3.Not(present)),
            z3.And(z3.BoolVal("false" in wanted), present),
        )

    def _principal_arn_pattern(self, condition: Condition) -> list[Bool] | None:
        """``aws:PrincipalArn`` against wildcard patterns (ArnLike, ArnEquals, StringLike and their
        negations), decided per candidate principal (``principal_arn_like``); None for the other
        operators (the string encoding)."""
        if condition.key_lower != "aws:principalarn" or condition.qualifier is not Qualifier.NONE:
            return None
        if condition.family is Family.ARN:
            segmented = True
        elif condition.family is Family.STRING and condition.base in ("StringLike", "StringNotLike"):
            segmented = False
        else:
            return None
        return [self.r.principal_arn_like(value, segmented=segmented) for value in condition.values]

    @staticmethod
    def _principal_arn_equality(condition: Condition) -> bool:
        """An exact (wildcard-free) comparison of ``aws:PrincipalArn``: decided per candidate principal."""
        exact = condition.family is Family.ARN or (
            condition.family is Family.STRING and condition.base in ("StringEquals", "StringNotEquals")
        )
        return (
            exact
            and condition.key_lower == "aws:principalarn"
            and condition.qualifier is Qualifier.NONE
            and all("*" not in v and "?" not in v for v in condition.values)
        )

    def _one(self, condition: Condition, value: Expr, expected: str) -> Bool:
        base = condition.base
        if condition.family is Family.STRING:
            if base.endswith("IgnoreCase"):
                return z3.InRe(value, literal_re(expected, ignore_case=True))
            if base.endswith("Like"):
                return string_matches(value, expected)
            return value == z3.StringVal(expected)
        if condition.family is Family.ARN:
            if "*" not in expected and "?" not in expected and arn_segments(expected) is not None:
                # Without wildcards, six components equal one by one is the whole string equal: an
                # equality z3 decides far faster than membership in the segment-wise regex.
                return value == z3.StringVal(expected)
            regex = arn_re(expected)
            return z3.BoolVal(False) if regex is None else z3.InRe(value, regex)
        if condition.family is Family.BOOL:
            return value == z3.StringVal(expected.lower())
        number = z3.RealVal(str(Decimal(expected.strip())))
        return {
            "NumericEquals": value == number,
            "NumericNotEquals": value == number,
            "NumericLessThan": value < number,
            "NumericLessThanEquals": value <= number,
            "NumericGreaterThan": value > number,
            "NumericGreaterThanEquals": value >= number,
        }[base]

    def _fix_resource_account(self, term: KeyTerm) -> None:
        if not self._resource_account_fixed:
            self.r.constraints.append(term.value == z3.StringVal(self.resource_account))
            self._resource_account_fixed = True

    def body(self, statement: Statement) -> Bool:
        if not statement.effective:
            return z3.BoolVal(False)
        conditions = [self.condition(c, statement) for c in statement.conditions]
        if statement.doubt:
            conditions.append(self.unknown(statement.doubt, effect=statement.effect))
        return z3.And(self._action(statement), self._resource(statement), *conditions)
