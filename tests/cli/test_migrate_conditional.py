"""Conditional copies: no second version of a copy, whether a killed run's copy lands late or two runs race.

Every write `recordings-kms migrate` makes is conditional on the destination key's state it planned
for: ``If-None-Match: *`` when the key has no current version, ``If-Match: <ETag of the current
version>`` otherwise (S3 conditional writes,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html; botocore's
``IfNoneMatch`` and ``IfMatch`` parameters of CopyObject and CompleteMultipartUpload). S3's refusal
(412 PreconditionFailed, 409 ConditionalRequestConflict, 404 NoSuchKey for If-Match on a key without
a current version) makes migrate look at the key again, never resend.

What moto 5.2.5 enforces (read in ``moto/s3/responses.py``): PutObject honours both headers;
CompleteMultipartUpload honours ``If-None-Match: *`` only; CopyObject honours neither. So:

- botocore's Stubber pins the exact parameters of each request (CopyObject and
  CompleteMultipartUpload, both conditions) and what each refusal becomes;
- the race on CompleteMultipartUpload runs against moto's own enforcement;
- for CopyObject a thin WSGI layer in front of moto (``ConditionalCopyObject``) evaluates the two
  headers as S3 documents, records what every write carried, and can hold copies back the way S3
  is still completing a copy whose client was just killed: that reproduces the SIGKILL-and-resume
  duplicate deterministically.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from recordings_kms.migrate.command import main
from recordings_kms.migrate.copy import Copier, CopyConflictError, CopyError, CopySettings, MiB
from recordings_kms.migrate.model import Provenance, SourceVersion
from recordings_kms.migrate.verify import PartHasher, b64, composite_checksum
from tests.cli.conftest import MIGRATE_FIXTURES, World, make_world, s3_backend

pytestmark = pytest.mark.usefixtures(*MIGRATE_FIXTURES)
REPO = Path(__file__).resolve().parents[2]
KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SMALL_PARTS = CopySettings(multipart_threshold=6 * MiB, part_size=5 * MiB)
T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


# --- each request, as botocore sends it (Stubber) --------------------------------------------------


def source_version(data: bytes, version_id: str = "v0") -> SourceVersion:
    return SourceVersion("teleport/a.tar", version_id, len(data), '"source-etag"', T0, "STANDARD")


def stubbed_copier(settings: CopySettings | None = None) -> tuple[Any, Copier]:
    s3 = boto3.client("s3", region_name="eu-west-1")
    copier = Copier(
        s3,
        source_bucket="legacy",
        destination_bucket="recordings",
        key_arn=KEY,
        settings=settings or CopySettings(),
        stop=threading.Event(),
    )
    return s3, copier


def expect_read(stub: Stubber, data: bytes) -> None:
    stub.add_response(
        "get_object",
        {"Body": StreamingBody(io.BytesIO(data), len(data)), "ETag": '"source-etag"', "ContentLength": len(data)},
        {"Bucket": "legacy", "Key": "teleport/a.tar", "VersionId": "v0", "ChecksumMode": "ENABLED"},
    )


def copy_params(condition: dict[str, str]) -> dict[str, Any]:
    """CopyObject's parameters exactly (Stubber compares the whole set: no other condition may ride along)."""
    return {
        "Bucket": "recordings",
        "Key": "records/a.tar",
        "CopySource": {"Bucket": "legacy", "Key": "teleport/a.tar", "VersionId": "v0"},
        "CopySourceIfMatch": '"source-etag"',
        "MetadataDirective": "REPLACE",
        "Metadata": ANY,
        "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": KEY,
        "ChecksumAlgorithm": "SHA256",
        **condition,
    }


CONDITIONS = [(None, {"IfNoneMatch": "*"}), ('"etag-of-the-copy-before"', {"IfMatch": '"etag-of-the-copy-before"'})]


