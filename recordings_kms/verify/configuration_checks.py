"""The key's and the bucket's configuration against Teleport RFD 42, and the stack's StorageUri (pure).

Each check reads what KMS and S3 reported (``verify.facts``) and says why in one line: the key is
enabled, symmetric, customer managed and rotated; the bucket's default encryption is SSE-KMS with
this key and an S3 Bucket Key; its public access blocks, versioning and object ownership are on;
the stack's ``StorageUri`` names this bucket, key and prefix. Who can do what is not judged here
(``verify.checks`` asks the access prover).
"""

from __future__ import annotations

from recordings_kms.results import CheckResult, Status
from recordings_kms.teleport import StorageUriError, parse_storage_uri
from recordings_kms.verify.facts import BucketFacts, KeyFacts

# --- key -----------------------------------------------------------------------------------------


def check_key_state(key: KeyFacts) -> list[CheckResult]:
    state = key.metadata.get("KeyState", "unknown")
    results = []
    if state == "Enabled" and key.metadata.get("Enabled", False):
        results.append(CheckResult("key.enabled", Status.PASS, "key is enabled"))
    else:
        results.append(
            CheckResult(
                "key.enabled",
                Status.FAIL,
                f"key is not enabled (KeyState {state}): S3 can neither store nor read recordings",
            )
        )
    if state == "PendingDeletion" or "DeletionDate" in key.metadata:
        when = key.metadata.get("DeletionDate")
        date = f" on {when:%Y-%m-%d}" if when is not None else ""
        results.append(
            CheckResult(
                "key.not-pending-deletion",
                Status.FAIL,
                f"key is scheduled for deletion{date}: every recording becomes unreadable; CancelKeyDeletion now",
            )
        )
    else:
        results.append(CheckResult("key.not-pending-deletion", Status.PASS, "key is not scheduled for deletion"))
    return results


def check_key_spec(key: KeyFacts) -> list[CheckResult]:
    spec = key.metadata.get("KeySpec") or key.metadata.get("CustomerMasterKeySpec") or "unknown"
    usage = key.metadata.get("KeyUsage", "unknown")
    manager = key.metadata.get("KeyManager", "CUSTOMER")
    results = []
    if spec == "SYMMETRIC_DEFAULT" and usage == "ENCRYPT_DECRYPT":
        results.append(CheckResult("key.spec", Status.PASS, "SYMMETRIC_DEFAULT key for ENCRYPT_DECRYPT"))
    else:
        results.append(
            CheckResult(
                "key.spec",
                Status.FAIL,
                f"key is {spec} for {usage}: RFD 42 needs a symmetric standard key "
                "(SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT); S3 cannot use any other",
            )
        )
    if manager != "CUSTOMER":
        results.append(
            CheckResult(
                "key.customer-managed", Status.FAIL, f"key is managed by {manager}: RFD 42 needs a customer managed key"
            )
        )
    return results


def check_key_rotation(key: KeyFacts) -> CheckResult:
    if key.rotation_enabled:
        period = f" every {key.rotation_period_days} days" if key.rotation_period_days else ""
        return CheckResult("key.rotation", Status.PASS, f"automatic rotation is on{period}")
    if key.rotation_enabled is None:
        return CheckResult(
            "key.rotation",
            Status.FAIL,
            f"KMS did not report rotation for this key ({key.rotation_error or 'no status'})",
        )
    return CheckResult("key.rotation", Status.FAIL, "automatic key rotation is off (EnableKeyRotation)")


# --- bucket --------------------------------------------------------------------------------------


