"""How a copy is proven: SHA-256 of the source bytes against the SHA-256 S3 computes for the copy.

The source side is hashed here, from the bytes of the source version (streamed, constant memory):
SSE-S3 and ``aws/s3`` recordings usually carry no SHA-256 of their own, and the ETag of an SSE-KMS
object is not an MD5, so nothing cheaper is both available and independent. The destination side
is the ``x-amz-checksum-sha256`` S3 computes when the copy asks for ``ChecksumAlgorithm=SHA256``:
the full-object digest for ``CopyObject``; for a multipart copy the composite digest (SHA-256 of the
parts' digests, suffixed ``-N``), which is predicted here from the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping

from recordings_kms.migrate.model import CopyFacts, SourceVersion, strip_etag

#: S3's limit on user-defined metadata (names and values, in UTF-8 bytes).
MAX_METADATA_BYTES = 2048


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def composite_checksum(part_digests: list[bytes]) -> str:
    """S3's checksum of a multipart object: base64 SHA-256 of the concatenated part digests, then ``-N``."""
    return f"{b64(hashlib.sha256(b''.join(part_digests)).digest())}-{len(part_digests)}"


def same_checksum(reported: str, expected: str) -> bool:
    """Compare checksums, tolerating an endpoint that drops the ``-N`` part count of a composite checksum."""
    value, _, count = reported.partition("-")
    expected_value, _, expected_count = expected.partition("-")
    return value == expected_value and (not count or count == expected_count)


class PartHasher:
    """SHA-256 of a whole object and, given a part size, of each part, fed chunk by chunk."""

    def __init__(self, part_size: int | None = None) -> None:
        self.part_size = part_size
        self._whole = hashlib.sha256()
        self._part = hashlib.sha256()
        self._in_part = 0
        self.size = 0
        self.part_digests: list[bytes] = []

    def update(self, chunk: bytes) -> None:
        self._whole.update(chunk)
        self.size += len(chunk)
        if self.part_size is None:
            return
        view = memoryview(chunk)
        while view:
            take = min(len(view), self.part_size - self._in_part)
            self._part.update(view[:take])
            self._in_part += take
            view = view[take:]
            if self._in_part == self.part_size:
                self.part_digests.append(self._part.digest())
                self._part, self._in_part = hashlib.sha256(), 0

    def finish(self) -> None:
        """Close the last, shorter part (S3 allows the last part below the minimum part size)."""
        if self.part_size is not None and self._in_part:
            self.part_digests.append(self._part.digest())
            self._part, self._in_part = hashlib.sha256(), 0

    @property
    def sha256(self) -> bytes:
        return self._whole.digest()


def metadata_bytes(metadata: Mapping[str, str]) -> int:
    return sum(len(name.encode()) + len(value.encode()) for name, value in metadata.items())


def encryption_problems(encryption: str | None, kms_key_id: str | None, key_arn: str) -> list[str]:
    if encryption != "aws:kms":
        return [f"it is encrypted with {encryption or 'nothing S3 reports'}, not aws:kms"]
    if kms_key_id != key_arn:
        return [f"it is encrypted under {kms_key_id or 'no key S3 reports'}, not {key_arn}"]
    return []


def copy_problems(facts: CopyFacts, source: SourceVersion, key_arn: str) -> list[str]:
    """Why a destination version is not a verified copy of ``source`` under ``key_arn`` (empty: it is)."""
    provenance = facts.provenance
    if provenance is None:
        return ["it carries no migrate provenance metadata"]
    problems: list[str] = []
    if strip_etag(provenance.source_etag) != strip_etag(source.etag):
        problems.append(
            f"it was copied from ETag {strip_etag(provenance.source_etag)} but the source version now has "
            f"ETag {strip_etag(source.etag)}"
        )
    problems += encryption_problems(facts.encryption, facts.kms_key_id, key_arn)
    if facts.checksum_sha256 is None:
        problems.append("S3 reports no SHA-256 checksum for it")
    elif not same_checksum(facts.checksum_sha256, provenance.checksum_sha256):
        problems.append(f"S3's SHA-256 {facts.checksum_sha256} differs from {provenance.checksum_sha256}, the source's")
    if facts.size is not None and facts.size != source.size:
        problems.append(f"it has {facts.size} bytes, the source version {source.size}")
    return problems


def replica_problems(facts: CopyFacts, source: SourceVersion, key_arn: str) -> list[str]:
    """Why a destination version with ``source``'s version id is not its replica under ``key_arn`` (empty: it is).

    S3's replica carries no provenance and may carry no checksum: its size and encryption are what can be checked
    without reading it.
    """
    problems = encryption_problems(facts.encryption, facts.kms_key_id, key_arn)
    if facts.size is not None and facts.size != source.size:
        problems.append(f"it has {facts.size} bytes, the source version {source.size}")
    return problems
