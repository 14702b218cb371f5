"""Snapshot creation against ``aws s3 sync`` of the same prefixes, and snapshot verification with
S3's stored checksums against reading every byte, on one local AWS.

The benchmark starts its own local AWS (a free port, a temporary state folder), creates the
dev buckets with 1,000 config/canonical objects and a 20 MB curated file, then times:
- ``SnapshotEngine("dev").create(...)``: every component (functions and stacks are absent here,
  so they cost their lookups only), server-side concurrent copies, checksums, metadata;
- ``aws s3 sync`` of ``clients/``, ``canonical/`` and ``curated/`` to another bucket on the same
  emulator (three commands, as a shell script would run them; each also copies server-side).
Both run ``--runs`` times, alternating, into fresh destinations; medians are compared.
Target: ratio <= 1.0 (we should beat a plain sync). The CLI start-up time (``aws --version``) is
printed too, since every sync command pays it.

Then the ingest function is created with a 50 MB layer, and a snapshot of its Lambda components
(which holds the layer zip) is verified as a rollback does before any restore:
- head-only: one HeadObject per file, S3 answering with the SHA-256 it keeps (the normal case:
  the engine writes every snapshot file with one);
- reading every byte: the same snapshot after its files were rewritten without a checksum (what
  verification costs where S3 cannot say, e.g. an object copied by another tool).
Medians of ``--runs`` each, and their ratio. Run: ``.venv/bin/python benchmarks/bench_snapshot.py``;
``--smoke``: one run of each on 100 objects, a 1 MB curated file and a 1 MB layer (it must run, not
meet its figure).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # local_aws runs from the checkout

from local_aws import LocalAws  # noqa: E402  # needs the path above
from vectora_core.naming import Bucket, Function, Layer, resource_name  # noqa: E402
from vectora_ops.environment import DEFAULT_WORKERS, Environment  # noqa: E402
from vectora_ops.snapshots import SnapshotEngine, SnapshotMetadata  # noqa: E402

ENV = "dev"
TARGET_RATIO = 1.0
CONFIG_OBJECTS = 1000
CURATED_BYTES = 20 * 1024 * 1024
SYNC_BUCKET = "bench-sync-target"
AWS_CLI = Path(sys.executable).with_name("aws")
LAYER_BYTES = 50 * 1024 * 1024
SMOKE_SCALE = 10  # --smoke divides the objects by this (and makes each big file 1 MB)


def seed(aws: LocalAws, objects: int, curated_bytes: int) -> None:
    s3 = aws.client("s3")
    for bucket in (
        *(resource_name(b, ENV) for b in (Bucket.CONFIG, Bucket.DATA, Bucket.BACKUPS)),
        SYNC_BUCKET,
    ):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    config = resource_name(Bucket.CONFIG, ENV)
    keys = [f"clients/client_{i:03d}.yaml" for i in range(objects // 10)]
    keys += [
        f"canonical/{kind}/{kind}_{i:03d}.yaml"
        for kind in ("scopes", "prompts", "sources")
        for i in range(objects * 3 // 10)
    ]
    if len(keys) != objects:
        raise SystemExit(f"seed made {len(keys)} objects, not {objects}")

    def put(index_key: tuple[int, str]) -> None:
        index, key = index_key
        s3.put_object(Bucket=config, Key=key, Body=(f"id: {index}\n" + "x: 0123456789abcdef\n" * 60).encode())

    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(put, enumerate(keys)))
    curated = (b'{"item": "' + b"a" * 100 + b'"},\n') * (curated_bytes // 114 + 1)
    s3.put_object(
        Bucket=resource_name(Bucket.DATA, ENV),
        Key="curated/lai_weekly/curated_items.json",
        Body=curated[:curated_bytes],
    )


def time_snapshot(run: int, workers: int) -> float:
    engine = SnapshotEngine(ENV, aws=Environment(ENV, workers=workers))
    start = time.perf_counter()
    engine.create(f"bench_{run}")
    return time.perf_counter() - start


def seed_layer(aws: LocalAws, layer_bytes: int) -> None:
    """The ingest function, using a layer of `layer_bytes` (stored random bytes: incompressible)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("python/blob.bin", os.urandom(layer_bytes))
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 'ok'\n")
    lam = aws.client("lambda")
    layer = lam.publish_layer_version(
        LayerName=resource_name(Layer.COMMON_DEPS, ENV), Content={"ZipFile": buffer.getvalue()}
    )
    trust = {"Version": "2012-10-17", "Statement": []}
    role = aws.client("iam").create_role(RoleName="bench-ingest", AssumeRolePolicyDocument=json.dumps(trust))
    lam.create_function(
        FunctionName=resource_name(Function.INGEST, ENV),
        Runtime="python3.13",
        Role=role["Role"]["Arn"],
        Handler="handler.handler",
        Code={"ZipFile": code.getvalue()},
        Layers=[layer["LayerVersionArn"]],
    )


