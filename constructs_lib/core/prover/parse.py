"""Policy JSON and ListGrants entries -> typed statements and grants, with validation.

Malformed input (wrong JSON shapes, unknown statement elements, a missing ``Effect``) raises
``PolicyFormatError`` with a one-line message. Well-formed input that the prover does not model
(an unsupported condition operator, a federated principal, a policy variable...) is kept, marked
with the reason, so that the evaluator answers UNKNOWN and the prover CANNOT-PROVE instead of
guessing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from constructs_lib.core.prover.model import KEY_MANAGERS, PolicyFormatError

_ACCOUNT = re.compile(r"^[0-9]{12}$")
_IAM_ARN = re.compile(r"^arn:(?P<partition>[a-z-]+):iam::(?P<account>[0-9]{12}):(?P<resource>.+)$")
_SESSION_ARN = re.compile(r"^arn:(?P<partition>[a-z-]+):sts::(?P<account>[0-9]{12}):assumed-role/(?P<role>[^/]+)/.+$")
#: An AWS STS federated user session (``GetFederationToken``): IAM User Guide, "IAM JSON policy elements:
#: Principal", "AWS STS federated user session principals"; the name is the caller's (2-32 characters).
_FEDERATED_ARN = re.compile(
    r"^arn:(?P<partition>[a-z-]+):sts::(?P<account>[0-9]{12}):federated-user/(?P<name>[A-Za-z0-9+=,.@_-]+)$"
)
_UNIQUE_ID = re.compile(r"^A[A-Z0-9]{15,}$")
_STATEMENT_ELEMENTS = frozenset(
    {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"}
)
_VERSIONS = frozenset({"2012-10-17", "2008-10-17"})


# --- JSON as AWS might read it ---------------------------------------------------------------------


class JsonObject(dict[str, Any]):
    """A JSON object read by ``load_json``: ``duplicates`` names the keys it held more than once.

    Python's ``json`` keeps the last of duplicate keys; what AWS keeps is not documented (it may keep
    the first), so a statement with a duplicate key has no single reading: ``parse_policy`` refuses it.
    """

    duplicates: tuple[str, ...] = ()


def _json_object(pairs: list[tuple[str, Any]]) -> JsonObject:
    found = JsonObject(pairs)
    if len(found) < len(pairs):
        keys = [key for key, _ in pairs]
        found.duplicates = tuple(dict.fromkeys(k for k in keys if keys.count(k) > 1))
    return found


def load_json(text: str | bytes) -> Any:
    """``json.loads``, remembering duplicate keys (``JsonObject``) for ``parse_policy`` to refuse."""
    return json.loads(text, object_pairs_hook=_json_object)


def _no_duplicates(value: Any, where: str) -> None:
    duplicates = getattr(value, "duplicates", ())
    if duplicates:
        keys = ", ".join(repr(k) for k in duplicates)
        raise PolicyFormatError(
            f"{where} has the key {keys} more than once (AWS may read another of the values than Python's json does)"
        )


# --- principals ------------------------------------------------------------------------------------


class Kind(StrEnum):
    """What a request principal is."""

    ROLE = "role"  # stands for every session of the role
    USER = "user"
    ROOT = "root"  # the root user of an account
    #: An AWS STS federated user session: what ``sts:GetFederationToken`` gives an IAM user or the root
    #: user (``arn:aws:sts::ACCOUNT:federated-user/NAME``, NAME chosen by the caller).
    FEDERATED = "federated-user"
    SERVICE = "service"
    ANONYMOUS = "anonymous"


#: The principals that belong to an account: what a Principal naming the account delegates to, what
#: SCPs govern, what carries ``aws:PrincipalArn`` and ``aws:PrincipalAccount``.
ACCOUNT_KINDS = (Kind.ROLE, Kind.USER, Kind.ROOT, Kind.FEDERATED)


ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Identity:
    """A classified request principal."""

    kind: Kind
    #: The role, user or root ARN; the service principal name; ``anonymous``.
    arn: str
    account: str | None


def classify_principal(principal: str) -> Identity:
    """What a ``Request.principal`` string is; PolicyFormatError when it is none of the supported kinds."""
    if principal == ANONYMOUS:
        return Identity(Kind.ANONYMOUS, ANONYMOUS, None)
    if _ACCOUNT.match(principal):
        raise PolicyFormatError(f"a request principal is an ARN, not a bare account id: {principal}")
    match = _IAM_ARN.match(principal)
    if match:
        resource = match["resource"]
        if resource == "root":
            return Identity(Kind.ROOT, principal, match["account"])
        if resource.startswith("role/") and len(resource) > len("role/"):
            return Identity(Kind.ROLE, principal, match["account"])
        if resource.startswith("user/") and len(resource) > len("user/"):
            return Identity(Kind.USER, principal, match["account"])
    elif federated := _FEDERATED_ARN.match(principal):
        return Identity(Kind.FEDERATED, principal, federated["account"])
    elif re.match(r"^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$", principal):
        return Identity(Kind.SERVICE, principal, None)
    raise PolicyFormatError(
        f"unsupported request principal {principal!r}: use a role, user, root or federated-user ARN, a service "
        "principal or 'anonymous' (a role session is its role's ARN)"
    )


def role_name(role_arn: str) -> str:
    return role_arn.rsplit("/", 1)[-1]


class Ref(StrEnum):
    """What a value of a policy's Principal element (or a grantee) names."""

    EVERYONE = "everyone"
    ACCOUNT = "account"
    ROLE = "role"
    USER = "user"
    SERVICE = "service"
    SESSION = "session"  # one session of a role (assumed-role ARN)
    FEDERATED = "federated-user"  # an AWS STS federated user session
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class PrincipalRef:
    kind: Ref
    #: The ARN, account id, service principal or (for SESSION) the assumed-role ARN.
    value: str
    account: str | None = None
    #: SESSION: the role's name (the assumed-role ARN has no path); UNSUPPORTED: why.
    detail: str = ""


