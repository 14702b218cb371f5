"""Fetching and parsing sources: RSS/Atom feeds (feedparser), PubMed E-utilities (esearch + efetch)
and HTML news pages (``html.py``).

Network access goes through ``HttpFetcher`` (timeouts, bounded retries with backoff); parsing is
plain functions over bytes, tested on fixture documents.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import re
import time
import xml.etree.ElementTree as ET  # noqa: S405  # stdlib expat: no external entities, bounded expansion
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeAlias
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlencode, urljoin, urlsplit, urlunsplit

import feedparser
import requests

from vectora_core.config.schema import Source

USER_AGENT = "vectora-inbox/2 (+https://github.com/vectora-inbox; newsletter ingest)"
PUBMED_TOOL = "vectora-inbox"
MAX_TEXT_CHARS = 4000
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
# Query parameters that carry a credential (PubMed's API key): never in an error, a log or a report.
SECRET_PARAMS = frozenset({"api_key"})
REDACTED = "***"
TRACKING_PARAMS = re.compile(r"^(utm_.*|fbclid|gclid|mc_cid|mc_eid|ref)$", re.IGNORECASE)
MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
# A news item as a source yields it and raw/ stores it (item_id, source_id, title, url, text, ...).
RawItem: TypeAlias = dict[str, Any]


class SourceError(RuntimeError):
    """A source could not be fetched or parsed (the run goes on without it)."""


@dataclass(frozen=True)
class Period:
    """Items published in [start, end) are kept; ``end`` is the day after the run date, 00:00 UTC."""

    start: datetime
    end: datetime

    @classmethod
    def ending_on(cls, run_date: date, days: int) -> Period:
        end = datetime(run_date.year, run_date.month, run_date.day, tzinfo=UTC) + timedelta(days=1)
        return cls(start=end - timedelta(days=days), end=end)

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


class HttpFetcher:
    """GET with a (connect, read) timeout, retrying connection errors, 429 and 5xx with backoff."""

    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        timeout: tuple[float, float] = (5.0, 20.0),
        attempts: int = 3,
        backoff_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", USER_AGENT)
        self.timeout = timeout
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.sleep = sleep

    def get(self, url: str, params: dict[str, str] | None = None, *, verify: bool = True) -> bytes:
        """The body of a 2xx answer; else a SourceError whose text holds no credential.

        ``verify=False`` (a source's ``ssl_verify: false``) skips TLS verification for this
        request only; otherwise requests verifies against its CA bundle (``REQUESTS_CA_BUNDLE``).

        This is where a URL with credentials is built (requests joins ``url`` and ``params``), so
        this is where they are taken out again: whatever the failure (connection, timeout,
        redirect, status), its text may quote the full URL (urllib3 does: ``...with url:
        /esearch.fcgi?...&api_key=...``), and it reaches the function's log and the run's report.
        """
        secrets = _secrets(url, params)
        last = ""
        for attempt in range(1, self.attempts + 1):
            try:
                if verify:  # requests' default: its CA bundle (REQUESTS_CA_BUNDLE when set)
                    response = self.session.get(url, params=params, timeout=self.timeout)
                else:
                    response = self.session.get(url, params=params, timeout=self.timeout, verify=False)
            except (requests.ConnectionError, requests.Timeout) as err:
                last = f"{type(err).__name__}: {err}"
            except requests.RequestException as err:  # redirect loop, bad redirect, truncated body
                last = f"{type(err).__name__}: {err}"
                break
            else:
                if response.status_code < 300:
                    return response.content
                last = f"HTTP {response.status_code}"
                if response.status_code not in RETRYABLE_STATUS:
                    break
            if attempt < self.attempts:
                self.sleep(self.backoff_s * 2 ** (attempt - 1))
        # Raised outside the except blocks: no chained exception carries the original text along.
        message = f"GET {_without_secrets(url)} failed after {attempt} attempt(s): {last}"
        raise SourceError(redact(message, secrets))


def _secrets(url: str, params: dict[str, str] | None) -> set[str]:
    """The credential values of a request: secret parameters (given or in the URL), a URL password."""
    parts = urlsplit(url)
    pairs = [*parse_qsl(parts.query), *(params or {}).items()]
    found = {value for key, value in pairs if key in SECRET_PARAMS and value}
    if parts.password:
        found |= {parts.password, unquote(parts.password)}
    return found


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced, as written or URL-encoded (how a URL quotes it)."""
    for secret in sorted(secrets, key=len, reverse=True):  # longest first: one may contain another
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            text = text.replace(form, REDACTED)
    return text


def _without_secrets(url: str) -> str:
    parts = urlsplit(url)
    query = [(k, REDACTED if k in SECRET_PARAMS else v) for k, v in parse_qsl(parts.query)]
    netloc = parts.netloc.rpartition("@")[2]  # no user:password@
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query)))


