"""A check line and whether a run passed: what every checking command reports, and ``render`` words.

A line is PASS, WARN (could not be settled), FAIL, CANNOT-PROVE (the prover met something it does
not model: never a pass) or INFO (a fact of the design that never counts). ``verify`` and ``prove``
both report the prover's answers, made into lines here (``property_results``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from constructs_lib.core.prover import PropertyResult, Request, Verdict


class Status(StrEnum):
    PASS = "PASS"  # noqa: S105 (a check status, not a password)
    WARN = "WARN"
    FAIL = "FAIL"
    #: The prover could not decide: never a pass, and not excused by ``--warnings-ok``.
    CANNOT_PROVE = "CANNOT-PROVE"
    #: A fact worth knowing that is not a verdict (the design's own escalation paths): never counted.
    INFO = "INFO"


@dataclass(frozen=True)
class CheckResult:
    id: str
    status: Status
    reason: str
    #: The prover's counterexample: on FAIL the violating request; on CANNOT-PROVE the request that
    #: would violate the property if what was not modelled went against it.
    counterexample: Request | None = None
    #: CANNOT-PROVE: each thing the prover did not model that the answer depends on.
    not_modelled: tuple[str, ...] = ()
    #: The property's title, for the prover's lines (``access.P1``...).
    title: str = ""


def exit_ok(results: Sequence[CheckResult], *, warnings_ok: bool) -> bool:
    """Whether a run passed: no FAIL, no CANNOT-PROVE, and no WARN unless warnings are accepted."""
    statuses = {r.status for r in results}
    if Status.FAIL in statuses or Status.CANNOT_PROVE in statuses:
        return False
    return warnings_ok or Status.WARN not in statuses


# --- the prover's answers -------------------------------------------------------------------------

_STATUS_OF = {Verdict.PASS: Status.PASS, Verdict.FAIL: Status.FAIL, Verdict.CANNOT_PROVE: Status.CANNOT_PROVE}


def property_results(results: Sequence[PropertyResult]) -> list[CheckResult]:
    """One line per property (``access.P1`` ...) with the prover's summary, and its findings as INFO lines."""
    lines = []
    for result in results:
        check_id = f"access.{result.id}"
        status = _STATUS_OF[result.verdict]
        lines.append(
            CheckResult(check_id, status, result.summary, result.counterexample, tuple(result.reasons), result.title)
        )
        lines += [CheckResult(check_id, Status.INFO, finding) for finding in result.findings]
    return lines
