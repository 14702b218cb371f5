"""E2E recorded green: read from the deployment and test records (the promotion's), never assumed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tests.checklist.conftest import no_templates
from vectora_ops.checklist import Status
from vectora_ops.checklist.safety import check_e2e_recorded


def test_the_e2e_item_is_never_ticked_without_a_record(tmp_path: Path) -> None:
    result = check_e2e_recorded(no_templates("dev", tmp_path))
    assert result.status is not Status.PASSED
    if importlib.util.find_spec("vectora_ops.promotion") is None:
        assert result.status is Status.NOT_CHECKED
        assert "no deployment or test records in this checkout" in result.evidence
