"""normalize-score-v2's logic: normalize each raw item (Bedrock or offline rules), score it, write curated/.

Normalization is I/O bound (one model call per item), so items go through a thread pool bounded by
the client's ``pipeline.bedrock_concurrency``; the order of the output follows the raw file.
"""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from vectora_core.config.loading import ClientBundle
from vectora_core.config.schema import LANGUAGE_NAMES, EventType
from vectora_core.pipeline.bedrock import BedrockError, BedrockJson
from vectora_core.pipeline.scoring import ScopeMatcher, _pattern, score_item
from vectora_core.pipeline.settings import OFFLINE_LABEL
from vectora_core.pipeline.storage import curated_key, get_json, latest_curated_key, put_json, raw_key

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
    return "; ".join(
        f"{scope.kind}: {', '.join(e.name for e in scope.entries)}"
        for scope, _ in bundle.scopes
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
            system=self.prompt.system.format(language=self.language),
            user=user,
            max_tokens=self.prompt.max_tokens,
            temperature=self.prompt.temperature,
        )
        return answer


MONTH_NAMES = "January|February|March|April|May|June|July|August|September|October|November|December"
DATE_PATTERNS = (
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), "%Y-%m-%d", "{0}-{1}-{2}"),
    (re.compile(rf"\b({MONTH_NAMES}) (\d{{1,2}}), (\d{{4}})\b"), "%B %d %Y", "{0} {1} {2}"),
)


def dates_in(text: str) -> list[date]:
    found: list[date] = []
    for pattern, fmt, joined in DATE_PATTERNS:
        for match in pattern.finditer(text):
            try:
                found.append(datetime.strptime(joined.format(*match.groups()), fmt).date())
            except ValueError:
                continue
    return found


class OfflineNormalizer:
    """Deterministic rules over the canonical scopes (``BEDROCK_MODE=offline``), labelled as such."""

    def __init__(self, bundle: ClientBundle) -> None:
        self.matchers: dict[str, ScopeMatcher] = {
            scope.kind: ScopeMatcher.of(scope) for scope, _ in bundle.scopes
        }
        self.rules = [
            (rule.event_type, tuple(_pattern(k) for k in rule.keywords)) for rule in bundle.event_rules.rules
        ]
        self.label = {"mode": "offline", "label": OFFLINE_LABEL}

    def _entities(self, kind: str, text: str) -> list[str]:
        matcher = self.matchers.get(kind)
        return [e.name for e in matcher.match(text)] if matcher else []

    def _event_type(self, item: dict[str, Any]) -> str:
        # The title says what happened; the body often mentions every past event too.
        for text in (item["title"], item.get("text") or ""):
            for event_type, patterns in self.rules:
                if any(p.search(text) for p in patterns):
                    return event_type
        return "scientific_publication" if item.get("source_type") == "pubmed" else "other"

    def normalize(self, item: dict[str, Any]) -> Normalization:
        body = item.get("text") or ""
        text = f"{item['title']}. {body}"
        sentences = re.split(r"(?<=[.!?])\s+", body or item["title"])
        summary = " ".join(sentences[:2])[:400] or item["title"]
        found = dates_in(text)
        published = item.get("published_at")
        relevant = any(self._entities(kind, text) for kind in ("keywords", "technologies", "molecules"))
        return Normalization(
            summary=summary,
            companies=self._entities("companies", text),
            molecules=self._entities("molecules", text),
            technologies=self._entities("technologies", text),
            event_type=self._event_type(item),  # type: ignore[arg-type]  # an EventType by construction
            # A date in the text is as often a future milestone as the event itself: the event is
            # dated by its publication, the text's dates are kept as milestones.
            event_date=date.fromisoformat(published[:10]) if published else (found[0] if found else None),
            dates=[Milestone(date=d, label="date mentioned in the text") for d in found],
            lai_relevant=relevant,
        )


def curate_item(
    item: dict[str, Any],
    normalizer: Normalizer,
    matchers: list[tuple[ScopeMatcher, float]],
    bundle: ClientBundle,
) -> dict[str, Any]:
    try:
        normalization = normalizer.normalize(item)
    except BedrockError as err:
        LOGGER.warning("item %s not normalized: %s", item["item_id"], err)
        return {**item, "status": "normalization_failed", "error": str(err), "score": 0.0}
    entities = " | ".join(normalization.companies + normalization.molecules + normalization.technologies)
    text = f"{item['title']} | {item.get('text') or ''} | {normalization.summary} | {entities}"
    score, details = score_item(
        text, normalization.event_type, normalization.lai_relevant, matchers, bundle.config.scoring
    )
    return {
        **item,
        "status": "ok",
        "normalized": normalization.model_dump(mode="json"),
        "score": score,
        "score_details": details,
    }


def curate_all(
    items: list[dict[str, Any]], normalizer: Normalizer, bundle: ClientBundle, workers: int
) -> list[dict[str, Any]]:
    """Every item normalized and scored, at most ``workers`` model calls in flight; input order kept."""
    matchers = [(ScopeMatcher.of(scope), weight) for scope, weight in bundle.scopes]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="normalize") as pool:
        return list(pool.map(lambda item: curate_item(item, normalizer, matchers, bundle), items))


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
    curated.sort(key=lambda item: item["score"], reverse=True)
    selected = sum(
        1 for item in curated if item["status"] == "ok" and item["score"] >= config.scoring.threshold
    )
    document = {
        "client_id": config.client_id,
        "config_version": config.client_profile.version,
        "run_date": run_date.isoformat(),
        "generated_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "period": raw.get("period"),
        "catalog": raw.get("catalog"),
        "normalizer": normalizer.label,
        "threshold": config.scoring.threshold,
        "stats": {"items": len(curated), "failed": failed, "above_threshold": selected},
        "items": curated,
    }
    dated = put_json(s3, data_bucket, curated_key(config.client_id, run_date.isoformat()), document)
    latest = put_json(s3, data_bucket, latest_curated_key(config.client_id), document)
    return {
        "client_id": config.client_id,
        "run_date": run_date.isoformat(),
        "normalizer": normalizer.label["mode"],
        "curated_items": dated,
        "latest": latest,
        **document["stats"],
    }
