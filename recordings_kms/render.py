"""How ``recordings-kms`` reports: check lines as text or one JSON document, and one-line errors.

Nothing here decides anything: the checks (``recordings_kms.verify``) and the prover decide, this
module only words and counts what they said.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from recordings_kms.options import EXIT_ERROR, PROG

if TYPE_CHECKING:
    from constructs_lib.core.prover import Design, Request
    from recordings_kms.results import CheckResult


def error(message: str, *, as_json: bool = False) -> int:
    """Report an error that stopped the command: one line on stderr (and ``{"ok": false}`` with --json)."""
    message = " ".join(message.split())  # one line, whatever the message (botocore's may span several)
    if as_json:
        print(json.dumps({"ok": False, "error": message}, indent=2))
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def request_json(request: Request) -> dict[str, Any]:
    context = {k: list(v) if isinstance(v, tuple) else v for k, v in sorted(request.context.items())}
    return {"principal": request.principal, "action": request.action, "resource": request.resource, "context": context}


def design_json(design: Design) -> dict[str, Any]:
    """The design a run judged against, in the ``AccessDesign`` output's words."""
    return {
        "authPrincipalArn": design.auth_role_arn,
        "readers": list(design.reader_arns),
        "admins": list(design.admin_arns),
        "adminMode": design.admin_mode,
        "deployRole": design.deploy_role_arn,
        "scopeKeyToS3": design.scope_key_to_s3,
        "prefix": design.prefix,
        "account": design.account,
        "region": design.region,
        "keyArn": design.key_arn,
        "bucketName": design.bucket_name,
        "sseKmsKey": design.teleport_key_id,
    }


def design_line(design: Design) -> str:
    readers = ", ".join(design.reader_arns) or "none"
    admins = ", ".join(design.admin_arns) or "none"
    return (
        f"design: auth {design.auth_role_arn}; readers {readers}; key admins {admins} ({design.admin_mode}); "
        f"deploy role {design.deploy_role_arn or 'none'}; prefix {design.prefix or '(none)'}"
        + ("" if design.scope_key_to_s3 else "; not scoped to S3")
    )


def check_json(result: CheckResult) -> dict[str, Any]:
    found: dict[str, Any] = {"id": result.id, "status": result.status.value, "reason": result.reason}
    if result.title:
        found["title"] = result.title
    if result.counterexample is not None:
        found["counterexample"] = request_json(result.counterexample)
    if result.not_modelled:
        found["not_modelled"] = list(result.not_modelled)
    return found


def counts(results: Sequence[CheckResult]) -> dict[str, int]:
    from recordings_kms.results import Status

    return {status.value: sum(1 for r in results if r.status == status) for status in Status}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary_line(results: Sequence[CheckResult]) -> str:
    found = counts(results)
    line = f"{found['PASS']} passed, {_plural(found['WARN'], 'warning')}, {found['FAIL']} failed"
    if found["CANNOT-PROVE"]:
        line += f", {found['CANNOT-PROVE']} cannot be proven"
    if found["INFO"]:
        line += f" ({found['INFO']} informational)"
    return line


def check_lines(results: Sequence[CheckResult]) -> list[str]:
    """One line per check (status, id, reason); under it what the prover did not model, and the
    counterexample when the reason does not already show it."""
    status_width = max((len(r.status.value) for r in results), default=4)
    id_width = max((len(r.id) for r in results), default=0)
    indent = " " * (status_width + 2 + id_width + 2)
    lines = []
    for r in results:
        lines.append(f"{r.status.value:<{status_width}}  {r.id:<{id_width}}  {r.reason}")
        lines += [f"{indent}not modelled: {reason}" for reason in r.not_modelled]
        if r.counterexample is not None and r.counterexample.describe() not in r.reason:
            label = "counterexample" if r.not_modelled == () else "would violate it if those went against it"
            lines.append(f"{indent}{label}: {r.counterexample.describe()}")
    return lines


def text(results: Sequence[CheckResult], *header: str) -> str:
    """The header lines, one line per check, and the counts."""
    return "\n".join([*header, *check_lines(results), summary_line(results)])


def document(results: Sequence[CheckResult], *, ok: bool, about: Mapping[str, Any]) -> str:
    """One JSON document: ``ok``, what was checked (``about``), the counts and every check."""
    body = {"ok": ok, **about, "summary": counts(results), "checks": [check_json(r) for r in results]}
    return json.dumps(body, indent=2)
