"""S3 replication in the promise: P1 with the replication role, R1 and R2 (docs/PROVER.md, "Replication").

The replication role is a new principal that can read every recording: S3 assumes it and calls
``kms:Decrypt`` on the primary key (and ``kms:Encrypt``, ``kms:GenerateDataKey``, ``kms:Decrypt`` on the
replica key) for it. The promise allows that and nothing more:

* **P1** (with ``Design.replication_role_arn``): the key policy's statements that name the role allow it
  no more than ONE canonical statement would (:func:`replication_statement`: the role, the replication
  actions, ``kms:ViaService`` = S3 in this region, and this bucket's encryption context, bucket or
  recordings), which ``new_access`` proves for every request; and P1 as before holds for the rest of the
  key policy. Removing Allow statements only takes access away, so together: nobody outside the auth role,
  the readers and (rfd mode) the administrators uses the key, but S3 replicating for the role.
* **R1**: only ``s3.amazonaws.com`` can assume the role (its trust policy; an upper bound, since
  conditions only narrow an Allow). Who may *pass* the role is IAM's (``iam:PassRole``) and the
  guardrails' business, not this property's.
* **R2**: the replication still works: each request S3 makes with the key for the role is allowed
  (both encryption contexts, with and without S3 Bucket Keys).

Every solver question goes through ``properties.prove`` and ``properties.new_access`` (their budgets).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from constructs_lib.core.prover.model import Decision, Design, Evidence, PropertyResult, Request, Verdict

R1, R2 = "R1", "R2"
REPLICATION_PROPERTIES = (R1, R2)
TITLES = {
    R1: "Only S3 can assume the replication role",
    R2: "S3 replication can use the key for this bucket's recordings",
}
S3_SERVICE = "s3.amazonaws.com"
#: What a trust policy's Allow can hand out: the role's sessions, or their attributes.
ASSUME_ACTIONS = (
    "sts:AssumeRole",
    "sts:AssumeRoleWithSAML",
    "sts:AssumeRoleWithWebIdentity",
    "sts:SetContext",
    "sts:SetSourceIdentity",
    "sts:TagSession",
)
CONTEXT_KEY = "kms:EncryptionContext:aws:s3:arn"
SID_CANONICAL = "S3 replication (the prover's bound)"


def replication_statement(design: Design) -> dict[str, Any]:
    """The most the key policy may allow the replication role: the replication actions through S3 in this
    region, for this bucket (S3 Bucket Keys: the bucket ARN) or its recordings (the object ARN)."""
    if design.replication_role_arn is None:
        raise ValueError("the design has no replication role")
    return {
        "Sid": SID_CANONICAL,
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": list(design.replication_key_actions),
        "Resource": "*",
        "Condition": {
            "ArnEquals": {"aws:PrincipalArn": design.replication_role_arn},
            "StringEquals": {"kms:ViaService": design.via_s3},
            "StringLike": {CONTEXT_KEY: [design.bucket_arn, design.objects_arn_prefix + "*"]},
        },
    }


def _statements(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = policy.get("Statement", [])
    return [statements] if isinstance(statements, Mapping) else list(statements)


def _mentions(statement: Mapping[str, Any], arn: str) -> bool:
    """Whether an Allow statement names ``arn`` anywhere (principal or condition), case-insensitively."""
    return statement.get("Effect") == "Allow" and arn.lower() in repr(statement).lower()


def without_role(evidence: Evidence, role_arn: str) -> Evidence:
    """The evidence without the key policy's Allow statements that name the role."""
    kept = [s for s in _statements(evidence.key_policy) if not _mentions(s, role_arn)]
    return replace(evidence, key_policy={**evidence.key_policy, "Statement": kept})


def prove(
    design: Design, evidence: Evidence, properties: Iterable[str] | None = None, *, budget: Any = None
) -> list[PropertyResult]:
    """``properties.prove`` with replication: P1 as the module docstring says, and R1, R2 when asked (by
    default: R2 with a replication role, R1 too when the evidence holds its trust policy)."""
    from constructs_lib.core import prover as package  # looked up at each call, as the gate's tests replace it
    from constructs_lib.core.prover.properties import ALL_PROPERTIES

    prove_base = package.prove
    if properties is None:
        wanted = [*ALL_PROPERTIES, *default_replication_properties(design, evidence)]
    else:
        wanted = list(properties)
    role = design.replication_role_arn
    base = [p for p in wanted if p not in REPLICATION_PROPERTIES and (p != "P1" or role is None)]
    results = {r.id: r for r in prove_base(design, evidence, base, budget=budget)} if base else {}
    if role is not None and "P1" in wanted:
        results["P1"] = prove_p1(design, evidence, budget=budget)
    if R1 in wanted:
        results[R1] = prove_r1(design, evidence)
    if R2 in wanted:
        results[R2] = prove_r2(design, evidence)
    return [results[p] for p in wanted]


def default_replication_properties(design: Design, evidence: Evidence) -> tuple[str, ...]:
    if design.replication_role_arn is None:
        return ()
    return (R1, R2) if evidence.replication_trust_policy is not None else (R2,)