@pytest.mark.parametrize(("current_etag", "condition"), CONDITIONS, ids=["no current version", "a current version"])
def test_copy_object_is_conditional_on_the_planned_state(current_etag: str | None, condition: dict[str, str]) -> None:
    data = b"a recording"
    s3, copier = stubbed_copier()
    with Stubber(s3) as stub:
        expect_read(stub, data)
        stub.add_response(
            "copy_object",
            {
                "VersionId": "d0",
                "ServerSideEncryption": "aws:kms",
                "SSEKMSKeyId": KEY,
                "CopyObjectResult": {"ETag": '"copy-etag"', "LastModified": T0, "ChecksumSHA256": b64(sha256(data))},
            },
            copy_params(condition),
        )
        copied = copier.copy(source_version(data), "records/a.tar", current_etag)
        stub.assert_no_pending_responses()
    assert (copied.destination_version_id, copied.etag) == ("d0", '"copy-etag"')


@pytest.mark.parametrize(
    ("current_etag", "code", "status", "conflict"),
    [
        (None, "PreconditionFailed", 412, True),
        ('"etag"', "PreconditionFailed", 412, True),
        (None, "ConditionalRequestConflict", 409, True),
        ('"etag"', "NoSuchKey", 404, True),  # If-Match on a key whose current version is gone
        (None, "NoSuchKey", 404, False),  # without If-Match it is the source that is gone
    ],
)
def test_a_refused_copy_object_is_a_conflict_never_resent(
    current_etag: str | None, code: str, status: int, conflict: bool
) -> None:
    data = b"a recording"
    s3, copier = stubbed_copier()
    condition = {"IfNoneMatch": "*"} if current_etag is None else {"IfMatch": current_etag}
    with Stubber(s3) as stub:
        expect_read(stub, data)
        stub.add_client_error("copy_object", code, "refused", status, expected_params=copy_params(condition))
        with pytest.raises(CopyError) as raised:
            copier.copy(source_version(data), "records/a.tar", current_etag)
        stub.assert_no_pending_responses()  # one CopyObject: nothing was sent again
    assert isinstance(raised.value, CopyConflictError) is conflict
    if conflict:
        assert raised.value.reason.startswith(f"S3 refused the copy (CopyObject: {code}): the destination key no")
    else:
        assert "no longer exists (deleted since it was listed)" in raised.value.reason


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def expect_parts(stub: Stubber, data: bytes) -> None:
    """CreateMultipartUpload and UploadPartCopy: S3 accepts no condition on them (its user guide says so)."""
    stub.add_response(
        "create_multipart_upload",
        {"UploadId": "upload-1"},
        {
            "Bucket": "recordings",
            "Key": "records/a.tar",
            "Metadata": ANY,
            "ServerSideEncryption": "aws:kms",
            "SSEKMSKeyId": KEY,
            "ChecksumAlgorithm": "SHA256",
        },
    )
    for number, (first, last) in enumerate([(0, 5 * MiB - 1), (5 * MiB, len(data) - 1)], start=1):
        stub.add_response(
            "upload_part_copy",
            {"CopyPartResult": {"ETag": f'"part-{number}"'}},
            {
                "Bucket": "recordings",
                "Key": "records/a.tar",
                "UploadId": "upload-1",
                "PartNumber": number,
                "CopySource": {"Bucket": "legacy", "Key": "teleport/a.tar", "VersionId": "v0"},
                "CopySourceRange": f"bytes={first}-{last}",
                "CopySourceIfMatch": '"source-etag"',
            },
        )


def complete_params(condition: dict[str, str]) -> dict[str, Any]:
    return {
        "Bucket": "recordings",
        "Key": "records/a.tar",
        "UploadId": "upload-1",
        "MultipartUpload": ANY,
        **condition,
    }


