"""Build the plan from S3: list the source and the destination, read the earlier copies, decide each key.

Read-only (``--dry-run`` stops here). Its cost is one paginated listing of each side, one HEAD per
destination version of a key being migrated (that is how a later run proves earlier copies without
local state), and one HEAD per archived source version (to see whether its restore finished).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar

from botocore.exceptions import ClientError

from recordings_kms import aws
from recordings_kms.migrate.copy import UNREACHABLE, CopyError, CopySettings
from recordings_kms.migrate.model import CopyFacts, ExistingCopy, KeyState, NotCopied, SourceVersion
from recordings_kms.migrate.plan import (
    KeyMappingError,
    KeyPlan,
    Plan,
    destination_key,
    group_versions,
    plan_key,
    reconcile,
    same_second_as_oldest,
)
from recordings_kms.migrate.render import Progress
from recordings_kms.migrate.s3 import (
    DestinationListing,
    ListedVersion,
    access_denied_line,
    describe_failure,
    head_copy,
    is_restored,
    list_destination,
    list_source,
    open_uploads,
    replication_status,
)

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

T = TypeVar("T")
K = TypeVar("K")


@dataclass(frozen=True)
class Locations:
    """Where recordings come from and go to; prefixes are normalized (``'records/'``, or ``''``)."""

    source_bucket: str
    source_prefix: str
    destination_bucket: str
    destination_prefix: str
    key_arn: str
    #: Between a primary and its replica (``--to-replica``, ``--from-replica``): a destination version with a
    #: source version's id is S3's replica of it, and a key with a version S3 is still replicating waits.
    replicas: bool = False
    #: Failing back (``--from-replica``): a source key the destination already holds is left alone. Recordings
    #: are never overwritten, so those are the primary's own (the replica holds their replicas or copies); the
    #: ones to bring back are the recordings written to the replica during failover, under new keys.
    skip_present: bool = False


@dataclass(frozen=True)
class Survey:
    plan: Plan
    #: ``time.monotonic()`` when the destination listing returned: earlier copies were stamped before it.
    listed_at: float


def _fan_out(
    pool: ThreadPoolExecutor,
    tasks: Iterable[tuple[K, Callable[[], T]]],
    on_done: Callable[[], None],
    resource: Callable[[K], str],
) -> dict[K, T | str]:
    """Run read calls in the pool: results by task key, or one line saying why that call failed.

    AccessDenied and an unreachable endpoint end the whole run (exit 2): every other call would
    fail the same way, and one line says more than thousands.
    """
    futures: dict[Future[T], K] = {pool.submit(call): key for key, call in tasks}
    results: dict[K, T | str] = {}
    for future in as_completed(futures):
        key = futures[future]
        on_done()
        try:
            results[key] = future.result()
        except UNREACHABLE as error:
            raise aws.AwsError(f"cannot reach the s3 endpoint: {error}") from error
        except ClientError as error:
            if aws.is_access_denied(error):
                raise aws.AwsError(access_denied_line(error, resource(key))) from error
            results[key] = describe_failure(error, resource(key))
        except aws.CALL_ERRORS as error:
            results[key] = describe_failure(error, resource(key))
    return results


def _each_source_version(
    pool: ThreadPoolExecutor,
    where: Locations,
    versions: Iterable[SourceVersion],
    call: Callable[[SourceVersion], T],
) -> dict[SourceVersion, T | str]:
    """One read per source version, in the pool (``_fan_out``'s results and errors)."""

    def task(version: SourceVersion) -> Callable[[], T]:
        return lambda: call(version)

    return _fan_out(
        pool,
        ((v, task(v)) for v in versions),
        lambda: None,
        lambda v: f"s3://{where.source_bucket}/{v.key} (version {v.version_id})",
    )


def survey(
    s3: S3Client,
    where: Locations,
    *,
    pool: ThreadPoolExecutor,
    progress: Progress,
    settings: CopySettings,
    source_s3: S3Client | None = None,
) -> Survey:
    """``s3`` reads the destination; ``source_s3`` (default ``s3``) the source, in its own region."""
    source = source_s3 or s3
    with progress.stage("listing source", None, unit="version") as stage:
        listing = list_source(source, where.source_bucket, where.source_prefix, stage.advance)
    grouped = group_versions(listing.versions)
    targets: dict[str, str | KeyMappingError] = {}
    for key in grouped:
        try:
            targets[key] = destination_key(key, where.source_prefix, where.destination_prefix)
        except KeyMappingError as refused:
            targets[key] = refused
    wanted = {target for target in targets.values() if isinstance(target, str)}
    destination = (
        list_destination(s3, where.destination_bucket, where.destination_prefix, wanted)
        if wanted
        else DestinationListing({}, {})
    )
    listed, current = destination.versions, destination.current_etags
    listed_at = time.monotonic()
    present: list[str] = []
    if where.skip_present:
        present = [key for key, target in targets.items() if isinstance(target, str) and listed.get(target)]
        held = {targets[key] for key in present}
        for key in present:
            del grouped[key]
        listed = {key: versions for key, versions in listed.items() if key not in held}

    heads = [(key, version) for key, versions in listed.items() for version in versions]

    def head_task(key: str, version: ListedVersion) -> Callable[[], CopyFacts]:
        return lambda: head_copy(s3, where.destination_bucket, key, version.version_id)

    with progress.stage("checking earlier copies", len(heads)) as stage:
        facts = _fan_out(
            pool,
            (((key, v.version_id), head_task(key, v)) for key, v in heads),
            stage.advance,
            lambda task: f"s3://{where.destination_bucket}/{task[0]} (version {task[1]})",
        )
    archived = [v for versions in grouped.values() for v in versions if v.archived]
    restore = _each_source_version(pool, where, archived, lambda v: is_restored(source, where.source_bucket, v))
    restored = frozenset(v.version_id for v, answer in restore.items() if answer is True)

    plans: list[KeyPlan] = []
    for key, versions in grouped.items():
        target = targets[key]
        existing: list[ExistingCopy] = []
        unreadable: str | None = None
        if isinstance(target, str):
            for version in listed.get(target, []):
                fact = facts[(target, version.version_id)]
                if isinstance(fact, str):
                    unreadable = f"cannot check the destination's version {version.version_id}: {fact}"
                    break
                existing.append(ExistingCopy(version.version_id, version.last_modified, fact))
        plans.append(
            plan_key(
                source_bucket=where.source_bucket,
                source_key=key,
                destination_bucket=where.destination_bucket,
                destination_key_or_refusal=target,
                versions=versions,
                existing=existing,
                key_arn=where.key_arn,
                restored=restored,
                unreadable=unreadable,
                current_etag=current.get(target) if isinstance(target, str) else None,
                replicas=where.replicas,
            )
        )
    if where.replicas:
        plans = _wait_for_replication(source, where, plans, pool)
    in_parts = {p.destination_key for p in plans for v in p.pending if settings.needs_multipart(v.size)}
    uploads = (
        open_uploads(s3, where.destination_bucket, where.destination_prefix, {k for k in in_parts if k})
        if in_parts
        else []
    )
    plan = Plan(
        keys=tuple(plans),
        delete_markers=sum(listing.delete_markers.values()),
        multipart_threshold=settings.multipart_threshold,
        same_second_keys=tuple(key for key, versions in grouped.items() if same_second_as_oldest(versions)),
        open_uploads=tuple(uploads),
        present_keys=tuple(present),
    )
    return Survey(plan, listed_at)


def _wait_for_replication(
    source: S3Client, where: Locations, plans: list[KeyPlan], pool: ThreadPoolExecutor
) -> list[KeyPlan]:
    """Hold back every key with a version S3 is still replicating (``x-amz-replication-status: PENDING``).

    A copy gets a new LastModified (now); the replica S3 writes later keeps the source's, older one. Copying the
    oldest version of a key while a newer one is PENDING would let that newer replica land first in time, and
    Teleport would play it. One HEAD per version to copy ("Getting replication status information",
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html).
    """
    pending = [v for plan in plans for v in plan.pending]
    statuses = _each_source_version(pool, where, pending, lambda v: replication_status(source, where.source_bucket, v))
    held: list[KeyPlan] = []
    for plan in plans:
        answers = [(v, statuses.get(v)) for v in plan.pending]
        waiting = [v for v, status in answers if status == "PENDING"]
        unread = [(v, status) for v, status in answers if status is not None and status not in _STATUSES]
        if waiting or unread:
            if waiting:
                reason = (
                    f"S3 is still replicating version {waiting[0].version_id} of this recording "
                    "(x-amz-replication-status PENDING): a copy now would be newer than the replica S3 writes; run "
                    "again once replication has caught up (recordings-kms verify --replica)"
                )
            else:
                version, problem = unread[0]
                reason = f"cannot read the replication status of version {version.version_id}: {problem}"
            refused = tuple(NotCopied(v, plan.destination_key, reason) for v in plan.pending)
            plan = replace(plan, pending=(), refused=(*refused, *plan.refused))
        held.append(plan)
    return held


#: The values of ``x-amz-replication-status`` (S3 User Guide); any other string is a read that failed.
_STATUSES = frozenset({"PENDING", "COMPLETED", "FAILED", "REPLICA"})


def resurvey(s3: S3Client, where: Locations, plan: KeyPlan) -> KeyState:
    """Look at one destination key again, as the survey did: list its versions, HEAD each, reconcile.

    Called when S3 refused a conditional copy (the key was not in the state the copy was planned
    for): whatever another writer put there is judged like an earlier run's copies, never assumed.
    Raises :class:`CopyError` when the key cannot be read.
    """
    key = plan.destination_key
    if key is None:  # plan_key never leaves versions pending without a destination key
        raise CopyError(f"no destination key for {plan.source_key!r}")
    resource = f"s3://{where.destination_bucket}/{key}"
    try:
        listing = list_destination(s3, where.destination_bucket, key, {key})
        existing = [
            ExistingCopy(v.version_id, v.last_modified, head_copy(s3, where.destination_bucket, key, v.version_id))
            for v in listing.versions.get(key, [])
        ]
    except aws.AwsError as error:
        raise CopyError(f"cannot look at {resource} again: {error}", unreachable=_unreachable(error)) from error
    except UNREACHABLE as error:
        raise CopyError(f"cannot reach S3: {error}", unreachable=True) from error
    except aws.CALL_ERRORS as error:
        raise CopyError(f"cannot look at {resource} again: {describe_failure(error, resource)}") from error
    state = reconcile(
        source_bucket=where.source_bucket,
        source_key=plan.source_key,
        destination_bucket=where.destination_bucket,
        destination_key=key,
        versions=plan.versions,
        existing=existing,
        key_arn=where.key_arn,
        replicas=where.replicas,
    )
    return KeyState(state.copied, state.problem, state.last_copy_time, listing.current_etags.get(key))


def _unreachable(error: aws.AwsError) -> bool:
    return isinstance(error.__cause__, UNREACHABLE)
