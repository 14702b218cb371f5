"""Sécurité: no direct change of prod, a recent snapshot, a possible rollback, E2E recorded green.

The guards are rehearsed, not read: each operation is asked, in this process, to change prod the
way a person would (publish a config, deploy, roll back without an approval, clean up snapshots)
with AWS clients that cannot send anything, so a guard that refuses first is proven to refuse and
a guard that is gone shows up as an operation reaching for AWS.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from vectora_core.environments import ENVIRONMENTS
from vectora_ops.checklist.context import Context, Deployed, on_deployed, unreachable
from vectora_ops.checklist.freshness import snapshot_command, stale_reason
from vectora_ops.checklist.model import Result, failed, passed
from vectora_ops.environment import Environment
from vectora_ops.errors import OperationError, one_line, typed_line
from vectora_ops.sessions import new_session
from vectora_ops.snapshots import SnapshotEngine
from vectora_ops.snapshots.store import LocalStore

# The environments that take no direct change (prod): the guards are rehearsed against them.
GUARDED: Final = tuple(name for name, config in ENVIRONMENTS.items() if not config.direct_changes_allowed)
REHEARSAL_SNAPSHOT: Final = "checklist_rehearsal_20000101_000000"


class OfflineCall(RuntimeError):
    """An AWS request a guard should have made unnecessary by refusing first."""


def offline_session(region: str) -> Any:
    """A boto3 session whose every request raises OfflineCall before it is sent."""
    offline = "offline"  # credentials of a session that sends nothing
    session = new_session(aws_access_key_id=offline, aws_secret_access_key=offline, region_name=region)

    def refuse(request: Any, **_: Any) -> None:
        raise OfflineCall(f"{request.method} {request.url.split('?')[0]}")

    session.events.register("before-send", refuse)
    return session


def _rehearse(operation: Callable[[], Any], refusal_words: str) -> str | None:
    """None when ``operation`` is refused with a message holding ``refusal_words``, else what happened."""
    try:
        operation()
    except OfflineCall as err:
        return f"not refused: it went on to call AWS ({err})"
    except OperationError as err:
        return None if refusal_words in str(err) else f"refused for another reason: {one_line(err)}"
    except Exception as err:  # noqa: BLE001  # any other outcome is a guard that did not hold
        return f"not refused: {typed_line(err)}"
    return "not refused: it completed"


def _publish(env: str, session: Any, _work: Path) -> str | None:
    from vectora_ops.config.cli import publish

    return _rehearse(
        lambda: publish(env, [], s3=session.client("s3"), lambda_client=session.client("lambda")),
        "promotion",
    )


def _deploy(env: str, session: Any, _work: Path) -> str | None:
    from vectora_ops.promotion.deploy import GuardedDeploy

    root = Path(__file__).resolve().parents[2]
    return _rehearse(
        lambda: GuardedDeploy(env=env, root=root, alarm_emails=None, session=session).run(), "promotion"
    )


def _engine(env: str, session: Any, work: Path) -> SnapshotEngine:
    aws = Environment(env, session=session, workers=1)
    return SnapshotEngine(env, aws=aws, store=LocalStore(aws, work))


def _rollback(env: str, session: Any, work: Path) -> str | None:
    from vectora_ops.operation.rollback import Rollback

    return _rehearse(lambda: Rollback(_engine(env, session, work), REHEARSAL_SNAPSHOT).run(), "--approve")


def _cleanup(env: str, session: Any, work: Path) -> str | None:
    return _rehearse(lambda: _engine(env, session, work).cleanup(0), "never deletes")


GUARDS: Final[dict[str, Callable[[str, Any, Path], str | None]]] = {
    "publish": _publish,
    "deploy": _deploy,
    "rollback without approval": _rollback,
    "cleanup": _cleanup,
}


def check_no_direct_prod_change(ctx: Context) -> Result:
    if not GUARDED:
        return failed("every environment takes direct changes: none is protected like prod")
    problems = []
    for env in GUARDED:
        session = offline_session(ENVIRONMENTS[env].region)
        for guard, rehearse in GUARDS.items():
            with tempfile.TemporaryDirectory(prefix="vectora-checklist-guard-") as work:
                problem = rehearse(env, session, Path(work))
            if problem:
                problems.append(f"{guard} --env {env}: {problem}")
    if problems:
        return failed("; ".join(problems))
    return passed(f"{', '.join(GUARDS)} --env {'/'.join(GUARDED)}: each refused before any AWS call")


def check_recent_snapshot(ctx: Context) -> Result:
    return on_deployed(ctx, recent_snapshot)


def recent_snapshot(ctx: Context, deployed: Deployed) -> Result:
    if reason := stale_reason(deployed.aws, deployed.snapshots):
        return failed(f"{reason}: {snapshot_command(ctx.env, 'NAME')}")
    newest = deployed.newest_complete()
    return passed(f"{newest.snapshot_id if newest else 'the newest snapshot'} is newer than the last change")


def check_rollback_possible(ctx: Context) -> Result:
    if ctx.deployed is None:
        return unreachable(ctx)
    newest = ctx.deployed.newest_complete()
    if newest is None:
        return failed(f"no complete snapshot to roll back to: {snapshot_command(ctx.env, 'NAME')}")
    try:
        metadata = ctx.deployed.engine.verify(newest.snapshot_id)
    except OperationError as err:
        return failed(one_line(err))
    return passed(
        f"{newest.snapshot_id} validates: {len(metadata.files)} files, sizes and SHA-256 as recorded"
    )


def check_e2e_recorded(ctx: Context) -> Result:
    from vectora_ops.checklist.records import e2e_record

    return e2e_record(ctx)
