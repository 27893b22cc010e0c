"""The property ids and titles, and how a property's question is built: the universe of principals,
the symbolic request and one encoder per piece of evidence (``Query``), and the result it becomes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import z3

from constructs_lib.core.prover.catalog import (
    CRYPTO_ACTIONS,
)
from constructs_lib.core.prover.encode import (
    Bool,
    Encoder,
    Facts,
    SymbolicRequest,
    condition_keys,
)
from constructs_lib.core.prover.evaluate import key_account
from constructs_lib.core.prover.keys import ENCRYPTION_CONTEXT_PREFIX, Source, spec_of
from constructs_lib.core.prover.model import Design, PropertyResult, Verdict
from constructs_lib.core.prover.parse import Parsed, Ref
from constructs_lib.core.prover.solve import Found, request_of

P1, P2, P3, P4, P5, P6 = "P1", "P2", "P3", "P4", "P5", "P6"
ALL_PROPERTIES = (P1, P2, P3, P4, P5, P6)
#: The organization layout's isolation of clusters (``isolation.prove_p7``); asked for clusters only.
P7 = "P7"
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
    P7: "No other cluster's role or reader can read, write or delete this cluster's recordings",
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


NAMED_PRINCIPAL_KINDS = (":role/", ":user/", ":federated-user/")


def _design_principals(design: Design) -> list[str]:
    names = [design.auth_role_arn, *design.reader_arns, *design.peer_arns, *design.admin_arns, *design.break_glass_arns]
    names += design.auth_role_exempt_arns or ()
    if design.deploy_role_arn:
        names.append(design.deploy_role_arn)
    return names


def design_universe(design: Design, parsed: Iterable[Parsed]) -> Universe:
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
        names += [arn for arn in evidence.identity_names.values() if any(n in arn for n in NAMED_PRINCIPAL_KINDS)]
    arns = tuple(n for n in names if any(k in n for k in NAMED_PRINCIPAL_KINDS))
    accounts |= {a.split(":")[4] for a in arns}
    existing = tuple(a for a in _design_principals(design) if any(k in a for k in NAMED_PRINCIPAL_KINDS))
    return Universe(arns, tuple(sorted(accounts)), tuple(sorted(services)), existing)


@dataclass
class Query:
    request: SymbolicRequest
    encoders: list[Encoder]


def build_query(
    design: Design,
    parsed: Sequence[Parsed],
    *,
    service: str,
    actions: Sequence[str] | None,
    environment_known: bool,
    resource: str | None = None,
) -> Query:
    keys, counts = condition_keys(parsed)
    universe = design_universe(design, parsed)
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


def among(request: SymbolicRequest, arns: Iterable[str]) -> Bool:
    return z3.Or(*(request.is_principal(a) for a in arns))


def acting_as(request: SymbolicRequest, arns: Iterable[str]) -> Bool:
    """One of these principals, or a federated user session one of these IAM users created: a
    session has at most its user's permissions, and whoever holds it acts with the user's credentials."""
    return z3.Or(*(z3.Or(request.is_principal(a), request.acts_as_user(a)) for a in arns))


def action_in(request: SymbolicRequest, actions: Iterable[str]) -> Bool:
    return z3.Or(*(request.action == z3.StringVal(a.lower()) for a in actions))


def fixed_context(request: SymbolicRequest, given: dict[str, Bool]) -> list[Bool]:
    """For "does it still work" questions: the request carries exactly the given REQUEST keys."""
    constraints = []
    for name, term in request.keys.items():
        spec = spec_of(name)
        if spec is not None and spec.source is Source.REQUEST and name not in given:
            constraints.append(z3.Not(term.present))
    constraints.append(z3.Not(request.other_context_keys))
    return constraints


def property_result(
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


def unlisted_principals(parsed: Parsed, arns: Iterable[str]) -> list[str]:
    return [a for a in arns if a.lower() not in parsed.identity]
