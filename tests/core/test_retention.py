"""Retention: the lifecycle rules as data, the traps they avoid, and the retention settings' rules."""

from __future__ import annotations

import re
from typing import Any

import pytest

from constructs_lib.core import retention
from constructs_lib.core.settings import (
    ABORT_INCOMPLETE_UPLOADS_FLOOR_DAYS,
    InvalidSettingsError,
    RetentionSettings,
    StorageSettings,
    validate,
)

PREFIX = "records"


def rules_for(**settings: Any) -> list[dict[str, Any]]:
    return retention.recording_rules(RetentionSettings(**settings), PREFIX)


def test_by_default_only_abandoned_uploads_are_aborted_after_a_month() -> None:
    (rule,) = rules_for()
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 30}
    assert rule["Filter"] == {"Prefix": "records/"}
    assert retention.lifecycle_traps([rule], PREFIX) == []


def test_older_versions_live_at_least_as_long_as_the_retention() -> None:
    """Teleport plays the OLDEST version: NoncurrentDays counts from becoming older, so it must be >= the retention."""
    rules = {r["ID"]: r for r in rules_for(retention_days=400)}
    expire = rules[retention.RULE_EXPIRE]
    assert expire["Expiration"] == {"Days": 400}
    assert expire["NoncurrentVersionExpiration"] == {"NoncurrentDays": 400}
    assert rules[retention.RULE_DELETE_MARKERS]["Expiration"] == {"ExpiredObjectDeleteMarker": True}
    assert retention.lifecycle_traps(list(rules.values()), PREFIX) == []


def test_transitions_move_current_and_older_versions_to_a_class_teleport_reads() -> None:
    (*_, rule) = rules_for(transition_storage_class="GLACIER_IR", transition_days=90)
    assert rule["Transitions"] == [{"Days": 90, "StorageClass": "GLACIER_IR"}]
    assert rule["NoncurrentVersionTransitions"] == [{"NoncurrentDays": 90, "StorageClass": "GLACIER_IR"}]


def test_access_logs_expire_and_leave_no_delete_markers() -> None:
    expire, markers = retention.access_log_rules(365)
    assert expire["Expiration"] == {"Days": 365}
    assert expire["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
    assert markers["Expiration"] == {"ExpiredObjectDeleteMarker": True}
    assert retention.access_log_rules(None) == []


# --- the traps, in rules someone could write by hand --------------------------------------------------


def rule(**actions: Any) -> dict[str, Any]:
    return {"ID": "hand-made", "Filter": {"Prefix": ""}, "Status": "Enabled", **actions}


@pytest.mark.parametrize(
    ("rules", "lock_days", "expected"),
    [
        (
            [rule(Expiration={"Days": 365}, NoncurrentVersionExpiration={"NoncurrentDays": 1})],
            None,
            "expires older versions 1 days after they become older while recordings are kept 365 days",
        ),
        (
            [rule(NoncurrentVersionExpiration={"NoncurrentDays": 30})],
            None,
            "recordings never expire: a newer version would let it delete the oldest, the one Teleport plays",
        ),
        (
            [rule(AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1})],
            None,
            f"aborts multipart uploads after 1 days.*floor {ABORT_INCOMPLETE_UPLOADS_FLOOR_DAYS} days",
        ),
        (
            [rule(Transitions=[{"Days": 30, "StorageClass": "GLACIER"}])],
            None,
            "moves recordings to GLACIER: Teleport cannot play them back without a restore",
        ),
        (
            [rule(NoncurrentVersionTransitions=[{"NoncurrentDays": 30, "StorageClass": "DEEP_ARCHIVE"}])],
            None,
            "moves recordings to DEEP_ARCHIVE",
        ),
        ([rule(Expiration={"Days": 30})], 365, "expires recordings after 30 days, inside the 365-day Object Lock"),
    ],
    ids=["noncurrent-sooner", "noncurrent-only", "abort-too-soon", "glacier", "deep-archive-noncurrent", "inside-lock"],
)
def test_each_trap_is_named(rules: list[dict[str, Any]], lock_days: int | None, expected: str) -> None:
    (trap,) = retention.lifecycle_traps(rules, PREFIX, lock_days)
    assert re.search(expected, trap), trap


def test_rules_for_other_prefixes_and_disabled_rules_are_not_traps() -> None:
    elsewhere = {**rule(AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1}), "Filter": {"Prefix": "tmp/"}}
    disabled = {**rule(Transitions=[{"Days": 1, "StorageClass": "GLACIER"}]), "Status": "Disabled"}
    assert retention.lifecycle_traps([elsewhere, disabled], PREFIX) == []


# --- the settings' rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"object_lock_mode": "governance"}, r"'object_lock_retention_days' must be set when object_lock_mode"),
        ({"object_lock_retention_days": 30}, r"'object_lock_retention_days' must be unset unless object_lock_mode"),
        (
            {"object_lock_mode": "compliance", "object_lock_retention_days": 400, "retention_days": 365},
            r"'retention_days' must be at least object_lock_retention_days \(400\)",
        ),
        ({"object_lock_mode": "legal-hold"}, r"'object_lock_mode' must be one of \"none\", \"governance\""),
        ({"transition_storage_class": "GLACIER", "transition_days": 30}, r"InvalidObjectState until restored"),
        ({"transition_storage_class": "DEEP_ARCHIVE", "transition_days": 30}, r"Deep Archive answers GetObject"),
        ({"transition_storage_class": "ONEZONE_IA", "transition_days": 30}, r"one Availability Zone"),
        ({"transition_storage_class": "GLACIER_IR"}, r"'transition_days' must be set together"),
        ({"transition_days": 30}, r"'transition_storage_class' must be set together"),
        (
            {"transition_storage_class": "STANDARD_IA", "transition_days": 10},
            r"'transition_days' must be 30 or more for STANDARD_IA",
        ),
        (
            {"transition_storage_class": "GLACIER_IR", "transition_days": 400, "retention_days": 365},
            r"'transition_days' must be fewer than retention_days",
        ),
        ({"incomplete_upload_abort_days": 1}, r"'incomplete_upload_abort_days' must be a whole number of days from 3"),
        (
            {"access_logs_bucket": "central-logs", "access_log_retention_days": 90},
            r"'access_log_retention_days' must be unset when access_logs_bucket is set",
        ),
    ],
)
def test_each_retention_rule_refuses_its_input(settings: dict[str, Any], expected: str) -> None:
    with pytest.raises(InvalidSettingsError) as caught:
        validate(StorageSettings(**settings))
    assert re.search(expected, str(caught.value)), str(caught.value)


def test_compliance_mode_and_short_retention_warn() -> None:
    warnings = validate(
        StorageSettings(
            key_admins=["arn:aws:iam::111122223333:role/Admin"],
            object_lock_mode="compliance",
            object_lock_retention_days=90,
            retention_days=90,
        )
    )
    assert {w.code for w in warnings} == {
        "teleport-recordings:objectLockCompliance",
        "teleport-recordings:objectLockNeedsChecksums",
        "teleport-recordings:retentionShorterThanPci",
    }
