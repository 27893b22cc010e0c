"""The S3 and KMS reads ``recordings-kms migrate`` plans with, and its error lines.

Errors of the set-up calls (a missing bucket or key, AccessDenied on a listing, an unreachable
endpoint) become :class:`aws.AwsError` through ``aws.translated``, with the IAM action migrate needs
named for AccessDenied. Errors of one object become a reason on that object (:func:`describe_failure`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, cast

from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.loaders import Loader, create_loader
from botocore.parsers import ResponseParserError
from botocore.session import get_session

from constructs_lib.core import arns
from recordings_kms import aws
from recordings_kms.migrate.model import CopyFacts, Provenance, SourceVersion

if TYPE_CHECKING:
    from mypy_boto3_kms.client import KMSClient
    from mypy_boto3_s3.client import S3Client

#: The IAM permissions each operation of migrate needs, named in AccessDenied messages.
NEEDS = {
    "ListObjectVersions": "s3:ListBucketVersions on the bucket",
    "ListMultipartUploads": "s3:ListBucketMultipartUploads on the recordings bucket",
    "GetBucketVersioning": "s3:GetBucketVersioning on the recordings bucket",
    "GetBucketEncryption": "s3:GetEncryptionConfiguration on the recordings bucket",
    "DescribeKey": "kms:DescribeKey on the recordings key",
    "DescribeStacks": "cloudformation:DescribeStacks",
    "HeadObject": "s3:GetObjectVersion",
    "GetObject": "s3:GetObjectVersion on the source (and kms:Decrypt on its key when it is under aws:kms)",
    "GetObjectTagging": "s3:GetObjectVersionTagging on the source",
    "CopyObject": "s3:GetObjectVersion and s3:GetObjectVersionTagging on the source, s3:PutObject and "
    "s3:PutObjectTagging on the recordings bucket, and kms:GenerateDataKey on the recordings key",
    "CreateMultipartUpload": "s3:PutObject on the recordings bucket and kms:GenerateDataKey on the recordings key",
    "UploadPartCopy": "s3:GetObjectVersion on the source, s3:PutObject on the recordings bucket, and "
    "kms:GenerateDataKey and kms:Decrypt on the recordings key",
    "CompleteMultipartUpload": "s3:PutObject on the recordings bucket and kms:Decrypt on the recordings key",
    "AbortMultipartUpload": "s3:AbortMultipartUpload on the recordings bucket",
}
#: Error codes meaning the source version sits in an archive tier and needs a restore first.
ARCHIVED_CODES = frozenset({"InvalidObjectState", "ObjectNotInActiveTierError"})


def access_denied_line(error: ClientError, resource: str) -> str:
    message = str(error.response.get("Error", {}).get("Message", "")).strip()
    readable = message.split("<Message>")[-1].split("</Message>")[0] if "<Message>" in message else message
    needs = NEEDS.get(error.operation_name)
    return f"access denied: {error.operation_name} on {resource}: {readable or aws.error_code(error)}" + (
        f"; migrate needs {needs}" if needs else ""
    )


@contextmanager
def translated(service: str, resource: str) -> Iterator[None]:
    """``aws.translated``, with AccessDenied naming the permission migrate (not verify) needs."""
    try:
        with aws.translated(service, resource):
            yield
    except aws.AwsError as error:
        cause = error.__cause__
        if isinstance(cause, ClientError) and aws.is_access_denied(cause):
            raise aws.AwsError(access_denied_line(cause, resource)) from cause
        raise


def describe_failure(error: Exception, resource: str) -> str:
    """One line for an object that could not be copied (one of ``aws.CALL_ERRORS``): what failed and what to do."""
    if isinstance(error, ResponseParserError):
        return f"the answer about {resource} is not an AWS response ({aws.unparsable_line(error)})"
    if not isinstance(error, ClientError):
        return f"{type(error).__name__}: {error}"
    code = aws.error_code(error)
    message = str(error.response.get("Error", {}).get("Message", "")).strip()
    if code in ARCHIVED_CODES:
        return (
            f"archived: S3 refuses to read {resource} until it is restored ({code}); restore it "
            "(RestoreObject, s3:RestoreObject), then run again"
        )
    if code in ("NoSuchVersion", "NoSuchKey"):
        return f"{resource} no longer exists (deleted since it was listed): {code}"
    if aws.is_access_denied(error):
        return access_denied_line(error, resource)
    return f"{error.operation_name} on {resource} failed: {code}: {message}"


@functools.cache
def _shared_loader() -> Loader:
    """botocore's model files, parsed once per process (each new session otherwise re-reads them: ~0.5 s)."""
    return create_loader()


