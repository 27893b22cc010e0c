"""``recordings-kms migrate``: move existing recordings under the recordings key, losing nothing.

Copies every version under ``s3://SRC/PREFIX/`` into the recordings bucket under its prefix, server
side, encrypted with the key; the version Teleport plays (the oldest) becomes the first version of
each destination key. Each copy is verified (SHA-256 of the source's bytes against S3's SHA-256 of
the copy, aws:kms under the key) and carries its provenance as metadata, which is how an
interrupted run resumes on any machine and how a repeated run knows there is nothing left to do.
Nothing in the source is modified or deleted.

Exit codes: 0 every version is copied and verified (now or before); 1 some version was not copied
(each is listed with the reason) or the run was interrupted; 2 the command could not run.

Wiring (in ``cli.build_parser``): ``register(commands)``; the handler is :func:`run`.
boto3 is imported only when the command runs, like the other AWS commands.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from constructs_lib.core.outputs import BUCKET_NAME, KEY_ARN, REPLICA_REGION, REPLICA_STACK_NAME, STORAGE_URI
from constructs_lib.core.settings import AppSettings, prefix_rule, region_rule, specs
from recordings_kms.options import (
    ANY_BUCKET_NAME,
    EXIT_FAILED,
    EXIT_OK,
    PROG,
    add_setting,
    endpoint_url_problem,
)
from recordings_kms.render import error as _error

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

    from recordings_kms import aws
    from recordings_kms.migrate.copy import CopySettings
    from recordings_kms.migrate.plan import Plan
    from recordings_kms.migrate.render import Report, UploadNote
    from recordings_kms.migrate.survey import Locations

#: Exit code 1: some version was not copied (listed with the reason), or the run was stopped.
EXIT_NOT_COPIED = EXIT_FAILED
#: The recordings prefix when neither --prefix nor a stack gives one: the settings model's default.
DEFAULT_PREFIX: str = next(d.default for d in specs(AppSettings) if d.name == "recordings_prefix")
#: Each copy is two requests one after the other (read the source to hash it, then CopyObject), so
#: keeping as many requests in flight as a one-request-per-object tool at 10 threads (the AWS CLI's
#: default) takes about twice that; S3 serves thousands of requests a second per prefix.
DEFAULT_CONCURRENCY = 32
CONCURRENCY_RANGE = (1, 256)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``migrate`` subcommand (its handler is :func:`run`)."""
    parser = commands.add_parser(
        "migrate",
        help="copy existing recordings into the recordings bucket under the key (resumable, verified)",
        description="Copy every recording version under --source-prefix into the recordings bucket under its "
        "prefix, encrypted with the recordings key; the version Teleport plays (the oldest) becomes the first "
        "version. Every copy is verified by SHA-256. The source is never modified. Exit 0: everything is copied "
        "and verified; 1: some versions were not copied (listed with the reason); 2: the command could not run.",
    )
    parser.add_argument(
        "--source-bucket", metavar="SRC", help="the bucket holding the recordings now (required, except with a replica)"
    )
    parser.add_argument(
        "--source-prefix",
        default="",
        metavar="P",
        help="the prefix of the recordings in it (default: the whole bucket)",
    )
    parser.add_argument(
        "--stack-name",
        help="read the recordings bucket, key and prefix (BucketName, KeyArn, StorageUri) from the stack",
    )
    between = parser.add_mutually_exclusive_group()
    between.add_argument(
        "--to-replica",
        action="store_true",
        help="with --stack-name of the primary stack: fill its disaster-recovery replica (the stack its "
        "ReplicaStackName and ReplicaRegion outputs name) with the primary's versions it does not hold, under the "
        "replica key; versions S3 replicated count as there (same version id)",
    )
    between.add_argument(
        "--from-replica",
        action="store_true",
        help="with --stack-name of the primary stack: fail back, copying into the primary what the replica holds "
        "and the primary does not (recordings written during failover)",
    )
    parser.add_argument("--bucket", metavar="DST", help="the recordings bucket (with --key, instead of --stack-name)")
    parser.add_argument("--key", metavar="KEY_ARN", help="the recordings key (with --bucket)")
    add_setting(
        parser,
        "recordings_prefix",
        help=f"the recordings prefix in the recordings bucket (default: {DEFAULT_PREFIX}, or the stack's StorageUri)",
    )
    parser.add_argument(
        "--region",
        help="AWS region (default: the region of a key ARN given to --key, then AWS_REGION, AWS_DEFAULT_REGION, "
        "then the AWS config profile's region)",
    )
    parser.add_argument("--endpoint-url", help="another endpoint for S3, KMS and CloudFormation (e.g. a moto server)")
    parser.add_argument("--dry-run", action="store_true", help="list what would be copied; copy nothing")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"copies in flight ({CONCURRENCY_RANGE[0]}..{CONCURRENCY_RANGE[1]}, default {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON summary instead of lines; no progress bar")
    parser.set_defaults(handler=run)


