"""What ``recordings-kms migrate`` will copy, decided from listings alone (no AWS calls here).

Teleport plays the OLDEST version of a recording (``ListObjectVersions``, then ``GetObject`` with the
version whose ``LastModified`` is earliest), so the order of versions is the heart of the plan:

- every version of a source key is copied, oldest first, so the copy of the version Teleport plays
  is the destination's first version and the newer ones follow in their original order (an auditor
  sees the whole history; Teleport never overwrites a recording, so newer versions are not Teleport's);
- delete markers are counted, never reproduced: they hold no data, Teleport ignores them when it
  picks the version to play, and writing one would need ``s3:DeleteObject`` on the recordings bucket,
  which this design grants nobody;
- a destination key that already holds versions is continued only when those versions are verified
  copies of the source's oldest versions, in order; anything else is reported and left alone.

S3 lists the versions of a key newest first, in the order they were written: that order, not the
second-resolution ``LastModified``, says which version is the oldest when two share a second.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from recordings_kms.migrate.model import ExistingCopy, NotCopied, SourceVersion
from recordings_kms.migrate.verify import copy_problems, replica_problems

#: S3's limit on an object key, in UTF-8 bytes.
MAX_KEY_BYTES = 1024


class KeyMappingError(ValueError):
    """A source key that cannot be given a destination key inside the prefix."""


@dataclass(frozen=True)
class KeyPlan:
    """One source key: what is already in the destination, what to copy now (in order) and what cannot be."""

    source_key: str
    destination_key: str | None
    versions: tuple[SourceVersion, ...]
    already_copied: tuple[SourceVersion, ...] = ()
    pending: tuple[SourceVersion, ...] = ()
    refused: tuple[NotCopied, ...] = ()
    #: The LastModified of the newest verified copy already in the destination (the next copy must be later).
    last_copy_time: datetime | None = None
    #: The ETag of the destination key's current version when it was listed, ``None`` when it had none: the
    #: first copy is conditional on it (``If-Match``, or ``If-None-Match: *``), so that a copy another run
    #: (or a killed one) landed meanwhile is never repeated.
    current_etag: str | None = None


@dataclass(frozen=True)
class Plan:
    keys: tuple[KeyPlan, ...]
    delete_markers: int
    #: Versions larger than this are copied in parts (UploadPartCopy).
    multipart_threshold: int
    #: Source keys whose oldest version shares its second with the next one (Teleport's pick there is a tie).
    same_second_keys: tuple[str, ...] = field(default=())
    #: Multipart uploads an interrupted run left open on keys this run writes: (key, upload id).
    open_uploads: tuple[tuple[str, str], ...] = field(default=())
    #: Source keys left alone because the destination already holds the recording (``--from-replica``).
    present_keys: tuple[str, ...] = field(default=())

    @property
    def versions(self) -> int:
        return sum(len(k.versions) for k in self.keys)

    @property
    def pending(self) -> list[tuple[KeyPlan, SourceVersion]]:
        return [(k, v) for k in self.keys for v in k.pending]

    @property
    def already_copied(self) -> int:
        return sum(len(k.already_copied) for k in self.keys)

    @property
    def refused(self) -> list[NotCopied]:
        return [n for k in self.keys for n in k.refused]


def normalize_prefix(prefix: str) -> str:
    """``'a/b'`` and ``'/a/b/'`` -> ``'a/b/'``; empty stays empty.

    Prefixes are folders: ``records`` does not take in ``records2/...``.
    """
    stripped = prefix.strip("/")
    return f"{stripped}/" if stripped else ""


def destination_key(source_key: str, source_prefix: str, destination_prefix: str) -> str:
    """The destination key of a source key: the destination prefix replaces the source prefix.

    Both prefixes are normalized (``normalize_prefix``). A key whose remainder has a ``.`` or ``..``
    segment is refused: S3 stores it literally, but a tool or a person following it as a path would
    land outside the prefix (``records/../x`` is ``x``), and the bucket policy's ``prefix/*`` scope
    must mean what it says.
    """
    if not source_key.startswith(source_prefix):
        raise KeyMappingError(f"{source_key!r} is not under the source prefix {source_prefix!r}")
    remainder = source_key[len(source_prefix) :]
    if not remainder:
        raise KeyMappingError("the key is the source prefix itself (a folder placeholder), not a recording")
    segments = remainder.replace("\\", "/").split("/")
    if any(segment in (".", "..") for segment in segments):
        raise KeyMappingError(
            f"the key has a '.' or '..' segment: as a path, {destination_prefix + remainder!r} would escape the "
            f"destination prefix {destination_prefix!r}"
        )
    mapped = destination_prefix + remainder
    if len(mapped.encode()) > MAX_KEY_BYTES:
        raise KeyMappingError(f"the destination key would be longer than S3's {MAX_KEY_BYTES}-byte limit")
    return mapped


def group_versions(listed: Iterable[SourceVersion]) -> dict[str, list[SourceVersion]]:
    """Versions by key, OLDEST FIRST, from a listing in S3's order (by key, newest version first)."""
    grouped: dict[str, list[SourceVersion]] = {}
    for version in listed:
        grouped.setdefault(version.key, []).append(version)
    for versions in grouped.values():
        versions.reverse()
    return grouped


