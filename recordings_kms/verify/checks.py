"""The checks of ``recordings-kms verify``: pure functions from what AWS reported to check lines.

A line is PASS, WARN (could not be settled), FAIL, CANNOT-PROVE (the prover met something it does
not model: never a pass) or INFO (a fact of the design that never counts).

Nothing here calls AWS. ``verify.readers`` gathers the facts (``KeyFacts``, ``BucketFacts``,
``IdentityFacts``: ``verify.facts``) with boto3; each function here judges them against RFD 42 and this
design, and says why in one line. Who can do what with the key and the bucket is never judged here
by reading statements: the key policy, the grants, the bucket policy and the auth principal's
identity policies go to the access prover (``constructs_lib.core.prover``), which answers P1-P6 for
every request, the one evaluator of the project. Here: the evidence the prover gets, P1-P6, and
whether the next deploy can still update the key policy; ``verify`` (at the end) runs these, the
configuration checks (``verify.configuration_checks``) and the retention checks in order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

# The KMS action catalogue the prover quantifies over; a test in tests/cli compares it with botocore.
from constructs_lib.core.prover import KMS_ACTIONS as KMS_ACTIONS
from constructs_lib.core.prover import Design, Evidence, PolicyFormatError, PropertyResult, Verdict
from constructs_lib.core.prover.parse import load_json
from recordings_kms.access import DesignParameters
from recordings_kms.results import CheckResult, Status, property_results
from recordings_kms.teleport import StorageUriError, parse_storage_uri
from recordings_kms.verify.configuration_checks import (
    check_default_encryption,
    check_key_rotation,
    check_key_spec,
    check_key_state,
    check_object_ownership,
    check_public_access_block,
    check_storage_uri,
    check_versioning,
)
from recordings_kms.verify.facts import BucketFacts, IdentityFacts, KeyFacts, LiveFacts
from recordings_kms.verify.replication_checks import check_replication
from recordings_kms.verify.retention_checks import check_retention


def _pass(check_id: str, reason: str) -> CheckResult:
    return CheckResult(check_id, Status.PASS, reason)


def _warn(check_id: str, reason: str) -> CheckResult:
    return CheckResult(check_id, Status.WARN, reason)


def _info(check_id: str, reason: str) -> CheckResult:
    return CheckResult(check_id, Status.INFO, reason)


# --- the evidence ---------------------------------------------------------------------------------


def _policy(text: str | None, what: str) -> tuple[dict[str, Any] | None, str]:
    if text is None:
        return None, ""
    try:
        # Duplicate keys are remembered: the prover then refuses the policy, naming the statement.
        document = load_json(text)
    except json.JSONDecodeError as error:
        return None, f"the {what} is not JSON ({error.msg})"
    if not isinstance(document, dict):
        return None, f"the {what} is not a JSON object"
    return document, ""


def live_evidence(key: KeyFacts, bucket: BucketFacts, identity: IdentityFacts | None) -> tuple[Evidence | None, str]:
    """The prover's evidence from what AWS reported, or why there is none."""
    key_policy, problem = _policy(key.policy_text, "key policy")
    if key_policy is None:
        return None, problem or "KMS returned no key policy"
    bucket_policy, problem = _policy(bucket.policy_text, "bucket policy")
    if problem:
        return None, problem
    identities = {identity.principal: identity.documents} if identity and identity.documents is not None else {}
    evidence = Evidence(
        key_policy=key_policy, bucket_policy=bucket_policy, grants=key.grants, identity_policies=identities
    )
    return evidence, ""


#: The IAM reads that give the prover the auth principal's identity policies.
IDENTITY_READS = (
    "iam:GetRole (iam:GetUser), iam:ListAttachedRolePolicies, iam:ListRolePolicies, iam:GetRolePolicy, "
    "iam:GetPolicy and iam:GetPolicyVersion (for a user: the User and Group variants and iam:ListGroupsForUser)"
)


