"""``verify --replica``: is the replica where the primary's rule sends recordings, and does it hold them?

Two questions the synthesized templates cannot answer, judged here on what ``verify.replica_readers`` read
(pure: nothing here calls AWS):

- ``replica.destination`` and ``replica.key-alias``: the live rule's destination is the replica stack's bucket,
  and its ``ReplicaKmsKeyID`` (the alias ARN, as the stack writes it) resolves to the key the replica stack
  created. Whoever moves the alias (``kms:UpdateAlias``, which key administrators hold through ``Update*``)
  redirects every future replica to a key of their choosing (docs/THREAT_MODEL.md, R6), and S3 does not
  validate ``ReplicaKmsKeyID`` when the rule is put (S3 User Guide, "Replicating encrypted objects").
- ``replica.versions``: every primary version under the prefix has its replica, by key and version id. S3
  replication keeps key names, version ids and creation times ("What does Amazon S3 replicate?",
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html), and a
  version id cannot be chosen through the API, so the same version id in the replica is S3's replica; a version
  ``recordings-kms migrate --to-replica`` copied carries its provenance instead (docs/MIGRATE.md). Replication is
  asynchronous: a missing version whose source reports ``x-amz-replication-status: PENDING`` is on its way (the
  replica is behind: WARN); ``FAILED`` will never be retried by S3, and a version with no status was written
  before the rule or outside it (never replicated), both FAIL ("Getting replication status information",
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html). The replica's oldest version
  of each key must be the primary's oldest: Teleport plays the oldest version, in failover from the replica.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from recordings_kms.results import CheckResult, Status

DESTINATION = "replica.destination"
KEY_ALIAS = "replica.key-alias"
VERSIONS = "replica.versions"
#: How many example keys a line names.
EXAMPLES = 3
#: ``--replica-sample``: the default number of primary versions compared, and the range allowed.
DEFAULT_SAMPLE = 10_000
SAMPLE_RANGE = (1, 10_000_000)


@dataclass(frozen=True, slots=True)
class Listed:
    """One object version as ListObjectVersions reports it."""

    key: str
    version_id: str
    last_modified: datetime


@dataclass(frozen=True)
class ReplicaTarget:
    """The replica as its stack's outputs name it, and what the primary's live rule names."""

    stack_name: str
    region: str
    bucket: str
    key_arn: str
    #: The prefix of the replica stack's StorageUri (where Teleport reads in failover).
    prefix: str
    #: The live rule's ``Destination.Bucket`` (an ARN) and ``ReplicaKmsKeyID``; ``None`` when it has none.
    rule_bucket: str | None
    rule_key: str | None
    #: The key ``rule_key`` names in the replica region (DescribeKey), or why it could not be read.
    rule_key_target: str | None = None
    rule_key_problem: str = ""
    #: Whether ``rule_key_problem`` is a refused or failed read (WARN) rather than a key that does not exist (FAIL).
    rule_key_unreadable: bool = False


@dataclass(frozen=True)
class VersionEvidence:
    """What the bounded comparison read: the two listings and the HEADs it could afford."""

    primary_bucket: str
    #: Primary versions compared (whole keys only), in S3's order (by key, newest first).
    primary: tuple[Listed, ...]
    #: The replica's versions of the compared keys, in S3's order.
    replica: tuple[Listed, ...]
    #: Whether the primary's listing went on past what was compared (``--replica-sample``).
    truncated: bool
    #: Replica versions HEADed for migrate's provenance: (key, replica version id) -> the source version id the copy
    #: names (of this key and the primary bucket), or ``None`` when it is no copy of it.
    copies: Mapping[tuple[str, str], str | None] = field(default_factory=dict)
    #: Missing primary versions HEADed for ``x-amz-replication-status``: (key, version id) -> the status (``None``
    #: when S3 reports none), or the one-line reason the HEAD failed under ``problems``.
    statuses: Mapping[tuple[str, str], str | None] = field(default_factory=dict)
    problems: Mapping[tuple[str, str], str] = field(default_factory=dict)
    #: Primary versions that are migrate's copies of a replica version (``--from-replica``, failing back):
    #: (key, primary version id) -> the replica version id its provenance names. After a fail-back the replica's
    #: oldest is the recording written there during failover, and the primary's oldest is its copy.
    origins: Mapping[tuple[str, str], str] = field(default_factory=dict)


def oldest_first(versions: Iterable[Listed]) -> dict[str, list[Listed]]:
    """Versions by key, OLDEST FIRST, from a listing in S3's order (by key, newest first)."""
    grouped: dict[str, list[Listed]] = {}
    for version in versions:
        grouped.setdefault(version.key, []).append(version)
    for listed in grouped.values():
        listed.reverse()
    return grouped


