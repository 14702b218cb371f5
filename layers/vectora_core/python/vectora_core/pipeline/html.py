"""HTML news pages (``type: html``): read with the source's extractor, or the generic parser.

An extractor names CSS selectors (container, item, title, url, date, description; soupsieve's
syntax through BeautifulSoup, with Python's own ``html.parser``: nothing compiled in the layer).
An item's date is its date text read with ``date_format``, else found by the source's
``date_patterns`` (regexes) in the date text then in the item's whole text, else by the common
shapes of dates (ISO, 12/03/2026, 12 March 2026, March 12, 2026, 12 mars 2026). An undated item
is kept as such, and left out by the period filter like an undated feed entry.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Tag

from vectora_core.config.schema import HtmlExtractor, Source
from vectora_core.pipeline.sources import HttpFetcher, RawItem, SourceError, make_item

LOGGER = logging.getLogger(__name__)
# The generic parser's candidates for "one news item", tried in turn: the first that finds items
# with a link wins.
GENERIC_ITEMS: Final = ("article", "table tr", ".news-item", ".views-row", "li")
GENERIC_TITLE: Final = "h1, h2, h3, h4, .title"
# Date shapes looked for when a source's own patterns find nothing.
GENERIC_DATE_PATTERNS: Final = (
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?",
    r"\d{1,2}[/.-]\d{1,2}[/.-]\d{4}",
    r"\d{4}[/.]\d{1,2}[/.]\d{1,2}",
    r"\d{1,2}(?:st|nd|rd|th|er)? [^\W\d_]+\.? \d{4}",
    r"[^\W\d_]+\.? \d{1,2}(?:st|nd|rd|th)?,? \d{4}",
)
# Formats a date found by a pattern is read with (after date_format); day first, as in Europe.
DATE_FORMATS: Final = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d, %Y",
    "%b %d, %Y",
    "%B %d %Y",
    "%b %d %Y",
)
# The team's pilot companies publish in English and French; strptime reads English month names.
FRENCH_MONTHS: Final = {
    "janvier": "January",
    "février": "February",
    "fevrier": "February",
    "mars": "March",
    "avril": "April",
    "mai": "May",
    "juin": "June",
    "juillet": "July",
    "août": "August",
    "aout": "August",
    "septembre": "September",
    "octobre": "October",
    "novembre": "November",
    "décembre": "December",
    "decembre": "December",
}
ORDINAL = re.compile(r"(?<=\d)(st|nd|rd|th|er)\b")


# --- dates ----------------------------------------------------------------------------------------


def _english(text: str) -> str:
    text = ORDINAL.sub("", " ".join(text.split()))
    words = [FRENCH_MONTHS.get(w.casefold().rstrip("."), w.rstrip(".")) for w in text.split(" ")]
    return " ".join(words)


def _read(text: str, formats: Iterable[str]) -> datetime | None:
    candidate = text.strip()
    try:
        moment = datetime.fromisoformat(candidate)
    except ValueError:
        moment = None
    for fmt in formats:
        if moment is not None:
            break
        for form in dict.fromkeys((candidate, _english(candidate))):
            try:
                moment = datetime.strptime(form, fmt)  # noqa: DTZ007  # made UTC below
                break
            except ValueError:
                continue
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _found(text: str, pattern: str, formats: tuple[str, ...]) -> datetime | None:
    for match in re.finditer(pattern, text):
        groups = match.groupdict()
        if {"year", "month", "day"} <= groups.keys():
            month = groups["month"]
            numeric = month.isdigit()
            moment = _read(
                f"{groups['day']} {month} {groups['year']}",
                ("%d %m %Y",) if numeric else ("%d %B %Y", "%d %b %Y"),
            )
        else:
            moment = _read(groups.get("date") or match.group(0), formats)
        if moment is not None:
            return moment
    return None


def parse_date(
    text: str, date_format: str | None = None, patterns: Iterable[str] = (), *, more_text: str = ""
) -> datetime | None:
    """The date of ``text`` (``date_format`` first), else the first that ``patterns`` then the
    common date shapes find in ``text`` then ``more_text``; UTC, None when there is none."""
    formats = ((date_format,) if date_format else ()) + DATE_FORMATS
    if text.strip():
        moment = _read(text, formats[:1] if date_format else ())
        if moment is not None:
            return moment
    for where in (text, more_text):
        for pattern in (*patterns, *GENERIC_DATE_PATTERNS):
            moment = _found(where, pattern, formats)
            if moment is not None:
                return moment
    return None


# --- pages ----------------------------------------------------------------------------------------


def _text(node: Tag | None) -> str:
    return " ".join(node.get_text(" ", strip=True).split()) if node is not None else ""


def _link(item: Tag, selector: str | None) -> str | None:
    node = item.select_one(selector) if selector else None
    if node is None and item.name == "a":
        node = item
    if node is not None and not node.get("href"):
        node = node.select_one("a[href]")
    node = node if node is not None else item.select_one("a[href]")
    href = node.get("href") if node is not None else None
    return href.strip() if isinstance(href, str) and href.strip() else None


def _own_link(item: Tag) -> Tag | None:
    """The item itself when it is a link (``item: "a.news"``), else its first link."""
    return item if item.name == "a" else item.select_one("a[href]")


def _date_text(node: Tag | None) -> str:
    if node is None:
        return ""
    for attribute in ("datetime", "content"):
        value = node.get(attribute)
        if isinstance(value, str) and value.strip():
            return value
    return _text(node)


def _soup(document: bytes) -> BeautifulSoup:
    return BeautifulSoup(document, "html.parser")


def parse_with_extractor(
    source: Source, extractor: HtmlExtractor, document: bytes, page_url: str
) -> list[RawItem]:
    """Items of a page by its extractor's selectors; SourceError when they no longer match it."""
    selectors = extractor.selectors
    soup = _soup(document)
    root: Tag | None = soup.select_one(selectors.container) if selectors.container else soup
    if root is None:
        raise SourceError(f"container selector {selectors.container!r} matches nothing on the page")
    nodes = root.select(selectors.item)
    if not nodes:
        raise SourceError(f"item selector {selectors.item!r} matches nothing on the page (layout changed?)")
    base = str(extractor.base_url) if extractor.base_url else page_url
    items = []
    for node in nodes[: extractor.max_items]:
        href = _link(node, selectors.url)
        title_node = node.select_one(selectors.title) if selectors.title else _own_link(node)
        title = _text(title_node)
        if not href or not title:
            continue
        date_node = node.select_one(selectors.date) if selectors.date else None
        published = parse_date(
            _date_text(date_node), extractor.date_format, source.date_patterns, more_text=_text(node)
        )
        description = _text(node.select_one(selectors.description)) if selectors.description else ""
        items.append(
            make_item(source, title=title, url=urljoin(base, href), text=description, published=published)
        )
    return items