def _second(moment: datetime) -> int:
    """The second S3 lists a version under: Teleport compares LastModified at this resolution."""
    return int(moment.timestamp())


@dataclass(frozen=True)
class Reconciled:
    """How many of a key's source versions (a prefix, oldest first) already have verified copies, or why not."""

    copied: int
    problem: str | None = None
    last_copy_time: datetime | None = None


def reconcile(
    *,
    source_bucket: str,
    source_key: str,
    destination_bucket: str,
    destination_key: str,
    versions: Sequence[SourceVersion],
    existing: Sequence[ExistingCopy],
    key_arn: str,
    replicas: bool = False,
) -> Reconciled:
    """Match the destination's versions of a key (oldest first) against the source's versions (oldest first).

    With ``replicas`` (filling a replica, or failing back from one) a destination version without provenance
    that has a source version's id is S3's replica of it (replication keeps version ids and LastModified, and no
    API call can choose a version id), checked for size and encryption under the key and matched like a copy.

    Continuing is only safe when the destination holds verified copies of the source's first versions
    in order (a run stopped between two copies leaves exactly that). Consecutive copies of the same
    source version (a retried request that had landed) are tolerated: the first version is still a
    copy of the version Teleport plays. Copies of different source versions must be stamped in
    different seconds, or Teleport's pick in the destination would be a tie.
    """
    where = f"s3://{destination_bucket}/{destination_key}"
    index = {v.version_id: i for i, v in enumerate(versions)}
    last_index = -1
    last_group_second: int | None = None
    last_time: datetime | None = None
    for copy in existing:
        provenance = copy.facts.provenance
        if provenance is None and replicas and copy.version_id in index:
            at = index[copy.version_id]
            if at not in (last_index, last_index + 1):
                expected = versions[last_index + 1].version_id
                return Reconciled(
                    0,
                    f"{where} version {copy.version_id} is S3's replica of source version {copy.version_id} where a "
                    f"copy of {expected} was expected: the destination's versions are out of order (a copy of "
                    f"{expected} made now would be stamped after that replica, and Teleport would play the newer one); "
                    "replicate it with S3 Batch Replication, which keeps its LastModified (docs/REPLICATION.md)",
                )
            problems = replica_problems(copy.facts, versions[at], key_arn)
            if problems:
                return Reconciled(
                    0,
                    f"{where} version {copy.version_id} (S3's replica) does not match its source: "
                    + "; ".join(problems),
                )
            # A replica keeps the source's LastModified: a tie there is the source's own, not a copy's.
            last_index = at
            second = _second(copy.last_modified)
            last_group_second = second if last_group_second is None else max(last_group_second, second)
            last_time = copy.last_modified
            continue
        if provenance is None:
            return Reconciled(
                0,
                f"{where} already has version {copy.version_id} (from {copy.last_modified.isoformat()}) that migrate "
                "did not write: the source's oldest version could no longer be the first version Teleport plays; "
                "resolve it by hand",
            )
        if (provenance.source_bucket, provenance.source_key) != (source_bucket, source_key):
            return Reconciled(
                0,
                f"{where} version {copy.version_id} is a copy of s3://{provenance.source_bucket}/"
                f"{provenance.source_key}, not of this recording",
            )
        position = index.get(provenance.source_version_id)
        if position is None:
            return Reconciled(
                0,
                f"{where} version {copy.version_id} is a copy of source version {provenance.source_version_id}, "
                "which the source no longer lists; resolve it by hand",
            )
        if position not in (last_index, last_index + 1):
            expected = versions[last_index + 1].version_id
            return Reconciled(
                0,
                f"{where} version {copy.version_id} is a copy of source version {provenance.source_version_id} "
                f"where a copy of {expected} was expected: the destination's versions are out of order",
            )
        problems = copy_problems(copy.facts, versions[position], key_arn)
        if problems:
            return Reconciled(
                0,
                f"{where} version {copy.version_id} (copy of source version {provenance.source_version_id}) fails "
                f"verification: {'; '.join(problems)}; remove that version and run again",
            )
        second = _second(copy.last_modified)
        if position == last_index + 1:
            if last_group_second is not None and second <= last_group_second:
                return Reconciled(
                    0,
                    f"{where} version {copy.version_id} has the same LastModified second as the copy before it: "
                    "Teleport could play either; remove the newer copies and run again",
                )
            last_index = position
        last_group_second = second if last_group_second is None else max(last_group_second, second)
        last_time = copy.last_modified
    return Reconciled(last_index + 1, None, last_time)


