"""Principal elements and principal ARNs: the kinds of caller the prover models and how a
``Principal``/``NotPrincipal`` value or a request's principal ARN is classified.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from constructs_lib.core.prover.model import PolicyFormatError
from constructs_lib.core.prover.policy_json import as_list, no_duplicates

ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
_IAM_ARN = re.compile(r"^arn:(?P<partition>[a-z-]+):iam::(?P<account>[0-9]{12}):(?P<resource>.+)$")
_SESSION_ARN = re.compile(r"^arn:(?P<partition>[a-z-]+):sts::(?P<account>[0-9]{12}):assumed-role/(?P<role>[^/]+)/.+$")
#: An AWS STS federated user session (``GetFederationToken``): IAM User Guide, "IAM JSON policy elements:
#: Principal", "AWS STS federated user session principals"; the name is the caller's (2-32 characters).
_FEDERATED_ARN = re.compile(
    r"^arn:(?P<partition>[a-z-]+):sts::(?P<account>[0-9]{12}):federated-user/(?P<name>[A-Za-z0-9+=,.@_-]+)$"
)
_UNIQUE_ID = re.compile(r"^A[A-Z0-9]{15,}$")


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
    if ACCOUNT_ID.match(principal):
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
    if ACCOUNT_ID.match(value):
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


def principal_element(element: Any, name: str) -> tuple[PrincipalRef, ...]:
    if element == "*":
        return (PrincipalRef(Ref.EVERYONE, "*"),)
    if not isinstance(element, Mapping) or not element:
        raise PolicyFormatError(f"{name} must be '*' or an object such as {{'AWS': [...]}}: {element!r}")
    refs: list[PrincipalRef] = []
    no_duplicates(element, name)
    for kind, values in element.items():
        if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
            raise PolicyFormatError(f"unknown {name} type {kind!r}")
        for value in as_list(values, f"{name}.{kind}"):
            refs.append(parse_principal_value(kind, value))
    return tuple(refs)
