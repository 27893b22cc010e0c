"""Random SCP and RCP layers over random key, bucket and identity policies, checked against brute
force over a finite universe (as test_prover_hypothesis.py does for the layers below them).

The universe adds to that file's principals a service-linked role and a role of the management
account, and an IAM side (actions on roles). ``brute_with_guardrails`` is a plain reading of
docs/PROVER.md's "Organizations guardrails": the decision below, then an explicit deny when an
applicable SCP (principal's account attached, not the management account, not a service-linked
role) or RCP (resource's account attached, not the management account, not an AWS managed key, not
a service-linked role, not kms:RetireGrant) has a Deny statement that matches.
"""

from __future__ import annotations

import zlib
from dataclasses import replace
from typing import Any

import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constructs_lib.core.prover import Decision, Evidence, Request, decide
from constructs_lib.core.prover.encode import Encoder
from constructs_lib.core.prover.parse import Kind, parse_evidence
from constructs_lib.core.prover.properties import solver_decide
from constructs_lib.core.prover.queries import build_query
from tests.access.test_prover_hypothesis import (
    ACCOUNT,
    BUCKET,
    DESIGN,
    KMS,
    OTHER,
    OTHER_ROLE,
    PRINCIPALS,
    ROLE_A,
    ROLE_B,
    ROOT,
    S3,
    USER_C,
    Side,
    _account,
    _policy,
    allowed_within,
    brute,
    conditions,
    grants,
    requests,
    statements,
)

MANAGEMENT = "999988887777"
MANAGER = f"arn:aws:iam::{MANAGEMENT}:role/m"
SERVICE_LINKED = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/x.amazonaws.com/s"
ALL_PRINCIPALS = (*PRINCIPALS, MANAGER, SERVICE_LINKED)
HOLDERS = (ROLE_A, ROLE_B, USER_C, OTHER_ROLE, MANAGER, SERVICE_LINKED)
IAM = Side(
    "iam",
    ("iam:PassRole", "iam:UpdateAssumeRolePolicy", "iam:TagRole"),
    (ROLE_A, ROLE_B),
    {"iam:PassedToService": (None, "ec2.amazonaws.com", "lambda.amazonaws.com")},
)


# --- brute force -----------------------------------------------------------------------------------


def _matches(documents: list[dict[str, Any]], request: Request, context: dict[str, str]) -> bool:
    return any(_policy(d, "Deny", request, context)[0] for d in documents)


def brute_with_guardrails(e: Evidence, request: Request, side: Side) -> Decision:
    principal = request.principal
    context = dict(request.context)
    if principal != "anonymous":
        context |= {"aws:PrincipalArn": principal, "aws:PrincipalAccount": str(_account(principal))}
    service_linked = ":role/aws-service-role/" in principal
    if side.service == "iam":
        own = principal in HOLDERS and _account(principal) == ACCOUNT
        allowed = principal == ROOT or (
            own and any(_policy(d, "Allow", request, context)[0] for d in e.identity_policies[principal])
        )
        denied = principal in HOLDERS and any(
            _policy(d, "Deny", request, context)[0] for d in e.identity_policies[principal]
        )
        below = Decision.EXPLICIT_DENY if denied else (Decision.ALLOWED if allowed else Decision.IMPLICIT_DENY)
    else:
        below = brute(e, request, side)
    account = _account(principal)
    scp = (
        principal != "anonymous"
        and account in e.scp_accounts
        and account != e.management_account
        and not service_linked
        and _matches(list(e.scps), request, context)
    )
    rcp = (
        side.service in ("s3", "kms")
        and ACCOUNT in e.rcp_accounts
        and e.management_account != ACCOUNT
        and not service_linked
        and request.action.lower() != "kms:retiregrant"
        and not (side.service == "kms" and e.key_manager == "AWS")
        and _matches(list(e.rcps), request, context)
    )
    return Decision.EXPLICIT_DENY if scp or rcp else below


# --- random guardrails -----------------------------------------------------------------------------


