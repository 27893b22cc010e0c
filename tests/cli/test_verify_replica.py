"""`recordings-kms verify --stack-name PRIMARY --replica`: the live rule's destination and key alias against the
replica stack, and the primary's versions missing in the replica (by key and version id), end to end on moto.

moto replicates nothing: the replica's state is what S3 replication would leave (``tests.cli.replica``: the same
version ids and LastModified), and the ``x-amz-replication-status`` of a source version is added to moto's
answers where a test needs one (PENDING: behind; FAILED; none: never replicated). What a run against AWS would
add: the status S3 itself reports, and whether the real rule replicates at all."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from recordings_kms.results import Status
from recordings_kms.verify.replica_checks import Listed, ReplicaTarget, VersionEvidence, check_versions
from tests.cli.conftest import VERIFY_FIXTURES
from tests.cli.deployment import PREFIX, Deployment, assert_error, checks_of, harness_client, run
from tests.cli.replica import REPLICA_REGION, Replicated, build_replicated, replication_status

pytestmark = pytest.mark.usefixtures(*VERIFY_FIXTURES)
# The primaries have no bucket policy: moto applies the design's (all conditional) statements without their
# conditions and would refuse verify's HEADs, which AWS allows (tests/cli/deployment.py).
Deploy = Callable[..., Deployment]


def replica_checks(replicated: Replicated, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    code, out, err = run(replicated.verify("--json", *extra), capsys)
    assert "Traceback" not in err, err
    assert code in (0, 1), err
    return {k: v for k, v in checks_of(out).items() if k.startswith("replica.")}


def test_a_fully_replicated_primary_passes(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    replicated = build_replicated(deploy(bucket_policy=False))
    for name in ("a.tar", "b.tar"):
        replicated.replicate(name, replicated.put(name, b"recording " + name.encode()))
    newer = replicated.put("a.tar", b"a newer version")
    replicated.replicate("a.tar", newer)
    checks = replica_checks(replicated, capsys)
    assert {k: c["status"] for k, c in checks.items()} == {
        "replica.destination": "PASS",
        "replica.key-alias": "PASS",
        "replica.versions": "PASS",
    }, checks
    assert "all 3 primary versions in 2 recordings" in checks["replica.versions"]["reason"]
    assert replicated.replica_key_arn in checks["replica.key-alias"]["reason"]


def test_a_version_never_replicated_fails_with_the_count_and_an_example(
    deploy: Deploy, capsys: pytest.CaptureFixture[str]
) -> None:
    """No x-amz-replication-status on the source (moto's answer, and S3's for an object older than the rule)."""
    replicated = build_replicated(deploy(bucket_policy=False))
    replicated.replicate("a.tar", replicated.put("a.tar", b"a"))
    missing = replicated.put("b.tar", b"b")
    check = replica_checks(replicated, capsys)["replica.versions"]
    assert check["status"] == "FAIL"
    assert "1 of 2 primary versions in 2 recordings are missing" in check["reason"]
    assert f"{PREFIX}/b.tar (version {missing})" in check["reason"]
    assert "with no replication status (written before the rule or outside it)" in check["reason"]
    assert "migrate --to-replica" in check["reason"]


def test_pending_is_behind_a_warning_and_failed_fails(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    replicated = build_replicated(deploy(bucket_policy=False))
    replicated.replicate("a.tar", replicated.put("a.tar", b"a"))
    pending = replicated.put("b.tar", b"b")
    bucket = replicated.primary.bucket
    with replication_status({(bucket, f"{PREFIX}/b.tar", pending): "PENDING"}):
        check = replica_checks(replicated, capsys)["replica.versions"]
    assert check["status"] == "WARN", check
    assert "1 missing with x-amz-replication-status PENDING: the replica is behind" in check["reason"]
    later = replicated.put("c.tar", b"c")
    statuses = {(bucket, f"{PREFIX}/b.tar", pending): "FAILED", (bucket, f"{PREFIX}/c.tar", later): "PENDING"}
    with replication_status(statuses):
        check = replica_checks(replicated, capsys)["replica.versions"]
    assert check["status"] == "FAIL"
    assert "2 of 3 primary versions in 3 recordings are missing" in check["reason"]
    assert "1 FAILED (S3 never retries them); 1 PENDING (on their way)" in check["reason"]


def test_a_replica_missing_the_oldest_version_would_play_another_and_fails(
    deploy: Deploy, capsys: pytest.CaptureFixture[str]
) -> None:
    """The primary's oldest never reached the replica, a newer one did: in failover Teleport plays the newer."""
    replicated = build_replicated(deploy(bucket_policy=False))
    replicated.put("a.tar", b"the recording")
    replicated.replicate("a.tar", replicated.put("a.tar", b"something else"))
    check = replica_checks(replicated, capsys)["replica.versions"]
    assert check["status"] == "FAIL"
    assert "1 recordings would play another version from the replica than the primary's oldest" in check["reason"]
    assert f"{PREFIX}/a.tar" in check["reason"]


