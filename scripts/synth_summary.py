"""Print where `cdk synth` wrote the templates and the storage URI each stack will output.

Belt and braces behind the app's own gate (``constructs_lib.compliance.synth``): a validation report
or proof record that says anything but success, or is missing, prints each failure on stderr and
exits 1 without listing a template.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # this checkout's gate reader, not another installed copy

from constructs_lib.core import gates  # noqa: E402  (pure: no CDK, no jsii)


def render(value: Any) -> str:
    """A CloudFormation value as readable text: Ref X -> ${X}, GetAtt X.Y -> ${X.Y}, Fn::Join joined."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref":
            return "${" + argument + "}"
        if function == "Fn::GetAtt":
            return "${" + ".".join(argument) + "}"
        if function == "Fn::Join":
            separator, parts = argument
            return separator.join(render(part) for part in parts)
        if function == "Fn::Sub" and isinstance(argument, str):
            return argument
    return json.dumps(value)


def _json(path: Path) -> dict[str, Any]:
    """The file's JSON object, or {} when it is missing or unreadable (gates.failures says so)."""
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def main(out_dir: str) -> int:
    problems = gates.failures(Path(out_dir), proofs_expected=True)
    report = _json(Path(out_dir) / gates.VALIDATION_REPORT)
    for plugin in report.get("pluginReports", []):
        acknowledged = len(plugin.get("suppressedViolations") or [])
        conclusion = plugin.get("conclusion")
        print(f"compliance: {plugin.get('pluginName')}: {conclusion} ({acknowledged} acknowledged findings)")
    proofs = _json(Path(out_dir) / gates.PROOFS_RECORD)
    for storage in proofs.get("storages", []):
        verdicts = " ".join(f"{r['id']} {r['verdict']}" for r in storage.get("results", [])) or storage.get("error")
        what = storage.get("key") or (
            f"guardrails of {storage['guardrails']}" if "guardrails" in storage else storage.get("construct", "")
        )
        units = f"{storage['rlimitUnits']:,} rlimit units, " if "rlimitUnits" in storage else ""
        print(f"access proofs: {storage.get('template')} {what}: {verdicts} ({units}{proofs.get('seconds')} s in all)")
    if problems:
        for problem in problems:
            print(f"compliance gate: {problem}", file=sys.stderr)
        print(f"compliance gate: {len(problems)} failures: do not deploy from {out_dir}", file=sys.stderr)
        return 1
    templates = sorted(Path(out_dir).glob("*.template.json"))
    if not templates:
        print(f"no templates in {out_dir}", file=sys.stderr)
        return 1
    for template_path in templates:
        template = json.loads(template_path.read_text())
        print(f"template: {template_path}")
        for name, output in template.get("Outputs", {}).items():
            print(f"  {name}: {render(output['Value'])}")
    print("Put StorageUri into teleport.yaml as teleport.storage.audit_sessions_uri (see README).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "cdk.out"))
