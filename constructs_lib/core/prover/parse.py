"""Policy JSON and ListGrants entries -> typed statements and grants, with validation.

Malformed input (wrong JSON shapes, unknown statement elements, a missing ``Effect``) raises
``PolicyFormatError`` with a one-line message. Well-formed input that the prover does not model
(an unsupported condition operator, a federated principal, a policy variable...) is kept, marked
with the reason, so that the evaluator answers UNKNOWN and the prover CANNOT-PROVE instead of
guessing.

The JSON reading is in ``policy_json``, principals in ``policy_principals``, conditions in
``policy_conditions``; statements, policies, grants, guardrails and the evidence as a whole here.
The names stay importable from this module.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from constructs_lib.core.prover.model import KEY_MANAGERS, PolicyFormatError
from constructs_lib.core.prover.policy_conditions import (
    ARN_OPERATORS,
    NUMERIC_OPERATORS,
    STRING_OPERATORS,
    UNMODELLED_OPERATORS,
    Condition,
    Family,
    Qualifier,
    parse_condition,
)
from constructs_lib.core.prover.policy_json import JsonObject, as_list, load_json, no_duplicates
from constructs_lib.core.prover.policy_principals import (
    ACCOUNT_ID,
    ACCOUNT_KINDS,
    ANONYMOUS,
    Identity,
    Kind,
    PrincipalRef,
    Ref,
    classify_principal,
    parse_principal_value,
    principal_element,
    role_name,
)

__all__ = [
    "ACCOUNT_KINDS",
    "ANONYMOUS",
    "ARN_OPERATORS",
    "NUMERIC_OPERATORS",
    "STRING_OPERATORS",
    "UNMODELLED_OPERATORS",
    "Condition",
    "Effect",
    "Family",
    "Grant",
    "Guardrails",
    "Identity",
    "JsonObject",
    "Kind",
    "Parsed",
    "Policy",
    "PrincipalRef",
    "Qualifier",
    "Ref",
    "Statement",
    "classify_principal",
    "load_json",
    "parse_condition",
    "parse_evidence",
    "parse_grant",
    "parse_grants",
    "parse_guardrails",
    "parse_policy",
    "parse_principal_value",
    "role_name",
]

_STATEMENT_ELEMENTS = frozenset(
    {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"}
)
_VERSIONS = frozenset({"2012-10-17", "2008-10-17"})


# --- statements ------------------------------------------------------------------------------------


class Effect(StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"


@dataclass(frozen=True)
class Statement:
    """One statement; ``principals`` is None in identity policies (no Principal element)."""

    label: str
    effect: Effect
    principals: tuple[PrincipalRef, ...] | None
    not_principal: bool
    #: Lower-cased action patterns.
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    conditions: tuple[Condition, ...]
    #: KMS: "If either of the required Resource or Action elements are missing from a key policy
    #: statement, the policy statement has no effect" (PutKeyPolicy API reference).
    effective: bool = True
    #: Why the statement may not take effect as IAM's grammar reads it ("" when it does): a key-policy
    #: statement with NotAction or NotResource has no Action or no Resource element.
    doubt: str = ""


@dataclass(frozen=True)
class Policy:
    name: str
    statements: tuple[Statement, ...]


def _strings(value: Any, where: str) -> tuple[str, ...]:
    items = as_list(value, where)
    if not items or not all(isinstance(i, str) and i for i in items):
        raise PolicyFormatError(f"{where} must be a non-empty string or list of strings")
    return tuple(items)


def _statement(raw: Any, label: str, *, resource_policy: bool, key_policy: bool = False) -> Statement:
    if not isinstance(raw, Mapping):
        raise PolicyFormatError(f"{label} is not a JSON object")
    no_duplicates(raw, label)
    extra = set(raw) - _STATEMENT_ELEMENTS
    if extra:
        raise PolicyFormatError(f"{label}: unknown element(s) {', '.join(sorted(extra))}")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyFormatError(f"{label}: Effect must be 'Allow' or 'Deny', got {effect!r}")
    for a, b in (("Principal", "NotPrincipal"), ("Action", "NotAction"), ("Resource", "NotResource")):
        if a in raw and b in raw:
            raise PolicyFormatError(f"{label} has both {a} and {b}")
    principals: tuple[PrincipalRef, ...] | None = None
    not_principal = "NotPrincipal" in raw
    if resource_policy:
        if "Principal" not in raw and not not_principal:
            raise PolicyFormatError(f"{label}: a resource policy statement needs Principal or NotPrincipal")
        principals = principal_element(raw.get("NotPrincipal" if not_principal else "Principal"), "Principal")
    elif "Principal" in raw or not_principal:
        raise PolicyFormatError(f"{label}: an identity policy or SCP statement has no Principal")
    effective = ("Action" in raw or "NotAction" in raw) and ("Resource" in raw or "NotResource" in raw)
    not_action = "NotAction" in raw
    actions = tuple(
        a.lower() for a in _strings(raw.get("NotAction" if not_action else "Action", "*"), f"{label} Action")
    )
    not_resource = "NotResource" in raw
    resources = _strings(raw.get("NotResource" if not_resource else "Resource", "*"), f"{label} Resource")
    conditions: list[Condition] = []
    block = raw.get("Condition", {})
    if not isinstance(block, Mapping):
        raise PolicyFormatError(f"{label}: Condition must be an object")
    no_duplicates(block, f"{label} Condition")
    spellings: dict[str, str] = {}
    for operator, entries in block.items():
        if not isinstance(entries, Mapping) or not entries:
            raise PolicyFormatError(f"{label}: Condition {operator} must map keys to values")
        no_duplicates(entries, f"{label} Condition {operator}")
        for key, values in entries.items():
            spelt = spellings.setdefault(str(key).lower(), str(key))
            if spelt != key:
                # IAM Access Analyzer, "Error - Duplicate keys with different case": a condition block
                # must not name one key twice with different capitalization.
                raise PolicyFormatError(
                    f"{label}: the condition key {key} appears as {spelt} too (different capitalization in one "
                    "Condition block is an error: IAM Access Analyzer, 'Duplicate keys with different case')"
                )
            conditions.append(parse_condition(str(operator), str(key), values))
    doubt = ""
    if key_policy and (not_action or not_resource):
        # The KMS Developer Guide lists Action and Resource as key-policy elements, and the PutKeyPolicy
        # API reference says a statement missing either "has no effect": whether KMS reads NotAction and
        # NotResource as IAM's grammar does is not documented.
        element = "NotAction" if not_action else "NotResource"
        doubt = f"{label}: {element} in a key policy (KMS documents Action and Resource only)"
    return Statement(
        label=label,
        effect=Effect(effect),
        principals=principals,
        not_principal=not_principal,
        actions=actions,
        not_action=not_action,
        resources=resources,
        not_resource=not_resource,
        conditions=tuple(conditions),
        effective=effective,
        doubt=doubt,
    )


def parse_policy(document: Any, name: str, *, resource_policy: bool, key_policy: bool = False) -> Policy:
    """A policy document (dict, or its JSON text) as typed statements (``key_policy``: a KMS key policy)."""
    if isinstance(document, str):
        try:
            document = load_json(document)
        except json.JSONDecodeError as error:
            raise PolicyFormatError(f"{name} is not JSON: {error.msg} (line {error.lineno})") from None
    if not isinstance(document, Mapping):
        raise PolicyFormatError(f"{name} is not a JSON object")
    no_duplicates(document, name)
    version = document.get("Version")
    if version is not None and version not in _VERSIONS:
        raise PolicyFormatError(f"{name}: unknown Version {version!r}")
    extra = set(document) - {"Version", "Id", "Statement"}
    if extra:
        raise PolicyFormatError(f"{name}: unknown element(s) {', '.join(sorted(extra))}")
    if "Statement" not in document:
        raise PolicyFormatError(f"{name} has no Statement")
    raw = document["Statement"]
    raws = raw if isinstance(raw, list) else [raw]
    statements = []
    for index, item in enumerate(raws):
        sid = item.get("Sid") if isinstance(item, Mapping) else None
        label = f"{name} statement {sid!r}" if isinstance(sid, str) and sid else f"{name} statement #{index + 1}"
        statements.append(_statement(item, label, resource_policy=resource_policy, key_policy=key_policy))
    return Policy(name, tuple(statements))


# --- grants ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    label: str
    grantee: PrincipalRef
    #: Lower-cased IAM actions (``kms:decrypt``).
    actions: frozenset[str]
    #: Operation names as listed (``Decrypt``), for CreateGrant's subset rule.
    operations: frozenset[str]
    #: Encryption context constraints with lower-cased keys (keys are case-insensitive in grant
    #: constraints, values case-sensitive: GrantConstraints API reference).
    context_equals: Mapping[str, str] | None
    context_subset: Mapping[str, str] | None
    unsupported: str = ""


def _context_map(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise PolicyFormatError(f"{where} must map strings to strings")
    no_duplicates(value, where)
    lowered: dict[str, str] = {}
    for k, v in value.items():
        if k.lower() in lowered:
            raise PolicyFormatError(f"{where} has keys differing only by case: {k!r}")
        lowered[k.lower()] = v
    return lowered


def parse_grant(raw: Any, index: int) -> Grant:
    """One entry of ``ListGrants()["Grants"]``."""
    if not isinstance(raw, Mapping):
        raise PolicyFormatError(f"grant #{index + 1} is not a JSON object")
    grant_id = raw.get("GrantId")
    label = f"grant {grant_id}" if isinstance(grant_id, str) and grant_id else f"grant #{index + 1}"
    no_duplicates(raw, label)
    grantee = raw.get("GranteePrincipal")
    if not isinstance(grantee, str) or not grantee:
        raise PolicyFormatError(f"{label} has no GranteePrincipal")
    operations = raw.get("Operations")
    if not isinstance(operations, list) or not all(isinstance(o, str) and o for o in operations):
        raise PolicyFormatError(f"{label}: Operations must be a list of operation names")
    constraints = raw.get("Constraints") or {}
    if not isinstance(constraints, Mapping):
        raise PolicyFormatError(f"{label}: Constraints must be an object")
    no_duplicates(constraints, f"{label} Constraints")
    unknown = set(constraints) - {"EncryptionContextEquals", "EncryptionContextSubset"}
    equals = subset = None
    if "EncryptionContextEquals" in constraints:
        equals = _context_map(constraints["EncryptionContextEquals"], f"{label} EncryptionContextEquals")
    if "EncryptionContextSubset" in constraints:
        subset = _context_map(constraints["EncryptionContextSubset"], f"{label} EncryptionContextSubset")
    ref = parse_principal_value("AWS", grantee)
    if ref.kind is Ref.EVERYONE:
        ref = PrincipalRef(Ref.UNSUPPORTED, grantee, detail="grantee '*'")
    if ref.kind is Ref.ACCOUNT:
        ref = PrincipalRef(
            Ref.UNSUPPORTED, grantee, detail=f"grant to account principal {grantee} (delegation not modelled)"
        )
    unsupported = f"{label}: constraint(s) {', '.join(sorted(unknown))} not modelled" if unknown else ""
    return Grant(
        label=label,
        grantee=ref,
        actions=frozenset(f"kms:{o}".lower() for o in operations),
        operations=frozenset(operations),
        context_equals=equals,
        context_subset=subset,
        unsupported=unsupported,
    )


def parse_grants(grants: Sequence[Any]) -> tuple[Grant, ...]:
    if isinstance(grants, str | bytes) or not isinstance(grants, Sequence):
        raise PolicyFormatError("grants must be the list ListGrants returns under 'Grants'")
    return tuple(parse_grant(g, i) for i, g in enumerate(grants))


# --- organizations guardrails ---------------------------------------------------------------------


@dataclass(frozen=True)
class Guardrails:
    """The SCPs and RCPs of an ``Evidence`` and where they apply (``organizations.py`` has the rules)."""

    scps: tuple[Policy, ...] = ()
    rcps: tuple[Policy, ...] = ()
    #: Accounts whose principals the SCPs restrict: ``Evidence.scp_accounts`` without the
    #: management account, which SCPs never restrict.
    scp_accounts: frozenset[str] = frozenset()
    #: Accounts whose resources the RCPs restrict: ``Evidence.rcp_accounts`` without the management account.
    rcp_accounts: frozenset[str] = frozenset()
    management_account: str | None = None
    aws_managed_key: bool = False

    def __bool__(self) -> bool:
        return bool(self.scps or self.rcps)

    @property
    def accounts(self) -> frozenset[str]:
        """Every account the guardrails' applicability names."""
        named = {self.management_account} if self.management_account else set()
        return frozenset({*self.scp_accounts, *self.rcp_accounts, *named})


