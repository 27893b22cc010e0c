"""S3 replication of the recordings to a replica bucket under its own key, as plain data (pure).

Both stacks (the primary and the replica, in other regions and maybe accounts) build everything they
name of each other from the settings alone (:class:`ReplicationNames`): CDK's cross-region and
cross-account references are experimental or weak (DOMAIN.md). The statements follow the S3 User
Guide, "Setting up permissions for live replication"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html) and
"Replicating encrypted objects"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html);
docs/REPLICATION.md says which actions were checked against them and which could not be.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from constructs_lib.core import naming, policies
from constructs_lib.core.kinds import Environment, principal_arn
from constructs_lib.core.policies import PolicyStatement
from constructs_lib.core.settings import StorageSettings
from constructs_lib.core.settings.replica import effective_replica_lock

#: The replication rule's id: the ``RuleId`` dimension of the replication metrics the failure alarm reads.
RULE_ID = "teleport-recordings-replica"
#: The stack that holds the replica (in the replica's region and account).
REPLICA_STACK_NAME = "TeleportSessionRecordingsReplica"
S3_SERVICE = "s3.amazonaws.com"
#: Replication Time Control and its metrics: S3 accepts 15 minutes only (S3 UG, replication-add-config).
REPLICATION_MINUTES = 15

#: On the source bucket: read the configuration, list (S3 needs ListBucket to see delete markers).
SOURCE_BUCKET_ACTIONS = ("s3:GetReplicationConfiguration", "s3:ListBucket")
#: On the source objects: ``GetObjectVersionForReplication`` (``GetObjectVersion`` does not replicate SSE-KMS
#: objects), the version's ACL and tags (without the tagging read, tags are not replicated).
SOURCE_OBJECT_ACTIONS = (
    "s3:GetObjectVersionForReplication",
    "s3:GetObjectVersionAcl",
    "s3:GetObjectVersionTagging",
)
#: With Object Lock on the source: its retention and legal hold travel with each version.
SOURCE_LOCK_ACTIONS = ("s3:GetObjectRetention", "s3:GetObjectLegalHold")
#: On the replica objects. No ``s3:ReplicateDelete``: delete markers are not replicated, and without it even a
#: later configuration cannot make the replica hide a recording. ``ReplicateTags`` is covered by
#: ``ReplicateObject`` (S3 UG) and kept for clarity.
REPLICA_OBJECT_ACTIONS = ("s3:ReplicateObject", "s3:ReplicateTags")
#: What S3 does with the source key for the role: decrypt the version it reads.
SOURCE_KMS_ACTIONS = ("kms:Decrypt",)
#: With the replica key: encrypt the replica; Decrypt is documented for S3 Bucket Keys ("verifies the integrity of
#: the S3 Bucket Key"); GenerateDataKey is not documented for SSE-KMS to SSE-KMS: a scoped superset.
REPLICA_KMS_ACTIONS = ("kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt")

SID_SOURCE_BUCKET = "ReadReplicationConfiguration"
SID_SOURCE_OBJECTS = "ReadRecordingsForReplication"
SID_REPLICA_OBJECTS = "WriteReplicas"
SID_KEY_REPLICATION = "S3 replication of the recordings"


def default_role_name(region: str) -> str:
    """One role per primary region: IAM names are global to the account, so two primaries never share one."""
    return f"teleport-recordings-replication-{region}"


@dataclass(frozen=True)
class ReplicationNames:
    """Every name the primary and the replica stack use for each other; all concrete."""

    partition: str
    source_account: str
    source_region: str
    source_bucket: str
    prefix: str
    replica_account: str
    replica_region: str
    replica_bucket: str
    #: The alias of both keys (one alias name, one key per region).
    key_alias: str
    replication_role_name: str
    auth_role_arn: str

    @property
    def replication_role_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.source_account}:role/{self.replication_role_name}"

    @property
    def source_bucket_arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.source_bucket}"

    @property
    def replica_bucket_arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.replica_bucket}"

    @property
    def replica_alias_arn(self) -> str:
        """What the rule's ``ReplicaKmsKeyID`` names (S3 accepts a key ARN or an alias ARN)."""
        return f"arn:{self.partition}:kms:{self.replica_region}:{self.replica_account}:{self.key_alias}"

    def objects(self, bucket_arn: str) -> str:
        return policies.recordings_objects_arn(bucket_arn, self.prefix)


