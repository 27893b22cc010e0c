"""A moto server on 127.0.0.1 for the verify and migrate tests, and AWS settings that reach nothing else.

The migrate modules take ``migrate_aws_env`` and ``botocore_models_parsed_once`` through
``pytestmark`` (``MIGRATE_FIXTURES``); the verify modules take ``aws_env`` and
``botocore_models_parsed_once`` (``VERIFY_FIXTURES``) and build deployments with ``deploy``.

The command under test talks HTTP to the server (``--endpoint-url``) with boto3 unchanged. The
tests SEED the source through moto's in-process backend (the server runs in this process and
shares it): thousands of versions in milliseconds instead of seconds of PUTs. What migrate reads
and writes still goes through HTTP.

moto 5.2.5 lists its own package directory on every request to route it (``list_of_moto_modules``);
caching that list here roughly halves the server's time per request. It also makes an RSA-2048
private key for every KMS key it creates, symmetric ones included (``moto.kms.utils.
generate_private_key``, for Sign/Verify), about 80 ms of CPU each and a third of the server's time
in the verify modules; here each key spec gets one key pair, shared by the keys of that spec (the
commands under test never sign). Neither changes what moto answers to this package, only how fast.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.cli.deployment import Deployment, build_deployment

ACCOUNT = "123456789012"  # moto's default account
REGION = "eu-west-1"
#: What every migrate test module uses: ``pytestmark = pytest.mark.usefixtures(*MIGRATE_FIXTURES)``.
MIGRATE_FIXTURES = ("migrate_aws_env", "botocore_models_parsed_once")
#: What every module running verify against moto uses.
VERIFY_FIXTURES = ("aws_env", "botocore_models_parsed_once")
#: The one long test (versions over two listing pages, three runs): it goes first, followed by the tests without moto.
LONG_TEST = "test_versions_over_several_listing_pages_killed_half_way_resume_then_nothing_left"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the migrate tests: the long one, then the pure ones, then the other moto tests.

    With ``-n 2`` pytest-xdist hands each worker its first tests as one chunk (an eighth of the
    suite). When the chunk that starts with the long test holds only millisecond tests, the moto
    tests all go to the other worker instead of queueing behind it. Other tests keep their places.
    """
    here = [
        i
        for i, item in enumerate(items)
        if item.path.parent == Path(__file__).parent and item.path.name.startswith("test_migrate")
    ]

    def rank(item: pytest.Item) -> int:
        if item.name == LONG_TEST:
            return 0
        return 1 if item.path.name == "test_migrate_units.py" else 2

    ordered = sorted((items[i] for i in here), key=rank)
    for position, item in zip(here, ordered, strict=True):
        items[position] = item


@contextmanager
def _moto_module_list_cached() -> Iterator[None]:
    import moto.backends

    original = moto.backends.list_of_moto_modules
    modules = tuple(original())
    moto.backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]
    try:
        yield
    finally:
        moto.backends.list_of_moto_modules = original  # type: ignore[assignment]


@contextmanager
def _moto_key_pairs_cached() -> Iterator[None]:
    import moto.kms.models

    original = moto.kms.models.generate_private_key
    moto.kms.models.generate_private_key = functools.cache(original)
    try:
        yield
    finally:
        moto.kms.models.generate_private_key = original


@pytest.fixture(scope="package")
def botocore_models_parsed_once() -> Iterator[None]:
    """Share botocore's parsed model files between the sessions the command creates in this process.

    ``aws.make_clients`` starts a new boto3 session on every run (right for a CLI: one run per
    process), and each new session parses endpoints.json and the service models again, about
    0.3 s of CPU. The tests run the command dozens of times in one process; the loader is a cache
    of those files, so sharing it changes no answer, only the time.
    """
    import botocore.session

    original = botocore.session.create_loader
    botocore.session.create_loader = functools.cache(original)  # type: ignore[assignment]
    yield
    botocore.session.create_loader = original  # type: ignore[assignment]


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with _moto_module_list_cached(), _moto_key_pairs_cached():
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
        server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Test credentials only: no profile, no config file, no instance metadata lookups."""
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def migrate_aws_env(aws_env: None) -> None:
    """The migrate modules' name for ``aws_env``."""


