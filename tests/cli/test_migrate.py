"""`recordings-kms migrate` end to end against a moto server: what lands in the recordings bucket, and what does not.

Each destination version is compared byte for byte with what the test itself wrote into the source
(``World.seed``), never with what migrate reports. "The version Teleport plays" is computed the way
Teleport's s3sessions handler does it: ListObjectVersions, then the earliest LastModified.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from recordings_kms.migrate.command import main
from recordings_kms.migrate.copy import CopySettings, MiB
from recordings_kms.migrate.model import META_SHA256, META_SOURCE, META_SOURCE_VERSION
from tests.cli.conftest import MIGRATE_FIXTURES, World, deny_get, make_world

pytestmark = pytest.mark.usefixtures(*MIGRATE_FIXTURES)
REPO = Path(__file__).resolve().parents[2]
SMALL_PARTS = CopySettings(multipart_threshold=6 * MiB, part_size=5 * MiB)


def run(argv: list[str], capsys: pytest.CaptureFixture[str], **kwargs: Any) -> tuple[int, str, str]:
    code = main(argv, **kwargs)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(world: World, capsys: pytest.CaptureFixture[str], *extra: str, **kwargs: Any) -> tuple[int, Any]:
    code, out, err = run(world.argv("--json", *extra), capsys, **kwargs)
    assert "Traceback" not in err
    return code, json.loads(out)


def cli(argv: list[str], **kwargs: Any) -> subprocess.Popen[str]:
    """The command in its own process, as a user runs it (the moto server stays in this one)."""
    return subprocess.Popen(
        [sys.executable, "-m", "recordings_kms.migrate", *argv],
        cwd=REPO,
        env=os.environ.copy(),
        text=True,
        **kwargs,
    )


def wait_for_copies(world: World, count: int, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while world.destination_version_count() < count:
        assert process.poll() is None, "migrate ended before it was interrupted"
        assert time.monotonic() < deadline, f"fewer than {count} copies after {timeout} s"
        time.sleep(0.01)


def versions_by_key(world: World, bucket: str, prefix: str = "") -> dict[str, list[dict[str, Any]]]:
    """ListObjectVersions over HTTP: versions by key, newest first (S3's order)."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for page in world.s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for version in page.get("Versions", []):
            found[version["Key"]].append(version)
    return dict(found)


def source_snapshot(world: World) -> list[tuple[Any, ...]]:
    """Every version and delete marker of the source, with its bytes: to prove migrate changed nothing there."""
    versions = [
        (key, v.version_id, v.etag, v.last_modified, v.storage_class, v.value, sorted(v.metadata.items()))
        for key, listed in world.versions(world.source).items()
        for v in listed
    ]
    return sorted(versions) + sorted(world.delete_markers(world.source))


def listed_second(version: Any) -> int:
    """LastModified as S3 lists it (and Teleport compares it): whole seconds."""
    return int(version.last_modified.timestamp())


def assert_migrated(world: World, keys: list[str] | None = None) -> None:
    """Each seeded source key's versions are in the destination, oldest first, byte for byte, under the key.

    The version Teleport plays in the destination (the earliest LastModified, to the second, which
    must not be a tie) is, byte for byte, the source's oldest version as the test wrote it.
    """
    destination = world.versions(world.destination)
    for key in keys if keys is not None else list(world.seeded):
        target = f"{world.prefix}/{key.removeprefix(world.source_prefix + '/')}"
        copies = destination[target]
        earliest = min(listed_second(v) for v in copies)
        played = [v for v in copies if listed_second(v) == earliest]
        assert len(played) == 1, f"{target}: Teleport's pick is a tie between {[v.version_id for v in played]}"
        assert played[0].value == world.seeded[key][0], key
        assert [v.value for v in copies] == world.seeded[key], key
        for copy in copies:
            assert (copy.encryption, copy.kms_key_id) == ("aws:kms", world.key_arn), key
            assert copy.metadata[f"x-amz-meta-{META_SOURCE}"].startswith(f"s3://{world.source}/"), key


@contextmanager
def moto_in_process() -> Iterator[None]:
    """moto's in-process mock over the backends the server holds, for runs that need no process of their own.

    botocore still serializes, signs and parses every request, and the same moto handlers answer it,
    without a socket, werkzeug or Flask in between: on this machine 1,055 HEADs took 5.2 to 5.9 CPU-s
    (server and client) over HTTP, 2.6 to 3.6 in process.
    """
    from moto import mock_aws

    mock = mock_aws()
    mock.start(reset=False)
    try:
        yield
    finally:
        mock.stop(remove_data=False)


def in_process(argv: list[str]) -> list[str]:
    """The same command without ``--endpoint-url``: under ``moto_in_process`` botocore's default endpoints are moto."""
    at = argv.index("--endpoint-url")
    return argv[:at] + argv[at + 2 :]


#: ListObjectVersions' page size for the resume test (moto's MOTO_S3_DEFAULT_MAX_KEYS; S3's is 1,000).
LISTING_PAGE = 100


def listing_pages(world: World, bucket: str, prefix: str) -> list[list[tuple[str, str]]]:
    """ListObjectVersions over HTTP, page by page: (key, version id) of each version and delete marker."""
    return [
        [(v["Key"], v["VersionId"]) for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        for page in world.s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
    ]


def test_versions_over_several_listing_pages_killed_half_way_resume_then_nothing_left(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL after 30 copies; the next run finishes from the copies' metadata; the third copies nothing.

    113 versions of 95 recordings, 2 of them deleted, listed 100 to a page (moto's
    MOTO_S3_DEFAULT_MAX_KEYS, read by the server in this process on every request; migrate sends no
    MaxKeys and follows the markers S3 returns): more than one listing page on both sides, and one
    recording's two versions on two pages. This was the same test at S3's 1,000-version page with
    1,055 versions of 930 recordings and the kill after 300 copies: the same shapes (one, two and
    three versions, deleted recordings, keys outside the prefix), the same second page on each side
    and the kill at the same point (after about 28% of the copies, with 8 in flight), at a tenth of
    the requests (about 350 instead of 3,500: a GET and a CopyObject per version, a HEAD in each
    later run), from about 30 CPU-s to about 3. The run that is killed runs as a user runs it, in
    its own process over HTTP; the two after it run in this process against the same moto backends
    through moto's in-process mock (``moto_in_process``).
    """
    monkeypatch.setenv("MOTO_S3_DEFAULT_MAX_KEYS", str(LISTING_PAGE))
    for i in range(81):
        world.seed(f"teleport/{i:05d}.tar", f"session {i}\n".encode() * (i % 7 + 1))
    for i in range(81, 91):
        world.seed(f"teleport/{i:05d}.tar", f"session {i}, first\n".encode(), f"session {i}, rewritten\n".encode())
    for i in range(91, 95):
        world.seed(f"teleport/{i:05d}.tar", *(f"session {i}, version {n}\n".encode() for n in range(3)))
    for i in range(93, 95):  # deleted recordings: Teleport still plays their oldest version
        world.s3.delete_object(Bucket=world.source, Key=f"teleport/{i:05d}.tar")
    outside = ["other/00001.tar", "teleport2/00001.tar", "teleport.tar"]
    for key in outside:
        world.s3.put_object(Bucket=world.source, Key=key, Body=b"not under the source prefix")
    total = 81 + 2 * 10 + 3 * 4
    source_pages = listing_pages(world, world.source, "teleport/")
    assert [len(page) for page in source_pages] == [LISTING_PAGE, total + 2 - LISTING_PAGE]
    split = {key for key, _ in source_pages[0]} & {key for key, _ in source_pages[1]}
    assert split == {"teleport/00090.tar"}, "one recording's versions on both pages"
    before = source_snapshot(world)

    first = cli(world.argv("--concurrency", "8"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for_copies(world, 30, first)
    first.kill()
    first.wait()
    time.sleep(0.2)  # a request the server had already read still completes
    killed_at = world.destination_version_count()
    assert 30 <= killed_at < total

    with moto_in_process():
        code, out, err = run(in_process(world.argv("--json")), capsys)
        assert code == 0, err
        counts = json.loads(out)["counts"]
        assert counts["already_copied"] == killed_at
        assert counts["copied"] == total - killed_at
        assert (counts["recordings"], counts["versions"], counts["delete_markers"]) == (95, total, 2)
        assert counts["not_copied"] == counts["remaining"] == 0

        code, out, err = run(in_process(world.argv()), capsys)
    assert code == 0, err
    assert err == ""  # not a terminal: no progress bar
    assert f"nothing to copy: {total} of {total} versions in 95 recordings are already copied and verified" in out
    assert world.destination_version_count() == total
    assert len(listing_pages(world, world.destination, "records/")) == 2

    assert_migrated(world)
    assert world.delete_markers(world.destination) == []  # not reproduced
    assert source_snapshot(world) == before
    destination_keys = set(world.versions(world.destination))
    assert all(key.startswith("records/") for key in destination_keys)
    assert not any("other" in key or "teleport2" in key or key.endswith("teleport.tar") for key in destination_keys)


def test_ctrl_c_stops_cleanly_and_the_next_run_resumes(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(100):
        world.seed(f"teleport/{i:04d}.tar", f"session {i}".encode())
    process = cli(world.argv("--concurrency", "2"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for_copies(world, 15, process)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 1, out + err
    assert "Traceback" not in err
    assert "interrupted (Ctrl-C)" in out
    assert "run again to continue" in out
    copied_before = world.destination_version_count()
    assert 15 <= copied_before < 100

    code, document = run_json(world, capsys)
    assert code == 0
    assert document["counts"]["already_copied"] == copied_before
    assert document["counts"]["copied"] == 100 - copied_before
    assert_migrated(world)


def test_every_version_oldest_first_with_metadata_and_tags(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """Newer versions follow the one Teleport plays, one second apart; content headers and tags survive."""
    world.seed("teleport/a.tar", b"original", b"overwritten once", b"overwritten twice")
    world.s3.put_object(
        Bucket=world.source,
        Key="teleport/b.tar",
        Body=b"tagged",
        ContentType="application/x-tar",
        CacheControl="no-store",
        Metadata={"session-id": "b"},
        Tagging="team=sre&kind=recording",
    )
    world.seeded["teleport/b.tar"] = [b"tagged"]
    code, document = run_json(world, capsys)
    assert code == 0, document
    assert document["counts"]["copied"] == 4
    assert_migrated(world)

    copies = versions_by_key(world, world.destination, "records/")["records/a.tar"]
    seconds = sorted(int(v["LastModified"].timestamp()) for v in copies)
    assert seconds[0] < seconds[1] < seconds[2]
    head = world.s3.head_object(Bucket=world.destination, Key="records/b.tar", ChecksumMode="ENABLED")
    assert head["ContentType"] == "application/x-tar"
    assert head["CacheControl"] == "no-store"
    assert head["Metadata"]["session-id"] == "b"
    (copy_of_b,) = [c for c in document["copied"] if c["source_key"] == "teleport/b.tar"]
    assert head["Metadata"][META_SHA256] == copy_of_b["sha256"] == hashlib.sha256(b"tagged").hexdigest()
    assert head["Metadata"][META_SOURCE_VERSION] == copy_of_b["source_version_id"]
    tags = world.s3.get_object_tagging(Bucket=world.destination, Key="records/b.tar")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("kind", "recording"), ("team", "sre")]


def test_multipart_copies_above_the_threshold(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """Two parts of 5 MiB and a short last one; composite SHA-256 checked; the small version stays one CopyObject."""
    big_old, big_new = os.urandom(11 * MiB), os.urandom(6 * MiB + 1)
    world.seed("teleport/big.tar", big_old, b"a small newer version", big_new)
    world.s3.put_object_tagging(
        Bucket=world.source, Key="teleport/big.tar", Tagging={"TagSet": [{"Key": "size", "Value": "big"}]}
    )
    code, document = run_json(world, capsys, settings=SMALL_PARTS)
    assert code == 0, document
    assert [c["multipart"] for c in document["copied"]] == [True, False, True]
    assert_migrated(world)
    newest = versions_by_key(world, world.destination, "records/")["records/big.tar"][0]
    head = world.s3.head_object(
        Bucket=world.destination, Key="records/big.tar", VersionId=newest["VersionId"], ChecksumMode="ENABLED"
    )
    assert head["Metadata"]["recordings-kms-checksum-sha256"].endswith("-2")
    assert head["ChecksumSHA256"] == head["Metadata"]["recordings-kms-checksum-sha256"].removesuffix("-2")
    tags = world.s3.get_object_tagging(Bucket=world.destination, Key="records/big.tar", VersionId=newest["VersionId"])
    assert tags["TagSet"] == [{"Key": "size", "Value": "big"}]
    assert world.s3.list_multipart_uploads(Bucket=world.destination).get("Uploads", []) == []

    code, document = run_json(world, capsys, settings=SMALL_PARTS)
    assert (code, document["counts"]["copied"], document["counts"]["already_copied"]) == (0, 0, 3)


def test_an_upload_left_open_by_a_killed_run_is_aborted(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """Teleport's upload completer would finish it into a half-copied version: the next run aborts it first."""
    world.seed("teleport/big.tar", os.urandom(7 * MiB))
    left = world.s3.create_multipart_upload(Bucket=world.destination, Key="records/big.tar")["UploadId"]
    code, out, _ = run(world.argv(), capsys, settings=SMALL_PARTS)
    assert code == 0, out
    assert f"aborted open upload {left} on records/big.tar, left by an interrupted run" in out
    assert world.s3.list_multipart_uploads(Bucket=world.destination).get("Uploads", []) == []
    assert_migrated(world)


def test_what_cannot_be_copied_is_listed_and_exits_1(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.seed("teleport/ok.tar", b"fine")
    world.seed("teleport/cold.tar", b"archived original", storage="GLACIER")
    world.seed("teleport/later.tar", b"original")
    world.seed("teleport/later.tar", b"archived rewrite", storage="DEEP_ARCHIVE")
    world.seed("teleport/later.tar", b"after the archived one")
    world.seed("teleport/thawed.tar", b"restored", storage="GLACIER")
    world.s3.restore_object(Bucket=world.source, Key="teleport/thawed.tar", RestoreRequest={"Days": 1})
    world.seed("teleport/../escape.tar", b"would land outside records/")
    world.seed("teleport/sub/./dot.tar", b"a dot segment")
    world.seed("teleport/denied.tar", b"no read access")
    deny_get(world, "teleport/denied.tar")
    before = source_snapshot(world)
    for archived in ("teleport/cold.tar", "teleport/later.tar"):  # moto, like S3, will not read them
        listed = versions_by_key(world, world.source, archived)[archived]
        version_id = next(v["VersionId"] for v in listed if v["StorageClass"] != "STANDARD")
        with pytest.raises(ClientError, match="InvalidObjectState"):
            world.s3.get_object(Bucket=world.source, Key=archived, VersionId=version_id)

    code, document = run_json(world, capsys)
    assert code == 1
    assert document["ok"] is False
    by_key: dict[str, list[str]] = defaultdict(list)
    for item in document["not_copied"]:
        by_key[item["source_key"]].append(item["reason"])
    assert by_key["teleport/cold.tar"] == [
        "archived in GLACIER: S3 cannot copy it until it is restored (RestoreObject, s3:RestoreObject); restore it, "
        "then run again"
    ]
    assert by_key["teleport/later.tar"][0].startswith("archived in DEEP_ARCHIVE")
    assert by_key["teleport/later.tar"][1].startswith("waits for version ")
    assert "would escape the destination prefix 'records/'" in by_key["teleport/../escape.tar"][0]
    assert "'.' or '..' segment" in by_key["teleport/sub/./dot.tar"][0]
    assert by_key["teleport/denied.tar"][0].startswith("access denied: GetObject on s3://")
    assert "migrate needs s3:GetObjectVersion on the source" in by_key["teleport/denied.tar"][0]
    assert set(by_key) == {
        "teleport/cold.tar",
        "teleport/later.tar",
        "teleport/../escape.tar",
        "teleport/sub/./dot.tar",
        "teleport/denied.tar",
    }
    # The first version of later.tar (before the archived one) is copied; thawed.tar was restored, so it is copied.
    assert {(c["source_key"], c["size"]) for c in document["copied"]} == {
        ("teleport/ok.tar", 4),
        ("teleport/later.tar", 8),
        ("teleport/thawed.tar", 8),
    }
    assert_migrated(world, ["teleport/ok.tar", "teleport/thawed.tar"])
    destination_keys = set(versions_by_key(world, world.destination))
    assert destination_keys == {"records/ok.tar", "records/later.tar", "records/thawed.tar"}
    assert source_snapshot(world) == before

    code, out, _ = run(world.argv(), capsys)
    assert code == 1
    assert "nothing to copy: 3 of 9 versions in 7 recordings are already copied and verified; 6 cannot be copied" in out
    assert "  s3://" in out
    assert "archived in GLACIER" in out


def test_dry_run_lists_and_copies_nothing(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.seed("teleport/a.tar", b"first", b"second")
    world.seed("teleport/b.tar", b"only")
    code, out, err = run(world.argv("--dry-run"), capsys)
    assert code == 0, out + err
    assert world.destination_version_count() == 0
    lines = [line for line in out.splitlines() if line.startswith("would copy")]
    assert len(lines) == 3
    assert lines[0].endswith("(5 B, the version Teleport plays) -> s3://" + world.destination + "/records/a.tar")
    assert "dry run: would copy 3 versions (15 B); 0 already copied and verified; 0 cannot be copied" in out

    code, document = run_json(world, capsys, "--dry-run")
    assert (code, document["dry_run"], document["counts"]["would_copy"], document["copied"]) == (0, True, 3, [])


def test_a_foreign_version_in_the_destination_blocks_that_key(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """A version migrate did not write: the source's oldest could no longer be the one Teleport plays."""
    world.seed("teleport/a.tar", b"recording")
    world.seed("teleport/b.tar", b"another")
    world.s3.put_object(Bucket=world.destination, Key="records/a.tar", Body=b"written by someone else")
    code, document = run_json(world, capsys)
    assert code == 1
    (blocked,) = document["not_copied"]
    assert blocked["source_key"] == "teleport/a.tar"
    assert "that migrate did not write" in blocked["reason"]
    assert len(versions_by_key(world, world.destination, "records/")["records/a.tar"]) == 1
    assert_migrated(world, ["teleport/b.tar"])


def test_a_copy_that_fails_verification_is_reported_not_trusted(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """A destination version whose bytes do not match its provenance record (say, a truncated upload)."""
    world.seed("teleport/a.tar", b"the real recording")
    code, _ = run_json(world, capsys)
    assert code == 0
    version = versions_by_key(world, world.destination, "records/")["records/a.tar"][0]
    head = world.s3.head_object(Bucket=world.destination, Key="records/a.tar", VersionId=version["VersionId"])
    world.s3.delete_object(Bucket=world.destination, Key="records/a.tar", VersionId=version["VersionId"])
    world.s3.put_object(
        Bucket=world.destination,
        Key="records/a.tar",
        Body=b"the real rec",  # truncated, with the original's provenance record
        Metadata=head["Metadata"],
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=world.key_arn,
        ChecksumAlgorithm="SHA256",
    )
    code, document = run_json(world, capsys)
    assert code == 1
    (failed,) = document["not_copied"]
    assert "fails verification: S3's SHA-256" in failed["reason"]
    assert "remove that version and run again" in failed["reason"]


def test_aws_managed_source_and_stack_outputs(moto_endpoint: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--stack-name reads the bucket, key and prefix (StorageUri); the source is under aws/s3."""
    world = make_world(moto_endpoint, source_encryption="aws:kms")
    world.prefix = "teleport/sessions"
    world.seed("teleport/x.tar", b"under aws/s3")
    uri = f"s3://{world.destination}/teleport/sessions?region=eu-west-1&sse_kms_key={world.key_arn}"
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {
            "BucketName": {"Value": world.destination},
            "KeyArn": {"Value": world.key_arn},
            "StorageUri": {"Value": uri},
        },
    }
    import boto3

    cloudformation = boto3.client("cloudformation", endpoint_url=moto_endpoint, region_name="eu-west-1")
    stack = f"recordings-{world.destination[-12:]}"
    cloudformation.create_stack(StackName=stack, TemplateBody=json.dumps(template))
    argv = ["migrate", "--source-bucket", world.source, "--source-prefix", "teleport", "--endpoint-url", moto_endpoint]
    code, out, err = run([*argv, "--stack-name", stack], capsys)
    assert code == 0, out + err
    assert f"-> s3://{world.destination}/teleport/sessions/ under {world.key_arn}" in out
    assert_migrated(world)

    code, out, err = run([*argv, "--stack-name", stack, "--prefix", "records"], capsys)
    assert code == 2
    assert "--prefix 'records' differs from the prefix of stack" in err
    code, out, err = run([*argv, "--stack-name", "no-such-stack"], capsys)
    assert code == 2
    assert (
        err
        == "recordings-kms: error: stack no-such-stack not found in this region (Stack with id no-such-stack does not exist)\n"
    )


def test_progress_bar_on_a_terminal_only(world: World) -> None:
    for i in range(30):
        world.seed(f"teleport/{i:02d}.tar", b"x" * i)
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal has a size
    process = cli(world.argv(), stdin=secondary, stdout=secondary, stderr=secondary)
    os.close(secondary)
    screen = b""
    while True:
        ready, _, _ = select.select([primary], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        screen += chunk
    os.close(primary)
    assert process.wait(timeout=30) == 0
    text = screen.decode(errors="replace")
    assert "copying" in text  # tqdm's bar, redrawn with \r
    assert "version/s" in text
    assert "copied 30 versions" in text
