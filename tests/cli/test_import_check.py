"""``recordings-kms import-check`` against live buckets on the moto server: what adopting each one changes.

The phase 2 template is the default stack's committed snapshot (what ``existingBucket`` deploys after the
import), with the bucket renamed per test so that the tests share the moto server without colliding.
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any, cast

import boto3
import pytest

from recordings_kms.import_check.command import LiveBucket, Planned, findings
from tests.cli.conftest import REGION, VERIFY_FIXTURES
from tests.cli.deployment import assert_error, run
from tests.conftest import REPO

pytestmark = pytest.mark.usefixtures(*VERIFY_FIXTURES)

SNAPSHOT = REPO / "tests" / "stacks" / "__snapshots__" / "test_stack" / "test_default_stack_snapshot.json"
BUCKET_ID = "StorageBucketE81A0E79"


@pytest.fixture(scope="module")
def snapshot() -> dict[str, Any]:
    template: dict[str, Any] = json.loads(SNAPSHOT.read_text())
    return template


def _phase2(tmp_path: Path, snapshot: dict[str, Any]) -> tuple[str, Path]:
    """A bucket name of its own and the phase 2 template naming it."""
    name = f"adopt-{uuid.uuid4().hex[:12]}"
    template = copy.deepcopy(snapshot)
    template["Resources"][BUCKET_ID]["Properties"]["BucketName"] = name
    path = tmp_path / "phase2.json"
    path.write_text(json.dumps(template))
    return name, path


def _s3(endpoint: str, region: str = REGION) -> Any:
    return boto3.client("s3", region_name=region, endpoint_url=endpoint)


def _create(s3: Any, name: str, region: str = REGION) -> None:
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})


def _lines(out: str) -> list[tuple[str, str, str]]:
    """(kind, aspect, detail) of every finding line (every line but the summary)."""
    rows = out.splitlines()
    assert rows[-1].startswith("recordings-kms import-check: "), out
    found = []
    for row in rows[:-1]:
        kind, rest = row.split(maxsplit=1)
        aspect, detail = rest.split(": ", 1)
        found.append((kind, aspect, detail))
    return found


def test_a_bare_bucket_is_adopted_without_risk(
    moto_endpoint: str, tmp_path: Path, snapshot: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    name, template = _phase2(tmp_path, snapshot)
    _create(_s3(moto_endpoint), name)
    code, out, err = run(["import-check", "--new", str(template), "--endpoint-url", moto_endpoint], capsys)
    assert code == 0, out + err
    found = {aspect: (kind, detail) for kind, aspect, detail in _lines(out)}
    assert found["bucket policy"][0] == "ADD"
    assert "DenyPutWithOtherKmsKey" in found["bucket policy"][1]
    assert found["default encryption"][0] == "CHANGE"
    assert found["default encryption"][1].startswith("none -> ")  # moto: no default; AWS would say AES256
    assert "aws:kms under the stack's StorageKey7CE16CA6, Bucket Key on" in found["default encryption"][1]
    assert found["versioning"] == (
        "CHANGE",
        "never enabled -> Enabled (versions written before versioning keep version id null)",
    )
    assert found["lifecycle rules"] == ("ADD", "none -> AbortIncompleteRecordingUploads")
    assert found["access logging"] == (
        "CHANGE",
        "off -> to the stack's StorageBucketAccessLogsEC45E26E/recordings-bucket/",
    )
    assert "RISK" not in {kind for kind, _ in found.values()}
    assert out.splitlines()[-1] == f"recordings-kms import-check: {name}: no RISK line ({len(found)} findings)"


def test_what_phase_2_takes_away_is_a_risk(
    moto_endpoint: str, tmp_path: Path, snapshot: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """A bucket Teleport has written to for a while: a policy granting another account, SSE-S3, versioning
    suspended, an expiry rule, a replication rule that skips SSE-KMS objects, an upload still open."""
    name, template = _phase2(tmp_path, snapshot)
    s3 = _s3(moto_endpoint)
    _create(s3, name)
    reader = {
        "Sid": "AuditorsRead",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{name}/*",
    }
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [reader]}))
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"one", b"two"):
        s3.put_object(Bucket=name, Key="records/s1.tar", Body=body)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    s3.put_bucket_lifecycle_configuration(
        Bucket=name,
        LifecycleConfiguration={
            "Rules": [{"ID": "ExpireOld", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 90}}]
        },
    )
    replica = f"{name}-dr"
    _create(s3, replica)
    s3.put_bucket_versioning(Bucket=replica, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(
        Bucket=name,
        ReplicationConfiguration={
            "Role": "arn:aws:iam::123456789012:role/replication",
            "Rules": [
                {
                    "ID": "ToDr",
                    "Status": "Enabled",
                    "Priority": 1,
                    "Filter": {"Prefix": "records/"},
                    "DeleteMarkerReplication": {"Status": "Disabled"},
                    "Destination": {"Bucket": f"arn:aws:s3:::{replica}"},
                }
            ],
        },
    )
    s3.create_multipart_upload(Bucket=name, Key="records/live-session.tar")
    args = ["import-check", "--new", str(template), "--endpoint-url", moto_endpoint]
    code, out, err = run(args, capsys)
    assert code == 1, out + err
    found = _lines(out)
    risks = {aspect: detail for kind, aspect, detail in found if kind == "RISK"}
    assert set(risks) == {"bucket policy", "replication", "open multipart uploads"}, out
    assert risks["bucket policy"].startswith(
        'statement AuditorsRead allows {"AWS": "arn:aws:iam::444455556666:root"} "s3:GetObject": that access ends'
    )
    assert risks["replication"].startswith("rule ToDr stays, but replicates no SSE-KMS object")
    assert risks["open multipart uploads"].startswith("1 under 'records/' (records/live-session.tar)")
    kinds = {aspect: (kind, detail) for kind, aspect, detail in found if kind != "RISK"}
    assert kinds["bucket policy"] == (
        "REPLACE",
        "its 1 statements are replaced by the package's 6 (DenyInsecureTransport, DenyTlsBelow1dot2, "
        "DenyPutWithNonKmsEncryptionHeader, DenyPutWithOtherKmsKey, DenyPutAwsKmsWithoutKeyId, "
        "DenyPutWithCustomerProvidedKey)",
    )
    assert kinds["default encryption"][1].startswith("AES256 -> aws:kms under the stack's StorageKey7CE16CA6")
    assert kinds["objects written before"][1].startswith("2 versions under 'records/' keep the encryption")
    assert kinds["lifecycle rules"] == ("REPLACE", "ExpireOld -> AbortIncompleteRecordingUploads")
    assert kinds["versioning"][0] == "SAME"

    code, out, _ = run([*args, "--json"], capsys)
    report = json.loads(out)
    assert code == 1
    assert report["ok"] is False
    assert report["bucket"] == name
    assert sum(f["kind"] == "RISK" for f in report["findings"]) == 3


def test_acl_grants_that_ownership_enforcement_ends_are_risks(
    moto_endpoint: str, tmp_path: Path, snapshot: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    name, template = _phase2(tmp_path, snapshot)
    s3 = _s3(moto_endpoint)
    _create(s3, name)
    s3.put_bucket_acl(Bucket=name, ACL="public-read")
    code, out, _ = run(["import-check", "--new", str(template), "--endpoint-url", moto_endpoint], capsys)
    risks = [detail for kind, aspect, detail in _lines(out) if kind == "RISK" and aspect == "bucket ACL"]
    assert code == 1
    assert risks == [
        "grant of READ to http://acs.amazonaws.com/groups/global/AllUsers stops applying (BucketOwnerEnforced "
        "disables ACLs)"
    ]


def test_a_bucket_in_another_region_is_a_risk(
    moto_endpoint: str, tmp_path: Path, snapshot: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    name, template = _phase2(tmp_path, snapshot)
    _create(_s3(moto_endpoint, "eu-central-1"), name, "eu-central-1")
    code, out, _ = run(["import-check", "--new", str(template), "--endpoint-url", moto_endpoint], capsys)
    assert code == 1
    assert ("RISK", "region", f"the bucket is in eu-central-1, the stack deploys to {REGION}: the import fails") in (
        _lines(out)
    )


class _Denying:
    """An S3 client whose GetBucketPolicy is denied (as for a caller without s3:GetBucketPolicy)."""

    def __init__(self, s3: Any) -> None:
        self._s3 = s3

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s3, name)

    def get_bucket_policy(self, **_: Any) -> Any:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetBucketPolicy")


def test_what_cannot_be_read_is_a_risk_never_taken_as_absent(
    moto_endpoint: str, tmp_path: Path, snapshot: dict[str, Any]
) -> None:
    """Fail closed: a denied GetBucketPolicy is not "no policy" (which would read as ADD, and hide grants)."""
    name, _ = _phase2(tmp_path, snapshot)
    s3 = _s3(moto_endpoint)
    _create(s3, name)
    resource = snapshot["Resources"][BUCKET_ID]
    planned = Planned(logical_id=BUCKET_ID, name=name, properties=resource["Properties"], policy={"Statement": []})
    found = findings(LiveBucket(cast(Any, _Denying(s3)), name), planned, region=REGION, prefix="records/", pages=1)
    policy = [f for f in found if f.aspect == "bucket policy"]
    assert [f.kind for f in policy] == ["RISK"]
    assert policy[0].detail.startswith("could not read it, so it is not judged: access denied: GetBucketPolicy")
    assert {f.aspect for f in found} >= {"default encryption", "versioning", "object ownership"}  # the rest is read


def test_counts_are_bounded_by_pages(moto_endpoint: str, tmp_path: Path, snapshot: dict[str, Any]) -> None:
    """--pages bounds the listing (counted work, never time): beyond it the count is "at least"."""
    name, _ = _phase2(tmp_path, snapshot)
    s3 = _s3(moto_endpoint)
    _create(s3, name)
    for i in range(3):
        s3.put_object(Bucket=name, Key=f"records/s{i}.tar", Body=b"x")
    live = LiveBucket(s3, name)
    assert live.count("list_object_versions", "Versions", "records/", 5)[:2] == (3, False)
    # One version per page (moto pages ListObjectVersions as S3 does; not ListMultipartUploads).
    small = LiveBucket(cast(Any, _PagedBy(s3, 1)), name)
    total, more, first = small.count("list_object_versions", "Versions", "records/", 2)
    assert (total, more) == (2, True)
    assert [v["Key"] for v in first] == ["records/s0.tar", "records/s1.tar"]


class _PagedBy:
    """An S3 client whose paginators ask for ``size`` entries per page."""

    def __init__(self, s3: Any, size: int) -> None:
        self._s3, self._size = s3, size

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s3, name)

    def get_paginator(self, name: str) -> Any:
        paginator = self._s3.get_paginator(name)
        size = self._size

        class Sized:
            def paginate(self, **arguments: Any) -> Any:
                return paginator.paginate(**arguments, PaginationConfig={"PageSize": size})

        return Sized()


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--pages", "0"], "--pages must be a positive whole number, got 0"),
        (["--bucket", "not-in-it"], "--bucket not-in-it: not a bucket of the new template (its buckets: "),
        (["--bucket", "arn:aws:s3:::x"], "--bucket 'arn:aws:s3:::x' is not an S3 bucket name"),
        (["--region", "eu-wset-1"], "'--region' must be an AWS region name"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    moto_endpoint: str,
    tmp_path: Path,
    snapshot: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    fragment: str,
) -> None:
    _, template = _phase2(tmp_path, snapshot)
    argv = ["import-check", "--new", str(template), "--endpoint-url", moto_endpoint, *extra]
    assert_error(*run(argv, capsys), fragment)
