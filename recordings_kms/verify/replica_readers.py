"""The boto3 reads of ``verify --replica``: the replica stack's outputs, where the rule's key alias points, and a
bounded comparison of the primary's versions with the replica's (judged in ``verify.replica_checks``).

Bounded by counts, never by time: at most ``sample`` primary versions (whole keys), the replica's versions of
those keys (at most ``2 * sample + 1000``), and at most ``heads`` HEADs (migrate's provenance on replica versions
of unknown origin, then ``x-amz-replication-status`` on missing primary versions).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from constructs_lib.core.outputs import BUCKET_NAME, KEY_ARN, REPLICA_REGION, REPLICA_STACK_NAME, STORAGE_URI
from recordings_kms import aws
from recordings_kms.access import InputError
from recordings_kms.verify.replica_checks import (
    DEFAULT_SAMPLE,
    Listed,
    ReplicaTarget,
    VersionEvidence,
    compare,
    unknown_replica_versions,
    wrong_oldest,
)

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

#: HEADs per run: provenance of unknown replica versions first, then the status of missing versions.
DEFAULT_HEADS = 200


def replica_stack(clients: aws.Clients, primary_outputs: Mapping[str, str], stack_name: str) -> tuple[str, str]:
    """The replica stack's name and region, from the primary's ``ReplicaStackName`` and ``ReplicaRegion`` outputs."""
    name, region = primary_outputs.get(REPLICA_STACK_NAME), primary_outputs.get(REPLICA_REGION)
    if not name or not region:
        raise InputError(
            f"verify --replica: stack {stack_name} has no replica (no {REPLICA_STACK_NAME} and {REPLICA_REGION} "
            "outputs): it was deployed without replicaRegion"
        )
    return name, region


def gather_target(
    replica_clients: aws.Clients, replica_stack_name: str, replication: Mapping[str, Any] | None
) -> ReplicaTarget:
    """The replica stack's bucket, key and prefix, and the key the primary's live rule names, resolved there."""
    from recordings_kms.teleport import StorageUriError, parse_storage_uri

    outputs = aws.stack_outputs(replica_clients, replica_stack_name)
    bucket, key_arn, uri = aws.require_outputs(outputs, replica_stack_name, BUCKET_NAME, KEY_ARN, STORAGE_URI)
    try:
        prefix = parse_storage_uri(uri).prefix
    except StorageUriError as error:
        raise InputError(f"stack {replica_stack_name}: {error}") from error
    rules = list((replication or {}).get("Rules", []))
    destination = rules[0].get("Destination", {}) if len(rules) == 1 else {}
    rule_bucket = destination.get("Bucket")
    rule_key = destination.get("EncryptionConfiguration", {}).get("ReplicaKmsKeyID")
    target = ReplicaTarget(
        stack_name=replica_stack_name,
        region=replica_clients.region,
        bucket=bucket,
        key_arn=key_arn,
        prefix=prefix,
        rule_bucket=rule_bucket,
        rule_key=rule_key,
    )
    if rule_key is None:
        return target
    try:
        arn = replica_clients.kms.describe_key(KeyId=rule_key)["KeyMetadata"].get("Arn")
    except ClientError as error:
        code = aws.error_code(error)
        if aws.is_access_denied(error):
            problem = f"access denied: DescribeKey (needs kms:DescribeKey on {rule_key})"
        else:
            problem = f"DescribeKey: {code}"
        return _with(target, None, problem, unreadable=code != "NotFoundException")
    except aws.CALL_ERRORS as error:
        return _with(target, None, " ".join(str(error).split()), unreadable=True)
    return _with(target, arn, "" if arn else "KMS reports no ARN", unreadable=not arn)


def _with(target: ReplicaTarget, arn: str | None, problem: str, *, unreadable: bool) -> ReplicaTarget:
    from dataclasses import replace

    return replace(target, rule_key_target=arn, rule_key_problem=problem, rule_key_unreadable=unreadable)


def _listed(raw: Mapping[str, Any]) -> Listed:
    return Listed(raw["Key"], raw.get("VersionId") or "null", raw["LastModified"])


def _list_primary(s3: S3Client, bucket: str, prefix: str, sample: int) -> tuple[list[Listed], bool]:
    """About ``sample`` versions, whole keys only: once the budget is reached, only the rest of the last key's
    versions are read (S3 lists a key's versions together), then the listing stops. Also: whether it stopped early."""
    listed: list[Listed] = []
    boundary: str | None = None
    with aws.translated("s3", f"s3://{bucket}/{prefix}"):
        pages = s3.get_paginator("list_object_versions").paginate(
            Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": min(1000, sample)}
        )
        for page in pages:
            versions = [_listed(v) for v in page.get("Versions", [])]
            if boundary is None:
                listed += versions
                if len(listed) >= sample:
                    boundary = listed[-1].key
            else:
                listed += [v for v in versions if v.key == boundary]
                if any(v.key != boundary for v in versions):
                    return listed, True
    return listed, False


def _list_replica(
    s3: S3Client, bucket: str, prefix: str, keys: set[str], last_key: str, cap: int
) -> tuple[list[Listed], str | None]:
    """The replica's versions of ``keys``, listed until past ``last_key`` or ``cap`` versions; with the last key
    seen when the cap stopped it (keys after it were not listed), else ``None``."""
    listed: list[Listed] = []
    seen = 0
    with aws.translated("s3", f"s3://{bucket}/{prefix}"):
        pages = s3.get_paginator("list_object_versions").paginate(
            Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": min(1000, cap)}
        )
        for page in pages:
            versions = page.get("Versions", [])
            seen += len(versions)
            listed += [_listed(v) for v in versions if v["Key"] in keys]
            if versions and versions[-1]["Key"] > last_key:
                return listed, None
            if seen >= cap and page.get("IsTruncated"):
                return listed, versions[-1]["Key"] if versions else ""
    return listed, None


def gather_versions(
    primary: S3Client,
    replica: S3Client,
    *,
    primary_bucket: str,
    replica_bucket: str,
    prefix: str,
    sample: int = DEFAULT_SAMPLE,
    heads: int = DEFAULT_HEADS,
    replica_cap: int | None = None,
) -> VersionEvidence:
    """List the primary first, then the replica (a version replicated in between is found), then HEAD within budget."""
    folder = f"{prefix.strip('/')}/"
    compared, truncated = _list_primary(primary, primary_bucket, folder, sample)
    keys = {v.key for v in compared}
    held: list[Listed] = []
    if keys:
        cap = replica_cap if replica_cap is not None else 2 * sample + 1000
        held, reached = _list_replica(replica, replica_bucket, folder, keys, max(keys), cap)
        if reached is not None:
            # The replica's listing stopped before the last compared key: compare only keys it listed entirely
            # (the key it stopped in may go on in the next page).
            compared = [v for v in compared if v.key < reached]
            held = [v for v in held if v.key < reached]
            truncated = True
    evidence = VersionEvidence(primary_bucket, tuple(compared), tuple(held), truncated)
    budget = _Heads(heads)
    copies: dict[tuple[str, str], str | None] = {}
    for version, answer in budget.each(replica, replica_bucket, unknown_replica_versions(evidence)):
        if not isinstance(answer, str):  # an unread one stays unsettled: never a copy, never missing
            copies[(version.key, version.version_id)] = copy_source(
                answer.get("Metadata", {}), primary_bucket, version.key
            )
    from dataclasses import replace

    evidence = replace(evidence, copies=copies)
    origins: dict[tuple[str, str], str] = {}
    for version, answer in budget.each(primary, primary_bucket, wrong_oldest(evidence)):
        origin = (
            None if isinstance(answer, str) else copy_source(answer.get("Metadata", {}), replica_bucket, version.key)
        )
        if origin is not None:  # else it stays a wrong oldest: nothing says otherwise
            origins[(version.key, version.version_id)] = origin
    evidence = replace(evidence, origins=origins)
    statuses: dict[tuple[str, str], str | None] = {}
    problems: dict[tuple[str, str], str] = {}
    for version, answer in budget.each(primary, primary_bucket, compare(evidence).missing):
        ident = (version.key, version.version_id)
        if isinstance(answer, str):
            problems[ident] = answer
        else:
            statuses[ident] = answer.get("ReplicationStatus")
    return replace(evidence, statuses=statuses, problems=problems)


class _Heads:
    """HEADs within one budget for the whole run (counted, never timed)."""

    def __init__(self, budget: int) -> None:
        self.left = budget

    def each(
        self, s3: S3Client, bucket: str, versions: Iterable[Listed]
    ) -> Iterator[tuple[Listed, Mapping[str, Any] | str]]:
        """Each version with HeadObject's answer, or one line saying why it could not be read; stops at the budget."""
        for version in versions:
            if self.left <= 0:
                return
            self.left -= 1
            try:
                yield version, s3.head_object(Bucket=bucket, Key=version.key, VersionId=version.version_id)
            except ClientError as error:
                denied = aws.is_access_denied(error)
                yield (
                    version,
                    (
                        f"access denied: HeadObject (needs s3:GetObjectVersion on {bucket})"
                        if denied
                        else f"HeadObject: {aws.error_code(error)}"
                    ),
                )
            except aws.CALL_ERRORS as error:
                yield version, " ".join(str(error).split())


def copy_source(metadata: Mapping[str, str], bucket: str, key: str) -> str | None:
    """The version of ``bucket``/``key`` an object is migrate's copy of (its provenance record), else ``None``."""
    from recordings_kms.provenance import source_of

    source = source_of(metadata)
    if source is None or (source.bucket, source.key) != (bucket, key):
        return None
    return source.version_id