def bulk_s3_client(clients: aws.Clients, concurrency: int) -> S3Client:
    """An S3 client for ``concurrency`` threads, from the region and endpoint ``aws.make_clients`` resolved.

    Only the transfer settings differ: botocore pools 10 connections by default (more threads
    would queue and reconnect), and a bulk copy wants more retries of throttling (SlowDown) and a
    read timeout that lets S3 finish copying a 5 GB object in one CopyObject. The session is new
    (credentials and configuration are resolved again, as for the other clients); only the parsed
    model files are shared.
    """
    config = clients.s3.meta.config.merge(
        Config(
            max_pool_connections=concurrency + 4,
            retries={"mode": "standard", "max_attempts": 5},
            read_timeout=300,
        )
    )
    session = get_session()
    session.register_component("data_loader", _shared_loader())
    with translated("s3", clients.endpoint_url or clients.region):
        client = session.create_client(
            "s3", region_name=clients.region, endpoint_url=clients.endpoint_url, config=config
        )
    return cast("S3Client", client)  # botocore's create_client is typed for any service


@dataclass(frozen=True)
class KeyTarget:
    arn: str
    description: str


def describe_key(clients: aws.Clients, key: str) -> KeyTarget:
    """The recordings key's ARN, refusing keys S3 could not use for this (disabled, asymmetric, AWS managed)."""
    with translated("kms", key):
        metadata = clients.kms.describe_key(KeyId=key)["KeyMetadata"]
    arn = metadata.get("Arn", key)
    if metadata.get("KeyManager") == "AWS":
        raise aws.AwsError(
            f"key {key} is an AWS managed key ({arn}): migrate moves recordings under the customer managed "
            "recordings key"
        )
    if metadata.get("KeyState", "Enabled") != "Enabled":
        raise aws.AwsError(f"key {arn} is {metadata.get('KeyState')}: S3 cannot encrypt with it")
    spec, usage = metadata.get("KeySpec", "SYMMETRIC_DEFAULT"), metadata.get("KeyUsage", "ENCRYPT_DECRYPT")
    if (spec, usage) != ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"):
        raise aws.AwsError(f"key {arn} is {spec} for {usage}: S3 needs a SYMMETRIC_DEFAULT key for ENCRYPT_DECRYPT")
    return KeyTarget(arn=arn, description=metadata.get("Description", ""))


#: Default encryption algorithms by what they are, for the refusal line.
_ALGORITHMS = {"AES256": "SSE-S3", "aws:kms:dsse": "DSSE-KMS"}


def require_default_encryption(s3: S3Client, kms: KMSClient, bucket: str, key: KeyTarget, *, named_as: str) -> None:
    """Refuse (before any copy) a recordings bucket whose default encryption is not SSE-KMS under ``key``.

    In this design the bucket's default encryption key is the recordings key, and its bucket policy
    refuses a put naming any other key: a key that is not the default one would have every copy
    refused (on AWS) or stored under the wrong key (on an endpoint without policies). The default
    key may be named by key ARN, key ID, alias name or alias ARN; every form but a key ARN is
    resolved with DescribeKey, in the caller's account and region as S3 resolves it for a writer.
    ``named_as`` says where ``key`` came from, for the message (``--key alias/x``).
    """
    where = f"the recordings bucket {bucket}"
    try:
        with translated("s3", bucket):
            try:
                rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
            except ClientError as error:
                if aws.error_code(error) != "ServerSideEncryptionConfigurationNotFoundError":
                    raise
                rules = []
    except aws.AwsError as error:
        raise aws.AwsError(f"cannot read the default encryption of {where}: {error}") from error
    defaults = [r["ApplyServerSideEncryptionByDefault"] for r in rules if "ApplyServerSideEncryptionByDefault" in r]
    default = defaults[0] if defaults else None
    if default is None:
        raise aws.AwsError(
            f"{where} has no default encryption rule: it is not a recordings bucket of this design (its default "
            f"encryption is SSE-KMS under the recordings key); migrate copies only into such a bucket"
        )
    algorithm = default.get("SSEAlgorithm", "")
    named = default.get("KMSMasterKeyID")
    if algorithm != "aws:kms":
        raise aws.AwsError(
            f"{where} encrypts by default with {algorithm} ({_ALGORITHMS.get(algorithm, 'not SSE-KMS')}), not SSE-KMS "
            f"under {key.arn} ({named_as}): it is not a recordings bucket of this design"
        )
    if not named:
        raise aws.AwsError(
            f"{where} encrypts by default with SSE-KMS under no named key (the AWS managed key aws/s3), not under "
            f"{key.arn} ({named_as}): it is not a recordings bucket of this design"
        )
    resolved = named if arns.parse_key_arn(named) is not None else _resolve_key(kms, named, where)
    if resolved != key.arn:
        shown = named if resolved == named else f"{named}, that is {resolved}"
        raise aws.AwsError(
            f"{named_as} is {key.arn}, but {where} encrypts by default with {shown}: its bucket policy refuses "
            f"copies under any other key; pass --key {resolved} (or --stack-name with the stack of that bucket)"
        )


def _resolve_key(kms: KMSClient, named: str, where: str) -> str:
    """The key ARN that a default encryption's key ID, alias name or alias ARN stands for."""
    try:
        with translated("kms", named):
            arn = kms.describe_key(KeyId=named)["KeyMetadata"].get("Arn")
    except aws.AwsError as error:
        raise aws.AwsError(f"cannot tell which key {where} encrypts with by default ({named}): {error}") from error
    if not arn:
        raise aws.AwsError(f"cannot tell which key {where} encrypts with by default: KMS reports no ARN for {named}")
    return arn


