"""What a person decides: the checklist shows where the decision is recorded, it never ticks it.

A promotion records both in its audit record (``audit/promotions/`` in the target environment's
backups bucket): ``--validate "<who>"`` the business validation, ``--approve "<who>"`` the formal
approval; a promotion into an environment that needs them is refused without them.
"""

from __future__ import annotations

from vectora_core.environments import ENVIRONMENTS
from vectora_core.naming import Bucket, resource_name
from vectora_ops.checklist.context import Context
from vectora_ops.checklist.model import Result, not_checked


def _where(env: str) -> str:
    return f"s3://{resource_name(Bucket.BACKUPS, env)}/audit/promotions/"


def _target(ctx: Context) -> str:
    """The environment a promotion from ``ctx.env`` goes to, or ``ctx.env`` itself at the end of the line."""
    return next((name for name, config in ENVIRONMENTS.items() if config.promoted_from == ctx.env), ctx.env)


def check_business_validation(ctx: Context) -> Result:
    target = _target(ctx)
    return not_checked(f'recorded by a person: promote --validate "<who>" into {target}, in {_where(target)}')


def check_formal_approval(ctx: Context) -> Result:
    approving = [name for name, config in ENVIRONMENTS.items() if config.approval_required]
    return not_checked(
        f'recorded by a person: promote/rollback --approve "<who>" (required into {", ".join(approving)}), '
        f"in {', '.join(_where(e) for e in approving)}"
    )
