"""``recordings-kms import-check``: before adopting a bucket (``existingBucket``), what will phase 2 change?

Adoption imports the live bucket under the recordings stack with a template that claims nothing but its
name (``constructs_lib/core/bucket_import.py``), then the ordinary update sets every property the
recordings stack declares. This command reads the live bucket and says, one line per aspect, what that
update does to it, so that nobody learns from a lost grant or a stopped replication that it happened:

* ``REPLACE`` / ``CHANGE`` / ``ADD`` / ``SAME``: a property the template sets (bucket policy, default
  encryption, versioning, lifecycle rules, access logging, public access block, object ownership), with
  the live value and the template's;
* ``KEEP``: what the template does not set and CloudFormation therefore leaves (Object Lock, replication);
* ``RISK``: what is lost or stops working silently: Allow statements of the live policy (their principals
  lose that access), ACL grants that BucketOwnerEnforced stops applying, a replication rule that will
  not replicate SSE-KMS objects, multipart uploads open now (they complete under the encryption they
  were started with), a bucket in another region than the stack's, and anything this command could not
  read (never taken as absent).

Exit 0: no RISK line; 1: at least one (read them before phase 2); 2: unusable input. Read-only: only
``Get*``/``List*`` calls.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from recordings_kms.options import EXIT_FAILED, EXIT_OK, PROG, endpoint_url_problem, existing_bucket_problem
from recordings_kms.templates import TemplateError, new_template_path, read_template

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

Kind = Literal["ADD", "REPLACE", "CHANGE", "SAME", "KEEP", "RISK"]
#: What S3 answers when a configuration was never set (an absence, not a failure to read).
ABSENT = {
    "NoSuchBucketPolicy",
    "ServerSideEncryptionConfigurationNotFoundError",
    "NoSuchLifecycleConfiguration",
    "ObjectLockConfigurationNotFoundError",
    "ReplicationConfigurationNotFoundError",
    "NoSuchPublicAccessBlockConfiguration",
    "OwnershipControlsNotFoundError",
}
#: Pages of ListObjectVersions / ListMultipartUploads read at most (1,000 entries each): counted, not timed.
DEFAULT_PAGES = 10


@dataclass(frozen=True)
class Finding:
    kind: Kind
    aspect: str
    detail: str

    def line(self) -> str:
        return f"{self.kind:<8} {self.aspect}: {self.detail}"


class UnreadableError(Exception):
    """A configuration the caller's credentials (or the endpoint) did not let us read."""


def _show(value: Any) -> str:
    """A template value as text: intrinsics name what they refer to (``the stack's StorageKey...``)."""
    if isinstance(value, Mapping) and len(value) == 1:
        ((op, args),) = value.items()
        if op == "Ref":
            return f"the stack's {args}"
        if op == "Fn::GetAtt" and isinstance(args, list) and args:
            return f"the stack's {args[0]}"
    return json.dumps(value, sort_keys=True)


# --- the template side ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    """The recordings bucket as phase 2's template declares it."""

    logical_id: str
    name: str
    properties: Mapping[str, Any]
    policy: Mapping[str, Any] | None


def planned_bucket(template: Mapping[str, Any], bucket: str | None) -> Planned:
    """The template's bucket named ``bucket`` (or its only fixed-name bucket with a bucket policy)."""
    resources = template.get("Resources", {})
    buckets = {
        i: r
        for i, r in resources.items()
        if isinstance(r, Mapping) and r.get("Type") == "AWS::S3::Bucket" and isinstance(r.get("Properties"), Mapping)
    }
    named = {i: r["Properties"].get("BucketName") for i, r in buckets.items()}
    policies = {
        json.dumps(r.get("Properties", {}).get("Bucket"), sort_keys=True): r.get("Properties", {}).get("PolicyDocument")
        for r in resources.values()
        if isinstance(r, Mapping) and r.get("Type") == "AWS::S3::BucketPolicy"
    }
    if bucket is not None:
        found = [i for i, n in named.items() if n == bucket]
        if not found:
            names = ", ".join(sorted(n for n in named.values() if isinstance(n, str))) or "none with a fixed name"
            raise TemplateError(f"--bucket {bucket}: not a bucket of the new template (its buckets: {names})")
    else:
        found = [i for i in named if json.dumps({"Ref": i}) in policies and isinstance(named[i], str)]
        if len(found) != 1:
            raise TemplateError("--new: name the bucket to adopt with --bucket (the template has no single one)")
    logical_id = found[0]
    return Planned(
        logical_id=logical_id,
        name=str(named[logical_id]),
        properties=buckets[logical_id]["Properties"],
        policy=policies.get(json.dumps({"Ref": logical_id})),
    )


