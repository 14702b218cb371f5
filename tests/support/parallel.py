"""How ``make test`` shares the suite between its workers (pytest-xdist, ``--dist loadgroup``).

Each worker is a pytest process with its own session fixtures: its own local AWS, its own synth.
What is costly to build and shared by many tests must therefore be built on as few workers as
possible, so every test goes to a group, and a group runs whole on one worker, in collection order:

- the tests of one heavy session fixture form one group (the deployed dev environment), or a few
  (the promotion tests' world, split by module so that two workers share the longest chain; each
  builds its own world, and the scenario's fixtures are built on demand wherever they run). Their
  tests also depend on their order (a promotion test builds on the one before), which a group keeps;
- every other test is grouped with its module, whose module-scoped fixtures are then built once.

The heavy groups are queued first: each worker picks a group when it has nearly run out of work,
so the longest units start at once and the short modules fill the gaps.

pytest-xdist 3.8 marks a group by appending ``@group`` to the node id (``_nodeid``), which pytest 9
no longer reads: its own ``loadgroup`` scheduling silently falls back to test by test. So the
workers write each test's group to a file and ``GroupScheduling`` (the controller's) reads it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Final

import pytest

# The controller names a folder here; each worker writes ``<worker id>.json``: node id -> group.
GROUPS_ENV: Final = "VECTORA_XDIST_GROUPS"
# Heavy session fixtures (by name and the module defining them: tests/iam has a `world` of its
# own), with the group of each test module using them. Queued in this order.
PROMOTION = "tests.promotion.conftest"
DEPLOYED_DEV = "tests.conftest"
HEAVY_GROUPS: Final = ("promotion-world-1", "promotion-world-2", "deployed-dev")
# The promotion modules of the first world (the rest go to the second): about half the time each.
FIRST_WORLD: Final = frozenset(
    {"test_e2e_a_first_promotion", "test_e2e_b_faults", "test_e2e_b_faults_mid_change", "test_e2e_d_refusals"}
)


def is_worker(config: pytest.Config) -> bool:
    """Whether this pytest process is an xdist worker (``make test``), not the controller or a
    plain single-process run."""
    return hasattr(config, "workerinput")


def _defined_in(item: pytest.Item, fixture: str) -> str | None:
    definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {}).get(fixture)
    return definitions[-1].func.__module__ if definitions else None


def group_of(item: pytest.Item) -> str:
    module = item.nodeid.split("::", 1)[0]
    if _defined_in(item, "world") == PROMOTION:
        return HEAVY_GROUPS[0] if Path(module).stem in FIRST_WORLD else HEAVY_GROUPS[1]
    if _defined_in(item, "deployed_dev") == DEPLOYED_DEV:
        return HEAVY_GROUPS[2]
    return module


def assign_groups(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Queue the heavy groups first (a stable sort: within a group, and among the modules, the
    collection order stays), and tell the controller every test's group."""
    groups = {item.nodeid: group_of(item) for item in items}
    rank = {group: index for index, group in enumerate(HEAVY_GROUPS)}
    items.sort(key=lambda item: rank.get(groups[item.nodeid], len(HEAVY_GROUPS)))
    folder = os.environ.get(GROUPS_ENV)
    if folder:
        target = Path(folder) / f"{config.workerinput['workerid']}.json"  # type: ignore[attr-defined]
        partial = target.with_suffix(".part")
        partial.write_text(json.dumps(groups))
        partial.replace(target)  # whole or absent: the controller reads it after the collection


def share_groups_folder(config: pytest.Config) -> None:
    """On the controller of a parallel run: the folder the workers write their groups to (the
    workers start after this and inherit the environment)."""
    if not is_worker(config) and config.getoption("dist", "no") == "loadgroup":
        os.environ[GROUPS_ENV] = tempfile.mkdtemp(prefix="vectora-xdist-groups-")


def read_groups() -> dict[str, str]:
    folder = os.environ.get(GROUPS_ENV)
    for path in sorted(Path(folder).glob("*.json")) if folder else ():
        groups: dict[str, str] = json.loads(path.read_text())
        return groups  # every worker collected the same tests (xdist checks it)
    return {}


def make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup`` done with the groups the workers wrote: whole groups per worker."""
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):  # type: ignore[misc]
        _groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self._groups is None:  # first called once every worker has collected
                self._groups = read_groups()
            return self._groups.get(nodeid, nodeid.split("::", 1)[0])

    # The queue keeps the order assign_groups gave (heavy groups first), not xdist's default of
    # the groups with the most tests first.
    config.option.loadscopereorder = False
    return GroupScheduling(config, log)
