"""Actions and resources: which actions a statement's ``Action``/``NotAction`` cover and which
resources its ``Resource``/``NotResource`` cover, for a symbolic request; and the unknowns.
"""

from __future__ import annotations

from dataclasses import dataclass

import z3

from constructs_lib.core.prover.match import (
    action_match,
    arn_segments,
    resource_match,
)
from constructs_lib.core.prover.parse import (
    Effect,
    Parsed,
    Statement,
)
from constructs_lib.core.prover.request import SymbolicRequest
from constructs_lib.core.prover.strings import Bool, arn_re, glob_re, string_matches


@dataclass
class Unknown:
    var: Bool
    reason: str
    #: Setting the variable to True can only widen what the evidence allows.
    widens_access: bool


class TargetEncoder:
    """The base of ``Encoder``: its state, unknowns, and a statement's actions and resources."""

    def __init__(self, request: SymbolicRequest, parsed: Parsed, *, resource_account: str, tag: str = "") -> None:
        self.r = request
        self.parsed = parsed
        self.tag = tag
        self.unknowns: list[Unknown] = []
        self.resource_account = resource_account
        self._resource_account_fixed = False

    # -- unknowns ---------------------------------------------------------------------------------

    def unknown(self, reason: str, *, effect: Effect, positive: bool = True) -> Bool:
        """A fresh boolean for something not modelled.

        ``positive``: True makes the enclosing statement match more. In an Allow that widens access,
        in a Deny it narrows it.
        """
        var = z3.Bool(f"unknown{self.tag}[{len(self.unknowns)}]")
        self.unknowns.append(Unknown(var, reason, widens_access=(effect is Effect.ALLOW) == positive))
        return var

    # -- statements -------------------------------------------------------------------------------

    def _action(self, statement: Statement) -> Bool:
        domain = self.r.action_domain
        if domain is not None:
            hits = [a for a in domain if any(action_match(p, a) for p in statement.actions)]
            matched = z3.Or(*(self.r.action == z3.StringVal(a) for a in hits)) if hits else z3.BoolVal(False)
        else:
            matched = z3.Or(
                *(
                    self.r.action == z3.StringVal(p)
                    if "*" not in p and "?" not in p
                    else z3.InRe(self.r.action, glob_re(p))
                    for p in statement.actions
                )
            )
        return z3.Not(matched) if statement.not_action else matched

    def _resource_pattern(self, pattern: str, statement: Statement, positive: bool) -> Bool:
        if self.r.resource_value is not None:
            fixed = resource_match(pattern, self.r.resource_value)
            if fixed is not None:
                return z3.BoolVal(fixed)
            return self.unknown(
                f"{statement.label}: Resource {pattern!r} (wildcards across ARN segments)",
                effect=statement.effect,
                positive=positive,
            )
        if "${" in pattern:
            return self.unknown(
                f"{statement.label}: policy variable in Resource {pattern!r}",
                effect=statement.effect,
                positive=positive,
            )
        if pattern == "*":
            return z3.BoolVal(True)
        segmented = arn_re(pattern)
        flat = string_matches(self.r.resource, pattern)
        if segmented is None:
            doubt = self.unknown(
                f"{statement.label}: Resource {pattern!r} is not an ARN", effect=statement.effect, positive=positive
            )
            return z3.And(flat, doubt)
        seg = z3.InRe(self.r.resource, segmented)
        segments = arn_segments(pattern)
        assert segments is not None
        if not any(c in s for s in segments[:5] for c in "*?"):
            return flat
        doubt = self.unknown(
            f"{statement.label}: Resource {pattern!r} (do wildcards cross ARN segments?)",
            effect=statement.effect,
            positive=positive,
        )
        return z3.Or(seg, z3.And(flat, doubt))

    def _resource(self, statement: Statement) -> Bool:
        positive = not statement.not_resource
        matched = z3.Or(*(self._resource_pattern(p, statement, positive) for p in statement.resources))
        return z3.Not(matched) if statement.not_resource else matched