def _second(moment: datetime) -> int:
    return int(moment.timestamp())


@dataclass(frozen=True)
class Comparison:
    """The primary's versions against the replica's, key by key."""

    compared: int
    keys: int
    #: Primary versions with no replica and no verified-by-provenance copy.
    missing: tuple[Listed, ...]
    #: Keys whose replica plays another version than the primary's oldest (or a tie with another).
    wrong_oldest: tuple[str, ...]
    #: Replica versions that may be migrate copies but were not HEADed (the HEAD budget ran out).
    unsettled: tuple[Listed, ...]


def unknown_replica_versions(evidence: VersionEvidence) -> list[Listed]:
    """Replica versions sharing no version id with the primary's versions of their key: only their provenance
    (a HEAD each) can say whether they are migrate's copies, and of what."""
    primary_ids = {(v.key, v.version_id) for v in evidence.primary}
    return [v for v in evidence.replica if (v.key, v.version_id) not in primary_ids]


def compare(evidence: VersionEvidence) -> Comparison:
    """Match each primary version by version id (S3's replica) or provenance (migrate's copy)."""
    primary = oldest_first(evidence.primary)
    replica = oldest_first(evidence.replica)
    missing: list[Listed] = []
    wrong: list[str] = []
    unsettled: list[Listed] = []
    for key, versions in primary.items():
        held = replica.get(key, [])
        ids = {v.version_id for v in held}
        copied: set[str] = set()
        for version in held:
            if version.version_id in {p.version_id for p in versions}:
                continue
            if (key, version.version_id) not in evidence.copies:
                unsettled.append(version)
                continue
            source = evidence.copies[(key, version.version_id)]
            if source is not None:
                copied.add(source)
        missing += [v for v in versions if v.version_id not in ids and v.version_id not in copied]
        origin = evidence.origins.get((key, versions[0].version_id))
        if held and not _plays_the_oldest(key, versions, held, evidence.copies, origin):
            wrong.append(key)
    return Comparison(
        compared=len(evidence.primary),
        keys=len(primary),
        missing=tuple(missing),
        wrong_oldest=tuple(wrong),
        unsettled=tuple(unsettled),
    )


def _plays_the_oldest(
    key: str,
    versions: Sequence[Listed],
    held: Sequence[Listed],
    copies: Mapping[tuple[str, str], str | None],
    origin: str | None = None,
) -> bool:
    """Whether the replica's earliest second holds the primary's oldest and nothing else Teleport could pick.

    Teleport plays the version with the earliest ``LastModified``, which S3 lists to the second: the replica's
    versions of its earliest second must include the primary's oldest, and every one of them must be a version of
    the primary's earliest second (S3's replicas keep LastModified, so a tie in the primary stays the same tie).
    A replica version with a primary version's id is S3's replica of that version; one that was not HEADed (not in
    ``copies``) is unsettled, which compare() reports, and is not counted as wrong here. ``origin`` is the replica
    version the primary's oldest is a copy of (failing back), which stands for the primary's oldest.
    """
    primary_ids = {v.version_id for v in versions}
    tied = {v.version_id for v in versions if _second(v.last_modified) == _second(versions[0].last_modified)}
    first = min(_second(v.last_modified) for v in held)
    sources: set[str] = set()
    for version in (v for v in held if _second(v.last_modified) == first):
        if version.version_id == origin:
            sources.add(versions[0].version_id)
        elif version.version_id in primary_ids:
            sources.add(version.version_id)
        elif (key, version.version_id) not in copies:
            return True
        else:
            source = copies[(key, version.version_id)]
            sources.add(source if source is not None else "")
    return versions[0].version_id in sources and sources <= tied


