"""A cluster's auth role in its workload account: the role (or an existing one) and its identity policy.

Cross-account access needs both sides: the recordings account's key and bucket policies name the role
(``constructs_lib.central_storage``), and the role's own account must allow the same actions. The
identity policy gives Teleport's S3 actions on the bucket and the cluster's prefix, and the KMS calls
S3 makes for it (``kms:GenerateDataKey``, and ``kms:Decrypt``, which multipart uploads under SSE-KMS
need too), through S3 for this bucket only.
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib.access_policy import RecordingsAccessPolicy
from constructs_lib.auth_role import AuthNodeRole
from constructs_lib.compliance import acknowledgments
from constructs_lib.core import clusters

REASON_RECORDINGS_KEY_OF_ANOTHER_ACCOUNT = (
    "The recordings key is created by the recordings account's stack, so its key id is unknown when this "
    "workload stack is synthesized (CDK cannot reference another account's stack): the statement names every "
    "key of the recordings account and region, limited to S3 calling KMS for the recordings bucket, and KMS "
    "also requires the key policy, which only the recordings key's policy grants to this role."
)


class ClusterAuthRole(Construct):
    """One cluster's auth role (created with its trust, or existing) with the recordings identity policy."""

    def __init__(
        self, scope: Construct, id: str, *, layout: clusters.OrganizationPlan, cluster: clusters.ClusterPlan
    ) -> None:
        """
        :param layout: the organization layout (the recordings account's bucket, region and key ARNs).
        :param cluster: the cluster whose role this is (its account is this stack's).
        """
        super().__init__(scope, id)
        self.cluster = cluster
        self.auth_node_role: AuthNodeRole | None = None
        if cluster.existing:
            self.role: iam.IRole = iam.Role.from_role_arn(self, "ExistingAuthRole", cluster.role_arn, mutable=True)
            self.access_policy = RecordingsAccessPolicy(
                self,
                "RecordingsAccess",
                bucket_arn=layout.bucket_arn,
                recordings_prefix=cluster.prefix,
                roles=[self.role],
            )
        else:
            self.auth_node_role = AuthNodeRole(
                self,
                "AuthRole",
                bucket_arn=layout.bucket_arn,
                recordings_prefix=cluster.prefix,
                settings=cluster.settings.replaced(auth_role_name=cluster.role_name),
            )
            self.role = self.auth_node_role.role
            self.access_policy = self.auth_node_role.access_policy
        policy = self.access_policy.policy
        for statement in clusters.identity_kms_statements(layout, cluster):
            policy.add_statements(iam.PolicyStatement.from_json(statement))
        if not layout.names_key_of(cluster):  # no key ARN in the settings yet: every key of the account
            every_key = acknowledgments.nag_resource_string(self, layout.keys_arn)
            acknowledgments.acknowledge(
                policy.node.default_child or policy,
                f"AwsSolutions::AwsSolutions-IAM5[Resource::{every_key}]",
                REASON_RECORDINGS_KEY_OF_ANOTHER_ACCOUNT,
            )

    @property
    def instance_profile(self) -> iam.InstanceProfile | None:
        return self.auth_node_role.instance_profile if self.auth_node_role is not None else None