def drop_checksums(s3: Any, engine: SnapshotEngine, snapshot_id: str) -> None:
    """Rewrite every file of the snapshot with the same bytes and no checksum."""
    bucket = resource_name(Bucket.BACKUPS, ENV)
    raw = s3.get_object(Bucket=bucket, Key=f"snapshots/{snapshot_id}/snapshot_metadata.json")["Body"].read()
    for rel in SnapshotMetadata.from_json(raw).files:
        key = f"snapshots/{snapshot_id}/{rel}"
        s3.put_object(Bucket=bucket, Key=key, Body=s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        if "ChecksumSHA256" in head:
            raise SystemExit(f"{key} still has a SHA-256: the read path would not be measured")


def time_verify(engine: SnapshotEngine, snapshot_id: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        engine.verify(snapshot_id)
        times.append(time.perf_counter() - start)
    return times


def bench_verify(
    aws: LocalAws, runs: int, workers: int, layer_bytes: int
) -> tuple[list[float], list[float], int]:
    seed_layer(aws, layer_bytes)
    engine = SnapshotEngine(ENV, aws=Environment(ENV, workers=workers))
    snapshot_id = engine.create("bench_verify", components=["lambda_config", "layers"])
    files = len(engine.verify(snapshot_id).files)
    head_only = time_verify(engine, snapshot_id, runs)
    drop_checksums(aws.client("s3"), engine, snapshot_id)
    reading = time_verify(engine, snapshot_id, runs)
    return head_only, reading, files


def time_sync(run: int, env: dict[str, str]) -> float:
    config, data = resource_name(Bucket.CONFIG, ENV), resource_name(Bucket.DATA, ENV)
    commands = [
        ["s3", "sync", f"s3://{config}/clients/", f"s3://{SYNC_BUCKET}/run{run}/clients/"],
        ["s3", "sync", f"s3://{config}/canonical/", f"s3://{SYNC_BUCKET}/run{run}/canonical/"],
        ["s3", "sync", f"s3://{data}/curated/", f"s3://{SYNC_BUCKET}/run{run}/curated/"],
    ]
    start = time.perf_counter()
    for command in commands:
        subprocess.run([str(AWS_CLI), *command, "--only-show-errors"], env=env, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each (medians are compared)")
    parser.add_argument(
        "--workers", type=int, default=DEFAULT_WORKERS, help="create_snapshot's concurrent copies"
    )
    parser.add_argument("--smoke", action="store_true", help="one run of each, small data: it must run")
    args = parser.parse_args()
    runs = 1 if args.smoke else args.runs
    objects = CONFIG_OBJECTS // SMOKE_SCALE if args.smoke else CONFIG_OBJECTS
    curated_bytes, layer_bytes = (2**20, 2**20) if args.smoke else (CURATED_BYTES, LAYER_BYTES)
    if not AWS_CLI.exists():
        print(f"error: {AWS_CLI} not found: run `make install` (awscli is pinned in requirements-dev.txt)")
        return 1
    state = Path(tempfile.mkdtemp(prefix="bench-snapshot-"))
    aws = LocalAws(port=0, state_dir=state / "state")
    try:
        aws.start()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | aws.client_env()
        os.environ.update(aws.client_env())
        seed(aws, objects, curated_bytes)
        start = time.perf_counter()
        subprocess.run([str(AWS_CLI), "--version"], env=env, check=True, capture_output=True)
        cli_startup = time.perf_counter() - start
        snapshot_times, sync_times = [], []
        for run in range(runs):
            snapshot_times.append(time_snapshot(run, args.workers))
            sync_times.append(time_sync(run, env))
        head_times, read_times, files = bench_verify(aws, runs, args.workers, layer_bytes)
    finally:
        aws.stop()
        shutil.rmtree(state, ignore_errors=True)
    ours, base = statistics.median(snapshot_times), statistics.median(sync_times)
    ratio = ours / base
    print(f"data: {objects} config/canonical objects + one {curated_bytes // 2**20} MB curated file")
    print(f"create_snapshot : median {ours:.2f} s  runs {[round(t, 2) for t in snapshot_times]}"
          f"  ({args.workers} concurrent copies)")  # fmt: skip
    print(f"aws s3 sync x3  : median {base:.2f} s  runs {[round(t, 2) for t in sync_times]}"
          f"  (CLI start-up {cli_startup:.2f} s per command)")  # fmt: skip
    print(
        f"ratio {ratio:.2f} (target <= {TARGET_RATIO}) -> {'OK' if ratio <= TARGET_RATIO else 'OVER TARGET'}"
    )
    head, read = statistics.median(head_times), statistics.median(read_times)
    print(f"verify a snapshot of {files} files holding a {layer_bytes // 2**20} MB layer zip:")
    print(f"  head-only (S3's SHA-256) : median {head:.3f} s  runs {[round(t, 3) for t in head_times]}")
    print(f"  reading every byte       : median {read:.3f} s  runs {[round(t, 3) for t in read_times]}")
    print(f"  ratio head-only / reading {head / read:.3f} (reading takes {read / head:.0f}x as long)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
