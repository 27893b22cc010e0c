"""What a synthesized cloud assembly's gates concluded, read from the files CDK and the proofs write (pure).

CDK runs every validation plugin after synthesis and writes ``validation-report.json`` to the root
of the cloud assembly whenever a plugin ran (CDK's built-in CloudFormation validation is one, so a
synthesis with templates always writes it). A plugin that found nothing, or only acknowledged
findings, is listed with ``"conclusion": "success"`` or left out; a plugin that raised is listed
with ``"conclusion": "failure"``, no violations and ``metadata.error``. CDK does not fail the app
for the latter under the CDK CLI: the CLI asks the app to leave reporting to it
(``@aws-cdk/core:failSynthOnValidationErrors`` is false) and then fails only on violations
(aws/aws-cdk#26844, #27575, #37909). So this module reads the report itself, and the access proofs'
own record (``PROOFS_RECORD``), which proves that they ran even when CDK leaves a clean plugin out.

Used by ``constructs_lib.compliance.synth`` (the library gate) and ``scripts/synth_summary.py``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

VALIDATION_REPORT = "validation-report.json"
#: The access proofs' plugin name (``constructs_lib.compliance.proofs``), as the report names it; the constructs
#: acknowledge proofs by it too (``constructs_lib.compliance.acknowledgments``).
ACCESS_PROOFS = "TeleportRecordingsAccessProofs"
#: Written by the access proofs at the root of the cloud assembly, whatever they concluded.
PROOFS_RECORD = "teleport-recordings-access-proofs.json"


def failures(outdir: Path, *, proofs_expected: bool) -> list[str]:
    """One line per reason the assembly in ``outdir`` must not be used; empty when every gate passed.

    A missing or unreadable report, a plugin whose conclusion is not ``success`` (with each of its
    violations, or the error it raised), and, when ``proofs_expected``, a missing proof record or
    one holding an error that cannot be acknowledged (``fatal``) are all failures: nothing is taken
    to have passed without a record saying so.
    """
    problems: list[str] = []
    report = _read(outdir / VALIDATION_REPORT, problems, "the validation plugins did not run or their report was lost")
    if report is not None:
        problems += _report_failures(report)
    if proofs_expected:
        record = _read(outdir / PROOFS_RECORD, problems, "the access proofs did not run")
        proofs_failed = any(line.startswith(f"{ACCESS_PROOFS}: ") for line in problems)
        if record is not None and not proofs_failed:  # the report already names each of them
            problems += [
                f"{ACCESS_PROOFS}: {entry.get('template', '?')}: {entry.get('error')}"
                for entry in record.get("storages", [])
                if isinstance(entry, Mapping) and entry.get("fatal")
            ]
    return problems


def _read(path: Path, problems: list[str], missing: str) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text())
    except FileNotFoundError:
        problems.append(f"no {path.name} in {path.parent}: {missing}")
        return None
    except (OSError, ValueError) as error:
        problems.append(f"{path} cannot be read: {error}")
        return None
    if not isinstance(value, dict):
        problems.append(f"{path} is not a JSON object")
        return None
    return value


def _report_failures(report: Mapping[str, Any]) -> list[str]:
    plugins = report.get("pluginReports")
    if not isinstance(plugins, list):
        return [f"{VALIDATION_REPORT} has no pluginReports list"]
    problems = []
    for plugin in plugins:
        name = plugin.get("pluginName", "?") if isinstance(plugin, Mapping) else "?"
        if not isinstance(plugin, Mapping) or plugin.get("conclusion") == "success":
            continue
        error = (plugin.get("metadata") or {}).get("error")
        if error:
            problems.append(f"{name}: {error}")
        violations = plugin.get("violations") or []
        problems += [f"{name}: {_violation(name, v)}" for v in violations if isinstance(v, Mapping)]
        if not error and not violations:
            problems.append(f"{name}: conclusion {plugin.get('conclusion')!r} without a violation or an error")
    return problems


def _violation(plugin: str, violation: Mapping[str, Any]) -> str:
    where = []
    for construct in violation.get("violatingConstructs") or []:
        resource = construct.get("cloudFormationResource") or {}
        where.append(construct.get("constructPath") or resource.get("logicalId") or "?")
    rule = str(violation.get("ruleName", "?"))
    description = " ".join(str(violation.get("description", "")).split())
    line = f"{rule} on {', '.join(where) or '?'}: {description}"
    return f"{line} (acknowledge with '{_acknowledgment_id(plugin, rule)}')" if _acknowledgeable(violation) else line


def _acknowledgeable(violation: Mapping[str, Any]) -> bool:
    """CDK's rule: neither fatal nor an error converted from an annotation."""
    severity = str(violation.get("severity") or "").lower()
    annotation = bool((violation.get("ruleMetadata") or {}).get("cdk:annotation"))
    return severity != "fatal" and not (annotation and severity == "error")


def _acknowledgment_id(plugin: str, rule: str) -> str:
    """The id ``cdk.Acknowledgment`` takes, as CDK's own report prints it (``Pack::Rule``)."""
    if "::" in rule:
        return rule.replace(" ", "-")
    namespace = "Annotation" if plugin == "Construct Annotations" else plugin.replace(" ", "-")
    return f"{namespace}::{rule.replace(' ', '-')}"


def remove_templates(outdir: Path) -> list[Path]:
    """Delete every CloudFormation template of the assembly (nested assemblies included): what failed
    a gate must not be deployable. The report and the record stay, for the reader."""
    removed = sorted(outdir.rglob("*.template.json"))
    for template in removed:
        template.unlink()
    return removed
