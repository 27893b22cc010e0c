"""P5: the requests Teleport's auth service makes (its S3 client's calls and the KMS calls S3 makes
for them) are still allowed; the guardrail properties ask the same of the SCPs and RCPs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import z3

from constructs_lib.core.prover.encode import (
    Bool,
    Encoder,
    SymbolicRequest,
)
from constructs_lib.core.prover.keys import ENCRYPTION_CONTEXT_PREFIX
from constructs_lib.core.prover.model import Design, PropertyResult, Verdict
from constructs_lib.core.prover.parse import Parsed
from constructs_lib.core.prover.queries import (
    P5,
    S3_ARN_CONTEXT,
    SSE,
    SSE_KEY,
    TITLES,
    build_query,
    fixed_context,
    property_result,
)
from constructs_lib.core.prover.solve import Found, Side, search_each

# --- P5 --------------------------------------------------------------------------------------------

S3_REQUESTS = (
    # (Teleport's call, IAM action, on an object?, carries the SSE headers?)
    ("CreateMultipartUpload", "s3:PutObject", True, True),
    ("UploadPart", "s3:PutObject", True, False),
    ("CompleteMultipartUpload", "s3:PutObject", True, False),
    ("ListParts", "s3:ListMultipartUploadParts", True, False),
    ("ListMultipartUploads", "s3:ListBucketMultipartUploads", False, False),
    ("AbortMultipartUpload", "s3:AbortMultipartUpload", True, False),
    ("PutObject", "s3:PutObject", True, True),
    ("ListObjectVersions", "s3:ListBucketVersions", False, False),
    ("GetObject (by version)", "s3:GetObjectVersion", True, False),
    ("HeadBucket", "s3:ListBucket", False, False),
)
KMS_REQUESTS = (
    # (what S3 does for Teleport, IAM action, encryption context: "bucket" | "object" | None)
    ("GenerateDataKey through S3 (S3 Bucket Key)", "kms:GenerateDataKey", "bucket"),
    ("GenerateDataKey through S3 (per-object key)", "kms:GenerateDataKey", "object"),
    ("Decrypt through S3 (S3 Bucket Key)", "kms:Decrypt", "bucket"),
    ("Decrypt through S3 (per-object key)", "kms:Decrypt", "object"),
    ("DescribeKey", "kms:DescribeKey", None),
)


def _object_arn(design: Design, name: Bool) -> Bool:
    return z3.Concat(z3.StringVal(design.objects_arn_prefix), name)


def _refusal(encoder: Encoder, service: str, account: str, *, guardrails_only: bool) -> Bool:
    """What refuses a request: everything (P5), or the organization guardrails alone (G3)."""
    if guardrails_only:
        return encoder.guardrails(account)
    allowed, _ = encoder.s3(account) if service == "s3" else encoder.kms(account)
    return z3.Not(allowed)


def teleport_s3(
    design: Design, parsed: Parsed, *, guardrails_only: bool = False
) -> Iterator[tuple[str, Found, SymbolicRequest]]:
    """For each of Teleport's S3 calls: can it be refused, for some object under the prefix?"""
    q = build_query(
        design, [parsed], service="s3", actions=sorted({a for _, a, _, _ in S3_REQUESTS}), environment_known=False
    )
    r, encoder = q.request, q.encoders[0]
    refused = _refusal(encoder, "s3", design.account, guardrails_only=guardrails_only)
    name = z3.String("object_key")
    secure, tls = r.modelled("aws:securetransport"), r.modelled("s3:tlsversion")
    sse, sse_key = r.modelled(SSE), r.modelled(SSE_KEY)
    given = {
        "aws:securetransport": secure.value == z3.StringVal("true"),
        "s3:tlsversion": z3.Or(tls.value == z3.RealVal("1.2"), tls.value == z3.RealVal("1.3")),
        SSE: z3.BoolVal(True),
        SSE_KEY: z3.BoolVal(True),
    }
    r.constraints += [
        z3.Length(name) >= 1,
        r.is_principal(design.auth_role_arn),
        *given.values(),
        *fixed_context(r, given),
    ]
    r.pretty.append(z3.InRe(name, z3.Plus(z3.Range("a", "z"))))
    violations = []
    for _, action, on_object, headers in S3_REQUESTS:
        parts = [
            r.action == z3.StringVal(action.lower()),
            r.resource == (_object_arn(design, name) if on_object else z3.StringVal(design.bucket_arn)),
        ]
        if headers:
            parts += [sse.present, sse.value == z3.StringVal("aws:kms"), sse_key.present]
            parts.append(sse_key.value == z3.StringVal(design.teleport_key_id))
        else:
            parts += [z3.Not(sse.present), z3.Not(sse_key.present)]
        violations.append(z3.And(*parts, refused))
    for call, found in zip(S3_REQUESTS, search_each(r, violations, [Side(encoder, False)]), strict=True):
        yield call[0], found, r


