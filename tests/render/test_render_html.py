"""render_html: escaping, email-safe markup, blocks and their order, determinism."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

import pytest

from tests.render.documents import bare_document, empty_document, full_document
from tests.render.htmlscan import scan
from vectora_core.pipeline.render import NewsletterDocument, render_html, render_markdown

SECTION_IDS = ["section-regulatory", "section-deals", "section-clinical", "section-other"]

# Text that means something in HTML (or in Markdown, for the archive's tests).
HOSTILE = [
    '<script>alert("x")</script>',
    "<img src=x onerror=alert(1)> & <b>bold</b>",
    'Tom & Jerry\'s "quoted" &amp; &#60;entity&#62;',
    "--> <!-- comment",
]


def hostile_document(text: str) -> NewsletterDocument:
    """The full document with ``text`` in every text the reader sees."""
    doc = full_document()
    section = doc.sections[0]
    item = replace(section.items[0], title=text, source=text, summary=text, milestones=(text,))
    return replace(
        doc,
        title=text,
        banners=(text,),
        tldr=(text,),
        intro=text,
        sections=(replace(section, title=text, intro=text, items=(item,)), *doc.sections[1:]),
        metrics=((text, text),),
        footer=text,
    )


@pytest.mark.parametrize("text", HOSTILE)
def test_every_text_is_escaped_and_shown_as_typed(text: str) -> None:
    # given: a document whose every text is markup; when: rendered; then: the page's structure is
    # the one plain text gives (no element came from the text) and the text shows literally.
    page = scan(render_html(hostile_document(text)))
    plain = scan(render_html(hostile_document("plain")))
    assert page.tags == plain.tags
    for block in ["banners", "masthead", "tldr", "intro", "section-regulatory", "metrics", "footer"]:
        assert text in page.text_of[block], block
    assert page.links[0][1] == text


def test_link_href_is_escaped_and_kept_exactly() -> None:
    url = 'https://news.example.com/a?x=1&y="><script>alert(1)</script>'
    doc = full_document()
    item = replace(doc.sections[0].items[0], url=url)
    doc = replace(doc, sections=(replace(doc.sections[0], items=(item,)),))
    page = scan(render_html(doc))
    assert "script" not in page.tags
    assert page.links == [(url, item.title)]


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,<b>x</b>", ""]
)
def test_a_link_that_is_not_http_or_mailto_leaves_the_title_as_plain_text(url: str) -> None:
    doc = full_document()
    item = replace(doc.sections[0].items[0], url=url)
    doc = replace(doc, sections=(replace(doc.sections[0], items=(item,)),))
    page = scan(render_html(doc))
    assert page.links == []
    assert item.title in page.text_of["section-regulatory"]
    assert url.strip() == "" or url.strip() not in render_markdown(doc)


def test_page_is_email_safe_one_centred_fluid_column_with_inline_styles_only() -> None:
    page = scan(render_html(full_document()))
    assert not {"style", "link", "script", "img", "iframe", "object", "form", "svg"} & set(page.tags)
    for tag, attrs in page.attrs:
        assert "class" not in attrs and "src" not in attrs, tag
        assert "url(" not in (attrs.get("style") or ""), tag  # no background image, no web font
    metas = [attrs for tag, attrs in page.attrs if tag == "meta"]
    assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in metas
    tables = [attrs for tag, attrs in page.attrs if tag == "table"]
    assert all(t.get("role") == "presentation" for t in tables)
    column = [t for t in tables if "max-width:620px;width:100%" in (t.get("style") or "")]
    assert len(column) == 1 and column[0]["width"] == "100%"


def test_blocks_come_in_order_banners_tldr_intro_sections_metrics_footer() -> None:
    doc = full_document()
    page = scan(render_html(doc))
    assert page.ids == ["banners", "masthead", "tldr", "intro", *SECTION_IDS, "metrics", "footer"]
    # The text too, not only the ids: each block holds its own content.
    assert doc.tldr is not None
    expected = [doc.banners[0], doc.tldr[0], "Regulators moved first"]
    expected += [s.title for s in doc.sections] + ["Sources read", doc.footer]
    positions = [page.text.index(text) for text in expected]
    assert positions == sorted(positions)


def test_sections_keep_the_order_they_are_given_in() -> None:
    doc = full_document()
    page = scan(render_html(replace(doc, sections=doc.sections[::-1])))
    assert [i for i in page.ids if i.startswith("section-")] == SECTION_IDS[::-1]


def test_each_item_shows_its_title_link_source_date_summary_and_milestones() -> None:
    doc = full_document()
    page = scan(render_html(doc))
    first = doc.sections[0].items[0]
    block = page.text_of["section-regulatory"]
    assert (first.url, first.title) in page.links
    for text in [first.source, "2026-11-19", "regulatory", "score 12", first.summary, *first.milestones]:
        assert text in block
    assert "Key dates" in block
    assert [link[1] for link in page.links] == [i.title for s in doc.sections for i in s.items]


def test_an_item_without_date_or_score_shows_neither() -> None:
    doc = full_document()
    undated = doc.sections[2].items[1]  # date=None, score=None
    page = scan(render_html(replace(doc, sections=(replace(doc.sections[2], items=(undated,)),))))
    block = page.text_of["section-clinical"]
    assert f"{undated.source} · clinical trial" in block
    assert "score" not in block and "2026-" not in block


def test_optional_blocks_are_absent_when_none() -> None:
    doc = bare_document()
    page = scan(render_html(doc))
    assert page.ids == ["masthead", *SECTION_IDS, "footer"]
    assert "TL;DR" not in page.text and "in figures" not in page.text


def test_an_empty_newsletter_shows_the_empty_message_instead_of_sections() -> None:
    doc = empty_document()
    page = scan(render_html(doc))
    assert page.ids == ["banners", "masthead", "tldr", "intro", "empty", "metrics", "footer"]
    assert page.text_of["empty"] == doc.empty_message
    assert doc.empty_message not in render_html(full_document())


def test_a_section_without_items_is_left_out() -> None:
    doc = full_document()
    sections = (doc.sections[0], replace(doc.sections[1], items=()), *doc.sections[2:])
    page = scan(render_html(replace(doc, sections=sections)))
    assert [i for i in page.ids if i.startswith("section-")] == [SECTION_IDS[0], *SECTION_IDS[2:]]
    assert "empty" not in page.ids


def test_paragraphs_of_the_intro_become_paragraphs_and_whitespace_inside_titles_collapses() -> None:
    doc = full_document()
    item = replace(doc.sections[0].items[0], title="A title\nover  two lines")
    page = scan(render_html(replace(doc, sections=(replace(doc.sections[0], items=(item,)),))))
    assert page.links[0][1] == "A title over two lines"
    intro_start = page.tags.index("td", page.ids.index("intro"))
    assert page.tags[intro_start:].count("p") >= 2
    assert "A busy week" in page.text_of["intro"] and "Regulators moved first" in page.text_of["intro"]


@pytest.mark.parametrize(("language", "tldr_label"), [("en", "TL;DR"), ("fr", "En bref"), ("de", "TL;DR")])
def test_language_sets_the_lang_attribute_and_the_few_labels(language: str, tldr_label: str) -> None:
    page = scan(render_html(replace(full_document(), language=language)))
    assert ("html", {"lang": language}) in page.attrs
    assert page.text_of["tldr"].startswith(tldr_label)


def test_same_document_same_bytes_in_this_process() -> None:
    assert render_html(full_document()) == render_html(full_document())
    assert render_markdown(full_document()) == render_markdown(full_document())


def test_same_document_same_bytes_whatever_the_hash_seed() -> None:
    # Set or dict iteration that depended on hashing would differ between interpreters.
    code = (
        "import sys; from tests.render.documents import full_document; "
        "from vectora_core.pipeline.render import render_html, render_markdown; "
        "d = full_document(); sys.stdout.write(render_html(d) + render_markdown(d))"
    )
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, check=True, text=True
        )
        outputs.add(run.stdout)
    assert outputs == {render_html(full_document()) + render_markdown(full_document())}
