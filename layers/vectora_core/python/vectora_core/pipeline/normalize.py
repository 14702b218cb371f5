"""normalize-score-v2's logic: normalize each raw item with Bedrock, match and score it, write curated/.

Normalization is I/O bound (one model call per item), so items go through a thread pool bounded by
the client's ``pipeline.bedrock_concurrency``; the order of the output follows the raw file. An
empty result never replaces stored curated items (``FailedRunError``, nothing written).
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
    config = bundle.config
    raw = get_json(
        s3,
        data_bucket,
        raw_key(config.client_id, run_date.isoformat()),
        hint=f"run ingest-v2 for {config.client_id} and {run_date} first",
    )
    items = raw.get("items", [])
    curated = curate_all(items, normalizer, bundle, concurrency or config.pipeline.bedrock_concurrency)
    failed = sum(1 for item in curated if item["status"] != "ok")
    if items and failed == len(items):
        raise BedrockError(f"none of the {len(items)} items could be normalized; see the function's log")
    dated_key = curated_key(config.client_id, run_date.isoformat())
    latest_key = latest_curated_key(config.client_id)
    if not curated:
        refuse_empty_over(s3, data_bucket, [dated_key, latest_key], what=f"curated items of {run_date}")
    curated.sort(key=lambda item: item["score"], reverse=True)
    threshold = selection_threshold(bundle)
    selected = sum(1 for item in curated if item["status"] == "ok" and item["score"] >= threshold)
    document = {
        "client_id": config.client_id,
        "config_version": config.client_profile.version,
        "run_date": run_date.isoformat(),
        "generated_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "period": raw.get("period"),
        "catalogs": raw.get("catalogs"),
        "sources": raw.get("sources"),
        "normalizer": normalizer.label,
        "threshold": threshold,
        "stats": {"items": len(curated), "failed": failed, "above_threshold": selected},
        "items": curated,
    }
    dated = put_json(s3, data_bucket, dated_key, document)
    latest = put_json(s3, data_bucket, latest_key, document)
    return {
        "client_id": config.client_id,
        "run_date": run_date.isoformat(),
        "normalizer": normalizer.label["mode"],
        "curated_items": dated,
        "latest": latest,
        **document["stats"],
    }
