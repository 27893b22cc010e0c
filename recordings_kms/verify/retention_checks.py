"""Whether the live bucket's lifecycle rules and Object Lock keep every recording Teleport needs (pure).

The traps are ``constructs_lib.core.retention.lifecycle_traps``, the same judgement the construct's
rules are tested against: expiring older versions before the current ones (Teleport plays the
oldest), aborting a session's open upload too soon, moving recordings to a storage class Teleport
cannot read, or expiring them inside the Object Lock period. Hand-made rules are judged too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from constructs_lib.core.retention import applies_to, lifecycle_traps, recording_rules
from constructs_lib.core.settings import ObjectLockMode, RetentionSettings
from recordings_kms.results import CheckResult, Status
from recordings_kms.verify.facts import BucketFacts

LIFECYCLE = "bucket.lifecycle"
OBJECT_LOCK = "bucket.object-lock"
SETTINGS = "bucket.retention-settings"


def lock_days(lock: Mapping[str, Any] | None) -> int | None:
    """The default retention of an Object Lock configuration, in days (``None`` without one)."""
    if lock is None or lock.get("ObjectLockEnabled") != "Enabled":
        return None
    retention = lock.get("Rule", {}).get("DefaultRetention", {})
    if "Days" in retention:
        return int(retention["Days"])
    if "Years" in retention:
        return int(retention["Years"]) * 365
    return None


def check_object_lock(bucket: BucketFacts) -> CheckResult:
    lock = bucket.object_lock
    if lock is None or lock.get("ObjectLockEnabled") != "Enabled":
        return CheckResult(
            OBJECT_LOCK,
            Status.INFO,
            "Object Lock is off: an IAM administrator can delete recordings (THREAT_MODEL R5; README: Retention)",
        )
    retention = lock.get("Rule", {}).get("DefaultRetention", {})
    days = lock_days(lock)
    if days is None:
        return CheckResult(
            OBJECT_LOCK,
            Status.WARN,
            "Object Lock is on without a default retention: new recordings are not locked",
        )
    mode = str(retention.get("Mode", "")).upper()
    if mode == "COMPLIANCE":
        return CheckResult(
            OBJECT_LOCK,
            Status.PASS,
            f"Object Lock in compliance mode for {days} days: nobody, the root user included, can delete a recording "
            "version or shorten its retention in that time",
        )
    return CheckResult(
        OBJECT_LOCK,
        Status.PASS,
        f"Object Lock in {mode.lower() or 'an unknown'} mode for {days} days: principals allowed "
        "s3:BypassGovernanceRetention can still delete recordings",
    )


def check_lifecycle(bucket: BucketFacts, prefix: str) -> CheckResult:
    rules = list(bucket.lifecycle_rules or [])
    traps = lifecycle_traps(rules, prefix, lock_days(bucket.object_lock))
    if traps:
        return CheckResult(LIFECYCLE, Status.FAIL, "; ".join(traps))
    applying = [r for r in rules if applies_to(r, prefix)]
    aborts = [
        r["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
        for r in applying
        if "DaysAfterInitiation" in r.get("AbortIncompleteMultipartUpload", {})
    ]
    expiry = [r["Expiration"]["Days"] for r in applying if "Days" in r.get("Expiration", {})]
    kept = f"recordings expire after {min(expiry)} days" if expiry else "recordings never expire"
    if not aborts:
        return CheckResult(
            LIFECYCLE,
            Status.WARN,
            f"{kept}; no rule aborts incomplete multipart uploads under {prefix}/: the open uploads of crashed auth "
            "servers are kept, and billed, forever",
        )
    return CheckResult(
        LIFECYCLE,
        Status.PASS,
        f"{kept}; incomplete uploads are aborted after {min(aborts)} days; no rule can remove the version Teleport "
        "plays early",
    )


def _contains(live: Any, expected: Any) -> bool:
    """Whether ``live`` has every field of ``expected`` with the same value (S3 may add others)."""
    if isinstance(expected, Mapping):
        return isinstance(live, Mapping) and all(_contains(live.get(k), v) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(live, list) and len(live) == len(expected) and all(map(_contains, live, expected))
    return bool(live == expected)


def check_against_settings(bucket: BucketFacts, settings: RetentionSettings, prefix: str) -> CheckResult:
    """The live lifecycle rules and Object Lock are the ones the stack's retention settings made."""
    differences = []
    live = {r.get("ID"): r for r in bucket.lifecycle_rules or []}
    for rule in recording_rules(settings, prefix):
        found = live.get(rule["ID"])
        if found is None:
            differences.append(f"lifecycle rule {rule['ID']} is missing")
        elif not _contains(found, rule):
            differences.append(f"lifecycle rule {rule['ID']} differs from {json.dumps(rule, sort_keys=True)}")
    mode = ObjectLockMode(settings.object_lock_mode)
    lock = bucket.object_lock
    enabled = lock is not None and lock.get("ObjectLockEnabled") == "Enabled"
    if mode is not ObjectLockMode.NONE:
        retention = (lock or {}).get("Rule", {}).get("DefaultRetention", {})
        live_mode = str(retention.get("Mode", "")).lower() or ("on without a default retention" if enabled else "off")
        days = lock_days(lock)
        if live_mode != mode.value or days != settings.object_lock_retention_days:
            shown = f"{live_mode}, {days} days" if days is not None else live_mode
            differences.append(
                f"Object Lock is {shown}, not {mode.value} for {settings.object_lock_retention_days} days"
            )
    if differences:
        return CheckResult(SETTINGS, Status.FAIL, "; ".join(differences) + " (the stack's RetentionDesign)")
    return CheckResult(
        SETTINGS, Status.PASS, "the lifecycle rules and Object Lock are the ones the stack's retention settings made"
    )


def check_retention(bucket: BucketFacts, prefix: str, settings: RetentionSettings | None = None) -> list[CheckResult]:
    results = [check_lifecycle(bucket, prefix), check_object_lock(bucket)]
    if settings is not None:
        results.append(check_against_settings(bucket, settings, prefix))
    return results
