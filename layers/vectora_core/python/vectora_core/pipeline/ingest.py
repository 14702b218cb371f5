"""ingest-v2's logic: fetch the client's sources, keep the period's items, de-duplicate, write raw/.

A run where every source failed, or that found nothing where the client's previous run found items,
is a failed run: ``FailedRunError`` before anything is written (the last good raw file stays).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

from vectora_core.config.loading import ClientBundle, NotFoundError, TextStore, active_client_ids, client_key
from vectora_core.config.schema import Source
from vectora_core.config.usage import unused_keys
from vectora_core.config.validation import parse_yaml
from vectora_core.environments import MAX_CLIENTS_PER_EXECUTION, EnvConfig
from vectora_core.metrics import Metric
from vectora_core.pipeline.sources import (
    HttpFetcher,
    Period,
    RawItem,
    SourceError,
    deduplicate,
    fetch_source,
    in_period,
)
from vectora_core.pipeline.storage import (
    FailedRunError,
    batch_count,
    even_batch_size,
    get_json_if_exists,
    item_count,
    previous_run_date,
    put_json,
    raw_key,
)

LOGGER = logging.getLogger(__name__)
# client_profile.frequency when a config leaves it out (the schema's default).
DEFAULT_FREQUENCY = "weekly"
FETCH_WORKERS = 4
# How much of each source's error a failed run's one-line message quotes.
ERROR_EXCERPT = 200


class AllSourcesFailedError(FailedRunError):
    """Not one source answered: ``failed`` of them (all), nothing written."""

    def __init__(self, message: str, *, failed: int) -> None:
        super().__init__(message)
        self.failed = failed


class NothingIngestedError(FailedRunError):
    """No item from any source while an earlier run had some: nothing written."""


def report_config(bundle: ClientBundle) -> None:
    """Once per run (ingest is its first step): what of the config the pipeline does not apply."""
    config = bundle.config
    for warning in bundle.warnings:
        LOGGER.warning("config %s %s: %s", config.client_id, config.version, warning)
    unused = unused_keys(config)
    if unused:
        LOGGER.info(
            "config %s %s: not used by this pipeline (kept as they are): %s",
            config.client_id,
            config.version,
            ", ".join(unused),
        )


def read_pubmed_api_key(ssm: Any, parameter: str | None) -> str | None:
    """The PubMed API key, or None (PubMed still answers without one, at 3 requests/s)."""
    if not parameter:
        LOGGER.warning("no PUBMED_API_KEY_PARAM: querying PubMed without an API key")
        return None
    try:
        key: str = ssm.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"]
        return key
    except ssm.exceptions.ParameterNotFound:
        LOGGER.warning("SSM parameter %s does not exist: querying PubMed without an API key", parameter)
    except Exception as err:  # noqa: BLE001  # a key problem must not stop the week's ingest
        LOGGER.warning(
            "could not read SSM parameter %s (%s): querying PubMed without an API key", parameter, err
        )
    return None


def run_ingest(
    bundle: ClientBundle,
    *,
    s3: Any,
    data_bucket: str,
    fetcher: HttpFetcher,
    run_date: date,
    pubmed_api_key: str | None,
    batch_size: int = EnvConfig.pipeline_batch_size,
    batches_in_flight: int = 1,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Fetch every selected source; one failing source is reported and the others go on.

    The answer also says how normalize-score is to split the items: ``batches`` of ``batch_size``
    (at most the one given, evened out for ``batches_in_flight`` at a time and the client's
    ``bedrock_concurrency``: ``even_batch_size``), numbered ``batch_indexes`` (what the state
    machine's Map iterates over).
    """
    config = bundle.config
    report_config(bundle)
    period = Period.ending_on(run_date, config.pipeline.default_period_days)
    sources = list(bundle.sources)
    retmax = config.pipeline.max_items_per_source

    def fetch(source: Source) -> tuple[list[RawItem], str | None]:
        try:
            return fetch_source(source, fetcher, period, retmax, pubmed_api_key), None
        except SourceError as err:
            LOGGER.warning("source %s failed: %s", source.id, err)
            return [], str(err)
        except Exception as err:  # noqa: BLE001  # one source's surprise never fails the run
            LOGGER.exception("source %s failed unexpectedly", source.id)
            return [], f"unexpected {type(err).__name__}: {err}"

    def fetch_in_turn(group: list[Source]) -> list[tuple[list[RawItem], str | None]]:
        return [fetch(source) for source in group]

    # Feeds are fetched in parallel (different hosts); PubMed sources one after the other, since
    # NCBI limits each client to 3 requests/s (10 with a key).
    groups = [[s] for s in sources if s.type != "pubmed"] + [[s for s in sources if s.type == "pubmed"]]
    outcomes: dict[str, tuple[list[RawItem], str | None]] = {}
    with ThreadPoolExecutor(max_workers=FETCH_WORKERS, thread_name_prefix="fetch") as pool:
        for group, results in zip(groups, pool.map(fetch_in_turn, groups), strict=True):
            outcomes.update({source.id: result for source, result in zip(group, results, strict=True)})
    reports: list[dict[str, Any]] = []
    fetched: list[RawItem] = []
    for source in sources:  # the config's order: the first source of a duplicate wins
        items, error = outcomes[source.id]
        if error is not None:
            reports.append({"source_id": source.id, "status": "failed", "error": error})
            continue
        kept, outside = in_period(items, period)
        reports.append(
            {
                "source_id": source.id,
                "status": "ok",
                "fetched": len(items),
                "in_period": len(kept),
                "outside": outside,
            }
        )
        fetched.extend(kept)
    refuse_failed_sources(reports, config.client_id, run_date)
    items, duplicates = deduplicate(fetched)
    if not items:
        refuse_nothing_after_something(s3, data_bucket, config.client_id, run_date)
    document = {
        "client_id": config.client_id,
        "config_version": config.client_profile.version,
        "run_date": run_date.isoformat(),
        "generated_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "catalogs": [{"catalog_id": c.catalog_id, "fixture": c.fixture} for c in bundle.catalogs],
        "sources": reports,
        "duplicates_removed": duplicates,
        "items": items,
    }
    uri = put_json(s3, data_bucket, raw_key(config.client_id, run_date.isoformat()), document)
    failed = [r["source_id"] for r in reports if r["status"] == "failed"]
    batch_size = even_batch_size(
        len(items), batch_size, batches_in_flight, config.pipeline.bedrock_concurrency
    )
    batches = batch_count(len(items), batch_size)
    return {
        "client_id": config.client_id,
        "run_date": run_date.isoformat(),
        "raw_items": uri,
        "items": len(items),
        "duplicates_removed": duplicates,
        "sources_ok": len(reports) - len(failed),
        "sources_failed": failed,
        "batch_size": batch_size,
        "batches": batches,
        "batch_indexes": list(range(batches)),
    }


