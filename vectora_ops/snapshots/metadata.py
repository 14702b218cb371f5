"""``snapshot_metadata.json`` as a typed model: what capture writes, what every reader relies on.

The file is written twice: when the id is reserved (``complete: false``, no files yet) and last,
with every file's SHA-256 and ``complete: true`` (or ``complete: false`` and the ``error`` that
stopped the capture). ``from_json`` reads it bounded (``MAX_METADATA_BYTES``, ``MAX_DEPTH``) and
``from_dict`` checks the shape of what it reads - a snapshot is a backup, and a backup may have
been edited by hand or damaged - so that no reader ever meets a missing field, a non-hex checksum,
a file path that leaves the snapshot's folder, or a file that exhausts memory or the stack. Every
refusal is a ``MetadataError``: readers list such a snapshot as damaged and go on with the others.

Frozen dataclasses, not pydantic: the pre-update Lambda bundles this engine with only boto3.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Final

from vectora_core.naming import ENV_NAMES
from vectora_ops.errors import SnapshotError
from vectora_ops.snapshots.ids import COMPONENTS, check_client, check_name, parse_id

FORMAT_VERSION: Final = 1
METADATA_FILE: Final = "snapshot_metadata.json"
README_FILE: Final = "README.md"
README_COMPONENT: Final = "readme"  # README.md is listed with its checksum like every other file
FILE_COMPONENTS: Final = frozenset({*COMPONENTS, README_COMPONENT})
_SHA256_RE: Final = re.compile(r"^[0-9a-f]{64}$")
# S3 keys may hold almost anything; what must never appear in a path inside the snapshot folder is
# what could leave it or be read differently on disk: empty, "." or ".." segments, a backslash,
# control characters.
_UNSAFE_REL_RE: Final = re.compile(r"[\\\x00-\x1f\x7f]")
_OPTIONAL_FILE_FIELDS: Final = ("etag", "source", "source_etag")
# What the engine writes is a few hundred bytes per file and 5 levels deep (contents' summaries
# included); these bounds are far above that and far below what would exhaust memory or the stack
# of the process reading it (json's parser recurses once per level).
MAX_METADATA_BYTES: Final = 16 * 1024 * 1024
MAX_DEPTH: Final = 32


class MetadataError(SnapshotError):
    """``snapshot_metadata.json`` is not what the engine writes (the message names the field)."""


def check_rel(rel: str) -> str:
    """A file path inside a snapshot folder: relative, no empty, ``.`` or ``..`` segment, no
    backslash or control character (the S3 keys a snapshot copies keep their other characters)."""
    if (
        not isinstance(rel, str)
        or _UNSAFE_REL_RE.search(rel)
        or any(segment in ("", ".", "..") for segment in rel.split("/"))
    ):
        raise MetadataError(f"file path {rel!r} is not a plain relative path inside the snapshot")
    return rel


def json_bytes(data: Any) -> bytes:
    """The engine's JSON files: sorted keys, indented, one trailing newline."""
    return (json.dumps(data, indent=2, sort_keys=True, default=str) + "\n").encode()


def _depth(data: Any) -> int:
    """How deeply ``data`` (parsed JSON) nests objects and arrays, without recursing."""
    deepest, todo = 0, [(data, 1)]
    while todo:
        value, level = todo.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            deepest = max(deepest, level)
            todo.extend((item, level + 1) for item in value)
    return deepest