@pytest.mark.parametrize(("current_etag", "condition"), CONDITIONS, ids=["no current version", "a current version"])
def test_complete_multipart_upload_is_conditional_on_the_planned_state(
    current_etag: str | None, condition: dict[str, str]
) -> None:
    data = b"\x01" * (6 * MiB + 1)
    hasher = PartHasher(5 * MiB)
    hasher.update(data)
    hasher.finish()
    composite = composite_checksum(hasher.part_digests)
    provenance = Provenance.of(
        source_version(data), source_bucket="legacy", sha256_hex=hasher.sha256.hex(), checksum=composite
    )
    s3, copier = stubbed_copier(SMALL_PARTS)
    with Stubber(s3) as stub:
        expect_read(stub, data)
        expect_parts(stub, data)
        stub.add_response(
            "complete_multipart_upload", {"VersionId": "d1", "ETag": '"multipart-etag"'}, complete_params(condition)
        )
        stub.add_response(
            "head_object",
            {
                "Metadata": provenance.to_metadata(),
                "ServerSideEncryption": "aws:kms",
                "SSEKMSKeyId": KEY,
                "ChecksumSHA256": composite,
                "ContentLength": len(data),
                "LastModified": T0,
                "ETag": '"multipart-etag"',
            },
            {"Bucket": "recordings", "Key": "records/a.tar", "VersionId": "d1", "ChecksumMode": "ENABLED"},
        )
        copied = copier.copy(source_version(data), "records/a.tar", current_etag)
        stub.assert_no_pending_responses()
    assert (copied.multipart, copied.etag) == (True, '"multipart-etag"')


@pytest.mark.parametrize("aborted", [True, False], ids=["upload aborted", "abort refused"])
def test_a_refused_completion_aborts_the_upload(aborted: bool) -> None:
    """Aborted, the refusal is a conflict (the key is looked at again). An upload that cannot be aborted is
    reported with the refusal instead: looked at again, it would drop out of view, and Teleport's upload
    completer could finish it later into a second version after all."""
    data = b"\x02" * (6 * MiB + 1)
    s3, copier = stubbed_copier(SMALL_PARTS)
    abort = {"Bucket": "recordings", "Key": "records/a.tar", "UploadId": "upload-1"}
    with Stubber(s3) as stub:
        expect_read(stub, data)
        expect_parts(stub, data)
        stub.add_client_error(
            "complete_multipart_upload",
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
            412,
            expected_params=complete_params({"IfNoneMatch": "*"}),
        )
        if aborted:
            stub.add_response("abort_multipart_upload", {}, abort)
        else:
            stub.add_client_error("abort_multipart_upload", "AccessDenied", "Access Denied", 403, expected_params=abort)
        with pytest.raises(CopyError) as raised:
            copier.copy(source_version(data), "records/a.tar", None)
        stub.assert_no_pending_responses()
    assert isinstance(raised.value, CopyConflictError) is aborted
    assert "CompleteMultipartUpload: PreconditionFailed" in raised.value.reason
    assert ("the open upload upload-1 could not be aborted" in raised.value.reason) is not aborted


# --- against moto, with S3's evaluation of CopyObject's conditions in front of it --------------------


@dataclass(frozen=True)
class Write:
    """One conditional-capable write as the server received it."""

    operation: str
    key: str
    if_none_match: str | None
    if_match: str | None
    status: int


