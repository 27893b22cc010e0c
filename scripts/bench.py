"""`make bench`: every performance figure the project promises, measured side by side in one run.

- fresh-clone set-up: ``make synth`` then ``make test`` in a new clone of HEAD (installs included;
  pip's and npm's download caches are warm, as on a developer machine);
- synthesis: the gated app against a bare one-bucket app, through the same Python, CDK CLI and
  Node 22, alternately, so that machine noise falls on both (median of ``BENCH_RUNS``; the figure is
  the ratio of medians), and where the difference goes: the same stacks synthesized without the
  gates (construct building and their larger templates), the access proofs' own seconds (from
  ``teleport-recordings-access-proofs.json``), and the rest of the gates (loading and running the
  four cdk-nag packs). Both apps pay CDK's built-in CloudFormation validation (~2-3 s to build its
  rule engine once per process) and jsii's start-up;
- the access prover: P1-P6 on the default and the fully configured templates, and single-request
  decisions per second (``scripts/bench_prover.py``);
- ``recordings-kms migrate`` against ``aws s3 cp --recursive`` on the same objects of a moto server
  (``scripts/bench_migrate.py``; ``BENCH_MIGRATE_OBJECTS``, default 1000);
- the test suite's wall time on this checkout, and its test durations summed (the work, whatever the workers).

Set ``BENCH_SKIP_FRESH_CLONE=1`` to skip the clone (it takes a few minutes), or ``BENCH_ONLY`` to a
comma-separated list of sections to run only those (fresh-clone, synth, prover, migrate, tests).
"""

from __future__ import annotations

import json
import os
import re
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
#: The same stacks as app.py builds, without enable_compliance_packs (run from a scratch directory).
UNGATED_APP = """
import os
import sys

sys.path.insert(0, {repo!r})
import aws_cdk as cdk

from app import build
from constructs_lib.core.settings import AppSettings

app = cdk.App()
build(app, AppSettings.from_context(app.node.get_all_context(), environ=os.environ))
app.synth()
"""
#: Targets of issue 14 (part 4): wall seconds, and the gated synthesis as a multiple of the bare one.
TARGETS = {"make synth": 20.0, "make test": 90.0}
SUITE_TARGET = 60.0
SYNTH_RATIO_TARGET = 1.1
PROOFS_RECORD = "teleport-recordings-access-proofs.json"


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


def scratch_app(directory: Path, source: str) -> Path:
    """A CDK app directory running ``source`` with this repository's cdk.json context."""
    directory.mkdir()
    (directory / "app.py").write_text(source)
    context = json.loads((REPO / "cdk.json").read_text())["context"]
    (directory / "cdk.json").write_text(json.dumps({"app": f"{sys.executable} app.py", "context": context}))
    return directory


def synthesis(runs: int) -> list[str]:
    """Gated against bare, alternately; the ungated stacks and the proofs' own seconds say where the rest goes."""
    with tempfile.TemporaryDirectory() as tmp:
        bare = scratch_app(Path(tmp) / "bare", BARE_APP)
        ungated = scratch_app(Path(tmp) / "ungated", UNGATED_APP.format(repo=str(REPO)))
        gated: list[float] = []
        plain: list[float] = []
        stacks: list[float] = []
        proofs: list[float] = []
        synth_seconds(REPO, Path(tmp) / "warm-up")
        for run in range(runs):
            out = Path(tmp) / f"gated-{run}"
            gated.append(synth_seconds(REPO, out))
            proofs.append(float(json.loads((out / PROOFS_RECORD).read_text())["seconds"]))
            plain.append(synth_seconds(bare, Path(tmp) / f"bare-{run}"))
            stacks.append(synth_seconds(ungated, Path(tmp) / f"ungated-{run}"))
    gated_s, bare_s = statistics.median(gated), statistics.median(plain)
    stacks_s, proofs_s = statistics.median(stacks), statistics.median(proofs)
    ratio = gated_s / bare_s
    verdict = "ok" if ratio <= SYNTH_RATIO_TARGET else "OVER TARGET"
    return [
        f"synth, gated app (make synth: 4 cdk-nag packs, access proofs): median {gated_s:.2f} s of {runs}",
        f"synth, bare one-bucket app:                                    median {bare_s:.2f} s of {runs}",
        f"synth ratio gated/bare {ratio:.2f} (target <= {SYNTH_RATIO_TARGET}: {verdict}); "
        f"gated - bare = {gated_s - bare_s:.2f} s, of which:",
        f"  the same stacks without the gates: +{stacks_s - bare_s:.2f} s over bare (constructs, templates)",
        f"  the access proofs (their own record): {proofs_s:.2f} s",
        f"  the rest of the gates (cdk-nag loading and its 4 packs): {gated_s - stacks_s - proofs_s:.2f} s",
    ]


