"""Newsletter documents the rendering tests share: a full issue, and variants of it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from vectora_core.pipeline.render import NewsletterDocument, RenderedItem, RenderedSection

# One 60-letter word, no hyphen to break at: on a 375 px phone it must wrap, not widen the page.
LONG_WORD = "hydroxypropylmethylcellulosepolylactideglycolidemicrospheres"


def _item(n: int, title: str, **overrides: Any) -> RenderedItem:
    item = RenderedItem(
        title=title,
        url=f"https://news.example.com/articles/{n}?ref=vectora&issue=2026-47",
        source="FiercePharma" if n % 2 else "Endpoints News",
        date=f"2026-11-{18 + n % 7:02d}",
        summary=(
            f"Item {n}: the company reported results for its long-acting injectable programme, with "
            "dosing every three months and a filing planned next year."
        ),
        event_type="clinical_trial",
        score=12.5 - n / 2,
    )
    return replace(item, **overrides)


def full_document() -> NewsletterDocument:
    """Four sections (the last a catch-all), banners, TL;DR, intro, metrics: every block there is."""
    sections = (
        RenderedSection(
            id="regulatory",
            title="Regulatory & approvals",
            intro="Two decisions this week, one of them a first for a six-monthly formulation.",
            items=(
                _item(
                    1,
                    "FDA approves six-monthly risperidone implant",
                    milestones=("2027-03-01: PDUFA date", "2027-06-30: EU decision expected"),
                    event_type="regulatory",
                ),
                _item(
                    2, "EMA validates the filing for a monthly buprenorphine depot", event_type="regulatory"
                ),
            ),
        ),
        RenderedSection(
            id="deals",
            title="Partnerships & deals",
            intro=None,
            items=(
                _item(
                    3, "MedinCell and a top-10 pharma sign a $1.2bn licensing deal", event_type="partnership"
                ),
            ),
        ),
        RenderedSection(
            id="clinical",
            title="Clinical development",
            intro="Phase 3 read-outs dominated.",
            items=(
                _item(
                    4, f"Phase 3 topline for {LONG_WORD}", milestones=("2027-01-15: full data at a congress",)
                ),
                _item(5, "Camurus starts a Phase 2 of a weekly octreotide depot", date=None, score=None),
            ),
        ),
        RenderedSection(
            id="other",
            title="Other news",
            intro="Everything else worth a look, whatever its type.",
            items=(_item(6, "Alkermes opens a new sterile manufacturing site", event_type=None),),
        ),
    )
    return NewsletterDocument(
        title="LAI Weekly",
        date="2026-11-24",
        language="en",
        period="2026-11-18 to 2026-11-24",
        banners=("FIXTURE SOURCES (catalog lai_sources_fixture): demo/test content, not real news",),
        tldr=(
            "FDA approves the first six-monthly risperidone implant.",
            "MedinCell signs a $1.2bn licensing deal.",
            f"Two Phase 3 read-outs in long-acting HIV prevention, one for {LONG_WORD}.",
        ),
        intro=(
            "A busy week for long-acting injectables: six items selected from 9 sources.\n\n"
            "Regulators moved first; deals and data followed."
        ),
        sections=sections,
        metrics=(("Items selected", "6"), ("Sources read", "9"), ("Editorial", "Bedrock (local emulator)")),
        footer="LAI Weekly · config 7.0.0 · normalizer: offline rules · editorial: offline rules",
        empty_message="No item reached the score threshold this period.",
    )


def bare_document() -> NewsletterDocument:
    """The full document without any optional block (no banner, TL;DR, intro or metrics)."""
    return replace(full_document(), banners=(), tldr=None, intro=None, metrics=None)


def empty_document() -> NewsletterDocument:
    """The full document whose sections all came out empty."""
    doc = full_document()
    return replace(doc, sections=tuple(replace(s, items=()) for s in doc.sections))
