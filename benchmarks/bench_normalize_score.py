"""Benchmark: normalize-score over 500 items with a stubbed Bedrock that answers in 200 ms.

The stub sits at the HTTP boundary of a real boto3 ``bedrock-runtime`` client (tests/pipeline/
fake_bedrock.py), so request serialization, response parsing, JSON validation and scoring are all
measured; only the model's time is simulated. With ``concurrency`` calls in flight the ideal
throughput is ``concurrency / 0.2 s``; the target is a ratio >= 0.8.

    .venv/bin/python benchmarks/bench_normalize_score.py [--items 500] [--concurrency N] [--latency 0.2]

The ratio is printed, never enforced (a failed item exits 1). ``--smoke``: 20 items at 20 ms (it
must run, not meet its figure).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# The stub is a test helper (tests/ is not installed): make the repository importable.
sys.path.insert(0, str(REPO_ROOT))

from tests.pipeline.fake_bedrock import MODEL_ID, FakeBedrock, normalization_answer  # noqa: E402
from vectora_core.config.loading import DirStore, load_client_bundle  # noqa: E402
from vectora_core.pipeline.bedrock import BedrockJson  # noqa: E402
from vectora_core.pipeline.normalize import BedrockNormalizer, curate_all  # noqa: E402

TARGET_RATIO = 0.8


def synthetic_items(count: int) -> list[dict]:
    titles = [
        "FDA approves Teva and MedinCell's olanzapine long-acting injectable",
        "Camurus enters license agreement with Lilly for FluidCrystal incretins",
        "MedinCell raises EUR 30 million in a private placement",
        "Phase 3 trial of mdc-CWM celecoxib depot: first patient dosed",
        "Camurus launches Oczyesa octreotide depot in Germany",
    ]
    return [
        {
            "item_id": f"{index:016x}",
            "source_id": "bench",
            "source_name": "Benchmark feed",
            "source_type": "rss",
            "title": f"{titles[index % len(titles)]} (#{index})",
            "url": f"https://example.com/news/{index}",
            "text": "A long-acting injectable based on SteadyTeq, once-monthly subcutaneous dosing. " * 4,
            "published_at": "2026-11-23T09:00:00+00:00",
            "also_in": [],
        }
        for index in range(count)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument(
        "--concurrency", type=int, help="default: the lai_weekly config's bedrock_concurrency"
    )
    parser.add_argument("--latency", type=float, default=0.2, help="stubbed model latency, seconds")
    parser.add_argument("--smoke", action="store_true", help="20 items at 20 ms: it must run")
    args = parser.parse_args()
    if args.smoke:
        args.items, args.latency = 20, 0.02
    bundle = load_client_bundle(DirStore(REPO_ROOT), "lai_weekly")
    concurrency = args.concurrency or bundle.config.pipeline.bedrock_concurrency
    fake = FakeBedrock(normalization_answer, latency_s=args.latency)
    normalizer = BedrockNormalizer(bundle, BedrockJson(fake.client, MODEL_ID))
    items = synthetic_items(args.items)
    started = time.perf_counter()
    curated = curate_all(items, normalizer, bundle, concurrency)
    elapsed = time.perf_counter() - started
    failed = sum(1 for item in curated if item["status"] != "ok")
    rate = len(curated) / elapsed
    ideal = concurrency / args.latency
    ratio = rate / ideal
    print(f"items: {len(curated)} ({failed} failed), Bedrock calls: {len(fake.requests)}")
    print(f"concurrency: {concurrency}, stubbed latency: {args.latency * 1000:.0f} ms")
    print(f"elapsed: {elapsed:.2f} s, throughput: {rate:.1f} items/s, ideal: {ideal:.1f} items/s")
    verdict = "OK" if ratio >= TARGET_RATIO else "BELOW TARGET"
    print(f"ratio to ideal: {ratio:.3f} (target >= {TARGET_RATIO}) {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
