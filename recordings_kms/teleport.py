"""The ``audit_sessions_uri`` Teleport reads (RFD 42's ``sse_kms_key``) and the teleport.yaml snippet."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from constructs_lib.core.validation import KEY_ARN, check_bucket_name

_KEY_ID = re.compile(r"^(?:mrk-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|^mrk-[0-9a-f]{32}$")


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
        return KEY_ARN.match(self.sse_kms_key) is not None


def parse_storage_uri(uri: str) -> StorageUri:
    """Check a storage URI the way this design needs it: an S3 bucket and the recordings key.

    Teleport passes ``sse_kms_key`` to S3 verbatim and never validates it; the bucket policy only
    accepts the key's ARN or ID, so anything else (an alias) would make every upload fail.
    """
    parts = urlsplit(uri.strip())
    if parts.scheme != "s3":
        raise StorageUriError(f"storage URI must start with s3://, got {uri!r}")
    bucket = parts.netloc
    problems = check_bucket_name("bucket", bucket)
    if problems:
        raise StorageUriError(f"storage URI {uri!r}: {problems[0].render()}")
    query = parse_qs(parts.query, keep_blank_values=True)
    keys = query.get("sse_kms_key", [])
    if len(keys) != 1 or not keys[0]:
        raise StorageUriError(
            f"storage URI {uri!r} has no sse_kms_key: Teleport would encrypt recordings with the AWS managed "
            "key aws/s3, which the bucket policy refuses (add sse_kms_key=KEY_ARN)"
        )
    key = keys[0]
    if not KEY_ARN.match(key) and not _KEY_ID.match(key):
        raise StorageUriError(
            f"storage URI {uri!r}: sse_kms_key must be the key ARN (or key ID), got {key!r}; the bucket policy "
            "denies puts that name the key any other way, aliases included"
        )
    if any(value.lower() in ("", "true", "1") for value in query.get("disablesse", [])):
        raise StorageUriError(f"storage URI {uri!r} sets disablesse: Teleport would send no encryption headers")
    regions = query.get("region", [])
    return StorageUri(
        uri=uri.strip(),
        bucket=bucket,
        prefix=parts.path.strip("/"),
        region=regions[0] if regions else None,
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