def _accounts(values: Sequence[Any], where: str) -> frozenset[str]:
    if isinstance(values, str) or not all(isinstance(v, str) and ACCOUNT_ID.match(v) for v in values):
        raise PolicyFormatError(f"{where} must be a list of 12-digit account ids: {values!r}")
    return frozenset(values)


def _rcp(document: Any, name: str) -> Policy:
    """An RCP: resource-policy shape whose Principal is always ``"*"`` (Organizations, "RCP syntax")."""
    policy = parse_policy(document, name, resource_policy=True)
    for statement in policy.statements:
        everyone = statement.principals is not None and all(r.kind is Ref.EVERYONE for r in statement.principals)
        if statement.not_principal or not everyone:
            raise PolicyFormatError(f'{statement.label}: an RCP statement\'s Principal must be "*" (RCP syntax)')
    return policy


def parse_guardrails(evidence: Any) -> Guardrails:
    """The SCPs (identity-policy shape: no Principal) and RCPs of an ``Evidence``, validated.

    Where they apply must be explicit: SCPs need ``scp_accounts``, RCPs ``rcp_accounts``, and
    either needs ``management_account`` (guardrails never apply there, so a wrong guess would
    be a wrong proof).
    """
    for name in ("scps", "rcps"):
        if isinstance(getattr(evidence, name), Mapping | str):
            raise PolicyFormatError(f"{name} must be a list of policy documents")
    scps = tuple(parse_policy(d, f"SCP {i + 1}", resource_policy=False) for i, d in enumerate(evidence.scps))
    rcps = tuple(_rcp(d, f"RCP {i + 1}") for i, d in enumerate(evidence.rcps))
    scp_accounts = _accounts(evidence.scp_accounts, "scp_accounts")
    rcp_accounts = _accounts(evidence.rcp_accounts, "rcp_accounts")
    if scps and not scp_accounts:
        raise PolicyFormatError("SCPs were supplied without scp_accounts: name the accounts they apply to")
    if rcps and not rcp_accounts:
        raise PolicyFormatError("RCPs were supplied without rcp_accounts: name the accounts they apply to")
    management = evidence.management_account
    if management is not None and (not isinstance(management, str) or not ACCOUNT_ID.match(management)):
        raise PolicyFormatError(f"management_account must be a 12-digit account id: {management!r}")
    if (scps or rcps) and management is None:
        raise PolicyFormatError("SCPs or RCPs were supplied without management_account (they never apply there)")
    if evidence.key_manager not in KEY_MANAGERS:
        raise PolicyFormatError(f"key_manager must be one of {KEY_MANAGERS}: {evidence.key_manager!r}")
    return Guardrails(
        scps=scps,
        rcps=rcps,
        scp_accounts=scp_accounts - {management},
        rcp_accounts=rcp_accounts - {management},
        management_account=management,
        aws_managed_key=evidence.key_manager == "AWS",
    )


