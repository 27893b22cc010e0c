"""The recordings bucket's settings (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from constructs_lib.core.kinds import Bool, Bucket, BucketObject, Text
from constructs_lib.core.settings.model import Spec, _Settings, setting
from constructs_lib.core.settings.values import bucket_name_rule, prefix_rule


@dataclass(frozen=True, kw_only=True)
class BucketSettings(_Settings):
    """The recordings bucket."""

    heading: ClassVar[str] = "Bucket"

    bucket_name: str | None = setting(
        None,
        Spec(
            "bucketName",
            Text("bucket name", bucket_name_rule, optional=True),
            "Recordings bucket name (S3 naming rules).",
            cli="--bucket",
            default_doc="`teleport-recordings-ACCOUNT-REGION` (see Naming)",
        ),
    )
    recordings_prefix: str = setting(
        "records",
        Spec(
            "recordingsPrefix",
            Text("string", prefix_rule),
            "Key prefix Teleport writes under; no leading/trailing slash, no wildcards. Scopes the auth role's "
            "object permissions and the readers'.",
            cli="--prefix",
        ),
    )
    require_encryption_headers: bool = setting(
        False,
        Spec(
            "requireEncryptionHeaders",
            Bool(),
            "Strict mode: also deny puts without an encryption header (see the multipart caveat).",
            cli="--strict",
        ),
    )
    access_logs_bucket: str | BucketObject | None = setting(
        None,
        Spec(
            "accessLogsBucketName",
            Bucket(bucket_name_rule),
            "Send S3 server access logs to this existing bucket (a name; from Python also an `s3.IBucket`) instead "
            "of creating one (see Existing access-log bucket).",
            default_doc="a new SSE-S3 bucket",
        ),
    )
