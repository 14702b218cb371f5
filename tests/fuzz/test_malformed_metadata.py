"""Snapshot metadata the engine never wrote (hypothesis): listing, retention and cleanup hold.

Beside the sandbox's complete snapshot (``seed_…``, worlds.seed_local_store), a crafted snapshot
gets a generated ``snapshot_metadata.json``: the seed's own with a field dropped or replaced by
any JSON value, a file record bent the same way, a file path of any text, any JSON document at
all, nesting thousands deep, bytes that are not JSON or not UTF-8, a valid file cut short. Whatever
it holds:

- listing never raises and lists both snapshots; a refused metadata is listed as damaged with a
  one-line printable reason, an accepted one reads back exactly as it was (no reader meets a field
  missing or of another type);
- retention and cleanup never raise, never delete a damaged snapshot (with one warning each), and
  never the newest complete one;
- verifying the crafted snapshot either passes or refuses it with a SnapshotError;
- the scripts (``list_snapshots.py --json``, ``cleanup_snapshots.py --older-than 0``, with
  ``--local``) exit 0 with no traceback.

Cheap: the snapshots are on disk (``--local``), no AWS is reached.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.harness import SCRIPTS, record, run_script
from tests.fuzz.strategies import SEED_ID
from tests.fuzz.worlds import UnreachableWorld
from vectora_ops.environment import Environment
from vectora_ops.snapshots import LocalStore, SnapshotEngine, SnapshotError
from vectora_ops.snapshots.metadata import MAX_DEPTH, MAX_METADATA_BYTES, METADATA_FILE, SnapshotMetadata

SCALE = float(os.environ.get("VECTORA_FUZZ_SCALE", "1"))
NOW: Final = datetime(2026, 6, 1, tzinfo=UTC)  # after every id below: ages are fixed
# Before and after the seed (2026-01-30): a crafted snapshot that is valid may be the newest one.
CRAFTED_IDS: Final = ("crafted_20260101_000000", "crafted_20260301_000000")
TOP_FIELDS: Final = (
    "format", "snapshot_id", "name", "env", "client", "components", "created_at",
    "complete", "location", "contents", "files", "error",
)  # fmt: skip
FILE_FIELDS: Final = ("component", "sha256", "size", "etag", "source", "source_etag")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def bodies(draw: st.DrawFn, seed: dict[str, Any], snapshot_id: str) -> bytes:
    """A ``snapshot_metadata.json`` for ``snapshot_id``: the seed's, bent one way or another."""
    data = json.loads(json.dumps({**seed, "snapshot_id": snapshot_id}))
    kind = draw(
        st.sampled_from(
            ["drop", "replace", "file field", "file path", "any json", "deep", "bytes", "cut", "as is"]
        )
    )
    if kind == "drop":
        data.pop(draw(st.sampled_from(TOP_FIELDS)), None)
    elif kind == "replace":
        data[draw(st.sampled_from(TOP_FIELDS) | st.text(max_size=8))] = draw(json_values)
    elif kind == "file field":
        rel = draw(st.sampled_from(sorted(data["files"])))
        record_ = data["files"][rel]
        if draw(st.booleans()):
            record_.pop(draw(st.sampled_from(FILE_FIELDS)), None)
        else:
            record_[draw(st.sampled_from(FILE_FIELDS))] = draw(json_values)
    elif kind == "file path":
        rel = draw(st.sampled_from(sorted(data["files"])))
        data["files"][draw(st.text(max_size=30))] = data["files"].pop(rel)
    elif kind == "any json":
        data = draw(json_values)
    elif kind == "deep":
        depth = draw(st.integers(MAX_DEPTH - 3, 100_000))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        return (opener * depth + "0" + closer * depth).encode()
    elif kind == "bytes":
        return draw(st.binary(max_size=300))
    raw = json.dumps(data).encode()  # NaN and Infinity included: json.loads reads them back
    if kind == "cut":
        return raw[: draw(st.integers(0, len(raw) - 1))]
    return raw


@pytest.fixture
def store(box_template: Path, tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "store"
    shutil.copytree(box_template / "store", root)
    with UnreachableWorld():  # nothing here needs AWS: a call that would reach it fails at once
        yield root


def seed_metadata(root: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / "snapshots" / SEED_ID / METADATA_FILE).read_bytes())
    return data


@pytest.fixture(scope="module")
def seed(box_template: Path) -> dict[str, Any]:
    return seed_metadata(box_template / "store")


def plant(root: Path, snapshot_id: str, body: bytes, template: Path) -> None:
    """Only the crafted snapshot and the seed (as new), the crafted one's metadata being ``body``."""
    shutil.rmtree(root / "snapshots")
    (root / "snapshots").mkdir()
    shutil.copytree(template / "store" / "snapshots" / SEED_ID, root / "snapshots" / SEED_ID)
    folder = root / "snapshots" / snapshot_id
    folder.mkdir()
    (folder / METADATA_FILE).write_bytes(body)


