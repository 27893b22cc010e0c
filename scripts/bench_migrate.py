"""Benchmark: `recordings-kms migrate` against `aws s3 cp --recursive --sse aws:kms` on the same data, same server.

Both copy the same source prefix (one version per key, SSE-S3) into fresh versioned buckets under
the same KMS key, on one moto server in its own process, alternately, a few runs each. Each
command is timed as a user runs it (a new process: interpreter start-up included). migrate
verifies every copy (it reads each source version to hash it, then compares with S3's SHA-256 of
the copy); the AWS CLI verifies nothing. Prints the medians and the ratio (migrate / aws: below
1.00 means migrate was faster). Exits non-zero when a run fails or copies the wrong number of
objects; missing the speed goal is reported, not a failure.

The AWS CLI (awscli from PyPI, which pins its own botocore) is installed into a throwaway
virtualenv under .bench/ (reused by later runs), never into the project's environment.

    python scripts/bench_migrate.py [--objects 1000] [--runs 3] [--size 4096] [--latency-ms 0] [--concurrency N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final

import boto3
from botocore.config import Config

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / ".bench"
REGION: Final = "eu-west-1"
#: The AWS CLI and everything it installs, pinned (awscli 1.46 vendors its own botocore and s3transfer).
AWSCLI_PINS = (
    "awscli==1.46.2",
    "colorama==0.4.6",
    "docutils==0.19",
    "jmespath==1.1.0",
    "pyasn1==0.6.5",
    "python-dateutil==2.9.0.post0",
    "PyYAML==6.0.4",
    "rsa==4.7.2",
    "six==1.17.0",
    "urllib3==2.8.0",
)
#: A moto server in its own process. moto 5.2.5 lists its package directory on every request to
#: route it; caching that list speeds up the server for both commands alike. ``--latency-ms``
#: holds each request that long before moto answers it (sleeping, so other requests proceed), a
#: stand-in for S3's request latency: moto itself answers in about a millisecond of CPU, so
#: without it the benchmark counts requests more than it measures concurrency.
SERVER = """
import logging, sys, time
import moto.backends
modules = tuple(moto.backends.list_of_moto_modules())
moto.backends.list_of_moto_modules = lambda: modules
from moto.moto_server.threaded_moto_server import MotoRequestHandler
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server
logging.getLogger("werkzeug").setLevel(logging.ERROR)
latency = float(sys.argv[1]) / 1000
app = DomainDispatcherApplication(create_backend_app)
def delayed(environ, start_response):
    time.sleep(latency)
    return app(environ, start_response)
server = make_server("127.0.0.1", 0, delayed if latency else app, True, request_handler=MotoRequestHandler)
print(server.server_port, flush=True)
server.serve_forever()
"""


def awscli() -> Path:
    """The ``aws`` executable of the pinned throwaway virtualenv, created on first use."""
    venv = BENCH_DIR / ("awscli-" + AWSCLI_PINS[0].split("==")[1])
    aws = venv / "bin" / "aws"
    if not aws.exists():
        print(f"installing {AWSCLI_PINS[0]} into {venv.relative_to(REPO)} ...", flush=True)
        BENCH_DIR.mkdir(exist_ok=True)
        # Ignored by git, and so by ruff, whatever the repository's .gitignore says (as venv does on 3.13).
        (BENCH_DIR / ".gitignore").write_text("*\n")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                *AWSCLI_PINS,
            ],
            check=True,
        )
    return aws


def environment(config_dir: Path) -> dict[str, str]:
    """Test credentials, no profile or config file, no instance metadata: the same for both commands."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    dummy = "testing"  # moto accepts any credentials
    env.update(
        {
            "AWS_ACCESS_KEY_ID": dummy,
            "AWS_SECRET_ACCESS_KEY": dummy,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": str(config_dir / "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(config_dir / "no-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    return env


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, done


def count_objects(s3: Any, bucket: str) -> int:
    return sum(page.get("KeyCount", 0) for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket))


def new_destination(s3: Any, key_arn: str) -> str:
    bucket = f"bench-recordings-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return bucket


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size", type=int, default=4096, help="bytes per object")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="hold each request this long (default: 0)")
    parser.add_argument(
        "--concurrency", type=int, help="migrate's --concurrency (default: its own); the AWS CLI keeps its default"
    )
    options = parser.parse_args()
    aws = awscli()

    with tempfile.TemporaryDirectory() as tmp:
        env = environment(Path(tmp))
        os.environ.update(env)
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(options.latency_ms)], stdout=subprocess.PIPE, text=True, env=env
        )
        try:
            assert server.stdout is not None
            endpoint = f"http://127.0.0.1:{server.stdout.readline().strip()}"
            return bench(options, aws, endpoint, env)
        finally:
            server.kill()
            server.wait()


