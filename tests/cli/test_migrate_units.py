"""The decisions of `recordings-kms migrate` without S3: key mapping, version order, reconciling earlier copies,
checksums, provenance metadata, part sizes, and the scheduler's ordering guarantees."""

from __future__ import annotations

import base64
import hashlib
import itertools
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from recordings_kms.migrate.copy import MAX_PARTS, CopyConflictError, CopyError, CopySettings, GiB, MiB
from recordings_kms.migrate.model import Copied, CopyFacts, ExistingCopy, KeyState, Provenance, SourceVersion
from recordings_kms.migrate.plan import (
    KeyMappingError,
    KeyPlan,
    destination_key,
    group_versions,
    normalize_prefix,
    plan_key,
    reconcile,
    same_second_as_oldest,
)
from recordings_kms.migrate.render import Report, size_text, text
from recordings_kms.migrate.s3 import access_denied_line, describe_failure
from recordings_kms.migrate.schedule import Scheduler
from recordings_kms.migrate.verify import PartHasher, composite_checksum, copy_problems, same_checksum
from tests.cli.conftest import MIGRATE_FIXTURES

pytestmark = pytest.mark.usefixtures(*MIGRATE_FIXTURES)
KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def version(
    key: str = "teleport/a.tar", n: int = 0, *, seconds: float | None = None, storage: str = "STANDARD"
) -> SourceVersion:
    at = T0 + timedelta(seconds=n if seconds is None else seconds)
    return SourceVersion(key, f"v{n}", 10 + n, f'"etag{n}"', at, storage)


def copy_of(
    source: SourceVersion, *, at: datetime, checksum: str = "c", key_arn: str = KEY, reported: str | None = None
) -> ExistingCopy:
    provenance = Provenance.of(source, source_bucket="legacy", sha256_hex="00", checksum=checksum)
    facts = CopyFacts(provenance, "aws:kms", key_arn, reported if reported is not None else checksum, source.size)
    return ExistingCopy(f"d-{source.version_id}-{at.timestamp()}", at, facts)


def reconciled(versions: list[SourceVersion], existing: list[ExistingCopy]) -> tuple[int, str | None]:
    result = reconcile(
        source_bucket="legacy",
        source_key="teleport/a.tar",
        destination_bucket="recordings",
        destination_key="records/a.tar",
        versions=versions,
        existing=existing,
        key_arn=KEY,
    )
    return result.copied, result.problem


# --- key mapping ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "normalized"), [("", ""), ("/", ""), ("records", "records/"), ("/a/b/", "a/b/")])
def test_prefixes_are_folders(given: str, normalized: str) -> None:
    assert normalize_prefix(given) == normalized


@pytest.mark.parametrize(
    ("source_key", "mapped"),
    [
        ("teleport/1.tar", "records/1.tar"),
        ("teleport/nested/é ü+%.tar", "records/nested/é ü+%.tar"),
        ("teleport//double.tar", "records//double.tar"),
        ("teleport/..tar", "records/..tar"),  # a dot in a name is not a dot segment
    ],
)
def test_destination_key(source_key: str, mapped: str) -> None:
    assert destination_key(source_key, "teleport/", "records/") == mapped


@pytest.mark.parametrize(
    ("source_key", "fragment"),
    [
        ("teleport/../x.tar", "'.' or '..' segment"),
        ("teleport/a/../../x.tar", "'.' or '..' segment"),
        ("teleport/./x.tar", "'.' or '..' segment"),
        ("teleport/a\\..\\x.tar", "'.' or '..' segment"),
        ("teleport/..", "'.' or '..' segment"),
        ("teleport/", "the source prefix itself"),
        ("teleport/" + "x" * 1020, "longer than S3's 1024-byte limit"),
        ("other/x.tar", "not under the source prefix"),
    ],
)
def test_keys_that_would_escape_or_cannot_map_are_refused(source_key: str, fragment: str) -> None:
    with pytest.raises(KeyMappingError, match=fragment.replace("(", r"\(").replace(".", r"\.")):
        destination_key(source_key, "teleport/", "records/")


def test_versions_are_grouped_oldest_first_from_s3_order() -> None:
    """S3 lists a key's versions newest first; that order (not LastModified) says which is oldest."""
    same_second = [version(n=2, seconds=5), version(n=1, seconds=5), version(n=0, seconds=5)]
    other = [version("teleport/b.tar", n=7)]
    grouped = group_versions([*same_second, *other])
    assert [v.version_id for v in grouped["teleport/a.tar"]] == ["v0", "v1", "v2"]
    assert same_second_as_oldest(grouped["teleport/a.tar"])
    assert not same_second_as_oldest(grouped["teleport/b.tar"])


