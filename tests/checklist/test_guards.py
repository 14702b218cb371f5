"""No direct change of prod: each guard is rehearsed and refuses; a guard taken away fails the item."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.checklist.conftest import no_templates
from vectora_core.environments import ENVIRONMENTS
from vectora_ops.checklist import Status
from vectora_ops.checklist.safety import GUARDS, check_no_direct_prod_change, offline_session


@pytest.mark.parametrize("guard", sorted(GUARDS))
def test_each_guard_refuses_prod_before_any_aws_call(guard: str, tmp_path: Path) -> None:
    problem = GUARDS[guard]("prod", offline_session("eu-west-3"), tmp_path)
    assert problem is None


# Each guard reads one field of prod's config: turning it off is deleting the guard.
TAKEN_AWAY = {
    "publish": ("vectora_ops.config.cli.get_env_config", {"direct_changes_allowed": True}),
    "rollback without approval": ("vectora_ops.environment.get_env_config", {"approval_required": False}),
    "cleanup": ("vectora_ops.environment.get_env_config", {"snapshot_keep_newest": 7}),
    "deploy": ("vectora_ops.environment.get_env_config", {"direct_changes_allowed": True}),
}


@pytest.mark.parametrize("guard", sorted(TAKEN_AWAY))
def test_a_deleted_guard_fails_the_item(guard: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # given prod's config without the field this guard reads
    target, fields = TAKEN_AWAY[guard]
    weakened = replace(ENVIRONMENTS["prod"], **fields)  # type: ignore[arg-type]
    monkeypatch.setattr(target, lambda env: weakened if env == "prod" else ENVIRONMENTS[env])
    # when the item runs
    result = check_no_direct_prod_change(no_templates("dev", tmp_path))
    # then it fails naming that guard, and what the operation did instead of refusing
    assert result.status is Status.FAILED
    assert f"{guard} --env prod: " in result.evidence
    assert "not refused" in result.evidence or "another reason" in result.evidence
