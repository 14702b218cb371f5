"""The restore after a failed promotion or deploy (``recovery.restore``) never raises: its outcome
is the operation's. A Ctrl-C while it restores stops it and says NOT restored with the command that
restores the snapshot by hand; once verified, a lost connection or a Ctrl-C on its deployment
record leaves it restored (and says the record is missing). No AWS here: the rollback and the
reads are stand-ins, the point is what reaches the operation's one line.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from vectora_ops.environment import Environment
from vectora_ops.operation import records, recovery
from vectora_ops.operation import rollback as rollbacks
from vectora_ops.operation.records import DeploymentRecord
from vectora_ops.operation.state import EnvState
from vectora_ops.operation.steps import Steps

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
SNAPSHOT = "pre_promotion_from_dev_20261205_080000"
STATE = EnvState("stage", functions={"ingest": "sha"})
PREVIOUS = DeploymentRecord("stage", "promotion", "c0ffee", True, "ana@host", "t", "t", None, {}, {})


def restore(env: str = "stage") -> tuple[bool, str]:
    try:
        return recovery.restore(
            Steps(None, lambda: NOW), Environment(env), SNAPSHOT, before=STATE, previous=PREVIOUS,
            approve=None, clock=lambda: NOW, progress=None, started=NOW, cause={"kind": "promotion"},
        )  # fmt: skip
    except KeyboardInterrupt:  # it would replace the operation's outcome (and stop this run)
        pytest.fail("the Ctrl-C escaped the restore")


def rollback_that(run: Callable[..., Any]) -> Callable[..., Any]:
    """A stand-in for ``Rollback``: whatever it is asked, its ``run`` is ``run``."""
    return lambda *_a, **_k: SimpleNamespace(run=run)


@pytest.fixture(autouse=True)
def verified(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rollbacks, "Rollback", rollback_that(lambda: None))
    monkeypatch.setattr(recovery, "read_state", lambda *_a, **_k: STATE)
    monkeypatch.setattr(records, "read_state", lambda *_a, **_k: STATE)  # the rollback record's


@pytest.mark.parametrize("env", ["stage", "prod"])
def test_a_ctrl_c_during_the_restore_says_not_restored_and_how_to_restore(
    monkeypatch: pytest.MonkeyPatch, env: str
) -> None:
    def interrupted(*_: Any, **__: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(rollbacks, "Rollback", rollback_that(interrupted))
    restored, line = restore(env)
    assert restored is False and "\n" not in line
    assert line.startswith(f"restoring {SNAPSHOT} FAILED (interrupted): restore it by hand with ")
    command = f"scripts/maintenance/rollback_snapshot.py --env {env} --snapshot {SNAPSHOT} --components "
    assert command in line and "stacks" in line
    assert ('--approve "<who>"' in line) is (env == "prod")


def test_a_ctrl_c_while_verifying_says_not_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_: Any, **__: Any) -> EnvState:
        raise KeyboardInterrupt

    monkeypatch.setattr(recovery, "read_state", interrupted)
    restored, line = restore()
    assert restored is False and "FAILED (interrupted)" in line and "rollback_snapshot.py" in line


def test_a_lost_connection_on_the_rollback_record_leaves_it_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    def lost(*_: Any, **__: Any) -> str:
        raise EndpointConnectionError(endpoint_url="http://aws.invalid")

    monkeypatch.setattr(records, "write_deployment", lost)
    restored, line = restore()
    assert restored is True and "\n" not in line
    assert line.startswith(f"stage restored from {SNAPSHOT} and verified equal to its state before")
    assert "rollback deployment record could not be written: EndpointConnectionError" in line


def test_a_ctrl_c_on_the_rollback_record_is_held_until_it_is_written(monkeypatch: pytest.MonkeyPatch) -> None:
    written: list[DeploymentRecord] = []

    def write(_clients: Any, record: DeploymentRecord) -> str:
        os.kill(os.getpid(), signal.SIGINT)  # the operator's Ctrl-C, as the record is written
        written.append(record)
        return "s3://backups/deployments/x_rollback.json"

    monkeypatch.setattr(records, "write_deployment", write)
    restored, line = restore()
    assert restored is True and line.endswith("verified equal to its state before")
    assert [r.via for r in written] == ["rollback"]
