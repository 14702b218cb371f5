"""The figures of docs/ are the code's: each table row is rendered again from the config objects.

docs/environments.md's table of differences is compared cell by cell with ``EnvConfig``; the
function table of docs/stacks-and-names.md with ``vectora_core.functions.FUNCTIONS``. A row the
test does not know, or a known row gone from the page, fails too: the table cannot drift from the
code in either direction.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

import pytest

from stacks.core_stack import NONCURRENT_VERSIONS_KEPT
from tests.docs.markdown_refs import REPO_ROOT
from vectora_core.environments import ENVIRONMENTS, EnvConfig
from vectora_core.functions import FUNCTIONS, Access
from vectora_core.naming import ENV_NAMES, Bucket, resource_name

DOCS = REPO_ROOT / "docs"
NONE = "—"


def table(page: str, heading: str) -> list[list[str]]:
    """The rows (header included, separator left out) of the first table under ``heading``."""
    lines = (DOCS / page).read_text(encoding="utf-8").split(f"\n{heading}\n", 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    block = list(itertools.takewhile(lambda line: line.startswith("|"), lines[start:]))
    cells = [[cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]] for row in block]
    return [row for row in cells if not all(set(cell) <= set("-: ") for cell in row)]


def _on(flag: bool) -> str:
    return "on" if flag else "off"


def _days(days: int | None, none: str = NONE) -> str:
    return none if days is None else f"{days} days"


def _snapshot_retention(c: EnvConfig) -> str:
    kept = "all" if c.snapshot_keep_newest is None else f"{c.snapshot_keep_newest} newest"
    return (
        kept
        if c.snapshot_glacier_after_days is None
        else f"{kept}; Glacier after {c.snapshot_glacier_after_days} days"
    )


# Row label (as the page writes it) -> the cell of one environment, from its config.
ENV_ROWS: dict[str, Callable[[EnvConfig], str]] = {
    "LOG_LEVEL / debug": lambda c: f"{c.log_level} / {_on(c.debug)}",
    "Lambda memory / timeout (pipeline functions)": lambda c: (
        f"{c.lambda_memory_mb} MB / {c.lambda_timeout_seconds} s"
    ),
    "log retention (function log groups, access logs)": lambda c: _days(c.log_retention_days),
    "buckets and log groups on stack delete": lambda c: (
        "retained" if c.retain_stateful else "destroyed (once empty)"
    ),
    "stack termination protection": lambda c: _on(c.termination_protection),
    "alarms and their topic": lambda c: _on(c.alarms_enabled),
    "alarm subscribers (`-c alarm_emails`)": lambda c: "required" if c.alarms_enabled else "not used",
    "noncurrent object versions kept (config, data, newsletters, lambda-code; "
    f"the {NONCURRENT_VERSIONS_KEPT} newest always)": lambda c: _days(c.noncurrent_version_days),
    "pre-update snapshot failure": lambda c: (
        "fails the update" if c.snapshot_failure_fails_update else "warns"
    ),
    "snapshot retention": _snapshot_retention,
    "removed snapshots recoverable (noncurrent versions in the backups bucket)": lambda c: _days(
        c.backups_noncurrent_days, "no expiry"
    ),
    "extra Lambda variables (`-c extra_env`)": lambda c: "allowed" if c.extra_env_allowed else "refused",
    "direct changes (`publish_config.py`)": lambda c: "allowed" if c.direct_changes_allowed else "refused",
    "a snapshot newer than the last change, before a publish": lambda c: (
        "— (no publish)"
        if not c.direct_changes_allowed
        else "required"
        if c.change_needs_recent_snapshot
        else "not needed"
    ),
    "rollback approval (`--approve`)": lambda c: "required" if c.approval_required else "not needed",
    "promoted from": lambda c: c.promoted_from or NONE,
    "source stable before a promotion": lambda c: _days(c.source_stability_days),
    "watch after a promotion": lambda c: (
        NONE if c.post_promotion_watch_hours is None else f"{c.post_promotion_watch_hours} hours"
    ),
    "region / Bedrock region": lambda c: f"{c.region} / {c.bedrock_region}",
}


def test_the_environment_table_is_the_configs() -> None:
    header, *rows = table("environments.md", "## The differences")
    assert header == ["", *ENV_NAMES]
    assert [row[0] for row in rows] == list(ENV_ROWS), "rows added, removed or renamed: update ENV_ROWS"
    for label, *cells in rows:
        expected = [ENV_ROWS[label](ENVIRONMENTS[env]) for env in ENV_NAMES]
        assert cells == expected, f"row {label!r}"


def test_what_every_environment_shares_is_written_once_and_right() -> None:
    text = (DOCS / "environments.md").read_text(encoding="utf-8")
    configs = list(ENVIRONMENTS.values())
    for field in ("region", "bedrock_model_id", "bedrock_foundation_model_id"):
        assert len({getattr(c, field) for c in configs}) == 1, (
            f"{field} now differs: the page says it does not"
        )
    dev = configs[0]
    assert dev.account is None and f"region `{dev.region}`" in text
    assert f"Bedrock model `{dev.bedrock_model_id}`" in text
    assert f"(`{dev.bedrock_foundation_model_id}`)" in text
    assert "only through that profile (a condition on `bedrock:InferenceProfileArn`)" in " ".join(
        text.split()
    )


def _access(pairs: tuple[tuple[Bucket, str], ...]) -> str:
    by_bucket: dict[Bucket, list[str]] = {}
    for bucket, prefix in pairs:
        by_bucket.setdefault(bucket, []).append(f"`{prefix}`" if prefix else "every key")
    return "; ".join(f"{bucket}: {', '.join(prefixes)}" for bucket, prefixes in by_bucket.items())


def _calls(access: Access) -> str:
    return ", ".join(
        name for name, used in (("PubMed key", access.pubmed_key), ("Bedrock", access.bedrock)) if used
    )


def test_the_function_table_is_the_specs() -> None:
    header, *rows = table("stacks-and-names.md", "## The pipeline functions")
    assert header == ["function", "code", "reads", "writes", "calls", "variables"]
    expected = [
        [
            f"`{resource_name(name, 'dev').removesuffix('-dev')}-{{env}}`",
            f"`lambdas/{spec.code_dir}/`",
            _access(spec.access.reads),
            _access(spec.access.writes),
            _calls(spec.access),
            ", ".join(f"`{v}`" for v in spec.variables),
        ]
        for name, spec in FUNCTIONS.items()
    ]
    assert rows == expected


@pytest.mark.parametrize("page", ["environments.md", "stacks-and-names.md"])
def test_the_pages_say_which_test_checks_them(page: str) -> None:
    assert "`tests/docs/test_figures.py`" in (DOCS / page).read_text(encoding="utf-8")