# --- reconciling earlier copies ------------------------------------------------------------------


def test_nothing_copied_yet() -> None:
    assert reconciled([version(n=0), version(n=1)], []) == (0, None)


def test_a_stopped_run_left_the_oldest_copies_in_order() -> None:
    versions = [version(n=0), version(n=1), version(n=2)]
    existing = [
        copy_of(versions[0], at=T0 + timedelta(hours=1)),
        copy_of(versions[1], at=T0 + timedelta(hours=1, seconds=2)),
    ]
    assert reconciled(versions, existing) == (2, None)


def test_a_repeated_copy_of_one_version_is_tolerated() -> None:
    """A retried request that had landed: the first version is still the copy of the oldest."""
    versions = [version(n=0), version(n=1)]
    at = T0 + timedelta(hours=1)
    existing = [
        copy_of(versions[0], at=at),
        copy_of(versions[0], at=at),
        copy_of(versions[1], at=at + timedelta(seconds=1)),
    ]
    assert reconciled(versions, existing) == (2, None)


def test_copies_out_of_order_are_refused() -> None:
    versions = [version(n=0), version(n=1)]
    copied, problem = reconciled(versions, [copy_of(versions[1], at=T0 + timedelta(hours=1))])
    assert copied == 0
    assert problem is not None
    assert "out of order" in problem


def test_a_version_migrate_did_not_write_is_refused() -> None:
    foreign = ExistingCopy("x", T0, CopyFacts(None, "aws:kms", KEY, None))
    copied, problem = reconciled([version()], [foreign])
    assert copied == 0
    assert problem is not None
    assert "that migrate did not write" in problem


def test_a_copy_from_another_source_is_refused() -> None:
    elsewhere = SourceVersion("teleport/other.tar", "v0", 10, '"etag0"', T0, "STANDARD")
    _, problem = reconciled([version()], [copy_of(elsewhere, at=T0)])
    assert problem is not None
    assert "is a copy of s3://legacy/teleport/other.tar, not of this recording" in problem


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"reported": "other"}, "S3's SHA-256 other differs from c"),
        (
            {"key_arn": KEY.replace("1234abcd", "ffffffff")},
            "it is encrypted under arn:aws:kms:eu-west-1:123456789012:key/ffff",
        ),
    ],
)
def test_a_copy_that_fails_verification_is_refused(changes: dict[str, Any], fragment: str) -> None:
    copied, problem = reconciled([version()], [copy_of(version(), at=T0, **changes)])
    assert copied == 0
    assert problem is not None
    assert fragment in problem
    assert "remove that version and run again" in problem


def test_copies_of_two_versions_in_one_second_are_refused() -> None:
    """Teleport compares LastModified to the second: a tie would make its pick in the destination arbitrary."""
    versions = [version(n=0), version(n=1)]
    at = T0 + timedelta(hours=1, microseconds=100)
    existing = [copy_of(versions[0], at=at), copy_of(versions[1], at=at + timedelta(microseconds=500_000))]
    copied, problem = reconciled(versions, existing)
    assert copied == 0
    assert problem is not None
    assert "same LastModified second" in problem


def test_archived_version_holds_back_the_newer_ones() -> None:
    versions = [version(n=0), version(n=1, storage="GLACIER"), version(n=2), version(n=3, storage="DEEP_ARCHIVE")]
    plan = plan_key(
        source_bucket="legacy",
        source_key="teleport/a.tar",
        destination_bucket="recordings",
        destination_key_or_refusal="records/a.tar",
        versions=versions,
        existing=[],
        key_arn=KEY,
        restored=frozenset({"v3"}),
    )
    assert [v.version_id for v in plan.pending] == ["v0"]
    assert [r.reason.split(":")[0] for r in plan.refused] == [
        "archived in GLACIER",
        "waits for version v1 (copied oldest first)",
        "waits for version v1 (copied oldest first)",
    ]


def test_a_restored_archived_version_is_copied() -> None:
    plan = plan_key(
        source_bucket="legacy",
        source_key="teleport/a.tar",
        destination_bucket="recordings",
        destination_key_or_refusal="records/a.tar",
        versions=[version(storage="GLACIER")],
        existing=[],
        key_arn=KEY,
        restored=frozenset({"v0"}),
    )
    assert (len(plan.pending), plan.refused) == (1, ())


