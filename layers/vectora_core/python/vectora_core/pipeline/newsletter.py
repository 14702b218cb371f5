"""newsletter-v2's logic: select curated items, group them into sections, editorial text, Markdown + HTML."""

from __future__ import annotations

import html
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel, Field

from vectora_core.config.loading import ClientBundle
from vectora_core.config.schema import LANGUAGE_NAMES, Section
from vectora_core.pipeline.bedrock import BedrockJson
from vectora_core.pipeline.settings import OFFLINE_LABEL
from vectora_core.pipeline.storage import (
    curated_key,
    get_json,
    latest_curated_key,
    newsletter_prefix,
    put_text,
)

LOGGER = logging.getLogger(__name__)


@dataclass
class SectionItems:
    section: Section
    items: list[dict[str, Any]] = field(default_factory=list)


def select_sections(curated: dict[str, Any], bundle: ClientBundle) -> tuple[list[SectionItems], int]:
    """Items at or above the threshold, best first, each in the section of its event type.

    Returns the non-empty sections in the config's order and how many selected items found no room
    (no section for their event type, or the section already full).
    """
    threshold = bundle.config.scoring.threshold
    sections = [SectionItems(s) for s in bundle.config.newsletter.sections]
    by_type = {t: entry for entry in sections for t in entry.section.event_types}
    selected = [i for i in curated.get("items", []) if i.get("status") == "ok" and i["score"] >= threshold]
    selected.sort(key=lambda i: (-i["score"], i.get("published_at") or "", i["item_id"]))
    left_out = 0
    for item in selected:
        entry = by_type.get(item["normalized"]["event_type"])
        if entry is None or len(entry.items) >= entry.section.max_items:
            left_out += 1
            continue
        entry.items.append(item)
    return [s for s in sections if s.items], left_out


class Editorial(BaseModel):
    intro: str = Field(min_length=1, max_length=3000)
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
        prompt = bundle.editorial_prompt
        language = LANGUAGE_NAMES[bundle.config.client_profile.language]
        answer, _usage = self.bedrock.ask(
            Editorial,
            system=prompt.system.format(newsletter_title=bundle.config.newsletter.title, language=language),
            user=prompt.user_template.format(
                period_start=period_label(period).split(" to ")[0],
                period_end=period_label(period).split(" to ")[1],
                sections_json=json.dumps(_section_payload(sections), ensure_ascii=False, indent=1),
            ),
            max_tokens=prompt.max_tokens,
            temperature=prompt.temperature,
        )
        # Only the sections that exist: a model inventing a section id must not add a heading.
        wanted = {s.section.id for s in sections}
        return Editorial(
            intro=answer.intro, sections={k: v for k, v in answer.sections.items() if k in wanted}
        )


class OfflineEditor:
    """A fixed template filled from the selected items (``BEDROCK_MODE=offline``), labelled as such."""

    label = {"mode": "offline", "label": OFFLINE_LABEL}

    def write(self, sections: list[SectionItems], period: dict[str, str], bundle: ClientBundle) -> Editorial:
        items = [i for s in sections for i in s.items]
        companies = Counter(c for i in items for c in i["normalized"]["companies"])
        # Ties broken by name: the same items always give the same text.
        ranked = sorted(companies.items(), key=lambda pair: (-pair[1], pair[0]))
        top = ", ".join(name for name, _ in ranked[:3]) or "no company in particular"
        intro = (
            f"{len(items)} item(s) selected in {len(sections)} section(s) for {period_label(period)}. "
            f"Most mentioned: {top}."
        )
        texts = {}
        for entry in sections:
            best = entry.items[0]
            texts[entry.section.id] = (
                f"{len(entry.items)} item(s); highest score {best['score']:g}: {best['title']}."
            )
        return Editorial(intro=intro, sections=texts)


def _date_label(item: dict[str, Any]) -> str:
    return (item.get("published_at") or "")[:10] or item["normalized"].get("event_date") or "undated"


def _milestones(item: dict[str, Any]) -> str:
    """The dates the normalizer extracted (spec: "extraction dates"), as a short suffix."""
    dates = item["normalized"].get("dates") or []
    return "".join(f" · {d['date']}: {d['label']}" for d in dates[:3])


def period_label(period: dict[str, str]) -> str:
    """``start`` to the last day included (the stored ``end`` is exclusive)."""
    end = (datetime.fromisoformat(period["end"]) - timedelta(days=1)).date().isoformat()
    return f"{period['start'][:10]} to {end}"


