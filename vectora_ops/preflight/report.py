"""The preflight's table: one row per check, ✓/✗/–, its evidence and, for a ✗, the fix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from vectora_ops.checklist.report import counts, show
from vectora_ops.preflight.model import Check, Finding


def print_report(
    env: str, rows: Sequence[tuple[Check, Finding]], where: str, out: TextIO | None = None
) -> None:
    cells = [(f"{c.id}\n{c.label}", f.status.value, f.result.evidence, f.fix or "") for c, f in rows]
    show(f"Preflight {env} ({where})", ("check", "", "evidence", "fix"), cells, out)
    print(counts([(check, finding.result) for check, finding in rows]), file=out)
