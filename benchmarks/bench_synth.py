"""Synth time of the project against a one-bucket CDK app: one environment and all nine stacks.

``cdk synth -c env=stage`` (one environment: what every deploy and diff pays) and
``cdk synth -c env=all`` (the nine stacks) are each compared with a one-bucket app synthesized the
same way (the pinned CLI and Node.js, the same venv, the same feature flags, a fresh output folder
each run). The three synths alternate in each round, so that the machine's speed drifting during
the run weighs on all alike; the ratio of each pair (the project's synth / the one-bucket synth of
the same round) shows how much the noise moves it.
Targets: one environment <= 1.3x, all nine stacks <= 1.5x (printed, never enforced: timings belong
to benchmarks, not tests). Run: ``make bench`` (or ``.venv/bin/python benchmarks/bench_synth.py``);
``--smoke`` runs one round without warm-up (it must run, not meet its figure).
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
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # local_aws runs from the checkout

from local_aws.settings import CDK_CLI_QUIET_ENV  # noqa: E402  # needs the path above
from tests.support.cdk_cli import ALARM_CONTEXT  # noqa: E402  # stage and prod need a subscriber

CDK = REPO / "node_modules" / ".bin" / "cdk"
MIN_PAIRS = 7
ENV = {**os.environ, **CDK_CLI_QUIET_ENV}  # the PATH that puts the pinned Node first, as in make

MINIMAL_APP = """
import aws_cdk as cdk
from aws_cdk import aws_s3 as s3

app = cdk.App()
stack = cdk.Stack(app, "bench-one-bucket")
s3.Bucket(stack, "Bucket")
app.synth()
"""


@dataclass
class Measure:
    """One of the project's synths against the one-bucket app, pair by pair."""

    label: str
    args: list[str]
    target: float
    ours: list[float] = field(default_factory=list)
    base: list[float] = field(default_factory=list)

    def report(self) -> list[str]:
        ours, base = statistics.median(self.ours), statistics.median(self.base)
        ratios = sorted(o / b for o, b in zip(self.ours, self.base, strict=True))
        ratio = statistics.median(ratios)
        verdict = "PASS" if ratio <= self.target else "FAIL"
        return [
            f"{self.label}",
            f"  medians: project {ours:.2f} s, one-bucket app {base:.2f} s;"
            f" added by the project {ours - base:.2f} s (difference of the medians)",
            f"  pair ratios: median {ratio:.2f}, range {ratios[0]:.2f} .. {ratios[-1]:.2f}"
            f" ({len(ratios)} pairs); target <= {self.target} -> {verdict}",
            f"  runs (s): project {rounded(self.ours)}, one-bucket app {rounded(self.base)}",
        ]


def rounded(times: list[float]) -> list[float]:
    return [round(t, 2) for t in times]


def synth_seconds(app_dir: Path, args: list[str]) -> float:
    """Wall time of one ``cdk synth`` of the app in ``app_dir`` into a fresh output folder."""
    out = Path(tempfile.mkdtemp(prefix="bench-synth-"))
    try:
        start = time.perf_counter()
        result = subprocess.run([str(CDK), "synth", *args, "--quiet", "--output", str(out)], cwd=app_dir,
                                env=ENV, check=False, capture_output=True, text=True)  # fmt: skip
        elapsed = time.perf_counter() - start
        if result.returncode != 0:  # the CLI's own words, not a bare CalledProcessError
            raise SystemExit(f"cdk synth {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return elapsed
    finally:
        shutil.rmtree(out, ignore_errors=True)


def node_release() -> str:
    """The Node.js the CLI and jsii run: the first ``node`` on the PATH they get."""
    node = shutil.which("node", path=ENV.get("PATH"))
    if node is None:
        return "none on PATH"
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    return f"{version} ({node})"


def pair_count(text: str) -> int:
    if not text.isdigit() or int(text) < MIN_PAIRS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= {MIN_PAIRS}")
    return int(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    help_text = f"rounds of (one environment, one-bucket app, all stacks); >= {MIN_PAIRS}"
    parser.add_argument("--pairs", type=pair_count, default=MIN_PAIRS, help=help_text)
    parser.add_argument("--smoke", action="store_true", help="one round, no warm-up: it must run")
    args = parser.parse_args()
    pairs = 1 if args.smoke else args.pairs
    # stage and prod refuse to synthesize without alarm subscribers (as `make checkov` gives them).
    measures = [
        Measure(
            "cdk synth -c env=stage (one environment, 3 stacks)",
            ["-c", "env=stage", *ALARM_CONTEXT],
            target=1.3,
        ),  # fmt: skip
        Measure("cdk synth -c env=all (9 stacks)", ["-c", "env=all", *ALARM_CONTEXT], target=1.5),
    ]
    with tempfile.TemporaryDirectory(prefix="bench-minimal-app-") as tmp:
        minimal = Path(tmp)
        (minimal / "app.py").write_text(MINIMAL_APP)
        feature_flags = json.loads((REPO / "cdk.json").read_text())["context"]
        (minimal / "cdk.json").write_text(
            json.dumps({"app": f"{sys.executable} app.py", "context": feature_flags})
        )
        # One warm-up each: the layer build cache and the OS file cache, as in day-to-day use.
        for measure in [] if args.smoke else measures:
            synth_seconds(REPO, measure.args)
        if not args.smoke:
            synth_seconds(minimal, [])
        for round_ in range(pairs):
            # Each round: one synth of each, the one-bucket app between them; the order flips every
            # round so neither of the project's synths always follows the baseline.
            first, second = measures if round_ % 2 == 0 else measures[::-1]
            first.ours.append(synth_seconds(REPO, first.args))
            base = synth_seconds(minimal, [])
            second.ours.append(synth_seconds(REPO, second.args))
            for measure in measures:
                measure.base.append(base)
    print(f"node {node_release()}")
    for measure in measures:
        print("\n".join(measure.report()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
