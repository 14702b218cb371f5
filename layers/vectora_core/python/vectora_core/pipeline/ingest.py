"""ingest-v2's logic: fetch the client's sources, keep the period's items, de-duplicate, write raw/."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any

from vectora_core.config.loading import ClientBundle
from vectora_core.pipeline.sources import (
    HttpFetcher,
    Period,
    SourceError,
    deduplicate,
    fetch_source,
    in_period,
)
from vectora_core.pipeline.storage import put_json, raw_key

LOGGER = logging.getLogger(__name__)


def read_pubmed_api_key(ssm: Any, parameter: str | None) -> str | None:
    """The PubMed API key, or None (PubMed still answers without one, at 3 requests/s)."""
    if not parameter:
        LOGGER.warning("no PUBMED_API_KEY_PARAM: querying PubMed without an API key")
        return None
    try:
        return ssm.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"]
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
    now: datetime | None = None,
) -> dict[str, Any]:
    """Fetch every selected source; one failing source is reported and the others go on."""
    config = bundle.config
    period = Period.ending_on(run_date, config.pipeline.period_days)
    catalog = bundle.catalog.by_id()
    reports: list[dict[str, Any]] = []
    fetched: list[dict] = []
    for source_id in config.sources.include:
        source = catalog[source_id]
        try:
            items = fetch_source(
                source, fetcher, period, config.pipeline.max_items_per_source, pubmed_api_key
            )
        except SourceError as err:
            LOGGER.warning("source %s failed: %s", source_id, err)
            reports.append({"source_id": source_id, "status": "failed", "error": str(err)})
            continue
        kept, outside = in_period(items, period)
        reports.append(
            {
                "source_id": source_id,
                "status": "ok",
                "fetched": len(items),
                "in_period": len(kept),
                "outside": outside,
            }
        )
        fetched.extend(kept)
    items, duplicates = deduplicate(fetched)
    document = {
        "client_id": config.client_id,
        "config_version": config.client_profile.version,
        "run_date": run_date.isoformat(),
        "generated_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "catalog": {"catalog_id": bundle.catalog.catalog_id, "fixture": bundle.catalog.fixture},
        "sources": reports,
        "duplicates_removed": duplicates,
        "items": items,
    }
    uri = put_json(s3, data_bucket, raw_key(config.client_id, run_date.isoformat()), document)
    failed = [r["source_id"] for r in reports if r["status"] == "failed"]
    return {
        "client_id": config.client_id,
        "run_date": run_date.isoformat(),
        "raw_items": uri,
        "items": len(items),
        "duplicates_removed": duplicates,
        "sources_ok": len(reports) - len(failed),
        "sources_failed": failed,
    }
