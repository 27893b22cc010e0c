"""The ``audit_sessions_uri`` Teleport reads (RFD 42's ``sse_kms_key``) and the teleport.yaml snippet."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from constructs_lib.core import arns
from constructs_lib.core.settings import bucket_name_rule, region_rule


class StorageUriError(ValueError):
    """A storage URI Teleport would not use to write recordings under the key."""


@dataclass(frozen=True)
class StorageUri:
    uri: str
    bucket: str
    prefix: str
    region: str | None
    sse_kms_key: str

    @property
    def names_key_by_arn(self) -> bool:
        return arns.parse_key_arn(self.sse_kms_key) is not None


def parse_storage_uri(uri: str) -> StorageUri:
    """Check a storage URI the way this design needs it: an S3 bucket and the recordings key.

    Teleport passes ``sse_kms_key`` to S3 verbatim and never validates it; the bucket policy only
    accepts the key's ARN or ID, so anything else (an alias) would make every upload fail.
    """
    parts = urlsplit(uri.strip())
    if parts.scheme != "s3":
        raise StorageUriError(f"storage URI must start with s3://, got {uri!r}")
    bucket = parts.netloc
    allowed = bucket_name_rule(bucket)
    if allowed:
        raise StorageUriError(f"storage URI {uri!r}: the bucket must be {allowed}, got {bucket!r}")
    query = parse_qs(parts.query, keep_blank_values=True)
    keys = query.get("sse_kms_key", [])
    if len(keys) != 1 or not keys[0]:
        raise StorageUriError(
            f"storage URI {uri!r} has no sse_kms_key: Teleport would encrypt recordings with the AWS managed "
            "key aws/s3, which the bucket policy refuses (add sse_kms_key=KEY_ARN)"
        )
    key = keys[0]
    key_arn = arns.parse_key_arn(key)
    if key_arn is None and not arns.is_key_id(key):
        raise StorageUriError(
            f"storage URI {uri!r}: sse_kms_key must be the key ARN (or key ID), got {key!r}; the bucket policy "
            "denies puts that name the key any other way, aliases included"
        )
    if any(value.lower() in ("", "true", "1") for value in query.get("disablesse", [])):
        raise StorageUriError(f"storage URI {uri!r} sets disablesse: Teleport would send no encryption headers")
    regions = query.get("region", [])
    region = regions[0] if regions else None
    if region is not None and (allowed := region_rule(region)):
        raise StorageUriError(f"storage URI {uri!r}: region must be {allowed}, got {region!r}")
    if region is not None and key_arn is not None and key_arn[0].region != region:
        raise StorageUriError(
            f"storage URI {uri!r}: sse_kms_key is a key in {key_arn[0].region}, but the bucket is in {region}: S3 "
            "can only use a KMS key of the bucket's own region (use a key, or a multi-Region replica, in the "
            "bucket's region)"
        )
    return StorageUri(
        uri=uri.strip(),
        bucket=bucket,
        prefix=parts.path.strip("/"),
        region=region,
        sse_kms_key=key,
    )


def teleport_config_snippet(storage: StorageUri) -> str:
    """The ``teleport.storage`` lines for every auth service instance, as YAML."""
    # A JSON string is a valid YAML double-quoted scalar: '?', '&' and ':' need no further care.
    return "\n".join(
        [
            "# teleport.yaml on every Teleport auth service instance (Teleport RFD 42).",
            "# Merge into your existing teleport.storage section: the backend (type, table_name, ...) and",
            "# audit_events_uri (the audit event log) are separate settings and stay as they are.",
            "teleport:",
            "  storage:",
            f"    audit_sessions_uri: {json.dumps(storage.uri)}",
            "",
        ]
    )
