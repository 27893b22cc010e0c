"""`recordings-kms migrate --stack-name PRIMARY --to-replica` (fill the replica) and `--from-replica` (fail back),
end to end on moto, with the replica's S3-replicated versions built as S3 keeps them (``tests.cli.replica``: same
version ids and LastModified; moto replicates nothing).

The oldest-version test is the issue's "the replica's oldest version is the primary's oldest": what moto can show is
the state a replicated-then-filled replica is in and what Teleport's rule (the earliest LastModified, to the second)
picks there; that S3 really keeps version ids and creation times is the S3 User Guide's statement
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html), not shown here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from recordings_kms.cli import main
from recordings_kms.provenance import META_SOURCE_VERSION
from tests.cli.conftest import VERIFY_FIXTURES, s3_backend
from tests.cli.deployment import PREFIX, Deployment, assert_error, checks_of, run
from tests.cli.replica import Replicated, build_replicated, replication_status

pytestmark = pytest.mark.usefixtures(*VERIFY_FIXTURES)
Deploy = Callable[..., Deployment]
DAYS = timedelta(days=3)


def migrate(replicated: Replicated, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict[str, Any]]:
    argv = ["migrate", "--stack-name", replicated.primary_stack, "--endpoint-url", replicated.endpoint, "--json"]
    code = main([*argv, *extra])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err, captured.err
    return code, json.loads(captured.out)


def teleport_plays(versions: list[Any]) -> Any:
    """The version Teleport plays: the earliest LastModified, as S3 lists it (to the second)."""
    return min(versions, key=lambda v: int(v.last_modified.timestamp()))


def source_of(version: Any) -> str:
    """The primary version a replica version stands for: its own id (S3's replica) or its provenance (a copy)."""
    return str(version.metadata.get(f"x-amz-meta-{META_SOURCE_VERSION}", version.version_id))


@pytest.fixture
def replicated(deploy: Deploy) -> Replicated:
    # No bucket policy on the primary: moto applies the design's conditional statements without their conditions.
    return build_replicated(deploy(bucket_policy=False))


def test_fill_copies_only_what_is_missing_and_the_replicas_oldest_is_the_primarys(
    replicated: Replicated, capsys: pytest.CaptureFixture[str]
) -> None:
    # The primary's versions are days old, as on AWS (a copy is stamped now, a replica keeps the source's time).
    first_a = replicated.put("a.tar", b"a: the recording")
    replicated.set_last_modified("a.tar", first_a, replicated.primary_version("a.tar", first_a).last_modified - DAYS)
    replicated.replicate("a.tar", first_a)  # S3 replicated the oldest; the newer one never arrived
    newer_a = replicated.put("a.tar", b"a: something newer")
    replicated.replicate("b.tar", replicated.put("b.tar", b"b"))
    old_c = replicated.put("c.tar", b"c: written before the rule existed")
    replicated.set_last_modified("c.tar", old_c, replicated.primary_version("c.tar", old_c).last_modified - DAYS)
    code, report = migrate(replicated, capsys, "--to-replica")
    assert code == 0, report
    assert sorted((c["source_key"], c["source_version_id"]) for c in report["copied"]) == sorted(
        [(f"{PREFIX}/a.tar", newer_a), (f"{PREFIX}/c.tar", old_c)]
    ), report
    assert report["counts"]["already_copied"] == 2  # a's oldest and b: S3's replicas, by version id

    for key, versions in replicated.replica_versions().items():
        primary = [v for v in replicated.written if v[0] == key]
        assert source_of(teleport_plays(versions)) == primary[0][1], key
        assert all(v.kms_key_id == replicated.replica_key_arn for v in versions), key

    code, again = migrate(replicated, capsys, "--to-replica")
    assert (code, again["copied"], again["counts"]["already_copied"]) == (0, [], 4)

    _, out, _ = run(replicated.verify("--json"), capsys)
    assert checks_of(out)["replica.versions"]["status"] == "PASS", checks_of(out)["replica.versions"]


def test_a_key_whose_oldest_never_reached_the_replica_is_refused(
    replicated: Replicated, capsys: pytest.CaptureFixture[str]
) -> None:
    """Copying the oldest now would stamp it after the newer replica: Teleport would play the newer one."""
    replicated.put("a.tar", b"the recording")
    newer = replicated.put("a.tar", b"newer")
    replicated.replicate("a.tar", newer)
    code, report = migrate(replicated, capsys, "--to-replica")
    assert code == 1
    assert len(report["not_copied"]) == 2
    assert all("would play the newer one" in n["reason"] for n in report["not_copied"]), report["not_copied"]
    assert len(replicated.replica_versions()[f"{PREFIX}/a.tar"]) == 1


def test_a_key_s3_is_still_replicating_waits(replicated: Replicated, capsys: pytest.CaptureFixture[str]) -> None:
    pending = replicated.put("a.tar", b"a")
    with replication_status({(replicated.primary.bucket, f"{PREFIX}/a.tar", pending): "PENDING"}):
        code, report = migrate(replicated, capsys, "--to-replica")
    assert code == 1
    (refused,) = report["not_copied"]
    assert "S3 is still replicating version" in refused["reason"]
    assert f"{PREFIX}/a.tar" not in replicated.replica_versions()


def test_fail_back_copies_what_was_written_during_failover(
    replicated: Replicated, capsys: pytest.CaptureFixture[str]
) -> None:
    replicated.replicate("a.tar", replicated.put("a.tar", b"before failover"))
    during = s3_backend().put_object(
        replicated.replica_bucket,
        f"{PREFIX}/during.tar",
        b"written to the replica during failover",
        encryption="aws:kms",
        kms_key_id=replicated.replica_key_arn,
    )
    during.last_modified -= DAYS
    code, report = migrate(replicated, capsys, "--from-replica")
    assert code == 0, report
    (copied,) = report["copied"]
    assert (copied["source_key"], copied["source_version_id"]) == (f"{PREFIX}/during.tar", during.version_id)
    assert report["present_keys"] == [f"{PREFIX}/a.tar"]
    back = s3_backend().get_bucket(replicated.primary.bucket).keys.getlist(f"{PREFIX}/during.tar")
    assert [v.kms_key_id for v in back] == [replicated.primary.key_arn]

    # The primary's rule then replicates the copy back to the replica as a newer version of the same recording:
    # the replica still plays the original (the oldest), the primary its copy, and verify --replica accepts both
    # (the copy's provenance names the replica's original).
    replicated.replicate("during.tar", copied["destination_version_id"])
    _, out, _ = run(replicated.verify("--json"), capsys)
    assert checks_of(out)["replica.versions"]["status"] == "PASS", checks_of(out)["replica.versions"]


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--to-replica", "--source-bucket", "x"], "leave out --source-bucket"),
        (["--from-replica", "--bucket", "b", "--key", "k"], "leave out --bucket, --key"),
    ],
)
def test_the_replica_routes_take_nothing_but_the_primary_stack(
    replicated: Replicated, capsys: pytest.CaptureFixture[str], extra: list[str], fragment: str
) -> None:
    argv = ["migrate", "--stack-name", replicated.primary_stack, "--endpoint-url", replicated.endpoint, *extra]
    assert_error(*run(argv, capsys), fragment)


def test_the_replica_routes_need_a_replicated_primary_stack(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    deployment = deploy()
    assert_error(*run(["migrate", "--to-replica", "--endpoint-url", deployment.endpoint], capsys), "needs --stack-name")
    stack = deployment.create_stack()
    argv = ["migrate", "--to-replica", "--stack-name", stack, "--endpoint-url", deployment.endpoint]
    assert_error(*run(argv, capsys), f"stack {stack} has no replica")
    assert_error(*run(["migrate", "--stack-name", stack], capsys), "needs --source-bucket")