@dataclass
class ConditionalCopyObject:
    """WSGI layer in front of moto's app: CopyObject's If-None-Match and If-Match, evaluated as S3 does.

    ``If-None-Match: *`` fails (412) when the key has a current version (a delete marker on top is
    none); ``If-Match: E`` fails when the current version's ETag is not ``E`` (404 NoSuchKey when it
    has none). The check and the write happen under one lock, one step as on S3. Requests without
    these headers pass unchanged. Also: every CopyObject and CompleteMultipartUpload is recorded
    (``writes``); ``hold()`` keeps CopyObject requests waiting, received but not carried out (a copy
    S3 is still completing), until ``release_after_listing(bucket)`` lets them land as soon as a
    listing of that bucket has been answered, ahead of any CopyObject that arrives after them;
    ``before_complete`` runs before each CompleteMultipartUpload reaches moto.
    """

    app: Callable[..., Iterable[bytes]]
    writes: list[Write] = field(default_factory=list)
    before_complete: Callable[[str], None] | None = None
    held: int = 0
    landed_held: int = 0
    #: CopyObject requests past the gate (not held) and not yet answered.
    passing: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _state: threading.Condition = field(default_factory=threading.Condition)
    _holding: bool = False
    _release_on_listing: str | None = None

    def hold(self) -> None:
        with self._state:
            self._holding = True

    def release_after_listing(self, bucket: str) -> None:
        with self._state:
            self._release_on_listing = bucket

    def wait_for_held(self, count: int, timeout: float = 30) -> None:
        with self._state:
            assert self._state.wait_for(lambda: self.held >= count, timeout), "no copy was held back"

    def wait_until_idle(self, timeout: float = 30) -> None:
        """Until every CopyObject that got past the gate has been answered (the held ones still wait)."""
        with self._state:
            assert self._state.wait_for(lambda: self.passing == 0, timeout), "a copy did not finish"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        bucket, _, key = environ.get("PATH_INFO", "").lstrip("/").partition("/")  # path style, decoded already
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        method = environ["REQUEST_METHOD"]
        if method == "PUT" and "HTTP_X_AMZ_COPY_SOURCE" in environ and "uploadId" not in query:
            return self._copy_object(environ, start_response, bucket, key)
        if method == "POST" and "uploadId" in query:
            if self.before_complete is not None:
                self.before_complete(key)
            return self._recorded("CompleteMultipartUpload", environ, start_response, key)
        answer = self.app(environ, start_response)
        if method == "GET" and "versions" in query:
            with self._state:
                if self._release_on_listing == bucket and self._holding:
                    self._holding = False
                    self._state.notify_all()
        return answer

    def _copy_object(
        self, environ: dict[str, Any], start_response: Callable[..., Any], bucket: str, key: str
    ) -> Iterable[bytes]:
        with self._state:
            was_held = self._holding
            if was_held:
                self.held += 1
                self._state.notify_all()
                self._state.wait_for(lambda: not self._holding)
            else:  # copies sent after held ones reach S3 after them
                self._state.wait_for(lambda: self.landed_held == self.held)
                self.passing += 1
        try:
            with self._lock:
                refusal = self._refusal(environ, bucket, key)
                if refusal is not None:
                    status, code = refusal
                    self._record("CopyObject", environ, key, status)
                    return self._error(start_response, status, code)
                return self._recorded("CopyObject", environ, start_response, key)
        finally:
            with self._state:
                if was_held:
                    self.landed_held += 1
                else:
                    self.passing -= 1
                self._state.notify_all()

    def _refusal(self, environ: dict[str, Any], bucket: str, key: str) -> tuple[int, str] | None:
        from moto.s3.models import FakeKey

        store = s3_backend().get_bucket(bucket).keys
        current = store.get(key)
        current = current if isinstance(current, FakeKey) else None  # a delete marker on top: no current version
        if environ.get("HTTP_IF_NONE_MATCH") == "*" and current is not None:
            return 412, "PreconditionFailed"
        if_match = environ.get("HTTP_IF_MATCH")
        if if_match is not None:
            if current is None:
                return 404, "NoSuchKey"
            if if_match.strip('"') != current.etag.strip('"'):
                return 412, "PreconditionFailed"
        return None

    def _record(self, operation: str, environ: dict[str, Any], key: str, status: int) -> None:
        self.writes.append(
            Write(operation, key, environ.get("HTTP_IF_NONE_MATCH"), environ.get("HTTP_IF_MATCH"), status)
        )

    def _recorded(
        self, operation: str, environ: dict[str, Any], start_response: Callable[..., Any], key: str
    ) -> Iterable[bytes]:
        statuses: list[int] = []

        def recording_start_response(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            statuses.append(int(status.split()[0]))
            return start_response(status, headers, *args)

        answer = list(self.app(environ, recording_start_response))
        self._record(operation, environ, key, statuses[0])
        return answer

    @staticmethod
    def _error(start_response: Callable[..., Any], status: int, code: str) -> list[bytes]:
        reason = {412: "Precondition Failed", 404: "Not Found"}[status]
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>At least one of the '
            f"pre-conditions you specified did not hold</Message><RequestId>conditional</RequestId></Error>"
        ).encode()
        start_response(f"{status} {reason}", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
        return [body]


@pytest.fixture(scope="module")
def conditional_server(moto_endpoint: str) -> Iterator[tuple[str, ConditionalCopyObject]]:
    """A second HTTP front for the same moto backends (this process's), with ``ConditionalCopyObject`` in it.

    It depends on ``moto_endpoint`` for the routing cache that fixture keeps while it runs.
    """
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    layer = ConditionalCopyObject(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, layer, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", layer
    server.shutdown()


@pytest.fixture
def conditional(conditional_server: tuple[str, ConditionalCopyObject]) -> Iterator[ConditionalCopyObject]:
    layer = conditional_server[1]
    yield layer
    layer.writes.clear()
    layer.before_complete = None
    layer.held = layer.landed_held = layer.passing = 0
    layer._holding, layer._release_on_listing = False, None


@pytest.fixture
def cworld(conditional_server: tuple[str, ConditionalCopyObject], migrate_aws_env: None) -> World:
    return make_world(conditional_server[0])


def run_json(world: World, capsys: pytest.CaptureFixture[str], *extra: str, **kwargs: Any) -> tuple[int, Any]:
    code = main(world.argv("--json", *extra), **kwargs)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, json.loads(captured.out)


def destination_etags(world: World, key: str) -> list[str]:
    """The ETags of a destination key's versions, oldest first, without quotes."""
    return [v.etag.strip('"') for v in world.versions(world.destination)[key]]


def unquoted(value: str | None) -> str | None:
    return None if value is None else value.strip('"')


def test_every_write_carries_the_condition_it_was_planned_for(
    cworld: World, conditional: ConditionalCopyObject, capsys: pytest.CaptureFixture[str]
) -> None:
    """As received over HTTP: If-None-Match: * first; then If-Match, the ETag of the copy before (or the listed one)."""
    cworld.seed("teleport/resumed.tar", b"copied by an earlier run")
    assert run_json(cworld, capsys)[0] == 0
    cworld.seed("teleport/resumed.tar", b"a newer version, after that run")
    cworld.seed("teleport/fresh.tar", b"first", b"second", b"third")
    cworld.seed("teleport/big.tar", b"\x03" * (6 * MiB + 1))
    conditional.writes.clear()

    code, document = run_json(cworld, capsys, settings=SMALL_PARTS)
    assert (code, document["counts"]["copied"]) == (0, 5), document
    by_key: dict[str, list[tuple[str, str | None, str | None]]] = {}
    for write in conditional.writes:
        by_key.setdefault(write.key, []).append((write.operation, write.if_none_match, unquoted(write.if_match)))
    fresh = destination_etags(cworld, "records/fresh.tar")
    assert by_key["records/fresh.tar"] == [
        ("CopyObject", "*", None),
        ("CopyObject", None, fresh[0]),
        ("CopyObject", None, fresh[1]),
    ]
    resumed = destination_etags(cworld, "records/resumed.tar")
    assert by_key["records/resumed.tar"] == [("CopyObject", None, resumed[0])]
    assert by_key["records/big.tar"] == [("CompleteMultipartUpload", "*", None)]
    assert all(write.status == 200 for write in conditional.writes)


def versions_of(world: World, bucket: str, key: str) -> list[SourceVersion]:
    listed = world.s3.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]
    return [
        SourceVersion(v["Key"], v["VersionId"], v["Size"], v["ETag"], v["LastModified"], v["StorageClass"])
        for v in reversed(listed)
        if v["Key"] == key
    ]


def test_a_completion_racing_another_writer_is_refused_by_moto_and_found_copied(
    cworld: World, conditional: ConditionalCopyObject, capsys: pytest.CaptureFixture[str]
) -> None:
    """moto enforces If-None-Match on CompleteMultipartUpload: the other writer's copy stays the only version.

    Just before migrate completes its upload, another writer (a second run) lands a verified copy of
    the same version. moto refuses the completion (412); migrate aborts its upload, looks at the key
    again, finds the verified copy and counts it as found, not copied.
    """
    cworld.seed("teleport/big.tar", b"\x04" * (6 * MiB + 1))
    (version,) = versions_of(cworld, cworld.source, "teleport/big.tar")
    other_writer = Copier(
        cworld.s3,
        source_bucket=cworld.source,
        destination_bucket=cworld.destination,
        key_arn=cworld.key_arn,
        settings=CopySettings(),
        stop=threading.Event(),
    )
    landed: list[str] = []

    def another_run_lands_first(key: str) -> None:
        if not landed:
            landed.append(other_writer.copy(version, key, None).destination_version_id)

    conditional.before_complete = another_run_lands_first
    code, document = run_json(cworld, capsys, settings=SMALL_PARTS)
    assert code == 0, document
    copies = cworld.versions(cworld.destination)["records/big.tar"]
    assert [c.version_id for c in copies] == landed, "the other writer's copy must stay the only version"
    completions = [w for w in conditional.writes if w.operation == "CompleteMultipartUpload"]
    assert [(w.if_none_match, w.status) for w in completions] == [("*", 412)]
    assert (document["counts"]["copied"], document["counts"]["found_copied"]) == (0, 1)
    assert [v["source_version_id"] for v in document["found_copied"]] == [version.version_id]
    assert cworld.s3.list_multipart_uploads(Bucket=cworld.destination).get("Uploads", []) == []


def cli(argv: list[str], **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "recordings_kms.migrate", *argv], cwd=REPO, text=True, **kwargs)


