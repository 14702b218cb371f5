"""Fixtures of the fuzz tier (no emulator: moto in this process, or no AWS at all).

Every test here is marked ``fuzz`` (``pytest -m fuzz`` runs the tier alone) and runs in
``make test`` (not in ``make test-fast``). How many generated cases ran, per script and world, is
printed at the end of the session (by tests/conftest.py, which gathers the counts of every worker).
``VECTORA_FUZZ_SCALE=10`` multiplies every test's number of examples (a long local hunt: each
generated case runs a script, about a second); the default keeps the tier within CI's budget.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from tests.fuzz import contents
from tests.fuzz.harness import REPO, Sandbox
from tests.fuzz.worlds import seed_local_store

HERE = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    # (The fuzz marker is registered in pyproject.toml, so `-m "not fuzz"` works from any folder.)
    # No example database (settings.database=None), and hypothesis's other caches out of the checkout.
    home = Path(tempfile.mkdtemp(prefix="vectora-hypothesis-"))
    set_hypothesis_home_dir(home)
    config.add_cleanup(lambda: shutil.rmtree(home, ignore_errors=True))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.fuzz)


@pytest.fixture(scope="session")
def box_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What every sandbox starts from: a copy of canonical/ and clients/ (``--root``), a valid
    config, hostile files, and a complete local snapshot (``store/``, see worlds.seed_local_store)."""
    template = tmp_path_factory.mktemp("fuzz-template")
    for folder in ("canonical", "clients"):
        shutil.copytree(REPO / folder, template / "repo" / folder)
    (template / "lai_weekly.yaml").write_bytes(contents.VALID_CONFIG)
    (template / "binary.yaml").write_bytes(contents.binary())
    (template / "empty.yaml").write_bytes(b"")
    (template / "latin1.yaml").write_bytes(contents.NOT_UTF8)
    (template / "bomb.yaml").write_bytes(contents.BILLION_LAUGHS)
    (template / "deep.yaml").write_bytes(contents.DEEP)
    (template / "folder.yaml").mkdir()
    (template / "bad-json").mkdir()  # a folder whose manifest.json is not JSON (a cloud assembly?)
    (template / "bad-json" / "manifest.json").write_bytes(b'{"artifacts": \xff')
    seed_local_store(template / "store")
    return template


@pytest.fixture
def sandbox(tmp_path_factory: pytest.TempPathFactory, box_template: Path) -> Sandbox:
    """A fresh sandbox per test (``root/box``), with a file beside the box that must stay as it is."""
    root = tmp_path_factory.mktemp("fuzz")
    (root / "beside").mkdir()
    (root / "beside" / "keep.txt").write_text("a script must not touch this\n")
    result = Sandbox(root, box_template)
    result.reset()
    return result