# --- checksums and provenance --------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 5 * MiB - 1, 5 * MiB, 5 * MiB + 1, 11 * MiB])
def test_part_hasher_matches_hashlib(size: int) -> None:
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    hasher = PartHasher(5 * MiB)
    for start in range(0, size, 3 * MiB + 7):  # chunks that straddle part boundaries
        hasher.update(data[start : start + 3 * MiB + 7])
    hasher.finish()
    assert hasher.sha256 == hashlib.sha256(data).digest()
    parts = [data[i : i + 5 * MiB] for i in range(0, size, 5 * MiB)]
    assert hasher.part_digests == [hashlib.sha256(p).digest() for p in parts]


def test_composite_checksum_is_s3s_multipart_form() -> None:
    digests = [hashlib.sha256(b"a").digest(), hashlib.sha256(b"b").digest()]
    expected = base64.b64encode(hashlib.sha256(digests[0] + digests[1]).digest()).decode()
    assert composite_checksum(digests) == f"{expected}-2"
    assert same_checksum(f"{expected}-2", f"{expected}-2")
    assert same_checksum(expected, f"{expected}-2")  # moto's HEAD drops the part count
    assert not same_checksum(f"{expected}-3", f"{expected}-2")
    assert not same_checksum("other", f"{expected}-2")


def test_provenance_round_trips_through_ascii_metadata() -> None:
    source = SourceVersion("teleport/é ü+%/x.tar", "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY", 5, '"abc"', T0, "STANDARD")
    provenance = Provenance.of(source, source_bucket="legacy", sha256_hex="ab" * 32, checksum="q83v-2")
    metadata = provenance.to_metadata()
    assert all(value.isascii() for value in metadata.values())
    assert metadata["recordings-kms-source"] == "s3://legacy/teleport/%C3%A9%20%C3%BC%2B%25/x.tar"
    assert metadata["recordings-kms-source-last-modified"] == "2024-05-01T12:00:00+00:00"
    assert Provenance.from_metadata(metadata) == provenance
    assert Provenance.from_metadata({**metadata, "recordings-kms-source": "legacy/x"}) is None
    assert Provenance.from_metadata({"session": "x"}) is None


def test_copy_problems_of_a_good_copy_is_empty() -> None:
    source = version()
    assert copy_problems(copy_of(source, at=T0).facts, source, KEY) == []
    assert copy_problems(CopyFacts(None, None, None, None), source, KEY) == [
        "it carries no migrate provenance metadata"
    ]


# --- part sizes ----------------------------------------------------------------------------------


def test_part_size_respects_s3s_limits() -> None:
    with pytest.raises(ValueError, match="part_size must be"):
        CopySettings(part_size=5 * MiB - 1)
    with pytest.raises(ValueError, match="multipart_threshold must be"):
        CopySettings(multipart_threshold=5 * GiB + 1)
    settings = CopySettings()
    assert not settings.needs_multipart(5 * GiB)
    assert settings.needs_multipart(5 * GiB + 1)
    assert settings.part_size_for(6 * GiB) == 256 * MiB
    five_tb = 5 * 1024 * GiB
    grown = settings.part_size_for(five_tb)
    assert grown % MiB == 0
    assert -(-five_tb // grown) <= MAX_PARTS


# --- error lines ---------------------------------------------------------------------------------


def client_error(code: str, operation: str, status: int = 400, message: str = "") -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, operation)


def test_access_denied_names_the_permission_migrate_needs() -> None:
    error = client_error("AccessDenied", "ListObjectVersions", 403, "Access Denied")
    line = access_denied_line(error, "s3://legacy/teleport/")
    assert line == (
        "access denied: ListObjectVersions on s3://legacy/teleport/: Access Denied; migrate needs s3:ListBucketVersions "
        "on the bucket"
    )


@pytest.mark.parametrize(
    ("code", "operation", "fragment"),
    [
        ("InvalidObjectState", "CopyObject", "archived: S3 refuses to read s3://x until it is restored"),
        ("NoSuchVersion", "GetObject", "no longer exists (deleted since it was listed)"),
        ("KMS.DisabledException", "CopyObject", "CopyObject on s3://x failed: KMS.DisabledException: key disabled"),
    ],
)
def test_per_object_failures_read_as_one_line(code: str, operation: str, fragment: str) -> None:
    assert fragment in describe_failure(client_error(code, operation, message="key disabled"), "s3://x")


