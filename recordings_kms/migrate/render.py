"""What ``recordings-kms migrate`` shows: a progress bar on a terminal, then a text report or one JSON document.

The bar (tqdm) is drawn on stderr and only when both stdout and stderr are terminals and ``--json``
is off, so a redirected or piped run prints nothing but its report.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from recordings_kms.migrate.model import Copied, NotCopied, SourceVersion
from recordings_kms.migrate.plan import KeyPlan, Plan

if TYPE_CHECKING:
    from tqdm import tqdm

#: Not-copied versions listed in the text report; --json lists every one.
TEXT_LIST_LIMIT = 100


class Stage(Protocol):
    def advance(self, count: int = 1) -> None: ...


class _Silent:
    def advance(self, count: int = 1) -> None:
        pass


class _Bar:
    def __init__(self, bar: tqdm[Any]) -> None:
        self._bar = bar

    def advance(self, count: int = 1) -> None:
        self._bar.update(count)


class Progress:
    """Progress bars for the stages of a run (listing, checking earlier copies, copying), or nothing."""

    def __init__(self, *, enabled: bool, stream: TextIO | None = None) -> None:
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr

    @classmethod
    def for_terminal(cls, *, as_json: bool) -> Progress:
        return cls(enabled=not as_json and sys.stdout.isatty() and sys.stderr.isatty())

    @contextmanager
    def stage(self, description: str, total: int | None, unit: str = "obj") -> Iterator[Stage]:
        if not self.enabled:
            yield _Silent()
            return
        from tqdm import tqdm  # only on a terminal: the import costs time a piped run need not spend

        with tqdm(
            total=total, desc=description, unit=unit, file=self.stream, leave=False, dynamic_ncols=True, mininterval=0.2
        ) as bar:
            yield _Bar(bar)


def size_text(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    value = size / 1024
    for unit in ("KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class UploadNote:
    """An open multipart upload a stopped run left on a key this run writes: aborted, or why not."""

    key: str
    upload_id: str
    problem: str | None = None


@dataclass
class Report:
    source_bucket: str
    source_prefix: str
    destination_bucket: str
    destination_prefix: str
    key_arn: str
    region: str
    endpoint_url: str | None
    plan: Plan
    dry_run: bool
    copied: list[Copied] = field(default_factory=list)
    not_copied: list[NotCopied] = field(default_factory=list)
    remaining: int = 0
    stopped: str | None = None
    uploads: list[UploadNote] = field(default_factory=list)
    seconds: float = 0.0
    #: Versions S3 refused to copy again because a verified copy was already there (``Outcome.found_copied``).
    found_copied: list[SourceVersion] = field(default_factory=list)

    @property
    def failures(self) -> list[NotCopied]:
        return self.plan.refused + self.not_copied

    @property
    def ok(self) -> bool:
        return (
            not self.failures
            and self.stopped is None
            and self.remaining == 0
            and not any(u.problem for u in self.uploads)
        )

    @property
    def source_uri(self) -> str:
        return f"s3://{self.source_bucket}/{self.source_prefix}"

    @property
    def destination_uri(self) -> str:
        return f"s3://{self.destination_bucket}/{self.destination_prefix}"


def _not_copied_line(bucket: str, item: NotCopied) -> str:
    return f"  s3://{bucket}/{item.version.key} version {item.version.version_id}: {item.reason}"


def _would_copy_line(report: Report, plan: KeyPlan, version: SourceVersion, first: bool) -> str:
    notes = [size_text(version.size)]
    if version.size > report.plan.multipart_threshold:
        notes.append("multipart")
    if first:
        notes.append("the version Teleport plays")
    return (
        f"would copy s3://{report.source_bucket}/{version.key} version {version.version_id} ({', '.join(notes)}) "
        f"-> s3://{report.destination_bucket}/{plan.destination_key}"
    )


def text(report: Report) -> str:
    plan = report.plan
    where = report.region + (f" via {report.endpoint_url}" if report.endpoint_url else "")
    lines = [
        f"recordings-kms migrate{' (dry run)' if report.dry_run else ''}: {report.source_uri} -> "
        f"{report.destination_uri} under {report.key_arn} ({where})",
        f"found {_plural(len(plan.keys), 'recording')}, {_plural(plan.versions, 'version')} "
        f"({size_text(sum(v.size for k in plan.keys for v in k.versions))}); "
        f"{_plural(plan.delete_markers, 'delete marker')} (not reproduced: Teleport ignores them)",
    ]
    if plan.present_keys:
        count = len(plan.present_keys)
        lines.append(
            f"left alone: {_plural(count, 'recording')} the destination already holds (failing back copies only the "
            "recordings written to the replica during failover; see docs/REPLICATION.md)"
        )
    if plan.same_second_keys:
        count = len(plan.same_second_keys)
        lines.append(
            f"note: {_plural(count, 'recording')} in the source {'has' if count == 1 else 'have'} a newer version "
            "in the same second as the oldest; the earliest written is copied first (see docs/MIGRATE.md)"
        )
    for upload in report.uploads:
        if upload.problem:
            lines.append(f"open upload {upload.upload_id} on {upload.key} left open: {upload.problem}")
        elif not report.dry_run:
            lines.append(f"aborted open upload {upload.upload_id} on {upload.key}, left by an interrupted run")
        else:
            lines.append(f"would abort open upload {upload.upload_id} on {upload.key}, left by an interrupted run")
    already = plan.already_copied
    if report.dry_run:
        pending = plan.pending
        lines += [_would_copy_line(report, k, v, k.versions[0] is v) for k, v in pending]
        lines.append(
            f"dry run: would copy {_plural(len(pending), 'version')} ({size_text(sum(v.size for _, v in pending))}); "
            f"{already} already copied and verified; {len(report.failures)} cannot be copied"
        )
    elif not report.copied and not report.found_copied and report.stopped is None:
        cannot = f"; {len(report.failures)} cannot be copied (below)" if report.failures else ""
        lines.append(
            f"nothing to copy: {already} of {_plural(plan.versions, 'version')} in "
            f"{_plural(len(plan.keys), 'recording')} are already copied and verified{cannot}"
        )
    else:
        copied_bytes = sum(c.version.size for c in report.copied)
        lines.append(
            f"copied {_plural(len(report.copied), 'version')} ({size_text(copied_bytes)}) in {report.seconds:.1f} s, "
            "each verified: S3's SHA-256 of the copy equals the SHA-256 of the source's bytes, aws:kms under the key"
        )
        if already:
            lines.append(f"{already} more were already copied and verified")
        if report.found_copied:
            found = len(report.found_copied)
            lines.append(
                f"{_plural(found, 'version')} {'was' if found == 1 else 'were'} found copied when S3 refused to copy "
                f"{'it' if found == 1 else 'them'} again (another run, a killed run's copy landing late, or an earlier "
                "attempt of this one had written it): each copy there is verified"
            )
    if report.stopped:
        lines.append(f"{report.stopped}: {_plural(report.remaining, 'version')} not yet copied; run again to continue")
    failures = report.failures
    if failures:
        lines.append(f"{_plural(len(failures), 'version')} not copied:")
        lines += [_not_copied_line(report.source_bucket, item) for item in failures[:TEXT_LIST_LIMIT]]
        if len(failures) > TEXT_LIST_LIMIT:
            lines.append(f"  ... and {len(failures) - TEXT_LIST_LIMIT} more (--json lists every one)")
    return "\n".join(lines)


def _version_json(version: SourceVersion) -> dict[str, Any]:
    return {"source_key": version.key, "source_version_id": version.version_id, "size": version.size}


def document(report: Report) -> dict[str, Any]:
    plan = report.plan
    counts = {
        "recordings": len(plan.keys),
        "versions": plan.versions,
        "delete_markers": plan.delete_markers,
        "already_copied": plan.already_copied,
        "copied": len(report.copied),
        "bytes_copied": sum(c.version.size for c in report.copied),
        "found_copied": len(report.found_copied),
        "not_copied": len(report.failures),
        "remaining": report.remaining,
    }
    result: dict[str, Any] = {
        "ok": report.ok,
        "dry_run": report.dry_run,
        "source": {"bucket": report.source_bucket, "prefix": report.source_prefix},
        "destination": {
            "bucket": report.destination_bucket,
            "prefix": report.destination_prefix,
            "key": report.key_arn,
        },
        "region": report.region,
        "endpoint_url": report.endpoint_url,
        "seconds": round(report.seconds, 3),
        "counts": counts,
        "stopped": report.stopped,
        "copied": [
            {
                **_version_json(c.version),
                "destination_key": c.destination_key,
                "destination_version_id": c.destination_version_id,
                "sha256": c.sha256_hex,
                "multipart": c.multipart,
            }
            for c in report.copied
        ],
        "found_copied": [_version_json(v) for v in report.found_copied],
        "not_copied": [
            {**_version_json(n.version), "destination_key": n.destination_key, "reason": n.reason}
            for n in report.failures
        ],
        "open_uploads": [
            {
                "key": u.key,
                "upload_id": u.upload_id,
                "aborted": not report.dry_run and u.problem is None,
                "problem": u.problem,
            }
            for u in report.uploads
        ],
        "same_second_keys": list(plan.same_second_keys),
        "present_keys": list(plan.present_keys),
    }
    if report.dry_run:
        counts["would_copy"] = len(plan.pending)
        result["would_copy"] = [
            {**_version_json(v), "destination_key": k.destination_key, "multipart": v.size > plan.multipart_threshold}
            for k, v in plan.pending
        ]
    return result


def as_json(report: Report) -> str:
    return json.dumps(document(report), indent=2)
