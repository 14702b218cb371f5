"""Parsing feeds and PubMed answers, the period filter, de-duplication, HTTP retries."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scripts.invoke.fixture_feeds import FEEDS_DIR, fixture_catalog, render
from tests.pipeline.conftest import RUN_DATE
from vectora_core.config.schema import SourceCatalog
from vectora_core.pipeline.sources import (
    HttpFetcher,
    Period,
    SourceError,
    canonical_url,
    deduplicate,
    fetch_pubmed,
    in_period,
    parse_feed,
    parse_pubmed_articles,
)

CATALOG = SourceCatalog.model_validate(fixture_catalog("http://127.0.0.1:1/")).by_id()
PERIOD = Period.ending_on(RUN_DATE, 7)


def fixture(name: str) -> bytes:
    return render((FEEDS_DIR / name).read_text(), RUN_DATE).encode()


def test_rss_items_carry_title_link_clean_text_and_utc_date() -> None:
    items = parse_feed(CATALOG["fiercepharma"], fixture("fiercepharma.xml"))
    assert [i["title"][:30] for i in items] == [
        "FDA approves Teva and MedinCel",
        "Camurus enters license agreeme",
        "Pfizer reports third-quarter r",
        "Alkermes completes enrollment ",
    ]
    first = items[0]
    assert first["published_at"] == "2026-11-23T09:30:00+00:00"
    assert "<p>" not in first["text"] and first["text"].startswith("The FDA approved the once-monthly")
    assert first["source_id"] == "fiercepharma" and len(first["item_id"]) == 16


def test_atom_entries_are_parsed_too() -> None:
    items = parse_feed(CATALOG["medincell"], fixture("medincell.xml"))
    assert [i["url"] for i in items] == [
        "https://www.medincell.com/en/news/mdc-cwm-phase-3-first-patient/",
        "https://www.medincell.com/en/news/private-placement-30m/",
    ]
    assert items[1]["published_at"] == "2026-11-20T17:45:00+00:00"


def test_a_document_that_is_not_a_feed_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="not an RSS/Atom feed"):
        parse_feed(CATALOG["fiercepharma"], b"<html><body>Maintenance</body>")


def test_pubmed_articles_are_dated_by_their_entry_in_pubmed_and_link_to_it() -> None:
    items = parse_pubmed_articles(CATALOG["pubmed_lai"], fixture("pubmed_efetch.xml"))
    assert [(i["pmid"], i["url"], i["published_at"][:10]) for i in items] == [
        ("41000001", "https://pubmed.ncbi.nlm.nih.gov/41000001/", "2026-11-22"),
        ("41000002", "https://pubmed.ncbi.nlm.nih.gov/41000002/", "2026-11-23"),
    ]
    assert items[0]["text"].startswith("BACKGROUND: Lenacapavir is a capsid inhibitor")
    assert items[0]["journal"] == "Clinical pharmacokinetics"
    # Article 1: Entrez date (2 days ago) wins over its older ArticleDate; article 2 has no history.
    assert (items[0]["article_date"], items[1]["article_date"]) == ("2026-11-12", "2026-11-23")


def test_pubmed_medline_dates_and_bad_xml() -> None:
    xml = (
        b"<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article><Journal><JournalIssue>"
        b"<PubDate><MedlineDate>2026 Nov-Dec</MedlineDate></PubDate></JournalIssue></Journal>"
        b"<ArticleTitle>T</ArticleTitle></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>"
    )
    assert parse_pubmed_articles(CATALOG["pubmed_lai"], xml)[0]["published_at"] == "2026-11-01T00:00:00+00:00"
    with pytest.raises(SourceError, match="efetch answer is not XML"):
        parse_pubmed_articles(CATALOG["pubmed_lai"], b"<oops")


def test_pubmed_search_then_fetch_with_the_api_key_and_the_period(feed_server) -> None:
    catalog = SourceCatalog.model_validate(fixture_catalog(feed_server.base_url)).by_id()
    feed_server.requests.clear()
    items = fetch_pubmed(catalog["pubmed_lai"], HttpFetcher(sleep=lambda _: None), PERIOD, 20, "secret-key")
    assert len(items) == 2
    (search_path, search), (fetch_path, fetch) = feed_server.requests
    assert (search_path, fetch_path) == ("/eutils/esearch.fcgi", "/eutils/efetch.fcgi")
    assert search["mindate"] == ["2026/11/18"] and search["maxdate"] == ["2026/11/24"]
    assert search["api_key"] == ["secret-key"] and fetch["id"] == ["41000001,41000002"]


def test_period_is_the_last_n_days_including_the_run_date() -> None:
    assert PERIOD.start == datetime(2026, 11, 18, tzinfo=UTC)
    assert PERIOD.end == datetime(2026, 11, 25, tzinfo=UTC)
    items = [
        {"published_at": "2026-11-17T23:59:59+00:00"},
        {"published_at": "2026-11-18T00:00:00+00:00"},
        {"published_at": "2026-11-24T23:59:00+00:00"},
        {"published_at": "2026-11-25T00:00:00+00:00"},
        {"published_at": None},
    ]
    kept, dropped = in_period(items, PERIOD)
    assert kept == items[1:3] and dropped == 3


def test_canonical_url_ignores_tracking_fragment_www_and_trailing_slash() -> None:
    assert (
        canonical_url("https://WWW.Example.com/a/b/?utm_source=rss&id=3#top")
        == "https://example.com/a/b?id=3"
    )
    assert canonical_url("https://example.com/a/b?id=3") == canonical_url(
        "http://example.com/a/b/?id=3"
    ).replace("http:", "https:")


def test_dedup_keeps_the_first_and_records_where_else_it_appeared() -> None:
    items = [
        {"item_id": "1", "source_id": "a", "url": "https://x.com/n?utm_source=rss", "title": "Deal signed!"},
        {"item_id": "2", "source_id": "b", "url": "https://www.x.com/n/", "title": "Other wording"},
        {"item_id": "3", "source_id": "c", "url": "https://y.com/other", "title": "deal   signed"},
        {"item_id": "4", "source_id": "a", "url": "https://y.com/new", "title": "New"},
    ]
    kept, duplicates = deduplicate(items)
    assert [i["item_id"] for i in kept] == ["1", "4"]
    assert kept[0]["also_in"] == ["b", "c"] and duplicates == 2


class _Flaky(BaseHTTPRequestHandler):
    """Answers "ok" with the next status of ``answers``, after ``delay_s``."""

    answers: list[int] = []
    delay_s = 0.0

    def do_GET(self) -> None:  # noqa: N802
        time.sleep(self.delay_s)
        status = self.answers.pop(0)
        try:
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
        except OSError:  # the client gave up first (a timeout test)
            return

    def log_message(self, *args: object) -> None:
        return


class _Slow(_Flaky):
    answers = [200]
    delay_s = 2.0


@contextlib.contextmanager
def _serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A local HTTP server with ``handler`` for the block; yields its feed URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/feed"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def flaky_server() -> Iterator[str]:
    with _serving(_Flaky) as url:
        yield url


def test_fetcher_retries_5xx_and_429_with_backoff(flaky_server) -> None:
    _Flaky.answers = [503, 429, 200]
    waits: list[float] = []
    assert HttpFetcher(sleep=waits.append, backoff_s=0.5).get(flaky_server) == b"ok"
    assert waits == [0.5, 1.0]


def test_fetcher_does_not_retry_a_404_and_reports_it(flaky_server) -> None:
    _Flaky.answers = [404, 200]
    with pytest.raises(
        SourceError, match=r"GET http://127\.0\.0\.1:\d+/feed failed after 1 attempt\(s\): HTTP 404"
    ):
        HttpFetcher(sleep=lambda _: None).get(flaky_server)


def test_fetcher_gives_up_on_connection_errors_and_hides_the_api_key() -> None:
    fetcher = HttpFetcher(sleep=lambda _: None, attempts=2, timeout=(0.5, 0.5))
    with pytest.raises(SourceError, match=r"api_key=%2A%2A%2A.*after 2 attempt\(s\): ConnectionError"):
        fetcher.get("http://127.0.0.1:9/esearch.fcgi?api_key=secret")


def test_a_source_slower_than_the_timeout_is_a_source_error() -> None:
    # given a source that answers after 2 s, when the fetcher's read timeout is 0.3 s
    with _serving(_Slow) as url:
        fetcher = HttpFetcher(sleep=lambda _: None, attempts=1, timeout=(1.0, 0.3))
        # then the fetch gives up (without the timeout it would wait and get "ok")
        with pytest.raises(SourceError, match=r"after 1 attempt\(s\): ReadTimeout"):
            fetcher.get(url)


class _Answers:
    """A fetcher that answers each URL (by its last path part) from a table."""

    def __init__(self, answers: dict[str, bytes]) -> None:
        self.answers = answers

    def get(self, url: str, params: dict[str, str] | None = None) -> bytes:  # noqa: ARG002
        return self.answers[url.rsplit("/", 1)[-1]]

    def sleep(self, seconds: float) -> None:
        return


@pytest.mark.parametrize(
    ("esearch", "reason"),
    [
        (
            b"<html><body>NCBI is down for maintenance</body></html>",
            "esearch answer is not the expected JSON",
        ),
        (b'["a", "list"]', "is not the expected JSON"),
        (b'{"esearchresult": {"idlist": "123"}}', "esearch answer has no id list"),
    ],
)
def test_an_esearch_answer_that_is_not_the_expected_json_is_a_source_error(
    esearch: bytes, reason: str
) -> None:
    with pytest.raises(SourceError, match=reason):
        fetch_pubmed(CATALOG["pubmed_lai"], _Answers({"esearch.fcgi": esearch}), PERIOD, 20, None)  # type: ignore[arg-type]


def test_render_replaces_day_offsets() -> None:
    assert render("{{days_ago:1:%Y-%m-%d}} / {{days_ago:0:%a}}", date(2026, 11, 24)) == "2026-11-23 / Tue"
