"""The prover's vocabulary: requests, decisions, verdicts, the design and the evidence.

Everything here is plain immutable data, so that a result can be printed, compared in tests and
handed to the CDK synth, the ``recordings-kms`` command or a JSON report without the solver.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

ContextValue = str | tuple[str, ...]

_ACCOUNT = re.compile(r"^[0-9]{12}$")
ADMIN_MODES = ("rfd", "separated")
#: ``KeyMetadata.KeyManager`` as DescribeKey reports it; RCPs do not apply to AWS managed keys.
KEY_MANAGERS = ("CUSTOMER", "AWS")


class PolicyFormatError(ValueError):
    """A policy, grant or request is not well-formed JSON of the expected shape (one-line message)."""


class Decision(StrEnum):
    """The outcome of one concrete request."""

    EXPLICIT_DENY = "EXPLICIT_DENY"
    ALLOWED = "ALLOWED"
    IMPLICIT_DENY = "IMPLICIT_DENY"
    #: The outcome depends on something the evaluator does not model (an unsupported operator or
    #: principal, or an identity policy that was not supplied).
    UNKNOWN = "UNKNOWN"


class Verdict(StrEnum):
    PASS = "PASS"  # noqa: S105
    FAIL = "FAIL"
    CANNOT_PROVE = "CANNOT-PROVE"


def _frozen_context(context: Mapping[str, Any]) -> Mapping[str, ContextValue]:
    frozen: dict[str, ContextValue] = {}
    for key, value in context.items():
        if isinstance(value, str):
            frozen[key] = value
        elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            frozen[key] = tuple(value)
        else:
            raise PolicyFormatError(f"context value of {key} must be a string or a list of strings: {value!r}")
    return MappingProxyType(frozen)


@dataclass(frozen=True)
class Request:
    """One request: who, which action, on what, with which condition keys present.

    ``principal`` is an IAM role ARN (standing for every session of the role: ``aws:PrincipalArn``
    is the role ARN), an IAM user ARN, an account root ARN (``arn:aws:iam::ACCOUNT:root``: the
    account's root user), a service principal (``s3.amazonaws.com``) or ``anonymous``. ``context``
    holds the condition keys present in the request; a key not in it is absent. Keys derived from
    the principal (``aws:PrincipalArn``, ``aws:PrincipalAccount``, ``kms:CallerAccount``...) are
    filled in by the evaluator.
    """

    principal: str
    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "context", _frozen_context(self.context))

    def __hash__(self) -> int:
        return hash((self.principal, self.action, self.resource, tuple(sorted(self.context.items()))))

    def describe(self) -> str:
        """One readable line, keys sorted so that the same request always reads the same."""
        parts = []
        for key in sorted(self.context, key=str.lower):
            value = self.context[key]
            shown = "[" + ", ".join(value) + "]" if isinstance(value, tuple) else value
            parts.append(f"{key}={shown}")
        context = "; ".join(parts) if parts else "no condition keys"
        return f"{self.principal} {self.action} on {self.resource} ({context})"


@dataclass(frozen=True)
class TrustedPrincipal:
    """Who the auth role's trust policy lets assume it (``prover.trust``, T1): one principal of a kind.

    ``kind`` is a trust policy's principal type (``Service``, ``Federated`` or ``AWS``); ``session_tags``:
    it must also be allowed ``sts:TagSession`` (EKS Pod Identity tags its sessions).
    """

    kind: str
    value: str
    session_tags: bool = False


@dataclass(frozen=True)
class Design:
    """The design parameters the properties are judged against."""

    account: str
    region: str
    key_arn: str
    key_id: str
    bucket_name: str
    auth_role_arn: str
    partition: str = "aws"
    #: Teleport writes under ``bucket/prefix/...``.
    prefix: str = "records"
    #: Decrypt-only readers (kms:Decrypt through S3, and kms:DescribeKey).
    reader_arns: tuple[str, ...] = ()
    admin_arns: tuple[str, ...] = ()
    #: ``rfd``: key administrators get ``kms:*`` and may decrypt; ``separated``: administration only.
    admin_mode: str = "rfd"
    #: The CloudFormation execution role: key administration, never cryptography.
    deploy_role_arn: str | None = None
    scope_key_to_s3: bool = True
    #: What Teleport sends as ``SSEKMSKeyId``; the key ARN when None.
    sse_kms_key: str | None = None
    # -- the organization guardrails (G1-G4) and the facts their conditions read ----------------------
    #: The one service the auth role may be passed to (``iam:PassedToService``): the service its trust
    #: names, such as ``ec2.amazonaws.com``. None: it may be passed to no service.
    auth_role_service: str | None = None
    #: Break-glass principals: the guardrails exempt them and the deploy role (by ``aws:PrincipalArn``).
    break_glass_arns: tuple[str, ...] = ()
    #: The key's aliases (``kms:ResourceAliases``, such as ``alias/teleport-recordings``); None when
    #: unknown, which leaves conditions on that key unknown in "does it still work" questions.
    key_aliases: tuple[str, ...] | None = None
    #: The organization (``o-...``): its principals carry it as ``aws:PrincipalOrgID``. None when
    #: unknown (conditions on the key stay unknown where it matters; G4 cannot be decided).
    organization_id: str | None = None
    #: Every account of the organization, the management account included. A principal of any other
    #: account is outside it: no ``aws:PrincipalOrgID``, or another organization's.
    organization_accounts: tuple[str, ...] = ()
    # -- S3 replication (docs/REPLICATION.md; prover/replication.py) ------------------------------------
    #: The role S3 replicates with; None: no replication. P1 (``prover.replication.prove``) then allows it
    #: ``replication_key_actions`` on this key through S3 for this bucket's recordings, and nothing else.
    replication_role_arn: str | None = None
    #: What S3 does with this key for the role: ``kms:Decrypt`` on the source, ``kms:Encrypt``,
    #: ``kms:GenerateDataKey`` and ``kms:Decrypt`` (S3 Bucket Keys) on the replica.
    replication_key_actions: tuple[str, ...] = ()
    # -- the organization layout (docs/ORGANIZATION.md) ----------------------------------------------
    #: The other clusters' auth roles and readers, which share this key and bucket: P1 counts them among
    #: the key's users (each is judged as auth role or reader in its own cluster's design), and P7 proves
    #: that none of them reaches this cluster's recordings. Empty: one cluster, as before.
    peer_arns: tuple[str, ...] = ()
    #: ``clusterIsolation=key``: this key is the cluster's own. P1 then counts no peer among its users, P6
    #: judges the key header under this cluster's prefix (other prefixes have keys of their own), and P7
    #: also proves that no peer can call any ``kms:`` action on it. False: one key shared by every cluster.
    key_per_cluster: bool = False
    #: The principals the guardrails leave free on the auth role when they are not those of the key and the
    #: bucket: a cluster role of a workload account has that account's break-glass principals and the role its
    #: stack deploys with. None: ``guardrail_exempt_arns``, as in one account.
    auth_role_exempt_arns: tuple[str, ...] | None = None
    #: Who may assume the auth role (T1, ``prover.trust``); None: its trust is not judged.
    auth_trusted: TrustedPrincipal | None = None

    def __post_init__(self) -> None:
        if not _ACCOUNT.match(self.account):
            raise ValueError(f"account must be 12 digits: {self.account!r}")
        if self.admin_mode not in ADMIN_MODES:
            raise ValueError(f"admin_mode must be one of {ADMIN_MODES}: {self.admin_mode!r}")
        if not self.key_arn.startswith(f"arn:{self.partition}:kms:") or not self.key_arn.endswith(f"/{self.key_id}"):
            raise ValueError(f"key_arn {self.key_arn!r} is not the ARN of key {self.key_id!r}")
        object.__setattr__(self, "prefix", self.prefix.strip("/"))
        object.__setattr__(self, "reader_arns", tuple(self.reader_arns))
        object.__setattr__(self, "admin_arns", tuple(self.admin_arns))
        object.__setattr__(self, "break_glass_arns", tuple(self.break_glass_arns))
        object.__setattr__(self, "organization_accounts", tuple(self.organization_accounts))
        object.__setattr__(self, "replication_key_actions", tuple(self.replication_key_actions))
        if self.replication_key_actions and self.replication_role_arn is None:
            raise ValueError("replication_key_actions without replication_role_arn: name the replication role too")
        object.__setattr__(self, "peer_arns", tuple(self.peer_arns))
        if self.auth_role_exempt_arns is not None:
            object.__setattr__(self, "auth_role_exempt_arns", tuple(self.auth_role_exempt_arns))
        if self.key_aliases is not None:
            object.__setattr__(self, "key_aliases", tuple(self.key_aliases))
            bad = [a for a in self.key_aliases if not a.startswith("alias/")]
            if bad:
                raise ValueError(f"key_aliases are full alias names such as 'alias/teleport-recordings': {bad}")
        bad_accounts = [a for a in self.organization_accounts if not _ACCOUNT.match(a)]
        if bad_accounts:
            raise ValueError(f"organization_accounts must be 12-digit account ids: {bad_accounts}")
        if self.organization_accounts and self.organization_id is None:
            raise ValueError("organization_accounts without organization_id: name the organization too")

    @property
    def guardrail_exempt_arns(self) -> tuple[str, ...]:
        """The principals the guardrails leave free: the break-glass principals and the deploy role."""
        deploy = (self.deploy_role_arn,) if self.deploy_role_arn else ()
        return tuple(dict.fromkeys((*self.break_glass_arns, *deploy)))

    @property
    def auth_role_guardrail_exempt_arns(self) -> tuple[str, ...]:
        """The principals the guardrails leave free on the auth role (``auth_role_exempt_arns``)."""
        return self.guardrail_exempt_arns if self.auth_role_exempt_arns is None else self.auth_role_exempt_arns

    @property
    def bucket_arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.bucket_name}"

    @property
    def objects_arn_prefix(self) -> str:
        """Every recording's ARN starts with this."""
        return f"{self.bucket_arn}/{self.prefix}/" if self.prefix else f"{self.bucket_arn}/"

    @property
    def via_s3(self) -> str:
        return f"s3.{self.region}.amazonaws.com"

    @property
    def teleport_key_id(self) -> str:
        return self.sse_kms_key if self.sse_kms_key is not None else self.key_arn


@dataclass(frozen=True)
class Evidence:
    """The policies, as AWS returns them (parsed JSON).

    ``identity_policies`` maps a principal ARN to its identity policy documents (attached and
    inline). A principal that is not listed has an unknown identity policy, which the prover takes
    as the worst case for "can anyone do X?" questions: it may allow anything (every real account
    has IAM administrators).
    """

    key_policy: Mapping[str, Any]
    bucket_policy: Mapping[str, Any] | None = None
    grants: Sequence[Mapping[str, Any]] = ()
    identity_policies: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)
    #: Organizations guardrails (docs/PROVER.md, "Organizations guardrails"): service control
    #: policies, which limit what the principals of ``scp_accounts`` can do, and resource control
    #: policies, which limit what anyone can do to the key and the bucket when their account is in
    #: ``rcp_accounts``. Neither ever grants. Every SCP applies to every account of ``scp_accounts``
    #: (the accounts under the SCPs' targets), every RCP to every account of ``rcp_accounts``.
    scps: Sequence[Mapping[str, Any]] = ()
    rcps: Sequence[Mapping[str, Any]] = ()
    scp_accounts: Sequence[str] = ()
    rcp_accounts: Sequence[str] = ()
    #: The organization's management account: SCPs and RCPs never apply to it, even when a target
    #: above it (the root) lists it. Required with any SCP or RCP.
    management_account: str | None = None
    #: The key's ``KeyManager`` (DescribeKey): RCPs do not apply to ``AWS`` managed keys.
    key_manager: str = "CUSTOMER"
    #: The replication role's trust policy (``Design.replication_role_arn``), where the evidence holds the role
    #: (the primary's); None: not judged here (R1 is then not asked).
    replication_trust_policy: Mapping[str, Any] | None = None
    #: The auth role's trust policy (T1 with ``Design.auth_trusted``); None: not judged.
    auth_trust_policy: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class PropertyResult:
    id: str
    title: str
    verdict: Verdict
    #: One line.
    summary: str
    counterexample: Request | None = None
    #: Design findings that are not failures (e.g. the administrators' own escalation paths).
    findings: tuple[str, ...] = ()
    #: Why CANNOT-PROVE: which statement, operator, key or grant constraint was not modelled.
    reasons: tuple[str, ...] = ()
