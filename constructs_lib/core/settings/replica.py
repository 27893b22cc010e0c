"""The disaster-recovery replica's settings (pure): where the copy of the recordings lives.

The rules that read only these settings are here; those that read them with the stack's, the key's or
the retention settings are in ``replica_rules.py`` (registered on the aggregates that hold both).
docs/REPLICATION.md is the guide.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

from constructs_lib.core.kinds import Choice, Days, Environment, PrincipalInput, PrincipalList, Text
from constructs_lib.core.problems import Problem
from constructs_lib.core.settings.model import Spec, _Settings, rule, setting
from constructs_lib.core.settings.retention import ObjectLockMode
from constructs_lib.core.settings.values import account_rule, bucket_name_rule, region_rule, role_name_rule

#: The replica settings that mean nothing without ``replica_region``.
REPLICA_ONLY = (
    "replica_account",
    "replica_bucket_name",
    "replication_role_name",
    "replica_key_admins",
    "replica_object_lock_mode",
    "replica_object_lock_retention_days",
)


@dataclass(frozen=True, kw_only=True)
class ReplicaSettings(_Settings):
    """A replica of the recordings in another region (and optionally account), under its own key."""

    heading: ClassVar[str] = "Replication (disaster recovery)"

    replica_region: str | None = setting(
        None,
        Spec(
            "replicaRegion",
            Text("region name", region_rule, optional=True),
            "Replicate every new recording to a bucket in this region, under a KMS key of its own, with the same "
            "design as the primary (the `TeleportSessionRecordingsReplica` stack; docs/REPLICATION.md). Needs a "
            "concrete `account` and `region`, and `authRoleName` (or `existingAuthRoleArn`).",
            default_doc="none (no replica)",
        ),
    )
    replica_account: str | None = setting(
        None,
        Spec(
            "replicaAccount",
            Text("12-digit account id", account_rule, optional=True),
            "The replica's account. Only the stack's own account is built today: another account (a central "
            "account) is refused, since the cross-account bucket policy and key statements are not built yet "
            "(docs/REPLICATION.md).",
            default_doc="the stack's account",
        ),
    )
    replica_bucket_name: str | None = setting(
        None,
        Spec(
            "replicaBucketName",
            Text("bucket name", bucket_name_rule, optional=True),
            "The replica bucket's name.",
            default_doc="`teleport-recordings-REPLICAACCOUNT-REPLICAREGION`",
        ),
    )
    replication_role_name: str | None = setting(
        None,
        Spec(
            "replicationRoleName",
            Text("IAM role name", role_name_rule, optional=True),
            "The name of the role S3 replicates with (trusted by `s3.amazonaws.com` only); the replica's key "
            "policy and the guardrails name it.",
            default_doc="`teleport-recordings-replication-REGION`",
        ),
    )
    replica_key_admins: Sequence[PrincipalInput] = setting(
        (),
        Spec(
            "replicaKeyAdminArns",
            PrincipalList(),
            "Administrators of the replica key (principals of the replica's account: KMS ignores administrative "
            "actions from another account's principals).",
            default_doc="`keyAdminArns` in one account; none across accounts",
        ),
    )
    replica_object_lock_mode: ObjectLockMode | str | None = setting(
        None,
        Spec(
            "replicaObjectLockMode",
            Choice(ObjectLockMode, optional=True),
            "Object Lock of the replica bucket. A locked primary needs a locked replica (S3 replicates from an "
            "Object Lock bucket only into one); a lock on the replica alone is allowed (an immutable copy).",
            default_doc="`objectLockMode`",
        ),
    )
    replica_object_lock_retention_days: int | None = setting(
        None,
        Spec(
            "replicaObjectLockRetentionDays",
            Days(1, 36500, optional=True),
            "Days each new replica version is locked (a replicated version keeps the retention of its source "
            "version, where it has one).",
            default_doc="`objectLockRetentionDays`",
        ),
    )

    @property
    def replicated(self) -> bool:
        return self.replica_region is not None


def effective_replica_lock(
    settings: ReplicaSettings, mode: object, days: int | None
) -> tuple[ObjectLockMode, int | None]:
    """The replica's Object Lock mode and days: its own settings, else the primary's (``mode``, ``days``)."""
    replica_mode = settings.replica_object_lock_mode
    chosen = ObjectLockMode(replica_mode if replica_mode is not None else str(mode))
    if chosen is ObjectLockMode.NONE:
        return chosen, None
    own = settings.replica_object_lock_retention_days
    return chosen, own if own is not None else days


@rule(ReplicaSettings, "replica_region", *REPLICA_ONLY)
def _replica_settings_need_a_replica(s: ReplicaSettings, env: Environment) -> Iterator[Problem]:
    if s.replica_region is not None:
        return
    for name in REPLICA_ONLY:
        if s.given(name) and getattr(s, name) not in (None, ()):
            yield Problem(name, getattr(s, name), "unset unless {replica_region} is set")