def render_markdown(
    bundle: ClientBundle, sections: list[SectionItems], editorial: Editorial, meta: dict[str, Any]
) -> str:
    config = bundle.config
    lines = [f"# {config.newsletter.title} — {meta['newsletter_date']}", ""]
    for banner in meta["banners"]:
        lines += [f"> **{banner}**", ""]
    lines += [editorial.intro, ""]
    if not sections:
        lines += ["_No item reached the score threshold this period._", ""]
    for entry in sections:
        lines += [f"## {entry.section.title}", ""]
        if editorial.sections.get(entry.section.id):
            lines += [editorial.sections[entry.section.id], ""]
        for item in entry.items:
            lines.append(
                f"- **[{item['title']}]({item['url']})** — {item['source_name']}, {_date_label(item)}"
            )
            lines.append(f"  {item['normalized']['summary']}{_milestones(item)}")
        lines.append("")
    lines += [
        "---",
        f"_{config.client_profile.name} · config {config.client_profile.version} · "
        f"period {period_label(meta['period'])} · "
        f"normalizer: {meta['normalizer']} · editorial: {meta['editor']}_",
        "",
    ]
    return "\n".join(lines)


def render_html(
    bundle: ClientBundle, sections: list[SectionItems], editorial: Editorial, meta: dict[str, Any]
) -> str:
    config = bundle.config
    e = html.escape
    title = f"{config.newsletter.title} — {meta['newsletter_date']}"
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{e(config.client_profile.language)}"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title></head><body>",
        f"<h1>{e(title)}</h1>",
    ]
    parts += [f'<p class="banner"><strong>{e(b)}</strong></p>' for b in meta["banners"]]
    parts.append(f"<p>{e(editorial.intro)}</p>")
    if not sections:
        parts.append("<p><em>No item reached the score threshold this period.</em></p>")
    for entry in sections:
        parts.append(f'<section id="{e(entry.section.id)}"><h2>{e(entry.section.title)}</h2>')
        if editorial.sections.get(entry.section.id):
            parts.append(f"<p>{e(editorial.sections[entry.section.id])}</p>")
        parts.append("<ul>")
        for item in entry.items:
            parts.append(
                f'<li><a href="{e(item["url"], quote=True)}"><strong>{e(item["title"])}</strong></a> — '
                f"{e(item['source_name'])}, {e(_date_label(item))}<br>"
                f"{e(item['normalized']['summary'] + _milestones(item))}</li>"
            )
        parts.append("</ul></section>")
    parts.append(
        f"<footer><small>{e(config.client_profile.name)} · config {e(config.client_profile.version)} · "
        f"normalizer: {e(meta['normalizer'])} · editorial: {e(meta['editor'])}</small></footer>"
    )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _describe(label: dict[str, Any]) -> str:
    return f"Bedrock {label['model_id']}" if label.get("mode") == "bedrock" else "offline rules"


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
    config = bundle.config
    key = (
        curated_key(config.client_id, run_date.isoformat())
        if run_date
        else latest_curated_key(config.client_id)
    )
    curated = get_json(s3, data_bucket, key, hint=f"run normalize-score-v2 for {config.client_id} first")
    sections, left_out = select_sections(curated, bundle)
    newsletter_date = (run_date or today or datetime.now(UTC).date()).isoformat()
    day_after = (date.fromisoformat(newsletter_date) + timedelta(days=1)).isoformat()
    period = curated.get("period") or {"start": newsletter_date, "end": day_after}
    editorial = editor.write(sections, period, bundle)
    banners = []
    if curated.get("normalizer", {}).get("mode") == "offline" or editor.label.get("mode") == "offline":
        banners.append(OFFLINE_LABEL)
    if (curated.get("catalog") or {}).get("fixture"):
        banners.append(
            f"FIXTURE SOURCES (catalog {curated['catalog']['catalog_id']}): demo/test content, not real news"
        )
    meta = {
        "newsletter_date": newsletter_date,
        "period": period,
        "banners": banners,
        "normalizer": _describe(curated.get("normalizer", {})),
        "editor": _describe(editor.label),
    }
    markdown = render_markdown(bundle, sections, editorial, meta)
    page = render_html(bundle, sections, editorial, meta)
    prefix = newsletter_prefix(config.client_id, newsletter_date)
    md_uri = put_text(
        s3, newsletters_bucket, prefix + "newsletter.md", markdown, "text/markdown; charset=utf-8"
    )
    html_uri = put_text(s3, newsletters_bucket, prefix + "newsletter.html", page, "text/html; charset=utf-8")
    return {
        "client_id": config.client_id,
        "newsletter_date": newsletter_date,
        "markdown": md_uri,
        "html": html_uri,
        "items": sum(len(s.items) for s in sections),
        "sections": {s.section.id: len(s.items) for s in sections},
        "left_out": left_out,
        "editor": editor.label["mode"],
    }