# --- the evidence as a whole -----------------------------------------------------------------------


@dataclass(frozen=True)
class Parsed:
    key_policy: Policy
    bucket_policy: Policy | None
    grants: tuple[Grant, ...]
    #: Lower-cased principal ARN -> its identity policies.
    identity: Mapping[str, tuple[Policy, ...]]
    #: Lower-cased principal ARN -> the ARN as the evidence spells it.
    identity_names: Mapping[str, str] = field(default_factory=dict)
    guardrails: Guardrails = field(default_factory=Guardrails)


def parse_evidence(evidence: Any) -> Parsed:
    """Parse and validate every document of an ``Evidence``."""
    key_policy = parse_policy(evidence.key_policy, "key policy", resource_policy=True, key_policy=True)
    bucket_policy = (
        None
        if evidence.bucket_policy is None
        else parse_policy(evidence.bucket_policy, "bucket policy", resource_policy=True)
    )
    identity: dict[str, tuple[Policy, ...]] = {}
    names: dict[str, str] = {}
    for arn, documents in evidence.identity_policies.items():
        if arn.lower() in identity:
            raise PolicyFormatError(
                f"identity_policies names {arn} twice (ARNs differing only by case are one principal)"
            )
        names[arn.lower()] = arn
        if isinstance(documents, Mapping | str):
            raise PolicyFormatError(f"identity_policies[{arn!r}] must be a list of policy documents")
        identity[arn.lower()] = tuple(
            parse_policy(d, f"identity policy {i + 1} of {arn}", resource_policy=False) for i, d in enumerate(documents)
        )
    return Parsed(
        key_policy=key_policy,
        bucket_policy=bucket_policy,
        grants=parse_grants(evidence.grants),
        identity=identity,
        identity_names=names,
        guardrails=parse_guardrails(evidence),
    )
