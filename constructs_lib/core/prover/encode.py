"""The z3 encoding: one symbolic request, and formulas saying what the policies decide for it.

A ``SymbolicRequest`` has a principal (kind, account, ARN), a lower-cased action, a resource and
the modelled condition keys (present or not, and their values). ``Encoder`` turns one piece of
evidence into formulas over it: ``kms_allowed``, ``s3_allowed`` and their explicit-deny parts.

Everything the encoding does not model becomes a fresh boolean ("unknown"), recorded with the
reason and with the direction in which it can only widen access, so that ``solve`` can first
leave it free and then fix it to the value that makes a violation hardest (see docs/PROVER.md).

The request is built in ``strings`` (patterns), ``principals`` and ``principal_conditions`` (who),
``request`` (condition keys); the encoder in ``targets`` (actions, resources), ``conditions`` and here
(principals of statements, policies, grants and the services' decisions). The names stay importable
from this module.
"""

from __future__ import annotations

from collections.abc import Sequence

import z3

from constructs_lib.core.prover.catalog import ENCRYPTION_CONTEXT_OPERATIONS
from constructs_lib.core.prover.conditions import ConditionEncoder
from constructs_lib.core.prover.keys import KeyTerm
from constructs_lib.core.prover.organizations import (
    RCP_EXEMPT_ACTIONS,
    allow_list,
    rcps_cover,
)
from constructs_lib.core.prover.parse import (
    ACCOUNT_KINDS,
    Effect,
    Grant,
    Kind,
    Policy,
    PrincipalRef,
    Ref,
    Statement,
)
from constructs_lib.core.prover.principals import Candidate, Facts, named_kind
from constructs_lib.core.prover.request import SymbolicRequest, condition_keys
from constructs_lib.core.prover.strings import (
    Bool,
    Expr,
    arn_re,
    glob_re,
    isolated,
    literal_re,
    regexes,
    string_matches,
)
from constructs_lib.core.prover.targets import Unknown

__all__ = [
    "Bool",
    "Candidate",
    "Encoder",
    "Expr",
    "Facts",
    "KeyTerm",
    "SymbolicRequest",
    "Unknown",
    "arn_re",
    "condition_keys",
    "glob_re",
    "isolated",
    "literal_re",
    "named_kind",
    "regexes",
    "string_matches",
]


