"""What the documents describe that lives on a branch not merged into this one yet.

Each entry is a repository path (or ``make:<target>``) and the branch that brings it. While it is
absent, the checks that need it are expected to fail (strict xfail) instead of failing the suite;
once it is here, ``test_pending_entries_are_still_missing`` fails until the entry is removed, so
the final tree checks everything and skips nothing.
"""

from __future__ import annotations

from typing import Final

PENDING_MERGE: Final[dict[str, str]] = {}
