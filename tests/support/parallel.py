"""How ``make test`` shares the suite between its workers (pytest-xdist, ``--dist loadgroup``).

Each worker is a pytest process with its own session fixtures: its own local AWS, its own synth.
What is costly to build and shared by many tests must therefore be built on one worker only, so
every test goes to a group, and a group runs whole on one worker, in collection order:

- the tests of one heavy session fixture (the promotion tests' world: dev and stage deployed; the
  deployed dev environment) form one group each. They also depend on their order (a promotion
  test builds on the one before), which a group keeps;
- every other test is grouped with its module, whose module-scoped fixtures are then built once.

The heavy groups are queued first, heaviest first: each worker picks a group when it has nearly
run out of work, so the longest units start at once and the short modules fill the gaps.
"""

from __future__ import annotations

from typing import Final

import pytest

# Session fixtures whose tests run together on one worker, heaviest first (minutes of CDK deploys).
HEAVY_FIXTURES: Final = {"world": "promotion-world", "deployed_dev": "deployed-dev"}


def is_worker(config: pytest.Config) -> bool:
    """Whether this pytest process is an xdist worker (``make test``), not the controller or a
    plain single-process run."""
    return hasattr(config, "workerinput")


def group_of(item: pytest.Item) -> str:
    fixtures = set(getattr(item, "fixturenames", ()))
    for fixture, group in HEAVY_FIXTURES.items():
        if fixture in fixtures:
            return group
    return item.nodeid.split("::", 1)[0]


def assign_groups(items: list[pytest.Item]) -> None:
    """Mark every item with its group, and queue the heavy groups first (a stable sort: within a
    group, and among the modules, the collection order stays)."""
    groups = {item.nodeid: group_of(item) for item in items}
    for item in items:
        item.add_marker(pytest.mark.xdist_group(groups[item.nodeid]))
    heavy = list(HEAVY_FIXTURES.values())
    rank = {group: index for index, group in enumerate(heavy)}
    items.sort(key=lambda item: rank.get(groups[item.nodeid], len(heavy)))