def check_identity_evidence(identity: IdentityFacts) -> list[CheckResult]:
    """Whether P5 could see the S3 side of Teleport's requests (the auth principal's IAM policies)."""
    check_id = "evidence.identity-policies"
    if identity.documents is None:
        return [
            _warn(
                check_id,
                f"cannot read the identity policies of {identity.principal} ({identity.problem}): P5 judged the key "
                "policy, the grants and the bucket policy only, not whether its IAM policies allow Teleport's S3 "
                f"requests (needs {IDENTITY_READS})",
            )
        ]
    parts = [f"{identity.attached} attached", f"{identity.inline} inline"]
    if identity.from_groups:
        parts.append(f"{identity.from_groups} from its groups")
    results = [
        _pass(
            check_id,
            f"read {len(identity.documents)} identity policies of {identity.principal} ({', '.join(parts)}): P5 also "
            "checks that they allow Teleport's S3 requests",
        )
    ]
    if identity.boundary:
        results.append(
            _warn(
                "evidence.permissions-boundary",
                f"{identity.principal} has the permissions boundary {identity.boundary}, which the prover does not "
                "model: P5 assumes it allows Teleport's requests",
            )
        )
    return results


# --- access: the prover's P1-P6 ----------------------------------------------------------------------


def _cannot_prove_all(problem: str) -> list[CheckResult]:
    from constructs_lib.core.prover import ALL_PROPERTIES

    return [
        CheckResult(f"access.{p}", Status.CANNOT_PROVE, f"cannot prove: {problem}", not_modelled=(problem,))
        for p in ALL_PROPERTIES
    ]


def check_access(design: Design, evidence: Evidence | None, problem: str = "") -> list[CheckResult]:
    """P1-P6 on the live evidence (with a replication role: P1 allowing it S3 replication only, and R2);
    without usable evidence every property is CANNOT-PROVE, never PASS."""
    from constructs_lib.core.prover.replication import prove

    if evidence is None:
        return _cannot_prove_all(problem)
    try:
        return property_results(prove(design, evidence))
    except PolicyFormatError as error:
        return _cannot_prove_all(f"the live policies are not in a form the prover reads: {error}")


# --- deploy safety: can the next deploy update the key policy? ---------------------------------------

#: IAM unique ids (``AROA...`` roles, ``AIDA...`` users): how a resource policy shows a principal
#: that was deleted after the policy was set.
_UNIQUE_ID = re.compile(r"A[A-Z0-9]{15,}", re.ASCII)
README_BREAK_GLASS = "README: Key administration and break-glass"


def deleted_principals(key_policy: Mapping[str, Any]) -> list[str]:
    """The unique ids in the key policy's ``Principal``/``NotPrincipal`` elements, in order.

    KMS, like every AWS resource policy, shows a principal deleted after the policy was set by its
    unique id; a role re-created under the same name (a re-bootstrap re-creates the execution role)
    is a new principal with a new id, which the statement does not name.
    """
    found: list[str] = []
    for value in _aws_principal_values(key_policy):
        if _UNIQUE_ID.fullmatch(value) and value not in found:
            found.append(value)
    return found


def _aws_principal_values(policy: Mapping[str, Any]) -> list[str]:
    statements = policy.get("Statement", [])
    values: list[str] = []
    for statement in statements if isinstance(statements, list) else [statements]:
        for element in ("Principal", "NotPrincipal"):
            principal = statement.get(element) if isinstance(statement, Mapping) else None
            if isinstance(principal, Mapping):
                named = principal.get("AWS", [])
                values += [v for v in (named if isinstance(named, list) else [named]) if isinstance(v, str)]
    return values


