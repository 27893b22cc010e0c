"""``verify --probe``: write to the bucket the way Teleport does, try what the policy forbids, clean up.

Everything is written under ``recordings-kms-probe/<uuid>/`` and removed afterwards, every object
version included, and any multipart upload the probe started is aborted, even when a step fails.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from recordings_kms.aws import error_code, is_access_denied
from recordings_kms.results import CheckResult, Status

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import HeadObjectOutputTypeDef, ObjectIdentifierTypeDef

PROBE_PREFIX = "recordings-kms-probe"
_BODY = b"recordings-kms probe: safe to delete\n"


@dataclass(frozen=True)
class ProbeTarget:
    bucket: str
    key_arn: str
    key_id: str
    #: What Teleport sends as SSEKMSKeyId: the storage URI's ``sse_kms_key`` (the key ARN by default).
    sse_kms_key: str
    #: Whether the endpoint is AWS, where a forbidden put that succeeds is a failure of the policy.
    enforces_policies: bool
    endpoint: str


def _message(error: ClientError) -> str:
    text = str(error.response.get("Error", {}).get("Message", "")).strip()
    return f"{error_code(error)}{': ' + text if text else ''}"


def _is_this_key(value: str | None, target: ProbeTarget) -> bool:
    return value is not None and (value in (target.key_arn, target.key_id) or value.endswith(f":key/{target.key_id}"))


def _judge_stored(check_id: str, what: str, head: HeadObjectOutputTypeDef, target: ProbeTarget) -> CheckResult:
    algorithm = head.get("ServerSideEncryption")
    stored_key = head.get("SSEKMSKeyId")
    if algorithm == "aws:kms" and _is_this_key(stored_key, target):
        bucket_key = ", with the S3 Bucket Key" if head.get("BucketKeyEnabled") else ""
        return CheckResult(check_id, Status.PASS, f"{what}: stored as aws:kms under this key{bucket_key}")
    return CheckResult(
        check_id, Status.FAIL, f"{what}: stored as {algorithm or 'no encryption'} with key {stored_key or 'none'}"
    )


def _multipart(s3: S3Client, target: ProbeTarget, object_key: str, open_uploads: list[tuple[str, str]]) -> CheckResult:
    what = "Teleport-style multipart upload (aws:kms + key on CreateMultipartUpload, bare UploadPart)"
    step = "CreateMultipartUpload"
    try:
        upload_id = s3.create_multipart_upload(
            Bucket=target.bucket, Key=object_key, ServerSideEncryption="aws:kms", SSEKMSKeyId=target.sse_kms_key
        )["UploadId"]
        open_uploads.append((object_key, upload_id))
        step = "UploadPart (no encryption headers)"
        part = s3.upload_part(Bucket=target.bucket, Key=object_key, UploadId=upload_id, PartNumber=1, Body=_BODY)
        step = "CompleteMultipartUpload"
        s3.complete_multipart_upload(
            Bucket=target.bucket,
            Key=object_key,
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
        )
        open_uploads.remove((object_key, upload_id))
        step = "HeadObject"
        head = s3.head_object(Bucket=target.bucket, Key=object_key)
    except ClientError as error:
        return CheckResult("probe.multipart", Status.FAIL, f"{what} failed at {step}: {_message(error)}")
    return _judge_stored("probe.multipart", what, head, target)


def _put_and_judge(
    s3: S3Client, target: ProbeTarget, check_id: str, what: str, put: Put, object_key: str
) -> CheckResult:
    try:
        put(s3, target.bucket, object_key)
        head = s3.head_object(Bucket=target.bucket, Key=object_key)
    except ClientError as error:
        return CheckResult(check_id, Status.FAIL, f"{what} failed: {_message(error)}")
    return _judge_stored(check_id, what, head, target)


Put = Callable[["S3Client", str, str], object]


def _put_with_key(target: ProbeTarget) -> Put:
    def put(s3: S3Client, bucket: str, key: str) -> object:
        return s3.put_object(
            Bucket=bucket, Key=key, Body=_BODY, ServerSideEncryption="aws:kms", SSEKMSKeyId=target.sse_kms_key
        )

    return put


def _put_without_headers(s3: S3Client, bucket: str, key: str) -> object:
    return s3.put_object(Bucket=bucket, Key=key, Body=_BODY)


def _put_aes256(s3: S3Client, bucket: str, key: str) -> object:
    return s3.put_object(Bucket=bucket, Key=key, Body=_BODY, ServerSideEncryption="AES256")


def _put_other_key(s3: S3Client, bucket: str, key: str) -> object:
    return s3.put_object(Bucket=bucket, Key=key, Body=_BODY, ServerSideEncryption="aws:kms", SSEKMSKeyId="alias/aws/s3")


def _put_kms_without_key(s3: S3Client, bucket: str, key: str) -> object:
    return s3.put_object(Bucket=bucket, Key=key, Body=_BODY, ServerSideEncryption="aws:kms")


FORBIDDEN_PUTS: tuple[tuple[str, str, Put], ...] = (
    ("probe.reject-aes256", "a put with AES256 (SSE-S3)", _put_aes256),
    ("probe.reject-other-key", "a put with another key (alias/aws/s3)", _put_other_key),
    ("probe.reject-kms-without-key", "a put with aws:kms and no key id", _put_kms_without_key),
)


def _forbidden_put(
    s3: S3Client, target: ProbeTarget, check_id: str, what: str, put: Put, object_key: str, *, control_passed: bool
) -> CheckResult:
    """Try a put the bucket policy must deny.

    A rejection only counts when the same put with this key was accepted (``control_passed``):
    otherwise the endpoint, or missing IAM permissions, may reject every put alike.
    """
    try:
        put(s3, target.bucket, object_key)
    except ClientError as error:
        if not is_access_denied(error):
            return CheckResult(
                check_id,
                Status.WARN,
                f"{what} failed with {_message(error)}, not AccessDenied: the bucket policy did not decide it",
            )
        if not control_passed:
            return CheckResult(
                check_id,
                Status.WARN,
                f"rejected {what} ({_message(error)}), but the put with this key was rejected too: "
                f"this says nothing about the bucket policy ({target.endpoint})",
            )
        return CheckResult(
            check_id, Status.PASS, f"rejected {what} with AccessDenied while the put with this key was accepted"
        )
    if target.enforces_policies:
        return CheckResult(check_id, Status.FAIL, f"S3 accepted {what}: the bucket policy does not deny it")
    return CheckResult(
        check_id,
        Status.WARN,
        f"endpoint did not reject {what}; policies are not enforced here ({target.endpoint}), so this proves nothing",
    )


#: The permission each cleanup call needs, named when it is denied.
_CLEANUP_ACTIONS = {
    "ListMultipartUploads": "s3:ListBucketMultipartUploads",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "ListObjectVersions": "s3:ListBucketVersions",
    "DeleteObjects": "s3:DeleteObjectVersion",
}


def _cause(operation: str, code: str, message: str = "") -> str:
    needs = (
        f", needs {_CLEANUP_ACTIONS[operation]}" if operation in _CLEANUP_ACTIONS and "denied" in code.lower() else ""
    )
    return f"{operation}: {code}{': ' + message if message and not needs else ''}{needs}"


def _version_label(key: str, version_id: str) -> str:
    return f"{key} (version {version_id})"


def _upload_label(key: str, upload_id: str) -> str:
    return f"multipart upload {key} (upload id {upload_id})"


def cleanup(s3: S3Client, bucket: str, prefix: str, open_uploads: list[tuple[str, str]]) -> CheckResult:
    """Remove every version and delete marker under ``prefix`` and abort its multipart uploads.

    Each step is tried even when another fails. When anything remains, the result names every object
    version and multipart upload left behind (listed again afterwards), and why.
    """
    aborted = removed = 0
    causes: list[str] = []
    #: What a call failed to remove: reported when the final listing is not possible.
    failed: list[str] = []

    def note(cause: str) -> None:
        if cause not in causes:
            causes.append(cause)

    pending = set(open_uploads)
    try:
        pending |= {(u["Key"], u["UploadId"]) for u in _uploads(s3, bucket, prefix)}
    except ClientError as error:
        note(_cause("ListMultipartUploads", error_code(error), _message(error)))
    for key, upload_id in sorted(pending):
        try:
            s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            aborted += 1
        except ClientError as error:
            note(_cause("AbortMultipartUpload", error_code(error), _message(error)))
            failed.append(_upload_label(key, upload_id))
    versions: list[ObjectIdentifierTypeDef] = []
    try:
        versions = _versions(s3, bucket, prefix)
    except ClientError as error:
        note(_cause("ListObjectVersions", error_code(error), _message(error)))
    for start in range(0, len(versions), 1000):
        batch = versions[start : start + 1000]
        try:
            response = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        except ClientError as error:
            note(_cause("DeleteObjects", error_code(error), _message(error)))
            failed += [_version_label(v["Key"], v.get("VersionId", "")) for v in batch]
            continue
        errors = response.get("Errors", [])
        for entry in errors:
            note(_cause("DeleteObjects", entry.get("Code", "error"), entry.get("Message", "")))
            failed.append(_version_label(entry.get("Key", "?"), entry.get("VersionId", "?")))
        removed += len(batch) - len(errors)
    try:
        left = [_version_label(v["Key"], v.get("VersionId", "")) for v in _versions(s3, bucket, prefix)]
        left += [_upload_label(u["Key"], u["UploadId"]) for u in _uploads(s3, bucket, prefix)]
        listed = True
    except ClientError as error:
        note(_cause(error.operation_name, error_code(error), _message(error)))
        left, listed = failed, False
    where = f"s3://{bucket}/{prefix}"
    if left or not listed:
        what = (
            f"left behind {len(left)} item{'' if len(left) == 1 else 's'} under {where}: {', '.join(left)}"
            if left
            else f"nothing known left under {where}"
        )
        if not listed:
            what += " (possibly more: it could not be listed again)"
        why = "; ".join(causes) or "S3 reported no error for them"
        return CheckResult(
            "probe.cleanup",
            Status.FAIL,
            f"{what}; {why}: remove them by hand as a principal with s3:DeleteObjectVersion and "
            "s3:AbortMultipartUpload",
        )
    return CheckResult(
        "probe.cleanup",
        Status.PASS,
        f"removed {removed} object versions and aborted {aborted} multipart uploads under {where}",
    )


def _uploads(s3: S3Client, bucket: str, prefix: str) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=prefix):
        found += [{"Key": u.get("Key", ""), "UploadId": u.get("UploadId", "")} for u in page.get("Uploads", [])]
    return found


def _versions(s3: S3Client, bucket: str, prefix: str) -> list[ObjectIdentifierTypeDef]:
    found: list[ObjectIdentifierTypeDef] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            if "Key" in entry and "VersionId" in entry:
                found.append({"Key": entry["Key"], "VersionId": entry["VersionId"]})
    return found


def run_probe(s3: S3Client, target: ProbeTarget) -> list[CheckResult]:
    """Write like Teleport, try the forbidden puts, and always clean up (the last result)."""
    prefix = f"{PROBE_PREFIX}/{uuid.uuid4()}/"
    open_uploads: list[tuple[str, str]] = []
    results: list[CheckResult] = []
    try:
        results.append(_multipart(s3, target, f"{prefix}multipart", open_uploads))
        with_key = _put_and_judge(
            s3,
            target,
            "probe.put-with-key",
            "PutObject with aws:kms and the key (Teleport's whole-file upload)",
            _put_with_key(target),
            f"{prefix}put-with-key",
        )
        results.append(with_key)
        results.append(
            _put_and_judge(
                s3,
                target,
                "probe.put-without-headers",
                "PutObject without encryption headers",
                _put_without_headers,
                f"{prefix}put-without-headers",
            )
        )
        for check_id, what, put in FORBIDDEN_PUTS:
            results.append(
                _forbidden_put(
                    s3,
                    target,
                    check_id,
                    what,
                    put,
                    f"{prefix}{check_id}",
                    control_passed=with_key.status == Status.PASS,
                )
            )
    finally:
        results.append(cleanup(s3, target.bucket, prefix, open_uploads))
    return results
