"""Copy one source version into the recordings bucket under the key, and prove the copy.

Each copy is server-side (``CopyObject``, or ``UploadPartCopy`` above the multipart threshold): the
bytes never pass through this machine on the way in. They are read once on the way out, to hash
the source version (see ``migrate.verify``). The copy carries:

- ``ServerSideEncryption=aws:kms`` and ``SSEKMSKeyId`` = the key ARN (what the bucket policy accepts);
- ``ChecksumAlgorithm=SHA256``, so S3 computes the SHA-256 of what it wrote;
- the source version's user metadata and content headers, plus the provenance record; its tags
  (CopyObject copies them by default; a multipart copy sets them from GetObjectTagging).

A copy counts as done only when S3's SHA-256 equals the source's and S3 reports ``aws:kms`` under
this key. Nothing is ever deleted: a copy that fails verification stays, is reported with its
version id, and blocks the key until someone removes it (it would be the version Teleport plays).

Every write is conditional on the destination state it was planned for (S3 conditional writes:
https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html; botocore's
``IfNoneMatch`` and ``IfMatch`` on CopyObject and CompleteMultipartUpload): ``If-None-Match: *`` when
the key had no current version, ``If-Match`` with the ETag of the current version otherwise (the
copy before it). A copy that a killed run, another run or a retried request landed meanwhile makes
S3 refuse the write (412, or 409 when two writes race) instead of adding a second version; the
refusal is a :class:`CopyConflictError`, and the scheduler looks at the key again rather than retry.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict
from urllib.parse import urlencode

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from recordings_kms import aws
from recordings_kms.migrate.model import Copied, CopyFacts, Provenance, SourceVersion, strip_etag
from recordings_kms.migrate.s3 import describe_failure, head_copy
from recordings_kms.migrate.verify import (
    MAX_METADATA_BYTES,
    PartHasher,
    b64,
    composite_checksum,
    copy_problems,
    metadata_bytes,
)

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef, GetObjectOutputTypeDef

MiB = 1024**2
GiB = 1024**3
#: S3's smallest part (every part but the last) and largest part.
MIN_PART_SIZE = 5 * MiB
MAX_PART_SIZE = 5 * GiB
MAX_PARTS = 10_000
#: The largest object one CopyObject can copy.
COPY_OBJECT_LIMIT = 5 * GiB
#: Content headers of the source version that a copy with MetadataDirective=REPLACE must repeat.
CONTENT_HEADERS = (
    "ContentType",
    "ContentEncoding",
    "ContentDisposition",
    "ContentLanguage",
    "CacheControl",
    "Expires",
    "WebsiteRedirectLocation",
)
#: Errors that mean the endpoint is gone: the run stops rather than fail every remaining object.
UNREACHABLE = (EndpointConnectionError, ConnectTimeoutError, ConnectionClosedError, ReadTimeoutError)


@dataclass(frozen=True)
class CopySettings:
    """When to copy in parts and how big the parts are (tests lower both to exercise the multipart path)."""

    multipart_threshold: int = COPY_OBJECT_LIMIT
    part_size: int = 256 * MiB
    chunk_size: int = 1 * MiB

    def __post_init__(self) -> None:
        if not MIN_PART_SIZE <= self.part_size <= MAX_PART_SIZE:
            raise ValueError(f"part_size must be {MIN_PART_SIZE}..{MAX_PART_SIZE} bytes, got {self.part_size}")
        if not MIN_PART_SIZE <= self.multipart_threshold <= COPY_OBJECT_LIMIT:
            raise ValueError(
                f"multipart_threshold must be {MIN_PART_SIZE}..{COPY_OBJECT_LIMIT} bytes, "
                f"got {self.multipart_threshold}"
            )

    def needs_multipart(self, size: int) -> bool:
        return size > self.multipart_threshold

    def part_size_for(self, size: int) -> int:
        """The configured part size, grown (in whole MiB) when the object would need more than 10,000 parts."""
        needed = -(-size // MAX_PARTS)
        part = max(self.part_size, -(-needed // MiB) * MiB)
        return min(part, MAX_PART_SIZE)


class CopyError(Exception):
    """A version that was not copied (or not proven): the reason is one line for the report."""

    def __init__(self, reason: str, *, unreachable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unreachable = unreachable


class CopyConflictError(CopyError):
    """S3 refused a conditional write: the destination key is not in the state this copy was planned for."""


#: Error codes of a refused conditional write: the precondition failed (412), or a concurrent write to
#: the key raced this one (409). ``NoSuchKey`` answers ``If-Match`` when the key has no current version.
CONFLICT_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})


class Precondition(TypedDict, total=False):
    """botocore's parameters for the ``If-None-Match`` and ``If-Match`` headers of a write."""

    IfNoneMatch: str
    IfMatch: str


