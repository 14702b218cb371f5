"""Benchmark: the in-process test tier (`make test-fast`) against its 60 s budget.

Runs ``make test-fast`` itself ``--runs`` times in a row (so its workers, marker expression and
emulator guard are the Makefile's: one place) and prints each wall time, the median and the ratio
to the budget; the target is a ratio <= 1.0 on a 2-core machine (printed, never enforced: a slow
run exits 0, a failing tier exits 1). The figure moves with the machine's load: run it on a quiet
one. ``--smoke`` runs the tier once on one small module (it must run, not meet its figure).

    .venv/bin/python benchmarks/bench_fast_tier.py [--runs 3] [--smoke]
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
sys.path.insert(0, str(REPO_ROOT))  # vectora_ops runs from the checkout

from vectora_ops.promotion.testrecords import FULL_RUN_ENV  # noqa: E402  # needs the path above

BUDGET_S = 60.0
# The smoke's selection: one small in-process module, so the smoke proves the tier's command runs.
SMOKE_SELECTION = "tests/unit/test_naming_environments.py"
# make's own variables from a calling make (`make bench`, a jobserver) must not steer this one.
MAKE_VARIABLES = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")


def one_run(selection: str | None) -> float:
    """Wall time of one ``make test-fast``; ``selection`` narrows its pytest run (PYTEST_ADDOPTS)."""
    # Never a test record from here (a smoke inside `make test` inherits its FULL_RUN_ENV): a record
    # is the evidence of a whole suite's run, which the promotion's first gate reads.
    env = {k: v for k, v in os.environ.items() if k not in (*MAKE_VARIABLES, FULL_RUN_ENV)}
    if selection:
        env["PYTEST_ADDOPTS"] = f"{env.get('PYTEST_ADDOPTS', '')} -p no:cacheprovider {selection}".strip()
    started = time.monotonic()
    result = subprocess.run(
        ["make", "--no-print-directory", "test-fast"],
        cwd=REPO_ROOT,
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    elapsed = time.monotonic() - started
    if result.returncode != 0:  # a failing tier is no timing: say so with pytest's own summary
        raise SystemExit(f"make test-fast failed (exit {result.returncode}):\n{result.stdout[-3000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, choices=range(1, 21), metavar="1-20")
    parser.add_argument("--smoke", action="store_true", help=f"one run of {SMOKE_SELECTION} only")
    args = parser.parse_args()
    runs, selection = (1, SMOKE_SELECTION) if args.smoke else (args.runs, None)
    times = [one_run(selection) for _ in range(runs)]
    median = statistics.median(times)
    ratio = median / BUDGET_S
    what = f"make test-fast ({selection} only: smoke)" if selection else "make test-fast"
    print(f"{what}: {', '.join(f'{t:.1f} s' for t in times)} (cores: {os.cpu_count()})")
    print(
        f"median {median:.1f} s vs budget {BUDGET_S:.0f} s: ratio {ratio:.2f} (target <= 1.0) "
        f"{'PASS' if ratio <= 1.0 else 'FAIL'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
