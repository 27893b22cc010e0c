"""The prover's budget (``constructs_lib.core.prover.budget``): z3 work counted in rlimit units, so
that one input gets one verdict on any machine and under any load, and no call runs unbounded.

A budget that runs out makes the properties it could not finish CANNOT-PROVE, naming the budget,
and never turns into a PASS; the other properties are still answered.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.core.prover import ALL_PROPERTIES, Budget, Verdict, prove
from constructs_lib.core.prover.budget import DEFAULT_PER_CHECK, DEFAULT_TOTAL, BudgetError, spending
from tests.access.conftest import ACCOUNT, design, evidence, key_policy, with_statements

ROOT = Path(__file__).resolve().parents[2]
#: Anyone whose role name starts with this can decrypt: P1 FAILs (a realistic wildcard pattern).
WILDCARD_READER = {
    "Sid": "Recordings readers by name",
    "Effect": "Allow",
    "Principal": {"AWS": "*"},
    "Action": "kms:Decrypt",
    "Resource": "*",
    "Condition": {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/TeleportSessionRecordings-*"}},
}


def wildcard_evidence(condition: dict[str, Any] | None = None) -> object:
    """The package's policies plus ``WILDCARD_READER``, with another condition when given (make bench)."""
    d = design()
    reader = WILDCARD_READER if condition is None else {**WILDCARD_READER, "Condition": condition}
    return evidence(d, key_policy=with_statements(key_policy(d), reader))


def test_a_budget_is_a_positive_number_of_units() -> None:
    for bad in (0, -5, 1.5, True, "100"):
        with pytest.raises(BudgetError, match="positive number of rlimit units"):
            Budget(total=bad)  # type: ignore[arg-type]
    with pytest.raises(BudgetError, match=r"Budget\.per_check"):
        Budget(per_check=0)


def test_a_spent_budget_leaves_every_property_cannot_prove_and_names_it() -> None:
    budget = Budget(total=1)
    results = prove(design(), evidence(), budget=budget)
    assert [r.id for r in results] == list(ALL_PROPERTIES)
    for result in results:
        assert result.verdict is Verdict.CANNOT_PROVE, result
        assert any("budget" in reason for reason in result.reasons), result.reasons
    assert budget.refused > 0  # once spent, no check runs at all


def test_a_budget_that_runs_out_midway_answers_what_it_could_and_refuses_the_rest() -> None:
    alone = Budget()
    (first,) = prove(design(), evidence(), ["P1"], budget=alone)
    assert first.verdict is Verdict.PASS
    budget = Budget(total=alone.used + 1)
    results = prove(design(), evidence(), ["P1", "P3", "P6"], budget=budget)
    assert [r.verdict for r in results] == [Verdict.PASS, Verdict.CANNOT_PROVE, Verdict.CANNOT_PROVE]
    assert "budget" in results[2].summary


def test_the_per_check_limit_is_reported_as_such() -> None:
    results = prove(design(), evidence(), ["P1"], budget=Budget(per_check=1))
    assert results[0].verdict is Verdict.CANNOT_PROVE
    assert "per-check limit of 1 rlimit units" in results[0].reasons[0]


def test_a_readable_counterexample_costs_at_most_its_allowance_and_never_changes_the_verdict() -> None:
    plain, readable = Budget(pretty=1), Budget()
    (without,) = prove(design(), wildcard_evidence(), ["P1"], budget=plain)  # type: ignore[arg-type]
    (with_pretty,) = prove(design(), wildcard_evidence(), ["P1"], budget=readable)  # type: ignore[arg-type]
    assert without.verdict is with_pretty.verdict is Verdict.FAIL
    assert without.counterexample is not None
    assert without.counterexample.principal.startswith(f"arn:aws:iam::{ACCOUNT}:role/TeleportSessionRecordings-")


def test_enclosing_calls_share_one_total() -> None:
    """``recordings-kms verify`` and the synthesis plugin run several ``prove`` calls in one block."""
    with spending(Budget()) as shared:
        prove(design(), evidence(), ["P1"])
        after_one = shared.used
        prove(design(), evidence(), ["P1"])
    assert after_one > 0
    assert shared.used == 2 * after_one  # the same question in a fresh context costs the same


def test_the_package_designs_spend_a_small_part_of_the_default_budget() -> None:
    """The proofs a default synthesis runs, in units (the seconds they take are in ``make bench``)."""
    budget = Budget()
    results = prove(design(), evidence(), budget=budget)
    assert all(r.verdict is Verdict.PASS for r in results)
    assert budget.used < DEFAULT_TOTAL // 50
    assert budget.canceled == 0
    wildcard = Budget()
    prove(design(), wildcard_evidence(), ["P1"], budget=wildcard)  # type: ignore[arg-type]
    assert wildcard.used < DEFAULT_PER_CHECK // 2


_PROBE = """
import json, sys
from dataclasses import asdict
from constructs_lib.core.prover import Budget, prove
from tests.access.test_prover_budget import wildcard_evidence
from tests.access.test_prover_guardrails import guarded_design, guarded_evidence
from tests.access.conftest import design, evidence
out = []
for label, d, e in [
    ("default", design(), evidence()),
    ("wildcard", design(), wildcard_evidence()),
    ("guarded", guarded_design(), guarded_evidence(guarded_design())),
]:
    budget = Budget()
    results = prove(d, e, budget=budget)
    out.append({"label": label, "used": budget.used, "checks": budget.checks,
                "results": [[r.id, r.verdict.value, r.summary] for r in results]})
print(json.dumps(out))
"""


def _run_with_hash_seed(seed: str) -> list[object]:
    environment = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
    )
    found: list[object] = json.loads(done.stdout)
    return found


def test_one_input_gets_one_verdict_and_one_cost_in_every_process() -> None:
    """Verdicts, counterexamples and the units spent do not depend on the process: not on string
    hashing (set and dict order), nor on what ran before, nor on the machine's load (units are not
    seconds)."""
    first, second = _run_with_hash_seed("1"), _run_with_hash_seed("2")
    assert first == second
    labels = [entry["label"] for entry in first]  # type: ignore[index]
    assert labels == ["default", "wildcard", "guarded"]
    here = Budget()
    results = prove(design(), evidence(), budget=here)
    assert first[0] == {  # this process, after all the other tests it ran
        "label": "default",
        "used": here.used,
        "checks": here.checks,
        "results": [[r.id, r.verdict.value, r.summary] for r in results],
    }
