"""The customer managed policy that gives an identity Teleport's S3 access to the recordings (or a reader's)."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib.compliance import acknowledgments
from constructs_lib.core import policies


class RecordingsAccessPolicy(Construct):
    """A customer managed IAM policy with Teleport's S3 permissions on the bucket and the recordings prefix.

    Attached to the given roles; a managed policy rather than an inline one, so that it can be
    reviewed and reused. It holds no delete action. KMS access is not here: it comes from the key policy.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket_arn: str,
        recordings_prefix: str,
        roles: list[iam.IRole] | None = None,
        users: list[iam.IUser] | None = None,
        read_only: bool = False,
    ) -> None:
        """
        :param bucket_arn: the recordings bucket.
        :param recordings_prefix: the key prefix (validated by the settings model).
        :param roles: roles to attach the policy to. :param users: users to attach it to.
        :param read_only: a decrypt-only reader's read actions instead of Teleport's read-write set.
        """
        super().__init__(scope, id)
        build = policies.reader_s3_policy_statements if read_only else policies.auth_s3_policy_statements
        self.policy = iam.ManagedPolicy(
            self,
            "Resource",
            description=(
                "Session recordings reader: read-only S3 on the recordings (RFD 42)"
                if read_only
                else "Teleport auth service: session recordings in S3 (RFD 42)"
            ),
            statements=[
                iam.PolicyStatement.from_json(s) for s in build(bucket_arn=bucket_arn, prefix=recordings_prefix)
            ],
            roles=roles,
            users=users,
        )
        objects_arn = policies.recordings_objects_arn(bucket_arn, recordings_prefix)
        acknowledgments.acknowledge(
            self.policy.node.default_child or self.policy,
            f"AwsSolutions::AwsSolutions-IAM5[Resource::{acknowledgments.nag_resource_string(self, objects_arn)}]",
            acknowledgments.REASON_READER_PREFIX_WILDCARD
            if read_only
            else acknowledgments.REASON_RECORDINGS_PREFIX_WILDCARD,
        )
