"""The cdk-nag findings this design accepts, each with its reason, and how a construct acknowledges one.

The acknowledgments live on the constructs, not in an app, attached to the narrowest construct, so
that an app importing the constructs and running the compliance packs gets the same clean result.
Each one names one finding and says why it is right for this design; README.md lists them all.
A leaf module: the constructs import it, and it imports nothing of theirs (nor cdk-nag).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import IConstruct

from constructs_lib.core import gates

#: The access proofs' plugin name (``constructs_lib.compliance.proofs.PLUGIN_NAME``), the prefix of their
#: acknowledgment ids.
ACCESS_PROOFS = gates.ACCESS_PROOFS
#: The compliance packs this package is checked against, by their report (pack) names.
REPLICATION_PACKS = ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
KMS_ENCRYPTION_PACKS = ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")

REASON_REPLICATION_RECORDINGS = (
    "Session recordings are written once and kept versioned and retained in this region; replication to another "
    "region is the replicaRegion setting (a replica bucket under its own key, docs/REPLICATION.md), off unless "
    "chosen."
)
REASON_REPLICA_NOT_REPLICATED = (
    "This bucket is the replica: S3 replicates the primary's recordings into it, and a replica is not replicated "
    "again (S3 does not chain replicas, and a third copy would need a third key and key policy)."
)
REASON_REPLICATION_PREFIX_WILDCARD = (
    "S3 replicates every recording object under the configured prefix, whose names Teleport chooses, so the "
    "replication role reads PREFIX/* in the primary bucket and writes PREFIX/* in the replica bucket, with the "
    "replication actions only (no GetObject, no delete)."
)
REASON_REPLICATION_ACCESS_LOGS = (
    "S3 server access logs of the recordings bucket are an audit trail, not the recordings; they stay "
    "versioned and retained in this region, and replicating them would need the same DR design."
)
REASON_ACCESS_LOGS_SSE_S3 = (
    "S3 server access logging delivers only to buckets encrypted with SSE-S3 (AES256); a KMS-encrypted "
    "target bucket silently receives no logs."
)
REASON_RECORDINGS_PREFIX_WILDCARD = (
    "Teleport names each recording object itself (session id, upload id, part files) under the configured "
    "prefix, so its auth role needs object actions on PREFIX/*; nothing outside the prefix and no delete action."
)
REASON_READER_PREFIX_WILDCARD = (
    "A decrypt-only reader plays back any recording under the configured prefix, whose object names Teleport "
    "chooses, so it needs read actions on PREFIX/*; nothing outside the prefix, no write and no delete."
)
REASON_STRICT_MODE_BREAKS_MULTIPART_PROOF = (
    "requireEncryptionHeaders (strict mode) was chosen: its deny of PutObject without an encryption header also "
    "matches UploadPart and CompleteMultipartUpload, which Teleport sends without one, so P5 cannot hold by the "
    "policy's semantics; whether S3 applies the condition to them is not documented. Verify Teleport's uploads "
    "with 'recordings-kms verify --probe' against real S3 before relying on strict mode."
)
REASON_IMPORTED_LOG_BUCKET = (
    "The access-log bucket was passed in: its owner grants logging.s3.amazonaws.com PutObject in that "
    "bucket's policy (README: Existing access-log bucket)."
)


def acknowledge(scope: IConstruct, finding_id: str, reason: str) -> None:
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=finding_id, reason=reason))


def acknowledge_in_packs(scope: IConstruct, rule: str, reason: str, packs: tuple[str, ...]) -> None:
    """One rule that several packs share (for example S3BucketReplicationEnabled)."""
    for pack in packs:
        acknowledge(scope, f"{pack}::{pack}-{rule}", reason)


def nag_resource_string(scope: IConstruct, value: str) -> str:
    """How cdk-nag writes an IAM resource in a finding id: intrinsics become ``<Name>``.

    IAM5 finding ids embed the resource, so the id of an acknowledgment must be derived from the same
    value that builds the policy, or a non-default setting would leave the finding unacknowledged.
    """
    return _render(cdk.Stack.of(scope).resolve(value))


def _render(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref":
            return f"<{argument}>"
        if function == "Fn::GetAtt":
            return "<" + ".".join(argument) + ">"
        if function == "Fn::Join":
            separator, parts = argument
            return str(separator).join(_render(part) for part in parts)
    raise ValueError(f"cannot render {value!r} as a cdk-nag resource string")