def test_the_sample_bounds_the_work_and_says_so(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    replicated = build_replicated(deploy(bucket_policy=False))
    for name in ("a.tar", "b.tar", "c.tar"):
        replicated.replicate(name, replicated.put(name, name.encode()))
    check = replica_checks(replicated, capsys, "--replica-sample", "2")["replica.versions"]
    assert check["status"] == "WARN"
    assert "2 primary versions in 2 recordings (the first ones listed: --replica-sample" in check["reason"]
    assert "raise --replica-sample" in check["reason"]


def test_a_moved_alias_fails_r6(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    """Whoever moves the alias the rule names redirects every future replica (docs/THREAT_MODEL.md, R6)."""
    replicated = build_replicated(deploy(bucket_policy=False))
    kms = harness_client("kms", replicated.endpoint, region=REPLICA_REGION)
    other = kms.create_key(Description="someone else's")["KeyMetadata"]
    kms.update_alias(AliasName=replicated.alias, TargetKeyId=other["KeyId"])
    check = replica_checks(replicated, capsys)["replica.key-alias"]
    assert check["status"] == "FAIL"
    assert f"is key {other['Arn']}, not {replicated.replica_key_arn}" in check["reason"]
    assert "R6" in check["reason"]


def test_a_deleted_alias_fails(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    replicated = build_replicated(deploy(bucket_policy=False))
    harness_client("kms", replicated.endpoint, region=REPLICA_REGION).delete_alias(AliasName=replicated.alias)
    check = replica_checks(replicated, capsys)["replica.key-alias"]
    assert check["status"] == "FAIL"
    assert "DescribeKey: NotFoundException; S3 fails every replication under it" in check["reason"]


def test_a_rule_to_another_bucket_fails(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    replicated = build_replicated(deploy(bucket_policy=False))
    replicated.put_configuration(replica_bucket="somebody-elses-bucket")
    check = replica_checks(replicated, capsys)["replica.destination"]
    assert check["status"] == "FAIL"
    assert "replicates to arn:aws:s3:::somebody-elses-bucket, not to" in check["reason"]


def test_without_a_rule_the_destination_and_key_fail(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    checks = replica_checks(build_replicated(deploy(bucket_policy=False), rule=False), capsys)
    assert checks["replica.destination"]["status"] == "FAIL"
    assert checks["replica.key-alias"]["status"] == "FAIL"


def test_the_options_are_refused_where_they_cannot_work(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    deployment = deploy()
    assert_error(*run(deployment.argv("--replica"), capsys), "verify --replica reads the replica stack")
    stack = deployment.create_stack()
    argv = ["verify", "--stack-name", stack, "--endpoint-url", deployment.endpoint, "--replica"]
    assert_error(*run(argv, capsys), f"stack {stack} has no replica (no ReplicaStackName and ReplicaRegion outputs)")
    assert_error(*run([*argv, "--replica-sample", "0"], capsys), "--replica-sample must be 1..10000000, got 0")


# --- the judgement on its own: what moto cannot produce ---------------------------------------------------

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TARGET = ReplicaTarget("replica", REPLICA_REGION, "replica-bucket", "arn:key", PREFIX, None, None)


def test_a_migrate_copy_counts_by_its_provenance_and_as_the_oldest() -> None:
    oldest = Listed(f"{PREFIX}/a", "v1", T0)
    copy = Listed(f"{PREFIX}/a", "copy-of-v1", T0 + timedelta(days=30))
    evidence = VersionEvidence("primary", (oldest,), (copy,), False, copies={(copy.key, copy.version_id): "v1"})
    assert check_versions(evidence, TARGET).status is Status.PASS


def test_an_unread_copy_is_never_counted_either_way() -> None:
    """A replica version the HEAD budget did not reach is unsettled (WARN), not a copy and not a failure."""
    oldest = Listed(f"{PREFIX}/a", "v1", T0)
    unknown = Listed(f"{PREFIX}/a", "x", T0 + timedelta(days=1))
    check = check_versions(VersionEvidence("primary", (oldest,), (unknown,), False), TARGET)
    assert check.status is Status.WARN
    assert "1 replica versions of unknown origin not HEADed" in check.reason


def test_a_replica_listing_cut_by_its_cap_compares_only_what_it_listed(deploy: Deploy) -> None:
    """The replica's listing stops at its cap (2N + 1000 versions; 2 here): a primary key it never reached is not
    compared (WARN), never reported missing."""
    from recordings_kms.verify.replica_readers import gather_versions
    from tests.cli.conftest import s3_backend

    replicated = build_replicated(deploy(bucket_policy=False))
    replicated.put("z.tar", b"listed after the replica's cap")
    for n in range(5):  # recordings written to the replica during a failover, sorting before z.tar
        s3_backend().put_object(replicated.replica_bucket, f"{PREFIX}/failover-{n}.tar", b"x")
    s3 = harness_client("s3", replicated.endpoint)
    evidence = gather_versions(
        s3,
        s3,
        primary_bucket=replicated.primary.bucket,
        replica_bucket=replicated.replica_bucket,
        prefix=PREFIX,
        replica_cap=2,
    )
    check = check_versions(evidence, TARGET)
    assert (evidence.primary, evidence.truncated) == ((), True)
    assert check.status is Status.WARN, check
    uncut = gather_versions(
        s3, s3, primary_bucket=replicated.primary.bucket, replica_bucket=replicated.replica_bucket, prefix=PREFIX
    )
    assert check_versions(uncut, TARGET).status is Status.FAIL  # listed to the end: z.tar is missing


def test_the_replicas_own_key_and_bucket_are_verified_too(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    """The replica stack's key and bucket, judged like the primary's from its AccessDesign, under ``replica/``."""
    replicated = build_replicated(deploy(bucket_policy=False))
    _, out, _ = run(replicated.verify("--json"), capsys)
    checks = checks_of(out)
    assert checks["replica/bucket.versioning"]["status"] == "PASS"
    assert checks["replica/bucket.encryption.key"]["status"] == "PASS"
    # The stand-in replica key was made with moto's default policy and no rotation: both are found.
    assert checks["replica/key.rotation"]["status"] == "FAIL"
    assert checks["replica/access.P1"]["status"] == "FAIL"
    harness_client("kms", replicated.endpoint, region=REPLICA_REGION).enable_key_rotation(
        KeyId=replicated.replica_key_arn
    )
    _, out, _ = run(replicated.verify("--json"), capsys)
    assert checks_of(out)["replica/key.rotation"]["status"] == "PASS"
