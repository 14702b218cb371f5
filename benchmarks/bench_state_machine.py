"""Benchmark: 1,000 items through the deployed state machine, with a Bedrock that answers in 200 ms.

On a local AWS of its own (a free port, its own state folder, stopped at the end) started with
``LOCAL_AWS_BEDROCK_LATENCY_MS`` (patch ``bedrock_latency``: every Converse answer takes that long,
concurrent ones overlapping), it deploys dev with the real CDK CLI, publishes the repository's
config plus a benchmark client (``lai_weekly``'s config on four generated RSS feeds of 250 items,
served on 127.0.0.1), runs that client's pipeline through ``vectora-inbox-pipeline-dev`` and
follows it to the end.

The ideal is the model's time alone at the configured concurrency: ``items x latency / (the Map's
MaxConcurrency (EnvConfig.pipeline_max_concurrency) x the client's pipeline.bedrock_concurrency)``;
the ratio is ideal / measured wall time of the execution, target >= 0.7 (printed, never enforced). Also
printed, from the execution's history: the ``NormalizeBatches`` Map alone against the same ideal,
the best the configuration's granularity allows (whole batches per Map slot, as ingest sizes them,
whole rounds of model calls per batch), how many batches really ran at once, and what each batch
adds to its model time; and the CPU time the local AWS and the functions' execution environments
spent on the run, against the machine's cores: the shortest wall time this machine allows.

    .venv/bin/python benchmarks/bench_state_machine.py [--items 1000] [--latency-ms 200] [--smoke]

``--smoke``: 4 items at 20 ms (the deploy still runs: it must run, not meet its figure).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # scripts/ and local_aws/ are not installed

from local_aws import cdk  # noqa: E402
from local_aws.deploy import deploy_args  # noqa: E402
from local_aws.patches.bedrock_latency import LATENCY_ENV  # noqa: E402
from local_aws.server import LocalAws  # noqa: E402
from local_aws.settings import INTERNAL_PREFIX  # noqa: E402
from scripts.invoke.fixture_feeds import demo_client  # noqa: E402
from vectora_core.config.loading import DirStore, load_client_bundle  # noqa: E402
from vectora_core.environments import get_env_config  # noqa: E402
from vectora_core.pipeline.storage import batch_count, even_batch_size  # noqa: E402
from vectora_ops.config.cli import publish  # noqa: E402
from vectora_ops.config.publish import ConfigFile, repo_files  # noqa: E402
from vectora_ops.pipeline_runs import POLL_S, outcome, start_run, state_machine_arn  # noqa: E402

TARGET_RATIO = 0.7
ENV = "dev"
CLIENT_ID = "lai_weekly_bench"
CATALOG_ID = "bench_feeds"
FEEDS = 4
RUN_DATE = date(2026, 11, 24)
CDK_TIMEOUT_S = 900.0
TOPICS = (
    "FDA approves a once-monthly olanzapine long-acting injectable",
    "Camurus enters a license agreement for FluidCrystal incretins",
    "MedinCell raises EUR 30 million in a private placement",
    "Phase 3 trial of a celecoxib depot: first patient dosed",
    "Camurus launches an octreotide depot in Germany",
)


# --- the feeds -----------------------------------------------------------------------------------


def feed_xml(feed: int, count: int) -> bytes:
    """An RSS 2.0 feed of ``count`` distinct items, all inside the run's period."""
    items = []
    for index in range(count):
        published = datetime(RUN_DATE.year, RUN_DATE.month, RUN_DATE.day, 8, tzinfo=UTC) - timedelta(
            days=1 + index % 5, minutes=index
        )
        title = f"{TOPICS[index % len(TOPICS)]} (feed {feed}, item {index})"
        items.append(
            f"<item><title>{escape(title)}</title>"
            f"<link>https://bench.example.com/feed{feed}/item{index}</link>"
            "<description>A long-acting injectable based on SteadyTeq, once-monthly subcutaneous "
            "dosing, developed by Teva with MedinCell.</description>"
            f"<pubDate>{format_datetime(published)}</pubDate><guid>bench-{feed}-{index}</guid></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Benchmark feed {feed}</title><link>https://bench.example.com</link>"
        f"<description>generated</description>{''.join(items)}</channel></rss>"
    ).encode()


