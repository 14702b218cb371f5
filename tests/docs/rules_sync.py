"""The Amazon Q rules file carries the development rules document, links rebased.

Amazon Q Developer loads ``.amazonq/rules/*.md`` into its context by itself, not ``.q-context/``;
the rules file is therefore the document itself, with a header saying where it comes from and its
relative links rewritten for its own folder. ``python -m tests.docs.rules_sync`` writes it; the
test ``test_amazonq_rules_carry_the_document`` fails when it is out of date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Final

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
DOCUMENT: Final = REPO_ROOT / ".q-context" / "vectora-inbox-development-rules.md"
AMAZONQ_RULES: Final = REPO_ROOT / ".amazonq" / "rules" / "vectora-inbox-development-rules.md"
HEADER: Final = (
    "<!-- Generated from .q-context/vectora-inbox-development-rules.md by "
    "`python -m tests.docs.rules_sync`: edit that file, not this one. -->\n\n"
)
# ](../x) in .q-context/ is ](../../x) from .amazonq/rules/: one level deeper.
_RELATIVE_LINK: Final = re.compile(r"\]\(\.\./")


def render() -> str:
    """The rules file's expected text."""
    return HEADER + _RELATIVE_LINK.sub("](../../", DOCUMENT.read_text(encoding="utf-8"))


if __name__ == "__main__":
    AMAZONQ_RULES.parent.mkdir(parents=True, exist_ok=True)
    AMAZONQ_RULES.write_text(render(), encoding="utf-8")
    print(f"wrote {AMAZONQ_RULES.relative_to(REPO_ROOT)}", file=sys.stderr)
