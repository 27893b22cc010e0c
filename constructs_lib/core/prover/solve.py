"""Asking z3 for a violating request, soundly in the presence of unknowns.

``search`` is the one place verdicts come from:

1. Solve with every unknown free. UNSAT: no request violates the property whatever the unknowns
   are: PASS.
2. SAT: solve again with each unknown fixed to the value that makes the violation hardest (it
   narrows access when the violation needs access, widens it when the violation needs a refusal).
   Still SAT: the violation happens whatever the unknowns really are: FAIL, with that model.
3. Otherwise CANNOT-PROVE, naming the unknowns the first counterexample relied on, or why the
   solver could not answer (its budget ran out: ``budget``).

Every check runs within the call's deterministic budget (``budget.check``). One solver serves all
the violations of a ``search_each``: each violation, the fixing of the unknowns and the readable
values are switched on by an assumption literal rather than by ``push``/``pop``, so that all of
z3's work happens inside a budgeted check.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import count
from typing import Any

import z3

from constructs_lib.core.prover.budget import Outcome, check, current, new_solver
from constructs_lib.core.prover.catalog import canonical_action
from constructs_lib.core.prover.encode import Bool, Encoder, SymbolicRequest
from constructs_lib.core.prover.keys import Source, Type, spec_of
from constructs_lib.core.prover.model import ContextValue, Request, Verdict


@dataclass(frozen=True)
class Side:
    """An encoder whose unknowns the violation wants to go one way."""

    encoder: Encoder
    #: True when the violation needs this evidence to allow something (e.g. "someone else can
    #: decrypt"); False when it needs a refusal (e.g. "Teleport is denied").
    violation_needs_access: bool


@dataclass(frozen=True)
class Found:
    verdict: Verdict
    model: Any = None  # z3.ModelRef
    reasons: tuple[str, ...] = ()


class _Guarded:
    """One solver and fresh assumption literals: ``guard(formulas)`` adds them switched on by a new
    literal, so that a later check can assume it or not (``push``/``pop`` without leaving a check)."""

    def __init__(self, request: SymbolicRequest) -> None:
        self.solver = new_solver()
        self.solver.add(*request.constraints)
        self._names = count()

    def guard(self, formulas: Sequence[Bool], what: str) -> Bool:
        literal = z3.Bool(f"assume[{what}][{next(self._names)}]")
        self.solver.add(*(z3.Implies(literal, f) for f in formulas))
        return literal


def _refine(
    guarded: _Guarded,
    constraints: Sequence[tuple[Bool, Bool | None]],
    assumptions: Sequence[Bool],
    *,
    limit: int | None = None,
) -> Outcome:
    """Check, adding only the constraints the current model breaks, until none is broken.

    Equivalent to checking with all of ``constraints`` (each is added at most once, so this ends)
    but much faster: the regular expressions they hold are rarely needed. Each constraint comes with
    its guard: None for what holds of every well-formed request (added for good), else the literal
    that switches it on.
    """
    solver = guarded.solver
    pending = list(constraints)
    while True:
        outcome = check(solver, *assumptions, limit=limit)
        if not outcome.sat:
            return outcome
        model = solver.model()
        holds = [z3.is_true(model.eval(c, model_completion=True)) for c, _ in pending]
        if all(holds):
            return outcome
        solver.add(
            *(
                c if guard is None else z3.Implies(guard, c)
                for (c, guard), ok in zip(pending, holds, strict=True)
                if not ok
            )
        )
        pending = [p for p, ok in zip(pending, holds, strict=True) if ok]


def _strict(request: SymbolicRequest) -> list[tuple[Bool, Bool | None]]:
    return [(c, None) for c in request.strict]


def find(request: SymbolicRequest, formulas: Sequence[Bool]) -> tuple[Outcome, Any]:
    """A well-formed request with ``formulas`` (unknowns free): the outcome, and its model when SAT."""
    guarded = _Guarded(request)
    guarded.solver.add(*formulas)
    outcome = _refine(guarded, _strict(request), [])
    return outcome, guarded.solver.model() if outcome.sat else None


def search(request: SymbolicRequest, violation: Bool, sides: Sequence[Side]) -> Found:
    """Is there a request with ``violation``? (See the module docstring for the verdicts.)"""
    return next(search_each(request, [violation], sides))


def search_each(request: SymbolicRequest, violations: Sequence[Bool], sides: Sequence[Side]) -> Iterator[Found]:
    """``search`` for each violation in turn, on one solver (the encoding is shared)."""
    guarded = _Guarded(request)
    for violation in violations:
        yield _search(guarded, request, sides, guarded.guard([violation], "violation"))


def _search(guarded: _Guarded, request: SymbolicRequest, sides: Sequence[Side], violation: Bool) -> Found:
    solver = guarded.solver
    first = _refine(guarded, _strict(request), [violation])
    if first.unsat:
        return Found(Verdict.PASS)
    if not first.sat:
        return Found(Verdict.CANNOT_PROVE, reasons=(first.reason,))
    model = solver.model()
    assumptions = [violation]
    hardest = [
        (u, not u.widens_access if side.violation_needs_access else u.widens_access)
        for side in sides
        for u in side.encoder.unknowns
    ]
    if hardest:
        relied_on = tuple(
            dict.fromkeys(
                u.reason for u, value in hardest if z3.is_true(model.eval(u.var, model_completion=True)) != value
            )
        )
        assumptions.append(guarded.guard([u.var == z3.BoolVal(value) for u, value in hardest], "hardest"))
        second = _refine(guarded, _strict(request), assumptions)
        if not second.sat:
            reasons = relied_on or tuple(dict.fromkeys(u.reason for u, _ in hardest))
            if not second.unsat:
                reasons = (*reasons, second.reason)
            return Found(Verdict.CANNOT_PROVE, model, reasons)
        model = solver.model()
    return Found(Verdict.FAIL, _prettier(guarded, request, model, assumptions))


def _prettier(guarded: _Guarded, request: SymbolicRequest, model: Any, assumptions: list[Bool]) -> Any:
    """The same violation with printable values where possible (best effort, within the budget's
    ``pretty`` allowance: it never changes a verdict). The strict constraints stay refined, so the
    readable model is as well-formed as the first."""
    holds = [z3.is_true(model.eval(c, model_completion=True)) for c in request.pretty]
    if all(holds):
        return model
    pretty = guarded.guard([c for c, ok in zip(request.pretty, holds, strict=True) if not ok], "pretty")
    rest = [(c, pretty) for c, ok in zip(request.pretty, holds, strict=True) if ok]
    outcome = _refine(guarded, [*_strict(request), *rest], [*assumptions, pretty], limit=current().pretty)
    return guarded.solver.model() if outcome.sat else model


def _string(model: Any, term: Any) -> str:
    value = model.eval(term, model_completion=True)
    return str(value.as_string())


def _number(model: Any, term: Any) -> str:
    value = model.eval(term, model_completion=True)
    fraction = value.as_fraction()
    return str(Decimal(fraction.numerator) / Decimal(fraction.denominator))


def principal_of(model: Any, request: SymbolicRequest) -> str:
    candidate = request.candidates[model.eval(request.principal, model_completion=True).as_long()]
    if candidate.arn is not None:
        return str(candidate.arn)
    if not request.strings_used:
        return request.placeholder(candidate, model)
    return _string(model, request.principal_strings()[0])


def request_of(model: Any, request: SymbolicRequest) -> Request:
    """The concrete request a model describes (keys the evaluator derives are left out)."""
    context: dict[str, ContextValue] = {}
    for name, term in sorted(request.keys.items()):
        spec = spec_of(name)
        if spec is None or spec.source in (Source.PRINCIPAL, Source.RESOURCE):
            continue
        if not z3.is_true(model.eval(term.present, model_completion=True)):
            continue
        if term.type is Type.SET:
            values = [_string(model, v) for p, v in term.slots if z3.is_true(model.eval(p, model_completion=True))]
            context[name] = tuple(dict.fromkeys(values))
        elif term.type is Type.NUMERIC:
            context[name] = _number(model, term.value)
        else:
            context[name] = _string(model, term.value)
    if z3.is_true(model.eval(request.other_context_keys, model_completion=True)) and request.service == "kms":
        context["kms:encryptioncontext:(another key)"] = "(any value)"
    return Request(
        principal=principal_of(model, request),
        action=canonical_action(_string(model, request.action)),
        resource=_string(model, request.resource),
        context=context,
    )