# --- the live side --------------------------------------------------------------------------------


class LiveBucket:
    """Read-only calls on the live bucket; an absent configuration is ``None``, anything else unreadable."""

    def __init__(self, s3: S3Client, name: str) -> None:
        self.s3, self.name = s3, name

    def get(self, call: Callable[..., Any], **arguments: Any) -> Any:
        return self._answer(lambda: call(Bucket=self.name, **arguments), call.__name__)

    def _answer(self, request: Callable[[], Any], operation: str) -> Any:
        from botocore.exceptions import ClientError

        from recordings_kms import aws

        try:
            return request()
        except ClientError as error:
            if aws.error_code(error) in ABSENT:
                return None
            raise UnreadableError(aws.describe_client_error(error, "s3", self.name)) from error
        except aws.CALL_ERRORS as error:
            raise UnreadableError(f"{operation} on {self.name} failed: {error}") from error

    def count(self, method: str, key: str, prefix: str, pages: int) -> tuple[int, bool, list[Any]]:
        """How many ``key`` entries in at most ``pages`` pages, whether there are more, and the first three."""
        paginator = self.s3.get_paginator(method)  # type: ignore[call-overload]
        iterator = iter(paginator.paginate(Bucket=self.name, Prefix=prefix))
        total, first = 0, list[Any]()
        for _ in range(pages):
            page = self._answer(lambda: next(iterator, None), method)
            if page is None:
                return total, False, first
            found = page.get(key, [])
            total += len(found)
            first += found[: max(0, 3 - len(first))]
        more = self._answer(lambda: next(iterator, None), method)
        return total, more is not None and bool(more.get(key)), first


# --- the comparison -------------------------------------------------------------------------------


def _policy_findings(live: LiveBucket, planned: Planned) -> Iterator[Finding]:
    answer = live.get(live.s3.get_bucket_policy)
    new = planned.policy or {}
    sids = [s.get("Sid", "(no Sid)") for s in new.get("Statement", [])]
    if answer is None:
        yield Finding("ADD", "bucket policy", f"none now; phase 2 sets {len(sids)} statements ({', '.join(sids)})")
        return
    statements = json.loads(answer["Policy"]).get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    yield Finding(
        "REPLACE",
        "bucket policy",
        f"its {len(statements)} statements are replaced by the package's {len(sids)} ({', '.join(sids)})",
    )
    for statement in statements:
        if statement.get("Effect") == "Allow":
            actions = statement.get("Action", statement.get("NotAction"))
            yield Finding(
                "RISK",
                "bucket policy",
                f"statement {statement.get('Sid', '(no Sid)')} allows {json.dumps(statement.get('Principal'))} "
                f"{json.dumps(actions)}: that access ends with phase 2 (give the principals as readerArns if "
                "they must keep reading)",
            )


