"""Snapshot ids ``{name}_{YYYYMMDD_HHMMSS}`` (UTC), component names and their validation.

Pure functions: the scripts and the engine validate every user input here before any AWS call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final

from vectora_core.snapshots.errors import SnapshotError

LAMBDA_CONFIG: Final = "lambda_config"
LAMBDA_CODE: Final = "lambda_code"
LAYERS: Final = "layers"
CLIENT_CONFIG: Final = "client_config"
CANONICAL: Final = "canonical"
CURATED: Final = "curated"
STACKS: Final = "stacks"
COMPONENTS: Final = (LAMBDA_CONFIG, LAMBDA_CODE, LAYERS, CLIENT_CONFIG, CANONICAL, CURATED, STACKS)
# `stacks` redeploys whole templates through CloudFormation: only on explicit request.
DEFAULT_ROLLBACK_COMPONENTS: Final = tuple(c for c in COMPONENTS if c != STACKS)
LAMBDA_COMPONENTS: Final = (LAMBDA_CONFIG, LAMBDA_CODE, LAYERS)

TIMESTAMP_FORMAT: Final = "%Y%m%d_%H%M%S"
# Names become S3 key segments and file names: a conservative, readable alphabet.
_NAME_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_ID_RE: Final = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]{0,127})_(?P<ts>\d{8}_\d{6})$")
_CLIENT_RE: Final = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
ID_EXAMPLE: Final = "lai_v7_stable_20260130_143022"


def check_name(name: str) -> str:
    if not _NAME_RE.match(name or ""):
        raise SnapshotError(
            f"invalid snapshot name {name!r}: use 1-128 letters, digits, '_', '-' or '.', "
            "starting with a letter or digit"
        )
    return name


def check_client(client: str) -> str:
    if not _CLIENT_RE.match(client or ""):
        raise SnapshotError(
            f"invalid client id {client!r}: use lower-case letters, digits, '_' or '-' (e.g. lai_weekly)"
        )
    return client


def make_id(name: str, when: datetime) -> str:
    return f"{name}_{when.astimezone(UTC).strftime(TIMESTAMP_FORMAT)}"


def parse_id(snapshot_id: str) -> tuple[str, datetime]:
    """``(name, timestamp)`` of a snapshot id; a one-line SnapshotError if it is malformed."""
    match = _ID_RE.match(snapshot_id or "")
    when = None
    if match:
        try:
            when = datetime.strptime(match["ts"], TIMESTAMP_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            when = None
    if match is None or when is None:
        raise SnapshotError(
            f"malformed snapshot id {snapshot_id!r}: expected {{name}}_{{YYYYMMDD_HHMMSS}}, e.g. {ID_EXAMPLE}"
        )
    return match["name"], when


def is_snapshot_id(text: str) -> bool:
    try:
        parse_id(text)
    except SnapshotError:
        return False
    return True


def check_components(components: Iterable[str] | str | None, *, default: Iterable[str]) -> tuple[str, ...]:
    """Ordered, de-duplicated components; accepts a comma-separated string (the CLI's form)."""
    if components is None:
        return tuple(default)
    items = components.split(",") if isinstance(components, str) else list(components)
    chosen = {item.strip() for item in items if item.strip()}
    unknown = sorted(chosen - set(COMPONENTS))
    if unknown:
        raise SnapshotError(f"unknown component {unknown[0]!r}: allowed values are {', '.join(COMPONENTS)}")
    if not chosen:
        raise SnapshotError(f"no component given: allowed values are {', '.join(COMPONENTS)}")
    return tuple(c for c in COMPONENTS if c in chosen)
