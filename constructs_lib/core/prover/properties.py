"""The prover's entry points: ``prove`` (P1-P6, and G1-G4 with guardrails), ``new_access`` and
``solver_decide``, each run in a fresh z3 context within one budget.

The questions live in ``queries`` (building them), ``key_properties`` (P1-P4, P6),
``teleport_access`` (P5) and ``guardrail_properties`` (G1-G4); their names stay importable from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import count

import z3

from constructs_lib.core.prover.budget import Budget, check, new_solver, spending
from constructs_lib.core.prover.catalog import (
    KMS_ACTIONS,
)
from constructs_lib.core.prover.encode import (
    Bool,
    Encoder,
    SymbolicRequest,
    condition_keys,
    isolated,
)
from constructs_lib.core.prover.evaluate import iam_account, key_account, request_context
from constructs_lib.core.prover.guardrail_properties import GUARDRAIL_PROVERS
from constructs_lib.core.prover.isolation import prove_p7
from constructs_lib.core.prover.key_properties import decryption_paths, prove_p1, prove_p2, prove_p3, prove_p4, prove_p6
from constructs_lib.core.prover.keys import ENCRYPTION_CONTEXT_PREFIX, Type
from constructs_lib.core.prover.model import Decision, Design, Evidence, PropertyResult, Request, Verdict
from constructs_lib.core.prover.parse import Kind, Parsed, classify_principal, parse_evidence
from constructs_lib.core.prover.queries import (
    ALL_PROPERTIES,
    GUARDRAIL_PROPERTIES,
    P1,
    P2,
    P3,
    P4,
    P5,
    P6,
    P7,
    TITLES,
    CannotProveError,
    Universe,
    build_query,
    design_universe,
)
from constructs_lib.core.prover.solve import Side, request_of, search
from constructs_lib.core.prover.teleport_access import prove_p5

__all__ = [
    "ALL_PROPERTIES",
    "GUARDRAIL_PROPERTIES",
    "TITLES",
    "CannotProveError",
    "Prover",
    "decryption_paths",
    "new_access",
    "prove",
    "prove_p1",
    "prove_p2",
    "prove_p3",
    "prove_p4",
    "prove_p5",
    "prove_p6",
    "solver_decide",
]

# --- entry points ----------------------------------------------------------------------------------

Prover = Callable[[Design, Parsed], PropertyResult]
_PROVERS: dict[str, Prover] = {
    P1: prove_p1,
    P2: prove_p2,
    P3: prove_p3,
    P4: prove_p4,
    P5: prove_p5,
    P6: prove_p6,
    P7: prove_p7,
}


def prove(
    design: Design, evidence: Evidence, properties: Iterable[str] | None = None, *, budget: Budget | None = None
) -> list[PropertyResult]:
    """Judge the evidence against the design: one result per property, in the order asked.

    By default P1-P6, and G1-G4 as well when the evidence has SCPs or RCPs. All of it within
    ``budget`` (a default ``Budget`` when None; pass one to read what was spent): a property whose
    checks ran out of it is CANNOT-PROVE, saying so, and the others are still answered.
    """
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
            q = build_query(
                design, parsed, service="kms", actions=KMS_ACTIONS, environment_known=True, resource=design.key_arn
            )
            old, _ = q.encoders[0].kms(design.account)
            new, _ = q.encoders[1].kms(design.account)
        else:
            q = build_query(design, parsed, service="s3", actions=None, environment_known=True)
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
    universe = design_universe(anyone, [parsed])
    arns = tuple(a for a in universe.arns if a != anyone.auth_role_arn)
    return Universe(arns, tuple(sorted({*universe.accounts, *accounts})), universe.services)