def _deleted_principals_as_roles(key_policy: Mapping[str, Any], design: Design) -> dict[str, Any]:
    """The key policy with each deleted principal's unique id replaced by a stand-in role no one else is.

    The prover reads a unique id as "some principal it cannot identify" (CANNOT-PROVE). For the
    question "can this existing role update the key policy?" the unique id is known to name none
    of the living principals (``deleted_principals``), so a role of its own that nobody else is
    keeps the answer exact.
    """

    def stand_in(value: Any) -> Any:
        if isinstance(value, str) and _UNIQUE_ID.fullmatch(value):
            return f"arn:{design.partition}:iam::{design.account}:role/deleted-principal/{value}"
        return value

    copied = json.loads(json.dumps(key_policy))
    statements = copied.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        for element in ("Principal", "NotPrincipal"):
            principal = statement.get(element) if isinstance(statement, dict) else None
            if isinstance(principal, dict) and "AWS" in principal:
                named = principal["AWS"]
                principal["AWS"] = [stand_in(v) for v in named] if isinstance(named, list) else stand_in(named)
    result: dict[str, Any] = copied
    return result


def check_deploy_role(design: Design, evidence: Evidence, deploy_role: str | None, *, source: str) -> list[CheckResult]:
    """Before an update: can ``deploy_role`` (the role the next deploy uses) still ``kms:PutKeyPolicy``?

    That is P4 with ``deploy_role`` as the deploy role. KMS refuses a key policy its caller could not
    change again, so a role that cannot update the key policy cannot deploy the stack any more. The
    answer also names the break-glass key administrators, who can repair that, and what to do.
    ``source`` says where ``deploy_role`` came from, or, without one, why none is known.
    """
    from constructs_lib.core.prover import prove

    check_id = "deploy.put-key-policy"
    deleted = deleted_principals(evidence.key_policy)
    question = replace(evidence, key_policy=_deleted_principals_as_roles(evidence.key_policy, design))

    def can_update(role: str) -> PropertyResult:
        (result,) = prove(replace(design, deploy_role_arn=role), question, ["P4"])
        return result

    try:
        admins = {admin: can_update(admin) for admin in design.admin_arns}
        current = can_update(deploy_role) if deploy_role is not None else None
        previous = design.deploy_role_arn
        previous_can = (
            previous is not None
            and previous != deploy_role
            and current is not None
            and current.verdict is not Verdict.PASS
            and can_update(previous).verdict is Verdict.PASS
        )
    except PolicyFormatError as error:
        problem = f"the live policies are not in a form the prover reads: {error}"
        return [CheckResult(check_id, Status.CANNOT_PROVE, f"cannot prove: {problem}", not_modelled=(problem,))]
    able = [admin for admin, result in admins.items() if result.verdict is Verdict.PASS]
    results: list[CheckResult] = []
    if deploy_role is None or current is None:
        results.append(_info(check_id, f"not checked: {source}"))
    elif current.verdict is Verdict.PASS:
        results.append(
            _pass(
                check_id,
                f"{deploy_role} ({source}) can call kms:PutKeyPolicy on the live key: the next deploy passes KMS's "
                "lockout check",
            )
        )
    elif current.verdict is Verdict.FAIL:
        what_to_do = _lockout_remedy(deploy_role, previous if previous_can else None, able)
        why = ""
        if deleted:
            why = (
                f" The key policy names {', '.join(deleted)}: KMS shows a principal deleted after the policy was set "
                "by its unique id, and a role re-created under the same name (as a re-bootstrap does) is a new "
                "principal that the policy does not name."
            )
        example = f" ({current.counterexample.describe()} is refused)" if current.counterexample is not None else ""
        results.append(
            CheckResult(
                check_id,
                Status.FAIL,
                f"{deploy_role} ({source}) cannot call kms:PutKeyPolicy on the live key{example}: the next deploy "
                f"fails KMS's lockout check (MalformedPolicyDocumentException) and the stack cannot be updated.{why} "
                f"{what_to_do}",
                current.counterexample,
            )
        )
    else:
        results.append(
            CheckResult(
                check_id,
                Status.CANNOT_PROVE,
                f"cannot prove that {deploy_role} ({source}) can call kms:PutKeyPolicy on the live key: "
                f"{current.summary}",
                current.counterexample,
                tuple(current.reasons),
            )
        )
    results.append(_break_glass(admins, able))
    return results