@contextmanager
def serving_feeds(per_feed: int) -> Iterator[str]:
    """The feeds on 127.0.0.1 (``<base>feed<N>.xml``); yields the base URL."""
    bodies = {f"/feed{n}.xml": feed_xml(n, per_feed) for n in range(FEEDS)}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802  # the http.server API
            body = bodies.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002  # the base's signature
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, name="bench-feeds", daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def bench_config_files(base_url: str, per_feed: int) -> list[ConfigFile]:
    """The benchmark's catalog and client (lai_weekly's config on the generated feeds)."""
    catalog = {
        "catalog_id": CATALOG_ID,
        "description": f"GENERATED benchmark feeds on {base_url} (benchmarks/bench_state_machine.py)",
        "fixture": True,
        "sources": [
            {
                "id": f"bench_feed_{n}",
                "name": f"Benchmark feed {n}",
                "type": "rss",
                "url": f"{base_url}feed{n}.xml",
            }
            for n in range(FEEDS)
        ],
    }
    client = demo_client(CLIENT_ID, catalog)
    client["pipeline"]["max_items_per_source"] = per_feed
    origin = "generated by benchmarks/bench_state_machine.py"
    return [
        ConfigFile.of_text(
            f"canonical/sources/{CATALOG_ID}.yaml", yaml.safe_dump(catalog, sort_keys=False), origin
        ),
        ConfigFile.of_text(f"clients/{CLIENT_ID}.yaml", yaml.safe_dump(client, sort_keys=False), origin),
    ]


# --- the execution's history ---------------------------------------------------------------------


@dataclass(frozen=True)
class Phases:
    """What the history says: the Map's wall time, peak and mean batches in flight, busy time."""

    map_s: float
    peak_batches: int
    batch_busy_s: float


def _history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
    return [event for page in pages for event in page["events"]]


def _state(event: dict[str, Any]) -> str | None:
    details = event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails") or {}
    return details.get("name")


def phases(events: list[dict[str, Any]]) -> Phases:
    """The ``NormalizeBatches`` Map and its ``NormalizeBatch`` tasks, from entered/exited events
    (no pairing needed: in flight at t = entered before t - exited before t)."""
    marks: list[tuple[datetime, int]] = []
    map_times: list[datetime] = []
    for event in events:
        name, kind = _state(event), str(event["type"])
        if name == "NormalizeBatches":
            map_times.append(event["timestamp"])
        elif name == "NormalizeBatch" and kind.endswith(("StateEntered", "StateExited")):
            marks.append((event["timestamp"], 1 if kind.endswith("StateEntered") else -1))
    marks.sort(key=lambda mark: (mark[0], mark[1]))
    in_flight = peak = 0
    busy = 0.0
    for (when, step), following in zip(marks, marks[1:] + marks[-1:], strict=True):
        in_flight += step
        peak = max(peak, in_flight)
        busy += in_flight * (following[0] - when).total_seconds()
    map_s = (max(map_times) - min(map_times)).total_seconds() if len(map_times) >= 2 else 0.0
    return Phases(map_s=map_s, peak_batches=peak, batch_busy_s=busy)


# --- the run -------------------------------------------------------------------------------------


def deploy(aws: LocalAws, work: Path) -> float:
    started = time.monotonic()
    out = work / "cdk.out"
    cdk.bootstrap(aws, output_dir=out, context=["-c", f"env={ENV}"], timeout_s=CDK_TIMEOUT_S)
    cdk.run_cdk(aws, deploy_args(ENV), output_dir=out, timeout_s=CDK_TIMEOUT_S)
    return time.monotonic() - started


