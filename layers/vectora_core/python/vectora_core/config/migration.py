"""Turning an old-style client config (``client_id: lai_weekly_v7``) into the current format.

The version leaves the id: ``lai_weekly_v7`` becomes ``client_id: lai_weekly`` with
``client_profile.version: 7.0.0`` (``_v7_1`` -> ``7.1.0``), ``metadata.config_version`` follows,
and the changelog gets a first entry saying what the migration did. Everything else is kept.
"""

from __future__ import annotations

import copy
import re
from datetime import date
from typing import Any

from vectora_core.config.schema import SEMVER, VERSION_SUFFIX


class MigrationError(ValueError):
    """The document is not an old-style config this helper knows how to migrate."""


def version_from_suffix(suffix: str) -> str:
    numbers = [int(n) for n in re.findall(r"\d+", suffix)][:3]
    numbers += [0] * (3 - len(numbers))
    return ".".join(str(n) for n in numbers)


def migrate(old: dict[str, Any], *, today: date, version: str | None = None) -> dict[str, Any]:
    """The new-format document for ``old`` (not validated here: the caller validates the result)."""
    if not isinstance(old, dict):
        raise MigrationError("the document must be a mapping of keys")
    doc = copy.deepcopy(old)
    profile = doc.get("client_profile")
    if profile is None:
        profile = {}
    if not isinstance(profile, dict):
        raise MigrationError("client_profile must be a mapping")
    # Oldest layout: client_id (and name, language) at the top level.
    for key in ("client_id", "name", "language", "version"):
        if key in doc and key not in profile:
            profile[key] = doc.pop(key)
    old_id = profile.get("client_id")
    if not isinstance(old_id, str) or not old_id:
        raise MigrationError(
            "no client_id found (expected client_profile.client_id or a top-level client_id)"
        )
    suffix = VERSION_SUFFIX.search(old_id)
    new_id = old_id[: suffix.start()] if suffix else old_id
    if version is None:
        existing = str(profile.get("version") or "")
        version = existing if SEMVER.match(existing) else None
    if version is None:
        if suffix is None:
            raise MigrationError(
                f"client_id {old_id!r} has no version suffix and no semantic version: pass --version X.Y.Z"
            )
        version = version_from_suffix(suffix.group(0))
    if not SEMVER.match(version):
        raise MigrationError(f"version {version!r} is not a semantic version MAJOR.MINOR.PATCH")
    new_profile = {"client_id": new_id, "version": version}
    new_profile.update({k: v for k, v in profile.items() if k not in new_profile})
    metadata = doc.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise MigrationError("metadata must be a mapping")
    changelog = [e for e in (metadata.get("changelog") or []) if isinstance(e, dict)]
    for entry in changelog:
        # Old entries sometimes wrote "v6" or "6.2": normalise them so the schema accepts them.
        raw = str(entry.get("version", "")).lstrip("v")
        if raw and not SEMVER.match(raw):
            entry["version"] = version_from_suffix(raw)
        elif raw:
            entry["version"] = raw
    if not changelog or changelog[0].get("version") != version:
        changes = f"Migrated from client_id {old_id}: stable id {new_id}, version {version} in client_profile"
        changelog.insert(0, {"version": version, "date": today.isoformat(), "changes": changes})
    new_metadata = {"config_version": version, "changelog": changelog}
    new_metadata.update({k: v for k, v in metadata.items() if k not in new_metadata})
    result: dict[str, Any] = {"client_profile": new_profile, "metadata": new_metadata}
    result.update({k: v for k, v in doc.items() if k not in result})
    return result
