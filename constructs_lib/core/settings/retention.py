"""How long recordings are kept: the settings and the rules that read them (pure).

The lifecycle rules built from them are ``constructs_lib.core.retention``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from constructs_lib.core.kinds import Choice, Days, Environment, Text
from constructs_lib.core.problems import Problem, warning
from constructs_lib.core.settings.model import Spec, _Settings, rule, setting
from constructs_lib.core.settings.values import storage_class_rule


class ObjectLockMode(StrEnum):
    """S3 Object Lock default retention of new recording versions."""

    #: No Object Lock.
    NONE = "none"
    #: Versions cannot be deleted or overwritten before the retention ends, except by principals
    #: allowed s3:BypassGovernanceRetention who send the bypass header.
    GOVERNANCE = "governance"
    #: Nobody, the account root included, can delete a version or shorten its retention.
    COMPLIANCE = "compliance"


#: Teleport's upload completer finishes an abandoned upload only after a 24 h grace period from its last
#: part (lib/events/auditlog.go UploadCompleterGracePeriod), after its session tracker (30 min TTL) expired,
#: scanning every 5 minutes; S3 applies lifecycle rules in whole days. Below this, an upload Teleport would
#: still complete can be destroyed.
ABORT_INCOMPLETE_UPLOADS_FLOOR_DAYS = 3
#: A sync-mode streaming upload stays open for the whole session and Teleport caps no session's length:
#: the default leaves a month, far above the floor.
ABORT_INCOMPLETE_UPLOADS_DEFAULT_DAYS = 30
#: PCI DSS v4.0.1 10.5.1: audit log history is kept at least 12 months.
PCI_RETENTION_DAYS = 365


@dataclass(frozen=True, kw_only=True)
class RetentionSettings(_Settings):
    """How long recordings are kept, and that nothing Teleport still needs is lost before."""

    heading: ClassVar[str] = "Retention"

    object_lock_mode: ObjectLockMode | str = setting(
        ObjectLockMode.NONE,
        Spec(
            "objectLockMode",
            Choice(ObjectLockMode),
            "S3 Object Lock with a default retention on every new recording version: `governance` (only principals "
            "allowed `s3:BypassGovernanceRetention` may delete early) or `compliance` (nobody, the account root "
            "included, can delete a version or shorten its retention: irreversible, and the bucket cannot be deleted "
            "before every version expires). Uploads then need Content-MD5 or a checksum (see Retention).",
        ),
    )
    object_lock_retention_days: int | None = setting(
        None,
        Spec(
            "objectLockRetentionDays",
            Days(1, 36500, optional=True),
            "With Object Lock: days each new version is locked (required then, refused without it).",
            default_doc="none",
        ),
    )
    retention_days: int | None = setting(
        None,
        Spec(
            "retentionDays",
            Days(1, 36500, optional=True),
            "Recordings (current and older versions, then their delete markers) expire after this many days; never "
            "shorter than the Object Lock retention. Older versions are kept as long, counted from when they became "
            "older, so the version Teleport plays (the oldest) is never expired early.",
            default_doc="kept forever",
        ),
    )
    transition_storage_class: str | None = setting(
        None,
        Spec(
            "transitionStorageClass",
            Text("storage class", storage_class_rule, optional=True),
            "Move recordings to a cheaper class Teleport still reads at once: `STANDARD_IA`, `INTELLIGENT_TIERING` or "
            "`GLACIER_IR`. Glacier Flexible Retrieval and Deep Archive are refused (playback would fail with "
            "InvalidObjectState until a restore), One Zone-IA too (one Availability Zone).",
            default_doc="no transition",
        ),
    )
    transition_days: int | None = setting(
        None,
        Spec(
            "transitionDays",
            Days(0, 36500, optional=True),
            "With `transitionStorageClass`: days after creation (30 at least for `STANDARD_IA`, S3's minimum).",
            default_doc="none",
        ),
    )
    incomplete_upload_abort_days: int = setting(
        ABORT_INCOMPLETE_UPLOADS_DEFAULT_DAYS,
        Spec(
            "incompleteUploadAbortDays",
            Days(ABORT_INCOMPLETE_UPLOADS_FLOOR_DAYS, 36500),
            "Abort multipart uploads still open this many days after they started. Teleport streams a session into "
            "one upload that stays open for the whole session, and completes an abandoned one only 24 h after its "
            f"last part: keep it above your longest session plus 2 days (floor {ABORT_INCOMPLETE_UPLOADS_FLOOR_DAYS}).",
        ),
    )
    access_log_retention_days: int | None = setting(
        PCI_RETENTION_DAYS,
        Spec(
            "accessLogRetentionDays",
            Days(1, 36500, optional=True),
            "S3 server access logs in the created log bucket expire after this many days (PCI DSS v4.0.1 10.5.1 "
            "asks for 12 months of audit log history).",
        ),
    )


@rule(RetentionSettings, "object_lock_mode", "object_lock_retention_days")
def _object_lock_needs_a_retention(s: RetentionSettings, env: Environment) -> Iterator[Problem]:
    locked = s.object_lock_mode != ObjectLockMode.NONE
    if locked and s.object_lock_retention_days is None:
        yield Problem("object_lock_retention_days", None, 'set when {object_lock_mode} is not "none"')
    if not locked and s.object_lock_retention_days is not None:
        yield Problem(
            "object_lock_retention_days", s.object_lock_retention_days, "unset unless {object_lock_mode} is set"
        )
    if s.object_lock_mode == ObjectLockMode.COMPLIANCE:
        yield warning(
            "object_lock_mode",
            s.object_lock_mode,
            f"compliance mode cannot be undone: for {s.object_lock_retention_days} days after each recording is "
            "written nobody, the account root included, can delete it or shorten its retention, and the bucket "
            "cannot be deleted until every version expires",
            code="teleport-recordings:objectLockCompliance",
        )
    if locked:
        yield warning(
            "object_lock_mode",
            s.object_lock_mode,
            "S3 refuses uploads to a bucket with default retention unless they carry Content-MD5 or a checksum; "
            "Teleport's current S3 client sends Content-MD5 on every part (see README: Retention for versions), so "
            "upgrade Teleport first and check uploads with recordings-kms verify --probe",
            code="teleport-recordings:objectLockNeedsChecksums",
        )


@rule(RetentionSettings, "retention_days", "object_lock_retention_days")
def _retention_outlives_the_lock(s: RetentionSettings, env: Environment) -> Iterator[Problem]:
    if s.retention_days is None:
        return
    if s.object_lock_retention_days is not None and s.retention_days < s.object_lock_retention_days:
        yield Problem(
            "retention_days",
            s.retention_days,
            f"at least {{object_lock_retention_days}} ({s.object_lock_retention_days}): S3 cannot expire a locked "
            "version, and a shorter lifecycle would only pile up delete markers",
        )
    if s.retention_days < PCI_RETENTION_DAYS:
        yield warning(
            "retention_days",
            s.retention_days,
            "shorter than the 12 months PCI DSS v4.0.1 10.5.1 asks for audit log history",
            code="teleport-recordings:retentionShorterThanPci",
        )


@rule(RetentionSettings, "transition_storage_class", "transition_days", "retention_days")
def _transitions_come_in_pairs_and_before_expiry(s: RetentionSettings, env: Environment) -> Iterator[Problem]:
    if (s.transition_storage_class is None) != (s.transition_days is None):
        missing = "transition_days" if s.transition_days is None else "transition_storage_class"
        yield Problem(missing, None, "set together with {transition_storage_class} and {transition_days}")
        return
    if s.transition_days is None:
        return
    if s.transition_storage_class == "STANDARD_IA" and s.transition_days < 30:
        yield Problem("transition_days", s.transition_days, "30 or more for STANDARD_IA (S3's minimum)")
    if s.retention_days is not None and s.transition_days >= s.retention_days:
        yield Problem("transition_days", s.transition_days, "fewer than {retention_days}: recordings expire first")