def bench(options: argparse.Namespace, aws: Path, endpoint: str, env: dict[str, str]) -> int:
    config = Config(max_pool_connections=32)
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, config=config)
    kms = boto3.client("kms", endpoint_url=endpoint, region_name=REGION)
    key_arn = kms.create_key(Description="bench recordings key")["KeyMetadata"]["Arn"]
    source = f"bench-legacy-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=source, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=source, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=source,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    body = os.urandom(options.size)
    with ThreadPoolExecutor(16) as pool:
        list(
            pool.map(
                lambda i: s3.put_object(Bucket=source, Key=f"teleport/{i:06d}.tar", Body=body),
                range(options.objects),
            )
        )

    def run_migrate() -> float:
        destination = new_destination(s3, key_arn)
        argv = [sys.executable, "-m", "recordings_kms.migrate", "migrate", "--source-bucket", source]
        argv += ["--source-prefix", "teleport", "--bucket", destination, "--key", key_arn]
        if options.concurrency:
            argv += ["--concurrency", str(options.concurrency)]
        seconds, done = timed([*argv, "--endpoint-url", endpoint, "--json"], env)
        if done.returncode != 0:
            raise RuntimeError(f"migrate exited {done.returncode}: {done.stderr.strip() or done.stdout[-2000:]}")
        copied = json.loads(done.stdout)["counts"]["copied"]
        if copied != options.objects or count_objects(s3, destination) != options.objects:
            raise RuntimeError(f"migrate copied {copied} of {options.objects} objects")
        return seconds

    def run_aws() -> float:
        destination = new_destination(s3, key_arn)
        argv = [str(aws), "s3", "cp", f"s3://{source}/teleport", f"s3://{destination}/records", "--recursive"]
        argv += ["--sse", "aws:kms", "--sse-kms-key-id", key_arn, "--endpoint-url", endpoint, "--only-show-errors"]
        seconds, done = timed(argv, env)
        if done.returncode != 0:
            raise RuntimeError(f"aws s3 cp exited {done.returncode}: {done.stderr.strip()[-2000:]}")
        copied = count_objects(s3, destination)
        if copied != options.objects:
            raise RuntimeError(f"aws s3 cp copied {copied} of {options.objects} objects")
        return seconds

    migrate_times: list[float] = []
    aws_times: list[float] = []
    try:
        for run in range(options.runs):
            # Alternate which goes first, so that drift in the machine's load falls on both.
            order = [(run_migrate, migrate_times), (run_aws, aws_times)]
            for command, times in order if run % 2 == 0 else reversed(order):
                times.append(command())
    except RuntimeError as error:
        print(f"bench_migrate: {error}", file=sys.stderr)
        return 1

    def line(name: str, times: list[float]) -> str:
        median = statistics.median(times)
        runs = ", ".join(f"{t:.2f}" for t in times)
        rate = options.objects / median
        return f"{name}: {options.objects} objects, median {median:.2f} s ({rate:.0f} obj/s; runs {runs})"

    ratio = statistics.median(migrate_times) / statistics.median(aws_times)
    print(f"{line('migrate', migrate_times)}; {line('aws s3 cp --recursive', aws_times)}; ratio {ratio:.2f}")
    latency = f", {options.latency_ms:g} ms added per request" if options.latency_ms else ""
    latency += f", migrate --concurrency {options.concurrency}" if options.concurrency else ""
    print(
        f"objects of {options.size} B, {options.runs} run{'' if options.runs == 1 else 's'} each, "
        f"moto server on {endpoint}{latency}, "
        f"{os.cpu_count()} CPUs"
    )
    verdict = "met" if ratio <= 1.0 else "not met"
    print(f"goal (migrate, which verifies every copy, no slower than aws s3 cp, which verifies nothing): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