def teleport_kms(
    design: Design, parsed: Parsed, *, guardrails_only: bool = False
) -> Iterator[tuple[str, Found, SymbolicRequest]]:
    """For each KMS call S3 makes for Teleport: can it be refused?"""
    q = build_query(
        design,
        [parsed],
        service="kms",
        actions=sorted({a for _, a, _ in KMS_REQUESTS}),
        environment_known=False,
        resource=design.key_arn,
    )
    r, encoder = q.request, q.encoders[0]
    refused = _refusal(encoder, "kms", design.account, guardrails_only=guardrails_only)
    name = z3.String("object_key")
    secure, via = r.modelled("aws:securetransport"), r.modelled("kms:viaservice")
    context = r.context_key(S3_ARN_CONTEXT)
    given = {
        "aws:securetransport": secure.value == z3.StringVal("true"),
        "kms:viaservice": z3.BoolVal(True),
        ENCRYPTION_CONTEXT_PREFIX + S3_ARN_CONTEXT: z3.BoolVal(True),
    }
    r.constraints += [
        z3.Length(name) >= 1,
        r.is_principal(design.auth_role_arn),
        *given.values(),
        *fixed_context(r, given),
    ]
    r.pretty.append(z3.InRe(name, z3.Plus(z3.Range("a", "z"))))
    violations = []
    for _, action, arn in KMS_REQUESTS:
        parts = [r.action == z3.StringVal(action.lower())]
        if arn is None:
            parts += [z3.Not(via.present), z3.Not(context.present)]
        else:
            value = z3.StringVal(design.bucket_arn) if arn == "bucket" else _object_arn(design, name)
            parts += [via.present, via.value == z3.StringVal(design.via_s3), context.present, context.value == value]
        violations.append(z3.And(*parts, refused))
    for call, found in zip(KMS_REQUESTS, search_each(r, violations, [Side(encoder, False)]), strict=True):
        yield f"{call[0]} (S3 calling KMS)", found, r


def prove_p5(design: Design, parsed: Parsed) -> PropertyResult:
    notes = []
    if design.auth_role_arn.lower() not in parsed.identity:
        notes.append("the auth role's identity policies were not supplied: the identity side was not checked")
    passed = (
        f"every S3 request Teleport makes under {design.objects_arn_prefix}* over TLS 1.2+, and the KMS calls S3 "
        "makes for it, are allowed"
    )
    return teleport_result(P5, design, parsed, guardrails_only=False, passed=passed, notes=notes)


def teleport_result(
    prop: str, design: Design, parsed: Parsed, *, guardrails_only: bool, passed: str, notes: Sequence[str] = ()
) -> PropertyResult:
    """P5 (everything decides) or G3 (the guardrails alone): the first refused call of Teleport's,
    else the first call that cannot be proven, else PASS."""
    refused_by = " by the organization guardrails" if guardrails_only else ""
    doubtful: tuple[Found, SymbolicRequest, str] | None = None
    for calls in (teleport_s3, teleport_kms):
        for label, found, r in calls(design, parsed, guardrails_only=guardrails_only):
            if found.verdict is Verdict.FAIL:
                failed = f"Teleport's {label} is refused{refused_by}"
                return property_result(prop, found, r, passed="", failed=failed, notes=notes)
            if found.verdict is Verdict.CANNOT_PROVE and doubtful is None:
                doubtful = (found, r, label)
    if doubtful is not None:
        found, r, label = doubtful
        return property_result(prop, found, r, passed="", failed="", notes=[f"{label}", *notes])
    return PropertyResult(prop, TITLES[prop], Verdict.PASS, passed + (f" ({'; '.join(notes)})" if notes else ""))
