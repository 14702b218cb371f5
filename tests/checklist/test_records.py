"""E2E recorded green: read from the deployment and test records (the promotion's), never assumed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.checklist.conftest import no_templates
from vectora_ops.checklist import Status
from vectora_ops.checklist.safety import check_e2e_recorded
from vectora_ops.promotion.testrecords import RECORDS_ENV, TestRecord, write_record


def git_checkout(root: Path) -> str:
    for args in (
        ["init", "-q"],
        ["-c", "user.name=t", "-c", "user.email=t@x", "commit", "-q", "--allow-empty", "-m", "x"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True)  # noqa: S603, S607
    return subprocess.run(
        ["git", "rev-parse", "HEAD"],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,  # noqa: S603, S607
    ).stdout.strip()


def test_the_e2e_item_follows_the_record_of_the_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(RECORDS_ENV, raising=False)
    commit = git_checkout(tmp_path)
    ctx = no_templates("dev", tmp_path)  # nothing reachable: the checkout's commit stands in
    # no record: never ticked, and the item says what to run
    result = check_e2e_recorded(ctx)
    assert result.status is Status.NOT_CHECKED
    assert f"no make test record for {commit[:12]}" in result.evidence and "run make test" in result.evidence
    # a red record: failed
    red = TestRecord(commit, clean=True, passed=False, exit_status=1, finished_at="2026-12-01T10:00:00+00:00")
    write_record(tmp_path, red)
    assert check_e2e_recorded(ctx).status is Status.FAILED
    # a run on a dirty tree never counts
    dirty = TestRecord(
        commit, clean=False, passed=True, exit_status=0, finished_at="2026-12-01T10:00:00+00:00"
    )
    write_record(tmp_path, dirty)
    assert "dirty tree" in check_e2e_recorded(ctx).evidence
    # green: passed, naming the commit
    green = TestRecord(
        commit, clean=True, passed=True, exit_status=0, finished_at="2026-12-01T10:00:00+00:00"
    )
    write_record(tmp_path, green)
    result = check_e2e_recorded(ctx)
    assert result.status is Status.PASSED and commit[:12] in result.evidence
