"""The checks of ``recordings-kms verify``: pure functions from what AWS reported to check lines.

A line is PASS, WARN (could not be settled), FAIL, CANNOT-PROVE (the prover met something it does
not model: never a pass) or INFO (a fact of the design that never counts).

Nothing here calls AWS. ``recordings_kms.aws`` gathers the facts (``KeyFacts``, ``BucketFacts``,
``IdentityFacts``) with boto3; each function here judges them against Teleport RFD 42 and this
design, and says why in one line. Who can do what with the key and the bucket is never judged here
by reading statements: the key policy, the grants, the bucket policy and the auth principal's
identity policies go to the access prover (``constructs_lib.core.prover``), which answers P1-P6 for
every request, the one evaluator of the project.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

# The KMS action catalogue the prover quantifies over; a test in tests/cli compares it with botocore.
from constructs_lib.core.prover import KMS_ACTIONS as KMS_ACTIONS
from constructs_lib.core.prover import Design, Evidence, PolicyFormatError, PropertyResult, Request, Verdict
from constructs_lib.core.prover.parse import load_json
from constructs_lib.core.settings import RetentionSettings
from recordings_kms.access import DesignParameters
from recordings_kms.teleport import StorageUriError, parse_storage_uri

if TYPE_CHECKING:
    from mypy_boto3_kms.type_defs import KeyMetadataTypeDef
    from mypy_boto3_s3.type_defs import PublicAccessBlockConfigurationTypeDef, ServerSideEncryptionRuleOutputTypeDef


class Status(StrEnum):
    PASS = "PASS"  # noqa: S105 (a check status, not a password)
    WARN = "WARN"
    FAIL = "FAIL"
    #: The prover could not decide: never a pass, and not excused by ``--warnings-ok``.
    CANNOT_PROVE = "CANNOT-PROVE"
    #: A fact worth knowing that is not a verdict (the design's own escalation paths): never counted.
    INFO = "INFO"


@dataclass(frozen=True)
class CheckResult:
    id: str
    status: Status
    reason: str
    #: The prover's counterexample: on FAIL the violating request; on CANNOT-PROVE the request that
    #: would violate the property if what was not modelled went against it.
    counterexample: Request | None = None
    #: CANNOT-PROVE: each thing the prover did not model that the answer depends on.
    not_modelled: tuple[str, ...] = ()
    #: The property's title, for the prover's lines (``access.P1``...).
    title: str = ""


def _pass(check_id: str, reason: str) -> CheckResult:
    return CheckResult(check_id, Status.PASS, reason)


def _warn(check_id: str, reason: str) -> CheckResult:
    return CheckResult(check_id, Status.WARN, reason)


def _fail(check_id: str, reason: str) -> CheckResult:
    return CheckResult(check_id, Status.FAIL, reason)


def _info(check_id: str, reason: str) -> CheckResult:
    return CheckResult(check_id, Status.INFO, reason)


def exit_ok(results: Sequence[CheckResult], *, warnings_ok: bool) -> bool:
    """Whether a run passed: no FAIL, no CANNOT-PROVE, and no WARN unless warnings are accepted."""
    statuses = {r.status for r in results}
    if Status.FAIL in statuses or Status.CANNOT_PROVE in statuses:
        return False
    return warnings_ok or Status.WARN not in statuses


# --- facts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyFacts:
    """What KMS reported about the key."""

    metadata: KeyMetadataTypeDef
    #: ``None`` when KMS would not say (asymmetric keys, keys pending deletion).
    rotation_enabled: bool | None
    rotation_period_days: int | None = None
    rotation_error: str | None = None
    #: The key policy as text (``GetKeyPolicy`` returns a JSON string).
    policy_text: str | None = None
    #: Every grant on the key, as ``ListGrants`` returns them (all pages).
    grants: tuple[Mapping[str, Any], ...] = ()

    @property
    def arn(self) -> str:
        return self.metadata.get("Arn", "")

    @property
    def key_id(self) -> str:
        return self.metadata["KeyId"]

    @property
    def partition(self) -> str:
        return self.arn.split(":")[1] if self.arn.count(":") >= 5 else "aws"

    @property
    def region(self) -> str:
        return self.arn.split(":")[3] if self.arn.count(":") >= 5 else ""

    @property
    def account(self) -> str:
        return self.metadata.get("AWSAccountId") or (self.arn.split(":")[4] if self.arn.count(":") >= 5 else "")


@dataclass(frozen=True)
class BucketFacts:
    """What S3 reported about the bucket; ``None`` where the bucket has no such configuration."""

    name: str
    encryption_rules: Sequence[ServerSideEncryptionRuleOutputTypeDef] | None
    policy_text: str | None
    public_access_block: PublicAccessBlockConfigurationTypeDef | None
    #: ``Enabled``, ``Suspended``, or ``None`` when versioning was never turned on.
    versioning_status: str | None
    object_ownership: str | None
    #: The key ARN default encryption names, when it names the key through an alias.
    default_key_resolved_arn: str | None = None
    #: ``GetBucketLifecycleConfiguration``'s rules (``None``: the bucket has no lifecycle configuration).
    lifecycle_rules: Sequence[Mapping[str, Any]] | None = None
    #: ``GetObjectLockConfiguration``'s ``ObjectLockConfiguration`` (``None``: Object Lock was never enabled).
    object_lock: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class IdentityFacts:
    """The auth principal's identity policies as IAM reported them, or why they could not be read.

    All or nothing: a partial set would let P5 miss a Deny (or an Allow), so a principal whose
    policies could not all be read has ``documents`` ``None`` and the prover treats its identity
    side as unknown.
    """

    principal: str
    documents: tuple[Mapping[str, Any], ...] | None = None
    #: How many of ``documents`` are attached managed policies, inline policies, and group policies (users).
    attached: int = 0
    inline: int = 0
    from_groups: int = 0
    #: The permissions boundary, which the prover does not model.
    boundary: str | None = None
    #: Why ``documents`` is ``None``.
    problem: str = ""


# --- key -----------------------------------------------------------------------------------------


def check_key_state(key: KeyFacts) -> list[CheckResult]:
    state = key.metadata.get("KeyState", "unknown")
    results = []
    if state == "Enabled" and key.metadata.get("Enabled", False):
        results.append(_pass("key.enabled", "key is enabled"))
    else:
        results.append(
            _fail("key.enabled", f"key is not enabled (KeyState {state}): S3 can neither store nor read recordings")
        )
    if state == "PendingDeletion" or "DeletionDate" in key.metadata:
        when = key.metadata.get("DeletionDate")
        date = f" on {when:%Y-%m-%d}" if when is not None else ""
        results.append(
            _fail(
                "key.not-pending-deletion",
                f"key is scheduled for deletion{date}: every recording becomes unreadable; CancelKeyDeletion now",
            )
        )
    else:
        results.append(_pass("key.not-pending-deletion", "key is not scheduled for deletion"))
    return results


def check_key_spec(key: KeyFacts) -> list[CheckResult]:
    spec = key.metadata.get("KeySpec") or key.metadata.get("CustomerMasterKeySpec") or "unknown"
    usage = key.metadata.get("KeyUsage", "unknown")
    manager = key.metadata.get("KeyManager", "CUSTOMER")
    results = []
    if spec == "SYMMETRIC_DEFAULT" and usage == "ENCRYPT_DECRYPT":
        results.append(_pass("key.spec", "SYMMETRIC_DEFAULT key for ENCRYPT_DECRYPT"))
    else:
        results.append(
            _fail(
                "key.spec",
                f"key is {spec} for {usage}: RFD 42 needs a symmetric standard key "
                "(SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT); S3 cannot use any other",
            )
        )
    if manager != "CUSTOMER":
        results.append(
            _fail("key.customer-managed", f"key is managed by {manager}: RFD 42 needs a customer managed key")
        )
    return results


def check_key_rotation(key: KeyFacts) -> CheckResult:
    if key.rotation_enabled:
        period = f" every {key.rotation_period_days} days" if key.rotation_period_days else ""
        return _pass("key.rotation", f"automatic rotation is on{period}")
    if key.rotation_enabled is None:
        return _fail("key.rotation", f"KMS did not report rotation for this key ({key.rotation_error or 'no status'})")
    return _fail("key.rotation", "automatic key rotation is off (EnableKeyRotation)")


# --- bucket --------------------------------------------------------------------------------------


def check_default_encryption(bucket: BucketFacts, key: KeyFacts) -> list[CheckResult]:
    rules = [r for r in bucket.encryption_rules or () if "ApplyServerSideEncryptionByDefault" in r]
    if not rules:
        missing = "bucket has no default encryption configuration"
        return [
            _fail("bucket.encryption.sse-kms", missing),
            _fail("bucket.encryption.key", missing),
            _fail("bucket.encryption.bucket-key", missing),
        ]
    rule = rules[0]
    default = rule["ApplyServerSideEncryptionByDefault"]
    algorithm = default["SSEAlgorithm"]
    named_key = default.get("KMSMasterKeyID")
    results = []
    if algorithm == "aws:kms":
        results.append(_pass("bucket.encryption.sse-kms", "default encryption is SSE-KMS (aws:kms)"))
    else:
        kind = {"AES256": "SSE-S3, S3 managed keys", "aws:kms:dsse": "DSSE-KMS"}.get(algorithm, "not SSE-KMS")
        results.append(
            _fail("bucket.encryption.sse-kms", f"default encryption is {algorithm} ({kind}), not SSE-KMS (aws:kms)")
        )
    if named_key in (key.arn, key.key_id) or (named_key and bucket.default_key_resolved_arn == key.arn):
        results.append(_pass("bucket.encryption.key", f"default encryption uses this key ({named_key})"))
    elif named_key:
        results.append(_fail("bucket.encryption.key", f"default encryption uses another key: {named_key}"))
    elif algorithm.startswith("aws:kms"):
        results.append(
            _fail("bucket.encryption.key", "default encryption names no key: S3 uses the AWS managed key aws/s3")
        )
    else:
        results.append(_fail("bucket.encryption.key", f"default encryption ({algorithm}) names no KMS key"))
    if rule.get("BucketKeyEnabled"):
        results.append(_pass("bucket.encryption.bucket-key", "S3 Bucket Key is on"))
    else:
        results.append(
            _fail(
                "bucket.encryption.bucket-key",
                "S3 Bucket Key is off: every object and part costs a KMS request, and concurrent recordings can "
                "hit KMS request quotas",
            )
        )
    return results


_PUBLIC_ACCESS_BLOCKS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def check_public_access_block(bucket: BucketFacts) -> CheckResult:
    configuration = bucket.public_access_block
    if configuration is None:
        return _fail("bucket.public-access-block", "bucket has no public access block configuration")
    off = [name for name in _PUBLIC_ACCESS_BLOCKS if not configuration.get(name, False)]
    if off:
        return _fail("bucket.public-access-block", f"public access block off: {', '.join(off)}")
    return _pass("bucket.public-access-block", "all four public access blocks are on")


def check_versioning(bucket: BucketFacts) -> CheckResult:
    if bucket.versioning_status == "Enabled":
        return _pass("bucket.versioning", "versioning is enabled")
    state = bucket.versioning_status or "never enabled"
    return _fail(
        "bucket.versioning",
        f"versioning is {state}: Teleport plays a recording back by its oldest object version",
    )


def check_object_ownership(bucket: BucketFacts) -> CheckResult:
    if bucket.object_ownership == "BucketOwnerEnforced":
        return _pass("bucket.object-ownership", "ObjectOwnership is BucketOwnerEnforced (ACLs disabled)")
    if bucket.object_ownership is None:
        return _fail("bucket.object-ownership", "bucket has no ownership controls: ACLs are in effect")
    return _fail(
        "bucket.object-ownership",
        f"ObjectOwnership is {bucket.object_ownership}, not BucketOwnerEnforced: ACLs are in effect",
    )


# --- stack ---------------------------------------------------------------------------------------


def check_storage_uri(uri: str, bucket: BucketFacts, key: KeyFacts, prefix: str | None = None) -> CheckResult:
    """The stack's ``StorageUri`` names this bucket, key and (with the design's) prefix."""
    try:
        storage = parse_storage_uri(uri)
    except StorageUriError as error:
        return _fail("stack.storage-uri", str(error))
    problems = []
    if storage.bucket != bucket.name:
        problems.append(f"names bucket {storage.bucket}, not {bucket.name}")
    if storage.sse_kms_key not in (key.arn, key.key_id):
        problems.append(f"names key {storage.sse_kms_key}, not {key.arn}")
    if prefix is not None and storage.prefix != prefix.strip("/"):
        problems.append(f"names prefix {storage.prefix or '(none)'}, not the design's {prefix}")
    if problems:
        return _fail("stack.storage-uri", "StorageUri " + " and ".join(problems))
    return _pass("stack.storage-uri", f"StorageUri names this bucket and key: {storage.uri}")


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

_STATUS_OF = {Verdict.PASS: Status.PASS, Verdict.FAIL: Status.FAIL, Verdict.CANNOT_PROVE: Status.CANNOT_PROVE}


def property_results(results: Sequence[PropertyResult]) -> list[CheckResult]:
    """One line per property (``access.P1`` ...) with the prover's summary, and its findings as INFO lines."""
    lines = []
    for result in results:
        check_id = f"access.{result.id}"
        status = _STATUS_OF[result.verdict]
        lines.append(
            CheckResult(check_id, status, result.summary, result.counterexample, tuple(result.reasons), result.title)
        )
        lines += [_info(check_id, finding) for finding in result.findings]
    return lines


