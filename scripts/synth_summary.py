"""Print where `cdk synth` wrote the templates and the storage URI each stack will output."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


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


def main(out_dir: str) -> int:
    templates = sorted(Path(out_dir).glob("*.template.json"))
    if not templates:
        print(f"no templates in {out_dir}", file=sys.stderr)
        return 1
    report_path = Path(out_dir) / "validation-report.json"
    if report_path.exists():
        report = json.loads(report_path.read_text())
        for plugin in report.get("pluginReports", []):
            acknowledged = len(plugin.get("suppressedViolations", []))
            print(f"compliance: {plugin['pluginName']}: {plugin['conclusion']} ({acknowledged} acknowledged findings)")
    proofs_path = Path(out_dir) / "teleport-recordings-access-proofs.json"
    if proofs_path.exists():
        proofs = json.loads(proofs_path.read_text())
        for storage in proofs.get("storages", []):
            verdicts = " ".join(f"{r['id']} {r['verdict']}" for r in storage.get("results", [])) or storage.get("error")
            what = storage.get("key") or f"guardrails of {storage.get('guardrails')}"
            print(f"access proofs: {storage['template']} {what}: {verdicts} ({proofs['seconds']} s)")
    for template_path in templates:
        template = json.loads(template_path.read_text())
        print(f"template: {template_path}")
        for name, output in template.get("Outputs", {}).items():
            print(f"  {name}: {render(output['Value'])}")
    print("Put StorageUri into teleport.yaml as teleport.storage.audit_sessions_uri (see README).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "cdk.out"))
