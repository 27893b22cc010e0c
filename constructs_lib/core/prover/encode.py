"""The z3 encoding: one symbolic request, and formulas saying what the policies decide for it.

A ``SymbolicRequest`` has a principal (kind, account, ARN), a lower-cased action, a resource and
the modelled condition keys (present or not, and their values). ``Encoder`` turns one piece of
evidence into formulas over it: ``kms_allowed``, ``s3_allowed`` and their explicit-deny parts.

Everything the encoding does not model becomes a fresh boolean ("unknown"), recorded with the
reason and with the direction in which it can only widen access, so that ``solve`` can first
leave it free and then fix it to the value that makes a violation hardest (see docs/PROVER.md).
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import z3

from constructs_lib.core.prover.catalog import ENCRYPTION_CONTEXT_OPERATIONS
from constructs_lib.core.prover.keys import DERIVED_KEYS, ENCRYPTION_CONTEXT_PREFIX, KeySpec, Source, Type, spec_of
from constructs_lib.core.prover.match import (
    action_match,
    arn_match,
    arn_segments,
    glob_match,
    glob_residuals,
    resource_match,
    segment_match,
)
from constructs_lib.core.prover.organizations import (
    RCP_EXEMPT_ACTIONS,
    SERVICE_LINKED_PATH,
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
    Kind,
    Parsed,
    Policy,
    PrincipalRef,
    Qualifier,
    Ref,
    Statement,
)

Bool = Any  # z3.BoolRef: z3 ships no type information
Expr = Any


@dataclass(frozen=True)
class Regexes:
    """The fixed regular expressions, built once per z3 context."""

    any_char: Expr
    any_string: Expr
    not_colon: Expr
    printable: Expr
    #: IAM names: alphanumerics and ``+=,.@_-``; paths add ``/``.
    iam_name: Expr
    #: An AWS STS federated user's name (GetFederationToken ``Name``: ``[\w+=,.@-]+``, no ``/``).
    federated_name: Expr
    account_id: Expr
    service_name: Expr
    #: A readable ``kms:ViaService`` for counterexamples (``ec2.eu-west-1.amazonaws.com``).
    via_service: Expr
    #: A readable stand-in name for counterexamples (letters, digits, hyphens).
    readable_name: Expr


_regexes: tuple[Any, Regexes] | None = None


def regexes() -> Regexes:
    """The fixed regular expressions of the current z3 context (``isolated`` changes it)."""
    global _regexes
    context = z3.main_ctx()
    if _regexes is None or _regexes[0] is not context:
        sort = z3.ReSort(z3.StringSort())
        any_char = z3.AllChar(sort)
        _regexes = (
            context,
            Regexes(
                any_char=any_char,
                any_string=z3.Full(sort),
                not_colon=z3.Intersect(any_char, z3.Complement(z3.Re(":"))),
                printable=z3.Star(z3.Range(" ", "~")),
                iam_name=z3.Plus(
                    z3.Union(
                        z3.Range("a", "z"), z3.Range("A", "Z"), z3.Range("0", "9"), *(z3.Re(c) for c in "+=,.@_-/")
                    )
                ),
                federated_name=z3.Plus(
                    z3.Union(z3.Range("a", "z"), z3.Range("A", "Z"), z3.Range("0", "9"), *(z3.Re(c) for c in "+=,.@_-"))
                ),
                account_id=z3.Loop(z3.Range("0", "9"), 12, 12),
                service_name=z3.Concat(
                    z3.Plus(z3.Union(z3.Range("a", "z"), z3.Range("0", "9"), z3.Re("-"), z3.Re("."))),
                    z3.Re(".amazonaws.com"),
                ),
                via_service=z3.Concat(
                    z3.Range("a", "z"),
                    z3.Star(z3.Union(z3.Range("a", "z"), z3.Range("0", "9"), z3.Re("-"), z3.Re("."))),
                    z3.Re(".amazonaws.com"),
                ),
                readable_name=z3.Plus(z3.Union(z3.Range("a", "z"), z3.Range("A", "Z"), z3.Range("0", "9"), z3.Re("-"))),
            ),
        )
    return _regexes[1]


@contextmanager
def isolated() -> Iterator[None]:
    """Run one proof in a fresh z3 context.

    z3's answers depend on everything its (global) context has seen, so without this the same
    question asked twice in one process can get two different, equally valid counterexamples.
    Python's cyclic garbage collector is paused meanwhile: it runs when the whole process's
    allocations say so, and the z3 terms it frees give their ids back to z3, whose search order
    follows term ids; with only reference counting freeing terms, one question costs the same
    rlimit units and gets the same answer every time (``budget``). Not thread-safe, like z3's
    global context itself.
    """
    module = z3.z3
    saved = module._main_ctx
    module._main_ctx = None
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        module._main_ctx = saved
        if collecting:
            gc.enable()


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


def literal_re(text: str, *, ignore_case: bool = False) -> Expr:
    if not text:
        return z3.Re(z3.StringVal(""))
    if not ignore_case:
        return z3.Re(z3.StringVal(text))
    parts = [
        z3.Union(z3.Re(c.lower()), z3.Re(c.upper())) if c.lower() != c.upper() else z3.Re(z3.StringVal(c)) for c in text
    ]
    return parts[0] if len(parts) == 1 else z3.Concat(*parts)


def glob_re(pattern: str, *, ignore_case: bool = False, star: Expr = None, one: Expr = None) -> Expr:
    """``*`` and ``?`` wildcards, the rest literal."""
    star = regexes().any_string if star is None else star
    one = regexes().any_char if one is None else one
    parts: list[Expr] = []
    literal = ""
    for char in pattern:
        if char in "*?":
            if literal:
                parts.append(literal_re(literal, ignore_case=ignore_case))
                literal = ""
            parts.append(star if char == "*" else one)
        else:
            literal += char
    if literal or not parts:
        parts.append(literal_re(literal, ignore_case=ignore_case))
    return parts[0] if len(parts) == 1 else z3.Concat(*parts)


def arn_re(pattern: str) -> Expr | None:
    """ArnLike: the six components matched separately (wildcards stay within a component)."""
    segments = arn_segments(pattern)
    if segments is None:
        return None
    parts: list[Expr] = []
    for index, segment in enumerate(segments):
        if index:
            parts.append(z3.Re(":"))
        if index < 5:
            parts.append(glob_re(segment, star=z3.Star(regexes().not_colon), one=regexes().not_colon))
        else:
            parts.append(glob_re(segment))
    return z3.Concat(*parts)


def string_matches(value: Expr, pattern: str) -> Bool:
    """StringLike on a symbolic string, in the cheapest form z3 reads: equality, prefix, suffix or
    containment where the pattern is one of those shapes, a regular expression otherwise."""
    if "*" not in pattern and "?" not in pattern:
        return value == z3.StringVal(pattern)
    if "?" not in pattern:
        parts = pattern.split("*")
        if all(not part for part in parts):
            return z3.BoolVal(True)
        if len(parts) == 2:
            head, tail = parts
            if not tail:
                return z3.PrefixOf(z3.StringVal(head), value)
            if not head:
                return z3.SuffixOf(z3.StringVal(tail), value)
            return z3.And(
                z3.Length(value) >= len(head) + len(tail),
                z3.PrefixOf(z3.StringVal(head), value),
                z3.SuffixOf(z3.StringVal(tail), value),
            )
        if len(parts) == 3 and not parts[0] and not parts[2]:
            return z3.Contains(value, z3.StringVal(parts[1]))
        if len(parts) == 3:
            return _around(value, *parts)
    return z3.InRe(value, glob_re(pattern))


def _around(value: Expr, head: str, middle: str, tail: str) -> Bool:
    """``head*middle*tail``: the head a prefix, the tail a suffix, and the middle inside what is between
    them (a slice z3 reads far faster than the pattern's regular expression)."""
    between = z3.Length(value) - len(head) - len(tail)
    return z3.And(
        between >= len(middle),
        z3.PrefixOf(z3.StringVal(head), value),
        z3.SuffixOf(z3.StringVal(tail), value),
        z3.Contains(z3.SubString(value, len(head), between), z3.StringVal(middle)),
    )


def _has_service_linked_path(name: Expr) -> Bool:
    return z3.PrefixOf(z3.StringVal(SERVICE_LINKED_PATH), name)


def _is_case_variant(name: Expr, of: str) -> Bool:
    """``name`` is ``of`` spelt in another case."""
    return z3.And(z3.InRe(name, literal_re(of, ignore_case=True)), name != z3.StringVal(of))


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


@dataclass
class Unknown:
    var: Bool
    reason: str
    #: Setting the variable to True can only widen what the evidence allows.
    widens_access: bool


@dataclass
class KeyTerm:
    """A condition key's symbolic presence and value(s)."""

    type: Type
    present: Bool
    value: Expr = None
    #: Multi-valued keys: (present, value) slots; the set is the values of the present slots.
    slots: list[tuple[Bool, Expr]] = field(default_factory=list)


class SymbolicRequest:
    """The request a query asks about: every field a z3 term, constrained to well-formed values.

    ``service`` (``kms`` or ``s3``) decides which service-specific keys the request can carry.
    ``environment_known`` False turns conditions on ENVIRONMENT keys (tags, organization,
    aliases) into unknowns: used by "does this still work" questions, where picking a value
    would be guessing. The principal is one of ``candidates`` (an integer choice), so that
    matching a Principal element is arithmetic; its ARN and account only become strings when a
    condition reads them.
    """

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
                        self._link(flag, functools.partial(_is_case_variant, c.name, name))
                    cases.append(z3.And(self.principal == i, flag))
        return z3.Or(*cases) if cases else z3.BoolVal(False)

    def is_service(self, name: str) -> Bool:
        return self._is(i for i, c in enumerate(self.candidates) if c.kind is Kind.SERVICE and c.arn == name.lower())

    def in_account(self, account: str) -> Bool:
        """A role, user, root user or federated user session of ``account``."""
        iam = ACCOUNT_KINDS
        if account in self.accounts:
            return self._is(i for i, c in enumerate(self.candidates) if c.kind in iam and c.account == account)
        others = self._is(i for i, c in enumerate(self.candidates) if c.kind in iam and c.account is None)
        self.principal_strings()
        return z3.And(others, self.other_account == z3.StringVal(account))

    def is_root_of(self, account: str) -> Bool:
        return z3.And(self.is_kind(Kind.ROOT), self.in_account(account))

    def _link(self, flag: Bool, meaning: Callable[[], Bool]) -> None:
        """Tie ``flag`` to ``meaning`` (a formula over the principal's strings) once strings are used."""
        if self._strings is not None:
            self.constraints.append(flag == meaning())
        else:
            self._links.append((flag, meaning))

    def in_organization(self) -> Bool:
        """A role, user or root user of an account of the organization (``Facts``): a named account
        by its candidates; the other account may be one of the unnamed members."""
        if self._in_organization is None:
            members = self.facts.organization_accounts
            unnamed = [a for a in members if a not in self.accounts]
            iam = ACCOUNT_KINDS
            other = self._is(i for i, c in enumerate(self.candidates) if c.kind in iam and c.account is None)
            if unnamed:
                self._link(
                    self.other_in_organization, lambda: z3.Or(*(self.other_account == z3.StringVal(a) for a in unnamed))
                )
            else:
                self.constraints.append(z3.Not(self.other_in_organization))
            named = [self.in_account(a) for a in members if a in self.accounts]
            self._in_organization = z3.Or(*named, z3.And(other, self.other_in_organization))
        return self._in_organization

    def is_service_linked(self) -> Bool:
        """The request comes from a service-linked role (its path is ``/aws-service-role/``): named
        roles by their ARN, stand-in roles by a flag tied to their name (``_link``)."""
        if self._service_linked is None:
            cases = []
            for i, c in enumerate(self.candidates):
                if c.kind is not Kind.ROLE:
                    continue
                if c.arn is not None:
                    if is_service_linked_role(c.arn):
                        cases.append(self.principal == i)
                    continue
                c.service_linked = z3.Bool(f"service_linked[{c.account or 'other'}]")
                self._link(c.service_linked, functools.partial(_has_service_linked_path, c.name))
                cases.append(z3.And(self.principal == i, c.service_linked))
            self._service_linked = z3.Or(*cases) if cases else z3.BoolVal(False)
        return self._service_linked

    def _arn_shape(self, c: Candidate) -> tuple[str, str]:
        """(service, what the resource part starts with) of a principal's ARN: ``iam`` and ``role/``,
        ``user/`` or ``root``; ``sts`` and ``federated-user/`` for a federated user session."""
        if c.kind is Kind.FEDERATED:
            return "sts", "federated-user/"
        if c.kind is Kind.ROOT:
            return "iam", "root"
        return "iam", f"{c.kind.value}/"

    def principal_arn_is(self, value: str) -> Bool:
        """``aws:PrincipalArn`` equals ``value`` (exactly: ARN values are case-sensitive), per candidate.

        Decided without building the principal's ARN as a string: a named candidate by its ARN, a
        stand-in by its kind, account and name. A stand-in is never a named principal, nor a case
        variant of an existing one (the well-formedness constraints of ``principal_strings``).
        """
        cases = [
            self.principal == i for i, c in enumerate(self.candidates) if c.kind in ACCOUNT_KINDS and c.arn == value
        ]
        if value in self.named or value.lower() in self.existing:
            return z3.Or(*cases) if cases else z3.BoolVal(False)
        parts = arn_segments(value)
        if parts is None or parts[:2] != ["arn", self.partition] or parts[3] != "":
            return z3.Or(*cases) if cases else z3.BoolVal(False)
        service, account, resource = parts[2], parts[4], parts[5]
        if len(account) != 12 or not account.isdigit():
            return z3.Or(*cases) if cases else z3.BoolVal(False)
        for i, c in enumerate(self.candidates):
            if c.kind not in ACCOUNT_KINDS or c.arn is not None:
                continue
            if not (c.account == account or (c.account is None and account not in self.accounts)):
                continue
            wanted_service, head = self._arn_shape(c)
            if service != wanted_service:
                continue
            where = [] if c.account == account else [self.other_account == z3.StringVal(account)]
            if c.kind is Kind.ROOT:
                if resource == "root":
                    cases.append(z3.And(self.principal == i, *where))
                    self.principal_strings()
                continue
            name = resource.removeprefix(head)
            if resource.startswith(head) and name and c.name is not None:
                cases.append(z3.And(self.principal == i, *where, c.name == z3.StringVal(name)))
                # A stand-in's name or account is constrained: counterexamples must show it, and the
                # well-formedness of the strings must hold.
                self.principal_strings()
        return z3.Or(*cases) if cases else z3.BoolVal(False)

    def principal_arn_like(self, pattern: str, *, segmented: bool) -> Bool:
        """``aws:PrincipalArn`` matches the wildcard ``pattern`` (ArnLike when ``segmented``, else
        StringLike), per candidate, without the If-chain of every candidate's ARN as one string.

        A named candidate is decided in Python. A stand-in's ARN is ``arn:P:iam::ACCOUNT:KIND/NAME``
        (or ``...:root``, or ``arn:P:sts::ACCOUNT:federated-user/NAME``), its name symbolic and its
        account concrete or (the other account) symbolic. ArnLike matches the first five components one
        by one, and the name against what the resource pattern leaves after ``KIND/``. StringLike reads
        the same way when the pattern has exactly five literal colons: these ARNs have five and IAM
        names none, so no wildcard can stand for a colon (more than five: nothing matches). With fewer,
        the concrete head of the ARN is consumed in Python and the rest matched on the candidate's own
        ARN term.
        """
        if not segmented:
            colons = pattern.count(":")
            if colons > 5:
                return z3.BoolVal(False)
            if colons < 5:
                return self._principal_arn_glob(pattern)
        segments = arn_segments(pattern)
        if segments is None:
            return z3.BoolVal(False)
        matches = arn_match if segmented else glob_match
        heads = {}
        for service in ("iam", "sts"):
            fixed = ("arn", self.partition, service, "")
            heads[service] = all(segment_match(p, v) for p, v in zip(segments[:4], fixed, strict=True))
        account_pattern, resource_pattern = segments[4], segments[5]
        cases = []
        for i, c in enumerate(self.candidates):
            if c.kind not in ACCOUNT_KINDS:
                continue
            chosen = self.principal == i
            if c.arn is not None:
                if matches(pattern, c.arn):
                    cases.append(chosen)
                continue
            service, head = self._arn_shape(c)
            if not heads[service]:
                continue
            if c.account is not None:
                if not segment_match(account_pattern, c.account):
                    continue
                account = z3.BoolVal(True)
            else:
                account = self._other_account_matches(account_pattern)
            if c.kind is Kind.ROOT:
                if glob_match(resource_pattern, "root"):
                    cases.append(z3.And(chosen, account))
                continue
            rests = glob_residuals(resource_pattern, head)
            if rests:
                self.principal_strings()  # the name is read: constrain the stand-in's shape
                name = z3.Or(*(string_matches(c.name, rest) for rest in rests))
                cases.append(z3.And(chosen, account, name))
        return z3.Or(*cases) if cases else z3.BoolVal(False)

    def _principal_arn_glob(self, pattern: str) -> Bool:
        """StringLike on ``aws:PrincipalArn`` for a pattern whose wildcards must stand for colons."""
        cases = []
        for i, c in enumerate(self.candidates):
            if c.kind not in ACCOUNT_KINDS:
                continue
            chosen = self.principal == i
            if c.arn is not None:
                if glob_match(pattern, c.arn):
                    cases.append(chosen)
                continue
            self.principal_strings()
            service, shape = self._arn_shape(c)
            if c.account is not None and c.kind is not Kind.ROOT:
                head, rest = f"arn:{self.partition}:{service}::{c.account}:{shape}", c.name
            else:
                head = f"arn:{self.partition}:{service}::"
                if c.kind is Kind.ROOT:
                    rest = z3.Concat(self.other_account, z3.StringVal(":root"))
                else:
                    rest = z3.Concat(self.other_account, z3.StringVal(f":{shape}"), c.name)
            rests = glob_residuals(pattern, head)
            if rests:
                cases.append(z3.And(chosen, z3.Or(*(string_matches(rest, r) for r in rests))))
        return z3.Or(*cases) if cases else z3.BoolVal(False)

    def _other_account_matches(self, pattern: str) -> Bool:
        """The other account's (symbolic, 12-digit) id matches an ArnLike account component."""
        if pattern == "*":
            return z3.BoolVal(True)
        self.principal_strings()
        if "*" not in pattern and "?" not in pattern:
            if pattern in self.accounts:
                return z3.BoolVal(False)  # the other account is none of the named ones
            return self.other_account == z3.StringVal(pattern)
        return z3.InRe(self.other_account, glob_re(pattern, star=z3.Star(regexes().not_colon), one=regexes().not_colon))

    def is_session_of(self, account: str, role: str) -> Bool:
        """A role named ``role`` (any path) in ``account``: the role an assumed-role ARN names.

        Role names are unique in an account whatever the path and the case: when a named candidate
        has that name (in any case), no stand-in can. Case variants count as the role: callers put an
        unknown beside this (which session makes the request is not modelled either), so reading
        more here is sound both ways.
        """
        wanted = role.lower()
        named = [
            i
            for i, c in enumerate(self.candidates)
            if c.kind is Kind.ROLE
            and c.account == account
            and c.arn is not None
            and c.arn.rsplit("/", 1)[-1].lower() == wanted
        ]
        if named:
            return self._is(named)
        cases = []
        for i, c in enumerate(self.candidates):
            if c.kind is Kind.ROLE and c.account == account and c.arn is None:
                self.principal_strings()
                name = z3.StringVal(role)
                cases.append(
                    z3.And(self.principal == i, z3.Or(c.name == name, z3.SuffixOf(z3.StringVal("/" + role), c.name)))
                )
        return z3.Or(*cases) if cases else z3.BoolVal(False)

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

    # -- condition keys ---------------------------------------------------------------------------

    def key(self, name: str) -> KeyTerm | None:
        """The modelled key ``name`` (lower-cased), or None when conditions on it are unknown."""
        spec = spec_of(name)
        if spec is None:
            return None
        stated = self._stated(name)
        if stated is not None:
            return stated
        other_service = bool(spec.service) and spec.service != self.service
        if spec.source is Source.ENVIRONMENT and not self.environment_known and not other_service:
            # Unknown in this request; another service's key is simply absent (``_new_key``).
            return None
        if spec.source in (Source.PRINCIPAL, Source.RESOURCE):
            return self._derived(name, spec)
        if name not in self.keys:
            self.keys[name] = self._new_key(name, spec)
        return self.keys[name]

    def _new_key(self, name: str, spec: KeySpec) -> KeyTerm:
        present = z3.Bool(f"has[{name}]")
        if spec.service and spec.service != self.service:
            self.constraints.append(z3.Not(present))
        if spec.type is Type.SET:
            slots = []
            for index in range(self.set_slots):
                value = z3.String(f"{name}[{index}]")
                slot_present = z3.Bool(f"has[{name}][{index}]")
                self.pretty.append(z3.InRe(value, regexes().printable))
                if spec.service and spec.service != self.service:
                    self.constraints.append(z3.Not(slot_present))
                slots.append((slot_present, value))
            self.constraints.append(present == z3.Or(*(p for p, _ in slots)))
            return KeyTerm(spec.type, present, slots=slots)
        if spec.type is Type.NUMERIC:
            value = z3.Real(f"{name}")
            if name == "s3:tlsversion":
                self.constraints.append(z3.Or(*(value == z3.RealVal(v) for v in TLS_VERSIONS)))
                secure = self.key("aws:securetransport")
                assert secure is not None
                if self.service == "s3":
                    self.constraints.append(present == (secure.value == z3.StringVal("true")))
            return KeyTerm(spec.type, present, value)
        value = z3.String(f"{name}")
        if name == "aws:sourceaccount":
            # Only an AWS service calling on behalf of a resource owner passes it (IAM User Guide,
            # "AWS global condition context keys", aws:SourceAccount "Availability").
            self.constraints.append(z3.Implies(present, self.is_kind(Kind.SERVICE)))
            self.pretty.append(z3.InRe(value, regexes().account_id))
        if spec.type is Type.BOOL:
            self.constraints.append(z3.Or(value == z3.StringVal("true"), value == z3.StringVal("false")))
            if name == "aws:securetransport":
                self.constraints.append(present)
                if self.service == "kms":
                    # KMS endpoints accept HTTPS only ("Infrastructure security in AWS KMS": clients must
                    # support TLS), and S3 refuses SSE-KMS requests without TLS (S3 User Guide, "Using
                    # server-side encryption with AWS KMS keys"): no KMS request is ever without TLS.
                    self.constraints.append(value == z3.StringVal("true"))
        elif name == "kms:viaservice":
            # Counterexamples show an AWS service's endpoint name, such as s3.eu-west-1.amazonaws.com
            # (KMS Developer Guide, "kms:ViaService"), not an empty string.
            self.pretty.append(
                z3.And(
                    z3.SuffixOf(z3.StringVal(".amazonaws.com"), value),
                    z3.Length(value) > 16,
                    z3.InRe(value, regexes().via_service),
                )
            )
        else:
            self.pretty.append(z3.InRe(value, regexes().printable))
        return KeyTerm(spec.type, present, value)

    def _stated(self, name: str) -> KeyTerm | None:
        """A key whose value the ``Facts`` fix: the key's aliases, the principal's organization."""
        if name not in ("kms:resourcealiases", "aws:principalorgid"):
            return None
        if name in self.keys:
            return self.keys[name]
        facts = self.facts
        if name == "kms:resourcealiases" and facts.key_aliases is not None and self.service == "kms":
            slots = [(z3.BoolVal(True), z3.StringVal(a)) for a in facts.key_aliases]
            term = KeyTerm(Type.SET, z3.BoolVal(bool(slots)), slots=slots or [(z3.BoolVal(False), z3.StringVal(""))])
        elif name == "aws:principalorgid" and facts.organization_id is not None:
            # A principal of the organization carries its id; a role, user or root user of any other
            # account may belong to another organization (or none); services and anonymous to none.
            member = self.in_organization()
            elsewhere, other_id = z3.Bool("has[aws:principalorgid][outside]"), z3.String("aws:principalorgid[outside]")
            iam = self.is_kind(*ACCOUNT_KINDS)
            own_id = z3.StringVal(facts.organization_id)
            self.constraints.append(other_id != own_id)
            self.pretty.append(z3.InRe(other_id, regexes().printable))
            term = KeyTerm(Type.STRING, z3.Or(member, z3.And(iam, elsewhere)), z3.If(member, own_id, other_id))
        else:
            return None
        self.keys[name] = term
        return term

    def derived_presence(self, name: str) -> Bool:
        """Whether a key derived from the principal or the resource is in the request."""
        iam = self.is_kind(*ACCOUNT_KINDS)
        service = self.is_kind(Kind.SERVICE)
        presence = {
            "aws:resourceaccount": z3.BoolVal(True),
            "aws:principalisawsservice": z3.Or(iam, service),
            "aws:principalarn": iam,
            "aws:principalaccount": iam,
            "kms:calleraccount": z3.And(iam, z3.BoolVal(self.service == "kms")),
            "aws:principalservicename": service,
        }
        return presence[name]

    def _derived(self, name: str, spec: KeySpec) -> KeyTerm:
        present = self.derived_presence(name)
        if name == "aws:resourceaccount":
            return KeyTerm(Type.STRING, present, z3.String("resource_account"))
        if name == "aws:principalisawsservice":
            value = z3.If(self.is_kind(Kind.SERVICE), z3.StringVal("true"), z3.StringVal("false"))
            return KeyTerm(Type.BOOL, present, value)
        arn, account = self.principal_strings()
        value = account if name in ("aws:principalaccount", "kms:calleraccount") else arn
        return KeyTerm(Type.STRING, present, value)

    def modelled(self, name: str) -> KeyTerm:
        """A key the caller knows is modelled in this request (a design key, not a policy's)."""
        term = self.key(name)
        if term is None:
            raise KeyError(f"{name} is not modelled in this request")
        return term

    def context_key(self, context_key: str) -> KeyTerm:
        term = self.key(ENCRYPTION_CONTEXT_PREFIX + context_key.lower())
        assert term is not None
        return term

    def tracked_context_keys(self) -> list[str]:
        return [k[len(ENCRYPTION_CONTEXT_PREFIX) :] for k in self.keys if k.startswith(ENCRYPTION_CONTEXT_PREFIX)]


def condition_keys(parsed: Iterable[Parsed]) -> tuple[set[str], dict[str, int]]:
    """Every condition key and grant-constraint key the evidence mentions, and how many condition
    entries name each key (a multi-valued key needs at most that many witness values)."""
    keys: set[str] = set()
    counts: dict[str, int] = {}
    for evidence in parsed:
        policies = [evidence.key_policy, *([evidence.bucket_policy] if evidence.bucket_policy else [])]
        policies += [p for ps in evidence.identity.values() for p in ps]
        policies += [*evidence.guardrails.scps, *evidence.guardrails.rcps]
        for policy in policies:
            for statement in policy.statements:
                for condition in statement.conditions:
                    keys.add(condition.key_lower)
                    counts[condition.key_lower] = counts.get(condition.key_lower, 0) + 1
        for grant in evidence.grants:
            for constraint in (grant.context_equals, grant.context_subset):
                keys.update(ENCRYPTION_CONTEXT_PREFIX + k for k in constraint or {})
    return keys, counts


class Encoder:
    """Formulas for what one piece of evidence decides about a ``SymbolicRequest``."""

    def __init__(self, request: SymbolicRequest, parsed: Parsed, *, resource_account: str, tag: str = "") -> None:
        self.r = request
        self.parsed = parsed
        self.tag = tag
        self.unknowns: list[Unknown] = []
        self.resource_account = resource_account
        self._resource_account_fixed = False

    # -- unknowns ---------------------------------------------------------------------------------

    def unknown(self, reason: str, *, effect: Effect, positive: bool = True) -> Bool:
        """A fresh boolean for something not modelled.

        ``positive``: True makes the enclosing statement match more. In an Allow that widens access,
        in a Deny it narrows it.
        """
        var = z3.Bool(f"unknown{self.tag}[{len(self.unknowns)}]")
        self.unknowns.append(Unknown(var, reason, widens_access=(effect is Effect.ALLOW) == positive))
        return var

    # -- statements -------------------------------------------------------------------------------

    def _action(self, statement: Statement) -> Bool:
        domain = self.r.action_domain
        if domain is not None:
            hits = [a for a in domain if any(action_match(p, a) for p in statement.actions)]
            matched = z3.Or(*(self.r.action == z3.StringVal(a) for a in hits)) if hits else z3.BoolVal(False)
        else:
            matched = z3.Or(
                *(
                    self.r.action == z3.StringVal(p)
                    if "*" not in p and "?" not in p
                    else z3.InRe(self.r.action, glob_re(p))
                    for p in statement.actions
                )
            )
        return z3.Not(matched) if statement.not_action else matched

    def _resource_pattern(self, pattern: str, statement: Statement, positive: bool) -> Bool:
        if self.r.resource_value is not None:
            fixed = resource_match(pattern, self.r.resource_value)
            if fixed is not None:
                return z3.BoolVal(fixed)
            return self.unknown(
                f"{statement.label}: Resource {pattern!r} (wildcards across ARN segments)",
                effect=statement.effect,
                positive=positive,
            )
        if "${" in pattern:
            return self.unknown(
                f"{statement.label}: policy variable in Resource {pattern!r}",
                effect=statement.effect,
                positive=positive,
            )
        if pattern == "*":
            return z3.BoolVal(True)
        segmented = arn_re(pattern)
        flat = string_matches(self.r.resource, pattern)
        if segmented is None:
            doubt = self.unknown(
                f"{statement.label}: Resource {pattern!r} is not an ARN", effect=statement.effect, positive=positive
            )
            return z3.And(flat, doubt)
        seg = z3.InRe(self.r.resource, segmented)
        segments = arn_segments(pattern)
        assert segments is not None
        if not any(c in s for s in segments[:5] for c in "*?"):
            return flat
        doubt = self.unknown(
            f"{statement.label}: Resource {pattern!r} (do wildcards cross ARN segments?)",
            effect=statement.effect,
            positive=positive,
        )
        return z3.Or(seg, z3.And(flat, doubt))

    def _resource(self, statement: Statement) -> Bool:
        positive = not statement.not_resource
        matched = z3.Or(*(self._resource_pattern(p, statement, positive) for p in statement.resources))
        return z3.Not(matched) if statement.not_resource else matched

    def condition(self, condition: Condition, statement: Statement) -> Bool:
        effect = statement.effect
        where = f"{statement.label}: {condition.describe()}"
        if condition.unsupported:
            return self.unknown(f"{statement.label}: {condition.unsupported}", effect=effect)
        if self._principal_arn_equality(condition):
            # Decided per candidate, without building the principal's ARN as a string.
            present = self.r.is_kind(*ACCOUNT_KINDS)
            hit = z3.Or(*(self.r.principal_arn_is(v) for v in condition.values))
            matched = z3.Not(hit) if condition.negated else hit
            return z3.If(present, matched, z3.BoolVal(condition.if_exists or condition.negated))
        like = self._principal_arn_pattern(condition)
        if like is not None:
            present = self.r.is_kind(*ACCOUNT_KINDS)
            hit = z3.Or(*like)
            matched = z3.Not(hit) if condition.negated else hit
            return z3.If(present, matched, z3.BoolVal(condition.if_exists or condition.negated))
        if condition.family is Family.NULL and condition.key_lower in DERIVED_KEYS:
            # Whether a key derived from the principal exists depends on its kind only.
            return self._null(condition, self.r.derived_presence(condition.key_lower))
        term = self.r.key(condition.key_lower)
        if term is None:
            return self.unknown(f"{where}: condition key {condition.key} is not modelled", effect=effect)
        if condition.key_lower == "aws:resourceaccount":
            self._fix_resource_account(term)
        if condition.family is Family.NULL:
            return self._null(condition, term.present)
        numeric_key = term.type is Type.NUMERIC
        if (condition.family is Family.NUMERIC) != numeric_key:
            return self.unknown(f"{where}: operator family does not fit the key's type", effect=effect)

        def satisfied(value: Expr) -> Bool:
            hits = [self._one(condition, value, expected) for expected in condition.values]
            matched = z3.Or(*hits)
            return z3.Not(matched) if condition.negated else matched

        absent_value = z3.BoolVal(condition.if_exists or condition.negated)
        if condition.qualifier is Qualifier.NONE:
            if term.type is Type.SET:
                return self.unknown(f"{where}: single-valued operator on a multi-valued key", effect=effect)
            return z3.If(term.present, satisfied(term.value), absent_value)
        slots = term.slots if term.type is Type.SET else [(term.present, term.value)]
        if condition.qualifier is Qualifier.ANY:
            some = z3.Or(*(z3.And(p, satisfied(v)) for p, v in slots))
            return z3.Or(some, z3.And(z3.Not(term.present), z3.BoolVal(condition.if_exists)))
        return z3.And(*(z3.Implies(p, satisfied(v)) for p, v in slots))

    @staticmethod
    def _null(condition: Condition, present: Bool) -> Bool:
        wanted = {v.lower() for v in condition.values}
        return z3.Or(
            z3.And(z3.BoolVal("true" in wanted), z3.Not(present)),
            z3.And(z3.BoolVal("false" in wanted), present),
        )

    def _principal_arn_pattern(self, condition: Condition) -> list[Bool] | None:
        """``aws:PrincipalArn`` against wildcard patterns (ArnLike, ArnEquals, StringLike and their
        negations), decided per candidate principal (``principal_arn_like``); None for the other
        operators (the string encoding)."""
        if condition.key_lower != "aws:principalarn" or condition.qualifier is not Qualifier.NONE:
            return None
        if condition.family is Family.ARN:
            segmented = True
        elif condition.family is Family.STRING and condition.base in ("StringLike", "StringNotLike"):
            segmented = False
        else:
            return None
        return [self.r.principal_arn_like(value, segmented=segmented) for value in condition.values]

    @staticmethod
    def _principal_arn_equality(condition: Condition) -> bool:
        """An exact (wildcard-free) comparison of ``aws:PrincipalArn``: decided per candidate principal."""
        exact = condition.family is Family.ARN or (
            condition.family is Family.STRING and condition.base in ("StringEquals", "StringNotEquals")
        )
        return (
            exact
            and condition.key_lower == "aws:principalarn"
            and condition.qualifier is Qualifier.NONE
            and all("*" not in v and "?" not in v for v in condition.values)
        )

    def _one(self, condition: Condition, value: Expr, expected: str) -> Bool:
        base = condition.base
        if condition.family is Family.STRING:
            if base.endswith("IgnoreCase"):
                return z3.InRe(value, literal_re(expected, ignore_case=True))
            if base.endswith("Like"):
                return string_matches(value, expected)
            return value == z3.StringVal(expected)
        if condition.family is Family.ARN:
            if "*" not in expected and "?" not in expected and arn_segments(expected) is not None:
                # Without wildcards, six components equal one by one is the whole string equal: an
                # equality z3 decides far faster than membership in the segment-wise regex.
                return value == z3.StringVal(expected)
            regex = arn_re(expected)
            return z3.BoolVal(False) if regex is None else z3.InRe(value, regex)
        if condition.family is Family.BOOL:
            return value == z3.StringVal(expected.lower())
        number = z3.RealVal(str(Decimal(expected.strip())))
        return {
            "NumericEquals": value == number,
            "NumericNotEquals": value == number,
            "NumericLessThan": value < number,
            "NumericLessThanEquals": value <= number,
            "NumericGreaterThan": value > number,
            "NumericGreaterThanEquals": value >= number,
        }[base]

    def _fix_resource_account(self, term: KeyTerm) -> None:
        if not self._resource_account_fixed:
            self.r.constraints.append(term.value == z3.StringVal(self.resource_account))
            self._resource_account_fixed = True

    def body(self, statement: Statement) -> Bool:
        if not statement.effective:
            return z3.BoolVal(False)
        conditions = [self.condition(c, statement) for c in statement.conditions]
        if statement.doubt:
            conditions.append(self.unknown(statement.doubt, effect=statement.effect))
        return z3.And(self._action(statement), self._resource(statement), *conditions)

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
