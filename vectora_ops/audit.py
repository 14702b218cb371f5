"""Audit records: where they go and how their keys are built from user input, safely.

Every attempt to change an environment (rollback, promotion, deploy) appends one JSON record in
that environment's backups bucket under ``audit/<kind>/``; so does every archive of snapshots
(``audit/archives/``: it moves the environment's backups out of immediate reach). Keys are built
only from validated values or from ``safe_label()``, never from raw input: a snapshot id such as
``../../etc`` must not become a path outside the audit folder or a key with ``..`` segments.
"""

from __future__ import annotations

import getpass
import re
import socket
from datetime import UTC, datetime
from typing import Any, Final

AUDIT_PREFIX: Final = "audit/"
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]+")
MAX_LABEL: Final = 100


def operator() -> str:
    """``user@host``: who runs the operation, for its records (the ``operator`` key) and its lock;
    the user is ``unknown`` where there is no user database (a container)."""
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001  # no user database in a container: the audit still gets written
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def audit_entry(kind: str, started: datetime, **fields: Any) -> dict[str, Any]:
    """How every audit record begins, so that they all read alike: what was attempted (``kind``),
    by whom (``operator``), since when (``started_at``, UTC), then ``fields``; each outcome adds
    its ``result``."""
    moment = started.astimezone(UTC).isoformat(timespec="seconds")
    return {"kind": kind, "operator": operator(), "started_at": moment, **fields}


def safe_label(text: str, max_len: int = MAX_LABEL) -> str:
    """``text`` reduced to ``[A-Za-z0-9._-]`` (runs of anything else become one ``-``), with no
    leading dot and no ``..``: usable as one key segment or one file name, whatever it was."""
    label = _UNSAFE.sub("-", text or "")
    label = re.sub(r"\.{2,}", "-", label).strip(".-")
    return label[:max_len] or "unnamed"


def dated_key(folder: str, moment: datetime, label: str) -> str:
    """``<folder><UTC timestamp>_<label>.json`` (keys that sort by time), ``label`` made safe."""
    return f"{folder}{moment.astimezone(UTC).strftime('%Y%m%dT%H%M%S%fZ')}_{safe_label(label)}.json"


def audit_key(kind: str, started: datetime, label: str) -> str:
    """``audit/<kind>/<UTC timestamp>_<label>.json``; ``kind`` is the project's own word
    (``rollbacks``, ``promotions``, ``deploys``), ``label`` any text (made safe here)."""
    if not re.fullmatch(r"[a-z]+", kind):
        raise ValueError(f"audit kind {kind!r} must be lowercase letters")
    return dated_key(f"{AUDIT_PREFIX}{kind}/", started, label)