def require_versioning(s3: S3Client, bucket: str) -> None:
    with translated("s3", bucket):
        status = s3.get_bucket_versioning(Bucket=bucket).get("Status")
    if status != "Enabled":
        raise aws.AwsError(
            f"versioning is {'suspended' if status == 'Suspended' else 'off'} on the recordings bucket {bucket}: "
            "Teleport plays the oldest version of a recording, and migrate relies on versions to make the one "
            "Teleport plays the first; enable versioning (the stack does)"
        )


@dataclass(frozen=True)
class SourceListing:
    versions: list[SourceVersion]
    delete_markers: dict[str, int]


def list_source(
    s3: S3Client, bucket: str, prefix: str, on_page: Callable[[int], None] = lambda _: None
) -> SourceListing:
    """Every version and delete marker under the prefix, in S3's order (by key, newest first)."""
    versions: list[SourceVersion] = []
    markers: dict[str, int] = {}
    with translated("s3", f"s3://{bucket}/{prefix}"):
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
            listed = page.get("Versions", [])
            versions += [
                SourceVersion(
                    key=v["Key"],
                    version_id=v.get("VersionId") or "null",
                    size=v.get("Size", 0),
                    etag=v.get("ETag", ""),
                    last_modified=v["LastModified"],
                    storage_class=v.get("StorageClass", "STANDARD"),
                )
                for v in listed
            ]
            for marker in page.get("DeleteMarkers", []):
                markers[marker["Key"]] = markers.get(marker["Key"], 0) + 1
            on_page(len(listed))
    return SourceListing(versions, markers)


@dataclass(frozen=True, slots=True)
class ListedVersion:
    version_id: str
    last_modified: datetime


@dataclass(frozen=True)
class DestinationListing:
    #: The versions of each wanted key, OLDEST FIRST (in the order S3 wrote them).
    versions: dict[str, list[ListedVersion]]
    #: The ETag of each wanted key's current version (``IsLatest``); a key whose newest entry is a delete
    #: marker, or that has no version, is absent: it has no current version.
    current_etags: dict[str, str]


def list_destination(s3: S3Client, bucket: str, prefix: str, wanted: set[str]) -> DestinationListing:
    """The versions of the ``wanted`` keys under the prefix, and the state the next copy of each is conditioned on."""
    found: dict[str, list[ListedVersion]] = {}
    current: dict[str, str] = {}
    with translated("s3", f"s3://{bucket}/{prefix}"):
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
            for v in page.get("Versions", []):
                if v["Key"] in wanted:
                    found.setdefault(v["Key"], []).append(
                        ListedVersion(v.get("VersionId") or "null", v["LastModified"])
                    )
                    if v.get("IsLatest") and v.get("ETag"):
                        current[v["Key"]] = v["ETag"]
    for listed in found.values():
        listed.reverse()
    return DestinationListing(found, current)


def head_copy(s3: S3Client, bucket: str, key: str, version_id: str) -> CopyFacts:
    """What S3 says about a destination version: provenance metadata, encryption and its SHA-256."""
    head = s3.head_object(Bucket=bucket, Key=key, VersionId=version_id, ChecksumMode="ENABLED")
    return CopyFacts(
        provenance=Provenance.from_metadata(head.get("Metadata", {})),
        encryption=head.get("ServerSideEncryption"),
        kms_key_id=head.get("SSEKMSKeyId"),
        checksum_sha256=head.get("ChecksumSHA256"),
        size=head.get("ContentLength"),
        last_modified=head.get("LastModified"),
        etag=head.get("ETag"),
    )


def replication_status(s3: S3Client, bucket: str, version: SourceVersion) -> str | None:
    """The version's ``x-amz-replication-status`` (``None`` when S3 reports none: no rule covers it)."""
    head = s3.head_object(Bucket=bucket, Key=version.key, VersionId=version.version_id)
    return head.get("ReplicationStatus")


def is_restored(s3: S3Client, bucket: str, version: SourceVersion) -> bool:
    """Whether an archived version has a finished restore (S3 then copies it like any other)."""
    head = s3.head_object(Bucket=bucket, Key=version.key, VersionId=version.version_id)
    return 'ongoing-request="false"' in head.get("Restore", "")


def open_uploads(s3: S3Client, bucket: str, prefix: str, wanted: set[str]) -> list[tuple[str, str]]:
    """Open multipart uploads on the ``wanted`` keys: only an interrupted migrate leaves those.

    Teleport's upload completer finishes every open upload under its prefix after a grace period;
    left alone, a half-copied recording would become a version.
    """
    found: list[tuple[str, str]] = []
    with translated("s3", f"s3://{bucket}/{prefix}"):
        for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=prefix):
            found += [
                (u["Key"], u["UploadId"]) for u in page.get("Uploads", []) if u.get("Key") in wanted and "UploadId" in u
            ]
    return found
