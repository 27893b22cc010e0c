"""Random policies from the supported subset, checked against brute force over a finite universe.

A small universe (five principals, three actions, a few condition values) is small enough to
enumerate: ``brute`` below is a third, deliberately plain reading of the rules. For every
random key policy (with grants and identity policies) or bucket policy, ``decide`` must agree
with it on every request of the universe, and the solver must find an allowed request exactly
when brute force does (and the one it finds must be allowed).
"""

from __future__ import annotations

import fnmatch
import itertools
from dataclasses import dataclass
from typing import Any

import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constructs_lib.core.prover import Decision, Design, Evidence, Request, decide
from constructs_lib.core.prover.encode import Encoder
from constructs_lib.core.prover.parse import Kind, parse_evidence
from constructs_lib.core.prover.queries import build_query
from constructs_lib.core.prover.solve import find, request_of

ACCOUNT = "111122223333"
OTHER = "444455556666"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/k1"
BUCKET = "arn:aws:s3:::b"
ROLE_A = f"arn:aws:iam::{ACCOUNT}:role/a"
ROLE_B = f"arn:aws:iam::{ACCOUNT}:role/b"
USER_C = f"arn:aws:iam::{ACCOUNT}:user/c"
OTHER_ROLE = f"arn:aws:iam::{OTHER}:role/o"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
PRINCIPALS = (ROLE_A, ROLE_B, USER_C, OTHER_ROLE, ROOT)
IDENTITY_HOLDERS = (ROLE_A, ROLE_B, USER_C, OTHER_ROLE)
DESIGN = Design(account=ACCOUNT, region="eu-west-1", key_arn=KEY, key_id="k1", bucket_name="b", auth_role_arn=ROLE_A)


@dataclass(frozen=True)
class Side:
    service: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    keys: dict[str, tuple[str | None, ...]]  # key -> its values in the universe (None: absent)


KMS = Side(
    "kms",
    ("kms:Decrypt", "kms:Encrypt", "kms:PutKeyPolicy"),
    (KEY,),
    {"kms:ViaService": (None, "v1", "v2"), "kms:EncryptionContext:k": (None, "x", "y")},
)
S3 = Side(
    "s3",
    ("s3:GetObject", "s3:PutObject", "s3:ListBucket"),
    (BUCKET, f"{BUCKET}/a", f"{BUCKET}/d/e"),
    {"aws:SecureTransport": ("true", "false"), "s3:x-amz-server-side-encryption": (None, "aws:kms", "AES256")},
)


def requests(side: Side, among: tuple[str, ...] = PRINCIPALS) -> list[Request]:
    """Every request of the finite universe: ``among`` (and anonymous for S3) x actions x resources x keys."""
    principals = (*among, "anonymous") if side.service == "s3" else among
    names = list(side.keys)
    out = []
    for principal, action, resource, values in itertools.product(
        principals, side.actions, side.resources, itertools.product(*(side.keys[k] for k in names))
    ):
        context = {k: v for k, v in zip(names, values, strict=True) if v is not None}
        out.append(Request(principal, action, resource, context))
    return out


# --- brute force -----------------------------------------------------------------------------------


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _account(principal: str) -> str | None:
    return principal.split(":")[4] if principal.startswith("arn:") else None


def _principal(statement: dict[str, Any], principal: str) -> tuple[bool, bool]:
    """(named directly or by "*", named by its account)."""
    if "Principal" not in statement:
        return True, False
    element = statement["Principal"]
    values = ["*"] if element == "*" else _list(element["AWS"])
    direct = "*" in values or principal in values
    account = principal != "anonymous" and any(
        v in (_account(principal), f"arn:aws:iam::{_account(principal)}:root") for v in values
    )
    return direct, account


def _condition(operator: str, key: str, values: list[str], context: dict[str, str]) -> bool:
    actual = {k.lower(): v for k, v in context.items()}.get(key.lower())
    if operator == "Null":
        return (actual is None) == (values[0] == "true")
    base = operator.removesuffix("IfExists")
    if actual is None:
        return operator.endswith("IfExists") or "Not" in base
    if base in ("StringEquals", "StringNotEquals"):
        hit = actual in values
    else:
        hit = any(fnmatch.fnmatchcase(actual, v) for v in values)
    return not hit if "Not" in base else hit


def _body(statement: dict[str, Any], request: Request, context: dict[str, str]) -> bool:
    patterns = _list(statement.get("Action", statement.get("NotAction")))
    hit = any(fnmatch.fnmatchcase(request.action.lower(), p.lower()) for p in patterns)
    if hit is ("NotAction" in statement):
        return False
    resources = _list(statement["Resource"])
    if not any(fnmatch.fnmatchcase(request.resource, r) for r in resources):
        return False
    return all(
        _condition(op, key, _list(values), context)
        for op, entries in statement.get("Condition", {}).items()
        for key, values in entries.items()
    )