def guardrail_statement(side: Side, *, rcp: bool) -> st.SearchStrategy[dict[str, Any]]:
    """A Deny (or, to check they change nothing, an RCP Allow) of the guardrail shape."""
    actions = [*side.actions, f"{side.service}:*", "*", f"{side.service}:Put*"]

    def build(effect: str, chosen: list[str], resources: list[str], condition: dict[str, Any]) -> dict[str, Any]:
        statement: dict[str, Any] = {"Effect": effect, "Action": chosen, "Resource": resources}
        if rcp:
            statement["Principal"] = "*"
        if condition:
            statement["Condition"] = condition
        return statement

    return st.builds(
        build,
        st.sampled_from(["Deny", "Deny", "Allow"] if rcp else ["Deny"]),
        st.lists(st.sampled_from(actions), min_size=1, max_size=2, unique=True),
        st.lists(st.sampled_from(["*", *side.resources, f"{BUCKET}/*"]), min_size=1, max_size=2, unique=True),
        conditions(side),
    )


FULL_AWS_ACCESS = {"Effect": "Allow", "Action": "*", "Resource": "*"}


def layered(side: Side, base: st.SearchStrategy[Evidence]) -> st.SearchStrategy[Evidence]:
    accounts = st.lists(st.sampled_from([ACCOUNT, OTHER, MANAGEMENT]), min_size=1, max_size=3, unique=True)
    scp = st.lists(guardrail_statement(side, rcp=False), max_size=2).flatmap(
        lambda ss: st.sampled_from([ss, [*ss, FULL_AWS_ACCESS]])
    )
    rcp = st.lists(guardrail_statement(side, rcp=True), max_size=2)
    return st.builds(
        lambda e, scps, rcps, scp_accounts, rcp_accounts, manager: replace(
            e,
            identity_policies={**e.identity_policies, **{p: e.identity_policies.get(p, []) for p in HOLDERS}},
            scps=[{"Version": "2012-10-17", "Statement": scps}],
            rcps=[{"Version": "2012-10-17", "Statement": rcps}],
            scp_accounts=scp_accounts,
            rcp_accounts=rcp_accounts,
            management_account=MANAGEMENT,
            key_manager=manager,
        ),
        base,
        scp,
        rcp,
        accounts,
        accounts,
        st.sampled_from(["CUSTOMER", "CUSTOMER", "AWS"]),
    )


def identities(side: Side) -> st.SearchStrategy[dict[str, list[dict[str, Any]]]]:
    policy = st.lists(statements(side, resource_policy=False), max_size=2).map(
        lambda s: {"Version": "2012-10-17", "Statement": s}
    )
    return st.fixed_dictionaries({p: st.lists(policy, max_size=1) for p in HOLDERS})


def kms_evidence() -> st.SearchStrategy[Evidence]:
    base = st.builds(
        lambda key_policy, gs, ids: Evidence(
            key_policy={"Version": "2012-10-17", "Statement": key_policy}, grants=gs, identity_policies=ids
        ),
        st.lists(statements(KMS, resource_policy=True), min_size=1, max_size=3),
        grants(),
        identities(KMS),
    )
    return layered(KMS, base)


def s3_evidence() -> st.SearchStrategy[Evidence]:
    base = st.builds(
        lambda bucket, ids: Evidence(
            key_policy={"Statement": []},
            bucket_policy={"Version": "2012-10-17", "Statement": bucket},
            identity_policies=ids,
        ),
        st.lists(statements(S3, resource_policy=True), min_size=1, max_size=3),
        identities(S3),
    )
    return layered(S3, base)


def iam_evidence() -> st.SearchStrategy[Evidence]:
    base = identities(IAM).map(lambda ids: Evidence(key_policy={"Statement": []}, identity_policies=ids))
    return layered(IAM, base)


# --- the checks ------------------------------------------------------------------------------------