# --- the scheduler -------------------------------------------------------------------------------


class FakeCopier:
    """Records when each version starts; fails the versions it is told to.

    Its copies are stamped one second apart, as S3 would stamp copies started a gap apart, unless
    ``same_second`` (a clock that does not move: the scheduler must notice the tie).
    """

    def __init__(
        self,
        fail: set[str] | None = None,
        unreachable: bool = False,
        same_second: bool = False,
        refuse: set[tuple[str, str]] | None = None,
        found: dict[str, KeyState | CopyError] | None = None,
    ) -> None:
        self.same_second = same_second
        self.stamps = 0
        self.lock = threading.Lock()
        self.started: list[tuple[float, SourceVersion]] = []
        #: (source key, version id, the current ETag the copy was conditioned on), in the order copies started.
        self.conditions: list[tuple[str, str, str | None]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.fail = fail or set()
        self.unreachable = unreachable
        #: (source key, version id) whose copy S3 refuses: its precondition failed.
        self.refuse = refuse or set()
        #: What a second look at a destination key finds (or how it fails), by source key.
        self.found = found or {}
        self.resurveyed: list[str] = []

    def copy(self, source: SourceVersion, target: str, current_etag: str | None) -> Copied:
        with self.lock:
            self.started.append((time.monotonic(), source))
            self.conditions.append((source.key, source.version_id, current_etag))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        time.sleep(0.01)
        with self.lock:
            self.in_flight -= 1
            self.stamps += 0 if self.same_second else 1
            stamped = T0 + timedelta(seconds=self.stamps)
        if source.version_id in self.fail:
            raise CopyError("copy refused", unreachable=self.unreachable)
        if (source.key, source.version_id) in self.refuse:
            raise CopyConflictError("S3 refused the copy (CopyObject: PreconditionFailed)")
        return Copied(source, target, f"d{source.version_id}", stamped, "00", False, f'"etag-{source.version_id}"')

    def resurvey(self, plan: KeyPlan) -> KeyState:
        self.resurveyed.append(plan.source_key)
        found = self.found[plan.source_key]
        if isinstance(found, CopyError):
            raise found
        return found


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def advance(self, count: int = 1) -> None:
        self.count += count


def legacy_plan(k: int, versions: int) -> Any:
    """The plan of ``teleport/K.tar`` with ``versions`` versions, nothing copied yet."""
    return plan_key(
        source_bucket="legacy",
        source_key=f"teleport/{k}.tar",
        destination_bucket="recordings",
        destination_key_or_refusal=f"records/{k}.tar",
        versions=[version(f"teleport/{k}.tar", n) for n in range(versions)],
        existing=[],
        key_arn=KEY,
        restored=frozenset(),
    )


def run_scheduler(copier: FakeCopier, plans: list[KeyPlan], *, concurrency: int = 4, gap: float = 0.05) -> Any:
    from concurrent.futures import ThreadPoolExecutor

    counter = Counter()
    with ThreadPoolExecutor(concurrency) as pool:
        outcome = Scheduler(
            copier.copy,
            resurvey=copier.resurvey,
            pool=pool,
            concurrency=concurrency,
            stop=threading.Event(),
            stage=counter,
            gap=gap,
        ).run(plans, resumed_not_before=0.0)
    return outcome, counter


def schedule(copier: FakeCopier, keys: int, versions: int, *, concurrency: int = 4, gap: float = 0.05) -> Any:
    return run_scheduler(copier, [legacy_plan(k, versions) for k in range(keys)], concurrency=concurrency, gap=gap)


def test_versions_of_a_recording_go_one_at_a_time_oldest_first_a_gap_apart() -> None:
    """The wall-clock gap is shortened here; the real gap (1 s) is what makes S3's seconds differ."""
    copier = FakeCopier()
    outcome, counter = schedule(copier, keys=6, versions=3, concurrency=4, gap=0.05)
    assert (len(outcome.copied), outcome.not_copied, outcome.remaining, counter.count) == (18, [], 0, 18)
    assert copier.most_in_flight <= 4
    for k in range(6):
        starts = [(t, v.version_id) for t, v in copier.started if v.key == f"teleport/{k}.tar"]
        assert [vid for _, vid in starts] == ["v0", "v1", "v2"]
        assert all(later - earlier >= 0.05 + 0.01 for (earlier, _), (later, _) in itertools.pairwise(starts))


def test_two_copies_of_one_recording_in_one_second_are_a_failure() -> None:
    copier = FakeCopier(same_second=True)
    outcome, _ = schedule(copier, keys=1, versions=3, gap=0.0)
    assert [c.version.version_id for c in outcome.copied] == ["v0"]
    assert "S3 stamped it in the same second as the copy before it" in outcome.not_copied[0].reason
    assert outcome.not_copied[1].reason == "waits for version v1 (copied oldest first)"


def test_a_failed_version_holds_back_the_newer_ones_of_that_recording_only() -> None:
    copier = FakeCopier(fail={"v1"})
    outcome, counter = schedule(copier, keys=2, versions=3, gap=0.0)
    assert sorted((n.version.key, n.version.version_id, n.reason) for n in outcome.not_copied) == [
        ("teleport/0.tar", "v1", "copy refused"),
        ("teleport/0.tar", "v2", "waits for version v1 (copied oldest first)"),
        ("teleport/1.tar", "v1", "copy refused"),
        ("teleport/1.tar", "v2", "waits for version v1 (copied oldest first)"),
    ]
    assert len(outcome.copied) == 2
    assert counter.count == 6


def test_an_unreachable_endpoint_stops_the_run() -> None:
    copier = FakeCopier(fail={"v0"}, unreachable=True)
    outcome, _ = schedule(copier, keys=20, versions=1, concurrency=2, gap=0.0)
    assert outcome.stopped == "stopped: copy refused"
    assert len(copier.started) < 20
    assert outcome.remaining == 20 - len(outcome.not_copied) - len(outcome.copied) > 0


def resumed_plan(k: int, versions: int, copied: int, current_etag: str) -> KeyPlan:
    """``teleport/K.tar`` whose first ``copied`` versions have verified copies, the newest with ``current_etag``."""
    sources = [version(f"teleport/{k}.tar", n) for n in range(versions)]
    existing = [copy_of(v, at=T0 + timedelta(seconds=n)) for n, v in enumerate(sources[:copied])]
    return plan_key(
        source_bucket="legacy",
        source_key=f"teleport/{k}.tar",
        destination_bucket="recordings",
        destination_key_or_refusal=f"records/{k}.tar",
        versions=sources,
        existing=existing,
        key_arn=KEY,
        restored=frozenset(),
        current_etag=current_etag,
    )


def test_each_copy_is_conditional_on_the_destination_state_it_was_planned_for() -> None:
    """A key with no current version: If-None-Match (``None``); then the copy before it; a resumed key: its ETag."""
    copier = FakeCopier()
    outcome, _ = run_scheduler(copier, [legacy_plan(0, 3), resumed_plan(1, 3, 1, '"listed-etag"')], gap=0.0)
    assert (len(outcome.copied), outcome.not_copied) == (5, [])
    assert [c for c in copier.conditions if c[0] == "teleport/0.tar"] == [
        ("teleport/0.tar", "v0", None),
        ("teleport/0.tar", "v1", '"etag-v0"'),
        ("teleport/0.tar", "v2", '"etag-v1"'),
    ]
    assert [c for c in copier.conditions if c[0] == "teleport/1.tar"] == [
        ("teleport/1.tar", "v1", '"listed-etag"'),
        ("teleport/1.tar", "v2", '"etag-v1"'),
    ]


def test_a_refused_copy_that_another_writer_landed_is_skipped_and_the_key_continues() -> None:
    """S3 refuses v0 (a killed run's copy of it landed late): the second look finds it, the key goes on from there."""
    landed = KeyState(copied=1, problem=None, last_copy_time=T0, current_etag='"landed-etag"')
    copier = FakeCopier(refuse={("teleport/0.tar", "v0")}, found={"teleport/0.tar": landed})
    outcome, counter = run_scheduler(copier, [legacy_plan(0, 2)], gap=0.0)
    assert [v.version_id for v in outcome.found_copied] == ["v0"]
    assert [c.version.version_id for c in outcome.copied] == ["v1"]
    assert (outcome.not_copied, outcome.remaining, counter.count) == ([], 0, 2)
    assert copier.conditions == [("teleport/0.tar", "v0", None), ("teleport/0.tar", "v1", '"landed-etag"')]
    assert copier.resurveyed == ["teleport/0.tar"]


def test_a_refused_copy_skips_every_version_the_other_writer_already_copied() -> None:
    landed = KeyState(copied=3, problem=None, last_copy_time=T0, current_etag='"etag-of-v2"')
    copier = FakeCopier(refuse={("teleport/0.tar", "v1")}, found={"teleport/0.tar": landed})
    outcome, _ = run_scheduler(copier, [legacy_plan(0, 4)], gap=0.0)
    assert [c.version.version_id for c in outcome.copied] == ["v0", "v3"]
    assert [v.version_id for v in outcome.found_copied] == ["v1", "v2"]
    assert copier.conditions[-1] == ("teleport/0.tar", "v3", '"etag-of-v2"')
    assert outcome.remaining == 0


@pytest.mark.parametrize(
    ("found", "fragment"),
    [
        (KeyState(0, None, None, '"foreign"'), "holds verified copies of the source's first 0 versions, not of this"),
        (KeyState(0, "records/0.tar already has version x that migrate did not write", None, None), "did not write"),
        (CopyError("cannot look at s3://recordings/records/0.tar again: AccessDenied"), "cannot look at"),
    ],
)
def test_a_refused_copy_without_a_verified_copy_there_is_reported_never_resent(
    found: KeyState | CopyError, fragment: str
) -> None:
    copier = FakeCopier(refuse={("teleport/0.tar", "v0")}, found={"teleport/0.tar": found})
    outcome, counter = run_scheduler(copier, [legacy_plan(0, 2), legacy_plan(1, 1)], gap=0.0)
    assert [(c[0], c[1]) for c in copier.conditions].count(("teleport/0.tar", "v0")) == 1
    refused, waiting = sorted((n for n in outcome.not_copied), key=lambda n: n.version.version_id)
    assert refused.reason.startswith("S3 refused the copy (CopyObject: PreconditionFailed); ")
    assert fragment in refused.reason
    assert waiting.reason == "waits for version v0 (copied oldest first)"
    assert [c.version.key for c in outcome.copied] == ["teleport/1.tar"]
    assert (outcome.found_copied, outcome.remaining, counter.count) == ([], 0, 3)


# --- the text report -----------------------------------------------------------------------------


def test_a_repeated_run_says_there_is_nothing_to_copy() -> None:
    source = version()
    plan_ = plan_key(
        source_bucket="legacy",
        source_key=source.key,
        destination_bucket="recordings",
        destination_key_or_refusal="records/a.tar",
        versions=[source],
        existing=[copy_of(source, at=T0)],
        key_arn=KEY,
        restored=frozenset(),
    )
    from recordings_kms.migrate.plan import Plan

    report = Report(
        "legacy",
        "teleport/",
        "recordings",
        "records/",
        KEY,
        "eu-west-1",
        None,
        Plan((plan_,), 0, 5 * GiB),
        dry_run=False,
    )
    assert report.ok
    assert (
        text(report).splitlines()[-1]
        == "nothing to copy: 1 of 1 version in 1 recording are already copied and verified"
    )


def test_versions_found_copied_are_told_apart_from_this_runs_copies() -> None:
    from recordings_kms.migrate.plan import Plan

    plan_ = legacy_plan(0, 1)
    report = Report(
        "legacy", "teleport/", "recordings", "records/", KEY, "eu-west-1", None, Plan((plan_,), 0, 5 * GiB), False
    )
    report.found_copied = [plan_.versions[0]]
    assert report.ok
    assert text(report).splitlines()[-1] == (
        "1 version was found copied when S3 refused to copy it again (another run, a killed run's copy landing late, "
        "or an earlier attempt of this one had written it): each copy there is verified"
    )


@pytest.mark.parametrize(
    ("size", "shown"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (5 * MiB, "5.0 MiB"), (7 * 1024 * GiB, "7.0 TiB")],
)
def test_sizes_read_like_sizes(size: int, shown: str) -> None:
    assert size_text(size) == shown


def test_recordings_with_more_versions_start_first() -> None:
    """Their gaps then overlap the single-version copies instead of trailing the run."""
    copier = FakeCopier()
    plans = [legacy_plan(k, count) for k, count in enumerate([1, 1, 3, 1, 2])]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        Scheduler(
            copier.copy,
            resurvey=copier.resurvey,
            pool=pool,
            concurrency=1,
            stop=threading.Event(),
            stage=Counter(),
            gap=0.0,
        ).run(plans, resumed_not_before=0.0)
    assert [v.key for _, v in copier.started][:2] == ["teleport/2.tar", "teleport/4.tar"]