def _lockout_remedy(deploy_role: str, previous: str | None, able: Sequence[str]) -> str:
    if able:
        return (
            f"Before deploying, as key administrator {able[0]} add {deploy_role} to the key policy's deploy-role "
            f"statement (aws kms put-key-policy), then deploy ({README_BREAK_GLASS})."
        )
    if previous is not None:
        return (
            f"Deploy once more as {previous}, which still can, with {deploy_role} added to keyAdminArns; then switch "
            f"deployRoleArn to {deploy_role} and remove it from keyAdminArns ({README_BREAK_GLASS})."
        )
    return (
        "Nobody the design names can update the key policy any more: the key can no longer be administered "
        "(KMS calls such a key unmanageable; AWS Support can restore access). Do not deploy the stack until then; "
        f"Teleport keeps working with the key as it is ({README_BREAK_GLASS})."
    )


def _break_glass(admins: Mapping[str, PropertyResult], able: Sequence[str]) -> CheckResult:
    check_id = "deploy.break-glass"
    if not admins:
        return _info(
            check_id,
            "no key administrator (keyAdminArns): only the deploy role can update the key policy; if it changes "
            "(deployRoleArn, or a re-bootstrap after the bootstrap stack was deleted) nobody can "
            f"({README_BREAK_GLASS})",
        )
    unable = [f"{admin} ({result.summary})" for admin, result in admins.items() if admin not in able]
    if unable:
        return _warn(
            check_id,
            f"key administrator {'; '.join(unable)}: the design names it, but the live key policy does not let it "
            f"update the key policy, so it is no break-glass" + (f"; break-glass: {', '.join(able)}" if able else ""),
        )
    return _info(check_id, f"break-glass key administrators who can update the key policy: {', '.join(able)}")


# --- all of it -----------------------------------------------------------------------------------


def design_for(parameters: DesignParameters, facts: LiveFacts) -> Design:
    """The prover's design for the live key and bucket; Teleport's ``SSEKMSKeyId`` is the StorageUri's key."""
    sse_kms_key = None
    if facts.storage_uri is not None:
        try:
            sse_kms_key = parse_storage_uri(facts.storage_uri).sse_kms_key
        except StorageUriError:
            sse_kms_key = None  # stack.storage-uri reports it; the design then assumes the key ARN
    return parameters.design(key_arn=facts.key.arn, bucket=facts.bucket.name, sse_kms_key=sse_kms_key)


def check_configuration(facts: LiveFacts, design: Design) -> list[CheckResult]:
    """The key's and the bucket's configuration (no access question), in the order they are reported."""
    key, bucket = facts.key, facts.bucket
    results = [*check_key_state(key), *check_key_spec(key), check_key_rotation(key)]
    results += check_default_encryption(bucket, key)
    results += [check_public_access_block(bucket), check_versioning(bucket), check_object_ownership(bucket)]
    results += check_retention(bucket, design.prefix, facts.retention)
    results += check_replication(bucket, design)
    return results


def verify(facts: LiveFacts, design: Design, *, deploy_role: str | None, deploy_role_source: str) -> list[CheckResult]:
    """Every read-only check, in the order they are reported."""
    key, bucket = facts.key, facts.bucket
    results = check_configuration(facts, design)
    if facts.storage_uri is not None:
        results.append(check_storage_uri(facts.storage_uri, bucket, key, design.prefix))
    results += check_identity_evidence(facts.identity)
    evidence, problem = live_evidence(key, bucket, facts.identity)
    results += check_access(design, evidence, problem)
    if evidence is not None:
        results += check_deploy_role(design, evidence, deploy_role, source=deploy_role_source)
    else:
        results.append(
            CheckResult(
                "deploy.put-key-policy", Status.CANNOT_PROVE, f"cannot prove: {problem}", not_modelled=(problem,)
            )
        )
    return results