def _process_tree_cpu_s(root: int) -> tuple[float, float]:
    """CPU seconds (user + system) of ``root`` alone (its own threads) and of ``root`` with its
    descendants, from /proc (0 elsewhere): the living ones' own, plus what each has of its children
    that ended (an execution environment that served one invocation, with ``LOCAL_AWS_LAMBDA_WARM=0``)."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    own: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        pid = int(stat.parent.name)
        # fields after the name: utime, stime, cutime, cstime are the 12th to 15th
        parents[pid], cpu[pid] = int(fields[1]), sum(int(f) for f in fields[11:15]) / tick
        own[pid] = sum(int(f) for f in fields[11:13]) / tick
    tree, grew = {root}, True
    while grew:
        grown = tree | {pid for pid, parent in parents.items() if parent in tree}
        grew, tree = grown != tree, grown
    return own.get(root, 0.0), sum(cpu.get(pid, 0.0) for pid in tree)


def _wait(execution_arn: str, sfn: Any) -> dict[str, Any]:
    """The execution's final description. Not ``follow``: it reads the whole history every second,
    and serializing thousands of events (moto parses each timestamp with dateutil) cost the local
    AWS more CPU than the run it watched; the history is read once, at the end."""
    while True:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(POLL_S)


def _signed_requests(aws: LocalAws) -> int:
    """Signed requests the local AWS has answered so far (0 with its IAM gate off)."""
    url = f"{aws.endpoint_url}{INTERNAL_PREFIX}/iam-stats"
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310  # our own emulator's URL
        return int(json.load(answer).get("requests", 0))


@dataclass(frozen=True)
class Run:
    record: dict[str, Any]
    wall_s: float
    events: list[dict[str, Any]]
    cpu_s: float  # the local AWS and its execution environments, during the execution
    server_cpu_s: float  # the local AWS's own process (moto, the IAM gate, the runner's threads)
    requests: int  # signed requests the local AWS answered meanwhile (its IAM gate counts them)


def run(aws: LocalAws, base_url: str, per_feed: int) -> Run:
    s3, sfn = aws.client("s3"), aws.client("stepfunctions")
    files = repo_files(REPO_ROOT) + bench_config_files(base_url, per_feed)
    publish(ENV, files, s3=s3, lambda_client=aws.client("lambda"))
    state_machine_arn(ENV, sfn)  # deployed, or one line saying so
    server_pid = int((aws.running() or {}).get("pid", 0))
    requests_before = _signed_requests(aws)
    server_before, cpu_before = _process_tree_cpu_s(server_pid)
    started = time.monotonic()
    execution_arn = start_run(ENV, client_id=CLIENT_ID, run_date=RUN_DATE.isoformat(), client=sfn)
    result = outcome(_wait(execution_arn, sfn), sfn)
    wall_s = time.monotonic() - started
    server_after, cpu_after = _process_tree_cpu_s(server_pid)  # the environments outlive the run (warm)
    (record,) = [c for c in result.get("clients", []) if c.get("client_id") == CLIENT_ID]
    if record.get("status") != "succeeded":
        raise RuntimeError(f"the benchmark client's run failed: {record}")
    requests = _signed_requests(aws) - requests_before
    events = _history(sfn, execution_arn)
    return Run(record, wall_s, events, cpu_after - cpu_before, server_after - server_before, requests)


def report(measured: Run, found: Phases, latency_s: float) -> float:
    """Print the figures; returns the execution's ratio to the ideal.

    The machine's floor is the CPU the run needs spread over every core (or the ideal, if longer):
    its ratio says how close the run came to what this machine allows."""
    record, wall_s = measured.record, measured.wall_s
    env = get_env_config(ENV)
    bedrock = load_client_bundle(DirStore(REPO_ROOT), "lai_weekly").config.pipeline.bedrock_concurrency
    items = int(record["items"])
    size = even_batch_size(items, env.pipeline_batch_size, env.pipeline_max_concurrency, bedrock)
    batches = batch_count(items, size)
    in_flight = env.pipeline_max_concurrency * bedrock
    ideal_s = items * latency_s / in_flight
    # whole batches per Map slot, whole rounds of bedrock_concurrency calls per batch
    rounds = math.ceil(min(items, size) / bedrock)
    granular_s = math.ceil(batches / env.pipeline_max_concurrency) * rounds * latency_s
    ratio = ideal_s / wall_s
    per_batch_s = found.batch_busy_s / batches if batches else 0.0
    cores = os.cpu_count() or 1
    print(
        f"items: {items} in {batches} batches of {size} (at most {env.pipeline_batch_size}), "
        f"{record['kept']} kept"
    )
    print(
        f"concurrency: Map {env.pipeline_max_concurrency} x bedrock_concurrency {bedrock} = {in_flight} "
        f"model calls in flight; stubbed latency {latency_s * 1000:.0f} ms"
    )
    print(f"ideal: {items} x {latency_s:.3f} s / {in_flight} = {ideal_s:.2f} s")
    print(f"best the batching allows: {granular_s:.2f} s (ratio at most {ideal_s / granular_s:.2f})")
    print(f"execution wall time: {wall_s:.2f} s -> ratio {ratio:.3f}")
    if found.map_s:
        print(f"NormalizeBatches Map: {found.map_s:.2f} s -> ratio {ideal_s / found.map_s:.3f}")
    print(
        f"batches in flight at once: {found.peak_batches} (Map allows {env.pipeline_max_concurrency}); "
        f"a batch took {per_batch_s:.2f} s for {rounds * latency_s:.2f} s of model time "
        f"(+{per_batch_s - rounds * latency_s:.2f} s: execution environments' start, S3, scoring, the "
        "local AWS's own work)"
    )
    if measured.cpu_s:
        floor_s = measured.cpu_s / cores
        print(
            f"CPU of the local AWS and the functions during the run: {measured.cpu_s:.1f} s on {cores} "
            f"core(s), {measured.cpu_s / items * 1000:.1f} ms per item (one model call each): no run "
            f"here is shorter than {floor_s:.2f} s (ratio at most {ideal_s / floor_s:.2f} on this machine)"
        )
        requests = measured.requests
        per_request = f", {measured.server_cpu_s / requests * 1000:.2f} ms per request ({requests} signed)"
        print(
            f"  of which the local AWS's own process: {measured.server_cpu_s:.1f} s"
            f"{per_request if requests else ''}; the functions' execution environments: "
            f"{measured.cpu_s - measured.server_cpu_s:.1f} s"
        )
        print(f"ratio against the machine's floor: {max(floor_s, ideal_s) / wall_s:.3f}")
    if found.peak_batches < min(batches, env.pipeline_max_concurrency):
        print("the local AWS ran fewer batches at once than the Map allows: the ratio measures that too")
    verdict = "OK" if ratio >= TARGET_RATIO else "BELOW TARGET"
    print(f"ratio to ideal: {ratio:.3f} (target >= {TARGET_RATIO}) {verdict}")
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--items", type=int, default=1000, help=f"items in all, a multiple of {FEEDS}")
    parser.add_argument("--latency-ms", type=int, default=200, help="the local Bedrock's answer time")
    parser.add_argument("--smoke", action="store_true", help=f"{FEEDS} items at 20 ms: it must run")
    args = parser.parse_args()
    if args.smoke:
        args.items, args.latency_ms = FEEDS, 20
    if args.items < FEEDS or args.items % FEEDS or args.items // FEEDS > 500:
        parser.error(f"--items {args.items}: a multiple of {FEEDS} from {FEEDS} to {FEEDS * 500}")
    per_feed = args.items // FEEDS
    work = Path(tempfile.mkdtemp(prefix="vectora-bench-sfn-"))
    aws = LocalAws(port=0, state_dir=work / "state", extra_env={LATENCY_ENV: str(args.latency_ms)})
    aws.start()
    try:
        print(f"local AWS on {aws.endpoint_url} (state: {work}), {LATENCY_ENV}={args.latency_ms}")
        print(f"deploy {ENV} (cdk bootstrap + deploy --all): {deploy(aws, work):.0f} s")
        with serving_feeds(per_feed) as base_url:
            measured = run(aws, base_url, per_feed)
        report(measured, phases(measured.events), args.latency_ms / 1000)
    finally:
        aws.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
