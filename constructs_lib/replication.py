"""S3 replication of the recordings: the primary's role, policy, rule and failure alarm, and the replica's grants.

The statements and the rule are ``constructs_lib.core.replication``'s; this module makes them resources.
``SessionRecordingsStorage`` builds :class:`RecordingsReplication` when its settings name a
``replica_region``, and calls :func:`let_the_replication_role_in` on a replica (``replica_of=``).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.access_policy import RecordingsAccessPolicy
from constructs_lib.alarms import TamperAlarms
from constructs_lib.compliance import acknowledgments
from constructs_lib.core import policies, replication
from constructs_lib.core.replication import ReplicationNames
from constructs_lib.key import RecordingsKey

#: The failure alarm: any failed replication operation in 5 minutes. AWS advises "Treat missing data as ignore"
#: for replication metrics (S3 UG, "S3 Replication metrics in CloudWatch"): metrics come with operations.
FAILURE_PERIOD = cdk.Duration.minutes(5)


class RecordingsReplication(Construct):
    """The replication role (trusted by S3 alone), its managed policy, the rule on the bucket, the alarm."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        names: ReplicationNames,
        bucket: s3.Bucket,
        key: RecordingsKey,
        source_locked: bool,
        alarms: TamperAlarms | None,
        auth_role: iam.IRole | None,
    ) -> None:
        """
        :param names: what both stacks name (``core.replication.replication_names``).
        :param bucket: the recordings bucket (the source). :param key: its key.
        :param source_locked: whether the source has Object Lock (its retention reads are then needed).
        :param alarms: the tamper alarms (the failure alarm and the role's changes go to their topic), or none.
        :param auth_role: the auth role, given Teleport's S3 permissions on the replica bucket for failover (here,
            not in the replica stack: that stack deploys first, before a created auth role exists), or none.
        """
        super().__init__(scope, id)
        self.names = names
        self.role = iam.Role(
            self,
            "Role",
            role_name=names.replication_role_name,
            assumed_by=iam.ServicePrincipal(replication.S3_SERVICE),
            description="S3 replication of the Teleport session recordings to the replica (RFD 42 design)",
        )
        statements = replication.role_statements(names, source_locked=source_locked)
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            description="S3 replication of the Teleport session recordings: read for replication, write replicas",
            statements=[iam.PolicyStatement.from_json(s) for s in statements],
            roles=[self.role],
        )
        self._acknowledge_wildcards(statements)
        # The role by its name-derived ARN (what the replica's key policy names too), matched by aws:PrincipalArn:
        # the key need not wait for the role, and the access proofs read one concrete ARN.
        role_arn = names.replication_role_arn
        key.add_policy_statements(
            policies.statements_for(replication.source_key_statement(names), [role_arn], {role_arn})
        )
        cfn = bucket.node.default_child
        if not isinstance(cfn, s3.CfnBucket):
            raise TypeError("an s3.Bucket without its CfnBucket")
        configuration = replication.replication_configuration(self.role.role_arn, names, names.replica_alias_arn)
        cfn.replication_configuration = replication_property(configuration)
        cfn.node.add_dependency(self.policy)  # the role's policy first (CFN UG: no role <-> bucket cycle)
        if auth_role is not None:
            RecordingsAccessPolicy(
                self,
                "FailoverAccess",
                bucket_arn=names.replica_bucket_arn,
                recordings_prefix=names.prefix,
                roles=[auth_role],
            )
        #: The failed-replication alarm, with the tamper alarms only (``alarms`` off: no topic, and no alarm).
        self.alarm: cloudwatch.Alarm | None = None
        if alarms is not None:
            self.alarm = self._failure_alarm(names)
            alarms.publish_alarm(self.alarm)
            alarms.add_role_rule("ReplicationRoleChanges", names.replication_role_name, "replication role")

    def _failure_alarm(self, names: ReplicationNames) -> cloudwatch.Alarm:
        """Any failed replication operation of the rule in 5 minutes (EventBridge never gets these, research §6)."""
        return cloudwatch.Alarm(
            self,
            "FailedReplication",
            alarm_description=(
                f"Teleport session recordings: S3 failed to replicate recordings to {names.replica_bucket}"
            ),
            metric=cloudwatch.Metric(
                namespace="AWS/S3",
                metric_name="OperationsFailedReplication",
                dimensions_map={
                    "SourceBucket": names.source_bucket,
                    "DestinationBucket": names.replica_bucket,
                    "RuleId": replication.RULE_ID,
                },
                statistic="Sum",
                period=FAILURE_PERIOD,
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.IGNORE,
        )

    def _acknowledge_wildcards(self, statements: list[dict[str, Any]]) -> None:
        """AwsSolutions-IAM5, one finding per wildcard resource, each with this design's reason."""
        for statement in statements:
            resource = statement["Resource"]
            if "*" not in resource:
                continue
            acknowledgments.acknowledge(
                self.policy.node.default_child or self.policy,
                f"AwsSolutions::AwsSolutions-IAM5[Resource::{acknowledgments.nag_resource_string(self, resource)}]",
                acknowledgments.REASON_REPLICATION_PREFIX_WILDCARD,
            )


def replication_property(configuration: dict[str, Any]) -> s3.CfnBucket.ReplicationConfigurationProperty:
    """The L1 struct of ``core.replication.replication_configuration``'s dictionary (cdk-nag reads the struct)."""
    rules = []
    for rule in configuration["Rules"]:
        destination = rule["Destination"]
        timing, metrics = destination["ReplicationTime"], destination["Metrics"]
        rules.append(
            s3.CfnBucket.ReplicationRuleProperty(
                id=rule["Id"],
                status=rule["Status"],
                priority=rule["Priority"],
                filter=s3.CfnBucket.ReplicationRuleFilterProperty(prefix=rule["Filter"]["Prefix"]),
                delete_marker_replication=s3.CfnBucket.DeleteMarkerReplicationProperty(
                    status=rule["DeleteMarkerReplication"]["Status"]
                ),
                source_selection_criteria=s3.CfnBucket.SourceSelectionCriteriaProperty(
                    sse_kms_encrypted_objects=s3.CfnBucket.SseKmsEncryptedObjectsProperty(
                        status=rule["SourceSelectionCriteria"]["SseKmsEncryptedObjects"]["Status"]
                    )
                ),
                destination=s3.CfnBucket.ReplicationDestinationProperty(
                    bucket=destination["Bucket"],
                    encryption_configuration=s3.CfnBucket.EncryptionConfigurationProperty(
                        replica_kms_key_id=destination["EncryptionConfiguration"]["ReplicaKmsKeyID"]
                    ),
                    replication_time=s3.CfnBucket.ReplicationTimeProperty(
                        status=timing["Status"],
                        time=s3.CfnBucket.ReplicationTimeValueProperty(minutes=timing["Time"]["Minutes"]),
                    ),
                    metrics=s3.CfnBucket.MetricsProperty(
                        status=metrics["Status"],
                        event_threshold=s3.CfnBucket.ReplicationTimeValueProperty(
                            minutes=metrics["EventThreshold"]["Minutes"]
                        ),
                    ),
                ),
            )
        )
    return s3.CfnBucket.ReplicationConfigurationProperty(role=configuration["Role"], rules=rules)


def let_the_replication_role_in(names: ReplicationNames, *, key: RecordingsKey) -> None:
    """On the replica: the replica key lets the primary's replication role encrypt replicas (and, for S3 Bucket
    Keys, decrypt) through S3 for the replica bucket.

    The role is the primary stack's, deployed after this one: it is matched by ``aws:PrincipalArn``, which KMS
    does not look up (``policies.statements_for``). In one account the key policy alone lets it in; no bucket
    policy statement is needed (the bucket policy only denies, and the role's own policy allows the writes).
    """
    role = names.replication_role_arn
    key.add_policy_statements(policies.statements_for(replication.replica_key_statement(names), [role], {role}))
