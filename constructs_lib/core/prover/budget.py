"""The prover's work budget: z3 resource units ("rlimit"), counted, never seconds.

z3 counts the work it does (the statistic ``rlimit count``) and stops a check that exceeds its
``rlimit`` with ``unknown`` ("canceled"). The count depends only on the formulas and the order in
which they were given, not on the machine or its load, so a budget in these units gives one input
one verdict everywhere. A wall-clock timeout does not: on a busy machine the same check runs out of
time and a FAIL turns into CANNOT-PROVE.

Every prover entry point (``prove``, ``new_access``, ``solver_decide``) runs under one ``Budget``
(its ``budget`` argument, else the budget of an enclosing ``spending`` block, which is how
``recordings-kms verify`` and the synthesis plugin give a whole run one total, else a default):

* ``per_check``: the most one satisfiability check may spend (one pathological question cannot eat
  the whole budget);
* ``total``: the most the whole call may spend. Once it is spent, every further check answers
  ``unknown`` at once without running, so the call still returns a result for every property (the
  rest CANNOT-PROVE, with the reason) instead of running on;
* ``pretty``: the most the best-effort pass that makes a counterexample readable may spend, per
  counterexample (it never changes a verdict).

``check`` is the only place the prover calls ``Solver.check``; all other work on a solver (adding
formulas, reading models) is linear in the size of the formulas. See docs/PROVER.md, "The budget".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import z3

#: The defaults, measured with ``make bench`` (docs/PROVER.md, "The budget"): the package's designs
#: spend well under a tenth of ``DEFAULT_TOTAL`` on all ten properties.
DEFAULT_PER_CHECK = 10_000_000
DEFAULT_TOTAL = 100_000_000
DEFAULT_PRETTY = 2_000_000


class BudgetError(ValueError):
    """A budget that cannot be spent (not a positive number of units)."""


@dataclass
class Budget:
    """How many rlimit units one prover call may spend, and how many it has spent."""

    total: int = DEFAULT_TOTAL
    per_check: int = DEFAULT_PER_CHECK
    pretty: int = DEFAULT_PRETTY
    #: Units spent so far, and the number of checks run (both only grow).
    used: int = 0
    checks: int = 0
    #: Checks that ran out of units: (their per-check limit was hit, the total was spent).
    canceled: int = 0
    refused: int = 0

    def __post_init__(self) -> None:
        for name in ("total", "per_check", "pretty"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise BudgetError(f"Budget.{name} must be a positive number of rlimit units, got {value!r}")

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.used)

    @property
    def exhausted(self) -> bool:
        return self.used >= self.total

    def describe(self) -> str:
        return f"{self.used:,} of {self.total:,} rlimit units in {self.checks} checks"


_current: ContextVar[Budget | None] = ContextVar("prover_budget", default=None)


@contextmanager
def spending(budget: Budget | None) -> Iterator[Budget]:
    """Run the enclosed prover work under ``budget``.

    None: the enclosing block's budget when there is one (so that a command's or a synthesis's
    several ``prove`` calls share one total), else a new default ``Budget``.
    """
    enclosing = _current.get()
    if budget is None and enclosing is not None:
        yield enclosing
        return
    active = budget if budget is not None else Budget()
    token = _current.set(active)
    try:
        yield active
    finally:
        _current.reset(token)


def current() -> Budget:
    """The budget of the enclosing ``spending`` block; outside any, a fresh default one (only the
    per-check limit then applies)."""
    active = _current.get()
    return active if active is not None else Budget()


def new_solver() -> Any:
    """A z3 solver as the prover uses it: every formula, assumption and check goes through one.

    ``phase_selection=0`` (try false first when deciding a boolean): the prover's questions are
    full of presence flags, set slots and candidate choices of which a model needs few, and the
    strings of stand-in principals matter only when one is chosen. Measured over the 191 checks of
    the prover tests that took over 50 ms: 9.2 million rlimit units instead of 67.8 million (7.6 s
    instead of 86.5 s), the same answer on each (docs/PROVER.md, "The budget").
    """
    solver = z3.Solver()
    solver.set("phase_selection", 0)
    return solver


def _count(solver: Any) -> int:
    try:
        return int(solver.statistics().get_key_value("rlimit count"))
    except z3.Z3Exception:  # no work done in this context yet
        return 0


@dataclass(frozen=True)
class Outcome:
    """What one check answered, and why when it is ``unknown``."""

    result: Any  # z3.CheckSatResult
    reason: str = ""

    @property
    def sat(self) -> bool:
        return bool(self.result == z3.sat)

    @property
    def unsat(self) -> bool:
        return bool(self.result == z3.unsat)


def check(solver: Any, *assumptions: Any, limit: int | None = None) -> Outcome:
    """``solver.check(*assumptions)`` within the current budget (and ``limit``, when smaller).

    When the total is spent, answers ``unknown`` without running z3. The units z3 spent are
    charged to the budget whatever the answer.
    """
    budget = current()
    if budget.exhausted:
        budget.refused += 1
        return Outcome(z3.unknown, f"the prover's budget is spent ({budget.describe()})")
    allowed = min(budget.per_check, budget.remaining, *([limit] if limit is not None else []))
    solver.set("rlimit", allowed)
    before = _count(solver)
    result = solver.check(*assumptions)
    budget.used += max(0, _count(solver) - before)
    budget.checks += 1
    if result != z3.unknown:
        return Outcome(result)
    reason = str(solver.reason_unknown())
    if reason == "canceled":
        budget.canceled += 1
        which = "per-check" if allowed == min(budget.per_check, limit or budget.per_check) else "total"
        return Outcome(
            result,
            f"the solver's budget ran out ({which} limit of {allowed:,} rlimit units; {budget.describe()})",
        )
    return Outcome(result, f"the solver gave up: {reason}")
