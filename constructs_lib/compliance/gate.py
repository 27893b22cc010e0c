"""The gate: ``synth(app)`` synthesizes, then fails closed on anything but every gate's success.

``app.synth()`` alone does not fail under the CDK CLI when a validation plugin raised
(``constructs_lib.core.gates`` reads what CDK wrote); ``synth`` does, and leaves no template.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import cx_api

from constructs_lib.core import gates


class GateFailed(SystemExit):
    """Synthesis failed a compliance gate; the assembly holds no template.

    A ``SystemExit`` whose code is the message: an app whose last line is ``compliance.synth(app)``
    exits with status 1 and one line per failure on stderr, without a traceback, and no
    ``except Exception`` on the way can mistake a failed gate for a passed one. ``problems`` holds
    the lines without their prefix.
    """

    def __init__(self, problems: Sequence[str], outdir: Path, removed: Sequence[Path]) -> None:
        self.problems = list(problems)
        self.outdir = outdir
        lines = [f"compliance gate: {problem}" for problem in self.problems]
        lines.append(
            f"compliance gate: synthesis failed ({len(self.problems)} failures); removed {len(removed)} templates "
            f"from {outdir}: nothing to deploy"
        )
        super().__init__("\n".join(lines))


def synth(app: cdk.App) -> cx_api.CloudAssembly:
    """``app.synth()``, then the gate: any plugin (ours or a cdk-nag pack) whose conclusion is not
    success, including one that raised, a lost validation report or a missing proof record, removes
    every template from the output directory and raises ``GateFailed``.

    CDK alone fails open there: under the CDK CLI it records a plugin's exception in
    ``validation-report.json`` and synthesizes anyway (``constructs_lib.core.gates``). Any other
    exception from ``app.synth()`` also removes the templates before it propagates. Requires
    ``enable_compliance_packs(app)`` (or ``proofs.enable_access_proofs(app)``) first.
    """
    from constructs_lib.compliance.proofs import access_proofs_enabled

    if not access_proofs_enabled(app):
        raise ValueError(
            "compliance.synth(app) needs the gates: call enable_compliance_packs(app) before building the stacks"
        )
    outdir = Path(app.outdir)
    for stale in (gates.VALIDATION_REPORT, gates.PROOFS_RECORD):  # only this synthesis's verdicts count
        (outdir / stale).unlink(missing_ok=True)
    try:
        assembly = app.synth()
    except Exception as error:
        removed = gates.remove_templates(outdir)
        problems = gates.failures(outdir, proofs_expected=False) if (outdir / gates.VALIDATION_REPORT).exists() else []
        if not problems:
            raise  # not a gate's verdict (a construct's validation, a bug): CDK's own error says what
        raise GateFailed(problems, outdir, removed) from error
    problems = gates.failures(outdir, proofs_expected=any(outdir.rglob("*.template.json")))
    if problems:
        raise GateFailed(problems, outdir, gates.remove_templates(outdir))
    return assembly
