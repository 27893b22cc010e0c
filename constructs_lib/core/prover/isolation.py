"""P7: no other cluster reaches this cluster's recordings (the organization layout, docs/ORGANIZATION.md).

For a cluster's design and every peer (``Design.peer_arns``: the other clusters' auth roles and
readers), there is no request, over every action, resource and condition context, that the bucket
policy and the identity policies (a peer whose identity policies are not supplied may be allowed
anything: its account's administrators can write them) and the guardrails allow the peer, and that is

1. any ``s3:`` action on an object under this cluster's prefix (read, write, delete, abort or complete
   an upload, change retention), or
2. any ``s3:`` action on the bucket ARN other than Teleport's five bucket actions: no peer changes the
   bucket's policy, lifecycle, encryption or versioning.

3. with a key per cluster (``clusterIsolation=key``, ``Design.key_per_cluster``), any ``kms:`` action
   on this cluster's key (its key policy and grants): that holds even where the bucket policy is
   wrong, so a peer that could read this cluster's objects still could not decrypt them
   (:func:`peer_key_use` answers that part alone).

With one shared key (``prefix`` isolation) and S3 Bucket Keys the encryption context is the bucket, so
KMS cannot tell the clusters apart: P7 rests on the bucket policy. Listing object names
(``s3:ListBucket`` with another cluster's prefix) stays open: HeadBucket, which Teleport calls at
start-up, is authorized as ``s3:ListBucket`` without a prefix.
"""

from __future__ import annotations

import z3

from constructs_lib.core.prover.catalog import KMS_ACTIONS, S3_ACTIONS
from constructs_lib.core.prover.model import Design, PropertyResult, Verdict
from constructs_lib.core.prover.parse import Parsed
from constructs_lib.core.prover.queries import P7, TITLES, acting_as, action_in, build_query, property_result
from constructs_lib.core.prover.request import SymbolicRequest
from constructs_lib.core.prover.solve import Found, Side, search

#: What a peer may still do on the bucket ARN itself (Teleport's documented bucket actions).
SHARED_BUCKET_ACTIONS = (
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:ListBucketMultipartUploads",
    "s3:GetEncryptionConfiguration",
    "s3:GetBucketVersioning",
)


def peer_key_use(design: Design, parsed: Parsed) -> tuple[Found, SymbolicRequest]:
    """Whether any peer may call any ``kms:`` action on the design's key (key policy, grants, identity policies)."""
    q = build_query(design, [parsed], service="kms", actions=None, environment_known=True, resource=design.key_arn)
    r, encoder = q.request, q.encoders[0]
    allowed, _ = encoder.kms(design.account)
    violation = z3.And(allowed, acting_as(r, design.peer_arns))
    found = search(r, violation, [Side(encoder, True)])
    if found.verdict is Verdict.FAIL:
        known = search(r, z3.And(violation, action_in(r, KMS_ACTIONS)), [Side(encoder, True)])
        if known.verdict is Verdict.FAIL:
            found = known
    return found, r


def prove_p7(design: Design, parsed: Parsed) -> PropertyResult:
    if not design.peer_arns:
        return PropertyResult(P7, TITLES[P7], Verdict.PASS, "not required: the design has one cluster (no peers)")
    if design.key_per_cluster:
        found, request = peer_key_use(design, parsed)
        if found.verdict is not Verdict.PASS:
            return property_result(
                P7, found, request, passed="", failed="another cluster's role or reader can use this cluster's key"
            )
    q = build_query(design, [parsed], service="s3", actions=None, environment_known=True)
    r, encoder = q.request, q.encoders[0]
    allowed, _ = encoder.s3(design.account)
    under_prefix = z3.PrefixOf(z3.StringVal(design.objects_arn_prefix), r.resource)
    bucket_change = z3.And(r.resource == z3.StringVal(design.bucket_arn), z3.Not(action_in(r, SHARED_BUCKET_ACTIONS)))
    violation = z3.And(allowed, acting_as(r, design.peer_arns), z3.Or(under_prefix, bucket_change))
    found = search(r, violation, [Side(encoder, True)])
    if found.verdict is Verdict.FAIL:
        known = search(r, z3.And(violation, action_in(r, S3_ACTIONS)), [Side(encoder, True)])
        if known.verdict is Verdict.FAIL:
            found = known
    own_key = " or use this cluster's own key" if design.key_per_cluster else ""
    return property_result(
        P7,
        found,
        r,
        passed=f"no other cluster's role or reader ({len(design.peer_arns)}) can act on {design.objects_arn_prefix}* "
        f"or change the bucket{own_key}, whatever their identity policies allow",
        failed="another cluster reaches this cluster's recordings",
    )