def _field(data: Mapping[str, Any], name: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = data.get(name)
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # bool is an int in Python: a size of `true` is as wrong as a size of "12"
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        expected = " or ".join("null" if t is type(None) else t.__name__ for t in kinds)
        raise MetadataError(f"{where}{name} must be {expected}, not {type(value).__name__}")
    return value


@dataclass(frozen=True)
class FileRecord:
    """One file of a snapshot: which component it belongs to, its size and SHA-256 (hex)."""

    component: str
    sha256: str
    size: int
    etag: str | None = None
    # Where an object copied from S3 came from, and its ETag then (a cheap "unchanged" test).
    source: str | None = None
    source_etag: str | None = None

    @classmethod
    def from_dict(cls, data: Any, rel: str) -> FileRecord:
        where = f"files[{rel!r}]."
        if not isinstance(data, Mapping):
            raise MetadataError(f"files[{rel!r}] must be an object")
        component = _field(data, "component", str, where)
        if component not in FILE_COMPONENTS:
            raise MetadataError(f"{where}component {component!r} is not a snapshot component")
        sha256 = _field(data, "sha256", str, where)
        if not _SHA256_RE.match(sha256):
            raise MetadataError(f"{where}sha256 is not 64 lower-case hex digits")
        size = _field(data, "size", int, where)
        if size < 0:
            raise MetadataError(f"{where}size must be >= 0")
        optional = {k: _field(data, k, (str, type(None)), where) for k in _OPTIONAL_FILE_FIELDS}
        return cls(component, sha256, size, **optional)

    def to_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


@dataclass(frozen=True)
class SnapshotMetadata:
    """The whole of ``snapshot_metadata.json``.

    ``contents`` is the per-component summary shown in the README and the previews (free-form:
    sources, counts, what was absent); ``files`` is what a restore and a verification read.
    """

    snapshot_id: str
    name: str
    env: str
    client: str | None
    components: tuple[str, ...]
    created_at: str
    complete: bool = False
    location: str | None = None
    contents: Mapping[str, Any] = field(default_factory=dict)
    files: Mapping[str, FileRecord] = field(default_factory=dict)
    error: str | None = None
    format: int = FORMAT_VERSION

    def files_of(self, *components: str) -> dict[str, FileRecord]:
        return {rel: rec for rel, rec in self.files.items() if rec.component in components}

    def completed(
        self, location: str, contents: Mapping[str, Any], files: Mapping[str, FileRecord]
    ) -> SnapshotMetadata:
        return replace(
            self, complete=True, location=location, contents=contents, files=dict(sorted(files.items()))
        )

    def failed(self, error: str) -> SnapshotMetadata:
        return replace(self, complete=False, error=error)

    @classmethod
    def from_dict(cls, data: Any) -> SnapshotMetadata:
        if not isinstance(data, Mapping):
            raise MetadataError("snapshot_metadata.json is not a JSON object")
        snapshot_id = _field(data, "snapshot_id", str, "")
        name = _field(data, "name", str, "")
        client = _field(data, "client", (str, type(None)), "")
        try:
            parse_id(snapshot_id)
            check_name(name)
            if client is not None:
                check_client(client)
        except SnapshotError as err:
            raise MetadataError(str(err)) from None
        env = _field(data, "env", str, "")
        if env not in ENV_NAMES:
            raise MetadataError(f"env {env!r} is not an environment ({', '.join(ENV_NAMES)})")
        components = _field(data, "components", list, "")
        unknown = [c for c in components if not isinstance(c, str) or c not in COMPONENTS]
        if unknown:
            raise MetadataError(f"components holds {unknown[0]!r}, not a snapshot component")
        if len(set(components)) != len(components):
            raise MetadataError("components lists a component twice")
        files = _field(data, "files", dict, "") if "files" in data else {}
        complete = _field(data, "complete", bool, "")
        location = _field(data, "location", (str, type(None)), "")
        if complete and location is None:
            raise MetadataError("a complete snapshot must have a location")
        return cls(
            snapshot_id=snapshot_id,
            name=name,
            env=env,
            client=client,
            components=tuple(components),
            created_at=_field(data, "created_at", str, ""),
            complete=complete,
            location=location,
            contents=_field(data, "contents", dict, "") if "contents" in data else {},
            files={check_rel(rel): FileRecord.from_dict(rec, rel) for rel, rec in files.items()},
            error=_field(data, "error", (str, type(None)), ""),
            format=_field(data, "format", int, ""),
        )

    @classmethod
    def from_json(cls, raw: bytes) -> SnapshotMetadata:
        if len(raw) > MAX_METADATA_BYTES:
            raise MetadataError(f"snapshot_metadata.json is larger than {MAX_METADATA_BYTES} bytes")
        try:
            data = json.loads(raw)
            too_deep = _depth(data) > MAX_DEPTH
        except ValueError:  # UnicodeDecodeError too; an integer of more than 4300 digits too
            raise MetadataError("snapshot_metadata.json is not valid JSON") from None
        except RecursionError:  # deeper than the parser's stack: over MAX_DEPTH anyway
            too_deep = True
        if too_deep:
            raise MetadataError(f"snapshot_metadata.json nests deeper than {MAX_DEPTH} levels")
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data.update(components=list(self.components), contents=dict(self.contents))
        data["files"] = {rel: rec.to_dict() for rel, rec in self.files.items()}
        if self.location is None:  # reserved, not completed: no contents or files to tell yet
            del data["location"], data["contents"], data["files"]
        if self.error is None:
            del data["error"]
        return data

    def to_json(self) -> bytes:
        return json_bytes(self.to_dict())
