"""`make bench`: synthesis cost of the gated app against a bare one-bucket app, and the test suite's wall time.

Both apps run through the same Python, the same pinned CDK CLI and Node 22, alternately, so that
machine noise falls on both; the figure is the ratio of medians (target <= 1.5).
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


def synth_seconds(app_dir: Path, out_dir: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [str(CDK), "synth", "--quiet", "--no-notices", "--output", str(out_dir)],
        cwd=app_dir,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def main() -> int:
    runs = int(os.environ.get("BENCH_RUNS", "5"))
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
    ratio = gated_median / plain_median
    print(f"synth, gated app (4 cdk-nag packs, CloudFormation validation): median {gated_median:.2f} s of {runs}")
    print(f"synth, bare one-bucket app:                                   median {plain_median:.2f} s of {runs}")
    print(f"ratio {ratio:.2f} (target <= 1.5)")

    start = time.perf_counter()
    tests = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "-q"], cwd=REPO, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    summary = tests.stdout.strip().splitlines()[-1] if tests.stdout.strip() else "no output"
    print(f"test suite: {elapsed:.1f} s wall on {os.cpu_count()} cores (target <= 120 s): {summary}")
    return 0 if tests.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
