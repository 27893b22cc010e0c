"""The disaster-recovery replica: a recordings key and bucket of the same design, in ``replicaRegion``.

Deployed BEFORE the primary stack: S3 checks, when the primary's replication rule is put, that the replica
bucket exists with versioning (research notes §9, trap 5). Every name it shares with the primary (the
bucket, the alias, the replication and auth roles) comes from the settings
(``core.replication.replication_names``), never from a cross-region reference (CDK's are experimental);
``tests/stacks/test_replica_stack.py`` checks that both stacks agree.
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
from constructs import Construct

from constructs_lib.core import outputs, replication, retention
from constructs_lib.core.settings import AppSettings
from constructs_lib.storage import SessionRecordingsStorage
from stacks.recordings_stack import _AccessDesign, stack_defaults

REPLICA_STACK_NAME = replication.REPLICA_STACK_NAME


class ReplicaStack(cdk.Stack):
    """The replica key (single-Region, its own), bucket, access-log bucket and tamper alarms; termination
    protection on. Outputs the replica's ``audit_sessions_uri`` (for failover) and what it created."""

    def __init__(self, scope: Construct, id: str, *, settings: AppSettings, **kwargs: Any) -> None:
        """
        :param settings: the app's settings with ``replicaRegion`` (validated): the stack's environment is the
            replica's account (``replicaAccount``, else ``account``) and ``replicaRegion``.
        :param kwargs: ``cdk.Stack`` properties. Default: termination protection on; with ``deployRoleArn``, the
            same CloudFormation execution role as the primary (IAM roles are global).
        """
        names = replication.replication_names(settings.storage(), settings.environment())
        stack_defaults(
            settings,
            kwargs,
            account=names.replica_account,
            region=names.replica_region,
            description=(
                f"Teleport session recordings: disaster-recovery replica of {names.source_bucket} (Teleport RFD 42)"
            ),
        )
        super().__init__(scope, id, **kwargs)
        self.names = names
        self.storage = SessionRecordingsStorage(
            self,
            "Storage",
            settings=replication.replica_storage_settings(settings.storage(), names),
            replica_of=names,
        )
        values = {
            outputs.STORAGE_URI: (
                self.storage.storage_uri,
                "teleport.yaml audit_sessions_uri for failover to the replica (README: failover)",
            ),
            outputs.KEY_ARN: (self.storage.key.key_arn, "ARN of the replica's KMS key"),
            outputs.KEY_ID: (self.storage.key.key_id, "ID of the replica's KMS key"),
            outputs.BUCKET_NAME: (self.storage.bucket.bucket_name, "Replica bucket"),
            outputs.AUTH_ROLE_ARN: (names.auth_role_arn, "IAM role of the Teleport auth service (the primary's)"),
            outputs.ACCESS_DESIGN: (
                self.to_json_string(cdk.Lazy.any(_AccessDesign(self.storage))),
                "Who may decrypt or administer the replica key (JSON), what recordings-kms verify proves policies "
                "against",
            ),
            outputs.RETENTION_DESIGN: (
                json.dumps(retention.retention_design(self.storage.settings), sort_keys=True),
                "The replica's retention settings (JSON) recordings-kms verify compares the live lifecycle and "
                "Object Lock with",
            ),
        }
        if self.storage.alarms is not None:
            values[outputs.ALARM_TOPIC_ARN] = (
                self.storage.alarms.topic.topic_arn,
                "SNS topic of the replica's tamper alarms (subscribe your security team's endpoints)",
            )
        for output_id, (value, description) in values.items():
            cdk.CfnOutput(self, output_id, value=value, description=description)
