"""The records ``recordings-kms migrate`` passes between planning, copying, verifying and rendering."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

# The provenance record's metadata names live beside cli.py: verify --replica reads them too.
from recordings_kms.provenance import (
    META_CHECKSUM,
    META_SHA256,
    META_SOURCE,
    META_SOURCE_ETAG,
    META_SOURCE_LAST_MODIFIED,
    META_SOURCE_VERSION,
    source_of,
)

#: Storage classes whose objects S3 refuses to read or copy until they are restored.
ARCHIVED_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})


def strip_etag(etag: str) -> str:
    return etag.strip('"')


@dataclass(frozen=True, slots=True)
class SourceVersion:
    """One object version in the source listing."""

    key: str
    version_id: str
    size: int
    etag: str
    last_modified: datetime
    storage_class: str

    @property
    def archived(self) -> bool:
        return self.storage_class in ARCHIVED_CLASSES


@dataclass(frozen=True)
class Provenance:
    """Where a copy came from and what its bytes hash to, stored as user metadata on the copy itself.

    State kept on the copies (not in a local file) is what lets any machine resume a run: one HEAD
    per destination version tells a verified copy from anything else.
    """

    source_bucket: str
    source_key: str
    source_version_id: str
    source_etag: str
    #: The source version's LastModified: the copy's own LastModified is the time of the migration.
    source_last_modified: str
    #: Hex SHA-256 of the whole object (what ``sha256sum`` prints), for auditors.
    sha256_hex: str
    #: The ``x-amz-checksum-sha256`` S3 must report for the copy (full-object, or composite ``...-N``).
    checksum_sha256: str

    @classmethod
    def of(cls, version: SourceVersion, *, source_bucket: str, sha256_hex: str, checksum: str) -> Provenance:
        return cls(
            source_bucket=source_bucket,
            source_key=version.key,
            source_version_id=version.version_id,
            source_etag=strip_etag(version.etag),
            source_last_modified=version.last_modified.isoformat(),
            sha256_hex=sha256_hex,
            checksum_sha256=checksum,
        )

    def to_metadata(self) -> dict[str, str]:
        # Metadata travels in HTTP headers: ASCII only, so the key is percent-encoded.
        return {
            META_SOURCE: f"s3://{self.source_bucket}/{quote(self.source_key, safe='/')}",
            META_SOURCE_VERSION: self.source_version_id,
            META_SOURCE_ETAG: strip_etag(self.source_etag),
            META_SOURCE_LAST_MODIFIED: self.source_last_modified,
            META_SHA256: self.sha256_hex,
            META_CHECKSUM: self.checksum_sha256,
        }

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, str]) -> Provenance | None:
        """The provenance on a copy, or ``None`` when the object was not written by migrate."""
        source = source_of(metadata)
        if source is None:
            return None
        return cls(
            source_bucket=source.bucket,
            source_key=source.key,
            source_version_id=source.version_id,
            source_etag=metadata[META_SOURCE_ETAG],
            source_last_modified=metadata[META_SOURCE_LAST_MODIFIED],
            sha256_hex=metadata[META_SHA256],
            checksum_sha256=metadata[META_CHECKSUM],
        )


@dataclass(frozen=True)
class CopyFacts:
    """What S3 says about a destination version (HEAD or the copy's response): enough to verify it."""

    provenance: Provenance | None
    encryption: str | None
    kms_key_id: str | None
    checksum_sha256: str | None
    size: int | None = None
    last_modified: datetime | None = None
    etag: str | None = None


@dataclass(frozen=True, slots=True)
class ExistingCopy:
    """A destination version of a key migrate writes: its listed version and time, and its HEAD facts."""

    version_id: str
    last_modified: datetime
    facts: CopyFacts


@dataclass(frozen=True, slots=True)
class NotCopied:
    version: SourceVersion
    destination_key: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Copied:
    """A verified copy made by this run."""

    version: SourceVersion
    destination_key: str
    destination_version_id: str
    last_modified: datetime
    sha256_hex: str
    multipart: bool
    #: The copy's ETag: the destination key's current version now, so the next copy's ``If-Match``.
    etag: str


@dataclass(frozen=True, slots=True)
class KeyState:
    """A destination key as a fresh look at S3 finds it (after S3 refused a conditional copy).

    ``copied`` counts the source's versions, oldest first, that have verified copies there, as
    ``migrate.plan.reconcile`` decides; ``problem`` says why the key cannot be continued.
    """

    copied: int
    problem: str | None
    #: The LastModified of the newest verified copy (the next copy must be stamped in a later second).
    last_copy_time: datetime | None
    #: The ETag of the key's current version, or ``None`` when it has none (the next copy's precondition).
    current_etag: str | None
