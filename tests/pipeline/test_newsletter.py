"""Selection into sections, the offline editorial, Markdown and HTML rendering."""

from __future__ import annotations

import pytest

from vectora_core.pipeline.newsletter import (
    Editorial,
    OfflineEditor,
    period_label,
    render_html,
    render_markdown,
    select_sections,
)
from vectora_core.pipeline.settings import OFFLINE_LABEL

PERIOD = {"start": "2026-11-18T00:00:00+00:00", "end": "2026-11-25T00:00:00+00:00"}


def item(n: int, event_type: str, score: float, *, status: str = "ok", title: str | None = None) -> dict:
    return {
        "item_id": f"{n:04d}",
        "title": title or f"Item {n}",
        "url": f"https://example.com/{n}?a=1&b=2",
        "source_name": "Feed",
        "published_at": f"2026-11-{10 + n:02d}T08:00:00+00:00",
        "status": status,
        "score": score,
        "normalized": {
            "summary": f"Summary {n}.",
            "companies": ["MedinCell"] if n % 2 else ["Camurus"],
            "event_type": event_type,
            "event_date": None,
            "dates": [{"date": "2027-06-30", "label": "topline"}] if n == 1 else [],
        },
    }


def test_selection_applies_threshold_best_first_section_caps_and_counts_the_rest(bundle) -> None:
    # lai_weekly: threshold 5; regulatory max 5 items; "other" has no section.
    items = [item(n, "regulatory", 10 + n) for n in range(1, 8)]
    items += [
        item(8, "partnership", 5.0),  # exactly the threshold: selected
        item(9, "partnership", 4.99),  # below
        item(10, "other", 50),  # no section for it
        item(11, "partnership", 99, status="normalization_failed"),
    ]
    sections, left_out = select_sections({"items": items}, bundle)
    assert [(s.section.id, [i["item_id"] for i in s.items]) for s in sections] == [
        ("regulatory", ["0007", "0006", "0005", "0004", "0003"]),
        ("deals", ["0008"]),
    ]
    assert left_out == 3  # two regulatory over the cap, one without a section


def test_period_label_shows_the_last_included_day() -> None:
    assert period_label(PERIOD) == "2026-11-18 to 2026-11-24"


@pytest.fixture
def rendered(bundle):
    items = [item(1, "clinical_trial", 9, title="A <b>bold</b> & risky title"), item(2, "regulatory", 8)]
    sections, _ = select_sections({"items": items}, bundle)
    editorial = OfflineEditor().write(sections, PERIOD, bundle)
    meta = {
        "newsletter_date": "2026-11-24",
        "period": PERIOD,
        "banners": [OFFLINE_LABEL],
        "normalizer": "offline rules",
        "editor": "offline rules",
    }
    return (
        editorial,
        render_markdown(bundle, sections, editorial, meta),
        render_html(bundle, sections, editorial, meta),
    )


def test_offline_editorial_is_built_from_the_items(rendered) -> None:
    editorial, _, _ = rendered
    assert editorial.intro == (
        "2 item(s) selected in 2 section(s) for 2026-11-18 to 2026-11-24. Most mentioned: Camurus, MedinCell."
    )
    assert editorial.sections["clinical"] == "1 item(s); highest score 9: A <b>bold</b> & risky title."


def test_markdown_follows_the_config_section_order_with_banner_links_and_dates(rendered) -> None:
    _, markdown, _ = rendered
    lines = markdown.splitlines()
    assert lines[0] == "# LAI Weekly — 2026-11-24"
    assert lines[2] == f"> **{OFFLINE_LABEL}**"
    assert markdown.index("## Regulatory & approvals") < markdown.index("## Clinical development")
    assert "- **[Item 2](https://example.com/2?a=1&b=2)** — Feed, 2026-11-12" in lines
    assert "  Summary 1. · 2027-06-30: topline" in lines
    assert lines[-1].startswith("_LAI Weekly · config 7.0.0 · period 2026-11-18 to 2026-11-24")


def test_html_escapes_every_text_and_attribute(rendered) -> None:
    _, _, page = rendered
    assert "A &lt;b&gt;bold&lt;/b&gt; &amp; risky title" in page and "<b>bold</b>" not in page
    assert 'href="https://example.com/2?a=1&amp;b=2"' in page
    assert '<section id="regulatory"><h2>Regulatory &amp; approvals</h2>' in page


def test_an_empty_selection_still_renders_a_newsletter(bundle) -> None:
    meta = {"newsletter_date": "d", "period": PERIOD, "banners": [], "normalizer": "n", "editor": "e"}
    markdown = render_markdown(bundle, [], Editorial(intro="Quiet week."), meta)
    assert "_No item reached the score threshold this period._" in markdown
