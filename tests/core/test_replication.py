"""The replication statements and rule as plain data (constructs_lib/core/replication.py).

Sources: S3 User Guide, "Setting up permissions for live replication"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html), "Replicating
encrypted objects" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html),
the PutBucketReplication API reference (a Filter needs DeleteMarkerReplication, Status and Priority) and
CloudFormation's ReplicationTimeValue ("Valid value: 15").
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from constructs_lib.core import replication
from constructs_lib.core.settings import AppSettings, ObjectLockMode, StorageSettings

ACCOUNT = "111122223333"
CONTEXT: dict[str, Any] = {
    "account": ACCOUNT,
    "region": "eu-west-1",
    "replicaRegion": "eu-central-1",
    "authRoleName": "teleport-auth",
}


def names_of(context: dict[str, Any]) -> replication.ReplicationNames:
    settings = AppSettings.from_context(context)
    return replication.replication_names(settings.storage(), settings.environment())


@pytest.fixture(scope="module")
def names() -> replication.ReplicationNames:
    return names_of(CONTEXT)


def test_the_names_come_from_the_settings_alone(names: replication.ReplicationNames) -> None:
    assert names.source_bucket == f"teleport-recordings-{ACCOUNT}-eu-west-1"
    assert names.replica_bucket == f"teleport-recordings-{ACCOUNT}-eu-central-1"
    assert names.replication_role_arn == f"arn:aws:iam::{ACCOUNT}:role/teleport-recordings-replication-eu-west-1"
    assert names.auth_role_arn == f"arn:aws:iam::{ACCOUNT}:role/teleport-auth"
    assert names.replica_alias_arn == f"arn:aws:kms:eu-central-1:{ACCOUNT}:alias/teleport-session-recordings"
    given = names_of(
        CONTEXT
        | {
            "replicaBucketName": "dr-recordings",
            "replicationRoleName": "dr-replication",
            "keyAlias": "alias/acme/rec",
            "recordingsPrefix": "/clusters/prod/",
        }
    )
    assert (given.replica_bucket, given.replication_role_name, given.key_alias, given.prefix) == (
        "dr-recordings",
        "dr-replication",
        "alias/acme/rec",
        "clusters/prod",
    )


def test_the_rule_is_a_complete_v2_rule(names: replication.ReplicationNames) -> None:
    configuration = replication.replication_configuration("arn:role", names, names.replica_alias_arn)
    assert replication.rule_problems(configuration) == []
    (rule,) = configuration["Rules"]
    assert rule["Filter"] == {"Prefix": "records/"}
    assert rule["DeleteMarkerReplication"] == {"Status": "Disabled"}
    assert rule["SourceSelectionCriteria"] == {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
    assert rule["Destination"]["EncryptionConfiguration"] == {"ReplicaKmsKeyID": names.replica_alias_arn}
    assert rule["Destination"]["Bucket"] == names.replica_bucket_arn


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        (("Priority",), "a Filter needs Priority"),
        (("DeleteMarkerReplication",), "a Filter needs DeleteMarkerReplication"),
        (("SourceSelectionCriteria",), "SSE-KMS objects are not replicated"),
        (("Destination", "EncryptionConfiguration"), "no ReplicaKmsKeyID"),
        (("Destination", "Metrics"), "ReplicationTime needs Metrics"),
    ],
)
def test_rule_problems_names_each_missing_element(
    names: replication.ReplicationNames, path: tuple[str, ...], problem: str
) -> None:
    """cfn-lint passes a rule without these (measured, research notes §3): the package's own check must not."""
    configuration = copy.deepcopy(replication.replication_configuration("arn:role", names, names.replica_alias_arn))
    parent = configuration["Rules"][0]
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    assert any(problem in p for p in replication.rule_problems(configuration)), replication.rule_problems(configuration)


