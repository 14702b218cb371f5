"""render_markdown: the archive copy, read back through a CommonMark renderer (markdown-it-py)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from markdown_it import MarkdownIt

from tests.render.documents import bare_document, empty_document, full_document
from tests.render.htmlscan import Scan, scan
from tests.render.test_render_html import HOSTILE, hostile_document
from vectora_core.pipeline.render import NewsletterDocument, render_markdown

# CommonMark with raw HTML allowed, as most Markdown viewers render it: an unescaped "<script>" in
# a title would come out as a script element.
COMMONMARK = MarkdownIt("commonmark", {"html": True})

# Text that means something in Markdown.
MARKDOWN_HOSTILE = [
    "*star* _under_ **strong** __strong__ `code` ~~strike~~",
    "[a link](https://evil.example) ![an image](x.png) <https://auto.example>",
    "# not a heading",
    "1. not a list",
    "12) not a list",
    "- not a list",
    "+ not a list",
    "> not a quote",
    "--- not a rule",
    "back\\slash \\* \\",
    "AT&T &amp; &#60; &#x3C; &copy;",
    "a title ending with #",
]


def rendered(doc: NewsletterDocument) -> Scan:
    return scan(COMMONMARK.render(render_markdown(doc)))


@pytest.mark.parametrize("text", HOSTILE + MARKDOWN_HOSTILE)
def test_every_text_renders_as_typed_and_adds_no_structure(text: str) -> None:
    page = rendered(hostile_document(text))
    plain = rendered(hostile_document("plain"))
    assert page.tags == plain.tags
    assert page.links[0][1] == text
    assert page.text.count(text) == plain.text.count("plain")


def test_link_target_with_spaces_parentheses_and_brackets_stays_one_link() -> None:
    url = "https://news.example.com/a_(b) c<d>\\e?x=1&y=2"
    doc = full_document()
    item = replace(doc.sections[0].items[0], url=url)
    page = rendered(replace(doc, sections=(replace(doc.sections[0], items=(item,)),)))
    assert page.links == [("https://news.example.com/a_%28b%29%20c%3Cd%3E%5Ce?x=1&y=2", item.title)]


def test_a_link_that_is_not_http_or_mailto_is_not_linked() -> None:
    doc = full_document()
    item = replace(doc.sections[0].items[0], url="javascript:alert(1)")
    page = rendered(replace(doc, sections=(replace(doc.sections[0], items=(item,)),)))
    assert page.links == []
    assert item.title in page.text


def test_tldr_is_a_list_each_section_one_level_two_heading_items_links() -> None:
    doc = full_document()
    markdown = render_markdown(doc)
    headings = [line for line in markdown.splitlines() if line.startswith("#")]
    assert headings == [f"# {doc.title} — {doc.date}", *(f"## {s.title}" for s in doc.sections)]
    html = COMMONMARK.render(markdown)
    page = scan(html)
    assert page.tags.count("h1") == 1
    assert page.tags.count("h2") == len(doc.sections)
    assert doc.tldr is not None
    assert "<ul>\n" + "".join(f"<li>{point}</li>\n" for point in doc.tldr) + "</ul>" in html
    assert page.links == [(i.url, i.title) for s in doc.sections for i in s.items]


def test_items_show_source_date_summary_and_milestones() -> None:
    doc = full_document()
    text = rendered(doc).text
    first = doc.sections[0].items[0]
    for part in [f"{first.source} · 2026-11-19 · regulatory · score 12", first.summary, *first.milestones]:
        assert part in text


def test_blocks_come_in_order() -> None:
    doc = full_document()
    markdown = render_markdown(doc)
    assert doc.tldr is not None
    expected = ["# LAI Weekly — 2026-11-24", doc.banners[0].split(" (")[0], f"- {doc.tldr[0]}", "A busy week"]
    expected += [f"## {s.title}" for s in doc.sections]
    expected += ["**This issue in figures**", "- Sources read: 9", "_LAI Weekly · config 7.0.0"]
    positions = [markdown.index(text) for text in expected]
    assert positions == sorted(positions)


def test_optional_blocks_are_absent_when_none() -> None:
    markdown = render_markdown(bare_document())
    for absent in ["> ", "**TL;DR**", "A busy week", "**This issue in figures**"]:
        assert absent not in markdown
    assert markdown.count("\n## ") == 4


def test_an_empty_newsletter_shows_the_empty_message_and_no_section() -> None:
    doc = empty_document()
    markdown = render_markdown(doc)
    assert f"_{doc.empty_message}_" in markdown
    assert "\n## " not in markdown
    assert doc.empty_message not in render_markdown(full_document())
