"""The checks of ``recordings-kms verify``: pure functions from what AWS reported to PASS/WARN/FAIL.

Nothing here calls AWS. ``recordings_kms.aws`` gathers the facts (``KeyFacts``, ``BucketFacts``)
with boto3; each function here judges them against Teleport RFD 42 and this design (see
``constructs_lib.core.policies``), and says why in one line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from constructs_lib.core import policies
from recordings_kms import statements as st
from recordings_kms.teleport import StorageUriError, parse_storage_uri

if TYPE_CHECKING:
    from mypy_boto3_kms.type_defs import KeyMetadataTypeDef
    from mypy_boto3_s3.type_defs import PublicAccessBlockConfigurationTypeDef, ServerSideEncryptionRuleOutputTypeDef


class Status(StrEnum):
    PASS = "PASS"  # noqa: S105 (a check status, not a password)
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class CheckResult:
    id: str
    status: Status
    reason: str

    def as_json(self) -> dict[str, str]:
        return {"id": self.id, "status": self.status.value, "reason": self.reason}


def _pass(check_id: str, reason: str) -> CheckResult:
    return CheckResult(check_id, Status.PASS, reason)


def _warn(check_id: str, reason: str) -> CheckResult:
    return CheckResult(check_id, Status.WARN, reason)


def _fail(check_id: str, reason: str) -> CheckResult:
    return CheckResult(check_id, Status.FAIL, reason)


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


@dataclass(frozen=True)
class Expectations:
    """What the caller knows beyond the bucket and the key, from stack outputs."""

    auth_principal_arn: str | None = None
    storage_uri: str | None = None


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


#: Every KMS action a key policy can grant: coverage of these is how two action lists are compared.
#: The KMS API operations (``ReEncrypt`` is authorized as ``ReEncryptFrom`` and ``ReEncryptTo``) and
#: the permission-only ``SynchronizeMultiRegionKey``; tests compare it with botocore's KMS model.
KMS_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:ConnectCustomKeyStore",
    "kms:CreateAlias",
    "kms:CreateCustomKeyStore",
    "kms:CreateGrant",
    "kms:CreateKey",
    "kms:Decapsulate",
    "kms:Decrypt",
    "kms:DeleteAlias",
    "kms:DeleteCustomKeyStore",
    "kms:DeleteImportedKeyMaterial",
    "kms:DeriveSharedSecret",
    "kms:DescribeCustomKeyStores",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:DisconnectCustomKeyStore",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:Encapsulate",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateMac",
    "kms:GenerateRandom",
    "kms:GetKeyLastUsage",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:GetParametersForImport",
    "kms:GetPublicKey",
    "kms:ImportKeyMaterial",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListKeys",
    "kms:ListResourceTags",
    "kms:ListRetirableGrants",
    "kms:PutKeyPolicy",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:ReplicateKey",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:Sign",
    "kms:SynchronizeMultiRegionKey",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateCustomKeyStore",
    "kms:UpdateKeyDescription",
    "kms:UpdatePrimaryRegion",
    "kms:Verify",
    "kms:VerifyMac",
)
_CRYPTO_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey")


def _covered(patterns: Sequence[str]) -> frozenset[str]:
    return frozenset(a for a in KMS_ACTIONS if any(st.glob_matches(p, a, ignore_case=True) for p in patterns))


def _granted(statement: st.Statement) -> frozenset[str]:
    return frozenset(a for a in KMS_ACTIONS if st.covers_action(statement, a))


_RFD_AUTH_ACTIONS = _covered(policies.AUTH_KMS_ACTIONS)


def _allows(statement: st.Statement) -> bool:
    return statement.get("Effect") == "Allow"


def _is_admin(statement: st.Statement) -> bool:
    return _allows(statement) and st.covers_action(statement, "kms:PutKeyPolicy")


def _grants_crypto(statement: st.Statement) -> bool:
    return _allows(statement) and any(st.covers_action(statement, a) for a in _CRYPTO_ACTIONS)


def _short(actions: frozenset[str]) -> str:
    return ", ".join(sorted(actions))


def _parse_policy(text: str | None) -> tuple[dict[str, Any] | None, str]:
    if text is None:
        return None, "no policy"
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        return None, f"policy is not JSON ({error.msg})"
    if not isinstance(document, dict):
        return None, "policy is not a JSON object"
    return document, ""


def check_key_policy(key: KeyFacts, expect: Expectations) -> list[CheckResult]:
    document, problem = _parse_policy(key.policy_text)
    if document is None:
        return [_fail("key.policy", f"cannot read the key policy: {problem}")]
    statements = st.statements_of(document)
    return [
        _check_no_root_grant(statements),
        _check_auth_statement(statements, expect.auth_principal_arn),
        _check_deny_statement(statements, expect.auth_principal_arn),
        _check_admin_statement(statements),
    ]


def _check_no_root_grant(statements: Sequence[st.Statement]) -> CheckResult:
    findings = []
    for index, statement in enumerate(statements):
        if not _allows(statement):
            continue
        for principal in st.aws_principals(statement):
            if st.is_everyone(principal):
                findings.append(f"{st.label(statement, index)} allows every AWS principal ('*')")
            elif st.is_account_root(principal):
                findings.append(f"{st.label(statement, index)} allows the account root {principal}")
    if findings:
        return _fail(
            "key.policy.no-account-root",
            "; ".join(findings) + ": IAM policies (AdministratorAccess included) then grant use of the key",
        )
    return _pass(
        "key.policy.no-account-root", "no statement allows the account root: only named principals use the key"
    )


def _check_auth_statement(statements: Sequence[st.Statement], expected: str | None) -> CheckResult:
    check_id = "key.policy.auth"
    crypto = [s for s in statements if _grants_crypto(s) and not _is_admin(s)]
    principals = sorted({p for s in crypto for p in st.aws_principals(s)})
    if not principals:
        return _fail(
            check_id,
            "no statement grants an auth principal kms:Encrypt/Decrypt/GenerateDataKey* without key administration: "
            "Teleport cannot write or play back recordings",
        )
    if len(principals) > 1:
        return _fail(
            check_id,
            f"cryptographic use is granted to {len(principals)} principals ({', '.join(principals)}); "
            "RFD 42 grants it to the auth principal only",
        )
    principal = principals[0]
    granted: frozenset[str] = frozenset()
    scoped = False
    for statement in statements:
        if _allows(statement) and principal in st.aws_principals(statement):
            granted |= _granted(statement)
            condition = statement.get("Condition") or {}
            scoped = scoped or "kms:viaservice" in json.dumps(condition).lower()
    missing, extra = _RFD_AUTH_ACTIONS - granted, granted - _RFD_AUTH_ACTIONS
    if missing or extra:
        details = []
        if missing:
            details.append(f"missing {_short(missing)}")
        if extra:
            details.append(f"extra {_short(extra)}")
        return _fail(
            check_id,
            f"auth principal {principal} is not granted exactly RFD 42's actions ({'; '.join(details)}); "
            f"expected {', '.join(policies.AUTH_KMS_ACTIONS)}",
        )
    if expected is not None and principal != expected:
        return _fail(check_id, f"the key's auth principal is {principal}, but the stack's auth role is {expected}")
    scope = (
        "scoped to S3 for this bucket (kms:ViaService)" if scoped else "not scoped to S3 (RFD 42's literal statement)"
    )
    return _pass(check_id, f"auth principal {principal} has exactly RFD 42's actions, {scope}")


def _check_deny_statement(statements: Sequence[st.Statement], auth_principal: str | None) -> CheckResult:
    check_id = "key.policy.deny"
    denied: list[str] = []
    for index, statement in enumerate(statements):
        if statement.get("Effect") != "Deny" or not st.covers_action(statement, "kms:Decrypt"):
            continue
        principals = st.aws_principals(statement)
        conditional = bool(statement.get("Condition"))
        if not conditional and any(st.is_everyone(p) or st.is_account_root(p) for p in principals):
            return _fail(
                check_id,
                f"{st.label(statement, index)} denies the whole account without a condition: nobody can use the key",
            )
        if auth_principal is not None and auth_principal in principals and not conditional:
            return _fail(check_id, f"{st.label(statement, index)} denies the auth principal {auth_principal}")
        denied.extend(principals)
    if not denied:
        # Without a statement trusting the account root (key.policy.no-root), IAM administrators get
        # nothing from their identity policies; RFD 42's deny is then defence in depth.
        return _pass(
            check_id,
            "no Deny statement (none configured); IAM administrators are kept out by the absence of an "
            "account-root grant; RFD 42 also recommends naming them in deniedPrincipalArns",
        )
    return _pass(check_id, f"denies kms:* to {', '.join(denied)}")


def _check_admin_statement(statements: Sequence[st.Statement]) -> CheckResult:
    """Who administers the key by name; the account root and ``*`` do not count (key.policy.no-account-root)."""
    check_id = "key.policy.admin"
    full: list[str] = []
    administration_only: list[str] = []
    unnamed: list[str] = []
    for statement in statements:
        if not _is_admin(statement):
            continue
        principals = st.aws_principals(statement) + st.other_principals(statement)
        named = [p for p in principals if not (st.is_everyone(p) or st.is_account_root(p))]
        unnamed.extend(p for p in principals if p not in named and p not in unnamed)
        (full if _grants_crypto(statement) else administration_only).extend(named)
    if not full and not administration_only:
        if unnamed:
            return _fail(
                check_id,
                f"no named key administrator: only {', '.join(unnamed)} may administer the key, which hands "
                "administration to IAM policies (see key.policy.no-account-root); name key administrators instead",
            )
        return _fail(
            check_id,
            "no statement grants key administration (kms:PutKeyPolicy): nobody can change the policy, "
            "disable or rotate the key",
        )
    if full:
        others = f"; administration only: {', '.join(administration_only)}" if administration_only else ""
        return _pass(
            check_id,
            f"mode rfd: {', '.join(full)} have kms:* and can also decrypt recordings{others}",
        )
    return _pass(check_id, f"mode separated: administration without decryption for {', '.join(administration_only)}")


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


# --- bucket policy -------------------------------------------------------------------------------

#: The condition keys the sample requests carry; statements that depend on others cannot be judged.
_KNOWN_KEYS = (
    "aws:SecureTransport",
    "s3:TlsVersion",
    policies.SSE_HEADER,
    policies.SSE_KMS_KEY_HEADER,
    policies.SSE_C_HEADER,
)
_SECURE = {"aws:securetransport": "true", "s3:tlsversion": "1.2"}
#: An action no statement lists by name: only ``s3:*`` (or ``*``) covers it.
_ANY_OTHER_S3_ACTION = "s3:RecordingsKmsAnyOtherAction"


@dataclass(frozen=True)
class DenyRequirement:
    """One deny of the design: every sample request must be denied, for every principal."""

    check_id: str
    what: str
    samples: Sequence[st.Request] = field(default_factory=tuple)


def _put(resource: str, description: str, **headers: str) -> st.Request:
    context = dict(_SECURE)
    context.update({name.lower(): value for name, value in headers.items()})
    return st.Request("s3:PutObject", resource, context, description)


def deny_requirements(*, bucket_arn: str, key_arn: str, key_id: str) -> list[DenyRequirement]:
    """The deny set of DOMAIN.md / ``policies.bucket_policy_statements``, as requests that must be denied."""
    objects = f"{bucket_arn}/*"
    _, partition, _, region, account = key_arn.split(":")[:5]
    other_key_id = "00000000-0000-4000-8000-000000000000"
    other_key_arn = f"arn:{partition}:kms:{region}:{account}:key/{other_key_id}"
    aws_s3_alias_arn = f"arn:{partition}:kms:{region}:{account}:alias/aws/s3"
    actions = ("s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:PutBucketPolicy", _ANY_OTHER_S3_ACTION)

    def everywhere(context: Mapping[str, str], how: str) -> list[st.Request]:
        return [
            st.Request(action, resource, context, f"{action} on {resource} {how}")
            for action in actions
            for resource in (bucket_arn, objects)
        ]

    sse, kms_key, sse_c = policies.SSE_HEADER, policies.SSE_KMS_KEY_HEADER, policies.SSE_C_HEADER
    return [
        DenyRequirement(
            "bucket.policy.deny-insecure-transport",
            "every s3 action over plain HTTP (aws:SecureTransport false) on the bucket and its objects",
            everywhere({"aws:securetransport": "false"}, "over plain HTTP"),
        ),
        DenyRequirement(
            "bucket.policy.deny-outdated-tls",
            "every s3 action over TLS older than 1.2 (s3:TlsVersion) on the bucket and its objects",
            [
                *everywhere({"aws:securetransport": "true", "s3:tlsversion": "1.0"}, "over TLS 1.0"),
                *everywhere({"aws:securetransport": "true", "s3:tlsversion": "1.1"}, "over TLS 1.1"),
            ],
        ),
        DenyRequirement(
            "bucket.policy.deny-non-kms-encryption",
            f"PutObject with an {sse} header other than aws:kms",
            [
                _put(objects, "PutObject with AES256", **{sse: "AES256"}),
                _put(objects, "PutObject with AES256 naming this key", **{sse: "AES256", kms_key: key_arn}),
                _put(objects, "PutObject with aws:kms:dsse", **{sse: "aws:kms:dsse", kms_key: key_arn}),
            ],
        ),
        DenyRequirement(
            "bucket.policy.deny-other-key",
            "PutObject naming another KMS key",
            [
                _put(
                    objects,
                    f"PutObject with aws:kms and key {other_key_arn}",
                    **{sse: "aws:kms", kms_key: other_key_arn},
                ),
                _put(
                    objects,
                    f"PutObject with aws:kms and key ID {other_key_id}",
                    **{sse: "aws:kms", kms_key: other_key_id},
                ),
                _put(objects, "PutObject with aws:kms and alias/aws/s3", **{sse: "aws:kms", kms_key: "alias/aws/s3"}),
                _put(
                    objects,
                    f"PutObject with aws:kms and {aws_s3_alias_arn}",
                    **{sse: "aws:kms", kms_key: aws_s3_alias_arn},
                ),
            ],
        ),
        DenyRequirement(
            "bucket.policy.deny-kms-without-key",
            "PutObject with aws:kms and no key id (S3 would use the AWS managed key aws/s3)",
            [_put(objects, "PutObject with aws:kms and no key id", **{sse: "aws:kms"})],
        ),
        DenyRequirement(
            "bucket.policy.deny-sse-c",
            "PutObject with a customer-provided key (SSE-C)",
            [
                _put(objects, "PutObject with SSE-C", **{sse_c: "AES256"}),
                _put(
                    objects, "PutObject with SSE-C and aws:kms", **{sse_c: "AES256", sse: "aws:kms", kms_key: key_arn}
                ),
            ],
        ),
    ]


def _denying(
    statements: Sequence[st.Statement], request: st.Request, applies: Callable[[st.Statement], bool]
) -> tuple[list[str], list[str]]:
    """Labels of the Deny statements that deny ``request``, and of those that cannot be judged."""
    certain: list[str] = []
    unknown: list[str] = []
    for index, statement in enumerate(statements):
        if statement.get("Effect") != "Deny" or not applies(statement):
            continue
        verdict = st.statement_matches(statement, request, _KNOWN_KEYS)
        if verdict is True:
            certain.append(st.label(statement, index))
        elif verdict is None:
            unknown.append(st.label(statement, index))
    return certain, unknown


def check_bucket_policy(bucket: BucketFacts, key: KeyFacts, expect: Expectations | None = None) -> list[CheckResult]:
    """Judge the bucket policy by what its Deny statements do to sample requests, not by their Sids."""
    bucket_arn = f"arn:{key.partition}:s3:::{bucket.name}"
    document, problem = _parse_policy(bucket.policy_text)
    requirements = deny_requirements(bucket_arn=bucket_arn, key_arn=key.arn, key_id=key.key_id)
    if document is None:
        reason = (
            "bucket has no bucket policy" if bucket.policy_text is None else f"cannot read the bucket policy: {problem}"
        )
        return [_fail(r.check_id, f"{reason}: nothing denies {r.what}") for r in requirements] + [
            _pass("bucket.policy.teleport-access", "no bucket policy denies Teleport's requests"),
            _pass("bucket.policy.header-less-puts", "header-less puts are allowed: default encryption applies"),
        ]
    statements = st.statements_of(document)
    results = [judge_deny_requirement(statements, requirement) for requirement in requirements]
    auth = expect.auth_principal_arn if expect is not None else None
    results.extend(_check_teleport_access(statements, bucket_arn, key, auth))
    return results


def judge_deny_requirement(statements: Sequence[st.Statement], requirement: DenyRequirement) -> CheckResult:
    covering: list[str] = []
    for sample in requirement.samples:
        certain, unknown = _denying(statements, sample, st.applies_to_everyone)
        if not certain:
            note = f" ({', '.join(unknown)} depend on condition keys this check does not model)" if unknown else ""
            return _fail(
                requirement.check_id,
                f"no Deny statement for every principal denies {requirement.what}: "
                f"{sample.description} is not denied{note}",
            )
        covering.extend(label for label in certain if label not in covering)
    return _pass(requirement.check_id, f"denies {requirement.what} ({', '.join(covering)})")


def _check_teleport_access(
    statements: Sequence[st.Statement], bucket_arn: str, key: KeyFacts, auth: str | None
) -> list[CheckResult]:
    """The denies must leave Teleport's own requests alone (key ARN puts, reads, header-less parts)."""

    def applies(statement: st.Statement) -> bool:
        return st.applies_to(statement, auth) if auth is not None else st.applies_to_everyone(statement)

    sample_object = f"{bucket_arn}/recordings-kms-sample"
    sse, kms_key = policies.SSE_HEADER, policies.SSE_KMS_KEY_HEADER
    required = [
        _put(sample_object, "PutObject with aws:kms and the key ARN", **{sse: "aws:kms", kms_key: key.arn}),
        st.Request("s3:GetObject", sample_object, _SECURE, "GetObject"),
        st.Request("s3:GetObjectVersion", sample_object, _SECURE, "GetObjectVersion"),
        st.Request("s3:ListBucket", bucket_arn, _SECURE, "ListBucket"),
        st.Request("s3:ListBucketVersions", bucket_arn, _SECURE, "ListBucketVersions"),
    ]
    results = []
    blocked = [(r, _denying(statements, r, applies)[0]) for r in required]
    blocked = [(r, labels) for r, labels in blocked if labels]
    by_id = _denying(statements, _put(sample_object, "", **{sse: "aws:kms", kms_key: key.key_id}), applies)[0]
    if blocked:
        results.append(
            _fail(
                "bucket.policy.teleport-access",
                "; ".join(f"{r.description} over TLS 1.2 is denied by {', '.join(labels)}" for r, labels in blocked)
                + ": Teleport cannot write or play back recordings",
            )
        )
    elif by_id:
        results.append(
            _warn(
                "bucket.policy.teleport-access",
                f"PutObject naming the key by its ID is denied by {', '.join(by_id)}: sse_kms_key must be the key ARN",
            )
        )
    else:
        results.append(
            _pass("bucket.policy.teleport-access", "Teleport's puts (key ARN or ID) and reads are not denied")
        )
    headerless = _denying(statements, _put(sample_object, "PutObject without encryption headers"), applies)[0]
    if headerless:
        results.append(
            _warn(
                "bucket.policy.header-less-puts",
                f"PutObject without encryption headers is denied by {', '.join(headerless)} (strict mode): Teleport's "
                "UploadPart and CompleteMultipartUpload carry no encryption headers; whether S3 applies this deny "
                "to them is not documented, so run --probe",
            )
        )
    else:
        results.append(
            _pass("bucket.policy.header-less-puts", "header-less puts are allowed: default encryption applies this key")
        )
    return results


