"""The test record: what ``make test`` leaves when the whole suite ran on a commit.

``.test-records/<commit>.json`` (gitignored; ``VECTORA_TEST_RECORDS`` names another folder, for the
writer and the reader alike): commit, whether the tree was clean at the start AND at the end of
the run, whether it passed, the counts, when it finished and pytest's exit status. Only a full run
writes one (``make test`` sets ``VECTORA_TEST_RECORD=1``; a run given paths, ``-k`` or ``-m`` never
does) and only on a clean tree: a dirty tree's run says nothing about any commit. A later run of
the same commit replaces the record, so a flaky failure is not hidden by an earlier success.

The promotion's first gate reads the record of the commit the source environment's deployment
record names.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

RECORDS_ENV: Final = "VECTORA_TEST_RECORDS"
# Set by the Makefile's test target: this run is the full suite.
FULL_RUN_ENV: Final = "VECTORA_TEST_RECORD"
DEFAULT_FOLDER: Final = ".test-records"
_COMMIT: Final = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class TestRecord:
    __test__ = False  # a record, not a pytest test class

    commit: str
    clean: bool
    passed: bool
    exit_status: int
    finished_at: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def green(self) -> bool:
        return self.clean and self.passed and self.exit_status == 0


def records_folder(root: Path) -> Path:
    """``$VECTORA_TEST_RECORDS`` or ``<root>/.test-records``."""
    configured = os.environ.get(RECORDS_ENV)
    return Path(configured) if configured else root / DEFAULT_FOLDER


def record_path(root: Path, commit: str, folder: Path | None = None) -> Path:
    if not _COMMIT.match(commit):
        raise ValueError(f"not a full commit id: {commit!r}")
    return (folder or records_folder(root)) / f"{commit}.json"


def write_record(root: Path, record: TestRecord, *, folder: Path | None = None) -> Path:
    """Write (or replace) the record of ``record.commit`` in ``folder`` or the configured folder."""
    path = record_path(root, record.commit, folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(".json.tmp")
    scratch.write_text(json.dumps(asdict(record), indent=2, sort_keys=True) + "\n")
    scratch.replace(path)
    return path


def read_record(root: Path, commit: str) -> TestRecord | None:
    """The record of ``commit``, or None (missing or unreadable)."""
    try:
        data: dict[str, Any] = json.loads(record_path(root, commit).read_text())
        return TestRecord(**data)
    except (OSError, ValueError, TypeError):
        return None


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def refusal(full_run: bool, start: Any, end: Any) -> str | None:
    """Why a finished run writes no record (None: it writes one). ``start``/``end``: the checkout
    (``gitinfo.Checkout``) read when the run started and when it ended (None: not a git checkout)."""
    if not full_run:
        return "not a full run (paths, -k, -m or deselected tests)"
    if start is None or end is None:
        return "not a git checkout"
    if start.commit != end.commit:
        return f"the commit changed during the run ({start.commit[:12]} -> {end.commit[:12]})"
    if not (start.clean and end.clean):
        return f"the tree of {end.commit[:12]} is dirty"
    return None
