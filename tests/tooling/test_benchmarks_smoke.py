"""Every benchmark runs: each ``benchmarks/bench_*.py --smoke`` (its smallest size, one run) exits 0
and prints its figures. A smoke proves the benchmark works, never that it meets its target: the
timings belong to ``make bench``. A new benchmark is found by the glob and smoked with the others.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
# What each benchmark starts, for the tiers (pyproject's markers): the CDK CLI (synth), a local AWS
# (emulator), a deploy to it (e2e). A benchmark not listed gets them all, so a new one stays out of
# `make test-fast` until somebody says what it needs.
NEEDS: dict[str, tuple[str, ...]] = {
    "bench_fast_tier.py": (),  # make test-fast on one module: in-process tests only
    "bench_normalize_score.py": (),  # a stubbed Bedrock behind a real boto3 client
    "bench_snapshot.py": ("emulator",),
    "bench_synth.py": ("synth",),
    "bench_state_machine.py": ("synth", "emulator", "e2e"),
    "bench_promotion.py": ("synth", "emulator", "e2e"),
}
EVERY_TIER = ("synth", "emulator", "e2e")
# A deploy to the local AWS takes minutes on a loaded 2-core machine: the promotion's smoke deploys
# dev, promotes it, then runs one promotion and one plain deploy.
TIMEOUT_S = {"bench_promotion.py": 1800, "bench_state_machine.py": 900}
# Every benchmark ends with a ratio against its target or ideal: the figure it exists to print.
FIGURE = re.compile(r"ratios?\b[^\n]*\d+\.\d+")


def _params() -> list[object]:
    return [
        pytest.param(
            path, id=path.stem, marks=[getattr(pytest.mark, m) for m in NEEDS.get(path.name, EVERY_TIER)]
        )
        for path in sorted(BENCHMARKS.glob("bench_*.py"))
    ]


def test_every_benchmark_is_smoked() -> None:
    # The glob finds the benchmarks; NEEDS only says what they start: a stale entry is a renamed one.
    found = {path.name for path in BENCHMARKS.glob("bench_*.py")}
    assert found >= set(NEEDS), f"NEEDS names benchmarks that are gone: {sorted(set(NEEDS) - found)}"


@pytest.mark.parametrize("bench", _params())
def test_benchmark_smoke_runs_and_prints_its_figures(bench: Path) -> None:
    # make's variables of a calling `make test` must not reach a benchmark that runs make itself.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    result = subprocess.run(
        [sys.executable, str(bench), "--smoke"],
        cwd=BENCHMARKS.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S.get(bench.name, 300),
        check=False,
    )
    assert result.returncode == 0, (
        f"{bench.name} --smoke exited {result.returncode}:\n{result.stderr[-3000:]}"
    )
    assert FIGURE.search(result.stdout), f"{bench.name} --smoke printed no ratio:\n{result.stdout[-3000:]}"