def parse_principal_value(kind: str, value: Any) -> PrincipalRef:
    if not isinstance(value, str):
        raise PolicyFormatError(f"principal values are strings: {value!r}")
    if kind == "Service":
        if "*" in value or "?" in value or not value:
            return PrincipalRef(Ref.UNSUPPORTED, value, detail=f"service principal pattern {value!r}")
        return PrincipalRef(Ref.SERVICE, value.lower())
    if kind == "Federated":
        # Web identity and SAML sessions are role sessions (aws:PrincipalArn is the role's); the IAM User
        # Guide documents a Federated principal for role trust policies only ("Web identity session
        # principals", "SAML session principals").
        return PrincipalRef(
            Ref.UNSUPPORTED, value, detail=f"Federated principal {value!r} (documented for role trust policies only)"
        )
    if kind != "AWS":
        return PrincipalRef(Ref.UNSUPPORTED, value, detail=f"{kind} principal {value!r}")
    if value == "*":
        return PrincipalRef(Ref.EVERYONE, value)
    if _ACCOUNT.match(value):
        return PrincipalRef(Ref.ACCOUNT, value, value)
    if "*" in value or "?" in value:
        return PrincipalRef(Ref.UNSUPPORTED, value, detail=f"wildcard in principal {value!r} (IAM allows only '*')")
    if _UNIQUE_ID.match(value):
        return PrincipalRef(
            Ref.UNSUPPORTED, value, detail=f"principal unique id {value} (a deleted or unresolved principal)"
        )
    match = _IAM_ARN.match(value)
    if match:
        resource = match["resource"]
        if resource == "root":
            return PrincipalRef(Ref.ACCOUNT, value, match["account"])
        if resource.startswith("role/"):
            return PrincipalRef(Ref.ROLE, value, match["account"])
        if resource.startswith("user/"):
            return PrincipalRef(Ref.USER, value, match["account"])
    session = _SESSION_ARN.match(value)
    if session:
        return PrincipalRef(Ref.SESSION, value, session["account"], detail=session["role"])
    federated = _FEDERATED_ARN.match(value)
    if federated:
        return PrincipalRef(Ref.FEDERATED, value, federated["account"])
    return PrincipalRef(Ref.UNSUPPORTED, value, detail=f"principal {value!r}")


def _principal_element(element: Any, name: str) -> tuple[PrincipalRef, ...]:
    if element == "*":
        return (PrincipalRef(Ref.EVERYONE, "*"),)
    if not isinstance(element, Mapping) or not element:
        raise PolicyFormatError(f"{name} must be '*' or an object such as {{'AWS': [...]}}: {element!r}")
    refs: list[PrincipalRef] = []
    _no_duplicates(element, name)
    for kind, values in element.items():
        if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
            raise PolicyFormatError(f"unknown {name} type {kind!r}")
        for value in _as_list(values, f"{name}.{kind}"):
            refs.append(parse_principal_value(kind, value))
    return tuple(refs)


# --- conditions ------------------------------------------------------------------------------------

STRING_OPERATORS = {
    "StringEquals": False,
    "StringNotEquals": True,
    "StringEqualsIgnoreCase": False,
    "StringNotEqualsIgnoreCase": True,
    "StringLike": False,
    "StringNotLike": True,
}
ARN_OPERATORS = {"ArnEquals": False, "ArnLike": False, "ArnNotEquals": True, "ArnNotLike": True}
NUMERIC_OPERATORS = {
    "NumericEquals": False,
    "NumericNotEquals": True,
    "NumericLessThan": False,
    "NumericLessThanEquals": False,
    "NumericGreaterThan": False,
    "NumericGreaterThanEquals": False,
}
#: Operators IAM has that the prover does not model.
UNMODELLED_OPERATORS = frozenset(
    {
        "DateEquals",
        "DateNotEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
        "IpAddress",
        "NotIpAddress",
        "BinaryEquals",
    }
)


class Family(StrEnum):
    STRING = "string"
    ARN = "arn"
    NUMERIC = "numeric"
    BOOL = "bool"
    NULL = "null"


class Qualifier(StrEnum):
    NONE = ""
    ANY = "ForAnyValue"
    ALL = "ForAllValues"


