"""Synth time of the whole app (``cdk synth -c env=all``) against a one-bucket CDK app.

Both are synthesized the same way (the pinned CLI, the same venv, the same feature flags, a fresh
output folder each run), in alternation; the ratio is what the project adds on top of jsii/CLI
start-up.
Target: ratio <= 1.5. Run: ``make bench`` (or ``.venv/bin/python benchmarks/bench_synth.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # local_aws runs from the checkout

from local_aws.settings import CDK_CLI_QUIET_ENV  # noqa: E402  # needs the path above

CDK = REPO / "node_modules" / ".bin" / "cdk"
TARGET_RATIO = 1.5

MINIMAL_APP = """
import aws_cdk as cdk
from aws_cdk import aws_s3 as s3

app = cdk.App()
stack = cdk.Stack(app, "bench-one-bucket")
s3.Bucket(stack, "Bucket")
app.synth()
"""


def synth_seconds(app_dir: Path, args: list[str]) -> float:
    """Wall time of one ``cdk synth`` of the app in ``app_dir`` into a fresh output folder."""
    out = Path(tempfile.mkdtemp(prefix="bench-synth-"))
    try:
        start = time.perf_counter()
        subprocess.run([str(CDK), "synth", *args, "--quiet", "--output", str(out)], cwd=app_dir,
                       env={**os.environ, **CDK_CLI_QUIET_ENV}, check=True, capture_output=True)  # fmt: skip
        return time.perf_counter() - start
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="synths per app (median is compared)")
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory(prefix="bench-minimal-app-") as tmp:
        minimal = Path(tmp)
        (minimal / "app.py").write_text(MINIMAL_APP)
        feature_flags = json.loads((REPO / "cdk.json").read_text())["context"]
        (minimal / "cdk.json").write_text(
            json.dumps({"app": f"{sys.executable} app.py", "context": feature_flags})
        )
        # One warm-up each: the layer build cache and the OS file cache, as in day-to-day use.
        synth_seconds(REPO, ["-c", "env=all"])
        synth_seconds(minimal, [])
        # Interleaved, so that the machine's speed drifting during the run weighs on both alike.
        ours: list[float] = []
        base: list[float] = []
        for _ in range(runs):
            ours.append(synth_seconds(REPO, ["-c", "env=all"]))
            base.append(synth_seconds(minimal, []))
    ours_median, base_median = statistics.median(ours), statistics.median(base)
    ratio = ours_median / base_median
    # The ratio depends on the Node.js release: a faster one shrinks the shared start-up more
    # than the project's own work (measured: Node 24 synthesizes faster, at a higher ratio).
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    print(f"node {node}")
    for label, median, times in (
        ("cdk synth -c env=all (9 stacks)", ours_median, ours),
        ("one-bucket app", base_median, base),
    ):
        print(f"{label:32}: median {median:.2f} s  runs {[round(t, 2) for t in times]}")
    print(f"added by the project: {ours_median - base_median:.2f} s (difference of the medians)")
    print(
        f"ratio {ratio:.2f} (target <= {TARGET_RATIO}) -> {'OK' if ratio <= TARGET_RATIO else 'OVER TARGET'}"
    )
    # How much the machine's noise moves it: the ratio of each alternated pair of runs.
    pairs = sorted(o / b for o, b in zip(ours, base, strict=True))
    print(f"pair ratios: {pairs[0]:.2f} .. {pairs[-1]:.2f} (median {statistics.median(pairs):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