def test_killed_with_copies_in_flight_and_resumed_at_once_leaves_no_second_version(
    cworld: World, conditional: ConditionalCopyObject, capsys: pytest.CaptureFixture[str]
) -> None:
    """The reported duplicate: SIGKILL while copies are in flight; they land after the resumed run has listed.

    The copies the killed run had sent are held in the server (received, not carried out) and land
    right after the resumed run's destination listing, ahead of its own copies. Each of the resumed
    run's copies of those versions is refused (its If-None-Match or If-Match no longer holds); it
    looks at the key again, finds the landed copy verified, and goes on from there.
    """
    for i in range(60):
        cworld.seed(f"teleport/{i:03d}.tar", f"session {i}\n".encode())
    for i in range(60, 80):
        cworld.seed(f"teleport/{i:03d}.tar", f"session {i}, first\n".encode(), f"session {i}, second\n".encode())
    total = 60 + 2 * 20

    first = cli(cworld.argv("--concurrency", "4"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while cworld.destination_version_count() < 20:
        assert first.poll() is None, "the first run ended before it was killed"
        assert time.monotonic() < deadline, "fewer than 20 copies in 60 s"
        time.sleep(0.01)
    conditional.hold()
    conditional.wait_for_held(1)
    first.kill()
    first.wait()
    conditional.wait_until_idle()
    landed_before = cworld.destination_version_count()
    conditional.release_after_listing(cworld.destination)

    code, document = run_json(cworld, capsys)
    counts = document["counts"]
    assert code == 0, document
    assert cworld.destination_version_count() == total, "a copy that landed late was copied again"
    assert conditional.held == conditional.landed_held >= 1
    assert counts["already_copied"] == landed_before
    # Each held copy is found; so would be one the server accepted only after the listing (it lands late too).
    assert counts["found_copied"] >= conditional.held
    assert counts["already_copied"] + counts["found_copied"] + counts["copied"] == total
    refused = [w for w in conditional.writes if w.status != 200]
    assert len(refused) == counts["found_copied"]  # one refused copy per late copy, and nothing resent

    code, document = run_json(cworld, capsys)
    assert (code, document["counts"]["copied"], document["counts"]["already_copied"]) == (0, 0, total)
    for key, versions in cworld.versions(cworld.destination).items():
        source_key = "teleport/" + key.removeprefix("records/")
        assert [v.value for v in versions] == cworld.seeded[source_key], key
        seconds = [int(v.last_modified.timestamp()) for v in versions]
        assert seconds == sorted(set(seconds)), f"{key}: two copies in one second, or out of order"
