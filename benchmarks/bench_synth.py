"""Synth time of the project against a one-bucket CDK app: one environment and all nine stacks.

``cdk synth -c env=stage`` (one environment: what every deploy and diff pays) and
``cdk synth -c env=all`` (the nine stacks) are each compared with a one-bucket app synthesized the
same way (the pinned CLI and Node.js, the same venv, the same feature flags, a fresh output folder
each run). The synths alternate in each round, so that the machine's speed drifting during the run
weighs on all alike; the ratio of each pair (the project's synth / the one-bucket synth of the same
round) shows how much the noise moves it.

Two one-bucket apps: the app as anyone writes it (``cdk.App()``: the targets are against it), and
the same app with the project's App settings (``stacks.new_app``: no built-in template validator,
which the project leaves to cfn-lint). The second shows what the project's own code adds
(``added by the project``): the first one's synth is mostly that validator's cost.
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

app = cdk.App({props})
stack = cdk.Stack(app, "bench-one-bucket")
s3.Bucket(stack, "Bucket")
app.synth()
"""
# stacks.APP_PROPS written out: importing stacks would load the project's constructs into the baseline.
PROJECT_APP_PROPS = "builtin_cloud_formation_validation=False"


@dataclass
class Measure:
    """One of the project's synths against the two one-bucket apps, round by round."""

    label: str
    args: list[str]
    target: float
    ours: list[float] = field(default_factory=list)
    base: list[float] = field(default_factory=list)  # the one-bucket app as anyone writes it
    same: list[float] = field(default_factory=list)  # the one-bucket app with the project's settings

    def report(self) -> list[str]:
        ours, base, same = (statistics.median(times) for times in (self.ours, self.base, self.same))
        ratios, same_ratios = pair_ratios(self.ours, self.base), pair_ratios(self.ours, self.same)
        ratio = statistics.median(ratios)
        verdict = "PASS" if ratio <= self.target else "FAIL"
        return [
            f"{self.label}",
            f"  medians: project {ours:.2f} s, one-bucket app {base:.2f} s, with the project's settings"
            f" {same:.2f} s; added by the project {ours - same:.2f} s (against the latter)",
            f"  pair ratios: median {ratio:.2f}, range {ratios[0]:.2f} .. {ratios[-1]:.2f}"
            f" ({len(ratios)} pairs); target <= {self.target} -> {verdict}",
            f"  against the one-bucket app with the project's settings: median"
            f" {statistics.median(same_ratios):.2f}, range {same_ratios[0]:.2f} .. {same_ratios[-1]:.2f}",
            f"  runs (s): project {rounded(self.ours)}, one-bucket app {rounded(self.base)},"
            f" with the project's settings {rounded(self.same)}",
        ]


def pair_ratios(ours: list[float], base: list[float]) -> list[float]:
    return sorted(o / b for o, b in zip(ours, base, strict=True))


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


def minimal_app(folder: Path, props: str) -> Path:
    """The one-bucket app in ``folder``, its ``cdk.App`` given ``props``, with the project's feature flags."""
    folder.mkdir()
    (folder / "app.py").write_text(MINIMAL_APP.format(props=props))
    feature_flags = json.loads((REPO / "cdk.json").read_text())["context"]
    (folder / "cdk.json").write_text(
        json.dumps({"app": f"{sys.executable} app.py", "context": feature_flags})
    )
    return folder


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
        base, same = (
            minimal_app(Path(tmp) / "default", ""),
            minimal_app(Path(tmp) / "same", PROJECT_APP_PROPS),
        )
        # One warm-up each: the layer build cache and the OS file cache, as in day-to-day use.
        for measure in [] if args.smoke else measures:
            synth_seconds(REPO, measure.args)
        for app in [] if args.smoke else [base, same]:
            synth_seconds(app, [])
        for round_ in range(pairs):
            # Each round: one synth of each, a one-bucket app between the project's two; the order
            # flips every round so neither of the project's synths always follows the same app.
            first, second = measures if round_ % 2 == 0 else measures[::-1]
            first_app, second_app = (base, same) if round_ % 2 == 0 else (same, base)
            first.ours.append(synth_seconds(REPO, first.args))
            times = {first_app: synth_seconds(first_app, [])}
            second.ours.append(synth_seconds(REPO, second.args))
            times[second_app] = synth_seconds(second_app, [])
            for measure in measures:
                measure.base.append(times[base])
                measure.same.append(times[same])
    print(f"node {node_release()}")
    for measure in measures:
        print("\n".join(measure.report()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