def option_problem(args: argparse.Namespace) -> str | None:
    """Why the options cannot work together, checked before any AWS call."""
    low, high = CONCURRENCY_RANGE
    if not low <= args.concurrency <= high:
        return f"--concurrency must be {low}..{high}, got {args.concurrency}"
    direction = "--to-replica" if args.to_replica else "--from-replica" if args.from_replica else None
    if direction is not None:
        if not args.stack_name:
            return f"migrate {direction} needs --stack-name of the primary stack (its outputs name the replica stack)"
        given = [
            option
            for option, value in (
                ("--source-bucket", args.source_bucket),
                ("--source-prefix", args.source_prefix),
                ("--bucket", args.bucket),
                ("--key", args.key),
                ("--prefix", args.recordings_prefix),
            )
            if value
        ]
        if given:
            return (
                f"migrate {direction}: the buckets, keys and prefixes are the primary and replica stacks' outputs; "
                f"leave out {', '.join(given)}"
            )
    elif not args.source_bucket:
        return "migrate: needs --source-bucket (or --to-replica / --from-replica with --stack-name)"
    if args.stack_name and (args.bucket or args.key):
        return "migrate: use --stack-name, or --bucket and --key, not both"
    if not args.stack_name and not (args.bucket and args.key):
        return "migrate: needs --stack-name, or both --bucket and --key"
    for option, bucket in (("--source-bucket", args.source_bucket), ("--bucket", args.bucket)):
        if bucket is not None and not ANY_BUCKET_NAME.match(bucket):
            return f"{option} {bucket!r} is not an S3 bucket name (give the name alone, not an ARN or s3:// URL)"
    for option, value, rule in (
        ("--prefix", args.recordings_prefix, prefix_rule),
        ("--region", args.region, region_rule),
    ):
        allowed = None if value is None else rule(value.strip("/") if option == "--prefix" else value)
        if allowed is not None:
            return f"'{option}' must be {allowed}, got {json.dumps(value)}"
    if args.endpoint_url is not None:
        return endpoint_url_problem(args.endpoint_url)
    return None


@dataclass(frozen=True)
class _Destination:
    bucket: str
    key: str
    prefix: str
    #: Where the key came from, for messages: ``--key alias/x`` or ``stack NAME's KeyArn``.
    key_source: str


def _destination(clients: aws.Clients, args: argparse.Namespace) -> _Destination:
    """The recordings bucket, key and prefix: from the options, or the stack's outputs."""
    from recordings_kms import aws

    if not args.stack_name:
        prefix = args.recordings_prefix if args.recordings_prefix is not None else DEFAULT_PREFIX
        return _Destination(args.bucket, args.key, prefix, f"--key {args.key}")
    bucket, key, prefix, _ = _stack_storage(clients, args.stack_name)
    if args.recordings_prefix is not None and args.recordings_prefix.strip("/") != prefix:
        raise aws.AwsError(
            f"--prefix {args.recordings_prefix!r} differs from the prefix of stack {args.stack_name}'s StorageUri "
            f"({prefix!r}), where Teleport reads recordings; leave --prefix out"
        )
    return _Destination(bucket, key, prefix, f"stack {args.stack_name}'s {KEY_ARN} {key}")


@dataclass(frozen=True)
class _Route:
    """Where a run reads and writes: the source, the destination, and the clients of each one's region."""

    source_bucket: str
    source_prefix: str
    destination: _Destination
    #: The destination's region (its key, its bucket's writes).
    clients: aws.Clients
    #: The source's region (its listing and reads); the destination's outside a replica.
    source_clients: aws.Clients
    replicas: bool = False
    fail_back: bool = False


