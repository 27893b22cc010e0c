"""Compliance: the gates an app's synthesis must pass, and what this design acknowledges to them.

- ``packs.py``: ``enable_compliance_packs(app)`` registers the four cdk-nag packs and the access proofs
  as CDK validation plugins;
- ``proofs.py``: the access proofs (P1-P6, G1-G4 on the prover) as a validation plugin;
- ``gate.py``: ``synth(app)`` synthesizes, then fails closed on anything but success (``GateFailed``),
  which ``app.synth()`` alone does not do under the CDK CLI;
- ``acknowledgments.py``: the cdk-nag findings this design accepts, with their reasons, attached by the
  constructs to the narrowest construct (a leaf: the constructs import it);
- ``checkov.py``: the template-scanner (checkov) suppressions, in each resource's metadata.

Importing this package loads neither cdk-nag nor the proofs plugin (``enable_compliance_packs`` does).
"""

from __future__ import annotations

from constructs_lib.compliance.acknowledgments import (
    ACCESS_PROOFS,
    KMS_ENCRYPTION_PACKS,
    REASON_ACCESS_LOGS_SSE_S3,
    REASON_IMPORTED_LOG_BUCKET,
    REASON_READER_PREFIX_WILDCARD,
    REASON_RECORDINGS_PREFIX_WILDCARD,
    REASON_REPLICATION_ACCESS_LOGS,
    REASON_REPLICATION_RECORDINGS,
    REASON_STRICT_MODE_BREAKS_MULTIPART_PROOF,
    REPLICATION_PACKS,
    acknowledge,
    acknowledge_in_packs,
    nag_resource_string,
)
from constructs_lib.compliance.gate import GateFailed, synth
from constructs_lib.compliance.packs import enable_compliance_packs

__all__ = [
    "ACCESS_PROOFS",
    "KMS_ENCRYPTION_PACKS",
    "REASON_ACCESS_LOGS_SSE_S3",
    "REASON_IMPORTED_LOG_BUCKET",
    "REASON_READER_PREFIX_WILDCARD",
    "REASON_RECORDINGS_PREFIX_WILDCARD",
    "REASON_REPLICATION_ACCESS_LOGS",
    "REASON_REPLICATION_RECORDINGS",
    "REASON_STRICT_MODE_BREAKS_MULTIPART_PROOF",
    "REPLICATION_PACKS",
    "GateFailed",
    "acknowledge",
    "acknowledge_in_packs",
    "enable_compliance_packs",
    "nag_resource_string",
    "synth",
]