def _cannot_prove_all(problem: str) -> list[CheckResult]:
    from constructs_lib.core.prover import ALL_PROPERTIES

    return [
        CheckResult(f"access.{p}", Status.CANNOT_PROVE, f"cannot prove: {problem}", not_modelled=(problem,))
        for p in ALL_PROPERTIES
    ]


def check_access(design: Design, evidence: Evidence | None, problem: str = "") -> list[CheckResult]:
    """P1-P6 on the live evidence; without usable evidence every property is CANNOT-PROVE, never PASS."""
    from constructs_lib.core.prover import prove

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


@dataclass(frozen=True)
class LiveFacts:
    """Everything ``verify`` read from AWS."""

    key: KeyFacts
    bucket: BucketFacts
    identity: IdentityFacts
    #: The stack's ``StorageUri`` output (``--stack-name`` only).
    storage_uri: str | None = None
    #: The retention settings of the stack's ``RetentionDesign`` output (``--stack-name`` only).
    retention: RetentionSettings | None = None


def design_for(parameters: DesignParameters, facts: LiveFacts) -> Design:
    """The prover's design for the live key and bucket; Teleport's ``SSEKMSKeyId`` is the StorageUri's key."""
    sse_kms_key = None
    if facts.storage_uri is not None:
        try:
            sse_kms_key = parse_storage_uri(facts.storage_uri).sse_kms_key
        except StorageUriError:
            sse_kms_key = None  # stack.storage-uri reports it; the design then assumes the key ARN
    return parameters.design(key_arn=facts.key.arn, bucket=facts.bucket.name, sse_kms_key=sse_kms_key)


def verify(facts: LiveFacts, design: Design, *, deploy_role: str | None, deploy_role_source: str) -> list[CheckResult]:
    """Every read-only check, in the order they are reported."""
    key, bucket = facts.key, facts.bucket
    results = [*check_key_state(key), *check_key_spec(key), check_key_rotation(key)]
    results += check_default_encryption(bucket, key)
    results += [check_public_access_block(bucket), check_versioning(bucket), check_object_ownership(bucket)]
    from recordings_kms.retention_checks import check_retention  # it builds on this module's types

    results += check_retention(bucket, design.prefix, facts.retention)
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
