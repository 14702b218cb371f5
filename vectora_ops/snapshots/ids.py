"""Snapshot ids ``{name}_{YYYYMMDD_HHMMSS}`` (UTC), patterns over them, component names, client ids.

Pure functions: the scripts validate every user input here (argparse ``type=``) before any AWS
call, and the engine checks again what it receives. A name, an id or a pattern becomes an S3 key
segment and a file name, so the alphabet is conservative and ``..`` is never accepted.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final

from vectora_core.naming import CLIENT_ID_RULE, is_client_id
from vectora_ops.errors import SnapshotError

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
MAX_NAME: Final = 128
_NAME: Final = rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{MAX_NAME - 1}}}"
_NAME_RE: Final = re.compile(rf"^{_NAME}$")
_ID_RE: Final = re.compile(rf"^(?P<name>{_NAME})_(?P<ts>\d{{8}}_\d{{6}})$")
_GLOB_CHARS: Final = "*?["
_PATTERN_RE: Final = re.compile(rf"^[A-Za-z0-9._*?\[\]-]{{1,{MAX_NAME + 16}}}$")
ID_EXAMPLE: Final = "lai_v7_stable_20260130_143022"
# An age in days (--older-than): a century is more than any retention; beyond ~2.7 million years a
# date minus that many days would not even be a date.
MAX_DAYS: Final = 36500


def check_name(name: str) -> str:
    """``name`` if it can name a snapshot (1-128 of ``[A-Za-z0-9._-]``, no ``..``)."""
    if not _NAME_RE.match(name or "") or ".." in name:
        raise SnapshotError(
            f"invalid snapshot name {name!r}: use 1-{MAX_NAME} letters, digits, '_', '-' or '.' "
            "(no '..'), starting with a letter or digit"
        )
    return name


def check_client(client: str) -> str:
    if not is_client_id(client or ""):
        raise SnapshotError(f"invalid client id {client!r}: {CLIENT_ID_RULE} (e.g. lai_weekly)")
    return client


def check_days(days: int) -> int:
    """``days`` if it is an age the engine can compare snapshots with: a whole number, 0-MAX_DAYS."""
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_DAYS:
        raise SnapshotError(f"--older-than must be a whole number of days from 0 to {MAX_DAYS}, not {days!r}")
    return days


def make_id(name: str, when: datetime) -> str:
    return f"{name}_{when.astimezone(UTC).strftime(TIMESTAMP_FORMAT)}"


def parse_id(snapshot_id: str) -> tuple[str, datetime]:
    """``(name, timestamp)`` of a snapshot id; a one-line SnapshotError if it is malformed."""
    match = _ID_RE.match(snapshot_id or "")
    with contextlib.suppress(ValueError):  # digits that are no date (20261399_...)
        if match and ".." not in snapshot_id:
            return match["name"], datetime.strptime(match["ts"], TIMESTAMP_FORMAT).replace(tzinfo=UTC)
    raise SnapshotError(
        f"malformed snapshot id {snapshot_id!r}: expected {{name}}_{{YYYYMMDD_HHMMSS}}, e.g. {ID_EXAMPLE}"
    )


def is_snapshot_id(text: str) -> bool:
    try:
        parse_id(text)
    except SnapshotError:
        return False
    return True


def is_pattern(ref: str) -> bool:
    return any(ch in ref for ch in _GLOB_CHARS)


def check_ref(ref: str) -> str:
    """A snapshot id, or a glob over the id alphabet plus ``* ? [ ]`` (``pre_deploy_*``); else a
    one-line SnapshotError. Either can safely become part of a key or a file name."""
    if not is_pattern(ref or ""):
        parse_id(ref)
    elif not _PATTERN_RE.match(ref) or ".." in ref:
        raise SnapshotError(
            f"invalid snapshot pattern {ref!r}: use letters, digits, '_', '-', '.' and the wildcards "
            "* ? [ ] (e.g. pre_deploy_*), or an id such as " + ID_EXAMPLE
        )
    return ref


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


def parse_components(text: str) -> tuple[str, ...]:
    """The CLI's ``--components a,b``: at least one, each a known component."""
    return check_components(text, default=())