def check_default_encryption(bucket: BucketFacts, key: KeyFacts) -> list[CheckResult]:
    rules = [r for r in bucket.encryption_rules or () if "ApplyServerSideEncryptionByDefault" in r]
    if not rules:
        missing = "bucket has no default encryption configuration"
        return [
            CheckResult("bucket.encryption.sse-kms", Status.FAIL, missing),
            CheckResult("bucket.encryption.key", Status.FAIL, missing),
            CheckResult("bucket.encryption.bucket-key", Status.FAIL, missing),
        ]
    rule = rules[0]
    default = rule["ApplyServerSideEncryptionByDefault"]
    algorithm = default["SSEAlgorithm"]
    named_key = default.get("KMSMasterKeyID")
    results = []
    if algorithm == "aws:kms":
        results.append(CheckResult("bucket.encryption.sse-kms", Status.PASS, "default encryption is SSE-KMS (aws:kms)"))
    else:
        kind = {"AES256": "SSE-S3, S3 managed keys", "aws:kms:dsse": "DSSE-KMS"}.get(algorithm, "not SSE-KMS")
        results.append(
            CheckResult(
                "bucket.encryption.sse-kms",
                Status.FAIL,
                f"default encryption is {algorithm} ({kind}), not SSE-KMS (aws:kms)",
            )
        )
    if named_key in (key.arn, key.key_id) or (named_key and bucket.default_key_resolved_arn == key.arn):
        results.append(
            CheckResult("bucket.encryption.key", Status.PASS, f"default encryption uses this key ({named_key})")
        )
    elif named_key:
        results.append(
            CheckResult("bucket.encryption.key", Status.FAIL, f"default encryption uses another key: {named_key}")
        )
    elif algorithm.startswith("aws:kms"):
        results.append(
            CheckResult(
                "bucket.encryption.key",
                Status.FAIL,
                "default encryption names no key: S3 uses the AWS managed key aws/s3",
            )
        )
    else:
        results.append(
            CheckResult("bucket.encryption.key", Status.FAIL, f"default encryption ({algorithm}) names no KMS key")
        )
    if rule.get("BucketKeyEnabled"):
        results.append(CheckResult("bucket.encryption.bucket-key", Status.PASS, "S3 Bucket Key is on"))
    else:
        results.append(
            CheckResult(
                "bucket.encryption.bucket-key",
                Status.FAIL,
                "S3 Bucket Key is off: every object and part costs a KMS request, and concurrent recordings can "
                "hit KMS request quotas",
            )
        )
    return results


_PUBLIC_ACCESS_BLOCKS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def check_public_access_block(bucket: BucketFacts) -> CheckResult:
    configuration = bucket.public_access_block
    if configuration is None:
        return CheckResult("bucket.public-access-block", Status.FAIL, "bucket has no public access block configuration")
    off = [name for name in _PUBLIC_ACCESS_BLOCKS if not configuration.get(name, False)]
    if off:
        return CheckResult("bucket.public-access-block", Status.FAIL, f"public access block off: {', '.join(off)}")
    return CheckResult("bucket.public-access-block", Status.PASS, "all four public access blocks are on")


def check_versioning(bucket: BucketFacts) -> CheckResult:
    if bucket.versioning_status == "Enabled":
        return CheckResult("bucket.versioning", Status.PASS, "versioning is enabled")
    state = bucket.versioning_status or "never enabled"
    return CheckResult(
        "bucket.versioning",
        Status.FAIL,
        f"versioning is {state}: Teleport plays a recording back by its oldest object version",
    )


def check_object_ownership(bucket: BucketFacts) -> CheckResult:
    if bucket.object_ownership == "BucketOwnerEnforced":
        return CheckResult(
            "bucket.object-ownership", Status.PASS, "ObjectOwnership is BucketOwnerEnforced (ACLs disabled)"
        )
    if bucket.object_ownership is None:
        return CheckResult(
            "bucket.object-ownership", Status.FAIL, "bucket has no ownership controls: ACLs are in effect"
        )
    return CheckResult(
        "bucket.object-ownership",
        Status.FAIL,
        f"ObjectOwnership is {bucket.object_ownership}, not BucketOwnerEnforced: ACLs are in effect",
    )


# --- stack ---------------------------------------------------------------------------------------


def check_storage_uri(uri: str, bucket: BucketFacts, key: KeyFacts, prefix: str | None = None) -> CheckResult:
    """The stack's ``StorageUri`` names this bucket, key and (with the design's) prefix."""
    try:
        storage = parse_storage_uri(uri)
    except StorageUriError as error:
        return CheckResult("stack.storage-uri", Status.FAIL, str(error))
    problems = []
    if storage.bucket != bucket.name:
        problems.append(f"names bucket {storage.bucket}, not {bucket.name}")
    if storage.sse_kms_key not in (key.arn, key.key_id):
        problems.append(f"names key {storage.sse_kms_key}, not {key.arn}")
    if prefix is not None and storage.prefix != prefix.strip("/"):
        problems.append(f"names prefix {storage.prefix or '(none)'}, not the design's {prefix}")
    if problems:
        return CheckResult("stack.storage-uri", Status.FAIL, "StorageUri " + " and ".join(problems))
    return CheckResult("stack.storage-uri", Status.PASS, f"StorageUri names this bucket and key: {storage.uri}")
