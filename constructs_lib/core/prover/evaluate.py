"""Concrete evaluation of one request: ``decide``.

This is a direct reading of IAM's rules, written independently of the z3 encoding so that each
checks the other (tests/access). It follows the same documented semantics as the solver:

* explicit Deny in any policy wins; otherwise an Allow; otherwise implicit deny;
* KMS: identity policies count only when a key-policy statement allows the principal's account;
  a statement naming the principal (or ``*``) allows a same-account principal by itself; another
  account's principal needs the key policy and its own identity policy; grants allow their
  operations to their grantee whatever the key policy allows, but a Deny still wins;
* S3: a same-account principal needs the bucket policy or an identity policy; another account's
  principal needs both; anonymous requests and service principals only the bucket policy;
* IAM (actions on a role): no resource policy: a principal of the role's account needs its identity
  policies (the root user needs nothing); nobody else can;
* the organization guardrails (``organizations.py``) add their explicit denies to every side.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence

from constructs_lib.core.prover.catalog import ENCRYPTION_CONTEXT_OPERATIONS
from constructs_lib.core.prover.keys import DERIVED_KEYS, ENCRYPTION_CONTEXT_PREFIX
from constructs_lib.core.prover.match import (
    Tri,
    action_match,
    arn_match,
    glob_match,
    number,
    resource_match,
    tri_and,
    tri_not,
    tri_or,
)
from constructs_lib.core.prover.model import ContextValue, Decision, Evidence, PolicyFormatError, Request
from constructs_lib.core.prover.organizations import (
    RCP_EXEMPT_ACTIONS,
    allow_list,
    is_service_linked_role,
    rcps_cover,
)
from constructs_lib.core.prover.parse import (
    ACCOUNT_KINDS,
    Condition,
    Effect,
    Family,
    Grant,
    Identity,
    Kind,
    Parsed,
    Policy,
    PrincipalRef,
    Qualifier,
    Ref,
    Statement,
    classify_principal,
    parse_evidence,
    role_name,
)

Context = Mapping[str, ContextValue]

#: The root user of the bucket owner can always manage the bucket policy (S3 User Guide, "Bucket
#: policies": the root user can always GetBucketPolicy, PutBucketPolicy and DeleteBucketPolicy).
ROOT_BUCKET_POLICY_ACTIONS = frozenset({"s3:getbucketpolicy", "s3:putbucketpolicy", "s3:deletebucketpolicy"})


# --- principals ------------------------------------------------------------------------------------


def _ref_matches(ref: PrincipalRef, who: Identity) -> tuple[Tri, Tri]:
    """(names the principal directly, names the principal's account) for one Principal value.

    Case: "In a Principal element, the user name part of the ARN is case sensitive" (IAM User Guide,
    "IAM JSON policy elements: Principal", IAM user principals), so a user ARN names exactly its
    spelling. For a role ARN the guide says nothing, while IAM names are unique whatever their case
    ("IAM and AWS STS quotas": roles "are not distinguished by case"): a role ARN spelt otherwise than
    the request's role may or may not name it (None). A federated user session may come from any IAM
    user of its account (or its root user): a Principal naming one user may or may not cover it.
    """
    if ref.kind is Ref.EVERYONE:
        return True, False
    if ref.kind is Ref.ACCOUNT:
        return False, who.kind in ACCOUNT_KINDS and who.account == ref.account
    if ref.kind is Ref.ROLE:
        if who.kind is not Kind.ROLE or who.arn.lower() != ref.value.lower():
            return False, False
        return (True if who.arn == ref.value else None), False
    if ref.kind is Ref.USER:
        if who.kind is Kind.FEDERATED and who.account == ref.account:
            return None, False
        return who.kind is Kind.USER and who.arn == ref.value, False
    if ref.kind is Ref.FEDERATED:
        return who.kind is Kind.FEDERATED and who.arn == ref.value, False
    if ref.kind is Ref.SERVICE:
        return who.kind is Kind.SERVICE and who.arn.lower() == ref.value, False
    if ref.kind is Ref.SESSION:
        # Only the session with that name: which session made the request is not modelled (nor whether
        # a role name spelt in another case names the role).
        same_role = (
            who.kind is Kind.ROLE and who.account == ref.account and role_name(who.arn).lower() == ref.detail.lower()
        )
        return (None if same_role else False), False
    return None, None


def principal_match(statement: Statement, who: Identity) -> tuple[Tri, Tri]:
    """(direct, via the account) for the statement's Principal; NotPrincipal counts as direct."""
    if statement.principals is None:
        return True, False
    if statement.not_principal:
        if statement.effect is Effect.ALLOW:
            return None, None
        return tri_not(not_principal_exempts(statement.principals, who)), False
    results = [_ref_matches(r, who) for r in statement.principals]
    return tri_or(d for d, _ in results), tri_or(a for _, a in results)


def not_principal_exempts(refs: Sequence[PrincipalRef], who: Identity) -> Tri:
    """Whether a Deny's NotPrincipal leaves ``who`` out (IAM User Guide, "NotPrincipal").

    The guide: AWS "might validate the account first, then the role, and then the assumed-role
    user", and an assumed-role user is identified by its session name; so a role ARN alone does
    not exempt the role's sessions, and a user is exempt for sure only with its account listed.
    """
    kinds = {r.kind for r in refs}
    if Ref.EVERYONE in kinds:
        return True
    account_listed = who.account is not None and any(r.kind is Ref.ACCOUNT and r.account == who.account for r in refs)
    exempt: Tri = False
    if who.kind is Kind.ROOT:
        exempt = account_listed
    elif who.kind is Kind.USER:
        # The user name is case sensitive in a Principal element (IAM User Guide): only its spelling exempts.
        if any(r.kind is Ref.USER and r.value == who.arn for r in refs):
            exempt = True if account_listed else None
    elif who.kind is Kind.FEDERATED:
        if any(r.kind is Ref.FEDERATED and r.value == who.arn for r in refs):
            exempt = True if account_listed else None
        elif any(r.kind is Ref.USER and r.account == who.account for r in refs):
            exempt = None  # the session may be a listed user's: undocumented
    elif who.kind is Kind.ROLE:
        name = role_name(who.arn).lower()
        if any(r.kind is Ref.SESSION and r.account == who.account and r.detail.lower() == name for r in refs):
            exempt = None
    elif who.kind is Kind.SERVICE:
        exempt = any(r.kind is Ref.SERVICE and r.value == who.arn.lower() for r in refs)
    if exempt is False and Ref.UNSUPPORTED in kinds:
        return None
    return exempt


# --- conditions ------------------------------------------------------------------------------------


def _one(condition: Condition, value: str, expected: str) -> bool:
    base = condition.base
    if condition.family is Family.STRING:
        if base.endswith("IgnoreCase"):
            return value.lower() == expected.lower()
        if base.endswith("Like"):
            return glob_match(expected, value)
        return value == expected
    if condition.family is Family.ARN:
        return arn_match(expected, value)
    if condition.family is Family.BOOL:
        return value.lower() == expected.lower()
    # Numeric
    left, right = number(value), number(expected)
    if left is None or right is None:
        return False
    return {
        "NumericEquals": left == right,
        "NumericNotEquals": left == right,
        "NumericLessThan": left < right,
        "NumericLessThanEquals": left <= right,
        "NumericGreaterThan": left > right,
        "NumericGreaterThanEquals": left >= right,
    }[base]


def _value_satisfies(condition: Condition, value: str) -> bool:
    """One request value against the condition's values: OR, or NOR for a negated operator."""
    matched = any(_one(condition, value, expected) for expected in condition.values)
    return not matched if condition.negated else matched


def condition_holds(condition: Condition, context: Context) -> Tri:
    if condition.unsupported:
        return None
    raw = context.get(condition.key_lower)
    present = raw is not None and raw != ()
    if condition.family is Family.NULL:
        wanted = {v.lower() for v in condition.values}
        return ("true" in wanted and not present) or ("false" in wanted and present)
    if not present:
        if condition.if_exists or condition.qualifier is Qualifier.ALL:
            return True
        if condition.qualifier is Qualifier.ANY:
            return False
        return condition.negated
    assert raw is not None
    values = (raw,) if isinstance(raw, str) else raw
    if condition.qualifier is Qualifier.NONE:
        if len(values) != 1:
            return None  # a single-valued operator on a multi-valued key: not modelled
        return _value_satisfies(condition, values[0])
    results = [_value_satisfies(condition, v) for v in values]
    return any(results) if condition.qualifier is Qualifier.ANY else all(results)


# --- statements ------------------------------------------------------------------------------------


def body_matches(statement: Statement, action: str, resource: str, context: Context) -> Tri:
    """Action, Resource and Condition (not the principal)."""
    if not statement.effective:
        return False
    action_hit = any(action_match(p, action) for p in statement.actions)
    if action_hit is statement.not_action:
        return False
    resource_hit = tri_or(resource_match(p, resource) for p in statement.resources)
    resource_ok = tri_not(resource_hit) if statement.not_resource else resource_hit
    doubt: Tri = None if statement.doubt else True
    return tri_and([resource_ok, doubt, *(condition_holds(c, context) for c in statement.conditions)])


def policy_matches(
    policies: Sequence[Policy], effect: Effect, who: Identity, action: str, resource: str, context: Context
) -> tuple[Tri, Tri]:
    """(some statement of this effect matches naming the principal directly, ... naming its account)."""
    direct: list[Tri] = []
    account: list[Tri] = []
    for policy in policies:
        for statement in policy.statements:
            if statement.effect is not effect:
                continue
            body = body_matches(statement, action, resource, context)
            if body is False:
                continue
            d, a = principal_match(statement, who)
            direct.append(tri_and([d, body]))
            account.append(tri_and([a, body]))
    return tri_or(direct), tri_or(account)


def _identity(parsed: Parsed, who: Identity, action: str, resource: str, context: Context) -> tuple[Tri, Tri]:
    """(identity policies allow, identity policies deny)."""
    if who.kind is Kind.ROOT:
        return True, False  # the root user is not governed by IAM policies: all of its account's permissions
    if who.kind in (Kind.SERVICE, Kind.ANONYMOUS):
        return False, False
    policies = parsed.identity.get(who.arn.lower())
    if policies is None:
        # Not supplied: whether they allow is unknown; like the prover, assume they deny nothing
        # (a Deny there could only turn an ALLOWED into a refusal, never grant anything).
        return None, False
    allow, _ = policy_matches(policies, Effect.ALLOW, who, action, resource, context)
    deny, _ = policy_matches(policies, Effect.DENY, who, action, resource, context)
    return allow, deny


def _outcome(deny: Tri, allow: Tri) -> Decision:
    if deny is True:
        return Decision.EXPLICIT_DENY
    if deny is None:
        return Decision.UNKNOWN
    if allow is None:
        return Decision.UNKNOWN
    return Decision.ALLOWED if allow else Decision.IMPLICIT_DENY


# --- grants ----------------------------------------------------------------------------------------


def encryption_context(context: Context) -> dict[str, str]:
    return {
        k[len(ENCRYPTION_CONTEXT_PREFIX) :]: v
        for k, v in context.items()
        if k.startswith(ENCRYPTION_CONTEXT_PREFIX) and isinstance(v, str)
    }


def grant_allows(grant: Grant, who: Identity, action: str, context: Context) -> Tri:
    if action not in grant.actions:
        return False
    ref = grant.grantee
    if ref.kind in (Ref.ROLE, Ref.USER, Ref.SESSION, Ref.FEDERATED):
        grantee, _ = _ref_matches(ref, who)
    else:
        grantee = None
    if grantee is False:
        return False
    checks: list[Tri] = [grantee, None if grant.unsupported else True]
    operation = action.split(":", 1)[1]
    if any(operation == o.lower() for o in ENCRYPTION_CONTEXT_OPERATIONS):
        pairs = encryption_context(context)
        if grant.context_equals is not None:
            checks.append(pairs == dict(grant.context_equals))
        if grant.context_subset is not None:
            checks.append(all(pairs.get(k) == v for k, v in grant.context_subset.items()))
    if action == "kms:creategrant":
        # A grantee with CreateGrant can only create grants for the operations of its own grant.
        requested = context.get("kms:grantoperations", ())
        requested = (requested,) if isinstance(requested, str) else requested
        checks.append(all(o in grant.operations for o in requested))
    return tri_and(checks)


# --- organizations guardrails ---------------------------------------------------------------------


def _service_linked(who: Identity) -> bool:
    return who.kind is Kind.ROLE and is_service_linked_role(who.arn)


def scp_refuses(parsed: Parsed, who: Identity, action: str, resource: str, context: Context) -> Tri:
    """Whether the SCPs deny the request (see ``organizations``): never for principals they do not govern."""
    guardrails = parsed.guardrails
    governed = who.kind in ACCOUNT_KINDS and who.account in guardrails.scp_accounts
    if not guardrails.scps or not governed or _service_linked(who):
        return False
    deny, _ = policy_matches(guardrails.scps, Effect.DENY, who, action, resource, context)
    if not allow_list(guardrails.scps):
        return deny
    allowed, _ = policy_matches(guardrails.scps, Effect.ALLOW, who, action, resource, context)
    # An allow list: a request it does not allow may be refused at another level (not modelled).
    return tri_or([deny, tri_and([None, tri_not(allowed)])])


def rcp_refuses(
    parsed: Parsed, who: Identity, action: str, resource: str, context: Context, *, resource_account: str
) -> Tri:
    """Whether the RCPs deny a request on a resource of ``resource_account`` (see ``organizations``)."""
    service = action.split(":", 1)[0]
    covered = rcps_cover(parsed.guardrails, service=service, resource_account=resource_account)
    if not covered or action in RCP_EXEMPT_ACTIONS or _service_linked(who):
        return False
    deny, _ = policy_matches(parsed.guardrails.rcps, Effect.DENY, who, action, resource, context)
    return deny


def guardrails_refuse(
    parsed: Parsed, who: Identity, action: str, resource: str, context: Context, *, resource_account: str
) -> Tri:
    """The organization guardrails' explicit deny: an applicable SCP or RCP denies the request."""
    return tri_or(
        [
            scp_refuses(parsed, who, action, resource, context),
            rcp_refuses(parsed, who, action, resource, context, resource_account=resource_account),
        ]
    )


# --- requests --------------------------------------------------------------------------------------


def request_context(request: Request, who: Identity, resource_account: str) -> dict[str, ContextValue]:
    """The request's condition keys, lower-cased, with the keys derived from the principal and resource."""
    context: dict[str, ContextValue] = {}
    for key, value in request.context.items():
        lowered = key.lower()
        if lowered in context:
            raise PolicyFormatError(f"request context has {key!r} twice (condition key names are case-insensitive)")
        context[lowered] = value
    if request.action.lower().startswith("kms:") and str(context.get("aws:securetransport", "true")).lower() != "true":
        raise PolicyFormatError(
            "a kms: request is always over TLS (aws:SecureTransport true): KMS endpoints accept only HTTPS, and S3 "
            "refuses SSE-KMS requests that are not"
        )
    derived: dict[str, ContextValue] = {"aws:resourceaccount": resource_account}
    if who.kind in ACCOUNT_KINDS:
        assert who.account is not None
        derived |= {
            "aws:principalarn": who.arn,
            "aws:principalaccount": who.account,
            "aws:principalisawsservice": "false",
        }
        if request.action.lower().startswith("kms:"):
            derived["kms:calleraccount"] = who.account
    elif who.kind is Kind.SERVICE:
        derived |= {"aws:principalisawsservice": "true", "aws:principalservicename": who.arn}
    for key in DERIVED_KEYS:
        given = context.get(key)
        if given is not None and given != derived.get(key):
            raise PolicyFormatError(
                f"request context sets {key}={given!r}, which contradicts the principal or resource"
            )
    return context | derived


def key_account(key_arn: str) -> str:
    parts = key_arn.split(":")
    if len(parts) < 6 or parts[2] != "kms":
        raise PolicyFormatError(f"not a KMS key ARN: {key_arn}")
    return parts[4]


def iam_account(arn: str) -> str:
    """The account of an IAM resource ARN (``arn:aws:iam::ACCOUNT:role/...``)."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[2] != "iam" or not parts[4].isdigit() or len(parts[4]) != 12:
        raise PolicyFormatError(f"not an IAM resource ARN: {arn}")
    return parts[4]


def decide_parsed(parsed: Parsed, request: Request, *, account: str) -> Decision:
    who = classify_principal(request.principal)
    action = request.action.lower()
    service = action.split(":", 1)[0]
    if service == "kms":
        owner = key_account(request.resource)
        context = request_context(request, who, owner)
        if who.kind is Kind.ANONYMOUS:
            return Decision.IMPLICIT_DENY  # KMS accepts signed requests only
        # A Deny naming an account applies to every principal of that account.
        key_deny = tri_or(policy_matches([parsed.key_policy], Effect.DENY, who, action, request.resource, context))
        direct, via_account = policy_matches([parsed.key_policy], Effect.ALLOW, who, action, request.resource, context)
        identity_allow, identity_deny = _identity(parsed, who, action, request.resource, context)
        grants = tri_or(grant_allows(g, who, action, context) for g in parsed.grants)
        if who.kind is Kind.SERVICE:
            allow = tri_or([direct, grants])
        elif who.account == owner:
            allow = tri_or([direct, tri_and([via_account, identity_allow]), grants])
        else:
            allow = tri_or([tri_and([tri_or([direct, via_account]), identity_allow]), grants])
        layer = guardrails_refuse(parsed, who, action, request.resource, context, resource_account=owner)
        return _outcome(tri_or([key_deny, identity_deny, layer]), allow)
    if service == "s3":
        context = request_context(request, who, account)
        policies = [] if parsed.bucket_policy is None else [parsed.bucket_policy]
        bucket_deny = tri_or(policy_matches(policies, Effect.DENY, who, action, request.resource, context))
        direct, via_account = policy_matches(policies, Effect.ALLOW, who, action, request.resource, context)
        identity_allow, identity_deny = _identity(parsed, who, action, request.resource, context)
        if who.kind is Kind.ROOT and who.account == account and action in ROOT_BUCKET_POLICY_ACTIONS:
            bucket_deny = False
        if who.kind in (Kind.SERVICE, Kind.ANONYMOUS):
            allow = direct
        elif who.account == account:
            allow = tri_or([direct, identity_allow])
        else:
            allow = tri_and([tri_or([direct, via_account]), identity_allow])
        layer = guardrails_refuse(parsed, who, action, request.resource, context, resource_account=account)
        return _outcome(tri_or([bucket_deny, identity_deny, layer]), allow)
    if service == "iam":
        owner = iam_account(request.resource)
        context = request_context(request, who, owner)
        identity_allow, identity_deny = _identity(parsed, who, action, request.resource, context)
        # No resource policy: only the identity policies of the role's own account can allow.
        allow = identity_allow if who.kind in ACCOUNT_KINDS and who.account == owner else False
        layer = guardrails_refuse(parsed, who, action, request.resource, context, resource_account=owner)
        return _outcome(tri_or([identity_deny, layer]), allow)
    raise PolicyFormatError(f"decide() evaluates kms:, s3: and iam: actions, not {request.action}")


def decide(evidence: Evidence, request: Request, *, account: str) -> Decision:
    """What AWS decides for one concrete request.

    The action's service picks the side: ``kms:`` actions are judged on the key policy, the grants
    and (where the key policy delegates) identity policies, the resource being the key ARN; ``s3:``
    actions on the bucket policy and identity policies, ``account`` owning the bucket; ``iam:``
    actions on the identity policies, the resource being an IAM ARN (a role's). The SCPs and RCPs
    of the evidence deny where they apply. UNKNOWN when the outcome depends on an unmodelled
    element or on identity policies that were not supplied.
    """
    return decide_parsed(_parsed(evidence), request, account=account)


def _parsed(evidence: Evidence) -> Parsed:
    """``parse_evidence``, remembered for the last few pieces of evidence: callers that decide many
    requests on one piece (a brute-force comparison, a decision table) parse it once. The key is
    the evidence's exact JSON, so a caller that changes a policy in place gets it parsed afresh."""
    try:
        text = json.dumps([getattr(evidence, f.name) for f in dataclasses.fields(evidence)])
    except (TypeError, ValueError):  # not JSON-able: parse_evidence will say what is wrong with it
        return parse_evidence(evidence)
    found = _recent.get(text)
    if found is None:
        found = parse_evidence(evidence)
        if len(_recent) >= 16:
            _recent.pop(next(iter(_recent)))
        _recent[text] = found
    return found


#: ``_parsed``'s memory: evidence JSON -> its parse (immutable), the oldest dropped first.
_recent: dict[str, Parsed] = {}