def _stack_storage(clients: aws.Clients, stack_name: str) -> tuple[str, str, str, dict[str, str]]:
    """A stack's bucket, key and StorageUri prefix, and all its outputs."""
    from recordings_kms import aws
    from recordings_kms.teleport import StorageUriError, parse_storage_uri

    outputs = aws.stack_outputs(clients, stack_name)
    bucket, key, uri = aws.require_outputs(outputs, stack_name, BUCKET_NAME, KEY_ARN, STORAGE_URI)
    try:
        storage = parse_storage_uri(uri)
    except StorageUriError as error:
        raise aws.AwsError(f"stack {stack_name}: {error}") from error
    if storage.bucket != bucket:
        raise aws.AwsError(f"stack {stack_name}: {STORAGE_URI} names bucket {storage.bucket}, {BUCKET_NAME} {bucket}")
    return bucket, key, storage.prefix, outputs


def _route(clients: aws.Clients, args: argparse.Namespace) -> _Route:
    """The options' route, or between the primary stack (``--stack-name``) and the replica stack it names."""
    from recordings_kms import aws

    if not (args.to_replica or args.from_replica):
        return _Route(args.source_bucket, args.source_prefix, _destination(clients, args), clients, clients)
    bucket, key, prefix, outputs = _stack_storage(clients, args.stack_name)
    name, region = outputs.get(REPLICA_STACK_NAME), outputs.get(REPLICA_REGION)
    if not name or not region:
        raise aws.AwsError(
            f"stack {args.stack_name} has no replica (no {REPLICA_STACK_NAME} and {REPLICA_REGION} outputs): it was "
            "deployed without replicaRegion"
        )
    replica_clients = aws.make_clients(region=region, endpoint_url=args.endpoint_url)
    replica_bucket, replica_key, replica_prefix, _ = _stack_storage(replica_clients, name)
    if args.to_replica:
        destination = _Destination(replica_bucket, replica_key, replica_prefix, f"stack {name}'s {KEY_ARN}")
        return _Route(bucket, prefix, destination, replica_clients, clients, replicas=True)
    destination = _Destination(bucket, key, prefix, f"stack {args.stack_name}'s {KEY_ARN}")
    return _Route(replica_bucket, replica_prefix, destination, clients, replica_clients, replicas=True, fail_back=True)


def _overlap(where: Locations) -> str | None:
    if where.source_bucket != where.destination_bucket:
        return None
    source, destination = where.source_prefix, where.destination_prefix
    if source.startswith(destination) or destination.startswith(source):
        return (
            f"the source s3://{where.source_bucket}/{source} and the destination prefix {destination!r} overlap in "
            "one bucket: copies would be copied again; choose prefixes that do not contain each other"
        )
    return None


def _abort_uploads(s3: S3Client, bucket: str, uploads: Sequence[tuple[str, str]]) -> list[UploadNote]:
    from recordings_kms import aws
    from recordings_kms.migrate.render import UploadNote
    from recordings_kms.migrate.s3 import describe_failure

    notes: list[UploadNote] = []
    for key, upload_id in uploads:
        try:
            s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        except aws.CALL_ERRORS as error:
            problem = (
                f"{describe_failure(error, f's3://{bucket}/{key}')}; Teleport's upload completer may finish it into a "
                "partial version: abort it by hand"
            )
            notes.append(UploadNote(key, upload_id, problem))
        else:
            notes.append(UploadNote(key, upload_id))
    return notes


def run(args: argparse.Namespace, *, settings: CopySettings | None = None) -> int:
    """The ``migrate`` handler. ``settings`` (the multipart threshold and part size) is for tests."""
    as_json = bool(args.json)
    problem = option_problem(args)
    if problem:
        return _error(problem, as_json=as_json)

    from recordings_kms import aws
    from recordings_kms.migrate.copy import CopySettings

    try:
        clients = aws.make_clients(region=args.region, endpoint_url=args.endpoint_url, key=args.key)
        report = _migrate(clients, args, settings or CopySettings())
    except aws.AwsError as error:
        return _error(str(error), as_json=as_json)
    except aws.CALL_ERRORS as error:  # a backstop: every expected error is an AwsError
        return _error(f"AWS call failed: {error}", as_json=as_json)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted before copying anything", file=sys.stderr)
        return EXIT_NOT_COPIED

    from recordings_kms.migrate import render

    print(render.as_json(report) if as_json else render.text(report))
    return EXIT_OK if report.ok else EXIT_NOT_COPIED