#: A line of pytest's ``--durations=0`` report: seconds, phase, test id.
DURATION = re.compile(r"^(\d+(?:\.\d+)?)s (setup|call|teardown) +(.+)$")


def summed_durations(report: str, slowest: int = 5) -> tuple[float, list[str]]:
    """The sum of every test's setup, call and teardown seconds in a ``--durations=0`` report, and its slowest calls.

    The sum is the suite's work whatever the number of workers (wall time divides it among them); both
    grow with the machine's load, so compare them between runs under the same load.
    """
    total = 0.0
    calls: list[tuple[float, str]] = []
    for line in report.splitlines():
        if match := DURATION.match(line.strip()):
            seconds = float(match.group(1))
            total += seconds
            if match.group(2) == "call":
                calls.append((seconds, match.group(3)))
    return total, [f"  {seconds:6.2f} s {test}" for seconds, test in sorted(calls, reverse=True)[:slowest]]


def test_suite() -> tuple[list[str], bool]:
    start = time.perf_counter()
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "-q", "--durations=0"], cwd=REPO, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    summary = tests.stdout.strip().splitlines()[-1] if tests.stdout.strip() else "no output"
    verdict = "ok" if elapsed <= SUITE_TARGET else "OVER TARGET"
    cores = os.cpu_count()
    summed, slowest = summed_durations(tests.stdout)
    return [
        f"test suite: {elapsed:.1f} s wall on {cores} cores (target <= {SUITE_TARGET:.0f} s: {verdict}): {summary}",
        f"test suite: {summed:.1f} s of test durations summed (setup, call, teardown); the slowest calls:",
        *slowest,
    ], tests.returncode == 0


def script(name: str, *args: str) -> list[str]:
    """The result lines of one of the other benchmark scripts (their progress chatter left out)."""
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / name), *args], cwd=REPO, capture_output=True, text=True
    )
    if result.returncode not in (0, 1):
        return [f"{name}: failed ({result.returncode}): {result.stderr.strip().splitlines()[-1:]}"]
    return [line for line in result.stdout.splitlines() if line.strip()]


SECTIONS = ("fresh-clone", "synth", "prover", "migrate", "tests")


def main() -> int:
    runs = int(os.environ.get("BENCH_RUNS", "5"))
    only = {name.strip() for name in os.environ.get("BENCH_ONLY", "").split(",") if name.strip()}
    if unknown := only - set(SECTIONS):
        print(f"BENCH_ONLY: unknown section(s) {sorted(unknown)}; sections: {', '.join(SECTIONS)}", file=sys.stderr)
        return 2
    wanted = only or set(SECTIONS)
    if os.environ.get("BENCH_SKIP_FRESH_CLONE"):
        wanted.discard("fresh-clone")
    lines: list[str] = []
    passed = True
    if "fresh-clone" in wanted:
        lines += fresh_clone_setup()
    if "synth" in wanted:
        lines += synthesis(runs)
    if "prover" in wanted:
        lines += script("bench_prover.py", "--runs", str(max(runs, 5)))
    if "migrate" in wanted:
        objects = os.environ.get("BENCH_MIGRATE_OBJECTS", "1000")
        # Plain moto answers in microseconds on the same two cores (CPU-bound); 80 ms per request is
        # closer to S3 across a region, where waiting, not hashing, dominates.
        for latency in ("0", "80"):
            lines += script("bench_migrate.py", "--objects", objects, "--runs", "3", "--latency-ms", latency)
    if "tests" in wanted:
        suite, passed = test_suite()
        lines += suite
    print("\n".join(lines))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
