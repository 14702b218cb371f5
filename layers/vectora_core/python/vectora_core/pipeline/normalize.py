"""normalize-score-v2's logic: normalize each raw item with Bedrock, match and score it, write curated/.

Normalization is I/O bound (one model call per item), so items go through a thread pool bounded by
the client's ``pipeline.bedrock_concurrency``; the order of the output follows the raw file. An
empty result never replaces stored curated items (``FailedRunError``, nothing written).

A run is done in one invocation (``run_normalize_score``) or, by the scheduled pipeline, in batches
(``run_batch``, one invocation each, in parallel) merged by one last invocation (``merge_batches``),
so that a large week never depends on one invocation finishing within Lambda's 15 minutes.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from vectora_core.config.loading import ClientBundle
from vectora_core.config.schema import EVENT_TYPES, LANGUAGE_NAMES, EventType
from vectora_core.pipeline.bedrock import BedrockError, BedrockJson
from vectora_core.pipeline.scoring import Scorer, selection_threshold
from vectora_core.pipeline.storage import (
    MissingInputError,
    batch_key,
    curated_key,
    get_json,
    latest_curated_key,
    put_json,
    raw_key,
    refuse_empty_over,
)

LOGGER = logging.getLogger(__name__)


class Milestone(BaseModel):
    date: date
    label: str


class Normalization(BaseModel):
    """What the normalization prompt asks for; a model answer is accepted only if it fits."""

    model_config = ConfigDict(extra="ignore")

    summary: str = Field(min_length=1, max_length=2000)
    companies: list[str] = Field(default_factory=list)
    molecules: list[str] = Field(default_factory=list)
    technologies: list[str] = Field(default_factory=list)
    event_type: EventType
    event_date: date | None = None
    dates: list[Milestone] = Field(default_factory=list)
    lai_relevant: bool

    @field_validator("event_date", mode="before")
    @classmethod
    def _empty_date(cls, value: object) -> object:
        return None if value in ("", "null", "unknown") else value


class Normalizer(Protocol):
    label: dict[str, Any]

    def normalize(self, item: dict[str, Any]) -> Normalization: ...


def known_entities(bundle: ClientBundle) -> str:
    """``companies: A, B; molecules: C`` from the scopes of the config's enabled watch domains."""
    names = dict.fromkeys(s for d in bundle.config.enabled_domains() for s in d.scopes().values())
    scopes = [bundle.scopes[name] for name in names]
    return "; ".join(
        f"{scope.kind}: {', '.join(e.name for e in scope.entries)}"
        for scope in scopes
        if scope.kind != "keywords"
    )


class BedrockNormalizer:
    """The canonical normalization prompt, answered by the configured Bedrock model."""

    def __init__(self, bundle: ClientBundle, bedrock: BedrockJson) -> None:
        self.prompt = bundle.normalization_prompt
        self.bedrock = bedrock
        self.language = LANGUAGE_NAMES[bundle.config.client_profile.language]
        self.entities = known_entities(bundle)
        self.label = {
            "mode": "bedrock",
            "model_id": bedrock.model_id,
            "prompt": f"{self.prompt.prompt_id}@{self.prompt.version}",
        }

    def normalize(self, item: dict[str, Any]) -> Normalization:
        user = self.prompt.user_template.format(
            source_name=item["source_name"],
            published_at=item.get("published_at") or "unknown",
            url=item["url"],
            title=item["title"],
            text=item.get("text") or "",
            known_entities=self.entities,
        )
        answer, _usage = self.bedrock.ask(
            Normalization,
            system=self.prompt.system.format(language=self.language, event_types=", ".join(EVENT_TYPES)),
            user=user,
            max_tokens=self.prompt.max_tokens,
            temperature=self.prompt.temperature,
        )
        return answer


def curate_item(item: dict[str, Any], normalizer: Normalizer, scorer: Scorer) -> dict[str, Any]:
    try:
        normalization = normalizer.normalize(item)
    except BedrockError as err:
        LOGGER.warning("item %s not normalized: %s", item["item_id"], err)
        return {**item, "status": "normalization_failed", "error": str(err), "domains": [], "score": 0.0}
    entities = " | ".join(normalization.companies + normalization.molecules + normalization.technologies)
    text = f"{item['title']} | {item.get('text') or ''} | {normalization.summary} | {entities}"
    score = scorer.score(text, normalization.event_type, normalization.lai_relevant)
    return {
        **item,
        "status": "ok",
        "normalized": normalization.model_dump(mode="json"),
        "domains": score.domains,
        "score": score.value,
        "score_details": score.details,
    }


def curate_all(
    items: list[dict[str, Any]], normalizer: Normalizer, bundle: ClientBundle, workers: int
) -> list[dict[str, Any]]:
    """Every item normalized and scored, at most ``workers`` model calls in flight; input order kept."""
    scorer = Scorer.of(bundle)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="normalize") as pool:
        return list(pool.map(lambda item: curate_item(item, normalizer, scorer), items))