def replication_names(settings: StorageSettings, env: Environment) -> ReplicationNames:
    """The names from validated settings with a replica (``settings.replica_region``) and a concrete ``env``
    (the primary stack's: its account and region)."""
    account, region, replica_region = env.account, env.region, settings.replica_region
    if account is None or region is None or replica_region is None:  # the rules have refused this already
        raise ValueError("replication needs a concrete account and region and a replica region")
    partition = env.partition or "aws"
    replica_account = settings.replica_account or account
    auth = principal_arn(settings.auth_role, env) or f"arn:{partition}:iam::{account}:role/{settings.auth_role_name}"
    return ReplicationNames(
        partition=partition,
        source_account=account,
        source_region=region,
        source_bucket=settings.bucket_name or naming.default_bucket_name(account, region),
        prefix=settings.recordings_prefix.strip("/"),
        replica_account=replica_account,
        replica_region=replica_region,
        replica_bucket=settings.replica_bucket_name or naming.default_bucket_name(replica_account, replica_region),
        key_alias=settings.key_alias or naming.KEY_ALIAS,
        replication_role_name=settings.replication_role_name or default_role_name(region),
        auth_role_arn=auth,
    )


def replica_storage_settings(settings: StorageSettings, names: ReplicationNames) -> StorageSettings:
    """The replica's storage settings: the primary's design, with the replica's names and Object Lock.

    Changed: the bucket name, the key administrators (``replicaKeyAdminArns``, else the primary's), Object Lock
    (``effective_replica_lock``); no auth role of its own (the primary's is named by ARN, ``replica_of``); no
    replica of the replica (S3 does not chain replicas); its own access-log bucket and alarm topic, in its region
    (server access logs go to a bucket of the same region, and an EventBridge rule publishes to a topic of its
    region). Kept: the key alias name (one alias, one key per region), prefix, deny list, readers, admin mode,
    rotation, lifecycle, alarms on or off.
    """
    mode, days = effective_replica_lock(settings, settings.object_lock_mode, settings.object_lock_retention_days)
    return settings.replaced(
        bucket_name=names.replica_bucket,
        key_alias=names.key_alias,
        key_admins=tuple(settings.replica_key_admins) or tuple(settings.key_admins),
        object_lock_mode=mode,
        object_lock_retention_days=days,
        access_logs_bucket=None,
        alarm_topic_arn=None,
        auth_role=None,
        replica_region=None,
        replica_account=None,
        replica_bucket_name=None,
        replication_role_name=None,
        replica_key_admins=(),
        replica_object_lock_mode=None,
        replica_object_lock_retention_days=None,
    )


def _context(bucket_arn: str, names: ReplicationNames) -> dict[str, Any]:
    # With S3 Bucket Keys the encryption context is the bucket ARN, without them the object ARN: both (trap 1).
    return {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, names.objects(bucket_arn)]}


def _via(region: str) -> dict[str, str]:
    return {"kms:ViaService": policies.s3_via_service(region)}


# --- the replication role (primary account) ---------------------------------------------------------


