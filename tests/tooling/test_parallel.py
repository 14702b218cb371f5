"""``make test``'s sharing of the suite (tests/support/parallel.py), run as it runs: two xdist
workers on a small suite whose heavy session fixtures note where they were built."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONFTEST = f"""
import os, sys
import pytest
sys.path.insert(0, {str(REPO)!r})
from tests.support import parallel
parallel.PROMOTION = parallel.DEPLOYED_DEV = "conftest"  # this suite's heavy fixtures are here

def pytest_configure(config):
    parallel.share_groups_folder(config)

def pytest_xdist_make_scheduler(config, log):
    return parallel.make_scheduler(config, log)

@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    if parallel.is_worker(config):
        parallel.assign_groups(config, items)

def _built(what):
    with open(os.path.join(os.path.dirname(__file__), "built.txt"), "a") as log:
        log.write(what + " " + os.environ["PYTEST_XDIST_WORKER"] + "\\n")

@pytest.fixture(scope="session")
def world():
    _built("world")

@pytest.fixture(scope="session")
def deployed_dev():
    _built("deployed_dev")
"""
MODULES = {
    # the first world's module, two of the second's, two of the deployed dev's, plain modules
    "test_e2e_a_first_promotion.py": "world",
    "test_e2e_c_code_changes.py": "world",
    "test_e2e_e_prod.py": "world",
    "test_snapshots.py": "deployed_dev",
    "test_pipeline.py": "deployed_dev",
    **{f"test_plain_{n}.py": "" for n in range(6)},
}


def test_each_heavy_fixture_is_built_once_per_group(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    for module, fixture in MODULES.items():
        args = fixture or ""
        tests = "".join(f"def test_{n}({args}):\n    time.sleep(0.05)\n" for n in range(4))
        (tmp_path / module).write_text(f"import time\n{tests}")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-p", "no:cacheprovider",
         "-q", "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    built = sorted((tmp_path / "built.txt").read_text().splitlines())
    # the promotion world twice (one per half of its modules, on different workers), the deployed
    # dev once; xdist's own loadgroup on pytest 9 would build each on both workers
    assert [line.split()[0] for line in built] == ["deployed_dev", "world", "world"], built
    assert len({line.split()[1] for line in built if line.startswith("world")}) == 2, built