def _raw(s3: Any, data_bucket: str, client_id: str, run_date: date) -> dict[str, Any]:
    document: dict[str, Any] = get_json(
        s3,
        data_bucket,
        raw_key(client_id, run_date.isoformat()),
        hint=f"run ingest-v2 for {client_id} and {run_date} first",
    )
    return document


def run_normalize_score(
    bundle: ClientBundle,
    *,
    s3: Any,
    data_bucket: str,
    normalizer: Normalizer,
    run_date: date,
    concurrency: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The whole run in this invocation: every raw item, then the run's curated files."""
    config = bundle.config
    raw = _raw(s3, data_bucket, config.client_id, run_date)
    items = raw.get("items", [])
    curated = curate_all(items, normalizer, bundle, concurrency or config.pipeline.bedrock_concurrency)
    return write_curated(
        bundle,
        s3=s3,
        data_bucket=data_bucket,
        run_date=run_date,
        raw=raw,
        curated=curated,
        label=normalizer.label,
        now=now,
    )


def run_batch(
    bundle: ClientBundle,
    *,
    s3: Any,
    data_bucket: str,
    normalizer: Normalizer,
    run_date: date,
    batch: int,
    batch_size: int,
    concurrency: int | None = None,
) -> dict[str, Any]:
    """One batch of the run (raw items ``[batch * batch_size, (batch + 1) * batch_size)``), written as
    a partial file under ``curated/<client>/<date>/batches/``; the run's curated files are the merge's."""
    config = bundle.config
    raw = _raw(s3, data_bucket, config.client_id, run_date)
    items = raw.get("items", [])[batch * batch_size : (batch + 1) * batch_size]
    curated = curate_all(items, normalizer, bundle, concurrency or config.pipeline.bedrock_concurrency)
    key = batch_key(config.client_id, run_date.isoformat(), batch)
    document = {
        "client_id": config.client_id,
        "run_date": run_date.isoformat(),
        "batch": batch,
        "batch_size": batch_size,
        "normalizer": normalizer.label,
        "items": curated,
    }
    failed = sum(1 for item in curated if item["status"] != "ok")
    return {
        "batch": batch,
        "items": len(curated),
        "failed": failed,
        "batch_items": put_json(s3, data_bucket, key, document),
    }


def merge_batches(
    bundle: ClientBundle,
    *,
    s3: Any,
    data_bucket: str,
    label: dict[str, Any],
    run_date: date,
    batches: int,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The run's curated files from its ``batches`` partial files, in the raw file's order; the same
    rules as a whole run (a run whose every item failed fails; an empty one replaces nothing)."""
    config = bundle.config
    raw = _raw(s3, data_bucket, config.client_id, run_date)
    curated: list[dict[str, Any]] = []
    for batch in range(batches):
        key = batch_key(config.client_id, run_date.isoformat(), batch)
        part = get_json(s3, data_bucket, key, hint=f"batch {batch} of {batches} was not normalized")
        curated.extend(part.get("items", []))
        label = part.get("normalizer") or label
    expected = len(raw.get("items", []))
    if len(curated) != expected:
        raise MissingInputError(
            f"the {batches} batch file(s) of {config.client_id} for {run_date} hold {len(curated)} item(s), "
            f"the raw file {expected}: run the batches again (same batch size) before merging"
        )
    return write_curated(
        bundle,
        s3=s3,
        data_bucket=data_bucket,
        run_date=run_date,
        raw=raw,
        curated=curated,
        label=label,
        now=now,
    )


def write_curated(
    bundle: ClientBundle,
    *,
    s3: Any,
    data_bucket: str,
    run_date: date,
    raw: dict[str, Any],
    curated: list[dict[str, Any]],
    label: dict[str, Any],
    now: datetime | None = None,
) -> dict[str, Any]:
    """The run's dated and latest curated files; refuses a run whose every item failed, and an empty
    one over stored items."""
    config = bundle.config
    day = run_date.isoformat()
    failed = sum(1 for item in curated if item["status"] != "ok")
    if curated and failed == len(curated):
        raise BedrockError(f"none of the {len(curated)} items could be normalized; see the function's log")
    dated_key = curated_key(config.client_id, day)
    latest_key = latest_curated_key(config.client_id)
    if not curated:
        refuse_empty_over(s3, data_bucket, [dated_key, latest_key], what=f"curated items of {day}")
    curated.sort(key=lambda item: item["score"], reverse=True)
    threshold = selection_threshold(bundle)
    selected = sum(1 for item in curated if item["status"] == "ok" and item["score"] >= threshold)
    stats = {"items": len(curated), "failed": failed, "above_threshold": selected}
    document = {
        "client_id": config.client_id,
        "config_version": config.client_profile.version,
        "run_date": day,
        "generated_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "period": raw.get("period"),
        "catalogs": raw.get("catalogs"),
        "sources": raw.get("sources"),
        "normalizer": label,
        "threshold": threshold,
        "stats": stats,
        "items": curated,
    }
    dated = put_json(s3, data_bucket, dated_key, document)
    latest = put_json(s3, data_bucket, latest_key, document)
    return {
        "client_id": config.client_id,
        "run_date": day,
        "normalizer": label["mode"],
        "curated_items": dated,
        "latest": latest,
        **stats,
    }
