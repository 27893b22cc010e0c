"""Asking z3 for a violating request, soundly in the presence of unknowns.

``search`` is the one place verdicts come from:

1. Solve with every unknown free. UNSAT: no request violates the property whatever the unknowns
   are: PASS.
2. SAT: solve again with each unknown fixed to the value that makes the violation hardest (it
   narrows access when the violation needs access, widens it when the violation needs a refusal).
   Still SAT: the violation happens whatever the unknowns really are: FAIL, with that model.
3. Otherwise CANNOT-PROVE, naming the unknowns the first counterexample relied on.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import z3

from constructs_lib.core.prover.catalog import canonical_action
from constructs_lib.core.prover.encode import Bool, Encoder, SymbolicRequest
from constructs_lib.core.prover.keys import Source, Type, spec_of
from constructs_lib.core.prover.model import ContextValue, Request, Verdict

#: Per-check limit, so that a pathological policy yields CANNOT-PROVE instead of hanging.
TIMEOUT_MS = 20_000
PRETTY_TIMEOUT_MS = 2_000


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


def _refine(solver: Any, constraints: Sequence[Bool]) -> Any:
    """Check, adding only the constraints the current model breaks, until none is broken.

    Equivalent to checking with all of ``constraints`` (each is added at most once, so this ends)
    but much faster: the regular expressions they hold are rarely needed.
    """
    pending = list(constraints)
    while True:
        outcome = solver.check()
        if outcome != z3.sat:
            return outcome
        model = solver.model()
        holds = [z3.is_true(model.eval(c, model_completion=True)) for c in pending]
        if all(holds):
            return outcome
        solver.add(*(c for c, ok in zip(pending, holds, strict=True) if not ok))
        pending = [c for c, ok in zip(pending, holds, strict=True) if ok]


def search(request: SymbolicRequest, violation: Bool, sides: Sequence[Side]) -> Found:
    """Is there a request with ``violation``? (See the module docstring for the verdicts.)"""
    return next(search_each(request, [violation], sides))


def search_each(request: SymbolicRequest, violations: Sequence[Bool], sides: Sequence[Side]) -> Iterator[Found]:
    """``search`` for each violation in turn, on one solver (the encoding is shared)."""
    solver = z3.Solver()
    solver.set("timeout", TIMEOUT_MS)
    solver.add(*request.constraints)
    for violation in violations:
        solver.push()
        try:
            solver.add(violation)
            found = _search(solver, request, sides)
        finally:
            solver.pop()
        yield found


def _search(solver: Any, request: SymbolicRequest, sides: Sequence[Side]) -> Found:
    first = _refine(solver, request.strict)
    if first == z3.unsat:
        return Found(Verdict.PASS)
    if first != z3.sat:
        return Found(Verdict.CANNOT_PROVE, reasons=(f"the solver gave up: {solver.reason_unknown()}",))
    model = solver.model()
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
        solver.add(*(u.var == z3.BoolVal(value) for u, value in hardest))
        second = _refine(solver, request.strict)
        if second != z3.sat:
            reasons = relied_on or tuple(dict.fromkeys(u.reason for u, _ in hardest))
            if second != z3.unsat:
                reasons = (*reasons, f"the solver gave up: {solver.reason_unknown()}")
            return Found(Verdict.CANNOT_PROVE, model, reasons)
        model = solver.model()
    return Found(Verdict.FAIL, _prettier(solver, request, model))


def _prettier(solver: Any, request: SymbolicRequest, model: Any) -> Any:
    """The same violation with printable values where possible (best effort, briefly)."""
    broken = [c for c in request.pretty if not z3.is_true(model.eval(c, model_completion=True))]
    if not broken:
        return model
    solver.push()
    solver.set("timeout", PRETTY_TIMEOUT_MS)
    solver.add(*broken)
    better = solver.model() if _refine(solver, request.pretty) == z3.sat else model
    solver.pop()
    solver.set("timeout", TIMEOUT_MS)
    return better


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