def _generic_nodes(soup: BeautifulSoup) -> list[Tag]:
    for selector in GENERIC_ITEMS:
        nodes = [n for n in soup.select(selector) if n.select_one("a[href]") is not None]
        if nodes:
            return nodes
    return []


def parse_generic(source: Source, document: bytes, page_url: str) -> list[RawItem]:
    """Items of a page without an extractor: articles, table rows or list items with a link."""
    nodes = _generic_nodes(_soup(document))
    if not nodes:
        raise SourceError("no article, table row or list item with a link on the page (add an extractor)")
    items = []
    for node in nodes:
        link = node.select_one("a[href]")
        heading = node.select_one(GENERIC_TITLE)
        title = _text(heading) or _text(link)
        href = _link(node, None)
        if not href or not title:
            continue
        published = parse_date(
            _date_text(node.select_one("time")), None, source.date_patterns, more_text=_text(node)
        )
        summary = node.select_one("p")
        items.append(
            make_item(
                source, title=title, url=urljoin(page_url, href), text=_text(summary), published=published
            )
        )
    return items


def parse_html(source: Source, document: bytes, page_url: str) -> list[RawItem]:
    if source.extractor is not None:
        return parse_with_extractor(source, source.extractor, document, page_url)
    return parse_generic(source, document, page_url)


def fetch_html(source: Source, fetcher: HttpFetcher, retmax: int) -> list[RawItem]:
    """The source's page, parsed. ``ssl_verify: false`` turns TLS verification off for this
    source's request alone, and says so (each source is fetched once per run: once per run)."""
    url = str(source.url)
    if source.ssl_verify:
        document = fetcher.get(url)
    else:
        LOGGER.warning(
            "source %s: TLS certificate NOT verified (ssl_verify: false in its extractor)", source.id
        )
        document = fetcher.get(url, verify=False)
    return parse_html(source, document, url)[:retmax]