def prove_p1(design: Design, evidence: Evidence, *, budget: Any = None) -> PropertyResult:
    from constructs_lib.core import prover as package
    from constructs_lib.core.prover.properties import TITLES as BASE_TITLES
    from constructs_lib.core.prover.properties import CannotProveError

    prove_base, new_access = package.prove, package.new_access

    role = design.replication_role_arn
    if role is None:
        raise ValueError("the design has no replication role")
    rest = without_role(evidence, role)
    bound = replace(
        rest,
        key_policy={**rest.key_policy, "Statement": [*_statements(rest.key_policy), replication_statement(design)]},
    )
    title = BASE_TITLES["P1"]
    try:
        beyond = new_access(design, bound, evidence, budget=budget)
    except CannotProveError as error:
        return PropertyResult(
            "P1",
            title,
            Verdict.CANNOT_PROVE,
            "the replication role's access could not be bounded",
            reasons=error.reasons,
        )
    if beyond is not None:
        return PropertyResult(
            "P1",
            title,
            Verdict.FAIL,
            f"the key policy lets {beyond.principal} call {beyond.action} outside S3 replication of this bucket's "
            f"recordings (kms:ViaService={design.via_s3} and this bucket's encryption context)",
            counterexample=beyond,
        )
    (result,) = prove_base(design, rest, ["P1"], budget=budget)
    if result.verdict is not Verdict.PASS:
        return result
    actions = ", ".join(design.replication_key_actions)
    return replace(
        result,
        summary=f"{result.summary}; the replication role {role} only {actions} through S3 replication "
        f"(kms:ViaService={design.via_s3}, this bucket's encryption context)",
    )


def prove_r1(design: Design, evidence: Evidence) -> PropertyResult:
    """Every Allow of the trust policy that can hand out the role names ``s3.amazonaws.com`` alone."""
    trust = evidence.replication_trust_policy
    if trust is None:
        return PropertyResult(
            R1,
            TITLES[R1],
            Verdict.CANNOT_PROVE,
            "the evidence holds no trust policy of the replication role",
            reasons=("Evidence.replication_trust_policy is None",),
        )
    for statement in _statements(trust):
        if statement.get("Effect") != "Allow" or not _may_assume(statement):
            continue
        if "NotPrincipal" in statement:
            return PropertyResult(
                R1,
                TITLES[R1],
                Verdict.CANNOT_PROVE,
                "an Allow with NotPrincipal in the trust policy",
                reasons=(f"NotPrincipal in {statement.get('Sid', 'a statement')}",),
            )
        admitted = _admitted(statement.get("Principal"))
        others = [p for p in admitted if p != ("Service", S3_SERVICE)]
        if others:
            kind, who = others[0]
            principal = "anonymous" if who == "*" else who
            return PropertyResult(
                R1,
                TITLES[R1],
                Verdict.FAIL,
                f"the trust policy lets {kind} principal {who} assume the replication role (only {S3_SERVICE} may)",
                counterexample=Request(principal, "sts:AssumeRole", design.replication_role_arn or ""),
            )
    return PropertyResult(R1, TITLES[R1], Verdict.PASS, f"only {S3_SERVICE} can assume the replication role")


def _may_assume(statement: Mapping[str, Any]) -> bool:
    if "NotAction" in statement:
        return True  # a NotAction Allow may cover an assume action: judged as one
    actions = statement.get("Action", [])
    patterns = [actions] if isinstance(actions, str) else list(actions)
    return any(fnmatch.fnmatchcase(a.lower(), str(p).lower()) for p in patterns for a in ASSUME_ACTIONS)


def _admitted(principal: object) -> list[tuple[str, str]]:
    """(kind, value) of every principal an element names; ``*`` as (``AWS``, ``*``)."""
    if principal == "*":
        return [("AWS", "*")]
    if not isinstance(principal, Mapping):
        return [("unknown", repr(principal))]
    admitted = []
    for kind, values in principal.items():
        for value in [values] if isinstance(values, str) else list(values):
            admitted.append((str(kind), str(value)))
    return admitted


def replication_requests(design: Design) -> Sequence[Request]:
    """What S3 asks KMS for the role: each replication action, with the bucket's and with an object's context."""
    role = design.replication_role_arn or ""
    contexts = (design.bucket_arn, f"{design.objects_arn_prefix}session.tar")
    return [
        Request(role, action, design.key_arn, {"kms:ViaService": design.via_s3, CONTEXT_KEY: context})
        for action in design.replication_key_actions
        for context in contexts
    ]


def prove_r2(design: Design, evidence: Evidence) -> PropertyResult:
    from constructs_lib.core.prover.evaluate import decide

    if design.replication_role_arn is None:
        return PropertyResult(R2, TITLES[R2], Verdict.PASS, "not required: no replication role")
    for request in replication_requests(design):
        decision = decide(evidence, request, account=design.account)
        if decision is Decision.UNKNOWN:
            return PropertyResult(
                R2,
                TITLES[R2],
                Verdict.CANNOT_PROVE,
                f"cannot decide {request.describe()}",
                reasons=(f"{request.describe()} depends on something not modelled",),
            )
        if decision is not Decision.ALLOWED:
            return PropertyResult(
                R2,
                TITLES[R2],
                Verdict.FAIL,
                f"S3 replication would fail: {request.action} is {decision.value} for the replication role",
                counterexample=request,
            )
    return PropertyResult(
        R2,
        TITLES[R2],
        Verdict.PASS,
        "S3 replication can use the key for the replication role, with and without Bucket Keys",
    )
