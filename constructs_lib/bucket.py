"""The S3 bucket that holds Teleport session recordings, encrypted by default under the recordings key."""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.compliance import acknowledgments, checkov
from constructs_lib.core import policies
from constructs_lib.core.retention import access_log_rules, recording_rules
from constructs_lib.core.settings import BucketSettings, ObjectLockMode, RetentionSettings
from constructs_lib.private.construction import check_settings, removed_on_failure, settings_as_keywords, settings_of
from constructs_lib.private.environment import environment_of

DEFAULT_ACCESS_LOGS_PREFIX = "recordings-bucket/"
SERVER_ACCESS_LOGS_USE_BUCKET_POLICY = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"
BUCKET_GRANT_GIVES_NO_DECRYPTION = "teleport-recordings:bucketGrantGivesNoDecryption"
_GRANT_WARNING = (
    "bucket.{method}() gives S3 access only: the objects are encrypted under the recordings key, whose policy "
    "names no account root, so the grantee still cannot decrypt (KMS ignores IAM policies for this key). For a "
    "decrypt-only reader call storage.grant_read_recordings(grantee) (or set readerArns)."
)


def bucket_arn_for(bucket_name: str) -> str:
    """The bucket ARN from its name, without a reference to the bucket resource.

    The key policy needs the bucket ARN and the bucket needs the key ARN: deriving the ARN from a
    name known at synth time keeps that out of a CloudFormation dependency cycle.
    """
    return cdk.Arn.format(
        cdk.ArnComponents(service="s3", resource=bucket_name, region="", account="", partition=cdk.Aws.PARTITION)
    )


class RecordingsS3Bucket(s3.Bucket):
    """An ``s3.Bucket`` whose read/write grants warn that they cannot give decryption of recordings."""

    def _warn(self, method: str) -> None:
        cdk.Annotations.of(self).add_warning_v2(BUCKET_GRANT_GIVES_NO_DECRYPTION, _GRANT_WARNING.format(method=method))

    def grant_read(self, identity: iam.IGrantable, objects_key_pattern: typing.Any = None) -> iam.Grant:
        self._warn("grant_read")
        return super().grant_read(identity, objects_key_pattern)

    def grant_read_write(self, identity: iam.IGrantable, objects_key_pattern: typing.Any = None) -> iam.Grant:
        self._warn("grant_read_write")
        return super().grant_read_write(identity, objects_key_pattern)

    def grant_write(
        self,
        identity: iam.IGrantable,
        objects_key_pattern: typing.Any = None,
        allowed_action_patterns: typing.Sequence[str] | None = None,
    ) -> iam.Grant:
        self._warn("grant_write")
        return super().grant_write(identity, objects_key_pattern, allowed_action_patterns)

    def grant_put(self, identity: iam.IGrantable, objects_key_pattern: typing.Any = None) -> iam.Grant:
        self._warn("grant_put")
        return super().grant_put(identity, objects_key_pattern)


@dataclass(frozen=True, kw_only=True)
class RecordingsBucketProps(BucketSettings, RetentionSettings):
    """The keywords of ``RecordingsBucket`` for type checkers: its own, and every setting or ``settings`` and
    ``retention`` (its own ``bucket_name`` is the name, never ``settings.bucket_name``)."""

    bucket_name: str = field()  # required: the construct's own keyword (field(): not BucketSettings' default)
    encryption_key: kms.IKey
    settings: BucketSettings | None = None
    retention: RetentionSettings | None = None
    access_logs_prefix: str = DEFAULT_ACCESS_LOGS_PREFIX
    also_accepted_keys: Sequence[kms.IKey] = ()