def solver_finds_allowed(e: Evidence, side: Side) -> Request | None:
    """Ask the solver for an allowed request restricted to the finite universe, one resource at a
    time (as the guardrail properties do: a fixed resource keeps the strings out of the query)."""
    for resource in side.resources:
        found = _solver_finds_allowed_on(e, side, resource)
        if found is not None:
            return found
    return None


def _solver_finds_allowed_on(e: Evidence, side: Side, resource: str) -> Request | None:
    q = build_query(
        DESIGN,
        [parse_evidence(e)],
        service=side.service,
        actions=side.actions,
        environment_known=True,
        resource=resource,
    )
    r = q.request
    encoder: Encoder = q.encoders[0]
    allowed, _ = {"kms": encoder.kms, "s3": encoder.s3, "iam": encoder.iam}[side.service](ACCOUNT)
    who = [r.is_principal(p) for p in ALL_PRINCIPALS if p != ROOT] + [r.is_root_of(ACCOUNT)]
    if side.service == "s3":
        who.append(r.is_kind(Kind.ANONYMOUS))
    return allowed_within(r, side, allowed, z3.Or(*who))


def sampled(request: Request) -> bool:
    """About one request in a hundred, spread over the universe, is also decided by the z3 encoding
    (all would be slow; test_prover_guardrails_semantics.py compares the two on every rule)."""
    return zlib.crc32(request.describe().encode()) % 101 == 0


def check(e: Evidence, side: Side) -> None:
    expected = {r: brute_with_guardrails(e, r, side) for r in requests(side, ALL_PRINCIPALS)}
    for request, decision in expected.items():
        assert decide(e, request, account=ACCOUNT) is decision, request.describe()
        if sampled(request):
            assert solver_decide(e, request, account=ACCOUNT) is decision, request.describe()
    found = solver_finds_allowed(e, side)
    assert (found is not None) == any(d is Decision.ALLOWED for d in expected.values())
    if found is not None:
        assert brute_with_guardrails(e, found, side) is Decision.ALLOWED, found.describe()


SETTINGS = settings(derandomize=True, max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(kms_evidence())
def test_guardrails_over_key_policies_agree_with_brute_force(e: Evidence) -> None:
    check(e, KMS)


@SETTINGS
@given(s3_evidence())
def test_guardrails_over_bucket_policies_agree_with_brute_force(e: Evidence) -> None:
    check(e, S3)


@SETTINGS
@given(iam_evidence())
def test_guardrails_over_iam_actions_agree_with_brute_force(e: Evidence) -> None:
    check(e, IAM)


def test_the_universe_reaches_every_guardrail_rule() -> None:
    """The brute force is not vacuous: in this universe an SCP denies a member's role but neither the
    management account's nor a service-linked role, and an RCP denies an outsider."""
    deny = {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}
    e = Evidence(
        key_policy={"Statement": []},
        bucket_policy={"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]},
        identity_policies={p: [{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}] for p in HOLDERS},
        scps=[{"Statement": [deny]}],
        scp_accounts=[ACCOUNT, MANAGEMENT],
        management_account=MANAGEMENT,
    )
    get = Request(ROLE_A, "s3:GetObject", f"{BUCKET}/a")
    assert brute_with_guardrails(e, get, S3) is decide(e, get, account=ACCOUNT) is Decision.EXPLICIT_DENY
    for principal in (MANAGER, SERVICE_LINKED, OTHER_ROLE):
        exempt = replace(get, principal=principal)
        assert brute_with_guardrails(e, exempt, S3) is decide(e, exempt, account=ACCOUNT) is Decision.ALLOWED
    fenced = replace(
        e, scps=[], scp_accounts=[], rcps=[{"Statement": [{**deny, "Principal": "*"}]}], rcp_accounts=[ACCOUNT]
    )
    outsider = replace(get, principal=OTHER_ROLE)
    assert (
        brute_with_guardrails(fenced, outsider, S3)
        is decide(fenced, outsider, account=ACCOUNT)
        is Decision.EXPLICIT_DENY
    )