def clean_text(value: str | None) -> str:
    """Feed summaries carry HTML: keep the words only."""
    text = re.sub(r"<[^>]+>", " ", value or "")
    text = html.unescape(text)
    text = re.sub(r"\s+", " ", text).strip()
    return text[:MAX_TEXT_CHARS]


def canonical_url(url: str) -> str:
    """The URL two feeds would agree on: no tracking parameters, fragment, ``www.`` or trailing slash."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query) if not TRACKING_PARAMS.match(k)))
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower() or "https", host, path, query, ""))


def title_key(title: str) -> str:
    return re.sub(r"[^0-9a-z]+", " ", title.casefold()).strip()


def item_id(url: str) -> str:
    return hashlib.sha256(canonical_url(url).encode("utf-8")).hexdigest()[:16]


def make_item(
    source: Source, *, title: str, url: str, text: str, published: datetime | None, **extra: Any
) -> RawItem:
    return {
        "item_id": item_id(url),
        "source_id": source.id,
        "source_name": source.name,
        "source_type": source.type,
        "title": clean_text(title),
        "url": url,
        "text": clean_text(text),
        "published_at": published.isoformat() if published else None,
        **extra,
    }


# --- RSS / Atom ------------------------------------------------------------------------------------


def parse_feed(source: Source, document: bytes) -> list[RawItem]:
    """Entries of an RSS or Atom document; SourceError if it is not a feed at all."""
    parsed = feedparser.parse(document)
    if parsed.bozo and not parsed.entries:
        raise SourceError(f"not an RSS/Atom feed: {parsed.get('bozo_exception')}")
    items = []
    for entry in parsed.entries:
        link = entry.get("link") or entry.get("id") or ""
        title = entry.get("title") or ""
        if not link or not title:
            continue
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        published = datetime.fromtimestamp(calendar.timegm(stamp), tz=UTC) if stamp else None
        blocks: list[dict[str, str]] = entry.get("content") or []  # Atom <content>, when no summary
        text = entry.get("summary") or (blocks[0].get("value", "") if blocks else "")
        items.append(make_item(source, title=title, url=link, text=text, published=published))
    return items


# --- PubMed E-utilities ----------------------------------------------------------------------------


def pubmed_search_params(source: Source, period: Period, retmax: int, api_key: str | None) -> dict[str, str]:
    params = {
        "db": "pubmed",
        "term": source.query or "",
        "retmode": "json",
        "retmax": str(retmax),
        "sort": "pub_date",
        "datetype": "edat",  # Entrez date: when PubMed got it, i.e. what is new this week
        "mindate": period.start.strftime("%Y/%m/%d"),
        "maxdate": (period.end - timedelta(days=1)).strftime("%Y/%m/%d"),
        "tool": PUBMED_TOOL,
    }
    if api_key:
        params["api_key"] = api_key
    return params


def _pubmed_date(node: ET.Element | None) -> datetime | None:
    if node is None:
        return None
    year = node.findtext("Year")
    if year is None:
        medline = node.findtext("MedlineDate") or ""  # e.g. "2026 Nov-Dec"
        match = re.match(r"(\d{4})(?:\s+([A-Za-z]{3}))?", medline)
        if not match:
            return None
        year, month_text, day_text = match.group(1), match.group(2) or "Jan", "1"
    else:
        month_text, day_text = node.findtext("Month") or "1", node.findtext("Day") or "1"
    month = int(month_text) if month_text.isdigit() else MONTHS.get(month_text[:3].lower(), 1)
    try:
        return datetime(int(year), month, int(day_text), tzinfo=UTC)
    except ValueError:
        return None


def parse_pubmed_articles(source: Source, content: bytes) -> list[RawItem]:
    """``efetch`` XML (PubmedArticleSet) -> items linking to pubmed.ncbi.nlm.nih.gov."""
    try:
        root = ET.fromstring(content)  # noqa: S314  # NCBI's answer; expat refuses external entities
    except ET.ParseError as err:
        raise SourceError(f"efetch answer is not XML: {err}") from None
    items = []
    for article in root.iter("PubmedArticle"):
        pmid = article.findtext("MedlineCitation/PMID")
        node = article.find("MedlineCitation/Article")
        if not pmid or node is None:
            continue
        title_node = node.find("ArticleTitle")
        title = "".join(title_node.itertext()) if title_node is not None else ""
        abstract = " ".join(
            (f"{part.get('Label')}: " if part.get("Label") else "") + "".join(part.itertext())
            for part in node.findall("Abstract/AbstractText")
        )
        article_date = _pubmed_date(node.find("ArticleDate")) or _pubmed_date(
            node.find("Journal/JournalIssue/PubDate")
        )
        # The week's news is what entered PubMed this week (the Entrez date esearch selected on),
        # even when the article itself is dated earlier.
        entrez = _pubmed_date(article.find("PubmedData/History/PubMedPubDate[@PubStatus='entrez']"))
        journal = node.findtext("Journal/Title") or ""
        items.append(
            make_item(
                source,
                title=title,
                url=f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/",
                text=abstract,
                published=entrez or article_date,
                pmid=pmid,
                journal=journal,
                article_date=article_date.date().isoformat() if article_date else None,
            )
        )
    return items


def fetch_pubmed(
    source: Source, fetcher: HttpFetcher, period: Period, retmax: int, api_key: str | None
) -> list[RawItem]:
    import json

    base = str(source.eutils_base_url)
    answer = fetcher.get(urljoin(base, "esearch.fcgi"), pubmed_search_params(source, period, retmax, api_key))
    try:
        search = json.loads(answer)
        ids = search.get("esearchresult", {}).get("idlist", [])
    except (ValueError, AttributeError) as err:  # e.g. NCBI's HTML maintenance page with HTTP 200
        raise SourceError(f"esearch answer is not the expected JSON: {type(err).__name__}: {err}") from None
    if not isinstance(ids, list):
        raise SourceError(f"esearch answer has no id list: idlist is {type(ids).__name__}")
    if not ids:
        return []
    # NCBI allows 3 requests/s without a key, 10 with one.
    fetcher.sleep(0.11 if api_key else 0.34)
    params = {
        "db": "pubmed",
        "id": ",".join(ids),
        "retmode": "xml",
        "rettype": "abstract",
        "tool": PUBMED_TOOL,
    }
    if api_key:
        params["api_key"] = api_key
    return parse_pubmed_articles(source, fetcher.get(urljoin(base, "efetch.fcgi"), params))


def fetch_source(
    source: Source, fetcher: HttpFetcher, period: Period, retmax: int, api_key: str | None
) -> list[RawItem]:
    if source.type == "pubmed":
        return fetch_pubmed(source, fetcher, period, retmax, api_key)
    if source.type == "html":
        from vectora_core.pipeline.html import fetch_html  # html.py builds on this module

        return fetch_html(source, fetcher, retmax)
    return parse_feed(source, fetcher.get(str(source.url)))[:retmax]


# --- period and de-duplication ---------------------------------------------------------------------


def in_period(items: Iterable[RawItem], period: Period) -> tuple[list[RawItem], int]:
    """Items dated inside the period, and how many were left out (outside it, or undated)."""
    kept, dropped = [], 0
    for item in items:
        stamp = item.get("published_at")
        if stamp and period.contains(datetime.fromisoformat(stamp)):
            kept.append(item)
        else:
            dropped += 1
    return kept, dropped


def deduplicate(items: Iterable[RawItem]) -> tuple[list[RawItem], int]:
    """First occurrence wins (sources in config order); a repeat by URL or title is folded into it."""
    by_url: dict[str, RawItem] = {}
    by_title: dict[str, RawItem] = {}
    kept: list[RawItem] = []
    duplicates = 0
    for item in items:
        url_key, t_key = canonical_url(item["url"]), title_key(item["title"])
        first = by_url.get(url_key) or (by_title.get(t_key) if t_key else None)
        if first is not None:
            duplicates += 1
            if item["source_id"] != first["source_id"] and item["source_id"] not in first["also_in"]:
                first["also_in"].append(item["source_id"])
            continue
        item = {**item, "also_in": []}
        by_url[url_key] = item
        if t_key:
            by_title[t_key] = item
        kept.append(item)
    return kept, duplicates
