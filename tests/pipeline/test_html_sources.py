"""HTML news pages (vectora_core.pipeline.html): the recorded pages of the team catalog's sources read
with their extractors or the generic parser, dates in several shapes, ssl_verify for one source only.
In-process, no network: the recordings' bodies are rendered for a fixed day."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from local_aws.internet.dates import render
from local_aws.internet.store import parse as parse_recording
from vectora_core.config.schema import HtmlExtractor, HtmlSelectors, Source
from vectora_core.pipeline.html import FRENCH_MONTHS, fetch_html, parse_date, parse_html
from vectora_core.pipeline.sources import HttpFetcher, Period, SourceError, fetch_source, in_period

RECORDINGS = Path(__file__).resolve().parents[2] / "local_aws" / "recordings"
TODAY = date(2026, 11, 24)


def page(host: str, name: str) -> bytes:
    recording = parse_recording(RECORDINGS / host / name)
    return render(recording.body.decode("utf-8"), TODAY).encode("utf-8")


def day(days_ago: int) -> str:
    return (datetime(2026, 11, 24, tzinfo=UTC) - timedelta(days=days_ago)).isoformat()


DELSITECH = Source(
    id="press_corporate__delsitech",
    name="delsitech",
    type="html",
    url="https://www.delsitech.com/news/",
    extractor=HtmlExtractor(
        selectors=HtmlSelectors(
            container="div.news-list",
            item="article.news-item",
            title="h3.news-title a",
            url="h3.news-title a",
            date="span.news-date",
            description="p.news-excerpt",
        ),
        date_format="%d.%m.%Y",
        base_url="https://www.delsitech.com/",
    ),
)
NANEXA = Source(
    id="press_corporate__nanexa",
    name="nanexa",
    type="html",
    url="https://www.nanexa.com/en/press-releases/",
    extractor=HtmlExtractor(
        selectors=HtmlSelectors(
            item="table.press-table tbody tr", title="td.title a", url="td.title a", date="td.date",
            description="td.summary",
        ),
        date_format="%B %d, %Y",
        base_url="https://www.nanexa.com/",
        ssl_verify=False,
    ),
)  # fmt: skip
PEPTRON = Source(
    id="press_corporate__peptron",
    name="peptron",
    type="html",
    url="https://www.peptron.co.kr/eng/news/",
    date_patterns=[r"Posted on (?P<date>\d{4}\.\d{2}\.\d{2})"],
)


def test_a_list_of_articles_is_read_with_its_extractor() -> None:
    items = parse_html(DELSITECH, page("www.delsitech.com", "news.http"), str(DELSITECH.url))
    news = "https://www.delsitech.com/news/"
    assert [(i["title"][:40], i["url"], i["published_at"]) for i in items] == [
        (
            "DelSiTech signs license agreement for it",
            f"{news}delsitech-license-agreement-silica-matrix/",
            day(2),
        ),
        ("DelSiTech doses first patient in Phase 1", f"{news}delsitech-phase-1-trial-first-patient/", day(5)),
        ("DelSiTech publishes its annual report", f"{news}delsitech-annual-report/", day(40)),
    ]
    assert items[0]["text"].startswith("DelSiTech and a global pharmaceutical partner sign a license")
    assert {i["source_id"] for i in items} == {DELSITECH.id} and items[0]["source_type"] == "html"
    kept, outside = in_period(items, Period.ending_on(TODAY, 7))
    assert len(kept) == 2 and outside == 1


def test_a_table_of_news_is_read_with_its_extractor() -> None:
    items = parse_html(NANEXA, page("www.nanexa.com", "en-press-releases.http"), str(NANEXA.url))
    assert [(i["url"], i["published_at"]) for i in items] == [
        ("https://www.nanexa.com/en/press-releases/nanexa-novo-nordisk-nanozolid-agreement/", day(3)),
        ("https://www.nanexa.com/en/press-releases/nanexa-interim-report-q3/", day(45)),
    ]
    assert "NanoZolid depot technology" in items[0]["text"]


def test_without_an_extractor_the_generic_parser_reads_list_items_and_the_sources_date_patterns() -> None:
    items = parse_html(PEPTRON, page("www.peptron.co.kr", "eng-news.http"), str(PEPTRON.url))
    dated = [(i["title"][:30], i["url"], i["published_at"]) for i in items if i["published_at"]]
    assert dated == [
        ("Peptron completes enrollment i", "https://www.peptron.co.kr/eng/news/view.php?id=215", day(1)),
        ("Peptron to attend a partnering", "https://www.peptron.co.kr/eng/news/view.php?id=201", day(50)),
    ]
    # the menu's links are list items too, undated: the period filter leaves them out
    assert {i["title"] for i in items if not i["published_at"]} == {"Home", "Pipeline"}
    enrollment = next(i for i in items if i["title"].startswith("Peptron completes"))
    assert "SmartDepot extended-release microsphere" in enrollment["text"]


def test_an_item_that_is_itself_the_link_gives_its_title_and_url() -> None:
    source = DELSITECH.model_copy(
        update={
            "extractor": HtmlExtractor(selectors=HtmlSelectors(item="a.news"), base_url="https://x.example/")
        }
    )
    document = b'<p><a class="news" href="/n/1">Depot news <span>12 March 2026</span></a></p>'
    (item,) = parse_html(source, document, "https://x.example/list")
    assert (item["title"], item["url"]) == ("Depot news 12 March 2026", "https://x.example/n/1")
    assert item["published_at"] == "2026-03-12T00:00:00+00:00"


def test_an_extractor_whose_selectors_match_nothing_fails_the_source_saying_which() -> None:
    other_page = page("www.nanexa.com", "en-press-releases.http")
    with pytest.raises(SourceError, match=r"container selector 'div.news-list' matches nothing"):
        parse_html(DELSITECH, other_page, str(DELSITECH.url))
    no_items = DELSITECH.model_copy(
        update={"extractor": NANEXA.extractor.model_copy(update={"selectors": HtmlSelectors(item="div.x")})}
    )
    with pytest.raises(SourceError, match=r"item selector 'div.x' matches nothing on the page"):
        parse_html(no_items, other_page, str(DELSITECH.url))
    with pytest.raises(SourceError, match="no article, table row or list item with a link"):
        parse_html(PEPTRON, b"<html><body><p>Maintenance</p></body></html>", str(PEPTRON.url))


@pytest.mark.parametrize(
    ("text", "date_format", "patterns", "expected"),
    [
        ("20.11.2026", "%d.%m.%Y", [], "2026-11-20"),
        ("November 20, 2026", "%B %d, %Y", [], "2026-11-20"),
        ("2026-11-20T09:30:00+01:00", None, [], "2026-11-20T08:30:00+00:00"),
        ("Published: 20 novembre 2026", None, [], "2026-11-20"),
        ("Nov 3rd, 2026", None, [], "2026-11-03"),
        ("3 Nov 2026", None, [], "2026-11-03"),
        ("20/11/2026", None, [], "2026-11-20"),  # day first, as the team's European sites write it
        # the format does not fit the text: the source's patterns, then the common shapes, find it
        ("le 2026.11.20", "%d.%m.%Y", [r"(?P<date>\d{4}\.\d{2}\.\d{2})"], "2026-11-20"),
        ("Q4 / 20-11-2026", "%d.%m.%Y", [r"(?P<day>\d{2})-(?P<month>\d{2})-(?P<year>\d{4})"], "2026-11-20"),
        ("no date here", "%d.%m.%Y", [r"\d{4}"], None),
    ],
)
def test_dates_by_format_then_patterns(text, date_format, patterns, expected) -> None:
    found = parse_date(text, date_format, patterns)
    if expected is None:
        assert found is None
    else:
        assert found is not None and found.isoformat().startswith(expected)


@given(
    st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)),
    st.sampled_from(["%d.%m.%Y", "%B %d, %Y", "%d %B %Y", "%Y-%m-%d", "%b %d, %Y", "%d/%m/%Y", "%Y.%m.%d"]),
    st.booleans(),
)
def test_any_date_written_in_a_known_shape_is_read_back(value: date, fmt: str, with_format: bool) -> None:
    text = value.strftime(fmt)
    found = parse_date(f"Posted {text} by the press office", fmt if with_format else None)
    assert found is not None and found.date() == value and found.tzinfo == UTC


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_french_month_names_are_read(value: date) -> None:
    english = value.strftime("%B")
    french = next(f for f, e in FRENCH_MONTHS.items() if e == english)
    found = parse_date(f"{value.day} {french} {value.year}")
    assert found is not None and found.date() == value


class RecordingFetcher(HttpFetcher):
    """Answers every URL with one page; records how each request asked for TLS verification."""

    def __init__(self, body: bytes) -> None:
        super().__init__(attempts=1)
        self.body = body
        self.asked: list[tuple[str, bool]] = []

    def get(self, url: str, params: dict[str, str] | None = None, *, verify: bool = True) -> bytes:  # noqa: ARG002
        self.asked.append((url, verify))
        return self.body


def test_ssl_verify_false_applies_to_its_source_alone_and_is_logged(caplog) -> None:
    caplog.set_level(logging.WARNING, logger="vectora_core")
    fetcher = RecordingFetcher(page("www.nanexa.com", "en-press-releases.http"))
    period = Period.ending_on(TODAY, 7)
    assert len(fetch_source(NANEXA, fetcher, period, 50, None)) == 2
    fetcher.body = page("www.delsitech.com", "news.http")
    assert len(fetch_source(DELSITECH, fetcher, period, 1, None)) == 1  # retmax caps a page too
    assert fetcher.asked == [(str(NANEXA.url), False), (str(DELSITECH.url), True)]
    warnings = [r.getMessage() for r in caplog.records if "NOT verified" in r.getMessage()]
    assert warnings == [
        f"source {NANEXA.id}: TLS certificate NOT verified (ssl_verify: false in its extractor)"
    ]


def test_the_fetcher_passes_verify_false_to_requests_only_when_asked() -> None:
    calls: list[dict[str, object]] = []

    class Session:
        headers: dict[str, str] = {}

        def get(self, url: str, **kwargs: object) -> object:
            calls.append(kwargs)
            return type("Answer", (), {"status_code": 200, "content": b"ok"})()

    fetcher = HttpFetcher(Session(), attempts=1)  # type: ignore[arg-type]
    fetcher.get("https://a.example/")
    fetcher.get("https://b.example/", verify=False)
    # without the flag requests keeps its default: verify against its CA bundle (REQUESTS_CA_BUNDLE)
    assert "verify" not in calls[0] and calls[1]["verify"] is False


def test_fetch_html_reads_the_page_of_the_source() -> None:
    fetcher = RecordingFetcher(page("www.peptron.co.kr", "eng-news.http"))
    items = fetch_html(PEPTRON, fetcher, 50)
    assert fetcher.asked == [(str(PEPTRON.url), True)] and {i["source_id"] for i in items} == {PEPTRON.id}
