"""A newsletter as a document, rendered to Markdown and HTML.

Minimal stand-in with the rendering module's interface (the dataclasses and the two functions),
until the full renderer replaces this file: newsletter.py builds a ``NewsletterDocument`` and
calls ``render_markdown`` / ``render_html``, nothing else.
"""

from __future__ import annotations

import html
from dataclasses import dataclass


@dataclass(frozen=True)
class RenderedItem:
    title: str
    url: str
    source: str
    date: str | None
    summary: str
    milestones: tuple[str, ...] = ()
    event_type: str | None = None
    score: float | None = None


@dataclass(frozen=True)
class RenderedSection:
    id: str
    title: str
    intro: str | None
    items: tuple[RenderedItem, ...]


@dataclass(frozen=True)
class NewsletterDocument:
    title: str
    date: str
    language: str
    period: str
    banners: tuple[str, ...]
    tldr: tuple[str, ...] | None
    intro: str | None
    sections: tuple[RenderedSection, ...]
    metrics: tuple[tuple[str, str], ...] | None
    footer: str
    empty_message: str


def _item_line(item: RenderedItem) -> str:
    return f"- **[{item.title}]({item.url})** — {item.source}, {item.date or 'undated'}"


def render_markdown(doc: NewsletterDocument) -> str:
    lines = [f"# {doc.title} — {doc.date}", ""]
    lines += [line for banner in doc.banners for line in (f"> **{banner}**", "")]
    if doc.tldr:
        lines += ["**TL;DR**", "", *(f"- {point}" for point in doc.tldr), ""]
    if doc.intro:
        lines += [doc.intro, ""]
    if not doc.sections:
        lines += [f"_{doc.empty_message}_", ""]
    for section in doc.sections:
        lines += [f"## {section.title}", ""]
        if section.intro:
            lines += [section.intro, ""]
        for item in section.items:
            milestones = "".join(f" · {m}" for m in item.milestones)
            lines += [_item_line(item), f"  {item.summary}{milestones}"]
        lines.append("")
    if doc.metrics:
        lines += ["## Metrics", "", *(f"- {label}: {value}" for label, value in doc.metrics), ""]
    lines += ["---", f"_{doc.footer}_", ""]
    return "\n".join(lines)


def render_html(doc: NewsletterDocument) -> str:
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{e(doc.language)}"><head><meta charset="utf-8">',
        f"<title>{e(doc.title)} — {e(doc.date)}</title></head><body>",
        f"<h1>{e(doc.title)} — {e(doc.date)}</h1>",
        *(f'<p class="banner"><strong>{e(b)}</strong></p>' for b in doc.banners),
    ]
    if doc.tldr:
        parts.append('<ul class="tldr">' + "".join(f"<li>{e(p)}</li>" for p in doc.tldr) + "</ul>")
    if doc.intro:
        parts.append(f"<p>{e(doc.intro)}</p>")
    if not doc.sections:
        parts.append(f"<p><em>{e(doc.empty_message)}</em></p>")
    for section in doc.sections:
        parts.append(f'<section id="{e(section.id)}"><h2>{e(section.title)}</h2>')
        if section.intro:
            parts.append(f"<p>{e(section.intro)}</p>")
        parts.append("<ul>")
        for item in section.items:
            parts.append(
                f'<li><a href="{e(item.url, quote=True)}"><strong>{e(item.title)}</strong></a> — '
                f"{e(item.source)}, {e(item.date or 'undated')}<br>{e(item.summary)}</li>"
            )
        parts.append("</ul></section>")
    if doc.metrics:
        parts.append(
            '<ul class="metrics">' + "".join(f"<li>{e(k)}: {e(v)}</li>" for k, v in doc.metrics) + "</ul>"
        )
    parts += [f"<footer><small>{e(doc.footer)}</small></footer>", "</body></html>"]
    return "\n".join(parts) + "\n"
