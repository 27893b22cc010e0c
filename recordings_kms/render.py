"""How ``recordings-kms`` reports: check lines as text or one JSON document, and one-line errors.

Nothing here decides anything: the checks (``recordings_kms.checks``) and the prover decide, this
module only words and counts what they said.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from recordings_kms.options import EXIT_ERROR, PROG

if TYPE_CHECKING:
    from recordings_kms.checks import CheckResult


def error(message: str, *, as_json: bool = False) -> int:
    """Report an error that stopped the command: one line on stderr (and ``{"ok": false}`` with --json)."""
    message = " ".join(message.split())  # one line, whatever the message (botocore's may span several)
    if as_json:
        print(json.dumps({"ok": False, "error": message}, indent=2))
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def check_json(result: CheckResult) -> dict[str, Any]:
    return {"id": result.id, "status": result.status.value, "reason": result.reason}


def counts(results: Sequence[CheckResult]) -> dict[str, int]:
    from recordings_kms.checks import Status

    return {status.value: sum(1 for r in results if r.status == status) for status in Status}


def text(results: Sequence[CheckResult], header: str) -> str:
    """The header, one line per check (status, id, reason), and the counts."""
    width = max((len(r.id) for r in results), default=0)
    lines = [header]
    lines += [f"{r.status.value:<4}  {r.id:<{width}}  {r.reason}" for r in results]
    found = counts(results)
    warnings = f"{found['WARN']} warning{'' if found['WARN'] == 1 else 's'}"
    lines.append(f"{found['PASS']} passed, {warnings}, {found['FAIL']} failed")
    return "\n".join(lines)


def document(results: Sequence[CheckResult], *, ok: bool, about: Mapping[str, Any]) -> str:
    """One JSON document: ``ok``, what was checked (``about``), the counts and every check."""
    body = {"ok": ok, **about, "summary": counts(results), "checks": [check_json(r) for r in results]}
    return json.dumps(body, indent=2)
