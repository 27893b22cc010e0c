"""The condition keys the solver models, and where their values come from.

A condition on any other key becomes an unknown (CANNOT-PROVE where it matters). The concrete
evaluator reads any key from the request it is given, so it needs no such list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Type(StrEnum):
    STRING = "string"
    BOOL = "bool"
    NUMERIC = "numeric"
    #: Multi-valued (a set of strings): only ``ForAnyValue:``/``ForAllValues:`` operators apply.
    SET = "set"


class Source(StrEnum):
    #: Derived from the principal (``aws:PrincipalArn``...).
    PRINCIPAL = "principal"
    #: Derived from the resource (``aws:ResourceAccount``).
    RESOURCE = "resource"
    #: A parameter of the request the caller chooses (headers, encryption context, transport).
    REQUEST = "request"
    #: A fact about the principal or the key that the evidence does not hold (tags, organization,
    #: aliases): any value in "can anyone..." questions, unknown in "does Teleport still work" ones,
    #: unless the design states it (``Design.organization_id``, ``Design.key_aliases``).
    ENVIRONMENT = "environment"


@dataclass(frozen=True)
class KeySpec:
    type: Type
    source: Source
    #: "kms", "s3" or "iam" when only that service's requests carry the key; "" for global keys.
    service: str = ""


ENCRYPTION_CONTEXT_PREFIX = "kms:encryptioncontext:"
PRINCIPAL_TAG_PREFIX = "aws:principaltag/"

KEYS: dict[str, KeySpec] = {
    "aws:securetransport": KeySpec(Type.BOOL, Source.REQUEST),
    "aws:principalarn": KeySpec(Type.STRING, Source.PRINCIPAL),
    "aws:principalaccount": KeySpec(Type.STRING, Source.PRINCIPAL),
    "aws:principalisawsservice": KeySpec(Type.BOOL, Source.PRINCIPAL),
    "aws:principalservicename": KeySpec(Type.STRING, Source.PRINCIPAL),
    "aws:resourceaccount": KeySpec(Type.STRING, Source.RESOURCE),
    "aws:principalorgid": KeySpec(Type.STRING, Source.ENVIRONMENT),
    "aws:principalorgpaths": KeySpec(Type.SET, Source.ENVIRONMENT),
    # Set by the AWS service that calls on behalf of a resource owner (the confused-deputy key).
    "aws:sourceaccount": KeySpec(Type.STRING, Source.REQUEST),
    "iam:passedtoservice": KeySpec(Type.STRING, Source.REQUEST, "iam"),
    # On a PassRole: the resource the role is passed for (an instance ARN for RunInstances; for
    # AddRoleToInstanceProfile the IAM API reference gives the literal arn:aws:ec2:*:ACCOUNT:instance/*).
    "iam:associatedresourcearn": KeySpec(Type.STRING, Source.REQUEST, "iam"),
    "kms:calleraccount": KeySpec(Type.STRING, Source.PRINCIPAL, "kms"),
    "kms:viaservice": KeySpec(Type.STRING, Source.REQUEST, "kms"),
    "kms:grantoperations": KeySpec(Type.SET, Source.REQUEST, "kms"),
    "kms:granteeprincipal": KeySpec(Type.STRING, Source.REQUEST, "kms"),
    "kms:retiringprincipal": KeySpec(Type.STRING, Source.REQUEST, "kms"),
    "kms:grantisforawsresource": KeySpec(Type.BOOL, Source.REQUEST, "kms"),
    "kms:resourcealiases": KeySpec(Type.SET, Source.ENVIRONMENT, "kms"),
    "s3:tlsversion": KeySpec(Type.NUMERIC, Source.REQUEST, "s3"),
    "s3:x-amz-server-side-encryption": KeySpec(Type.STRING, Source.REQUEST, "s3"),
    "s3:x-amz-server-side-encryption-aws-kms-key-id": KeySpec(Type.STRING, Source.REQUEST, "s3"),
    "s3:x-amz-server-side-encryption-customer-algorithm": KeySpec(Type.STRING, Source.REQUEST, "s3"),
}


def spec_of(key: str) -> KeySpec | None:
    """The model of a (lower-cased) condition key, or None when it is not modelled."""
    if key in KEYS:
        return KEYS[key]
    if key.startswith(ENCRYPTION_CONTEXT_PREFIX) and len(key) > len(ENCRYPTION_CONTEXT_PREFIX):
        return KeySpec(Type.STRING, Source.REQUEST, "kms")
    if key.startswith(PRINCIPAL_TAG_PREFIX) and len(key) > len(PRINCIPAL_TAG_PREFIX):
        return KeySpec(Type.STRING, Source.ENVIRONMENT)
    return None


#: Keys the evaluator derives from the principal and the resource; a request must not contradict them.
DERIVED_KEYS = frozenset(k for k, s in KEYS.items() if s.source in (Source.PRINCIPAL, Source.RESOURCE))


@dataclass
class KeyTerm:
    """A condition key's symbolic presence and value(s)."""

    type: Type
    present: Any  # z3.BoolRef
    value: Any = None
    #: Multi-valued keys: (present, value) slots; the set is the values of the present slots.
    slots: list[tuple[Any, Any]] = field(default_factory=list)
