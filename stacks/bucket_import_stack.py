"""Phase 1 of adopting an existing bucket: the stack ``cdk import`` creates, holding the bucket as it is."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.compliance import acknowledgments
from constructs_lib.core.settings import AppSettings
from stacks.recordings_stack import stack_defaults

_ALL_BUT_AWS_SOLUTIONS = ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
#: What the recordings stack sets on the bucket in the update after the import, by the findings the packs
#: raise on the bucket as it is (the import may change nothing about it).
_SET_BY_THE_UPDATE: dict[str, tuple[str, tuple[str, ...]]] = {
    "S3BucketLoggingEnabled": ("server access logging", _ALL_BUT_AWS_SOLUTIONS),
    "S3BucketPublicReadProhibited": ("the public access block", _ALL_BUT_AWS_SOLUTIONS),
    "S3BucketPublicWriteProhibited": ("the public access block", _ALL_BUT_AWS_SOLUTIONS),
    "S3BucketSSLRequestsOnly": ("the TLS-only bucket policy", _ALL_BUT_AWS_SOLUTIONS),
    "S3BucketVersioningEnabled": ("versioning", _ALL_BUT_AWS_SOLUTIONS),
    "S3DefaultEncryptionKMS": ("default encryption under the recordings key", _ALL_BUT_AWS_SOLUTIONS),
    "S1": ("server access logging", ("AwsSolutions",)),
    "S10": ("the TLS-only bucket policy", ("AwsSolutions",)),
}


class BucketImportStack(cdk.Stack):
    """The recordings stack's name with the existing bucket alone, named and retained, nothing else.

    The bucket keeps the construct path of ``SessionRecordingsStorage``'s bucket (``Storage/Bucket/Resource/Resource``),
    so its logical id is the recordings stack's (``StorageBucketE81A0E79`` in the bundled app) and the update
    that follows the import (``make deploy``, the recordings stack) finds it and sets its encryption, policy and
    the rest in place. Neither outputs nor any other resource: an import may add nothing else
    (``constructs_lib.core.bucket_import``). The compliance packs' findings on this bucket as it is are
    acknowledged one by one (the update fixes each).
    """

    def __init__(self, scope: Construct, id: str, *, settings: AppSettings, **kwargs: Any) -> None:
        super().__init__(scope, id, **stack_defaults(settings, kwargs))
        # SessionRecordingsStorage "Storage" > RecordingsBucket "Bucket" > s3.Bucket "Resource" > CfnBucket "Resource".
        parent: Construct = self
        for construct_id in ("Storage", "Bucket", "Resource"):
            parent = Construct(parent, construct_id)
        self.bucket = s3.CfnBucket(parent, "Resource", bucket_name=settings.bucket_name)
        self.bucket.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        for rule, (what, packs) in _SET_BY_THE_UPDATE.items():
            reason = (
                "Import template of an existing bucket (make import): CloudFormation import may not change the "
                f"bucket, so the template claims nothing about it; the update that follows sets {what}."
            )
            acknowledgments.acknowledge_in_packs(self.bucket, rule, reason, packs)
        acknowledgments.acknowledge_in_packs(
            self.bucket,
            "S3BucketReplicationEnabled",
            acknowledgments.REASON_REPLICATION_RECORDINGS,
            _ALL_BUT_AWS_SOLUTIONS,
        )