def _migrate(clients: aws.Clients, args: argparse.Namespace, settings: CopySettings) -> Report:
    from concurrent.futures import ThreadPoolExecutor

    from recordings_kms import aws
    from recordings_kms.migrate.copy import Copier
    from recordings_kms.migrate.plan import normalize_prefix
    from recordings_kms.migrate.render import Progress, Report
    from recordings_kms.migrate.s3 import bulk_s3_client, describe_key, require_default_encryption, require_versioning
    from recordings_kms.migrate.schedule import VERSION_GAP_SECONDS, Scheduler
    from recordings_kms.migrate.survey import Locations, resurvey, survey

    route = _route(clients, args)
    destination, clients = route.destination, route.clients
    key = describe_key(clients, destination.key)
    where = Locations(
        source_bucket=route.source_bucket,
        source_prefix=normalize_prefix(route.source_prefix),
        destination_bucket=destination.bucket,
        destination_prefix=normalize_prefix(destination.prefix),
        key_arn=key.arn,
        replicas=route.replicas,
        skip_present=route.fail_back,
    )
    overlap = _overlap(where)
    if overlap:
        raise aws.AwsError(overlap)
    s3 = bulk_s3_client(clients, args.concurrency)
    source_s3 = s3 if route.source_clients is clients else bulk_s3_client(route.source_clients, args.concurrency)
    require_versioning(s3, where.destination_bucket)
    require_default_encryption(s3, clients.kms, where.destination_bucket, key, named_as=destination.key_source)
    progress = Progress.for_terminal(as_json=bool(args.json))
    stop = threading.Event()
    pool = ThreadPoolExecutor(max_workers=args.concurrency, thread_name_prefix="migrate")
    try:
        found = survey(s3, where, pool=pool, progress=progress, settings=settings, source_s3=source_s3)
        plan: Plan = found.plan
        report = Report(
            source_bucket=where.source_bucket,
            source_prefix=where.source_prefix,
            destination_bucket=where.destination_bucket,
            destination_prefix=where.destination_prefix,
            key_arn=where.key_arn,
            region=clients.region,
            endpoint_url=clients.endpoint_url,
            plan=plan,
            dry_run=bool(args.dry_run),
        )
        if args.dry_run:
            from recordings_kms.migrate.render import UploadNote

            report.uploads = [UploadNote(k, u) for k, u in plan.open_uploads]
            return report
        report.uploads = _abort_uploads(s3, where.destination_bucket, plan.open_uploads)
        copier = Copier(
            s3,
            source_bucket=where.source_bucket,
            destination_bucket=where.destination_bucket,
            key_arn=where.key_arn,
            settings=settings,
            stop=stop,
            source_s3=source_s3,
        )
        started = time.monotonic()
        with progress.stage("copying", len(plan.pending), unit="version") as stage:
            scheduler = Scheduler(
                copier.copy,
                resurvey=functools.partial(resurvey, s3, where),
                pool=pool,
                concurrency=args.concurrency,
                stop=stop,
                stage=stage,
            )
            outcome = scheduler.run(list(plan.keys), resumed_not_before=found.listed_at + VERSION_GAP_SECONDS)
        report.seconds = time.monotonic() - started
        report.copied, report.not_copied = outcome.copied, outcome.not_copied
        report.found_copied = outcome.found_copied
        report.remaining, report.stopped = outcome.remaining, outcome.stopped
        return report
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)


def main(argv: Sequence[str] | None = None, *, settings: CopySettings | None = None) -> int:
    """``recordings-kms migrate ...`` on its own (tests, ``python -m recordings_kms.migrate migrate ...``),
    under the same last guard as ``recordings-kms`` (``guard.run_command``)."""
    from recordings_kms.guard import run_command

    parser = argparse.ArgumentParser(prog=PROG)
    register(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(argv)
    return run_command(lambda parsed: run(parsed, settings=settings), args)
