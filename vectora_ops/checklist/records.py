"""« Tests E2E passés avant promotion »: the green record `make test` leaves for a commit, read for
the commit the environment runs.

The commit comes from the newest deployment record in the environment's backups bucket (what a
guarded deploy or a promotion wrote); an environment deployed otherwise (`make local`, a plain
`cdk deploy`) has none, and the checkout's commit stands in, said so. A red record is ✗; no record
is – with what to run: the promotion gate itself refuses without a green one.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from vectora_ops.checklist.context import Context
from vectora_ops.checklist.model import Result, failed, not_checked, passed
from vectora_ops.errors import OperationError
from vectora_ops.operation.records import latest_deployment
from vectora_ops.promotion import gitinfo
from vectora_ops.promotion.testrecords import read_record


def deployed_commit(ctx: Context) -> tuple[str | None, str]:
    """(commit, where it comes from)."""
    if ctx.deployed is not None:
        try:
            latest = latest_deployment(ctx.deployed.aws)
        except (OperationError, ClientError, BotoCoreError):  # no bucket yet, unreachable: no record
            latest = None
        if latest is not None and latest[1].commit:
            return latest[1].commit, f"deployed ({latest[1].via}, {latest[0]})"
    try:
        return gitinfo.checkout(ctx.root).commit, "this checkout (no deployment record)"
    except gitinfo.GitError as err:
        return None, f"no deployment record, and no git checkout: {err}"


def e2e_record(ctx: Context) -> Result:
    commit, source = deployed_commit(ctx)
    if commit is None:
        return not_checked(source)
    record = read_record(ctx.root, commit)
    if record is None:
        return not_checked(f"no make test record for {commit[:12]} ({source}): run make test on a clean tree")
    if not record.green:
        why = "dirty tree" if not record.clean else f"exit status {record.exit_status}"
        return failed(f"make test of {commit[:12]} ({source}) is not green: {why}")
    return passed(f"make test green for {commit[:12]} ({source}) at {record.finished_at}")
