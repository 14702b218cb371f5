"""Every benchmark runs: each ``benchmarks/bench_*.py --smoke`` (its smallest size, one run) exits 0
and prints its figures. A smoke proves the benchmark works, never that it meets its target: the
timings belong to ``make bench``. A new benchmark is found by the glob and smoked with the others.

``make bench-smoke`` runs this, and CI after the suite (``.ci/run``): not part of ``make test``,
whose time budget is the suite's (these deploy and promote on local AWSes of their own, minutes).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent
# A deploy to the local AWS takes minutes on a loaded 2-core machine: the promotion's smoke deploys
# dev, promotes it, then runs one promotion and one plain deploy.
TIMEOUT_S = {"bench_promotion.py": 1800, "bench_state_machine.py": 900}
# Every benchmark ends with a ratio against its target or ideal: the figure it exists to print.
FIGURE = re.compile(r"ratios?\b[^\n]*\d+\.\d+")


@pytest.mark.parametrize("bench", sorted(BENCHMARKS.glob("bench_*.py")), ids=lambda path: path.stem)
def test_benchmark_smoke_runs_and_prints_its_figures(bench: Path) -> None:
    # the calling make's variables must not reach a benchmark that runs make itself (bench_fast_tier).
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
