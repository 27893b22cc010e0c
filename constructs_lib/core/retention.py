"""Lifecycle rules that never lose a recording Teleport still needs, as plain data (pure).

Rules are in the shape of S3's ``PutBucketLifecycleConfiguration`` API, so that the construct and
``recordings-kms verify`` judge the same thing. Two traps shape them:

* Teleport plays a recording back by its OLDEST object version. S3 counts a noncurrent version's
  age from the moment it became noncurrent, so ``NoncurrentDays`` at least as long as the
  retention keeps every version at least that long after its own creation; a shorter one could
  delete the version Teleport plays while a newer one still exists.
* A streaming upload stays an open multipart upload for the whole session, and Teleport's upload
  completer finishes an abandoned one 24 h after its last part: aborting incomplete uploads sooner
  destroys recordings (``ABORT_INCOMPLETE_UPLOADS_FLOOR_DAYS``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from constructs_lib.core.settings import (
    ABORT_INCOMPLETE_UPLOADS_FLOOR_DAYS,
    READABLE_STORAGE_CLASSES,
    RetentionSettings,
    specs,
)

Rule = dict[str, Any]

RULE_ABORT_UPLOADS = "AbortIncompleteRecordingUploads"
RULE_EXPIRE = "ExpireRecordings"
RULE_DELETE_MARKERS = "RemoveExpiredDeleteMarkers"
RULE_TRANSITION = "TransitionRecordings"
RULE_EXPIRE_LOGS = "ExpireAccessLogs"


def _rule(rule_id: str, prefix: str, **actions: Any) -> Rule:
    return {"ID": rule_id, "Filter": {"Prefix": prefix}, "Status": "Enabled", **actions}


def recording_rules(settings: RetentionSettings, prefix: str) -> list[Rule]:
    """The recordings bucket's lifecycle rules for ``settings``, on ``PREFIX/`` only."""
    objects = f"{prefix.strip('/')}/"
    rules = [
        _rule(
            RULE_ABORT_UPLOADS,
            objects,
            AbortIncompleteMultipartUpload={"DaysAfterInitiation": settings.incomplete_upload_abort_days},
        )
    ]
    if settings.retention_days is not None:
        days = settings.retention_days
        rules.append(
            _rule(
                RULE_EXPIRE,
                objects,
                Expiration={"Days": days},
                NoncurrentVersionExpiration={"NoncurrentDays": days},
            )
        )
        rules.append(_rule(RULE_DELETE_MARKERS, objects, Expiration={"ExpiredObjectDeleteMarker": True}))
    if settings.transition_storage_class is not None and settings.transition_days is not None:
        step = {"StorageClass": settings.transition_storage_class}
        rules.append(
            _rule(
                RULE_TRANSITION,
                objects,
                Transitions=[{"Days": settings.transition_days, **step}],
                NoncurrentVersionTransitions=[{"NoncurrentDays": settings.transition_days, **step}],
            )
        )
    return rules


def access_log_rules(days: int | None) -> list[Rule]:
    """The created access-log bucket's rules: logs expire after ``days``, then their delete markers go."""
    if days is None:
        return []
    return [
        _rule(
            RULE_EXPIRE_LOGS,
            "",
            Expiration={"Days": days},
            NoncurrentVersionExpiration={"NoncurrentDays": 1},
        ),
        _rule(RULE_DELETE_MARKERS, "", Expiration={"ExpiredObjectDeleteMarker": True}),
    ]


def applies_to(rule: Mapping[str, Any], prefix: str) -> bool:
    """Whether an enabled rule can act on objects under ``PREFIX/`` (a prefix filter that overlaps it)."""
    if rule.get("Status") != "Enabled":
        return False
    selector = rule.get("Filter", {})
    rule_prefix = selector.get("Prefix", selector.get("And", {}).get("Prefix", rule.get("Prefix", "")))
    objects = f"{prefix.strip('/')}/"
    return objects.startswith(rule_prefix) or rule_prefix.startswith(objects)


def lifecycle_traps(rules: Sequence[Mapping[str, Any]], prefix: str, lock_days: int | None = None) -> list[str]:
    """Why live rules could lose a recording Teleport needs: one line per trap, none when safe.

    ``lock_days`` is the bucket's Object Lock default retention, if any.
    """
    found: list[str] = []
    current_days = [
        r["Expiration"]["Days"] for r in rules if applies_to(r, prefix) and "Days" in r.get("Expiration", {})
    ]
    for rule in rules:
        if not applies_to(rule, prefix):
            continue
        name = rule.get("ID", "a rule")
        noncurrent = rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays")
        if noncurrent is not None and (not current_days or noncurrent < min(current_days)):
            kept = f"recordings are kept {min(current_days)} days" if current_days else "recordings never expire"
            found.append(
                f"{name} expires older versions {noncurrent} days after they become older while {kept}: a newer "
                "version would let it delete the oldest, the one Teleport plays"
            )
        abort = rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation")
        if abort is not None and abort < ABORT_INCOMPLETE_UPLOADS_FLOOR_DAYS:
            found.append(
                f"{name} aborts multipart uploads after {abort} days: a session streams into one upload for its whole "
                f"length and Teleport completes an abandoned one only 24 h after its last part (floor "
                f"{ABORT_INCOMPLETE_UPLOADS_FLOOR_DAYS} days)"
            )
        steps = [*rule.get("Transitions", []), *rule.get("NoncurrentVersionTransitions", [])]
        for step in steps:
            if step.get("StorageClass") not in READABLE_STORAGE_CLASSES:
                found.append(
                    f"{name} moves recordings to {step.get('StorageClass')}: Teleport cannot play them back without "
                    "a restore (GetObject answers InvalidObjectState)"
                )
        expires = rule.get("Expiration", {}).get("Days")
        if lock_days is not None and expires is not None and expires < lock_days:
            found.append(f"{name} expires recordings after {expires} days, inside the {lock_days}-day Object Lock")
    return found


#: The settings ``RETENTION_DESIGN`` carries (the access-log bucket's retention is not the recordings').
DESIGN_SETTINGS = (
    "object_lock_mode",
    "object_lock_retention_days",
    "retention_days",
    "transition_storage_class",
    "transition_days",
    "incomplete_upload_abort_days",
)


def retention_design(settings: RetentionSettings) -> dict[str, Any]:
    """The retention settings by context name (unset ones left out), for the stack's output."""
    names = {d.name: d.spec.context for d in specs(RetentionSettings)}
    design: dict[str, Any] = {}
    for name in DESIGN_SETTINGS:
        value = getattr(settings, name)
        if value is not None:
            design[names[name]] = value if isinstance(value, int) and not isinstance(value, bool) else str(value)
    return design
