"""`make bench`: every performance figure the project promises, measured side by side in one run.

- fresh-clone set-up: ``make synth`` then ``make test`` in a new clone of HEAD (installs included;
  pip's and npm's download caches are warm, as on a developer machine);
- synthesis: the gated app against a bare one-bucket app, through the same Python, CDK CLI and
  Node 22, alternately, so that machine noise falls on both (median of ``BENCH_RUNS``; the figure is
  the ratio of medians);
- the access prover: P1-P6 on the default and the fully configured templates, and single-request
  decisions per second (``scripts/bench_prover.py``);
- ``recordings-kms migrate`` against ``aws s3 cp --recursive`` on the same objects of a moto server
  (``scripts/bench_migrate.py``; ``BENCH_MIGRATE_OBJECTS``, default 1000);
- the test suite's wall time on this checkout.

Set ``BENCH_SKIP_FRESH_CLONE=1`` to skip the clone (it takes a few minutes).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CDK = REPO / "node_modules" / ".bin" / "cdk"
BARE_APP = """
import aws_cdk as cdk
from aws_cdk import aws_s3 as s3

app = cdk.App()
stack = cdk.Stack(app, "Bare")
s3.Bucket(stack, "Bucket")
app.synth()
"""
TARGETS = {"make synth": 20.0, "make test": 75.0}


def timed(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def fresh_clone_setup() -> list[str]:
    """``make synth`` then ``make test`` in a new clone of HEAD, each timed."""
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "main"
        subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
        shared = REPO.parent / "shared"
        if shared.is_dir():
            (Path(tmp) / "shared").symlink_to(shared)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "VIRTUAL_ENV"))}
        env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if str(REPO) not in p)
        for target in ("synth", "test"):
            seconds = timed(["make", target], clone, env)
            limit = TARGETS[f"make {target}"]
            verdict = "ok" if seconds <= limit else "OVER TARGET"
            lines.append(f"fresh clone: make {target:<5} {seconds:6.1f} s (target <= {limit:.0f} s: {verdict})")
    return lines


def synth_seconds(app_dir: Path, out_dir: Path) -> float:
    return timed([str(CDK), "synth", "--quiet", "--no-notices", "--output", str(out_dir)], app_dir)


def synthesis(runs: int) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "bare"
        bare.mkdir()
        (bare / "app.py").write_text(BARE_APP)
        cdk_json = json.loads((REPO / "cdk.json").read_text())
        (bare / "cdk.json").write_text(json.dumps({"app": f"{sys.executable} app.py", "context": cdk_json["context"]}))
        gated, plain = [], []
        synth_seconds(REPO, Path(tmp) / "warm-up")
        for run in range(runs):
            gated.append(synth_seconds(REPO, Path(tmp) / f"gated-{run}"))
            plain.append(synth_seconds(bare, Path(tmp) / f"bare-{run}"))
    gated_median, plain_median = statistics.median(gated), statistics.median(plain)
    return [
        f"synth, gated app (4 cdk-nag packs, CloudFormation validation): median {gated_median:.2f} s of {runs}",
        f"synth, bare one-bucket app:                                   median {plain_median:.2f} s of {runs}",
        f"synth ratio {gated_median / plain_median:.2f} (target <= 1.5)",
    ]


def test_suite() -> tuple[list[str], bool]:
    start = time.perf_counter()
    tests = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "-q"], cwd=REPO, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    summary = tests.stdout.strip().splitlines()[-1] if tests.stdout.strip() else "no output"
    line = f"test suite: {elapsed:.1f} s wall on {os.cpu_count()} cores (target <= 120 s): {summary}"
    return [line], tests.returncode == 0


def script(name: str, *args: str) -> list[str]:
    """The result lines of one of the other benchmark scripts (their progress chatter left out)."""
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / name), *args], cwd=REPO, capture_output=True, text=True
    )
    if result.returncode not in (0, 1):
        return [f"{name}: failed ({result.returncode}): {result.stderr.strip().splitlines()[-1:]}"]
    return [line for line in result.stdout.splitlines() if line.strip()]


def main() -> int:
    runs = int(os.environ.get("BENCH_RUNS", "5"))
    lines: list[str] = []
    if not os.environ.get("BENCH_SKIP_FRESH_CLONE"):
        lines += fresh_clone_setup()
    lines += synthesis(runs)
    lines += script("bench_prover.py", "--runs", str(max(runs, 5)))
    objects = os.environ.get("BENCH_MIGRATE_OBJECTS", "1000")
    # Plain moto answers in microseconds on the same two cores (CPU-bound); 80 ms per request is
    # closer to S3 across a region, where waiting, not hashing, dominates.
    for latency in ("0", "80"):
        lines += script("bench_migrate.py", "--objects", objects, "--runs", "3", "--latency-ms", latency)
    suite, passed = test_suite()
    lines += suite
    print("\n".join(lines))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