def precondition(current_etag: str | None) -> Precondition:
    """The condition of a write planned for a key whose current version has ``current_etag`` (``None``: none)."""
    return Precondition(IfNoneMatch="*") if current_etag is None else Precondition(IfMatch=current_etag)


def _conflict(error: ClientError, current_etag: str | None) -> CopyConflictError | None:
    code = aws.error_code(error)
    if code not in CONFLICT_CODES and not (code == "NoSuchKey" and current_etag is not None):
        return None
    planned = "no current version" if current_etag is None else f"current version ETag {current_etag}"
    return CopyConflictError(
        f"S3 refused the copy ({error.operation_name}: {code}): the destination key no longer has the state the "
        f"copy was planned for ({planned})"
    )


@dataclass
class _SourceRead:
    response: GetObjectOutputTypeDef
    hasher: PartHasher
    etag: str
    metadata: dict[str, str] = field(default_factory=dict)


class Copier:
    """Copies versions from one source bucket into the recordings bucket; safe to share between threads."""

    def __init__(
        self,
        s3: S3Client,
        *,
        source_bucket: str,
        destination_bucket: str,
        key_arn: str,
        settings: CopySettings,
        stop: threading.Event,
        source_s3: S3Client | None = None,
    ) -> None:
        #: ``s3`` writes (CopyObject goes to the destination's region); ``source_s3`` reads the source in its own.
        self.s3 = s3
        self.source_s3 = source_s3 or s3
        self.source_bucket = source_bucket
        self.destination_bucket = destination_bucket
        self.key_arn = key_arn
        self.settings = settings
        self.stop = stop

    def copy(self, version: SourceVersion, destination_key: str, current_etag: str | None) -> Copied:
        """Copy and verify one version; raise :class:`CopyError` with the reason otherwise.

        ``current_etag`` is the destination key's current version as planned (``None``: it has none);
        the write is conditional on it, and S3's refusal is a :class:`CopyConflictError`.
        """
        try:
            if self.settings.needs_multipart(version.size):
                return self._copy_in_parts(version, destination_key, current_etag)
            return self._copy_whole(version, destination_key, current_etag)
        except aws.CALL_ERRORS as error:
            raise self._failure(error, version, destination_key, current_etag) from error

    def _failure(
        self, error: Exception, version: SourceVersion, destination_key: str, current_etag: str | None
    ) -> CopyError:
        if isinstance(error, UNREACHABLE):
            return CopyError(f"cannot reach S3: {error}", unreachable=True)
        if isinstance(error, ClientError) and (conflict := _conflict(error, current_etag)) is not None:
            return conflict
        where = (
            f"s3://{self.source_bucket}/{version.key} (version {version.version_id}) -> "
            f"s3://{self.destination_bucket}/{destination_key}"
        )
        return CopyError(describe_failure(error, where))

    # --- reading the source ----------------------------------------------------------------------

    def _read(self, version: SourceVersion, part_size: int | None) -> _SourceRead:
        response = self.source_s3.get_object(
            Bucket=self.source_bucket, Key=version.key, VersionId=version.version_id, ChecksumMode="ENABLED"
        )
        hasher = PartHasher(part_size)
        body = response["Body"]
        try:
            for chunk in body.iter_chunks(self.settings.chunk_size):
                if self.stop.is_set():
                    raise CopyError("interrupted while reading the source")
                hasher.update(chunk)
        finally:
            body.close()
        hasher.finish()
        etag = response.get("ETag", version.etag)
        if strip_etag(etag) != strip_etag(version.etag):
            raise CopyError(f"the source version changed since it was listed (ETag {etag}, listed {version.etag})")
        if hasher.size != version.size:
            raise CopyError(f"read {hasher.size} bytes of the source version; the listing says {version.size}")
        stored = response.get("ChecksumSHA256")
        if stored and "-" not in stored and stored != b64(hasher.sha256):
            raise CopyError(
                f"the source's bytes hash to {b64(hasher.sha256)}, not to the SHA-256 S3 stored for it ({stored})"
            )
        return _SourceRead(response, hasher, etag, dict(response.get("Metadata", {})))

    def _content_headers(self, read: _SourceRead) -> dict[str, Any]:
        source: dict[str, Any] = dict(read.response)
        return {name: source[name] for name in CONTENT_HEADERS if source.get(name) is not None}

    def _metadata(self, read: _SourceRead, provenance: Provenance) -> dict[str, str]:
        metadata = {**read.metadata, **provenance.to_metadata()}
        if metadata_bytes(metadata) > MAX_METADATA_BYTES:
            raise CopyError(
                f"the source's user metadata ({metadata_bytes(read.metadata)} bytes) plus migrate's provenance record "
                f"exceed S3's {MAX_METADATA_BYTES}-byte limit"
            )
        return metadata

    def _proven(self, facts: CopyFacts, version: SourceVersion, destination_key: str, version_id: str) -> None:
        problems = copy_problems(facts, version, self.key_arn)
        if problems:
            raise CopyError(
                f"copied to s3://{self.destination_bucket}/{destination_key} version {version_id}, but the copy fails "
                f"verification: {'; '.join(problems)}; remove that version and run again"
            )

    # --- one CopyObject ------------------------------------------------------------------------------

    def _copy_whole(self, version: SourceVersion, destination_key: str, current_etag: str | None) -> Copied:
        read = self._read(version, None)
        sha256 = read.hasher.sha256
        provenance = Provenance.of(
            version, source_bucket=self.source_bucket, sha256_hex=sha256.hex(), checksum=b64(sha256)
        )
        response = self.s3.copy_object(
            Bucket=self.destination_bucket,
            Key=destination_key,
            CopySource={"Bucket": self.source_bucket, "Key": version.key, "VersionId": version.version_id},
            CopySourceIfMatch=read.etag,
            MetadataDirective="REPLACE",
            Metadata=self._metadata(read, provenance),
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=self.key_arn,
            ChecksumAlgorithm="SHA256",
            **precondition(current_etag),
            **self._content_headers(read),
        )
        version_id = response.get("VersionId")
        if not version_id:
            raise CopyError(f"S3 returned no version id for the copy: is versioning on in {self.destination_bucket}?")
        result = response.get("CopyObjectResult", {})
        etag = result.get("ETag")
        facts = CopyFacts(
            provenance=provenance,
            encryption=response.get("ServerSideEncryption"),
            kms_key_id=response.get("SSEKMSKeyId"),
            checksum_sha256=result.get("ChecksumSHA256"),
        )
        last_modified = result.get("LastModified")
        if facts.checksum_sha256 is None or last_modified is None or not etag:
            # An endpoint that computed them but left them out of the response: ask for the version itself.
            facts = head_copy(self.s3, self.destination_bucket, destination_key, version_id)
            last_modified, etag = facts.last_modified, facts.etag
        self._proven(facts, version, destination_key, version_id)
        return self._copied(version, destination_key, version_id, last_modified, etag, sha256.hex(), multipart=False)

    def _copied(
        self,
        version: SourceVersion,
        destination_key: str,
        version_id: str,
        last_modified: datetime | None,
        etag: str | None,
        sha256_hex: str,
        *,
        multipart: bool,
    ) -> Copied:
        if last_modified is None:
            raise CopyError(f"S3 reports no LastModified for {destination_key} version {version_id}")
        if not etag:
            raise CopyError(f"S3 reports no ETag for {destination_key} version {version_id}")
        return Copied(version, destination_key, version_id, last_modified, sha256_hex, multipart, etag)

    # --- a multipart copy ----------------------------------------------------------------------------

    def _copy_in_parts(self, version: SourceVersion, destination_key: str, current_etag: str | None) -> Copied:
        part_size = self.settings.part_size_for(version.size)
        read = self._read(version, part_size)
        digests = read.hasher.part_digests
        sha256 = read.hasher.sha256
        provenance = Provenance.of(
            version, source_bucket=self.source_bucket, sha256_hex=sha256.hex(), checksum=composite_checksum(digests)
        )
        extra = self._content_headers(read)
        if read.response.get("TagCount"):
            tags = self.source_s3.get_object_tagging(
                Bucket=self.source_bucket, Key=version.key, VersionId=version.version_id
            )["TagSet"]
            extra["Tagging"] = urlencode([(tag["Key"], tag["Value"]) for tag in tags])
        upload_id = self.s3.create_multipart_upload(
            Bucket=self.destination_bucket,
            Key=destination_key,
            Metadata=self._metadata(read, provenance),
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=self.key_arn,
            ChecksumAlgorithm="SHA256",
            **extra,
        )["UploadId"]
        try:
            parts = self._copy_parts(version, destination_key, upload_id, part_size, digests, read.etag)
            done = self.s3.complete_multipart_upload(
                Bucket=self.destination_bucket,
                Key=destination_key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
                **precondition(current_etag),
            )
        except BaseException as error:
            note = self._abort(destination_key, upload_id)
            if note is None:
                raise
            raise self._with_note(error, version, destination_key, current_etag, note) from error
        version_id = done.get("VersionId")
        if not version_id:
            raise CopyError(f"S3 returned no version id for the copy: is versioning on in {self.destination_bucket}?")
        facts = head_copy(self.s3, self.destination_bucket, destination_key, version_id)
        self._proven(facts, version, destination_key, version_id)
        etag = done.get("ETag") or facts.etag
        return self._copied(
            version, destination_key, version_id, facts.last_modified, etag, sha256.hex(), multipart=True
        )

    def _copy_parts(
        self,
        version: SourceVersion,
        destination_key: str,
        upload_id: str,
        part_size: int,
        digests: list[bytes],
        etag: str,
    ) -> list[CompletedPartTypeDef]:
        parts: list[CompletedPartTypeDef] = []
        for number, digest in enumerate(digests, start=1):
            if self.stop.is_set():
                raise CopyError("interrupted between two parts of a multipart copy")
            first = (number - 1) * part_size
            last = min(first + part_size, version.size) - 1
            result = self.s3.upload_part_copy(
                Bucket=self.destination_bucket,
                Key=destination_key,
                UploadId=upload_id,
                PartNumber=number,
                CopySource={"Bucket": self.source_bucket, "Key": version.key, "VersionId": version.version_id},
                CopySourceRange=f"bytes={first}-{last}",
                CopySourceIfMatch=etag,
            )["CopyPartResult"]
            reported = result.get("ChecksumSHA256")
            if reported is not None and reported != b64(digest):
                raise CopyError(f"part {number}: S3's SHA-256 {reported} differs from the source's {b64(digest)}")
            # Sending each part's expected digest makes S3 check it again when it completes the upload.
            parts.append({"PartNumber": number, "ETag": result["ETag"], "ChecksumSHA256": b64(digest)})
        return parts

    def _abort(self, destination_key: str, upload_id: str) -> str | None:
        """Abort the open upload (Teleport's upload completer would otherwise finish it, half-copied).

        Returns ``None`` when it is gone, else a note for the report.
        """
        try:
            self.s3.abort_multipart_upload(Bucket=self.destination_bucket, Key=destination_key, UploadId=upload_id)
        except aws.CALL_ERRORS as error:
            where = f"s3://{self.destination_bucket}/{destination_key}"
            return (
                f"; the open upload {upload_id} could not be aborted ({describe_failure(error, where)}): "
                "the next run aborts it"
            )
        return None

    def _with_note(
        self, error: BaseException, version: SourceVersion, destination_key: str, current_etag: str | None, note: str
    ) -> CopyError:
        if isinstance(error, aws.CALL_ERRORS):
            error = self._failure(error, version, destination_key, current_etag)
        if isinstance(error, CopyError):
            # Reported as it is, a refusal included (not looked at again): the upload left open must be seen.
            return CopyError(error.reason + note, unreachable=error.unreachable)
        return CopyError(f"{type(error).__name__}: {error}{note}")
