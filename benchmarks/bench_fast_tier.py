"""Benchmark: the in-process test tier (`make test-fast`) against its 60 s budget.

Runs the tier's pytest selection (no emulator, no synth: the same marker expression and guard as
the Makefile) ``--runs`` times in a row and prints each wall time, the median and the ratio to the
budget; the target is a ratio <= 1.0 on a 2-core machine. The figure moves with the machine's load:
run it on a quiet one.

    .venv/bin/python benchmarks/bench_fast_tier.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 60.0
MARKERS = "not e2e and not emulator and not synth and not fuzz"


def one_run() -> float:
    env = {**os.environ, "LOCAL_AWS_FORBIDDEN": "the fast tier starts no emulator"}
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", MARKERS],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, choices=range(1, 21), metavar="1-20")
    args = parser.parse_args()
    times = [one_run() for _ in range(args.runs)]
    median = statistics.median(times)
    ratio = median / BUDGET_S
    print(f"make test-fast: {', '.join(f'{t:.1f} s' for t in times)} (cores: {os.cpu_count()})")
    print(
        f"median {median:.1f} s vs budget {BUDGET_S:.0f} s: ratio {ratio:.2f} (target <= 1.0) "
        f"{'PASS' if ratio <= 1.0 else 'FAIL'}"
    )
    return 0 if ratio <= 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