def _policy(
    document: dict[str, Any] | None, effect: str, request: Request, context: dict[str, str]
) -> tuple[bool, bool]:
    direct = account = False
    for statement in (document or {}).get("Statement", []):
        if statement["Effect"] == effect and _body(statement, request, context):
            d, a = _principal(statement, request.principal)
            direct, account = direct or d, account or a
    return direct, account


def brute(e: Evidence, request: Request, side: Side) -> Decision:
    principal = request.principal
    context = dict(request.context)
    if principal != "anonymous":
        context |= {"aws:PrincipalArn": principal, "aws:PrincipalAccount": str(_account(principal))}
    if principal == ROOT:
        id_allow, id_deny = True, False
    elif principal == "anonymous":
        id_allow = id_deny = False
    else:
        id_allow = any(_policy(d, "Allow", request, context)[0] for d in e.identity_policies[principal])
        id_deny = any(_policy(d, "Deny", request, context)[0] for d in e.identity_policies[principal])
    same = _account(principal) == ACCOUNT
    if side.service == "kms":
        deny = any(_policy(e.key_policy, "Deny", request, context)) or id_deny
        direct, account = _policy(e.key_policy, "Allow", request, context)
        operation = request.action.split(":")[1]
        pairs = {
            k.split(":", 2)[2].lower(): v
            for k, v in request.context.items()
            if k.lower().startswith("kms:encryptioncontext:")
        }
        granted = any(
            g["GranteePrincipal"] == principal
            and operation in g["Operations"]
            and all(pairs.get(k) == v for k, v in g.get("Constraints", {}).get("EncryptionContextSubset", {}).items())
            for g in e.grants
        )
        allow = granted or (direct and same) or ((direct or account) and id_allow)
    else:
        deny = any(_policy(e.bucket_policy, "Deny", request, context)) or id_deny
        direct, account = _policy(e.bucket_policy, "Allow", request, context)
        if principal == "anonymous":
            allow = direct
        elif same:
            allow = direct or id_allow
        else:
            allow = (direct or account) and id_allow
    if deny:
        return Decision.EXPLICIT_DENY
    return Decision.ALLOWED if allow else Decision.IMPLICIT_DENY


# --- random policies -------------------------------------------------------------------------------


def conditions(side: Side) -> st.SearchStrategy[dict[str, Any]]:
    keys = [*side.keys, "aws:PrincipalArn"]

    def values_for(key: str) -> st.SearchStrategy[list[str]]:
        pool = [v for v in side.keys.get(key, ()) if v is not None] or list(PRINCIPALS)
        return st.lists(st.sampled_from([*pool, "*", f"{pool[0][:1]}*"]), min_size=1, max_size=2, unique=True)

    operators = st.sampled_from(
        [
            "StringEquals",
            "StringNotEquals",
            "StringLike",
            "StringNotLike",
            "StringEqualsIfExists",
            "StringNotEqualsIfExists",
            "Null",
        ]
    )
    entry = st.tuples(operators, st.sampled_from(keys)).flatmap(
        lambda ok: (
            st.just({ok[0]: {ok[1]: ["true"] if ok[0] == "Null" else None}})
            if ok[0] == "Null"
            else values_for(ok[1]).map(lambda vs: {ok[0]: {ok[1]: vs}})
        )
    )
    return st.lists(entry, max_size=2).map(lambda es: {op: kv for e in es for op, kv in e.items()})


def statements(side: Side, *, resource_policy: bool) -> st.SearchStrategy[dict[str, Any]]:
    action_pool = [*side.actions, f"{side.service}:*", f"{side.service}:*crypt", f"{side.service}:put*", "*"]
    principal_pool: list[Any] = [
        "*",
        {"AWS": ROLE_A},
        {"AWS": [ROLE_B, USER_C]},
        {"AWS": ROOT},
        {"AWS": OTHER},
        {"AWS": OTHER_ROLE},
    ]
    resource_pool = ["*", *side.resources, f"{BUCKET}/*"]

    def build(
        effect: str,
        principal: Any,
        actions: list[str],
        not_action: bool,
        resources: list[str],
        condition: dict[str, Any],
    ) -> dict[str, Any]:
        statement: dict[str, Any] = {
            "Effect": effect,
            ("NotAction" if not_action else "Action"): actions,
            "Resource": resources,
        }
        if resource_policy:
            statement["Principal"] = principal
        if condition:
            statement["Condition"] = condition
        return statement

    return st.builds(
        build,
        st.sampled_from(["Allow", "Allow", "Deny"]),
        st.sampled_from(principal_pool),
        st.lists(st.sampled_from(action_pool), min_size=1, max_size=2, unique=True),
        # NotAction in a key policy is unknown on purpose (KMS documents Action only): tested apart.
        st.just(False) if side.service == "kms" and resource_policy else st.booleans(),
        st.lists(st.sampled_from(resource_pool), min_size=1, max_size=2, unique=True),
        conditions(side),
    )