def _encryption_findings(live: LiveBucket, planned: Planned, prefix: str, pages: int) -> Iterator[Finding]:
    answer = live.get(live.s3.get_bucket_encryption)
    rules = (answer or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    now = rules[0] if rules else {}
    default = now.get("ApplyServerSideEncryptionByDefault", {})
    current = (
        f"{default.get('SSEAlgorithm', 'none')}"
        + (f" under {default['KMSMasterKeyID']}" if default.get("KMSMasterKeyID") else "")
        + (", Bucket Key on" if now.get("BucketKeyEnabled") else "")
    )
    configured = planned.properties.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
    wanted = configured[0] if configured else {}
    by_default = wanted.get("ServerSideEncryptionByDefault", {})
    target = f"{by_default.get('SSEAlgorithm', 'none')} under {_show(by_default.get('KMSMasterKeyID'))}" + (
        ", Bucket Key on" if wanted.get("BucketKeyEnabled") else ""
    )
    yield Finding("CHANGE", "default encryption", f"{current} -> {target} (new writes only)")
    versions, more, _ = live.count("list_object_versions", "Versions", prefix, pages)
    if versions:
        count = f"at least {versions}" if more else str(versions)
        yield Finding(
            "KEEP",
            "objects written before",
            f"{count} versions under {prefix!r} keep the encryption they were written with: whoever can read the "
            "bucket can still read them; re-encrypting in place is refused (Teleport plays the oldest version), "
            "recordings-kms migrate into a fresh bucket brings them under the key",
        )


def _simple_findings(live: LiveBucket, planned: Planned) -> Iterator[Finding]:
    """Versioning, lifecycle rules, logging, public access block: live value -> template value."""
    versioning = (live.get(live.s3.get_bucket_versioning) or {}).get("Status", "never enabled")
    target = planned.properties.get("VersioningConfiguration", {}).get("Status", "unset")
    kind: Kind = "SAME" if versioning == target else "CHANGE"
    note = " (versions written before versioning keep version id null)" if versioning != target else ""
    yield Finding(kind, "versioning", f"{versioning} -> {target}{note}")

    rules = (live.get(live.s3.get_bucket_lifecycle_configuration) or {}).get("Rules", [])
    new_rules = planned.properties.get("LifecycleConfiguration", {}).get("Rules", [])
    ids = ", ".join(r.get("ID", "(no ID)") for r in rules) or "none"
    new_ids = ", ".join(r.get("Id", "(no Id)") for r in new_rules) or "none"
    yield Finding("REPLACE" if rules else "ADD", "lifecycle rules", f"{ids} -> {new_ids}")

    logging = (live.get(live.s3.get_bucket_logging) or {}).get("LoggingEnabled")
    new_logging = planned.properties.get("LoggingConfiguration")
    current = f"to {logging['TargetBucket']}/{logging.get('TargetPrefix', '')}" if logging else "off"
    target = (
        f"to {_show(new_logging.get('DestinationBucketName'))}/{new_logging.get('LogFilePrefix', '')}"
        if new_logging
        else "off"
    )
    yield Finding("CHANGE", "access logging", f"{current} -> {target}")

    block = (live.get(live.s3.get_public_access_block) or {}).get("PublicAccessBlockConfiguration", {})
    new_block = planned.properties.get("PublicAccessBlockConfiguration", {})
    names = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
    off = [n for n in names if new_block.get(n) and not block.get(n)]
    yield Finding(
        "CHANGE" if off else "SAME", "public access block", f"turned on: {', '.join(off)}" if off else "all on"
    )


def _ownership_findings(live: LiveBucket, planned: Planned) -> Iterator[Finding]:
    rules = (live.get(live.s3.get_bucket_ownership_controls) or {}).get("OwnershipControls", {}).get("Rules", [])
    current = rules[0].get("ObjectOwnership") if rules else "ObjectWriter (no ownership controls)"
    new_rules = planned.properties.get("OwnershipControls", {}).get("Rules", [])
    target = new_rules[0].get("ObjectOwnership") if new_rules else "unset"
    yield Finding("SAME" if current == target else "CHANGE", "object ownership", f"{current} -> {target}")
    if target == "BucketOwnerEnforced" and current != target:
        acl = live.get(live.s3.get_bucket_acl) or {}
        owner = acl.get("Owner", {}).get("ID")
        for grant in acl.get("Grants", []):
            grantee = grant.get("Grantee", {})
            if grantee.get("ID") == owner:
                continue
            who = grantee.get("URI") or grantee.get("ID") or grantee.get("EmailAddress") or json.dumps(grantee)
            yield Finding(
                "RISK",
                "bucket ACL",
                f"grant of {grant.get('Permission')} to {who} stops applying (BucketOwnerEnforced disables ACLs)",
            )


def _kept_findings(live: LiveBucket, planned: Planned, prefix: str, pages: int) -> Iterator[Finding]:
    """Object Lock and replication (the template does not set them) and the open uploads."""
    lock = (live.get(live.s3.get_object_lock_configuration) or {}).get("ObjectLockConfiguration", {})
    if lock.get("ObjectLockEnabled") == "Enabled" and "ObjectLockEnabled" not in planned.properties:
        retention = lock.get("Rule", {}).get("DefaultRetention")
        yield Finding(
            "KEEP",
            "Object Lock",
            f"on (default retention {json.dumps(retention) if retention else 'none'}); the template does not "
            "set it, so CloudFormation leaves it, and the package's retention settings do not apply",
        )
    replication = (live.get(live.s3.get_bucket_replication) or {}).get("ReplicationConfiguration", {})
    if replication and "ReplicationConfiguration" not in planned.properties:
        for rule in replication.get("Rules", []):
            selection = rule.get("SourceSelectionCriteria", {}).get("SseKmsEncryptedObjects", {})
            if selection.get("Status") != "Enabled" or not rule.get("Destination", {}).get("EncryptionConfiguration"):
                yield Finding(
                    "RISK",
                    "replication",
                    f"rule {rule.get('ID', '(no ID)')} stays, but replicates no SSE-KMS object (it needs "
                    "SseKmsEncryptedObjects and a ReplicaKmsKeyID): new recordings under the key stop being "
                    "replicated (docs/REPLICATION.md builds a replica that does)",
                )
            else:
                yield Finding("KEEP", "replication", f"rule {rule.get('ID', '(no ID)')} stays (not in the template)")
    uploads, more, first = live.count("list_multipart_uploads", "Uploads", prefix, pages)
    if uploads:
        count = f"at least {uploads}" if more else str(uploads)
        examples = ", ".join(u["Key"] for u in first)
        yield Finding(
            "RISK",
            "open multipart uploads",
            f"{count} under {prefix!r} ({examples}): each completes under the encryption it was started with, "
            "not the key; let the sessions end (or Teleport's upload completer finish them) before phase 2",
        )


def findings(live: LiveBucket, planned: Planned, *, region: str, prefix: str, pages: int) -> list[Finding]:
    """Every finding for adopting the live bucket into ``planned``; an unreadable aspect is a RISK."""
    found: list[Finding] = []
    location = live.get(live.s3.get_bucket_location)
    where = (location or {}).get("LocationConstraint") or "us-east-1"
    if where != region:
        found.append(
            Finding("RISK", "region", f"the bucket is in {where}, the stack deploys to {region}: the import fails")
        )
    aspects: list[tuple[str, Callable[[], Iterator[Finding]]]] = [
        ("bucket policy", lambda: _policy_findings(live, planned)),
        ("default encryption", lambda: _encryption_findings(live, planned, prefix, pages)),
        ("versioning, lifecycle, logging, public access block", lambda: _simple_findings(live, planned)),
        ("object ownership", lambda: _ownership_findings(live, planned)),
        ("Object Lock, replication, open uploads", lambda: _kept_findings(live, planned, prefix, pages)),
    ]
    for aspect, find in aspects:
        try:
            found += list(find())
        except UnreadableError as unreadable:
            found.append(Finding("RISK", aspect, f"could not read it, so it is not judged: {unreadable}"))
    return found


# --- the command ----------------------------------------------------------------------------------


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``import-check`` subcommand (its handler is :func:`run`)."""
    parser = commands.add_parser(
        "import-check",
        help="before adopting an existing bucket (existingBucket): what phase 2 changes on it, and what is lost",
        description="Read the live bucket and the recordings stack's new template and list, one line per aspect, "
        "what the update after the import replaces (bucket policy, default encryption, lifecycle rules, "
        "logging, public access block, ownership), what it keeps (Object Lock, replication, objects written "
        "before) and what is lost or breaks (RISK). Read-only. Exit 0: no RISK; 1: at least one; 2: unusable input.",
    )
    parser.add_argument("--new", required=True, metavar="NEW", help="the phase 2 template, or cdk.out with --stack")
    parser.add_argument("--stack", metavar="NAME", help="with --new DIRECTORY: the stack (TeleportSessionRecordings)")
    parser.add_argument(
        "--bucket", metavar="NAME", help="the bucket to adopt (default: the template's recordings bucket)"
    )
    parser.add_argument("--prefix", default="records/", help="the recordings prefix (default: records/)")
    parser.add_argument(
        "--pages",
        type=int,
        default=DEFAULT_PAGES,
        metavar="N",
        help=f"list at most N pages of versions and of uploads (1,000 each; default {DEFAULT_PAGES})",
    )
    parser.add_argument("--region", help="the stack's region (default: as verify resolves it)")
    parser.add_argument("--endpoint-url", help="an S3 endpoint (moto, LocalStack) instead of AWS")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of lines")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from recordings_kms import aws, render
    from recordings_kms.options import region_problem

    if args.pages < 1:
        return render.error(f"--pages must be a positive whole number, got {args.pages}", as_json=args.json)
    for problem in (
        args.region is not None and region_problem(args.region),
        args.endpoint_url is not None and endpoint_url_problem(args.endpoint_url),
        args.bucket is not None and existing_bucket_problem(args.bucket),
    ):
        if problem:
            return render.error(problem, as_json=args.json)
    try:
        planned = planned_bucket(read_template(new_template_path(args.new, args.stack), "--new"), args.bucket)
        clients = aws.make_clients(region=args.region, endpoint_url=args.endpoint_url)
    except (TemplateError, aws.AwsError) as error:
        return render.error(str(error), as_json=args.json)
    found = findings(
        LiveBucket(clients.s3, planned.name), planned, region=clients.region, prefix=args.prefix, pages=args.pages
    )
    risks = sum(f.kind == "RISK" for f in found)
    if args.json:
        lines = [{"kind": f.kind, "aspect": f.aspect, "detail": f.detail} for f in found]
        print(json.dumps({"ok": not risks, "bucket": planned.name, "findings": lines}, indent=2))
    else:
        for finding in found:
            print(finding.line())
        summary = f"{risks} RISK line{'s' if risks != 1 else ''}" if risks else "no RISK line"
        print(f"{PROG} import-check: {planned.name}: {summary} ({len(found)} findings)")
    return EXIT_FAILED if risks else EXIT_OK
