"""`recordings-kms migrate` when it cannot run: exit 2 and one line on stderr naming the problem, no traceback."""

from __future__ import annotations

import json
import socket

import pytest

from recordings_kms.migrate.command import main
from tests.cli.conftest import MIGRATE_FIXTURES, World

pytestmark = pytest.mark.usefixtures(*MIGRATE_FIXTURES)
KEY_ARN_EXAMPLE = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_error(result: tuple[int, str, str], fragment: str) -> None:
    code, out, err = result
    assert code == 2, out + err
    assert "Traceback" not in err
    assert err.startswith("recordings-kms: error: ")
    assert len(err.strip().splitlines()) == 1, err
    assert fragment in err, err


def offline_argv(*extra: str) -> list[str]:
    """Arguments for errors raised before any AWS call."""
    return ["migrate", "--source-bucket", "legacy", "--bucket", "recordings", "--key", KEY_ARN_EXAMPLE, *extra]


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--concurrency", "0"], "--concurrency must be 1..256, got 0"),
        (["--concurrency", "257"], "--concurrency must be 1..256, got 257"),
        (["--stack-name", "recordings"], "use --stack-name, or --bucket and --key, not both"),
        (["--prefix", "records/../other"], "'--prefix' must be a key prefix without '.' or '..' segments"),
        (["--prefix", "rec*"], "'--prefix' must be 1-512 characters"),
        (["--endpoint-url", "127.0.0.1:5000"], "must be an http:// or https:// URL with a host"),
    ],
)
def test_unusable_options(extra: list[str], fragment: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert_error(run(offline_argv(*extra), capsys), fragment)


def test_needs_a_destination(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["migrate", "--source-bucket", "legacy", "--bucket", "recordings"]
    assert_error(run(argv, capsys), "needs --stack-name, or both --bucket and --key")


@pytest.mark.parametrize("bucket", ["s3://legacy", "arn:aws:s3:::legacy", "two words"])
def test_bucket_given_as_url_or_arn(bucket: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["migrate", "--source-bucket", bucket, "--bucket", "recordings", "--key", KEY_ARN_EXAMPLE, "--json"]
    code, out, err = run(argv, capsys)
    assert_error((code, out, err), f"--source-bucket {bucket!r} is not an S3 bucket name")
    assert json.loads(out) == {"ok": False, "error": err.strip().removeprefix("recordings-kms: error: ")}


def test_unreachable_endpoint(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert_error(
        run(offline_argv("--endpoint-url", f"http://127.0.0.1:{port}"), capsys), "cannot reach the kms endpoint"
    )


def test_missing_source_bucket(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    argv = world.argv()
    argv[argv.index(world.source)] = "no-such-legacy-bucket"
    assert_error(run(argv, capsys), "bucket s3://no-such-legacy-bucket/teleport/ does not exist")


def test_missing_recordings_bucket(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    argv = world.argv()
    argv[argv.index(world.destination)] = "no-such-recordings-bucket"
    assert_error(run(argv, capsys), "bucket no-such-recordings-bucket does not exist (S3 GetBucketVersioning")


def test_missing_key(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    argv = world.argv()
    missing = world.key_arn.rsplit("/", 1)[0] + "/00000000-0000-4000-8000-000000000000"
    argv[argv.index(world.key_arn)] = missing
    assert_error(run(argv, capsys), f"KMS key {missing} not found in this region")


def test_disabled_key(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.kms.disable_key(KeyId=world.key_id)
    assert_error(run(world.argv(), capsys), f"key {world.key_arn} is Disabled: S3 cannot encrypt with it")


def test_key_description_denied_names_the_permission(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """moto refuses DescribeKey to everyone once the key policy has a Deny statement (see docs/CLI.md)."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Principal": {"AWS": "arn:aws:iam::123456789012:role/Administrator"},
                "Action": "kms:*",
                "Resource": "*",
            },
        ],
    }
    world.kms.put_key_policy(KeyId=world.key_id, PolicyName="default", Policy=json.dumps(policy))
    assert_error(run(world.argv(), capsys), "migrate needs kms:DescribeKey on the recordings key")


def test_versioning_off_on_the_recordings_bucket(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.s3.put_bucket_versioning(Bucket=world.destination, VersioningConfiguration={"Status": "Suspended"})
    assert_error(run(world.argv(), capsys), f"versioning is suspended on the recordings bucket {world.destination}")


def test_overlapping_prefixes_in_one_bucket(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["migrate", "--source-bucket", world.destination, "--source-prefix", "records/old"]
    argv += ["--bucket", world.destination, "--key", world.key_arn, "--endpoint-url", world.endpoint]
    assert_error(run(argv, capsys), "overlap in one bucket")


# --- the recordings bucket's default encryption, checked before any copy ------------------------------------


def set_default_encryption(world: World, algorithm: str, key: str | None = None) -> None:
    default: dict[str, str] = {"SSEAlgorithm": algorithm}
    if key is not None:
        default["KMSMasterKeyID"] = key
    world.s3.put_bucket_encryption(
        Bucket=world.destination,
        ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": default}]},  # type: ignore[typeddict-item]
    )


@pytest.mark.parametrize("dry_run", [False, True], ids=["copy", "dry-run"])
def test_a_key_that_is_not_the_buckets_default_key_is_refused_before_any_copy(
    world: World, capsys: pytest.CaptureFixture[str], dry_run: bool
) -> None:
    """Every copy would be refused by the bucket policy on AWS (moto would store them under the wrong key): once."""
    world.seed("teleport/a.tar", b"recording")
    world.seed("teleport/b.tar", b"another", b"rewritten")
    other = world.kms.create_key(Description="not the recordings key")["KeyMetadata"]["Arn"]
    argv = world.argv("--dry-run") if dry_run else world.argv()
    argv[argv.index(world.key_arn)] = other
    assert_error(
        run(argv, capsys),
        f"--key {other} is {other}, but the recordings bucket {world.destination} encrypts by default with "
        f"{world.key_arn}: its bucket policy refuses copies under any other key; pass --key {world.key_arn}",
    )
    assert world.destination_version_count() == 0


@pytest.mark.parametrize(
    ("algorithm", "key", "fragment"),
    [
        ("AES256", None, "encrypts by default with AES256 (SSE-S3), not SSE-KMS under"),
        ("aws:kms", None, "encrypts by default with SSE-KMS under no named key (the AWS managed key aws/s3)"),
        ("aws:kms", "alias/aws/s3", "encrypts by default with alias/aws/s3, that is arn:aws:kms:"),
    ],
)
def test_a_bucket_not_encrypting_with_the_key_by_default_is_refused(
    world: World, capsys: pytest.CaptureFixture[str], algorithm: str, key: str | None, fragment: str
) -> None:
    world.seed("teleport/a.tar", b"recording")
    set_default_encryption(world, algorithm, key)
    assert_error(run(world.argv(), capsys), fragment)
    assert world.destination_version_count() == 0


def test_a_bucket_whose_default_encryption_cannot_be_read_is_refused(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """moto answers GetBucketEncryption with ServerSideEncryptionConfigurationNotFoundError once it is deleted."""
    world.seed("teleport/a.tar", b"recording")
    world.s3.delete_bucket_encryption(Bucket=world.destination)
    assert_error(run(world.argv(), capsys), f"the recordings bucket {world.destination} has no default encryption rule")
    assert world.destination_version_count() == 0


@pytest.mark.parametrize("form", ["key id", "alias name", "alias ARN"])
def test_the_default_key_may_be_named_by_id_or_alias(
    world: World, capsys: pytest.CaptureFixture[str], form: str
) -> None:
    """S3 accepts a key ID, an alias name or an alias ARN as the default key: each is resolved, then compared."""
    world.kms.create_alias(AliasName=f"alias/recordings-{world.key_id[:8]}", TargetKeyId=world.key_id)
    alias = f"alias/recordings-{world.key_id[:8]}"
    named = {
        "key id": world.key_id,
        "alias name": alias,
        "alias ARN": world.key_arn.replace(f"key/{world.key_id}", alias),
    }[form]
    set_default_encryption(world, "aws:kms", named)
    world.seed("teleport/a.tar", b"recording")
    code, out, err = run(world.argv(), capsys)
    assert code == 0, out + err
    assert world.destination_version_count() == 1


def test_an_alias_that_resolves_to_no_key_is_refused(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    set_default_encryption(world, "aws:kms", "alias/deleted-since")
    assert_error(
        run(world.argv(), capsys),
        f"cannot tell which key the recordings bucket {world.destination} encrypts with by default "
        "(alias/deleted-since): KMS key alias/deleted-since not found in this region",
    )


def test_access_denied_on_the_default_encryption_names_the_permission() -> None:
    """moto evaluates no IAM policy: botocore's Stubber gives S3's answer."""
    import boto3
    from botocore.stub import Stubber

    from recordings_kms import aws
    from recordings_kms.migrate.s3 import KeyTarget, require_default_encryption

    s3 = boto3.client("s3", region_name="eu-west-1")
    kms = boto3.client("kms", region_name="eu-west-1")
    with Stubber(s3) as stub:
        stub.add_client_error(
            "get_bucket_encryption", "AccessDenied", "Access Denied", 403, expected_params={"Bucket": "recordings"}
        )
        with pytest.raises(aws.AwsError) as raised:
            require_default_encryption(s3, kms, "recordings", KeyTarget(KEY_ARN_EXAMPLE, ""), named_as="--key x")
    assert str(raised.value) == (
        "cannot read the default encryption of the recordings bucket recordings: access denied: GetBucketEncryption "
        "on recordings: Access Denied; migrate needs s3:GetEncryptionConfiguration on the recordings bucket"
    )
