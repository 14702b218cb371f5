"""The registry: the checklist's items, each with the tests that enforce it, which exist."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from vectora_ops.checklist import ITEMS

REPO = Path(__file__).resolve().parents[2]


def test_ids_are_unique_and_every_item_has_a_label_and_a_test() -> None:
    assert len({item.id for item in ITEMS}) == len(ITEMS)
    assert all(item.label and item.tests for item in ITEMS)


@pytest.mark.parametrize("node", sorted({t for item in ITEMS for t in item.tests}))
def test_every_enforcing_test_exists(node: str) -> None:
    path, _, function = node.partition("::")
    assert (REPO / path).is_file(), node
    if function:
        tree = ast.parse((REPO / path).read_text("utf-8"))
        names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert function in names, node
