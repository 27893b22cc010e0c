"""The provenance record ``recordings-kms migrate`` writes on each copy, as user metadata (``x-amz-meta-...``).

Shared by the two commands that read it: ``migrate`` (to resume and to prove earlier copies) and
``verify --replica`` (a replica version migrate copied carries a new version id; its provenance names the
primary version it copies).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

META_SOURCE = "recordings-kms-source"
META_SOURCE_VERSION = "recordings-kms-source-version-id"
META_SOURCE_ETAG = "recordings-kms-source-etag"
META_SOURCE_LAST_MODIFIED = "recordings-kms-source-last-modified"
META_SHA256 = "recordings-kms-sha256"
META_CHECKSUM = "recordings-kms-checksum-sha256"
PROVENANCE_KEYS = (
    META_SOURCE,
    META_SOURCE_VERSION,
    META_SOURCE_ETAG,
    META_SOURCE_LAST_MODIFIED,
    META_SHA256,
    META_CHECKSUM,
)


@dataclass(frozen=True)
class SourceOf:
    """Which source version a copy says it copies."""

    bucket: str
    key: str
    version_id: str


def source_of(metadata: Mapping[str, str]) -> SourceOf | None:
    """The source a copy names in its metadata, or ``None`` when the object was not written by migrate."""
    if any(name not in metadata for name in PROVENANCE_KEYS):
        return None
    named = metadata[META_SOURCE]
    bucket, separator, key = named.removeprefix("s3://").partition("/")
    if not named.startswith("s3://") or not separator:
        return None
    return SourceOf(bucket, unquote(key), metadata[META_SOURCE_VERSION])