def identity(side: Side) -> st.SearchStrategy[dict[str, list[dict[str, Any]]]]:
    policy = st.lists(statements(side, resource_policy=False), max_size=2).map(
        lambda s: {"Version": "2012-10-17", "Statement": s}
    )
    return st.fixed_dictionaries({p: st.lists(policy, max_size=1) for p in IDENTITY_HOLDERS})


def grants() -> st.SearchStrategy[list[dict[str, Any]]]:
    grant = st.builds(
        lambda grantee, ops, subset: (
            {"GrantId": "g", "KeyId": KEY, "GranteePrincipal": grantee, "Operations": ops}
            | ({"Constraints": {"EncryptionContextSubset": {"k": subset}}} if subset else {})
        ),
        st.sampled_from([ROLE_A, ROLE_B, OTHER_ROLE]),
        st.lists(st.sampled_from(["Decrypt", "Encrypt"]), min_size=1, max_size=2, unique=True),
        st.sampled_from([None, "x"]),
    )
    return st.lists(grant, max_size=2)


def kms_evidence() -> st.SearchStrategy[Evidence]:
    return st.builds(
        lambda key_policy, gs, ids: Evidence(
            key_policy={"Version": "2012-10-17", "Statement": key_policy}, grants=gs, identity_policies=ids
        ),
        st.lists(statements(KMS, resource_policy=True), min_size=1, max_size=4),
        grants(),
        identity(KMS),
    )


def s3_evidence() -> st.SearchStrategy[Evidence]:
    return st.builds(
        lambda bucket, ids: Evidence(
            key_policy={"Statement": []},
            bucket_policy={"Version": "2012-10-17", "Statement": bucket},
            identity_policies=ids,
        ),
        st.lists(statements(S3, resource_policy=True), min_size=1, max_size=4),
        identity(S3),
    )


# --- the checks ------------------------------------------------------------------------------------


def solver_finds_allowed(e: Evidence, side: Side) -> Request | None:
    """Ask the solver for an allowed request restricted to the finite universe."""
    q = build_query(DESIGN, [parse_evidence(e)], service=side.service, actions=side.actions, environment_known=True)
    r = q.request
    encoder: Encoder = q.encoders[0]
    allowed, _ = encoder.kms(ACCOUNT) if side.service == "kms" else encoder.s3(ACCOUNT)
    who = [r.is_principal(p) for p in PRINCIPALS if p != ROOT] + [r.is_root_of(ACCOUNT)]
    if side.service == "s3":
        who.append(r.is_kind(Kind.ANONYMOUS))
    return allowed_within(
        r, side, allowed, z3.Or(*who), z3.Or(*(r.resource == z3.StringVal(x) for x in side.resources))
    )


def allowed_within(r: Any, side: Side, allowed: Any, *limits: Any) -> Request | None:
    """An allowed request of ``r`` within ``limits``, with no condition key outside ``side.keys`` and
    those only with ``side``'s values (the finite universe brute force enumerates)."""
    within = [*limits, z3.Not(r.other_context_keys)]
    for key, values in side.keys.items():
        term = r.modelled(key.lower())
        present = [v for v in values if v is not None]
        within.append(z3.Implies(term.present, z3.Or(*(term.value == z3.StringVal(v) for v in present))))
        if None not in values:
            within.append(term.present)
    for name, term in r.keys.items():
        if name not in {k.lower() for k in side.keys}:
            within.append(z3.Not(term.present))
    outcome, model = find(r, [*within, allowed])
    assert outcome.sat or outcome.unsat, outcome.reason
    return request_of(model, r) if outcome.sat else None


def check(e: Evidence, side: Side) -> None:
    universe = requests(side)
    expected = {r: brute(e, r, side) for r in universe}
    for request, decision in expected.items():
        assert decide(e, request, account=ACCOUNT) is decision, request.describe()
    found = solver_finds_allowed(e, side)
    assert (found is not None) == any(d is Decision.ALLOWED for d in expected.values())
    if found is not None:
        assert brute(e, found, side) is Decision.ALLOWED, found.describe()


@settings(derandomize=True, max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kms_evidence())
def test_key_policies_grants_and_identity_policies_agree_with_brute_force(e: Evidence) -> None:
    check(e, KMS)


@settings(derandomize=True, max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s3_evidence())
def test_bucket_policies_and_identity_policies_agree_with_brute_force(e: Evidence) -> None:
    check(e, S3)
