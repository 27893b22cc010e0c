"""Tamper alarms as plain data (pure): which CloudTrail events, for which resources, and who may decrypt.

EventBridge receives CloudTrail's "AWS API Call via CloudTrail" events for management calls only while
a trail logs management events in the region; IAM is a global service whose events arrive in
us-east-1 only (``IAM_EVENT_REGION``), so an app in another region forwards them there
(``constructs_lib.alarms.IamEventForwarder``). ``kms:Decrypt`` is a read-only management event:
EventBridge matches it only on a rule whose state is ``ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS``.
The CIS AWS Foundations Benchmark's 4.7 (KMS key deletion) and 4.8 (S3 bucket policy changes) are the
anchor; these rules cover far more of what could take recordings away from their owners.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail"
IAM_EVENT_REGION = "us-east-1"
#: The rule state that also matches read-only management events (Decrypt).
ALL_MANAGEMENT_EVENTS_STATE = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"

KEY_EVENTS = (
    "CreateGrant",
    "DeleteAlias",
    "DisableKey",
    "DisableKeyRotation",
    "PutKeyPolicy",
    "ScheduleKeyDeletion",
    "UpdateAlias",
)
BUCKET_EVENTS = (
    "DeleteBucket",
    "DeleteBucketEncryption",
    "DeleteBucketPolicy",
    "DeletePublicAccessBlock",
    "PutBucketEncryption",
    "PutBucketLifecycleConfiguration",
    "PutBucketOwnershipControls",
    "PutBucketPolicy",
    "PutBucketReplication",
    "PutBucketVersioning",
    "PutObjectLockConfiguration",
    "PutPublicAccessBlock",
)
ROLE_EVENTS = (
    "AttachRolePolicy",
    "DeleteRolePermissionsBoundary",
    "DeleteRolePolicy",
    "DetachRolePolicy",
    "PutRolePermissionsBoundary",
    "PutRolePolicy",
    "UpdateAssumeRolePolicy",
)

Pattern = dict[str, Any]


def _cloudtrail(source: str, event_source: str, names: Sequence[str], **detail: Any) -> Pattern:
    return {
        "source": [source],
        "detail-type": [CLOUDTRAIL_DETAIL_TYPE],
        "detail": {"eventSource": [event_source], "eventName": list(names), **detail},
    }


def key_pattern(key_arn: str) -> Pattern:
    return _cloudtrail("aws.kms", "kms.amazonaws.com", KEY_EVENTS, resources={"ARN": [key_arn]})


def bucket_pattern(bucket_name: str) -> Pattern:
    return _cloudtrail("aws.s3", "s3.amazonaws.com", BUCKET_EVENTS, requestParameters={"bucketName": [bucket_name]})


def role_pattern(role_name: str | None = None) -> Pattern:
    """The auth role's changes; without a name, every role's (the us-east-1 forwarder's pattern)."""
    detail: dict[str, Any] = {"requestParameters": {"roleName": [role_name]}} if role_name is not None else {}
    return _cloudtrail("aws.iam", "iam.amazonaws.com", ROLE_EVENTS, **detail)


#: The calls that turn the key's ciphertext into plaintext for their caller (ReEncrypt decrypts first).
DECRYPT_EVENTS = ("Decrypt", "ReEncrypt")


def decrypt_pattern(key_arn: str, allowed_arns: Sequence[str]) -> Pattern:
    """Decryption with this key by anyone but ``allowed_arns`` (role sessions by their role's ARN).

    A role session's ``userIdentity.arn`` names the session; its role is
    ``sessionContext.sessionIssuer.arn``. Every other identity type (root, another account, a service,
    a federated user) is never allowed.
    """
    allowed = list(allowed_arns)
    return _cloudtrail(
        "aws.kms",
        "kms.amazonaws.com",
        DECRYPT_EVENTS,
        resources={"ARN": [key_arn]},
        **{
            "$or": [
                {
                    "userIdentity": {
                        "type": ["AssumedRole"],
                        "sessionContext": {"sessionIssuer": {"arn": [{"anything-but": allowed}]}},
                    }
                },
                {"userIdentity": {"type": ["IAMUser"], "arn": [{"anything-but": allowed}]}},
                {"userIdentity": {"type": [{"anything-but": ["AssumedRole", "IAMUser"]}]}},
            ]
        },
    )
