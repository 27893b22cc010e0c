"""P1-P4 and P6: who can use the key, that it is used only through S3 for this bucket, who can
change the key policy or grants, that the administrators keep control, and that objects are
encrypted under this key only.
"""

from __future__ import annotations

from collections.abc import Sequence

import z3

from constructs_lib.core.prover.budget import check, new_solver
from constructs_lib.core.prover.catalog import (
    ALIAS_ACTIONS,
    CONTROL_ACTIONS,
    CRYPTO_ACTIONS,
    DECRYPTION_PATHS,
    S3_ACTIONS,
)
from constructs_lib.core.prover.encode import (
    SymbolicRequest,
    condition_keys,
)
from constructs_lib.core.prover.evaluate import grant_allows
from constructs_lib.core.prover.model import Design, PropertyResult, Request, Verdict
from constructs_lib.core.prover.parse import Parsed, classify_principal
from constructs_lib.core.prover.queries import (
    CRYPTO_GRANT_OPERATIONS,
    NAMED_PRINCIPAL_KINDS,
    P1,
    P2,
    P3,
    P4,
    P6,
    S3_ARN_CONTEXT,
    SSE,
    SSE_C,
    SSE_KEY,
    TITLES,
    acting_as,
    action_in,
    build_query,
    fixed_context,
    property_result,
    unlisted_principals,
)
from constructs_lib.core.prover.solve import Found, Side, request_of, search

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
    may_use = [design.auth_role_arn, *design.reader_arns, *(() if design.key_per_cluster else design.peer_arns)]
    if design.admin_mode == "rfd":
        may_use += design.admin_arns
    may_administer = [*design.admin_arns, *([design.deploy_role_arn] if design.deploy_role_arn else [])]
    paths = decryption_paths(design, parsed)
    actions = (*CRYPTO_ACTIONS, *paths)
    q = build_query(design, [parsed], service="kms", actions=actions, environment_known=True, resource=design.key_arn)
    r, encoder = q.request, q.encoders[0]
    allowed, _ = encoder.kms(design.account)
    crypto = action_in(r, CRYPTO_ACTIONS)
    operations = r.modelled("kms:grantoperations")
    crypto_grant = z3.Or(
        *(z3.And(p, z3.Or(*(v == z3.StringVal(o) for o in CRYPTO_GRANT_OPERATIONS))) for p, v in operations.slots)
    )
    outsider = z3.And(crypto, z3.Not(acting_as(r, may_use)))
    reader = z3.And(
        acting_as(r, design.reader_arns) if design.reader_arns else z3.BoolVal(False),
        z3.Not(acting_as(r, [design.auth_role_arn, *may_use[1 + len(design.reader_arns) :]])),
        action_in(r, [a for a in CRYPTO_ACTIONS if a != "kms:Decrypt"]),
    )
    others = [a for a in paths if a != "kms:CreateGrant"]
    indirect = z3.And(
        z3.Not(acting_as(r, may_administer)) if may_administer else z3.BoolVal(True),
        z3.Or(
            action_in(r, others),
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
    return property_result(
        P1,
        found,
        r,
        passed=f"no principal outside {_p1_users(design)} can use the key, directly, through a grant, or by "
        "granting or rewriting the key policy",
        failed=failed,
        findings=[f"key administrator {a} may decrypt recordings (rfd mode: kms:*)" for a in design.admin_arns]
        if design.admin_mode == "rfd"
        else [],
    )


def _p1_users(design: Design) -> str:
    """Who P1 lets use the key, as one readable list (the same words as before for one cluster)."""
    users = ["the auth role", "the readers"]
    if design.admin_mode == "rfd":
        users.append("the key administrators")
    if design.peer_arns and not design.key_per_cluster:
        users.append("the other clusters' auth roles and readers")
    return ", ".join(users[:-1]) + " and " + users[-1]


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
        if (who.lower() not in parsed.identity and any(k in who for k in NAMED_PRINCIPAL_KINDS) and not how)
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
    q = build_query(
        design, [parsed], service="kms", actions=CRYPTO_ACTIONS, environment_known=True, resource=design.key_arn
    )
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
        z3.And(allowed, acting_as(r, [design.auth_role_arn, *design.reader_arns]), z3.Not(scoped)),
        [Side(encoder, True)],
    )
    return property_result(
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
    q = build_query(
        design, [parsed], service="kms", actions=CONTROL_ACTIONS, environment_known=True, resource=design.key_arn
    )
    r, encoder = q.request, q.encoders[0]
    allowed, _ = encoder.kms(design.account)
    outsider = z3.Not(acting_as(r, trusted)) if trusted else z3.BoolVal(True)
    found = search(r, z3.And(allowed, outsider), [Side(encoder, True)])
    return property_result(
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
    q = build_query(
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
    q = build_query(
        design, [parsed], service="kms", actions=(action,), environment_known=False, resource=design.key_arn
    )
    r, encoder = q.request, q.encoders[0]
    allowed, _ = encoder.kms(design.account)
    secure = r.modelled("aws:securetransport")
    given = {"aws:securetransport": secure.value == z3.StringVal("true")}
    violation = z3.And(r.is_principal(principal), *given.values(), *fixed_context(r, given), z3.Not(allowed))
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
    notes = [f"identity policies of {a} not supplied: not checked" for a in unlisted_principals(parsed, candidates)]
    findings = []
    if not design.admin_arns:
        findings.append(
            "no key administrator is named: if the deploy role changes or its bootstrap is recreated, "
            "nobody can update the key policy (break-glass)"
        )
    for arn, found, r in results:
        if found.verdict is Verdict.PASS:
            passed = f"{arn} can always call kms:PutKeyPolicy"
            return property_result(P4, found, r, passed=passed, failed="", notes=notes, findings=findings)
    arn, found, r = next(((a, f, r) for a, f, r in results if f.verdict is Verdict.CANNOT_PROVE), results[0])
    failed = f"{arn} cannot update the key policy (lockout)"
    return property_result(P4, found, r, passed="", failed=failed, notes=notes, findings=findings)


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
    q = build_query(design, [parsed], service="s3", actions=None, environment_known=True)
    r, encoder = q.request, q.encoders[0]
    denied = encoder.s3_bucket_deny()
    secure, tls = r.modelled("aws:securetransport"), r.modelled("s3:tlsversion")
    sse, sse_key, sse_c = r.modelled(SSE), r.modelled(SSE_KEY), r.modelled(SSE_C)
    on_object = z3.PrefixOf(z3.StringVal(design.bucket_arn + "/"), r.resource)
    on_bucket_or_object = z3.Or(r.resource == z3.StringVal(design.bucket_arn), on_object)
    wrong_encryption = z3.Or(
        z3.And(sse.present, sse.value != z3.StringVal("aws:kms")),
        # Another key: none of this key's spellings (``_this_key_spellings``).
        z3.And(
            sse_key.present,
            *(sse_key.value != z3.StringVal(k) for k in _this_key_spellings(design, parsed)),
            # With a key per cluster, the other clusters' prefixes take their own keys.
            *([z3.PrefixOf(z3.StringVal(design.objects_arn_prefix), r.resource)] if design.key_per_cluster else []),
        ),
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
            z3.And(z3.Or(put, insecure), z3.Not(denied), action_in(r, S3_ACTIONS)),
            [Side(encoder, True)],
        )
        if known.verdict is Verdict.FAIL:
            found = known
    return property_result(
        P6,
        found,
        r,
        passed="the bucket policy denies, for every principal, writes under another encryption or key, aws:kms "
        "without a key id, SSE-C, and every request over plain HTTP or TLS < 1.2",
        failed="the bucket policy does not deny",
        findings=["the bucket owner's root user can always get, put and delete the bucket policy, even over HTTP"],
    )