class RecordingsBucket(Construct):
    """Versioned, private, SSE-KMS bucket whose policy refuses any other encryption and plain HTTP.

    Writes are stored under ``encryption_key`` with S3 Bucket Keys (one KMS request per bucket-key
    period instead of one per object and part). The bucket policy denies puts that ask for another
    encryption or another key; a put without encryption headers is allowed unless
    ``require_encryption_headers``, because default encryption stores it under the key and
    Teleport's multipart ``UploadPart`` requests carry no encryption headers.
    """

    @settings_as_keywords(RecordingsBucketProps, settings=BucketSettings, retention=RetentionSettings)
    @removed_on_failure
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket_name: str,
        encryption_key: kms.IKey,
        settings: BucketSettings | None = None,
        retention: RetentionSettings | None = None,
        access_logs_prefix: str = DEFAULT_ACCESS_LOGS_PREFIX,
        also_accepted_keys: Sequence[kms.IKey] = (),
    ) -> None:
        """
        :param bucket_name: the bucket name; must be known at synth time (plain string or pseudo-parameters),
            so that the key policy can name the bucket without a dependency cycle.
        :param encryption_key: the recordings key; default encryption and the bucket policy use it.
        :param settings: ``recordings_prefix``, ``require_encryption_headers`` and ``access_logs_bucket``
            (see ``BucketSettings``), or each as a keyword but ``bucket_name``. Default: all defaults.
        :param retention: Object Lock, expiry, transitions, the abort of incomplete uploads and the access logs'
            expiry (see ``RetentionSettings``; ``core/retention.py`` has the rules), or each as a keyword. Default:
            all defaults.
        :param access_logs_prefix: key prefix of the access logs. Default: ``recordings-bucket/``.
        :param also_accepted_keys: further keys the bucket policy lets a put name (``clusterIsolation=key``: each
            cluster's own, confined to its prefix by ``central_storage.py``). Default: none, only ``encryption_key``.
        """
        super().__init__(scope, id)
        settings = settings_of(settings, BucketSettings)
        retention = settings_of(retention, RetentionSettings)
        env = environment_of(self)
        check_settings(self, settings, env)
        check_settings(self, retention, env)
        # Grant log delivery through the log bucket's policy, not an ACL: the only way that works with
        # ObjectOwnership BucketOwnerEnforced. Set here, for this subtree only, so importing apps need not
        # set the flag (a value of false there would otherwise make synthesis fail).
        self.node.set_context(SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, True)
        given_log_bucket = settings.access_logs_bucket
        access_logs_bucket = (
            s3.Bucket.from_bucket_name(self, "ExistingAccessLogsBucket", given_log_bucket)
            if isinstance(given_log_bucket, str)
            else typing.cast("s3.IBucket | None", given_log_bucket)
        )
        require_encryption_headers = settings.require_encryption_headers

        imported_log_bucket = access_logs_bucket is not None
        if access_logs_bucket is None:
            access_logs_bucket = s3.Bucket(
                self,
                "AccessLogs",
                # S3 server access logging only delivers to buckets encrypted with SSE-S3.
                encryption=s3.BucketEncryption.S3_MANAGED,
                block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
                enforce_ssl=True,
                minimum_tls_version=1.2,
                versioned=True,
                lifecycle_rules=[lifecycle_rule(r) for r in access_log_rules(retention.access_log_retention_days)],
                removal_policy=cdk.RemovalPolicy.RETAIN,
            )
            log_bucket_resource = access_logs_bucket.node.default_child or access_logs_bucket
            acknowledgments.acknowledge_in_packs(
                log_bucket_resource,
                "S3DefaultEncryptionKMS",
                acknowledgments.REASON_ACCESS_LOGS_SSE_S3,
                acknowledgments.KMS_ENCRYPTION_PACKS,
            )
            acknowledgments.acknowledge_in_packs(
                log_bucket_resource,
                "S3BucketReplicationEnabled",
                acknowledgments.REASON_REPLICATION_ACCESS_LOGS,
                acknowledgments.REPLICATION_PACKS,
            )
            if isinstance(log_bucket_resource, cdk.CfnResource):
                checkov.skip_in_checkov(log_bucket_resource, checkov.S3_ACCESS_LOGGING)
        self.access_logs_bucket: s3.IBucket = access_logs_bucket

        self.bucket: s3.Bucket = RecordingsS3Bucket(
            self,
            "Resource",
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=encryption_key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            # Teleport plays a recording back by its oldest object version.
            versioned=True,
            server_access_logs_bucket=access_logs_bucket,
            server_access_logs_prefix=access_logs_prefix,
            lifecycle_rules=[lifecycle_rule(r) for r in recording_rules(retention, settings.recordings_prefix)],
            **_object_lock(retention),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        acknowledgments.acknowledge_in_packs(
            self.bucket.node.default_child or self.bucket,
            "S3BucketReplicationEnabled",
            acknowledgments.REASON_REPLICATION_RECORDINGS,
            acknowledgments.REPLICATION_PACKS,
        )
        if imported_log_bucket:
            cdk.Annotations.of(self.bucket).acknowledge_warning(
                "@aws-cdk/aws-s3:accessLogsPolicyNotAdded", acknowledgments.REASON_IMPORTED_LOG_BUCKET
            )
        for statement in policies.bucket_policy_statements(
            bucket_arn=self.bucket.bucket_arn,
            key_arn=encryption_key.key_arn,
            key_id=encryption_key.key_id,
            require_encryption_headers=require_encryption_headers,
            also_accepted_keys=[(k.key_arn, k.key_id) for k in also_accepted_keys],
        ):
            self.bucket.add_to_resource_policy(iam.PolicyStatement.from_json(statement))
        self.require_encryption_headers = require_encryption_headers

    @property
    def bucket_name(self) -> str:
        return self.bucket.bucket_name

    @property
    def bucket_arn(self) -> str:
        return self.bucket.bucket_arn


def _object_lock(retention: RetentionSettings) -> dict[str, Any]:
    """Object Lock with the default retention, or nothing (``ObjectLockEnabled`` updates in place, see README)."""
    mode = ObjectLockMode(retention.object_lock_mode)
    if mode is ObjectLockMode.NONE or retention.object_lock_retention_days is None:
        return {}
    period = cdk.Duration.days(retention.object_lock_retention_days)
    locked = s3.ObjectLockRetention.compliance(period) if mode is ObjectLockMode.COMPLIANCE else None
    return {
        "object_lock_enabled": True,
        "object_lock_default_retention": locked or s3.ObjectLockRetention.governance(period),
    }


def lifecycle_rule(rule: Mapping[str, Any]) -> s3.LifecycleRule:
    """A CDK lifecycle rule from the S3 API shape of ``core/retention.py``."""
    days = cdk.Duration.days
    expiration = rule.get("Expiration", {})
    return s3.LifecycleRule(
        id=rule["ID"],
        enabled=rule["Status"] == "Enabled",
        prefix=rule["Filter"]["Prefix"] or None,
        expiration=days(expiration["Days"]) if "Days" in expiration else None,
        expired_object_delete_marker=expiration.get("ExpiredObjectDeleteMarker"),
        noncurrent_version_expiration=(
            days(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])
            if "NoncurrentVersionExpiration" in rule
            else None
        ),
        abort_incomplete_multipart_upload_after=(
            days(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
            if "AbortIncompleteMultipartUpload" in rule
            else None
        ),
        transitions=[
            s3.Transition(storage_class=s3.StorageClass(t["StorageClass"]), transition_after=days(t["Days"]))
            for t in rule.get("Transitions", [])
        ]
        or None,
        noncurrent_version_transitions=[
            s3.NoncurrentVersionTransition(
                storage_class=s3.StorageClass(t["StorageClass"]), transition_after=days(t["NoncurrentDays"])
            )
            for t in rule.get("NoncurrentVersionTransitions", [])
        ]
        or None,
    )