def plan_key(
    *,
    source_bucket: str,
    source_key: str,
    destination_bucket: str,
    destination_key_or_refusal: str | KeyMappingError,
    versions: Sequence[SourceVersion],
    existing: Sequence[ExistingCopy],
    key_arn: str,
    restored: frozenset[str],
    unreadable: str | None = None,
    current_etag: str | None = None,
    replicas: bool = False,
) -> KeyPlan:
    """Decide one key: copied already, to copy now (oldest first), or refused (with the reason).

    ``restored`` holds the version ids of archived versions whose restore has completed: S3 copies
    those like any other. Versions are copied strictly in order, so the first version that cannot be
    copied holds back the newer ones (they are listed as waiting for it).
    """
    ordered = tuple(versions)
    if isinstance(destination_key_or_refusal, KeyMappingError):
        reason = f"refused: {destination_key_or_refusal}"
        return KeyPlan(source_key, None, ordered, refused=tuple(NotCopied(v, None, reason) for v in ordered))
    target = destination_key_or_refusal
    if unreadable is not None:
        return KeyPlan(source_key, target, ordered, refused=tuple(NotCopied(v, target, unreadable) for v in ordered))
    state = reconcile(
        source_bucket=source_bucket,
        source_key=source_key,
        destination_bucket=destination_bucket,
        destination_key=target,
        versions=ordered,
        existing=existing,
        key_arn=key_arn,
        replicas=replicas,
    )
    done, rest = ordered[: state.copied], ordered[state.copied :]
    if state.problem is not None:
        refused = tuple(NotCopied(v, target, state.problem) for v in rest)
        return KeyPlan(source_key, target, ordered, already_copied=done, refused=refused)
    pending: list[SourceVersion] = []
    refused_list: list[NotCopied] = []
    for version in rest:
        if refused_list:
            blocker = refused_list[0].version.version_id
            refused_list.append(NotCopied(version, target, f"waits for version {blocker} (copied oldest first)"))
        elif version.archived and version.version_id not in restored:
            refused_list.append(
                NotCopied(
                    version,
                    target,
                    f"archived in {version.storage_class}: S3 cannot copy it until it is restored (RestoreObject, "
                    "s3:RestoreObject); restore it, then run again",
                )
            )
        else:
            pending.append(version)
    return KeyPlan(
        source_key,
        target,
        ordered,
        already_copied=done,
        pending=tuple(pending),
        refused=tuple(refused_list),
        last_copy_time=state.last_copy_time,
        current_etag=current_etag,
    )


def same_second_as_oldest(versions: Sequence[SourceVersion]) -> bool:
    """Whether the oldest version shares its listed second with the next one (Teleport's sort sees a tie there)."""
    return len(versions) > 1 and _second(versions[0].last_modified) == _second(versions[1].last_modified)