def test_rule_problems_refuses_delete_marker_replication(names: replication.ReplicationNames) -> None:
    """A replicated delete marker would hide the replica's copy of a recording deleted in the primary."""
    configuration = replication.replication_configuration("arn:role", names, names.replica_alias_arn)
    configuration["Rules"][0]["DeleteMarkerReplication"]["Status"] = "Enabled"
    assert replication.rule_problems(configuration) == [
        "rule teleport-recordings-replica: delete markers are replicated (a delete in the primary would hide the "
        "replica)"
    ]


def test_rule_problems_refuses_minutes_other_than_15(names: replication.ReplicationNames) -> None:
    configuration = replication.replication_configuration("arn:role", names, names.replica_alias_arn)
    configuration["Rules"][0]["Destination"]["ReplicationTime"]["Time"]["Minutes"] = 10
    assert replication.rule_problems(configuration) == [
        "rule teleport-recordings-replica: ReplicationTime minutes must be 15, not 10"
    ]


def test_the_role_reads_for_replication_and_writes_replicas_only(names: replication.ReplicationNames) -> None:
    by_sid = {s["Sid"]: s for s in replication.role_statements(names, source_locked=False)}
    assert by_sid == {
        "ReadReplicationConfiguration": {
            "Sid": "ReadReplicationConfiguration",
            "Effect": "Allow",
            "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            "Resource": names.source_bucket_arn,
        },
        "ReadRecordingsForReplication": {
            "Sid": "ReadRecordingsForReplication",
            "Effect": "Allow",
            "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
            "Resource": f"{names.source_bucket_arn}/records/*",
        },
        "WriteReplicas": {
            "Sid": "WriteReplicas",
            "Effect": "Allow",
            "Action": ["s3:ReplicateObject", "s3:ReplicateTags"],
            "Resource": f"{names.replica_bucket_arn}/records/*",
        },
    }
    locked = replication.role_statements(names, source_locked=True)
    assert "s3:GetObjectRetention" in locked[1]["Action"]
    assert "s3:GetObjectLegalHold" in locked[1]["Action"]
    everything = repr(locked)
    for absent in ("s3:ReplicateDelete", "s3:GetObjectVersion'", "s3:GetObject'", "s3:ObjectOwnerOverride", "kms:"):
        assert absent not in everything


def test_each_key_statement_is_through_s3_for_its_own_bucket(names: replication.ReplicationNames) -> None:
    source = replication.source_key_statement(names)
    assert source["Action"] == ["kms:Decrypt"]
    assert source["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"},
        "StringLike": {
            "kms:EncryptionContext:aws:s3:arn": [names.source_bucket_arn, f"{names.source_bucket_arn}/records/*"]
        },
    }
    replica = replication.replica_key_statement(names)
    assert replica["Action"] == ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"]
    assert replica["Condition"]["StringEquals"] == {"kms:ViaService": "s3.eu-central-1.amazonaws.com"}
    assert replica["Condition"]["StringLike"]["kms:EncryptionContext:aws:s3:arn"][0] == names.replica_bucket_arn


def test_the_trust_is_s3_alone() -> None:
    assert replication.trust_policy()["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]


def test_the_replica_settings_mirror_the_primary_with_the_replica_names(names: replication.ReplicationNames) -> None:
    admin = f"arn:aws:iam::{ACCOUNT}:role/KeyAdmins"
    settings = AppSettings.from_context(
        CONTEXT
        | {
            "keyAdminArns": admin,
            "objectLockMode": "governance",
            "objectLockRetentionDays": "30",
            "replicaObjectLockMode": "compliance",
        }
    ).storage()
    replica = replication.replica_storage_settings(settings, names)
    assert isinstance(replica, StorageSettings)
    assert (replica.bucket_name, replica.key_alias) == (names.replica_bucket, names.key_alias)
    assert list(replica.key_admins) == [admin]
    assert (replica.object_lock_mode, replica.object_lock_retention_days) == (ObjectLockMode.COMPLIANCE, 30)
    assert replica.replica_region is None
    assert replica.auth_role is None
    assert replica.recordings_prefix == settings.recordings_prefix
