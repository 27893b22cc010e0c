"""Who a symbolic request may come from: the candidate principals (named ones and a stand-in of each
shape for everyone else), the choice among them, and their ARNs as strings once a condition reads them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import z3

from constructs_lib.core.prover.keys import KeyTerm
from constructs_lib.core.prover.organizations import (
    SERVICE_LINKED_PATH,
)
from constructs_lib.core.prover.parse import (
    ACCOUNT_KINDS,
    Kind,
)
from constructs_lib.core.prover.strings import (
    Bool,
    Expr,
    is_case_variant,
    literal_re,
    regexes,
)

TLS_VERSIONS = ("1.0", "1.1", "1.2", "1.3")


@dataclass
class Candidate:
    """One principal the request may come from: a named one, or a stand-in for "anyone else".

    Stand-ins: a role, a user, the root user and an AWS STS federated user session of each account
    the evidence names and of one other account (its id symbolic), and a service principal other than
    the named ones. One request has one principal, so one stand-in of each shape covers everyone not
    named.
    """

    kind: Kind
    #: None: the other account (``SymbolicRequest.other_account``); services have none either.
    account: str | None
    #: Concrete for named principals and root users of named accounts; None for stand-ins.
    arn: str | None
    #: Stand-ins: the symbolic role/user name (with path) or service principal.
    name: Expr = None
    #: Stand-in roles, once asked: whether the role is service-linked (``SymbolicRequest._link``).
    service_linked: Expr = None
    #: Federated user sessions: the candidate (a user or the root user of the same account) that called
    #: ``sts:GetFederationToken``; its ARN does not say which (an integer choice, free).
    origin: Expr = None


def named_kind(arn: str) -> Kind:
    """The kind of a named role, user or federated-user ARN."""
    if ":federated-user/" in arn:
        return Kind.FEDERATED
    return Kind.ROLE if ":role/" in arn else Kind.USER


@dataclass(frozen=True)
class Facts:
    """What the design states about the environment, fixing keys that would otherwise be free (in
    "can anyone" questions) or unknown (in "does it still work" questions)."""

    #: The key's aliases: ``kms:ResourceAliases`` of every request on the key. None: not stated.
    key_aliases: tuple[str, ...] | None = None
    #: The organization and its accounts: ``aws:PrincipalOrgID`` of their principals. None: not stated.
    organization_id: str | None = None
    organization_accounts: tuple[str, ...] = ()


class PrincipalRequest:
    """The principal half of ``SymbolicRequest``: candidates, choice, names and well-formedness."""

    def __init__(
        self,
        *,
        partition: str,
        service: str,
        named_principals: Iterable[str],
        existing: Iterable[str] = (),
        named_accounts: Iterable[str] = (),
        named_services: Iterable[str] = (),
        action_domain: Sequence[str] | None,
        environment_known: bool,
        set_slots: int = 3,
        resource_value: str | None = None,
        facts: Facts | None = None,
    ) -> None:
        self.partition = partition
        self.service = service
        self.environment_known = environment_known
        self.facts = facts or Facts()
        self.set_slots = set_slots
        self.action = z3.String("action")
        self.resource = z3.String("resource")
        self.resource_value = resource_value
        self.action_domain = tuple(a.lower() for a in action_domain) if action_domain is not None else None
        #: The principals known to exist, spelt as IAM reports them (the design's): lower-cased -> spelling.
        #: IAM names are unique whatever their case ("IAM and AWS STS quotas"), so no other principal
        #: is a case variant of one of them.
        self.existing = {arn.lower(): arn for arn in existing}
        #: Every named spelling once: the existing ones, and the policies' (which may be references only,
        #: or spellings of an existing principal in another case: then no principal of their own).
        self.named: list[str] = []
        for arn in [*self.existing.values(), *named_principals]:
            if arn not in self.named and self.existing.get(arn.lower(), arn) == arn:
                self.named.append(arn)
        self.accounts = sorted({*named_accounts, *(arn.split(":")[4] for arn in self.named)})
        self.services = sorted({s.lower() for s in named_services})
        self.other_account = z3.String("other_account")
        self._origin_constraints: list[Bool] = []
        self._choices: dict[tuple[int, ...], Bool] = {}
        self._case_variants: dict[tuple[int, str], Bool] = {}
        self.candidates = self._candidates()
        self.principal = z3.Int("principal")
        self._strings: tuple[Expr, Expr] | None = None
        #: Booleans standing for a fact about a stand-in's name or account (a service-linked path,
        #: membership of the organization), tied to the strings only once some condition reads them:
        #: until then the fact is free, and the strings (slow for z3) stay out of the query.
        self._links: list[tuple[Bool, Callable[[], Bool]]] = []
        self._service_linked: Bool = None
        self._in_organization: Bool = None
        self.other_in_organization = z3.Bool("other_account_in_organization")
        self.keys: dict[str, KeyTerm] = {}
        #: Encryption-context keys outside ``keys`` are present (for EncryptionContextEquals).
        self.other_context_keys = z3.Bool("other_encryption_context_keys")
        #: Constraints every query carries; ``strict`` and ``pretty`` are described in _wellformed.
        self.strict: list[Bool] = []
        self.pretty: list[Bool] = []
        self.constraints: list[Bool] = [self._wellformed()]

    # -- principal --------------------------------------------------------------------------------

    def _candidates(self) -> list[Candidate]:
        candidates = [Candidate(named_kind(arn), arn.split(":")[4], arn) for arn in self.named]
        for account in [*self.accounts, None]:
            where = account or "other"
            candidates.append(Candidate(Kind.ROLE, account, None, z3.String(f"role_name[{where}]")))
            candidates.append(Candidate(Kind.USER, account, None, z3.String(f"user_name[{where}]")))
            root = f"arn:{self.partition}:iam::{account}:root" if account else None
            candidates.append(Candidate(Kind.ROOT, account, root))
        candidates += [Candidate(Kind.SERVICE, None, s) for s in self.services]
        candidates.append(Candidate(Kind.SERVICE, None, None, z3.String("service_name")))
        if self.service == "s3":
            candidates.append(Candidate(Kind.ANONYMOUS, None, "anonymous"))
        # Federated user session stand-ins last: the other candidates keep the order (and so the
        # search) they had before these were modelled.
        for account in [*self.accounts, None]:
            where = account or "other"
            candidates.append(Candidate(Kind.FEDERATED, account, None, z3.String(f"federated_name[{where}]")))
        for index, c in enumerate(candidates):
            if c.kind is Kind.FEDERATED:
                # IAM User Guide, "AWS STS federated user session principals": an IAM user or the root
                # user federates; the session's permissions are at most its own.
                c.origin = z3.Int(f"origin[{index}]")
                origins = [
                    j for j, o in enumerate(candidates) if o.kind in (Kind.USER, Kind.ROOT) and o.account == c.account
                ]
                self._origin_constraints.append(z3.Or(*(c.origin == j for j in origins)))
        return candidates

    def _is(self, indices: Iterable[int]) -> Bool:
        """The principal is one of these candidates (built once per set: z3 shares equal terms anyway,
        and building them again is most of the encoding's own time)."""
        key = tuple(indices)
        found = self._choices.get(key)
        if found is None:
            chosen = [self.principal == i for i in key]
            found = z3.Or(*chosen) if chosen else z3.BoolVal(False)
            self._choices[key] = found
        return found

    def is_kind(self, *kinds: Kind) -> Bool:
        return self._is(i for i, c in enumerate(self.candidates) if c.kind in kinds)

    def is_principal(self, arn: str) -> Bool:
        """The request comes from this role, user or federated-user ARN (exactly this spelling), root ARN
        or service principal."""
        return self._is(i for i, c in enumerate(self.candidates) if c.arn is not None and c.arn == arn)

    def is_identity(self, arn: str) -> Bool:
        """The request comes from the IAM identity ``arn`` names whatever its case (one identity per name)."""
        wanted = arn.lower()
        return self._is(i for i, c in enumerate(self.candidates) if c.arn is not None and c.arn.lower() == wanted)

    def acts_as_user(self, arn: str, *, ignore_case: bool = False) -> Bool:
        """A federated user session that the IAM user ``arn`` created (``sts:GetFederationToken``).

        The sessions' origins are constrained from the first question about them on: until then they
        are free and nothing reads them.
        """
        self.constraints += self._origin_constraints
        self._origin_constraints = []
        wanted = arn.lower() if ignore_case else arn
        users = [
            j
            for j, c in enumerate(self.candidates)
            if c.kind is Kind.USER and c.arn is not None and (c.arn.lower() if ignore_case else c.arn) == wanted
        ]
        cases = [
            z3.And(self.principal == i, z3.Or(*(c.origin == j for j in users)))
            for i, c in enumerate(self.candidates)
            if c.kind is Kind.FEDERATED and users and c.account == self.candidates[users[0]].account
        ]
        return z3.Or(*cases) if cases else z3.BoolVal(False)

    def role_case_variants(self, arn: str) -> Bool:
        """The request's role is ``arn`` spelt in another case: a named role, or a stand-in role of that
        account (unless ``arn`` is an existing role's spelling: then no other role can be a variant).

        Whether a Principal naming a role in another case names it is not documented: the callers
        make it an unknown. A stand-in's flag is free until its name is a string (``_link``).
        """
        wanted = arn.lower()
        cases = [
            self.principal == i
            for i, c in enumerate(self.candidates)
            if c.kind is Kind.ROLE and c.arn is not None and c.arn != arn and c.arn.lower() == wanted
        ]
        prefix = f"arn:{self.partition}:iam::"
        account, _, resource = arn.removeprefix(prefix).partition(":")
        name = resource.removeprefix("role/")
        if wanted not in self.existing and arn.startswith(prefix) and resource.startswith("role/"):
            for i, c in enumerate(self.candidates):
                if c.kind is Kind.ROLE and c.arn is None and c.account == account:
                    flag = self._case_variants.get((i, arn))
                    if flag is None:
                        flag = z3.Bool(f"case_variant[{i}][{arn}]")
                        self._case_variants[(i, arn)] = flag
                        self._link(flag, functools.partial(is_case_variant, c.name, name))
                    cases.append(z3.And(self.principal == i, flag))
        return z3.Or(*cases) if cases else z3.BoolVal(False)

    def is_service(self, name: str) -> Bool:
        return self._is(i for i, c in enumerate(self.candidates) if c.kind is Kind.SERVICE and c.arn == name.lower())

    def _link(self, flag: Bool, meaning: Callable[[], Bool]) -> None:
        """Tie ``flag`` to ``meaning`` (a formula over the principal's strings) once strings are used."""
        if self._strings is not None:
            self.constraints.append(flag == meaning())
        else:
            self._links.append((flag, meaning))

    def _arn_shape(self, c: Candidate) -> tuple[str, str]:
        """(service, what the resource part starts with) of a principal's ARN: ``iam`` and ``role/``,
        ``user/`` or ``root``; ``sts`` and ``federated-user/`` for a federated user session."""
        if c.kind is Kind.FEDERATED:
            return "sts", "federated-user/"
        if c.kind is Kind.ROOT:
            return "iam", "root"
        return "iam", f"{c.kind.value}/"

    def _arn_of(self, c: Candidate) -> Expr:
        if c.arn is not None:
            return z3.StringVal(c.arn)
        if c.kind is Kind.SERVICE:
            return c.name
        account = z3.StringVal(c.account) if c.account else self.other_account
        service, shape = self._arn_shape(c)
        prefix = z3.StringVal(f"arn:{self.partition}:{service}::")
        if c.kind is Kind.ROOT:
            return z3.Concat(prefix, account, z3.StringVal(":root"))
        return z3.Concat(prefix, account, z3.StringVal(f":{shape}"), c.name)

    @property
    def strings_used(self) -> bool:
        """Whether some condition reads the principal's ARN or account as a string."""
        return self._strings is not None

    def principal_strings(self) -> tuple[Expr, Expr]:
        """(ARN, account) of the principal as strings, with the stand-ins' shapes constrained."""
        if self._strings is not None:
            return self._strings
        arn: Expr = z3.StringVal("")
        account: Expr = z3.StringVal("")
        for i, c in reversed(list(enumerate(self.candidates))):
            arn = z3.If(self.principal == i, self._arn_of(c), arn)
            owner = (
                z3.StringVal(c.account)
                if c.account
                else (self.other_account if c.kind in ACCOUNT_KINDS else z3.StringVal(""))
            )
            account = z3.If(self.principal == i, owner, account)
        self._strings = (arn, account)
        self.constraints.append(z3.Length(self.other_account) == 12)
        self.constraints += [self.other_account != z3.StringVal(a) for a in self.accounts]
        self.strict.append(z3.InRe(self.other_account, regexes().account_id))
        for i, c in enumerate(self.candidates):
            if c.name is None:
                continue
            chosen = self.principal == i
            if c.kind is Kind.SERVICE:
                self.constraints.append(z3.Implies(chosen, z3.SuffixOf(z3.StringVal(".amazonaws.com"), c.name)))
                self.constraints += [c.name != z3.StringVal(s) for s in self.services]
                self.strict.append(z3.Implies(chosen, z3.InRe(c.name, regexes().service_name)))
                continue
            if c.kind is Kind.FEDERATED:
                # GetFederationToken's Name: 2 to 32 characters, no "/" (AWS STS API reference).
                self.constraints.append(z3.Implies(chosen, z3.And(z3.Length(c.name) >= 2, z3.Length(c.name) <= 32)))
                self.strict.append(z3.Implies(chosen, z3.InRe(c.name, regexes().federated_name)))
                self.pretty.append(z3.Implies(chosen, z3.InRe(c.name, regexes().readable_name)))
            else:
                self.constraints.append(z3.Implies(chosen, z3.Length(c.name) >= 1))
                self.strict.append(z3.Implies(chosen, z3.InRe(c.name, regexes().iam_name)))
            # A stand-in is none of the named principals of its kind and account, and (IAM names are
            # unique whatever their case) no case variant of an existing one. Only names of the same
            # kind in the same account can collide (the other account is none of the named ones).
            self.constraints += [z3.Implies(chosen, c.name != z3.StringVal(name)) for name in self._named_names(c)]
            self.strict += [
                z3.Implies(chosen, z3.Not(z3.InRe(c.name, literal_re(name, ignore_case=True))))
                for name in self._named_names(c, existing=True)
            ]
        for flag, meaning in self._links:
            self.constraints.append(flag == meaning())
        self._links = []
        return self._strings

    def _named_names(self, c: Candidate, *, existing: bool = False) -> list[str]:
        """The names (with path) of the named principals (``existing``: of the existing ones) of a
        stand-in's kind and account."""
        if c.account is None or c.kind not in (Kind.ROLE, Kind.USER, Kind.FEDERATED):
            return []
        service, shape = self._arn_shape(c)
        prefix = f"arn:{self.partition}:{service}::{c.account}:{shape}"
        spellings = self.existing.values() if existing else self.named
        return [arn[len(prefix) :] for arn in spellings if arn.startswith(prefix)]

    def placeholder(self, c: Candidate, model: Any) -> str:
        """A concrete principal for a stand-in whose name no condition reads, agreeing with the
        model's free facts about it (a service-linked role, a member of the organization)."""

        def holds(flag: Bool) -> bool:
            return bool(z3.is_true(model.eval(flag, model_completion=True)))

        unnamed = [a for a in self.facts.organization_accounts if a not in self.accounts]
        if c.account is not None:
            account = c.account
        elif unnamed and holds(self.other_in_organization):
            account = unnamed[0]
        else:
            members = set(self.facts.organization_accounts)
            account = next(
                a
                for a in (f"{n:012d}" for n in range(999999999999, 0, -1))
                if a not in self.accounts and a not in members
            )
        if c.kind is Kind.SERVICE:
            return "some-service.amazonaws.com"
        if c.kind is Kind.ROOT:
            return f"arn:{self.partition}:iam::{account}:root"
        taken = {a.lower() for a in self.named}
        service, shape = self._arn_shape(c)
        name = {Kind.ROLE: "AnyOtherRole", Kind.USER: "AnyOtherUser"}.get(c.kind, "AnyFederatedUser")
        if c.service_linked is not None and holds(c.service_linked):
            name = f"{SERVICE_LINKED_PATH}some-service.amazonaws.com/AWSServiceRoleForSomeService"
        arn = f"arn:{self.partition}:{service}::{account}:{shape}{name}"
        suffix = 1
        while arn.lower() in taken:
            suffix += 1
            arn = f"arn:{self.partition}:{service}::{account}:{shape}{name}{suffix}"
        return arn

    def _wellformed(self) -> Bool:
        """Cheap shape constraints (no regular expressions: they slow every proof down).

        The exact character sets live in ``strict`` (``solve`` adds those a model breaks) and
        readable values in ``pretty`` (best effort, for counterexamples only).
        """
        # Counterexamples name a role, a user or a root user where one would do (federated user sessions
        # are rarer, and their permissions are a user's at most).
        self.pretty = [z3.InRe(self.resource, regexes().printable), z3.Not(self.is_kind(Kind.FEDERATED))]
        if self.action_domain is not None:
            action = z3.Or(*(self.action == z3.StringVal(a) for a in self.action_domain))
        else:
            action = z3.And(
                z3.PrefixOf(z3.StringVal(f"{self.service}:"), self.action),
                z3.Length(self.action) > len(self.service) + 1,
            )
            self.pretty.append(z3.InRe(self.action, z3.Concat(z3.Re(f"{self.service}:"), z3.Plus(z3.Range("a", "z")))))
        resource = (
            self.resource == z3.StringVal(self.resource_value) if self.resource_value is not None else z3.BoolVal(True)
        )
        return z3.And(self.principal >= 0, self.principal < len(self.candidates), action, resource)
