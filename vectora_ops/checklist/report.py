"""The checklist's table and its verdict."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from rich.console import Console
from rich.table import Table

from vectora_ops.checklist.model import Item, Result, Status


def table(env: str, rows: Sequence[tuple[Item, Result]], where: str) -> Table:
    shown = Table(title=f"Checklist {env} (deployed state: {where})", title_justify="left", show_lines=False)
    for column in ("item", "", "evidence", "enforced by"):
        shown.add_column(column, overflow="fold")
    for item, result in rows:
        shown.add_row(f"{item.id}\n{item.label}", result.status.value, result.evidence, "\n".join(item.tests))
    return shown


def print_table(env: str, rows: Sequence[tuple[Item, Result]], where: str, out: TextIO | None = None) -> None:
    show(table(env, rows, where), out)


def show(shown: Table, out: TextIO | None = None) -> None:
    """Print a table (the checklist's, the preflight's) on ``out`` (stdout)."""
    stream = out or sys.stdout
    # A terminal gets its width; a pipe or a file a wide, plain table (a CI log, a grep).
    console = Console(file=stream, width=None if stream.isatty() else 200, no_color=not stream.isatty())
    console.print(shown)


def failures(rows: Sequence[tuple[Item, Result]]) -> list[str]:
    return [item.id for item, result in rows if result.status is Status.FAILED]


def counts(rows: Sequence[tuple[object, Result]]) -> str:
    return ", ".join(f"{sum(r.status is s for _, r in rows)} {s.value}" for s in Status)
