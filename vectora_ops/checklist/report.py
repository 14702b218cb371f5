"""The checklist's table and its verdict."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import TextIO

from rich.console import Console
from rich.table import Table

from vectora_ops.checklist.model import Item, Result, Status


def print_table(env: str, rows: Sequence[tuple[Item, Result]], where: str, out: TextIO | None = None) -> None:
    cells = [(f"{i.id}\n{i.label}", r.status.value, r.evidence, "\n".join(i.tests)) for i, r in rows]
    show(f"Checklist {env} (deployed state: {where})", ("item", "", "evidence", "enforced by"), cells, out)


def show(
    title: str, columns: Sequence[str], rows: Iterable[Sequence[str]], out: TextIO | None = None
) -> None:
    """Print a table (the checklist's, the preflight's) on ``out`` (stdout)."""
    shown = Table(title=title, title_justify="left")
    for column in columns:
        shown.add_column(column, overflow="fold")
    for row in rows:
        shown.add_row(*row)
    stream = out or sys.stdout
    # A terminal gets its width; a pipe or a file a wide, plain table (a CI log, a grep).
    console = Console(file=stream, width=None if stream.isatty() else 200, no_color=not stream.isatty())
    console.print(shown)


def failures(rows: Sequence[tuple[Item, Result]]) -> list[str]:
    return [item.id for item, result in rows if result.status is Status.FAILED]


def counts(rows: Sequence[tuple[object, Result]]) -> str:
    return ", ".join(f"{sum(r.status is s for _, r in rows)} {s.value}" for s in Status)
