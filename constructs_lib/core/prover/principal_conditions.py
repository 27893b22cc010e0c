"""What a principal's account, organization and ARN match: the questions conditions such as
``aws:PrincipalAccount``, ``aws:PrincipalOrgID`` and ``aws:PrincipalArn`` ask of the candidates.
"""

from __future__ import annotations

import functools

import z3

from constructs_lib.core.prover.match import (
    arn_match,
    arn_segments,
    glob_match,
    glob_residuals,
    segment_match,
)
from constructs_lib.core.prover.organizations import (
    is_service_linked_role,
)
from constructs_lib.core.prover.parse import (
    ACCOUNT_KINDS,
    Kind,
)
from constructs_lib.core.prover.principals import PrincipalRequest
from constructs_lib.core.prover.strings import (
    Bool,
    glob_re,
    has_service_linked_path,
    regexes,
    string_matches,
)


class PrincipalConditions(PrincipalRequest):
    """Account, organization and ARN matching over the candidate principals."""

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
                self._link(c.service_linked, functools.partial(has_service_linked_path, c.name))
                cases.append(z3.And(self.principal == i, c.service_linked))
            self._service_linked = z3.Or(*cases) if cases else z3.BoolVal(False)
        return self._service_linked

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
