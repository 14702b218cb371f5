"""benchmarks/bench_synth.py's own logic (the timings themselves are never asserted: they belong
to ``make bench``)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_synth.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_synth", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass resolves annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("pairs", ["6", "0", "seven"])
def test_fewer_than_seven_pairs_is_a_bad_command_line(pairs: str) -> None:
    result = subprocess.run([sys.executable, str(BENCH), "--pairs", pairs], capture_output=True, text=True)
    assert result.returncode == 2
    assert f"argument --pairs: {pairs!r} is not a whole number >= 7" in result.stderr
    assert result.stdout == ""


def test_report_uses_the_median_pair_ratio_against_the_target(bench: ModuleType) -> None:
    # Pairs 1.2, 1.25, 1.4: median 1.25 <= 1.3 although the ratio of the medians (1.4 / 1.0) is over.
    measure = bench.Measure("one environment", [], target=1.3, ours=[1.2, 5.0, 1.4], base=[1.0, 4.0, 1.0])
    lines = measure.report()
    assert "median 1.25, range 1.20 .. 1.40 (3 pairs); target <= 1.3 -> PASS" in lines[2]
    assert "added by the project 0.40 s" in lines[1]
    over = bench.Measure("all", [], target=1.5, ours=[2.0, 1.6, 1.7], base=[1.0, 1.0, 1.0])
    assert over.report()[2].endswith("target <= 1.5 -> FAIL")
