"""The symbolic request: its principal (``principals``, ``principal_conditions``) and its condition
keys, each present or not and with its value(s), typed from the key catalogue (``keys``).
"""

from __future__ import annotations

from collections.abc import Iterable

import z3

from constructs_lib.core.prover.keys import ENCRYPTION_CONTEXT_PREFIX, KeySpec, KeyTerm, Source, Type, spec_of
from constructs_lib.core.prover.parse import (
    ACCOUNT_KINDS,
    Kind,
    Parsed,
)
from constructs_lib.core.prover.principal_conditions import PrincipalConditions
from constructs_lib.core.prover.principals import TLS_VERSIONS
from constructs_lib.core.prover.strings import Bool, regexes


class SymbolicRequest(PrincipalConditions):
    """The request a query asks about: every field a z3 term, constrained to well-formed values.

    ``service`` (``kms`` or ``s3``) decides which service-specific keys the request can carry.
    ``environment_known`` False turns conditions on ENVIRONMENT keys (tags, organization,
    aliases) into unknowns: used by "does this still work" questions, where picking a value
    would be guessing. The principal is one of ``candidates`` (an integer choice), so that
    matching a Principal element is arithmetic; its ARN and account only become strings when a
    condition reads them.
    """

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