def engine(root: Path) -> SnapshotEngine:
    aws = Environment("dev", workers=2)
    return SnapshotEngine("dev", aws=aws, store=LocalStore(aws, root), clock=lambda: NOW)


def one_line(text: str) -> bool:
    return bool(text) and "\n" not in text and text.isprintable()


@settings(
    max_examples=int(60 * SCALE),
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
def test_listing_retention_and_cleanup_hold_whatever_the_metadata(
    store: Path, seed: dict[str, Any], box_template: Path, data: st.DataObject
) -> None:
    snapshot_id = data.draw(st.sampled_from(CRAFTED_IDS))
    body = data.draw(bodies(seed, snapshot_id))
    plant(store, snapshot_id, body, box_template)
    notes: list[str] = []
    aws = Environment("dev", workers=2)
    subject = SnapshotEngine(
        "dev",
        aws=aws,
        store=LocalStore(aws, store),
        clock=lambda: NOW,
        progress=lambda e: notes.append(e.message or ""),
    )
    # listing: both, the crafted one damaged (with why) or read back as written
    infos = {i.snapshot_id: i for i in subject.list_snapshots()}
    assert set(infos) == {SEED_ID, snapshot_id}
    kept, crafted = infos[SEED_ID], infos[snapshot_id]
    assert kept.complete and kept.damaged is None
    if crafted.damaged is not None:
        assert one_line(crafted.damaged), crafted.damaged
        assert not crafted.complete
    else:
        parsed = SnapshotMetadata.from_json(body)
        assert SnapshotMetadata.from_json(parsed.to_json()) == parsed
        assert crafted.complete == parsed.complete and crafted.env == parsed.env
    # verifying: passes, or refuses with a SnapshotError (a file path may hold any printable or
    # unprintable character but a control one: the CLI's error line escapes what it must)
    if crafted.damaged is None and crafted.complete:
        try:
            subject.verify(snapshot_id)
        except SnapshotError as err:
            assert str(err).startswith(f"snapshot {snapshot_id} is refused"), str(err)
    # retention and cleanup: a damaged snapshot stays (one warning each), the newest complete too
    newest = max((i for i in infos.values() if i.complete), key=lambda i: i.created).snapshot_id
    subject.apply_retention()
    deleted = subject.cleanup(older_than_days=0)
    left = {i.snapshot_id for i in subject.list_snapshots()}
    assert newest in left and newest not in deleted
    if crafted.damaged is not None:
        assert snapshot_id in left
        warnings = [n for n in notes if n and snapshot_id in n]
        assert len(warnings) == 2 and all(one_line(w) for w in warnings), warnings


@settings(
    max_examples=int(8 * SCALE),
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
def test_the_scripts_list_and_clean_up_around_a_damaged_snapshot(
    store: Path, seed: dict[str, Any], box_template: Path, data: st.DataObject
) -> None:
    snapshot_id = data.draw(st.sampled_from(CRAFTED_IDS))
    plant(store, snapshot_id, data.draw(bodies(seed, snapshot_id)), box_template)
    cwd = store.parent
    listed = record(
        "maintenance/list_snapshots.py [malformed metadata]",
        run_script(
            SCRIPTS / "maintenance" / "list_snapshots.py",
            ["--env", "dev", "--json", "--local", str(store)],
            cwd,
        ),
    )
    assert listed.code == 0 and listed.traceback is None, listed.describe()
    rows = {row["id"]: row for row in json.loads(listed.stdout)}
    assert set(rows) == {SEED_ID, snapshot_id}
    damaged = rows[snapshot_id]["damaged"] is not None
    cleaned = record(
        "maintenance/cleanup_snapshots.py [malformed metadata]",
        run_script(
            SCRIPTS / "maintenance" / "cleanup_snapshots.py",
            ["--env", "dev", "--older-than", "0", "--local", str(store)],
            cwd,
        ),
    )
    assert cleaned.code == 0 and cleaned.traceback is None, cleaned.describe()
    left = {folder.name for folder in (store / "snapshots").iterdir()}
    if damaged:
        assert snapshot_id in left and "leaves it alone" in cleaned.stderr, cleaned.describe()


def test_a_metadata_file_over_the_size_bound_is_damaged_not_read_whole(
    store: Path, seed: dict[str, Any], box_template: Path
) -> None:
    # valid JSON all the way (whitespace), but larger than any metadata the engine writes
    valid = json.dumps({**seed, "snapshot_id": CRAFTED_IDS[0]}).encode()
    plant(store, CRAFTED_IDS[0], valid + b" " * MAX_METADATA_BYTES, box_template)
    crafted = next(i for i in engine(store).list_snapshots() if i.snapshot_id == CRAFTED_IDS[0])
    assert crafted.damaged == f"snapshot_metadata.json is larger than {MAX_METADATA_BYTES} bytes"
