"""T1: exactly the design's trusted principal can assume the auth role (its trust policy).

Whoever can assume the auth role can read every recording of its prefix, so its trust is part of the
promise. A trust policy is the role's resource policy for ``sts:AssumeRole`` and its kin; T1 judges it
as R1 judges the replication role's (``prover.replication``): an upper bound, since conditions only
narrow an Allow, plus the one case where a condition is what names the principal:

* every Allow that can hand out the role (``ASSUME_ACTIONS``, or a ``NotAction``) admits only the
  design's principal (``Design.auth_trusted``): ``ec2.amazonaws.com``, ``pods.eks.amazonaws.com``, the
  IRSA cluster's OIDC provider, the trusted ARN, or, for EKS Pod Identity role chaining, the Pod Identity
  role. That role may be named directly or as its account's root with ``aws:PrincipalArn`` equal to it
  (``ArnEquals``/``StringEquals``, the form AWS's example uses and that deploys before the role exists:
  EKS User Guide, "Access AWS Resources using EKS Pod Identity Target IAM Roles",
  https://docs.aws.amazon.com/eks/latest/userguide/pod-id-assign-target-role.html). An account root
  without that condition admits every principal of the account whose IAM policy allows it: FAIL.
* and the design's principal is allowed ``sts:AssumeRole`` (``AssumeRoleWithWebIdentity`` for a
  ``Federated`` provider) and, with session tags (EKS Pod Identity), ``sts:TagSession``; without them
  Teleport cannot start. A ``Deny`` in the trust policy is not modelled here: CANNOT-PROVE.

No solver question: the answer is read off the statements' principals, exactly as R1.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from constructs_lib.core.prover.model import Design, Evidence, PropertyResult, Request, TrustedPrincipal, Verdict
from constructs_lib.core.prover.replication import _admitted, _may_assume, _statements

T1 = "T1"
TITLE = "Exactly the design's trusted principal can assume the auth role"
_NAMING_OPERATORS = ("ArnEquals", "StringEquals")
_PRINCIPAL_ARN = "aws:principalarn"


def trusted_principal(
    trust: str,
    *,
    auth_principal: str | None = None,
    oidc_provider_arn: str | None = None,
    pod_identity_role_arn: str | None = None,
) -> TrustedPrincipal | None:
    """The principal the package's trust for ``trust`` (an ``AuthTrust`` value) names; None when unknown."""
    if trust == "ec2":
        return TrustedPrincipal("Service", "ec2.amazonaws.com")
    if trust == "pod-identity":
        if pod_identity_role_arn is not None:
            return TrustedPrincipal("AWS", pod_identity_role_arn, session_tags=True)
        return TrustedPrincipal("Service", "pods.eks.amazonaws.com", session_tags=True)
    if trust == "irsa" and oidc_provider_arn is not None:
        return TrustedPrincipal("Federated", oidc_provider_arn)
    if trust == "principal" and auth_principal is not None:
        return TrustedPrincipal("AWS", auth_principal)
    return None


def _values(value: object) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value] if isinstance(value, list) else []


def _names_only(statement: Mapping[str, Any], role_arn: str) -> bool:
    """Whether the statement's conditions limit ``aws:PrincipalArn`` to ``role_arn`` alone."""
    condition = statement.get("Condition", {})
    if not isinstance(condition, Mapping):
        return False
    for operator in _NAMING_OPERATORS:
        block = condition.get(operator, {})
        if not isinstance(block, Mapping):
            continue
        for key, value in block.items():
            named = _values(value)
            if key.lower() == _PRINCIPAL_ARN and named and all(v.lower() == role_arn.lower() for v in named):
                return True
    return False


def _root_of(role_arn: str) -> tuple[str, str]:
    parts = role_arn.split(":")
    return f"arn:{parts[1]}:iam::{parts[4]}:root", parts[4]


def _is(expected: TrustedPrincipal, kind: str, value: str, statement: Mapping[str, Any]) -> bool:
    """Whether the admitted ``(kind, value)`` of ``statement`` stands for the expected principal alone."""
    if kind != expected.kind:
        return False
    if value.lower() == expected.value.lower():
        return True
    if kind == "AWS" and ":role/" in expected.value:
        root, account = _root_of(expected.value)
        return value in (root, account) and _names_only(statement, expected.value)
    return False


def _actions(statement: Mapping[str, Any]) -> list[str]:
    return [a.lower() for a in _values(statement.get("Action", []))]


def _allows(statement: Mapping[str, Any], action: str) -> bool:
    from fnmatch import fnmatchcase

    return any(fnmatchcase(action.lower(), pattern) for pattern in _actions(statement))


def prove_t1(design: Design, evidence: Evidence) -> PropertyResult:
    expected, trust = design.auth_trusted, evidence.auth_trust_policy
    role = design.auth_role_arn

    def result(verdict: Verdict, summary: str, *, request: Request | None = None, reason: str = "") -> PropertyResult:
        return PropertyResult(T1, TITLE, verdict, summary, counterexample=request, reasons=(reason,) if reason else ())

    if expected is None or trust is None:
        missing = "Design.auth_trusted" if expected is None else "Evidence.auth_trust_policy"
        return result(Verdict.CANNOT_PROVE, f"the auth role's trust was not judged ({missing} is None)", reason=missing)
    assume = "sts:AssumeRoleWithWebIdentity" if expected.kind == "Federated" else "sts:AssumeRole"
    needed = [assume, *(["sts:TagSession"] if expected.session_tags else [])]
    granted: set[str] = set()
    for statement in _statements(trust):
        if statement.get("Effect") == "Deny":
            return result(
                Verdict.CANNOT_PROVE,
                "a Deny in the auth role's trust policy is not modelled",
                reason=f"Deny {statement.get('Sid', '(no Sid)')}",
            )
        if statement.get("Effect") != "Allow" or not _may_assume(statement):
            continue
        if "NotPrincipal" in statement or "NotAction" in statement:
            element = "NotPrincipal" if "NotPrincipal" in statement else "NotAction"
            return result(
                Verdict.CANNOT_PROVE,
                f"an Allow with {element} in the auth role's trust policy",
                reason=f"{element} in {statement.get('Sid', 'a statement')}",
            )
        for kind, value in _admitted(statement.get("Principal")):
            if not _is(expected, kind, value, statement):
                who = "anonymous" if value == "*" else value
                why = (
                    " without aws:PrincipalArn limited to it"
                    if kind == "AWS" and value.endswith(":root") and ":role/" in expected.value
                    else ""
                )
                return result(
                    Verdict.FAIL,
                    f"the trust policy lets {kind} principal {value}{why} assume the auth role (only {expected.kind} "
                    f"{expected.value} may)",
                    request=Request(who, "sts:AssumeRole", role),
                )
            granted.update(a for a in needed if _allows(statement, a))
    lacking = [a for a in needed if a not in granted]
    if lacking:
        return result(
            Verdict.FAIL,
            f"the trust policy does not allow {expected.kind} {expected.value} {' and '.join(lacking)}: Teleport's "
            "auth service cannot get the role's credentials",
            request=Request(expected.value, lacking[0], role),
        )
    return result(Verdict.PASS, f"only {expected.kind} {expected.value} can assume the auth role ({', '.join(needed)})")
