"""Rich tables for plans, gates, drift reports and the watch state (the CLI prints them)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from vectora_ops.promotion.gates import Gate
from vectora_ops.promotion.plan import SAME, Plan, Row

_STYLE = {SAME: "green", "update": "yellow", "add": "cyan", "remove": "red"}


def rows_table(title: str, rows: list[Row], left: str, right: str) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    for column in ("kind", "name", left, right, "change"):
        table.add_column(column, overflow="fold")
    for row in rows:
        style = _STYLE.get(row.change, "magenta")
        table.add_row(row.kind, row.name, row.source, row.target, f"[{style}]{row.change}[/{style}]")
    return table


def plan_tables(plan: Plan) -> list[Table]:
    """Code and layers, configs, stacks: the source beside the target."""
    left, right = plan.source_env, plan.target_env
    code = [r for r in plan.rows if r.kind in ("function", "layer")]
    configs = [r for r in plan.rows if r.kind in ("client config", "canonical")]
    stacks = Table(title="stacks (the source assembly's template vs the deployed one)", title_justify="left")
    for column in ("stack", "summary", "added", "changed", "removed"):
        stacks.add_column(column, overflow="fold")
    for name, diff in sorted(plan.stacks.items()):
        # A new stack's resources are all "added": the summary says how many, the audit lists them.
        added = "" if diff.new_stack else "\n".join(diff.added)
        stacks.add_row(name, diff.summary(), added, "\n".join(diff.changed), "\n".join(diff.removed))
    return [
        rows_table(f"code: functions and layers ({left} -> {right})", code, left, right),
        rows_table(f"client configs and canonical files ({left} -> {right})", configs, left, right),
        stacks,
    ]


def gates_table(gates: list[Gate]) -> Table:
    table = Table(title="gates", title_justify="left")
    for column in ("gate", "result", "detail"):
        table.add_column(column, overflow="fold")
    for gate in gates:
        result = "skipped" if gate.skipped else ("ok" if gate.passed else "REFUSED")
        style = "yellow" if gate.skipped else ("green" if gate.passed else "red")
        detail = gate.skipped or (gate.problem or "") + (
            f" - {gate.fix}" if gate.fix and not gate.passed else ""
        )
        table.add_row(gate.name, f"[{style}]{result}[/{style}]", detail or _brief(gate.evidence))
    return table


def _brief(evidence: dict[str, Any]) -> str:
    parts = [
        f"{k}: {v}"
        for k, v in evidence.items()
        if isinstance(v, str | int | float | bool) and v not in ("", None)
    ]
    return "; ".join(parts)[:200]