def wrong_oldest(evidence: VersionEvidence) -> list[Listed]:
    """The primary's oldest version of each key whose replica plays another one: HEAD it for provenance (it may be
    migrate's copy of the replica's oldest, after a fail-back)."""
    keys = set(compare(evidence).wrong_oldest)
    return [versions[0] for key, versions in oldest_first(evidence.primary).items() if key in keys]


def _examples(versions: Sequence[Listed]) -> str:
    shown = ", ".join(f"{v.key} (version {v.version_id})" for v in versions[:EXAMPLES])
    more = len(versions) - EXAMPLES
    return shown + (f" and {more} more" if more > 0 else "")


def check_versions(evidence: VersionEvidence, target: ReplicaTarget) -> CheckResult:
    """``replica.versions``: FAIL when a version will never arrive or the replica would play another version; WARN
    when it is only behind (PENDING), or when the sample or the HEAD budget left something unsettled."""
    found = compare(evidence)
    where = f"s3://{target.bucket}/{target.prefix}/"
    scope = f"{found.compared} primary versions in {found.keys} recordings"
    if evidence.truncated:
        scope += " (the first ones listed: --replica-sample; the rest were not compared)"
    if found.wrong_oldest:
        return CheckResult(
            VERSIONS,
            Status.FAIL,
            f"of {scope}, {len(found.wrong_oldest)} recordings would play another version from the replica than the "
            f"primary's oldest (Teleport plays the earliest LastModified): {', '.join(found.wrong_oldest[:EXAMPLES])}"
            + (f" and {len(found.wrong_oldest) - EXAMPLES} more" if len(found.wrong_oldest) > EXAMPLES else ""),
        )
    by_status: dict[str, list[Listed]] = {}
    for version in found.missing:
        ident = (version.key, version.version_id)
        if ident in evidence.problems:
            status = "unread"
        elif ident in evidence.statuses:
            status = evidence.statuses[ident] or "none"
        else:
            status = "not looked at"
        by_status.setdefault(status, []).append(version)
    meaning = {
        "FAILED": "FAILED (S3 never retries them)",
        "none": "with no replication status (written before the rule or outside it)",
        "COMPLETED": "COMPLETED but absent from the replica (removed there?)",
        "REPLICA": "themselves replicas (S3 does not replicate a replica onward)",
    }
    final = [status for status in by_status if status not in ("PENDING", "unread", "not looked at")]
    never = [v for status in final for v in by_status[status]]
    if never:
        parts = [f"{len(by_status[status])} {meaning.get(status, f'with status {status}')}" for status in final]
        if by_status.get("PENDING"):
            parts.append(f"{len(by_status['PENDING'])} PENDING (on their way)")
        if unread := len(by_status.get("unread", [])) + len(by_status.get("not looked at", [])):
            parts.append(f"{unread} whose replication status was not read")
        return CheckResult(
            VERSIONS,
            Status.FAIL,
            f"{len(found.missing)} of {scope} are missing in {where}: {'; '.join(parts)}, e.g. {_examples(never)}; "
            "fill the replica with S3 Batch Replication or recordings-kms migrate --to-replica (docs/REPLICATION.md)",
        )
    unsettled = by_status.get("unread", []) + by_status.get("not looked at", [])
    if found.missing or found.unsettled or evidence.truncated:
        parts = []
        if by_status.get("PENDING"):
            parts.append(
                f"{len(by_status['PENDING'])} missing with x-amz-replication-status PENDING: the replica is behind "
                f"(replication is asynchronous), e.g. {_examples(by_status['PENDING'])}"
            )
        if unsettled:
            reason = next(iter(evidence.problems.values()), "")
            parts.append(
                f"{len(unsettled)} missing whose replication status was not read"
                + (f" ({reason})" if reason else " (the HEAD budget ran out)")
                + f", e.g. {_examples(unsettled)}"
            )
        if found.unsettled:
            parts.append(
                f"{len(found.unsettled)} replica versions of unknown origin not HEADed for migrate's provenance "
                f"(the HEAD budget ran out), e.g. {_examples(found.unsettled)}"
            )
        if evidence.truncated and not parts:
            parts.append("none missing among them; raise --replica-sample to compare every version")
        return CheckResult(VERSIONS, Status.WARN, f"of {scope}: " + "; ".join(parts))
    return CheckResult(
        VERSIONS,
        Status.PASS,
        f"all {scope} under the prefix have their replica in {where} (same version id, or a migrate copy by its "
        "provenance), and the replica's oldest version of each is the primary's oldest",
    )


