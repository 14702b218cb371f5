"""The newsletter as readers get it: an email-safe HTML page and the Markdown archive copy.

The pipeline builds one ``NewsletterDocument`` (plain text everywhere: nothing in it is markup) and
both renderers turn it into the same content in the same order: banners, TL;DR, intro, the sections
as given, metrics, footer. A section without items is left out; when no section has items, the
document's ``empty_message`` stands in their place.

The HTML follows what mail clients accept: one centred single-column table (fluid, 620 px at most),
inline styles only (clients drop ``<style>`` blocks and never fetch external CSS, fonts or images),
system fonts, no script. Every text is HTML-escaped and a link is made only of an http(s) or mailto
URL, so a feed item cannot inject markup or a ``javascript:`` link. Output is deterministic: the
same document always gives the same bytes.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "NewsletterDocument",
    "RenderedItem",
    "RenderedSection",
    "render_html",
    "render_markdown",
]


@dataclass(frozen=True)
class RenderedItem:
    title: str
    url: str
    source: str
    date: str | None  # ISO date shown to the reader, or None
    summary: str
    milestones: tuple[str, ...] = ()  # e.g. ("2027-03-01: PDUFA date",)
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
    title: str  # e.g. "LAI Weekly"
    date: str  # newsletter date, ISO
    language: str  # "en", "fr" (html lang attribute)
    period: str  # e.g. "2026-11-18 to 2026-11-24"
    banners: tuple[str, ...]  # warnings shown first (fixture sources, a local-Bedrock label)
    tldr: tuple[str, ...] | None  # None: no TL;DR block
    intro: str | None  # None: no intro
    sections: tuple[RenderedSection, ...]
    metrics: tuple[tuple[str, str], ...] | None  # (label, value) rows; None: no metrics block
    footer: str
    empty_message: str  # shown when no section has items


# The few words the renderers add themselves, by the document's language (English otherwise).
_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "tldr": "TL;DR",
        "period": "Period",
        "milestones": "Key dates",
        "metrics": "This issue in figures",
    },
    "fr": {
        "tldr": "En bref",
        "period": "Période",
        "milestones": "Dates clés",
        "metrics": "Ce numéro en chiffres",
    },
}
_SAFE_SCHEMES = ("https://", "http://", "mailto:")


def _labels(doc: NewsletterDocument) -> dict[str, str]:
    return _LABELS.get(doc.language.split("-")[0].lower(), _LABELS["en"])


def _one_line(text: str) -> str:
    """Whitespace runs (newlines included) as one space: a title must not break a list or a heading."""
    return " ".join(text.split())


def _paragraphs(text: str) -> list[str]:
    """Paragraphs separated by blank lines, each on one line; empty ones dropped."""
    return [p for p in (_one_line(chunk) for chunk in re.split(r"\n\s*\n", text)) if p]


def _link_target(url: str) -> str | None:
    """The URL if it is safe to link (http, https, mailto), else None: the title then stays plain text."""
    cleaned = url.strip()
    return cleaned if cleaned.lower().startswith(_SAFE_SCHEMES) else None


def _item_meta(item: RenderedItem) -> list[str]:
    """Source, date, event type and score, in that order, as the reader sees them."""
    parts = [_one_line(item.source)]
    if item.date:
        parts.append(_one_line(item.date))
    if item.event_type:
        parts.append(_one_line(item.event_type.replace("_", " ")))
    if item.score is not None:
        parts.append(f"score {item.score:g}")
    return [p for p in parts if p]


def _visible_sections(doc: NewsletterDocument) -> list[RenderedSection]:
    return [s for s in doc.sections if s.items]


# ---------------------------------------------------------------------------------------------
# Markdown (the archive copy)

# What would start emphasis, code, a link, raw HTML, a heading or an entity ("&amp;", not a lone
# "&"), or strike text through (GFM), anywhere in a line; escaped so that text shows as typed.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#~]|&(?=#?[0-9A-Za-z]+;))")
# At the start of a line, these would make a list item ("- ", "+ ", "1. ", "1) ").
_MD_LINE_START = re.compile(r"^(\d+(?=[.)])|(?=[-+]))")
# A space or a parenthesis would end a link destination early, angle brackets are not allowed in it
# and a backslash would escape the next character: percent-encoded, they reach the browser as meant.
_MD_URL_ESCAPES = str.maketrans({" ": "%20", "(": "%28", ")": "%29", "<": "%3C", ">": "%3E", "\\": "%5C"})


def _md(text: str) -> str:
    """Plain text as Markdown that renders as that text, on one line (safe at a line's start too)."""
    escaped = _MD_SPECIAL.sub(r"\\\1", _one_line(text))
    return _MD_LINE_START.sub(r"\1\\", escaped, count=1)


def _md_url(url: str) -> str:
    return url.translate(_MD_URL_ESCAPES)


def _md_item(item: RenderedItem, labels: dict[str, str]) -> list[str]:
    target = _link_target(item.url)
    title = f"[{_md(item.title)}]({_md_url(target)})" if target else _md(item.title)
    lines = [f"- **{title}** — {' · '.join(_md(p) for p in _item_meta(item))}"]
    if _one_line(item.summary):
        lines.append(f"  {_md(item.summary)}")
    if item.milestones:
        lines.append(f"  - _{labels['milestones']}_:")
        lines += [f"    - {_md(m)}" for m in item.milestones]
    return lines


def _md_section(section: RenderedSection, labels: dict[str, str]) -> list[str]:
    lines = [f"## {_md(section.title)}", ""]
    for paragraph in _paragraphs(section.intro or ""):
        lines += [_md(paragraph), ""]
    for item in section.items:
        lines += _md_item(item, labels)
    return [*lines, ""]


def _md_head(doc: NewsletterDocument, labels: dict[str, str]) -> list[str]:
    lines = [f"# {_md(doc.title)} — {_md(doc.date)}", ""]
    for banner in doc.banners:
        lines += [f"> **{_md(banner)}**", ""]
    lines += [f"_{labels['period']}: {_md(doc.period)}_", ""]
    if doc.tldr is not None:
        lines += [f"**{labels['tldr']}**", ""]
        lines += [f"- {_md(point)}" for point in doc.tldr]
        lines.append("")
    for paragraph in _paragraphs(doc.intro or ""):
        lines += [_md(paragraph), ""]
    return lines


def _md_tail(doc: NewsletterDocument, labels: dict[str, str]) -> list[str]:
    lines = ["---", ""]
    if doc.metrics is not None:
        lines += [f"**{labels['metrics']}**", ""]
        lines += [f"- {_md(label)}: {_md(value)}" for label, value in doc.metrics]
        lines.append("")
    if _one_line(doc.footer):
        lines += [f"_{_md(doc.footer)}_", ""]
    return lines


def render_markdown(doc: NewsletterDocument) -> str:
    """The document as Markdown: TL;DR as a list, one ``##`` per section, items as links."""
    labels = _labels(doc)
    lines = _md_head(doc, labels)
    sections = _visible_sections(doc)
    if not sections:
        lines += [f"_{_md(doc.empty_message)}_", ""]
    for section in sections:
        lines += _md_section(section, labels)
    lines += _md_tail(doc, labels)
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# HTML (what readers open)

_FONT = "Arial,Helvetica,sans-serif"
_INK = "#1f2933"  # body text: dark grey, softer than black, 14:1 on white
_MUTED = "#5b6675"  # meta lines, footer (5.7:1 on white: still readable small)
_ACCENT = "#0b5394"  # links and rules
_PAGE_BG = "#eef1f5"
_CARD_BG = "#ffffff"
_TINT_BG = "#f2f6fb"  # TL;DR and milestones boxes
_WARN_BG, _WARN_INK, _WARN_RULE = "#fff4e0", "#7a4b00", "#f0b429"
_PAD_X = "20px"  # a card's horizontal padding: 375 px phones keep ~315 px of text width
_TABLE = 'role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"'
_WRAP = "overflow-wrap:break-word;word-break:break-word;"


def _e(text: str) -> str:
    return html.escape(_one_line(text), quote=True)


def _row(block_id: str, content: str, style: str) -> str:
    """One row of the main column: a block with an id (for anchors and tests) and its own style."""
    return f'<tr><td id="{_e(block_id)}" style="{style}">{content}</td></tr>'


def _p(text: str, style: str) -> str:
    return f'<p style="margin:0 0 12px 0;{style}">{_e(text)}</p>'


def _bullets(points: Sequence[str], style: str) -> str:
    """A list as table rows: mail clients pad and indent <ul> each their own way."""
    rows = "".join(
        f'<tr><td width="18" valign="top" style="{style}color:{_ACCENT};">&#8226;</td>'
        f'<td valign="top" style="{style}">{_e(point)}</td></tr>'
        for point in points
    )
    return f"<table {_TABLE}>{rows}</table>"


def _html_banners(doc: NewsletterDocument) -> list[str]:
    if not doc.banners:
        return []
    text = f"font-family:{_FONT};font-size:14px;line-height:20px;font-weight:bold;color:{_WARN_INK};"
    content = "".join(_p(b, text) for b in doc.banners)
    style = f"background-color:{_WARN_BG};border-left:4px solid {_WARN_RULE};padding:12px 16px 0 16px;"
    return [_row("banners", content, style), _spacer()]


def _spacer(height: int = 12) -> str:
    return f'<tr><td height="{height}" style="font-size:0;line-height:0;">&nbsp;</td></tr>'


def _html_masthead(doc: NewsletterDocument, labels: dict[str, str]) -> str:
    title = (
        f'<h1 style="margin:0 0 6px 0;font-family:{_FONT};font-size:26px;line-height:32px;'
        f'color:{_CARD_BG};">{_e(doc.title)}</h1>'
    )
    when = (
        f'<p style="margin:0;font-family:{_FONT};font-size:14px;line-height:20px;color:#d6e4f5;">'
        f"{_e(doc.date)} &middot; {_e(labels['period'])}: {_e(doc.period)}</p>"
    )
    return _row("masthead", title + when, f"background-color:{_ACCENT};padding:24px {_PAD_X};")


def _html_tldr(doc: NewsletterDocument, labels: dict[str, str]) -> list[str]:
    if doc.tldr is None:
        return []
    heading = (
        f'<h2 style="margin:0 0 8px 0;font-family:{_FONT};font-size:13px;line-height:18px;'
        f'letter-spacing:1px;text-transform:uppercase;color:{_ACCENT};">{_e(labels["tldr"])}</h2>'
    )
    text = f"font-family:{_FONT};font-size:15px;line-height:22px;color:{_INK};padding:0 0 6px 0;"
    box = f'<table {_TABLE}><tr><td style="background-color:{_TINT_BG};padding:14px 16px 8px 16px;">'
    content = f"{box}{heading}{_bullets(doc.tldr, text)}</td></tr></table>"
    return [_row("tldr", content, f"background-color:{_CARD_BG};padding:20px {_PAD_X} 4px {_PAD_X};")]


def _html_intro(doc: NewsletterDocument) -> list[str]:
    paragraphs = _paragraphs(doc.intro or "")
    if not paragraphs:
        return []
    text = f"font-family:{_FONT};font-size:16px;line-height:24px;color:{_INK};"
    content = "".join(_p(p, text) for p in paragraphs)
    return [_row("intro", content, f"background-color:{_CARD_BG};padding:16px {_PAD_X} 4px {_PAD_X};")]


def _html_milestones(item: RenderedItem, labels: dict[str, str]) -> str:
    if not item.milestones:
        return ""
    label = (
        f'<p style="margin:0 0 4px 0;font-family:{_FONT};font-size:12px;line-height:16px;'
        f'font-weight:bold;color:{_MUTED};">{_e(labels["milestones"])}</p>'
    )
    text = f"font-family:{_FONT};font-size:14px;line-height:20px;color:{_INK};padding:0 0 2px 0;"
    return (
        f'<table {_TABLE}><tr><td style="background-color:{_TINT_BG};padding:8px 12px 6px 12px;">'
        f"{label}{_bullets(item.milestones, text)}</td></tr></table>"
    )


def _html_item_title(item: RenderedItem) -> str:
    style = f"font-family:{_FONT};font-size:18px;line-height:24px;font-weight:bold;"
    target = _link_target(item.url)
    inner = (
        f'<a href="{html.escape(target, quote=True)}" style="color:{_ACCENT};text-decoration:underline;">'
        f"{_e(item.title)}</a>"
        if target
        else _e(item.title)
    )
    return f'<h3 style="margin:0 0 4px 0;{style}color:{_INK};">{inner}</h3>'


def _html_item(item: RenderedItem, labels: dict[str, str], *, first: bool) -> str:
    meta = " &middot; ".join(_e(p) for p in _item_meta(item))
    meta_line = (
        f'<p style="margin:0 0 8px 0;font-family:{_FONT};font-size:13px;line-height:18px;'
        f'color:{_MUTED};">{meta}</p>'
    )
    summary = (
        _p(item.summary, f"font-family:{_FONT};font-size:15px;line-height:22px;color:{_INK};")
        if _one_line(item.summary)
        else ""
    )
    body = _html_item_title(item) + meta_line + summary + _html_milestones(item, labels)
    # overflow-wrap: a long unbroken word (a URL, a gene name) wraps instead of widening the page.
    # The first item sits right under the section's rule: a second line there would look doubled.
    rule = "" if first else "border-top:1px solid #e3e8ef;"
    cell = f"{rule}padding:16px 0 10px 0;"
    return f'<tr><td style="{cell}">{body}</td></tr>'


def _html_section(section: RenderedSection, labels: dict[str, str]) -> list[str]:
    heading = (
        f'<h2 style="margin:0 0 8px 0;padding:0 0 8px 0;border-bottom:2px solid {_ACCENT};'
        f'font-family:{_FONT};font-size:21px;line-height:28px;color:{_INK};">{_e(section.title)}</h2>'
    )
    intro_style = f"font-family:{_FONT};font-size:15px;line-height:22px;font-style:italic;color:{_MUTED};"
    intro = "".join(_p(p, intro_style) for p in _paragraphs(section.intro or ""))
    items = "".join(_html_item(item, labels, first=n == 0) for n, item in enumerate(section.items))
    content = f"{heading}{intro}<table {_TABLE}>{items}</table>"
    style = f"background-color:{_CARD_BG};padding:20px {_PAD_X} 8px {_PAD_X};"
    return [_row(f"section-{section.id}", content, style)]


def _html_empty(doc: NewsletterDocument) -> list[str]:
    text = f"font-family:{_FONT};font-size:16px;line-height:24px;font-style:italic;color:{_MUTED};"
    return [_row("empty", _p(doc.empty_message, text), f"background-color:{_CARD_BG};padding:24px {_PAD_X};")]


def _html_metrics(doc: NewsletterDocument, labels: dict[str, str]) -> list[str]:
    if doc.metrics is None:
        return []
    cell = f"font-family:{_FONT};font-size:14px;line-height:20px;padding:6px 0;border-top:1px solid #e3e8ef;"
    rows = "".join(
        f'<tr><td valign="top" style="{cell}color:{_MUTED};padding-right:12px;">{_e(label)}</td>'
        f'<td valign="top" align="right" style="{cell}color:{_INK};font-weight:bold;">{_e(value)}</td></tr>'
        for label, value in doc.metrics
    )
    heading = (
        f'<h2 style="margin:0 0 8px 0;font-family:{_FONT};font-size:13px;line-height:18px;'
        f'letter-spacing:1px;text-transform:uppercase;color:{_ACCENT};">{_e(labels["metrics"])}</h2>'
    )
    content = f"{heading}<table {_TABLE}>{rows}</table>"
    style = (
        f"background-color:{_CARD_BG};padding:20px {_PAD_X} 16px {_PAD_X};border-top:8px solid {_PAGE_BG};"
    )
    return [_row("metrics", content, style)]


def _html_footer(doc: NewsletterDocument) -> str:
    text = f"font-family:{_FONT};font-size:12px;line-height:18px;color:{_MUTED};text-align:center;"
    return _row("footer", _p(doc.footer, text), f"padding:16px {_PAD_X} 8px {_PAD_X};")


def _html_head(doc: NewsletterDocument) -> list[str]:
    return [
        "<!DOCTYPE html>",
        f'<html lang="{_e(doc.language)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="x-apple-disable-message-reformatting">',
        # Light only: the colours are chosen for it; clients that force dark mode recolour anyway.
        '<meta name="color-scheme" content="light">',
        f"<title>{_e(doc.title)} — {_e(doc.date)}</title>",
        "</head>",
        f'<body style="margin:0;padding:0;background-color:{_PAGE_BG};">',
        f'<table {_TABLE} style="background-color:{_PAGE_BG};">',
        '<tr><td align="center" style="padding:16px 8px;">',
        # Outlook for Windows ignores max-width: a fixed-width table only it sees.
        '<!--[if mso]><table role="presentation" width="620" align="center"><tr><td><![endif]-->',
        # A long unbroken word (a URL, a molecule) wraps instead of widening the page: word-break is
        # what Blink and WebKit size table cells by, overflow-wrap what the other engines read.
        f'<table {_TABLE} style="max-width:620px;width:100%;{_WRAP}">',
    ]


_HTML_TAIL = [
    "</table>",
    "<!--[if mso]></td></tr></table><![endif]-->",
    "</td></tr>",
    "</table>",
    "</body>",
    "</html>",
]


def render_html(doc: NewsletterDocument) -> str:
    """The document as one email-safe HTML page (see the module docstring for the rules it keeps)."""
    labels = _labels(doc)
    rows = _html_banners(doc) + [_html_masthead(doc, labels)]
    rows += _html_tldr(doc, labels) + _html_intro(doc)
    sections = _visible_sections(doc)
    if not sections:
        rows += _html_empty(doc)
    for section in sections:
        rows += _html_section(section, labels)
    rows += _html_metrics(doc, labels) + [_html_footer(doc)]
    return "\n".join(_html_head(doc) + rows + _HTML_TAIL) + "\n"
