"""The preflight's table: one row per check, ✓/✗/–, its evidence and, for a ✗, the fix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from rich.table import Table

from vectora_ops.checklist.report import counts, show
from vectora_ops.preflight.model import Check, Finding


def table(env: str, rows: Sequence[tuple[Check, Finding]], where: str) -> Table:
    shown = Table(title=f"Preflight {env} ({where})", title_justify="left")
    for column in ("check", "", "evidence", "fix"):
        shown.add_column(column, overflow="fold")
    for check, finding in rows:
        shown.add_row(
            f"{check.id}\n{check.label}", finding.status.value, finding.result.evidence, finding.fix or ""
        )
    return shown


def print_report(
    env: str, rows: Sequence[tuple[Check, Finding]], where: str, out: TextIO | None = None
) -> None:
    show(table(env, rows, where), out)
    print(counts([(check, finding.result) for check, finding in rows]), file=out)