def ingest_metrics(items: int, *, ok: int, failed: int) -> dict[Metric, float]:
    """What a run reports to CloudWatch (the "no item ingested" and "every source failed" alarms)."""
    return {
        Metric.ITEMS_INGESTED: items,
        Metric.SOURCES_OK: ok,
        Metric.SOURCES_FAILED: failed,
        Metric.ALL_SOURCES_FAILED: 1 if failed and not ok else 0,
    }


def result_metrics(result: dict[str, Any]) -> dict[Metric, float]:
    """A finished run's metrics, from ``run_ingest``'s answer."""
    return ingest_metrics(result["items"], ok=result["sources_ok"], failed=len(result["sources_failed"]))


def failure_metrics(error: FailedRunError) -> dict[Metric, float]:
    """A refused run's metrics (nothing written): the alarms' facts, before the failure propagates."""
    if isinstance(error, AllSourcesFailedError):
        return ingest_metrics(0, ok=0, failed=error.failed)
    return {Metric.ITEMS_INGESTED: 0, Metric.ALL_SOURCES_FAILED: 0}


def _excerpt(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= ERROR_EXCERPT else line[: ERROR_EXCERPT - 1] + "…"


def refuse_failed_sources(reports: list[dict[str, Any]], client_id: str, run_date: date) -> None:
    """FailedRunError when not one source answered (network down, every feed moved)."""
    failed = [r for r in reports if r["status"] == "failed"]
    if not reports or len(failed) < len(reports):
        return
    first = failed[0]
    raise AllSourcesFailedError(
        f"ingest of {client_id} for {run_date}: every source failed ({len(failed)} of {len(reports)}: "
        f"{', '.join(r['source_id'] for r in failed)}; first error: {first['source_id']}: "
        f"{_excerpt(first['error'])}); nothing written",
        failed=len(failed),
    )


def refuse_nothing_after_something(s3: Any, bucket: str, client_id: str, run_date: date) -> None:
    """FailedRunError when this run found no item but the client's previous run (or an earlier
    run of this date) did: more likely broken sources than a quiet week."""
    same_day = item_count(get_json_if_exists(s3, bucket, raw_key(client_id, run_date.isoformat())))
    previous = previous_run_date(s3, bucket, client_id, run_date.isoformat())
    before = item_count(get_json_if_exists(s3, bucket, raw_key(client_id, previous))) if previous else 0
    if same_day or before:
        which = f"the run of {run_date} already stored" if same_day else f"the previous run ({previous})"
        raise NothingIngestedError(
            f"ingest of {client_id} for {run_date}: no item from any source, while {which} had "
            f"{same_day or before}; nothing written (check the sources: a quiet week is rarely this quiet)"
        )


def _frequency(store: TextStore, client_id: str) -> str | None:
    """The config's client_profile.frequency; None when it cannot be read that far."""
    try:
        document, _ = parse_yaml(store.read_text(client_key(client_id)))
    except (ValueError, NotFoundError):
        return None
    profile = document.get("client_profile") if isinstance(document, dict) else None
    if not isinstance(profile, dict):
        return None
    return str(profile.get("frequency") or DEFAULT_FREQUENCY)


def list_clients(
    store: TextStore, *, client_id: str | None, frequency: str | None, run_date: date
) -> dict[str, Any]:
    """The clients one run covers and its run date: ``client_id`` alone (its config must exist), or
    every active client, of ``frequency`` when given (a schedule's).

    A config that cannot be read as far as its frequency is kept, as ``active_client_ids`` keeps it:
    its own run then fails and says why, instead of the client silently getting no newsletter.
    """
    if client_id is not None:
        store.read_text(client_key(client_id))  # NotFoundError: one line naming the missing config
        clients = [client_id]
    else:
        clients = active_client_ids(store)
        if frequency is not None:
            kept = [c for c in clients if _frequency(store, c) in (frequency, None)]
            skipped = sorted(set(clients) - set(kept))
            if skipped:
                LOGGER.info("clients not of frequency %s, skipped: %s", frequency, ", ".join(skipped))
            clients = kept
    if len(clients) > MAX_CLIENTS_PER_EXECUTION:
        raise ValueError(
            f"{len(clients)} clients for one execution, at most {MAX_CLIENTS_PER_EXECUTION} (Step Functions' "
            "25,000-event history): run them by frequency or one client at a time"
        )
    return {"run_date": run_date.isoformat(), "frequency": frequency, "clients": clients}