class Encoder(ConditionEncoder):
    """Formulas for what one piece of evidence decides about a ``SymbolicRequest``."""

    # -- principals -------------------------------------------------------------------------------

    def _ref(self, ref: PrincipalRef, statement: Statement | None, effect: Effect, label: str) -> tuple[Bool, Bool]:
        """(names the request's principal, names its account); mirror of ``evaluate._ref_matches``."""
        r = self.r
        false = z3.BoolVal(False)
        if ref.kind is Ref.EVERYONE:
            return z3.BoolVal(True), false
        if ref.kind is Ref.ACCOUNT:
            assert ref.account is not None
            return false, r.in_account(ref.account)
        if ref.kind is Ref.ROLE:
            exact = z3.And(r.is_kind(Kind.ROLE), r.is_principal(ref.value))
            variants = r.role_case_variants(ref.value)
            if z3.is_false(variants):
                return exact, false
            doubt = self.unknown(
                f"{label}: role {ref.value} spelt in another case than the role (undocumented whether it names it)",
                effect=effect,
            )
            return z3.Or(exact, z3.And(variants, doubt)), false
        if ref.kind is Ref.USER:
            exact = z3.And(r.is_kind(Kind.USER), r.is_principal(ref.value))
            sessions = r.acts_as_user(ref.value)
            if z3.is_false(sessions):
                return exact, false
            if effect is Effect.ALLOW and statement is not None:
                # A resource policy naming the user adds its permissions to the user's own before a
                # federated session is made, within the session policy (IAM User Guide, "Policy
                # evaluation logic", session policies): at most what the user has.
                return z3.Or(exact, sessions), false
            doubt = self.unknown(
                f"{label}: whether {ref.value} covers the federated user sessions it creates is not documented",
                effect=effect,
            )
            return z3.Or(exact, z3.And(sessions, doubt)), false
        if ref.kind is Ref.FEDERATED:
            return z3.And(r.is_kind(Kind.FEDERATED), r.is_principal(ref.value)), false
        if ref.kind is Ref.SERVICE:
            return r.is_service(ref.value), false
        if ref.kind is Ref.SESSION:
            assert ref.account is not None
            same_role = r.is_session_of(ref.account, ref.detail)
            doubt = self.unknown(
                f"{label}: role session {ref.value} (which session makes a request is not modelled)", effect=effect
            )
            return z3.And(same_role, doubt), false
        return self.unknown(f"{label}: {ref.detail} is not modelled", effect=effect), false

    def _not_principal_exempts(self, statement: Statement) -> Bool:
        """Mirror of ``evaluate.not_principal_exempts`` (IAM User Guide, "NotPrincipal")."""
        assert statement.principals is not None
        r = self.r
        refs = statement.principals
        label = statement.label
        if any(ref.kind is Ref.EVERYONE for ref in refs):
            return z3.BoolVal(True)
        accounts = {ref.account for ref in refs if ref.kind is Ref.ACCOUNT}
        cases = [r.is_root_of(a) for a in accounts if a is not None]
        for ref in refs:
            if ref.kind in (Ref.USER, Ref.FEDERATED):
                kind = Kind.USER if ref.kind is Ref.USER else Kind.FEDERATED
                listed = z3.And(r.is_kind(kind), r.is_principal(ref.value))
                if ref.account in accounts:
                    cases.append(listed)
                else:
                    doubt = self.unknown(
                        f"{label}: NotPrincipal lists {ref.value} without its account",
                        effect=statement.effect,
                        positive=False,
                    )
                    cases.append(z3.And(listed, doubt))
                sessions = r.acts_as_user(ref.value) if ref.kind is Ref.USER else z3.BoolVal(False)
                if not z3.is_false(sessions):
                    doubt = self.unknown(
                        f"{label}: whether NotPrincipal {ref.value} exempts its federated user sessions is not "
                        "documented",
                        effect=statement.effect,
                        positive=False,
                    )
                    cases.append(z3.And(sessions, doubt))
            elif ref.kind is Ref.SESSION:
                assert ref.account is not None
                same_role = r.is_session_of(ref.account, ref.detail)
                doubt = self.unknown(
                    f"{label}: NotPrincipal exempts only the session {ref.value}",
                    effect=statement.effect,
                    positive=False,
                )
                cases.append(z3.And(same_role, doubt))
            elif ref.kind is Ref.SERVICE:
                cases.append(r.is_service(ref.value))
        if any(ref.kind is Ref.UNSUPPORTED for ref in refs):
            cases.append(
                self.unknown(f"{label}: NotPrincipal value not modelled", effect=statement.effect, positive=False)
            )
        return z3.Or(*cases)

    def statement(self, statement: Statement) -> tuple[Bool, Bool]:
        """(matches naming the principal directly, matches naming its account)."""
        body = self.body(statement)
        if statement.principals is None:
            return body, z3.BoolVal(False)
        if statement.not_principal:
            if statement.effect is Effect.ALLOW:
                return z3.And(
                    body, self.unknown(f"{statement.label}: NotPrincipal with Allow", effect=statement.effect)
                ), z3.BoolVal(False)
            return z3.And(body, z3.Not(self._not_principal_exempts(statement))), z3.BoolVal(False)
        refs = [self._ref(ref, statement, statement.effect, statement.label) for ref in statement.principals]
        return z3.And(body, z3.Or(*(d for d, _ in refs))), z3.And(body, z3.Or(*(a for _, a in refs)))

    def policies(self, policies: Sequence[Policy], effect: Effect) -> tuple[Bool, Bool]:
        direct: list[Bool] = []
        account: list[Bool] = []
        for policy in policies:
            for statement in policy.statements:
                if statement.effect is effect:
                    d, a = self.statement(statement)
                    direct.append(d)
                    account.append(a)
        return z3.Or(*direct), z3.Or(*account)

    def identity(self) -> tuple[Bool, Bool]:
        """(identity policies allow, identity policies deny) for the request's principal.

        A role or user whose identity policies were not supplied may be allowed anything (the worst
        case) and is denied nothing. The root user is not governed by IAM policies.
        """
        r = self.r
        allows = [r.is_kind(Kind.ROOT)]
        denies = []
        listed = []
        names = [self.parsed.identity_names.get(lowered, lowered) for lowered in self.parsed.identity]
        # A federated user session has its own listed policies (its permissions as computed by the
        # caller), else at most those of the IAM user that created it (within its session policy).
        own = z3.Or(*(r.is_identity(a) for a in names if named_kind(a) is Kind.FEDERATED))
        for arn, policies in zip(names, self.parsed.identity.values(), strict=True):
            kinds = (Kind.ROLE, Kind.USER, Kind.FEDERATED)
            is_it = z3.And(r.is_kind(*kinds), r.is_identity(arn))
            if named_kind(arn) is Kind.USER:
                is_it = z3.Or(is_it, z3.And(r.acts_as_user(arn, ignore_case=True), z3.Not(own)))
            listed.append(is_it)
            allow, _ = self.policies(policies, Effect.ALLOW)
            deny, _ = self.policies(policies, Effect.DENY)
            allows.append(z3.And(is_it, allow))
            denies.append(z3.And(is_it, deny))
        allows.append(z3.And(r.is_kind(Kind.ROLE, Kind.USER, Kind.FEDERATED), z3.Not(z3.Or(*listed))))
        return z3.Or(*allows), z3.Or(*denies)

    # -- grants -----------------------------------------------------------------------------------

    def grant(self, grant: Grant) -> Bool:
        r = self.r
        if grant.grantee.kind in (Ref.ROLE, Ref.USER, Ref.SESSION, Ref.FEDERATED, Ref.UNSUPPORTED):
            grantee, _ = self._ref(grant.grantee, None, Effect.ALLOW, grant.label)
        else:
            grantee = z3.BoolVal(False)
        actions = z3.Or(*(r.action == z3.StringVal(a) for a in sorted(grant.actions)))
        parts = [grantee, actions]
        if grant.unsupported:
            parts.append(self.unknown(grant.unsupported, effect=Effect.ALLOW))
        constraints = []
        if grant.context_equals is not None:
            pairs = grant.context_equals
            same = [self._context_pair(k, v) for k, v in pairs.items()]
            others = [z3.Not(r.context_key(k).present) for k in r.tracked_context_keys() if k not in pairs]
            constraints.append(z3.And(*same, *others, z3.Not(r.other_context_keys)))
        if grant.context_subset is not None:
            constraints.append(z3.And(*(self._context_pair(k, v) for k, v in grant.context_subset.items())))
        if constraints:
            with_context = z3.Or(*(r.action == z3.StringVal(f"kms:{o.lower()}") for o in ENCRYPTION_CONTEXT_OPERATIONS))
            parts.append(z3.Implies(with_context, z3.And(*constraints)))
        if "kms:creategrant" in grant.actions:
            operations = r.key("kms:grantoperations")
            assert operations is not None
            subset = z3.And(
                *(
                    z3.Implies(p, z3.Or(*(v == z3.StringVal(o) for o in sorted(grant.operations))))
                    for p, v in operations.slots
                )
            )
            parts.append(z3.Implies(r.action == z3.StringVal("kms:creategrant"), subset))
        return z3.And(*parts)

    def _context_pair(self, key: str, value: str) -> Bool:
        term = self.r.context_key(key)
        return z3.And(term.present, term.value == z3.StringVal(value))

    # -- decisions --------------------------------------------------------------------------------

    def kms(self, key_account: str) -> tuple[Bool, Bool]:
        """(allowed, explicitly denied) for a request on the key (the key policy and grants of this
        evidence, identity policies where the key policy delegates to them)."""
        r = self.r
        key_deny_direct, key_deny_account = self.policies([self.parsed.key_policy], Effect.DENY)
        direct, via_account = self.policies([self.parsed.key_policy], Effect.ALLOW)
        identity_allow, identity_deny = self.identity()
        grants = z3.Or(*(self.grant(g) for g in self.parsed.grants))
        same = r.in_account(key_account)
        iam = r.is_kind(*ACCOUNT_KINDS)
        allow = z3.Or(
            z3.And(r.is_kind(Kind.SERVICE), direct),
            z3.And(same, z3.Or(direct, z3.And(via_account, identity_allow))),
            z3.And(iam, z3.Not(same), z3.Or(direct, via_account), identity_allow),
            grants,
        )
        deny = z3.Or(key_deny_direct, key_deny_account, identity_deny, self.guardrails(key_account))
        return z3.And(z3.Not(deny), allow, z3.Not(r.is_kind(Kind.ANONYMOUS))), deny

    def s3_bucket_deny(self) -> Bool:
        if self.parsed.bucket_policy is None:
            return z3.BoolVal(False)
        direct, account = self.policies([self.parsed.bucket_policy], Effect.DENY)
        return z3.Or(direct, account)

    def s3(self, bucket_account: str) -> tuple[Bool, Bool]:
        """(allowed, explicitly denied) for a request on the bucket or its objects."""
        r = self.r
        policies = [self.parsed.bucket_policy] if self.parsed.bucket_policy is not None else []
        bucket_deny = self.s3_bucket_deny()
        root_exempt = z3.And(
            r.is_root_of(bucket_account),
            z3.Or(
                *(
                    r.action == z3.StringVal(a)
                    for a in ("s3:getbucketpolicy", "s3:putbucketpolicy", "s3:deletebucketpolicy")
                )
            ),
        )
        direct, via_account = self.policies(policies, Effect.ALLOW)
        identity_allow, identity_deny = self.identity()
        same = r.in_account(bucket_account)
        iam = r.is_kind(*ACCOUNT_KINDS)
        allow = z3.Or(
            z3.And(r.is_kind(Kind.SERVICE, Kind.ANONYMOUS), direct),
            z3.And(same, z3.Or(direct, identity_allow)),
            z3.And(iam, z3.Not(same), z3.Or(direct, via_account), identity_allow),
        )
        deny = z3.Or(z3.And(bucket_deny, z3.Not(root_exempt)), identity_deny, self.guardrails(bucket_account))
        return z3.And(z3.Not(deny), allow), deny

    def iam(self, role_account: str) -> tuple[Bool, Bool]:
        """(allowed, explicitly denied) for a request on an IAM role of ``role_account``: IAM has no
        resource policy, so only the identity policies of that account's principals allow."""
        r = self.r
        identity_allow, identity_deny = self.identity()
        deny = z3.Or(identity_deny, self.guardrails(role_account))
        return z3.And(z3.Not(deny), r.in_account(role_account), identity_allow), deny

    # -- organizations guardrails -----------------------------------------------------------------

    def guardrails(self, resource_account: str) -> Bool:
        """The explicit deny of the organization guardrails for a request on a resource of
        ``resource_account`` (mirror of ``evaluate.guardrails_refuse``)."""
        return z3.Or(self._scp_refuses(), self._rcp_refuses(resource_account))

    def _scp_refuses(self) -> Bool:
        r = self.r
        guardrails = self.parsed.guardrails
        if not guardrails.scps:
            return z3.BoolVal(False)
        governed = z3.And(
            r.is_kind(*ACCOUNT_KINDS),
            z3.Or(*(r.in_account(a) for a in sorted(guardrails.scp_accounts))),
            z3.Not(r.is_service_linked()),
        )
        deny, _ = self.policies(guardrails.scps, Effect.DENY)
        listed = allow_list(guardrails.scps)
        if listed:
            allowed, _ = self.policies(guardrails.scps, Effect.ALLOW)
            doubt = self.unknown(
                f"{listed[0].label}: an SCP allow list is not modelled (FullAWSAccess is assumed attached at every "
                "level)",
                effect=Effect.DENY,
            )
            deny = z3.Or(deny, z3.And(doubt, z3.Not(allowed)))
        return z3.And(governed, deny)

    def _rcp_refuses(self, resource_account: str) -> Bool:
        r = self.r
        guardrails = self.parsed.guardrails
        if not rcps_cover(guardrails, service=r.service, resource_account=resource_account):
            return z3.BoolVal(False)
        deny, _ = self.policies(guardrails.rcps, Effect.DENY)
        exempt = [r.action == z3.StringVal(a) for a in sorted(RCP_EXEMPT_ACTIONS)]
        return z3.And(deny, z3.Not(z3.Or(*exempt)), z3.Not(r.is_service_linked()))
