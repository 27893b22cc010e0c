"""The compliance packs: the four cdk-nag packs and the access proofs, as CDK validation plugins."""

from __future__ import annotations

import aws_cdk as cdk


def enable_compliance_packs(app: cdk.App) -> None:
    """Run the four cdk-nag packs and the access proofs (P1-P6, G1-G4) as validation plugins.

    With ``synth(app)``, any unacknowledged finding, any property that fails or cannot be proven, and
    any plugin that raises fails synthesis and leaves no template.
    cdk-nag is imported here, not at module level, so that importing the constructs does not load it.
    """
    import cdk_nag

    from constructs_lib.compliance.proofs import enable_access_proofs

    enable_access_proofs(app)

    cdk.Validations.of(app).add_plugins(
        cdk_nag.AwsSolutionsChecks(app),
        cdk_nag.HIPAASecurityChecks(app),
        cdk_nag.NIST80053R5Checks(app),
        cdk_nag.PCIDSS321Checks(app),
    )
