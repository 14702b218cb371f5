"""newsletter-v2's logic: select curated items into the layout's sections, editorial text, render.

Selection follows the config: items at or above the selection threshold, best first, at most
``max_items_total``; each goes to the first section (by ``priority``) whose ``filter_event_types``
accept its event type (``"*"``: any) and whose ``source_domains`` include a watch domain it
matched, while that section has room (``max_items``); each section is then ordered by its
``sort_by``. ``newsletter_delivery`` switches the TL;DR, the intro and the metrics on or off. The
document is rendered by ``vectora_core.pipeline.render``. An empty newsletter never replaces a
stored one that had items (``FailedRunError``, nothing written).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, Protocol

from pydantic import BaseModel, Field

from vectora_core.config.loading import ClientBundle
from vectora_core.config.schema import LANGUAGE_NAMES, LayoutSection
from vectora_core.pipeline.bedrock import BedrockJson
from vectora_core.pipeline.render import (
    NewsletterDocument,
    RenderedItem,
    RenderedSection,
    render_html,
    render_markdown,
)
from vectora_core.pipeline.scoring import max_items_total, selection_threshold
from vectora_core.pipeline.storage import (
    ITEMS_METADATA,
    curated_key,
    get_json,
    latest_curated_key,
    newsletter_prefix,
    put_text,
    refuse_empty_over,
)

LOGGER = logging.getLogger(__name__)
# The editorial prompt's {tone}, {voice} and {target_audience} when client_profile leaves them out.
DEFAULT_TONE: Final = "sober"
DEFAULT_VOICE: Final = "precise"
DEFAULT_AUDIENCE: Final = "professional readers"
EMPTY_MESSAGE: Final = "No item reached the score threshold this period."
TLDR_FALLBACK_ITEMS: Final = 5
MARKDOWN, HTML = "newsletter.md", "newsletter.html"


@dataclass
class SectionItems:
    section: LayoutSection
    items: list[dict[str, Any]] = field(default_factory=list)

    def takes(self, item: dict[str, Any]) -> bool:
        section = self.section
        if len(self.items) >= section.max_items or not section.accepts(item["normalized"]["event_type"]):
            return False
        return section.source_domains is None or bool(
            set(section.source_domains) & set(item.get("domains", []))
        )


def _best_first(item: dict[str, Any]) -> tuple[Any, ...]:
    return (-item["score"], item.get("published_at") or "", item["item_id"])


def order_items(items: list[dict[str, Any]], sort_by: str) -> None:
    """``score_desc``: best first; ``date_desc``: newest first (undated last), best first on a tie."""
    items.sort(key=_best_first)
    if sort_by == "date_desc":
        # published_at is ISO 8601 in UTC, so as text it sorts as time; a stable sort keeps the ties.
        items.sort(key=lambda item: item.get("published_at") or "", reverse=True)


def select_sections(curated: dict[str, Any], bundle: ClientBundle) -> tuple[list[SectionItems], int]:
    """The non-empty sections in priority order, and how many selected items found no room."""
    threshold, cap = selection_threshold(bundle), max_items_total(bundle)
    sections = [SectionItems(s) for s in bundle.config.newsletter_layout.ordered()]
    selected = [i for i in curated.get("items", []) if i.get("status") == "ok" and i["score"] >= threshold]
    selected.sort(key=_best_first)
    placed = left_out = 0
    for item in selected:
        entry = (
            None if cap is not None and placed >= cap else next((s for s in sections if s.takes(item)), None)
        )
        if entry is None:
            left_out += 1
            continue
        entry.items.append(item)
        placed += 1
    for entry in sections:
        order_items(entry.items, entry.section.sort_by)
    return [s for s in sections if s.items], left_out


class Editorial(BaseModel):
    intro: str = Field(default="", max_length=3000)
    tldr: list[str] | None = Field(default=None, max_length=10)
    sections: dict[str, str] = Field(default_factory=dict)


class Editor(Protocol):
    label: dict[str, Any]

    def write(
        self, sections: list[SectionItems], period: dict[str, str], bundle: ClientBundle
    ) -> Editorial: ...


def _section_payload(sections: list[SectionItems]) -> list[dict[str, Any]]:
    return [
        {
            "id": s.section.id,
            "title": s.section.title,
            "items": [
                {
                    "title": i["title"],
                    "summary": i["normalized"]["summary"],
                    "companies": i["normalized"]["companies"],
                    "event_type": i["normalized"]["event_type"],
                    "event_date": i["normalized"]["event_date"],
                }
                for i in s.items
            ],
        }
        for s in sections
    ]


class BedrockEditor:
    def __init__(self, bedrock: BedrockJson) -> None:
        self.bedrock = bedrock
        self.label = {"mode": "bedrock", "model_id": bedrock.model_id}

    def write(self, sections: list[SectionItems], period: dict[str, str], bundle: ClientBundle) -> Editorial:
        prompt, profile = bundle.editorial_prompt, bundle.config.client_profile
        start, end = period_bounds(period)
        answer, _usage = self.bedrock.ask(
            Editorial,
            system=prompt.system.format(
                newsletter_title=profile.name,
                language=LANGUAGE_NAMES[profile.language],
                tone=profile.tone or DEFAULT_TONE,
                voice=profile.voice or DEFAULT_VOICE,
                target_audience=profile.target_audience or DEFAULT_AUDIENCE,
            ),
            user=prompt.user_template.format(
                period_start=start,
                period_end=end,
                sections_json=json.dumps(_section_payload(sections), ensure_ascii=False, indent=1),
            ),
            max_tokens=prompt.max_tokens,
            temperature=prompt.temperature,
        )
        # Only the sections that exist: a model inventing a section id must not add a heading.
        wanted = {s.section.id for s in sections}
        return answer.model_copy(
            update={"sections": {k: v for k, v in answer.sections.items() if k in wanted}}
        )


def period_bounds(period: dict[str, str]) -> tuple[str, str]:
    """``start`` and the last day included (the stored ``end`` is exclusive)."""
    end = (datetime.fromisoformat(period["end"]) - timedelta(days=1)).date().isoformat()
    return period["start"][:10], end


def period_label(period: dict[str, str]) -> str:
    return " to ".join(period_bounds(period))


def _rendered_item(item: dict[str, Any]) -> RenderedItem:
    normalized = item["normalized"]
    dates = normalized.get("dates") or []
    return RenderedItem(
        title=item["title"],
        url=item["url"],
        source=item["source_name"],
        date=(item.get("published_at") or "")[:10] or normalized.get("event_date"),
        summary=normalized["summary"],
        # The dates the normalizer extracted ("extraction dates"), the first three.
        milestones=tuple(f"{d['date']}: {d['label']}" for d in dates[:3]),
        event_type=normalized["event_type"],
        score=item["score"],
    )


def _tldr(editorial: Editorial, sections: list[SectionItems]) -> tuple[str, ...]:
    if editorial.tldr:
        return tuple(editorial.tldr)
    # The model gave none: the best item of each section, in its words (titles are facts, not prose).
    return tuple(s.items[0]["title"] for s in sections[:TLDR_FALLBACK_ITEMS])


def _most_first(values: Iterable[str]) -> list[tuple[str, int]]:
    """Counts, highest first, ties by name: the same items always give the same metrics."""
    return sorted(Counter(values).items(), key=lambda pair: (-pair[1], pair[0]))


def _metrics(
    curated: dict[str, Any], sections: list[SectionItems], bundle: ClientBundle
) -> tuple[tuple[str, str], ...]:
    selected = [i for s in sections for i in s.items]
    reports = curated.get("sources") or []
    ok = sum(1 for r in reports if r.get("status") == "ok")
    metrics = [
        ("Items considered", str(len(curated.get("items", [])))),
        ("Items selected", str(len(selected))),
        ("Score threshold", f"{selection_threshold(bundle):g}"),
        ("Sources", f"{ok} answered, {len(reports) - ok} failed"),
    ]
    options = bundle.config.newsletter_delivery.metrics_config
    if options and options.include_source_breakdown:
        metrics += [(f"From {name}", str(n)) for name, n in _most_first(i["source_name"] for i in selected)]
    if options and options.include_domain_breakdown:
        metrics += [
            (f"Domain {name}", str(n))
            for name, n in _most_first(d for i in selected for d in i.get("domains", []))
        ]
    return tuple(metrics)


def _describe(label: dict[str, Any]) -> str:
    return (
        f"Bedrock {label['model_id']}"
        if label.get("mode") == "bedrock"
        else str(label.get("mode", "unknown"))
    )


@dataclass(frozen=True)
class Issue:
    """What one newsletter is about: its date, its period and the curated document it is built on."""

    newsletter_date: str
    period: dict[str, str]
    curated: dict[str, Any]


def build_document(
    bundle: ClientBundle, issue: Issue, sections: list[SectionItems], editorial: Editorial, editor: Editor
) -> NewsletterDocument:
    config = bundle.config
    delivery, profile = config.newsletter_delivery, config.client_profile
    fixtures = [c["catalog_id"] for c in issue.curated.get("catalogs") or [] if c.get("fixture")]
    return NewsletterDocument(
        title=profile.name,
        date=issue.newsletter_date,
        language=profile.language,
        period=period_label(issue.period),
        banners=tuple(
            f"FIXTURE SOURCES (catalog {catalog}): demo/test content, not real news" for catalog in fixtures
        ),
        tldr=_tldr(editorial, sections) if delivery.include_tldr and sections else None,
        intro=(editorial.intro or None) if delivery.include_intro else None,
        sections=tuple(
            RenderedSection(
                id=s.section.id,
                title=s.section.title,
                intro=editorial.sections.get(s.section.id),
                items=tuple(_rendered_item(i) for i in s.items),
            )
            for s in sections
        ),
        metrics=_metrics(issue.curated, sections, bundle) if delivery.include_metrics else None,
        footer=(
            f"{profile.name} · config {profile.version} · period {period_label(issue.period)} · normalizer: "
            f"{_describe(issue.curated.get('normalizer', {}))} · editorial: {_describe(editor.label)}"
        ),
        empty_message=EMPTY_MESSAGE,
    )


def run_newsletter(
    bundle: ClientBundle,
    *,
    s3: Any,
    data_bucket: str,
    newsletters_bucket: str,
    editor: Editor,
    run_date: date | None,
    today: date | None = None,
) -> dict[str, Any]:
    """``run_date`` picks that run's curated file; None takes the latest ``curated_items.json``."""
    client_id = bundle.config.client_id
    key = curated_key(client_id, run_date.isoformat()) if run_date else latest_curated_key(client_id)
    curated = get_json(s3, data_bucket, key, hint=f"run normalize-score-v2 for {client_id} first")
    sections, left_out = select_sections(curated, bundle)
    newsletter_date = (run_date or today or datetime.now(UTC).date()).isoformat()
    day_after = (date.fromisoformat(newsletter_date) + timedelta(days=1)).isoformat()
    issue = Issue(
        newsletter_date, curated.get("period") or {"start": newsletter_date, "end": day_after}, curated
    )
    prefix = newsletter_prefix(client_id, newsletter_date)
    count = sum(len(s.items) for s in sections)
    if not count:
        refuse_empty_over(s3, newsletters_bucket, [prefix + MARKDOWN, prefix + HTML], what="this newsletter")
    # No model call for an empty newsletter: there is nothing to introduce.
    editorial = editor.write(sections, issue.period, bundle) if sections else Editorial()
    document = build_document(bundle, issue, sections, editorial, editor)
    metadata = {ITEMS_METADATA: str(count)}
    md_uri = put_text(
        s3, newsletters_bucket, prefix + MARKDOWN, render_markdown(document), "text/markdown; charset=utf-8",
        metadata=metadata,
    )  # fmt: skip
    html_uri = put_text(
        s3,
        newsletters_bucket,
        prefix + HTML,
        render_html(document),
        "text/html; charset=utf-8",
        metadata=metadata,
    )
    return {
        "client_id": client_id,
        "newsletter_date": newsletter_date,
        "markdown": md_uri,
        "html": html_uri,
        "items": count,
        "sections": {s.section.id: len(s.items) for s in sections},
        "left_out": left_out,
        "editor": editor.label["mode"],
    }