def check_target(target: ReplicaTarget, *, partition: str, primary_prefix: str) -> list[CheckResult]:
    """``replica.destination`` and ``replica.key-alias``: the live rule sends recordings to the replica stack's
    bucket (where Teleport reads in failover) under the key that stack created."""
    results: list[CheckResult] = []
    bucket_arn = f"arn:{partition}:s3:::{target.bucket}"
    if target.rule_bucket != bucket_arn:
        named = target.rule_bucket or "no destination (not exactly one replication rule)"
        results.append(
            CheckResult(
                DESTINATION,
                Status.FAIL,
                f"the primary's rule replicates to {named}, not to {bucket_arn}, the bucket of {target.stack_name} "
                f"({target.region})",
            )
        )
    elif target.prefix != primary_prefix:
        results.append(
            CheckResult(
                DESTINATION,
                Status.FAIL,
                f"{target.stack_name}'s StorageUri reads prefix {target.prefix!r}, but replication keeps key names "
                f"under the primary's {primary_prefix!r}: in failover Teleport would find no recording",
            )
        )
    else:
        results.append(
            CheckResult(
                DESTINATION,
                Status.PASS,
                f"the primary's rule replicates {primary_prefix}/ to {target.bucket}, the bucket of "
                f"{target.stack_name} ({target.region}), where its StorageUri reads",
            )
        )
    results.append(_key_alias(target))
    return results


def _key_alias(target: ReplicaTarget) -> CheckResult:
    named = target.rule_key
    if named is None:
        return CheckResult(
            KEY_ALIAS, Status.FAIL, "the primary's rule names no ReplicaKmsKeyID: S3 does not replicate SSE-KMS objects"
        )
    if target.rule_key_target is None:
        return CheckResult(
            KEY_ALIAS,
            Status.WARN if target.rule_key_unreadable else Status.FAIL,
            f"cannot tell which key the rule's ReplicaKmsKeyID {named} is in {target.region}: {target.rule_key_problem}"
            + ("" if target.rule_key_unreadable else "; S3 fails every replication under it"),
        )
    if target.rule_key_target != target.key_arn:
        return CheckResult(
            KEY_ALIAS,
            Status.FAIL,
            f"the rule's ReplicaKmsKeyID {named} is key {target.rule_key_target}, not {target.key_arn}, the key "
            f"{target.stack_name} created: new replicas are encrypted under a key outside the design (someone moved "
            "the alias: docs/THREAT_MODEL.md, R6); point the alias back (kms:UpdateAlias) and look at the CloudTrail "
            "UpdateAlias event",
        )
    return CheckResult(
        KEY_ALIAS,
        Status.PASS,
        f"the rule's ReplicaKmsKeyID {named} is {target.key_arn}, the key {target.stack_name} created",
    )