def trust_policy() -> dict[str, Any]:
    """S3 alone may assume the role, as AWS documents it: no ``aws:SourceAccount`` (docs/REPLICATION.md)."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": S3_SERVICE}, "Action": "sts:AssumeRole"}],
    }


def role_statements(names: ReplicationNames, *, source_locked: bool) -> list[PolicyStatement]:
    """The replication role's identity policy: exactly what S3 replication of the prefix needs.

    No KMS statement: both keys' policies name no account root, so an identity policy could not grant
    their use anyway; each key policy names the role itself, through S3 for its own bucket
    (:func:`source_key_statement`, :func:`replica_key_statement`), which in one account is enough (KMS
    Developer Guide, "Key policies": a key policy alone can give a principal of the key's account access).
    """
    statements: list[PolicyStatement] = [
        {
            "Sid": SID_SOURCE_BUCKET,
            "Effect": "Allow",
            "Action": list(SOURCE_BUCKET_ACTIONS),
            "Resource": names.source_bucket_arn,
        },
        {
            "Sid": SID_SOURCE_OBJECTS,
            "Effect": "Allow",
            "Action": list(SOURCE_OBJECT_ACTIONS + (SOURCE_LOCK_ACTIONS if source_locked else ())),
            "Resource": names.objects(names.source_bucket_arn),
        },
        {
            "Sid": SID_REPLICA_OBJECTS,
            "Effect": "Allow",
            "Action": list(REPLICA_OBJECT_ACTIONS),
            "Resource": names.objects(names.replica_bucket_arn),
        },
    ]
    return statements


def source_key_statement(names: ReplicationNames) -> PolicyStatement:
    """The primary key policy's statement for the role (principal added by ``policies.statements_for``)."""
    return {
        "Sid": SID_KEY_REPLICATION,
        "Effect": "Allow",
        "Action": list(SOURCE_KMS_ACTIONS),
        "Resource": "*",
        "Condition": {
            "StringEquals": _via(names.source_region),
            "StringLike": _context(names.source_bucket_arn, names),
        },
    }


def replica_key_statement(names: ReplicationNames) -> PolicyStatement:
    """The replica key policy's statement for the role."""
    return {
        "Sid": SID_KEY_REPLICATION,
        "Effect": "Allow",
        "Action": list(REPLICA_KMS_ACTIONS),
        "Resource": "*",
        "Condition": {
            "StringEquals": _via(names.replica_region),
            "StringLike": _context(names.replica_bucket_arn, names),
        },
    }


# --- the rule -----------------------------------------------------------------------------------------


def replication_configuration(role_arn: str, names: ReplicationNames, replica_key_id: str) -> dict[str, Any]:
    """``AWS::S3::Bucket`` ``ReplicationConfiguration`` (CloudFormation's names): one complete V2 rule.

    With a ``Filter`` S3 requires ``DeleteMarkerReplication``, ``Status`` and ``Priority`` (the
    PutBucketReplication API reference); the CloudFormation schema does not, and cfn-lint does not catch
    it, so ``tests/core/test_replication.py`` does. SSE-KMS objects are replicated only with
    ``SseKmsEncryptedObjects`` enabled and a ``ReplicaKmsKeyID`` (which S3 does not validate).
    """
    return {
        "Role": role_arn,
        "Rules": [
            {
                "Id": RULE_ID,
                "Status": "Enabled",
                "Priority": 1,
                "Filter": {"Prefix": f"{names.prefix}/"},
                "DeleteMarkerReplication": {"Status": "Disabled"},
                "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
                "Destination": {
                    "Bucket": names.replica_bucket_arn,
                    "EncryptionConfiguration": {"ReplicaKmsKeyID": replica_key_id},
                    "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": REPLICATION_MINUTES}},
                    "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": REPLICATION_MINUTES}},
                },
            }
        ],
    }


def rule_problems(configuration: dict[str, Any]) -> list[str]:
    """What S3 would refuse, or what would make replication of SSE-KMS recordings silently fail, in a
    configuration of CloudFormation's shape or the API's (``GetBucketReplication``: the same names but ``ID``;
    ``recordings_kms/verify/replication_checks.py``). Empty when complete."""
    problems: list[str] = []
    rules: Sequence[dict[str, Any]] = configuration.get("Rules", [])
    for rule in rules:
        where = f"rule {rule.get('Id', rule.get('ID', '?'))}"
        if "Filter" in rule:
            for element in ("DeleteMarkerReplication", "Status", "Priority"):
                if element not in rule:
                    problems.append(f"{where}: a Filter needs {element}")
        if rule.get("DeleteMarkerReplication", {}).get("Status", "Disabled") != "Disabled":
            problems.append(f"{where}: delete markers are replicated (a delete in the primary would hide the replica)")
        if rule.get("SourceSelectionCriteria", {}).get("SseKmsEncryptedObjects", {}).get("Status") != "Enabled":
            problems.append(f"{where}: SSE-KMS objects are not replicated without SseKmsEncryptedObjects Enabled")
        destination = rule.get("Destination", {})
        if not destination.get("EncryptionConfiguration", {}).get("ReplicaKmsKeyID"):
            problems.append(f"{where}: no ReplicaKmsKeyID")
        timing = destination.get("ReplicationTime")
        if timing is not None and "Metrics" not in destination:
            problems.append(f"{where}: ReplicationTime needs Metrics")
        for block, minutes in (("ReplicationTime", "Time"), ("Metrics", "EventThreshold")):
            value = destination.get(block, {}).get(minutes, {}).get("Minutes", REPLICATION_MINUTES)
            if value != REPLICATION_MINUTES:
                problems.append(f"{where}: {block} minutes must be {REPLICATION_MINUTES}, not {value}")
    return problems
