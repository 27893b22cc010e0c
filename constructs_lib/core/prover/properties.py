"""P1-P6 and ``new_access``: each a question "is there a request that ...?" put to the solver.

The property ids and titles of G1-G4 live here too (``prove`` answers them all); their questions are
in ``guardrail_properties``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import count

import z3

from constructs_lib.core.prover.budget import Budget, check, new_solver, spending
from constructs_lib.core.prover.catalog import (
    ALIAS_ACTIONS,
    CONTROL_ACTIONS,
    CRYPTO_ACTIONS,
    DECRYPTION_PATHS,
    KMS_ACTIONS,
    S3_ACTIONS,
)
from constructs_lib.core.prover.encode import (
    Bool,
    Encoder,
    Facts,
    SymbolicRequest,
    condition_keys,
    isolated,
)
from constructs_lib.core.prover.evaluate import grant_allows, iam_account, key_account, request_context
from constructs_lib.core.prover.keys import ENCRYPTION_CONTEXT_PREFIX, Source, Type, spec_of
from constructs_lib.core.prover.model import Decision, Design, Evidence, PropertyResult, Request, Verdict
from constructs_lib.core.prover.parse import Kind, Parsed, Ref, classify_principal, parse_evidence
from constructs_lib.core.prover.solve import Found, Side, request_of, search, search_each

P1, P2, P3, P4, P5, P6 = "P1", "P2", "P3", "P4", "P5", "P6"
ALL_PROPERTIES = (P1, P2, P3, P4, P5, P6)
G1, G2, G3, G4 = "G1", "G2", "G3", "G4"
#: What the organization guardrails promise; ``prove`` adds them when the evidence has SCPs or RCPs.
GUARDRAIL_PROPERTIES = (G1, G2, G3, G4)
TITLES = {
    P1: "Only the auth role, the readers and (rfd mode) the key administrators can use the key",
    P2: "The auth role and readers use the key only through S3 for this bucket",
    P3: "Only the key administrators and the deploy role can change who can decrypt",
    P4: "The deploy role (or a key administrator) can still update the key policy",
    P5: "Every request Teleport makes is allowed",
    P6: "No write under another encryption or key, nothing over plain HTTP or TLS < 1.2",
    G1: "The guardrails deny every protected change to everyone in the account but the exempt principals",
    G2: "The guardrails deny no protected change to the break-glass principals and the deploy role",
    G3: "The guardrails deny none of Teleport's requests",
    G4: "The guardrails keep principals outside the organization, and services acting for others, away",
}
SSE = "s3:x-amz-server-side-encryption"
SSE_KEY = "s3:x-amz-server-side-encryption-aws-kms-key-id"
SSE_C = "s3:x-amz-server-side-encryption-customer-algorithm"
S3_ARN_CONTEXT = "aws:s3:arn"
#: Grant operations that use the key material (what a CreateGrant must not hand out).
CRYPTO_GRANT_OPERATIONS = tuple(a.split(":", 1)[1] for a in CRYPTO_ACTIONS)


class CannotProveError(Exception):
    """``new_access`` could not decide: the answer depends on something not modelled."""

    def __init__(self, reasons: Sequence[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = tuple(reasons)


# --- building queries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Universe:
    """The principals, accounts and services the design and the evidence name."""

    arns: tuple[str, ...]
    accounts: tuple[str, ...]
    services: tuple[str, ...]
    #: The design's principals: they exist, spelt as IAM reports them.
    existing: tuple[str, ...] = ()


_NAMED = (":role/", ":user/", ":federated-user/")


def _design_principals(design: Design) -> list[str]:
    names = [design.auth_role_arn, *design.reader_arns, *design.admin_arns, *design.break_glass_arns]
    if design.deploy_role_arn:
        names.append(design.deploy_role_arn)
    return names


def _universe(design: Design, parsed: Iterable[Parsed]) -> Universe:
    """Every role, user and federated-user ARN (the design's spelling first), account and service
    principal named."""
    names = _design_principals(design)
    accounts = {design.account, key_account(design.key_arn)}
    services: set[str] = set()
    for evidence in parsed:
        accounts |= evidence.guardrails.accounts
        policies = [evidence.key_policy, *([evidence.bucket_policy] if evidence.bucket_policy else [])]
        refs = [r for p in policies for s in p.statements for r in s.principals or ()]
        refs += [g.grantee for g in evidence.grants]
        for ref in refs:
            if ref.kind in (Ref.ROLE, Ref.USER, Ref.FEDERATED):
                names.append(ref.value)
            if ref.kind is Ref.SERVICE:
                services.add(ref.value)
            if ref.account is not None:
                accounts.add(ref.account)
        names += [arn for arn in evidence.identity_names.values() if any(n in arn for n in _NAMED)]
    arns = tuple(n for n in names if any(k in n for k in _NAMED))
    accounts |= {a.split(":")[4] for a in arns}
    existing = tuple(a for a in _design_principals(design) if any(k in a for k in _NAMED))
    return Universe(arns, tuple(sorted(accounts)), tuple(sorted(services)), existing)


@dataclass
class Query:
    request: SymbolicRequest
    encoders: list[Encoder]


def _query(
    design: Design,
    parsed: Sequence[Parsed],
    *,
    service: str,
    actions: Sequence[str] | None,
    environment_known: bool,
    resource: str | None = None,
) -> Query:
    keys, counts = condition_keys(parsed)
    universe = _universe(design, parsed)
    request = SymbolicRequest(
        partition=design.partition,
        service=service,
        named_principals=universe.arns,
        existing=universe.existing,
        named_accounts=universe.accounts,
        named_services=universe.services,
        action_domain=actions,
        environment_known=environment_known,
        set_slots=max(counts.values(), default=0) + 2,
        resource_value=resource,
        facts=Facts(design.key_aliases, design.organization_id, design.organization_accounts),
    )
    # Every encryption-context key any policy or grant names must exist before a grant's
    # EncryptionContextEquals says "no other key".
    for key in sorted(keys):
        if key.startswith(ENCRYPTION_CONTEXT_PREFIX):
            request.key(key)
    encoders = [Encoder(request, p, resource_account=design.account, tag=f"{index}") for index, p in enumerate(parsed)]
    return Query(request, encoders)


def _among(request: SymbolicRequest, arns: Iterable[str]) -> Bool:
    return z3.Or(*(request.is_principal(a) for a in arns))


def _acting_as(request: SymbolicRequest, arns: Iterable[str]) -> Bool:
    """One of these principals, or a federated user session one of these IAM users created: a
    session has at most its user's permissions, and whoever holds it acts with the user's credentials."""
    return z3.Or(*(z3.Or(request.is_principal(a), request.acts_as_user(a)) for a in arns))


def _action_in(request: SymbolicRequest, actions: Iterable[str]) -> Bool:
    return z3.Or(*(request.action == z3.StringVal(a.lower()) for a in actions))


def _fixed_context(request: SymbolicRequest, given: dict[str, Bool]) -> list[Bool]:
    """For "does it still work" questions: the request carries exactly the given REQUEST keys."""
    constraints = []
    for name, term in request.keys.items():
        spec = spec_of(name)
        if spec is not None and spec.source is Source.REQUEST and name not in given:
            constraints.append(z3.Not(term.present))
    constraints.append(z3.Not(request.other_context_keys))
    return constraints


def _result(
    prop: str,
    found: Found,
    request: SymbolicRequest,
    *,
    passed: str,
    failed: str,
    findings: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> PropertyResult:
    note = f" ({'; '.join(notes)})" if notes else ""
    if found.verdict is Verdict.PASS:
        return PropertyResult(prop, TITLES[prop], Verdict.PASS, passed + note, findings=tuple(findings))
    counterexample = request_of(found.model, request) if found.model is not None else None
    if found.verdict is Verdict.FAIL:
        assert counterexample is not None
        return PropertyResult(
            prop,
            TITLES[prop],
            Verdict.FAIL,
            f"{failed}: {counterexample.describe()}{note}",
            counterexample,
            findings=tuple(findings),
        )
    return PropertyResult(
        prop,
        TITLES[prop],
        Verdict.CANNOT_PROVE,
        f"cannot prove: {found.reasons[0]}"
        + (f" (and {len(found.reasons) - 1} more)" if len(found.reasons) > 1 else ""),
        counterexample,
        findings=tuple(findings),
        reasons=found.reasons,
    )


def _unlisted(parsed: Parsed, arns: Iterable[str]) -> list[str]:
    return [a for a in arns if a.lower() not in parsed.identity]


# --- P1 --------------------------------------------------------------------------------------------


def decryption_paths(design: Design, parsed: Parsed) -> dict[str, str]:
    """The actions other than direct use that can hand out decryption of this key's ciphertexts to
    whoever holds them, for this design and evidence (``catalog.DECRYPTION_PATHS``): action -> why."""
    paths = {a: why for a, why in DECRYPTION_PATHS.items() if a not in CRYPTO_ACTIONS}
    if not design.key_id.startswith("mrk-"):
        # Only a multi-Region key can be replicated, and a single-Region key can never become one
        # (KMS Developer Guide, "Multi-Region keys in AWS KMS").
        del paths["kms:ReplicateKey"]
    if not _alias_for_encryption(design):
        del paths["kms:UpdateAlias"], paths["kms:DeleteAlias"]
    if design.key_aliases is not None and _reads(parsed, "kms:resourcealiases"):
        for action in ALIAS_ACTIONS:
            paths[action] = (
                "changes the key's aliases, which a policy's kms:ResourceAliases condition reads (the proof takes "
                "Design.key_aliases as they are)"
            )
    return paths


def _alias_for_encryption(design: Design) -> bool:
    return design.teleport_key_id.startswith("alias/") or ":alias/" in design.teleport_key_id


def _reads(parsed: Parsed, key: str) -> bool:
    keys, _ = condition_keys([parsed])
    return key in keys


def prove_p1(design: Design, parsed: Parsed) -> PropertyResult:
    may_use = [design.auth_role_arn, *design.reader_arns]
    if design.admin_mode == "rfd":
        may_use += design.admin_arns
    may_administer = [*design.admin_arns, *([design.deploy_role_arn] if design.deploy_role_arn else [])]
    paths = decryption_paths(design, parsed)
    actions = (*CRYPTO_ACTIONS, *paths)
    q = _query(design, [parsed], service="kms", actions=actions, environment_known=True, resource=design.key_arn)
    r, encoder = q.request, q.encoders[0]
    allowed, _ = encoder.kms(design.account)
    crypto = _action_in(r, CRYPTO_ACTIONS)
    operations = r.modelled("kms:grantoperations")
    crypto_grant = z3.Or(
        *(z3.And(p, z3.Or(*(v == z3.StringVal(o) for o in CRYPTO_GRANT_OPERATIONS))) for p, v in operations.slots)
    )
    outsider = z3.And(crypto, z3.Not(_acting_as(r, may_use)))
    reader = z3.And(
        _acting_as(r, design.reader_arns) if design.reader_arns else z3.BoolVal(False),
        z3.Not(_acting_as(r, [design.auth_role_arn, *may_use[1 + len(design.reader_arns) :]])),
        _action_in(r, [a for a in CRYPTO_ACTIONS if a != "kms:Decrypt"]),
    )
    others = [a for a in paths if a != "kms:CreateGrant"]
    indirect = z3.And(
        z3.Not(_acting_as(r, may_administer)) if may_administer else z3.BoolVal(True),
        z3.Or(
            _action_in(r, others),
            z3.And(r.action == z3.StringVal("kms:creategrant"), crypto_grant),
        ),
    )
    found = search(r, z3.And(allowed, z3.Or(outsider, reader, indirect)), [Side(encoder, True)])
    failed = "someone else can use the key"
    if found.verdict is Verdict.FAIL:
        example = request_of(found.model, r)
        failed = _p1_failure(design, parsed, example, may_use)
    elif found.verdict is Verdict.PASS and design.key_id.startswith("mrk-"):
        # The replicas (other Regions) share the key material and each has its own key policy, which
        # the evidence does not hold (KMS Developer Guide, "Control access to multi-Region keys").
        reason = (
            f"{design.key_id} is a multi-Region key: its replicas share its key material and have key policies of "
            "their own, which the evidence does not hold"
        )
        found = Found(Verdict.CANNOT_PROVE, reasons=(reason,))
    return _result(
        P1,
        found,
        r,
        passed="no principal outside the auth role, the readers"
        + (" and the key administrators" if design.admin_mode == "rfd" else "")
        + " can use the key, directly, through a grant, or by granting or rewriting the key policy",
        failed=failed,
        findings=[f"key administrator {a} may decrypt recordings (rfd mode: kms:*)" for a in design.admin_arns]
        if design.admin_mode == "rfd"
        else [],
    )


def _p1_failure(design: Design, parsed: Parsed, example: Request, may_use: Sequence[str]) -> str:
    who = example.principal
    how = ""
    identity = classify_principal(who)
    for grant in parsed.grants:
        if grant_allows(grant, identity, example.action.lower(), {k.lower(): v for k, v in example.context.items()}):
            how = f" through {grant.label}"
            break
    unlisted = (
        " (its identity policies were not supplied: assumed to allow everything)"
        if (who.lower() not in parsed.identity and any(k in who for k in _NAMED) and not how)
        else ""
    )
    paths = decryption_paths(design, parsed)
    if example.action in paths and example.action not in CRYPTO_ACTIONS:
        return f"{who} can call {example.action}{how} and so give itself decryption: {paths[example.action]}{unlisted}"
    if who.lower() in {a.lower() for a in design.reader_arns}:
        return f"reader {who} can call {example.action}{how} (readers may only decrypt)"
    return f"{who} can call {example.action}{how}{unlisted}"


# --- P2 --------------------------------------------------------------------------------------------


def prove_p2(design: Design, parsed: Parsed) -> PropertyResult:
    if not design.scope_key_to_s3:
        return PropertyResult(
            P2,
            TITLES[P2],
            Verdict.PASS,
            "not required: the design does not scope the key to S3 (scope_key_to_s3=False)",
        )
    q = _query(design, [parsed], service="kms", actions=CRYPTO_ACTIONS, environment_known=True, resource=design.key_arn)
    r, encoder = q.request, q.encoders[0]
    allowed, _ = encoder.kms(design.account)
    via = r.modelled("kms:viaservice")
    context = r.context_key(S3_ARN_CONTEXT)
    scoped = z3.And(
        via.present,
        via.value == z3.StringVal(design.via_s3),
        context.present,
        z3.Or(
            context.value == z3.StringVal(design.bucket_arn),
            z3.PrefixOf(z3.StringVal(design.bucket_arn + "/"), context.value),
        ),
    )
    found = search(
        r,
        z3.And(allowed, _acting_as(r, [design.auth_role_arn, *design.reader_arns]), z3.Not(scoped)),
        [Side(encoder, True)],
    )
    return _result(
        P2,
        found,
        r,
        passed=f"the auth role and the readers use the key only with kms:ViaService={design.via_s3} "
        f"and this bucket's encryption context",
        failed="the key is usable outside S3 for this bucket",
    )


# --- P3 --------------------------------------------------------------------------------------------


def prove_p3(design: Design, parsed: Parsed) -> PropertyResult:
    trusted = [*design.admin_arns, *([design.deploy_role_arn] if design.deploy_role_arn else [])]
    q = _query(
        design, [parsed], service="kms", actions=CONTROL_ACTIONS, environment_known=True, resource=design.key_arn
    )
    r, encoder = q.request, q.encoders[0]
    allowed, _ = encoder.kms(design.account)
    outsider = z3.Not(_acting_as(r, trusted)) if trusted else z3.BoolVal(True)
    found = search(r, z3.And(allowed, outsider), [Side(encoder, True)])
    return _result(
        P3,
        found,
        r,
        passed="only the key administrators and the deploy role can rewrite the key policy, create grants, "
        "replicate, disable or delete the key",
        failed="someone else can change who can decrypt",
        findings=_escalation_findings(design, parsed, trusted),
    )


def _escalation_findings(design: Design, parsed: Parsed, trusted: Sequence[str]) -> list[str]:
    """What each trusted principal can do to give itself (or others) decryption: not failures."""
    findings = []
    q = _query(
        design,
        [parsed],
        service="kms",
        actions=("kms:PutKeyPolicy", "kms:CreateGrant"),
        environment_known=True,
        resource=design.key_arn,
    )
    r, encoder = q.request, q.encoders[0]
    allowed, _ = encoder.kms(design.account)
    # One solver for every (principal, action) question, each switched on by its own literal.
    solver = new_solver()
    solver.add(*r.constraints, *r.strict, allowed)
    for index, arn in enumerate(dict.fromkeys(trusted)):
        role = "deploy role" if arn == design.deploy_role_arn else "key administrator"
        for action in ("kms:PutKeyPolicy", "kms:CreateGrant"):
            literal = z3.Bool(f"escalation[{index}][{action}]")
            solver.add(z3.Implies(literal, z3.And(r.is_principal(arn), r.action == z3.StringVal(action.lower()))))
            outcome = check(solver, literal)
            if outcome.sat:
                findings.append(f"{role} {arn} can call {action}: it can give itself (or anyone) decryption")
            elif not outcome.unsat:
                findings.append(f"whether {role} {arn} can call {action} is not known: {outcome.reason}")
    return findings


# --- P4 --------------------------------------------------------------------------------------------


def _still_allowed_kms(design: Design, parsed: Parsed, principal: str, action: str) -> tuple[Found, SymbolicRequest]:
    q = _query(design, [parsed], service="kms", actions=(action,), environment_known=False, resource=design.key_arn)
    r, encoder = q.request, q.encoders[0]
    allowed, _ = encoder.kms(design.account)
    secure = r.modelled("aws:securetransport")
    given = {"aws:securetransport": secure.value == z3.StringVal("true")}
    violation = z3.And(r.is_principal(principal), *given.values(), *_fixed_context(r, given), z3.Not(allowed))
    return search(r, violation, [Side(encoder, False)]), r


def prove_p4(design: Design, parsed: Parsed) -> PropertyResult:
    candidates = [design.deploy_role_arn] if design.deploy_role_arn else list(design.admin_arns)
    if not candidates:
        return PropertyResult(
            P4,
            TITLES[P4],
            Verdict.FAIL,
            "the design names no deploy role and no key administrator: nobody is meant to update the key policy",
        )
    results = [(arn, *_still_allowed_kms(design, parsed, arn, "kms:PutKeyPolicy")) for arn in candidates]
    notes = [f"identity policies of {a} not supplied: not checked" for a in _unlisted(parsed, candidates)]
    findings = []
    if not design.admin_arns:
        findings.append(
            "no key administrator is named: if the deploy role changes or its bootstrap is recreated, "
            "nobody can update the key policy (break-glass)"
        )
    for arn, found, r in results:
        if found.verdict is Verdict.PASS:
            passed = f"{arn} can always call kms:PutKeyPolicy"
            return _result(P4, found, r, passed=passed, failed="", notes=notes, findings=findings)
    arn, found, r = next(((a, f, r) for a, f, r in results if f.verdict is Verdict.CANNOT_PROVE), results[0])
    failed = f"{arn} cannot update the key policy (lockout)"
    return _result(P4, found, r, passed="", failed=failed, notes=notes, findings=findings)


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
    q = _query(
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
        *_fixed_context(r, given),
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
    q = _query(
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
        *_fixed_context(r, given),
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
                return _result(prop, found, r, passed="", failed=failed, notes=notes)
            if found.verdict is Verdict.CANNOT_PROVE and doubtful is None:
                doubtful = (found, r, label)
    if doubtful is not None:
        found, r, label = doubtful
        return _result(prop, found, r, passed="", failed="", notes=[f"{label}", *notes])
    return PropertyResult(prop, TITLES[prop], Verdict.PASS, passed + (f" ({'; '.join(notes)})" if notes else ""))


# --- P6 --------------------------------------------------------------------------------------------


def _this_key_spellings(design: Design, parsed: Parsed) -> list[str]:
    """This key's ARN and ID, and every other spelling of them (in another case) that the bucket
    policy compares the key-id header with. A key ID is a UUID KMS makes, so such a spelling names this
    key or no key: a put carrying it is stored under this key or refused, never under another key.
    Spellings the policy does not name are left to count as another key: that can only find more
    violations (never a false PASS), and it keeps the question free of case-insensitive matching."""
    spellings = [design.key_arn, design.key_id]
    wanted = {design.key_arn.lower(), design.key_id.lower()}
    statements = parsed.bucket_policy.statements if parsed.bucket_policy is not None else ()
    for statement in statements:
        for condition in statement.conditions:
            if condition.key_lower == SSE_KEY:
                spellings += [v for v in condition.values if v.lower() in wanted and v not in spellings]
    return spellings


def prove_p6(design: Design, parsed: Parsed) -> PropertyResult:
    q = _query(design, [parsed], service="s3", actions=None, environment_known=True)
    r, encoder = q.request, q.encoders[0]
    denied = encoder.s3_bucket_deny()
    secure, tls = r.modelled("aws:securetransport"), r.modelled("s3:tlsversion")
    sse, sse_key, sse_c = r.modelled(SSE), r.modelled(SSE_KEY), r.modelled(SSE_C)
    on_object = z3.PrefixOf(z3.StringVal(design.bucket_arn + "/"), r.resource)
    on_bucket_or_object = z3.Or(r.resource == z3.StringVal(design.bucket_arn), on_object)
    wrong_encryption = z3.Or(
        z3.And(sse.present, sse.value != z3.StringVal("aws:kms")),
        # Another key: none of this key's spellings (``_this_key_spellings``).
        z3.And(sse_key.present, *(sse_key.value != z3.StringVal(k) for k in _this_key_spellings(design, parsed))),
        z3.And(sse.present, sse.value == z3.StringVal("aws:kms"), z3.Not(sse_key.present)),
        sse_c.present,
    )
    put = z3.And(r.action == z3.StringVal("s3:putobject"), on_object, wrong_encryption)
    insecure = z3.And(
        on_bucket_or_object,
        z3.Or(secure.value == z3.StringVal("false"), z3.And(tls.present, tls.value < z3.RealVal("1.2"))),
    )
    # Prefer counterexamples that name a well-known action.
    found = search(r, z3.And(z3.Or(put, insecure), z3.Not(denied)), [Side(encoder, True)])
    if found.verdict is Verdict.FAIL:
        known = search(
            r,
            z3.And(z3.Or(put, insecure), z3.Not(denied), _action_in(r, S3_ACTIONS)),
            [Side(encoder, True)],
        )
        if known.verdict is Verdict.FAIL:
            found = known
    return _result(
        P6,
        found,
        r,
        passed="the bucket policy denies, for every principal, writes under another encryption or key, aws:kms "
        "without a key id, SSE-C, and every request over plain HTTP or TLS < 1.2",
        failed="the bucket policy does not deny",
        findings=["the bucket owner's root user can always get, put and delete the bucket policy, even over HTTP"],
    )


# --- entry points ----------------------------------------------------------------------------------

Prover = Callable[[Design, Parsed], PropertyResult]
_PROVERS: dict[str, Prover] = {P1: prove_p1, P2: prove_p2, P3: prove_p3, P4: prove_p4, P5: prove_p5, P6: prove_p6}


def prove(
    design: Design, evidence: Evidence, properties: Iterable[str] | None = None, *, budget: Budget | None = None
) -> list[PropertyResult]:
    """Judge the evidence against the design: one result per property, in the order asked.

    By default P1-P6, and G1-G4 as well when the evidence has SCPs or RCPs. All of it within
    ``budget`` (a default ``Budget`` when None; pass one to read what was spent): a property whose
    checks ran out of it is CANNOT-PROVE, saying so, and the others are still answered.
    """
    # guardrail_properties builds on this module's queries, so it is imported here, not above.
    from constructs_lib.core.prover.guardrail_properties import GUARDRAIL_PROVERS

    provers = {**_PROVERS, **GUARDRAIL_PROVERS}
    parsed = parse_evidence(evidence)
    if properties is None:
        wanted = [*ALL_PROPERTIES, *(GUARDRAIL_PROPERTIES if parsed.guardrails else ())]
    else:
        wanted = list(properties)
    unknown = [p for p in wanted if p not in provers]
    if unknown:
        raise ValueError(f"unknown properties {unknown}; known: {', '.join(provers)}")
    with isolated(), spending(budget):
        return [provers[p](design, parsed) for p in wanted]


def new_access(design: Design, before: Evidence, after: Evidence, *, budget: Budget | None = None) -> Request | None:
    """A KMS request on the key, or an S3 request on the bucket or its objects, that ``after``
    allows and ``before`` does not; None when there is none. Raises ``CannotProveError`` when the
    answer depends on something not modelled or the budget ran out."""
    parsed = [parse_evidence(before), parse_evidence(after)]
    with isolated(), spending(budget):
        return _new_access(design, parsed)


def _new_access(design: Design, parsed: list[Parsed]) -> Request | None:
    reasons: list[str] = []
    for service in ("kms", "s3"):
        if service == "kms":
            q = _query(
                design, parsed, service="kms", actions=KMS_ACTIONS, environment_known=True, resource=design.key_arn
            )
            old, _ = q.encoders[0].kms(design.account)
            new, _ = q.encoders[1].kms(design.account)
        else:
            q = _query(design, parsed, service="s3", actions=None, environment_known=True)
            old, _ = q.encoders[0].s3(design.account)
            new, _ = q.encoders[1].s3(design.account)
            q.request.constraints.append(
                z3.Or(
                    q.request.resource == z3.StringVal(design.bucket_arn),
                    z3.PrefixOf(z3.StringVal(design.bucket_arn + "/"), q.request.resource),
                )
            )
        found = search(q.request, z3.And(new, z3.Not(old)), [Side(q.encoders[0], False), Side(q.encoders[1], True)])
        if found.verdict is Verdict.FAIL:
            return request_of(found.model, q.request)
        reasons += found.reasons
    if reasons:
        raise CannotProveError(reasons)
    return None


# --- one concrete request, by the solver -----------------------------------------------------------


def solver_decide(
    evidence: Evidence, request: Request, *, account: str, partition: str = "aws", budget: Budget | None = None
) -> Decision:
    """``decide``, computed by the z3 encoding instead of the evaluator (a cross-check for tests).

    The request is pinned: its principal, action, resource and exactly the condition keys it
    carries. EXPLICIT_DENY / ALLOWED / IMPLICIT_DENY when that holds for every value of the
    unknowns, UNKNOWN otherwise. A principal whose identity policies are not supplied is taken as
    the prover takes it (allowed anything, denied nothing).
    """
    with isolated(), spending(budget):
        return _solver_decide(evidence, request, account=account, partition=partition)


def _solver_decide(evidence: Evidence, request: Request, *, account: str, partition: str) -> Decision:
    parsed = parse_evidence(evidence)
    who = classify_principal(request.principal)
    service = request.action.split(":", 1)[0].lower()
    if service == "kms" and who.kind.value == "anonymous":
        return Decision.IMPLICIT_DENY  # KMS accepts signed requests only, as ``decide`` says
    owners: dict[str, Callable[[str], str]] = {"kms": key_account, "iam": iam_account}
    owner = owners[service](request.resource) if service in owners else account
    request_context(request, who, owner)  # the same refusals as ``decide`` (a contradicting context)
    accounts = tuple(a for a in (account, who.account, owner) if a)
    universe = _universe_of(parsed, accounts)
    own = (who.arn,) if who.kind in (Kind.ROLE, Kind.USER, Kind.FEDERATED) else ()
    arns = (*own, *universe.arns)
    services = (*universe.services, *((who.arn,) if who.kind.value == "service" else ()))
    keys, counts = condition_keys([parsed])
    r = SymbolicRequest(
        partition=partition,
        service=service,
        named_principals=arns,
        existing=own,
        named_accounts=universe.accounts,
        named_services=services,
        action_domain=(request.action,),
        environment_known=True,
        set_slots=max(
            [*counts.values(), *(len(v) for v in request.context.values() if isinstance(v, tuple))], default=0
        )
        + 2,
        resource_value=request.resource,
    )
    for key in sorted(keys):
        if key.startswith(ENCRYPTION_CONTEXT_PREFIX):
            r.key(key)
    encoder = Encoder(r, parsed, resource_account=owner)
    sides = {"kms": encoder.kms, "s3": encoder.s3, "iam": encoder.iam}
    if service not in sides:
        raise ValueError(f"solver_decide evaluates kms:, s3: and iam: actions, not {request.action}")
    allowed, deny = sides[service](owner)
    if who.kind.value == "anonymous":
        pinned = [r.is_kind(who.kind)]
    elif who.kind.value == "root":
        pinned = [r.is_root_of(str(who.account))]
    else:
        pinned = [r.is_principal(who.arn)]
    context = {k.lower(): v for k, v in request.context.items()}
    for name, term in list(r.keys.items()):
        value = context.get(name)
        if value is None:
            pinned.append(z3.Not(term.present))
        elif term.type is Type.SET:
            values = (value,) if isinstance(value, str) else value
            for index, (present, slot) in enumerate(term.slots):
                pinned.append(present == z3.BoolVal(index < len(values)))
                if index < len(values):
                    pinned.append(slot == z3.StringVal(values[index]))
        elif isinstance(value, tuple):
            raise ValueError(f"{name} is single-valued in the model")
        elif term.type is Type.NUMERIC:
            pinned += [term.present, term.value == z3.RealVal(value)]
        else:
            pinned += [term.present, term.value == z3.StringVal(value)]
    tracked = {ENCRYPTION_CONTEXT_PREFIX + k for k in r.tracked_context_keys()}
    untracked = any(k.startswith(ENCRYPTION_CONTEXT_PREFIX) and k not in tracked for k in context)
    pinned.append(r.other_context_keys == z3.BoolVal(untracked))

    # One solver for the four questions, each switched on by its own literal (the pinned request is
    # asserted once): the same answers as a solver per question, for a quarter of the set-up.
    solver = new_solver()
    solver.add(*r.constraints, *r.strict, *pinned)
    questions = count()

    def always(formula: Bool) -> bool:
        """Whether ``formula`` holds for the pinned request (False also when that is not known)."""
        literal = z3.Bool(f"decide[{next(questions)}]")
        solver.add(z3.Implies(literal, z3.Not(formula)))
        return check(solver, literal).unsat

    if always(deny):
        return Decision.EXPLICIT_DENY
    if not always(z3.Not(deny)):
        return Decision.UNKNOWN
    if always(allowed):
        return Decision.ALLOWED
    return Decision.IMPLICIT_DENY if always(z3.Not(allowed)) else Decision.UNKNOWN


def _universe_of(parsed: Parsed, accounts: Iterable[str]) -> Universe:
    anyone = Design(
        account=next(iter(accounts)),
        region="us-east-1",
        key_arn=f"arn:aws:kms:us-east-1:{next(iter(accounts))}:key/none",
        key_id="none",
        bucket_name="none",
        auth_role_arn=f"arn:aws:iam::{next(iter(accounts))}:role/none",
    )
    universe = _universe(anyone, [parsed])
    arns = tuple(a for a in universe.arns if a != anyone.auth_role_arn)
    return Universe(arns, tuple(sorted({*universe.accounts, *accounts})), universe.services)