@pytest.fixture
def deploy(moto_endpoint: str, aws_env: None) -> Callable[..., Deployment]:
    """Build the design's key, bucket and auth role on the moto server (``build_deployment``'s options)."""

    def build(**options: Any) -> Deployment:
        return build_deployment(moto_endpoint, **options)

    return build


def s3_backend() -> Any:
    from moto.s3.models import s3_backends

    return s3_backends[ACCOUNT]["aws"]


@dataclass
class World:
    """A source bucket under SSE-S3 (legacy recordings), a versioned recordings bucket and a key."""

    endpoint: str
    source: str
    destination: str
    key_arn: str
    key_id: str
    s3: Any
    kms: Any
    source_prefix: str = "teleport"
    prefix: str = "records"
    seeded: dict[str, list[bytes]] = field(default_factory=dict)

    def argv(self, *extra: str) -> list[str]:
        return [
            "migrate",
            "--source-bucket",
            self.source,
            "--source-prefix",
            self.source_prefix,
            "--bucket",
            self.destination,
            "--key",
            self.key_arn,
            "--endpoint-url",
            self.endpoint,
            *extra,
        ]

    def seed(self, key: str, *bodies: bytes, storage: str | None = None) -> None:
        """Write versions of a source key, oldest first, through moto's backend (the source's SSE-S3 applies)."""
        backend = s3_backend()
        for body in bodies:
            backend.put_object(self.source, key, body, storage=storage)
        self.seeded.setdefault(key, []).extend(bodies)

    def destination_version_count(self) -> int:
        """Versions in the recordings bucket, read from the backend (cheap enough to poll)."""
        bucket = s3_backend().get_bucket(self.destination)
        for _ in range(100):
            try:
                return sum(len(versions) for _, versions in list(bucket.keys.iterlists()))
            except RuntimeError:  # the server changed the dict while we counted: count again
                continue
        raise RuntimeError("could not count the destination's versions")

    def versions(self, bucket: str) -> dict[str, list[Any]]:
        """moto's records of every version (``FakeKey``: ``.value``, ``.encryption``, ``.kms_key_id``, ``.metadata``,
        ``.last_modified``) by key, oldest first; delete markers left out."""
        from moto.s3.models import FakeKey

        store = s3_backend().get_bucket(bucket).keys
        found = {key: [v for v in versions if isinstance(v, FakeKey)] for key, versions in list(store.iterlists())}
        return {key: versions for key, versions in found.items() if versions}

    def delete_markers(self, bucket: str) -> list[tuple[str, str]]:
        from moto.s3.models import FakeDeleteMarker

        store = s3_backend().get_bucket(bucket).keys
        return [
            (key, v.version_id)
            for key, versions in list(store.iterlists())
            for v in versions
            if isinstance(v, FakeDeleteMarker)
        ]


def make_world(endpoint: str, *, source_encryption: str = "AES256") -> World:
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
    kms = boto3.client("kms", endpoint_url=endpoint, region_name=REGION)
    suffix = uuid.uuid4().hex[:12]
    source, destination = f"legacy-recordings-{suffix}", f"teleport-recordings-{suffix}"
    key = kms.create_key(Description="recordings")["KeyMetadata"]
    for bucket in (source, destination):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=source,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": source_encryption}}]
        },
    )
    s3.put_bucket_encryption(
        Bucket=destination,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]},
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    return World(endpoint, source, destination, key["Arn"], key["KeyId"], s3, kms)


@pytest.fixture
def world(moto_endpoint: str, migrate_aws_env: None) -> World:
    return make_world(moto_endpoint)


def deny_get(world: World, key: str) -> None:
    """A source bucket policy that denies reading one object (moto enforces unconditional Deny on GetObject)."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{world.source}/{key}",
            },
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{world.source}", f"arn:aws:s3:::{world.source}/*"],
            },
        ],
    }
    world.s3.put_bucket_policy(Bucket=world.source, Policy=json.dumps(policy))