@dataclass(frozen=True)
class Condition:
    """One ``operator: {key: values}`` entry of a Condition block."""

    operator: str
    key: str  # as written
    values: tuple[str, ...]
    #: The base operator (``StringNotLike``), or "" when unsupported.
    base: str = ""
    family: Family = Family.STRING
    negated: bool = False
    if_exists: bool = False
    qualifier: Qualifier = Qualifier.NONE
    #: Why this entry is not modelled ("" when it is).
    unsupported: str = ""

    @property
    def key_lower(self) -> str:
        return self.key.lower()

    def describe(self) -> str:
        values = self.values[0] if len(self.values) == 1 else list(self.values)
        return f"{self.operator} {self.key} {values}"


def _condition_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        # IAM reads JSON numbers as their text.
        return json.dumps(value)
    raise PolicyFormatError(f"condition values are strings, booleans or numbers: {value!r}")


def parse_condition(operator: str, key: str, raw_values: Any) -> Condition:
    values = tuple(_condition_value(v) for v in _as_list(raw_values, f"condition {operator} {key}"))
    if not values:
        raise PolicyFormatError(f"condition {operator} {key} has no values")
    name, qualifier = operator, Qualifier.NONE
    for candidate in (Qualifier.ANY, Qualifier.ALL):
        if name.startswith(candidate.value + ":"):
            name, qualifier = name[len(candidate.value) + 1 :], candidate
    if_exists = name.endswith("IfExists")
    base = name[: -len("IfExists")] if if_exists else name

    def unsupported(reason: str) -> Condition:
        return Condition(operator, key, values, unsupported=reason)

    if any("${" in v for v in values):
        return unsupported(f"policy variable in {operator} {key} values")
    if base in STRING_OPERATORS:
        family, negated = Family.STRING, STRING_OPERATORS[base]
    elif base in ARN_OPERATORS:
        family, negated = Family.ARN, ARN_OPERATORS[base]
    elif base in NUMERIC_OPERATORS:
        family, negated = Family.NUMERIC, NUMERIC_OPERATORS[base]
        for v in values:
            try:
                float(v)
            except ValueError:
                return unsupported(f"{operator} {key}: {v!r} is not a number")
    elif base == "Bool":
        family, negated = Family.BOOL, False
        if any(v.lower() not in ("true", "false") for v in values):
            return unsupported(f"Bool {key}: values other than true/false")
    elif base == "Null":
        if if_exists or qualifier is not Qualifier.NONE:
            return unsupported(f"operator {operator}")
        if any(v.lower() not in ("true", "false") for v in values):
            return unsupported(f"Null {key}: values other than true/false")
        family, negated = Family.NULL, False
    elif base in UNMODELLED_OPERATORS:
        return unsupported(f"condition operator {operator} is not modelled")
    else:
        return unsupported(f"unknown condition operator {operator}")
    return Condition(operator, key, values, base, family, negated, if_exists, qualifier)


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


def _as_list(value: Any, where: str) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, str | int | float | bool):
        return [value]
    raise PolicyFormatError(f"{where}: expected a value or a list, got {type(value).__name__}")


def _strings(value: Any, where: str) -> tuple[str, ...]:
    items = _as_list(value, where)
    if not items or not all(isinstance(i, str) and i for i in items):
        raise PolicyFormatError(f"{where} must be a non-empty string or list of strings")
    return tuple(items)


def _statement(raw: Any, label: str, *, resource_policy: bool, key_policy: bool = False) -> Statement:
    if not isinstance(raw, Mapping):
        raise PolicyFormatError(f"{label} is not a JSON object")
    _no_duplicates(raw, label)
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
        principals = _principal_element(raw.get("NotPrincipal" if not_principal else "Principal"), "Principal")
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
    _no_duplicates(block, f"{label} Condition")
    spellings: dict[str, str] = {}
    for operator, entries in block.items():
        if not isinstance(entries, Mapping) or not entries:
            raise PolicyFormatError(f"{label}: Condition {operator} must map keys to values")
        _no_duplicates(entries, f"{label} Condition {operator}")
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
    _no_duplicates(document, name)
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
    _no_duplicates(value, where)
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
    _no_duplicates(raw, label)
    grantee = raw.get("GranteePrincipal")
    if not isinstance(grantee, str) or not grantee:
        raise PolicyFormatError(f"{label} has no GranteePrincipal")
    operations = raw.get("Operations")
    if not isinstance(operations, list) or not all(isinstance(o, str) and o for o in operations):
        raise PolicyFormatError(f"{label}: Operations must be a list of operation names")
    constraints = raw.get("Constraints") or {}
    if not isinstance(constraints, Mapping):
        raise PolicyFormatError(f"{label}: Constraints must be an object")
    _no_duplicates(constraints, f"{label} Constraints")
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
    if isinstance(values, str) or not all(isinstance(v, str) and _ACCOUNT.match(v) for v in values):
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
    if management is not None and (not isinstance(management, str) or not _ACCOUNT.match(management)):
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
