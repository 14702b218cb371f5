"""Selection into the layout's sections (priority, event-type filters with "*", source domains,
max_items, sort_by, the selection threshold and cap), the delivery switches, rendering."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import date

import pytest

from tests.pipeline.fake_bedrock import MODEL_ID, FakeBedrock, editorial_answer
from vectora_core.pipeline.bedrock import BedrockJson
from vectora_core.pipeline.newsletter import (
    BedrockEditor,
    Editorial,
    Issue,
    build_document,
    period_label,
    run_newsletter,
    select_sections,
)
from vectora_core.pipeline.render import render_html, render_markdown
from vectora_core.pipeline.storage import FailedRunError

PERIOD = {"start": "2026-11-18T00:00:00+00:00", "end": "2026-11-25T00:00:00+00:00"}
TECH, DELIVERY = "tech_lai_ecosystem", "delivery_technologies"


def item(
    n: int, event_type: str, score: float, *, domains=(TECH,), day: int = 20, status: str = "ok", title=None
) -> dict:
    return {
        "item_id": f"{n:04d}",
        "title": title or f"Item {n}",
        "url": f"https://example.com/{n}?a=1&b=2",
        "source_name": "Feed A" if n % 2 else "Feed B",
        "published_at": f"2026-11-{day:02d}T08:00:00+00:00",
        "status": status,
        "score": score,
        "domains": list(domains),
        "normalized": {
            "summary": f"Summary {n}.",
            "companies": ["MedinCell"],
            "event_type": event_type,
            "event_date": None,
            "dates": [{"date": "2027-06-30", "label": "topline"}] if n == 1 else [],
        },
    }


def placed(sections) -> list[tuple[str, list[str]]]:
    return [(s.section.id, [i["item_id"] for i in s.items]) for s in sections]


def test_items_go_to_the_first_section_by_priority_that_takes_them(team_bundle) -> None:
    # the team config: min_score 12 (selection_overrides), regulatory <- tech only, deals <- tech only
    items = [
        item(1, "regulatory_approval", 30),
        item(2, "partnership", 20, domains=(DELIVERY,)),  # deals take tech only: the catch-all takes it
        item(3, "partnership", 19, day=22),
        item(4, "partnership", 25, day=18),
        item(5, "safety_signal", 18),  # no specialised section: the catch-all
        item(6, "clinical_update", 17, domains=(DELIVERY,)),
        item(7, "regulatory", 40, domains=()),  # matches no watch domain: no section lists it
        item(8, "partnership", 11.99),  # below the threshold
        item(9, "partnership", 50, status="normalization_failed"),
    ]
    sections, left_out = select_sections({"items": items}, team_bundle)
    assert placed(sections) == [
        ("regulatory_updates", ["0001"]),
        ("partnerships_deals", ["0003", "0004"]),  # sort_by date_desc: the 22nd before the 18th
        ("clinical_updates", ["0006"]),
        ("others", ["0002", "0005"]),  # sort_by score_desc
    ]
    assert left_out == 1  # item 7


def test_a_full_section_overflows_into_the_catch_all_and_the_total_is_capped(team_bundle) -> None:
    # regulatory_updates holds 6; max_items_total is 15 (selection_overrides over newsletter_selection's 20)
    items = [item(n, "regulatory", 100 - n) for n in range(1, 21)]
    sections, left_out = select_sections({"items": items}, team_bundle)
    assert placed(sections) == [
        ("regulatory_updates", [f"{n:04d}" for n in range(1, 7)]),
        ("others", [f"{n:04d}" for n in range(7, 15)]),  # the catch-all's 8
    ]
    assert left_out == 6  # one over the 14 rooms, then five over the cap of 15


def test_sections_follow_their_priority_not_their_place_in_the_file(team_bundle) -> None:
    layout = team_bundle.config.newsletter_layout
    reversed_layout = layout.model_copy(update={"sections": list(reversed(layout.sections))})
    config = team_bundle.config.model_copy(update={"newsletter_layout": reversed_layout})
    bundle = dataclasses.replace(team_bundle, config=config)
    sections, _ = select_sections({"items": [item(1, "partnership", 20), item(2, "other", 30)]}, bundle)
    assert placed(sections) == [("partnerships_deals", ["0001"]), ("others", ["0002"])]


def test_the_repository_config_selects_by_event_type_and_leaves_out_what_has_no_section(bundle) -> None:
    # lai_weekly: threshold 5 (newsletter_selection), no catch-all, regulatory holds 5
    items = [item(n, "regulatory", 10 + n, domains=("lai_ecosystem",)) for n in range(1, 8)]
    items += [
        item(8, "partnership", 5.0, domains=("lai_ecosystem",)),  # exactly the threshold: selected
        item(9, "partnership", 4.99, domains=("lai_ecosystem",)),
        item(10, "other", 50, domains=("lai_ecosystem",)),  # no section for it
    ]
    sections, left_out = select_sections({"items": items}, bundle)
    assert placed(sections) == [("regulatory", ["0007", "0006", "0005", "0004", "0003"]), ("deals", ["0008"])]
    assert left_out == 3


def test_period_label_shows_the_last_included_day() -> None:
    assert period_label(PERIOD) == "2026-11-18 to 2026-11-24"


def document(bundle, items, editorial, **delivery):
    config = bundle.config.model_copy(
        update={"newsletter_delivery": bundle.config.newsletter_delivery.model_copy(update=delivery)}
    )
    bundle = dataclasses.replace(bundle, config=config)
    curated = {
        "items": items,
        "catalogs": [{"catalog_id": "demo", "fixture": True}],
        "sources": [{"source_id": "a", "status": "ok"}, {"source_id": "b", "status": "failed"}],
        "normalizer": {"mode": "bedrock", "model_id": MODEL_ID},
    }
    sections, _ = select_sections(curated, bundle)
    editor = type("Editor", (), {"label": {"mode": "bedrock", "model_id": MODEL_ID}})()
    return build_document(bundle, Issue("2026-11-24", PERIOD, curated), sections, editorial, editor)


ITEMS = [
    item(1, "clinical_update", 19, title="A <b>bold</b> & risky title"),
    item(2, "regulatory_approval", 18, domains=(TECH, DELIVERY)),
]
EDITORIAL = Editorial(intro="The week.", tldr=["First point"], sections={"clinical_updates": "Trials."})


def test_the_delivery_switches_decide_tldr_intro_and_metrics(team_bundle) -> None:
    on = document(team_bundle, ITEMS, EDITORIAL)  # the team config: everything on, both breakdowns
    assert (on.tldr, on.intro) == (("First point",), "The week.")
    assert on.metrics == (
        ("Items considered", "2"),
        ("Items selected", "2"),
        ("Score threshold", "12"),
        ("Sources", "1 answered, 1 failed"),
        ("From Feed A", "1"),
        ("From Feed B", "1"),
        (f"Domain {TECH}", "2"),
        (f"Domain {DELIVERY}", "1"),
    )
    off = document(
        team_bundle, ITEMS, EDITORIAL, include_tldr=False, include_intro=False, include_metrics=False
    )
    assert (off.tldr, off.intro, off.metrics) == (None, None, None)
    # a model that gave no TL;DR: the best item of each section, never invented text
    fallback = document(team_bundle, ITEMS, Editorial(intro="x"))
    assert fallback.tldr == ("Item 2", "A <b>bold</b> & risky title")
    assert on.banners == ("FIXTURE SOURCES (catalog demo): demo/test content, not real news",)
    assert on.footer.startswith("LAI Intelligence Weekly · config 7.0.0 · period 2026-11-18 to 2026-11-24")


def test_rendering_shows_section_and_item_titles_in_order(team_bundle) -> None:
    doc = document(team_bundle, ITEMS, EDITORIAL)
    assert [(s.title, [i.title for i in s.items]) for s in doc.sections] == [
        ("Regulatory Updates", ["Item 2"]),
        ("Clinical Updates", ["A <b>bold</b> & risky title"]),
    ]
    assert doc.sections[1].items[0].milestones == ("2027-06-30: topline",)
    markdown, page = render_markdown(doc), render_html(doc)
    assert (
        markdown.index("Regulatory Updates") < markdown.index("Item 2") < markdown.index("Clinical Updates")
    )
    assert "A &lt;b&gt;bold&lt;/b&gt; &amp; risky title" in page and "<b>bold</b>" not in page


def test_the_editorial_prompt_carries_the_client_profile(team_bundle) -> None:
    fake = FakeBedrock(editorial_answer)
    editor = BedrockEditor(BedrockJson(fake.client, MODEL_ID, sleep=lambda _: None))
    sections, _ = select_sections({"items": ITEMS}, team_bundle)
    editorial = editor.write(sections, PERIOD, team_bundle)
    assert editorial.sections == {
        "regulatory_updates": "BEDROCK-EDITORIAL regulatory_updates",
        "clinical_updates": "BEDROCK-EDITORIAL clinical_updates",
    }
    system = fake.requests[0]["system"][0]["text"]
    assert 'editor of "LAI Intelligence Weekly", a weekly newsletter for executives' in system
    assert "in a executive tone and a concise voice" in system and '"tldr"' in system


@pytest.fixture
def buckets(aws_backend):
    s3 = aws_backend.client("s3")
    names = {n: f"newsletter-test-{n}-{uuid.uuid4().hex[:8]}" for n in ("data", "newsletters")}
    for bucket in names.values():
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    return s3, names


def curated_doc(items) -> bytes:
    return json.dumps({"items": items, "period": PERIOD, "catalogs": [], "sources": []}).encode()


def test_an_empty_newsletter_never_replaces_one_with_items(team_bundle, buckets) -> None:
    s3, names = buckets
    editor = BedrockEditor(BedrockJson(FakeBedrock(editorial_answer).client, MODEL_ID))
    key = "curated/lai_weekly/2026-11-24/items.json"
    run = {
        "s3": s3,
        "data_bucket": names["data"],
        "newsletters_bucket": names["newsletters"],
        "editor": editor,
    }
    # given a newsletter with items for the 24th
    s3.put_object(Bucket=names["data"], Key=key, Body=curated_doc(ITEMS))
    first = run_newsletter(team_bundle, **run, run_date=date(2026, 11, 24))
    assert first["items"] == 2
    stored = s3.get_object(Bucket=names["newsletters"], Key="lai_weekly/2026-11-24/newsletter.md")
    assert stored["Metadata"] == {"items": "2"}
    before = stored["Body"].read()
    # when a later run of that day selects nothing
    s3.put_object(Bucket=names["data"], Key=key, Body=curated_doc([item(3, "other", 1.0)]))
    with pytest.raises(FailedRunError) as raised:
        run_newsletter(team_bundle, **run, run_date=date(2026, 11, 24))
    # then it fails in one line and the good newsletter stays
    assert str(raised.value) == (
        f"this newsletter is empty and s3://{names['newsletters']}/lai_weekly/2026-11-24/newsletter.md holds "
        "2 item(s): not replaced (a failed run never replaces a good one)"
    )
    after = s3.get_object(Bucket=names["newsletters"], Key="lai_weekly/2026-11-24/newsletter.md")[
        "Body"
    ].read()
    assert after == before
    # an empty newsletter where there was none is written, saying so
    s3.put_object(Bucket=names["data"], Key="curated/lai_weekly/curated_items.json", Body=curated_doc([]))
    empty = run_newsletter(team_bundle, **run, run_date=None, today=date(2026, 11, 30))
    markdown = s3.get_object(Bucket=names["newsletters"], Key="lai_weekly/2026-11-30/newsletter.md")["Body"]
    assert (
        empty["items"] == 0 and "No item reached the score threshold this period." in markdown.read().decode()
    )