# --- stack ---------------------------------------------------------------------------------------


def check_storage_uri(uri: str, bucket: BucketFacts, key: KeyFacts) -> CheckResult:
    try:
        storage = parse_storage_uri(uri)
    except StorageUriError as error:
        return _fail("stack.storage-uri", str(error))
    problems = []
    if storage.bucket != bucket.name:
        problems.append(f"names bucket {storage.bucket}, not {bucket.name}")
    if storage.sse_kms_key not in (key.arn, key.key_id):
        problems.append(f"names key {storage.sse_kms_key}, not {key.arn}")
    if problems:
        return _fail("stack.storage-uri", "StorageUri " + " and ".join(problems))
    return _pass("stack.storage-uri", f"StorageUri names this bucket and key: {storage.uri}")


# --- all of it -----------------------------------------------------------------------------------


def verify(key: KeyFacts, bucket: BucketFacts, expect: Expectations | None = None) -> list[CheckResult]:
    """Every read-only check, in the order they are reported."""
    expect = expect or Expectations()
    results = [*check_key_state(key), *check_key_spec(key), check_key_rotation(key)]
    results += check_key_policy(key, expect)
    results += check_default_encryption(bucket, key)
    results += check_bucket_policy(bucket, key, expect)
    results += [check_public_access_block(bucket), check_versioning(bucket), check_object_ownership(bucket)]
    if expect.storage_uri is not None:
        results.append(check_storage_uri(expect.storage_uri, bucket, key))
    return results
