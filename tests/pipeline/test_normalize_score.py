"""Scope matching, watch domains and scoring, and the Bedrock normalizer stubbed at the client boundary."""

from __future__ import annotations

import dataclasses
import json
import random
import threading
import time

import pytest
from botocore.stub import Stubber

from scripts.invoke.fixture_feeds import FEEDS_DIR, fixture_catalog, render
from tests.pipeline.conftest import RUN_DATE
from tests.pipeline.fake_bedrock import MODEL_ID, FakeBedrock, converse_response, normalization_answer
from vectora_core.config.schema import EVENT_TYPES, Bonus, Scope, SourceCatalog
from vectora_core.pipeline.bedrock import BedrockError, BedrockJson, BedrockUnavailableError, extract_json
from vectora_core.pipeline.normalize import BedrockNormalizer, Normalization, curate_all, curate_item
from vectora_core.pipeline.scoring import ScopeMatcher, Scorer
from vectora_core.pipeline.sources import parse_feed, parse_pubmed_articles

CATALOG = SourceCatalog.model_validate(fixture_catalog("http://127.0.0.1:1/")).by_id()


def items() -> dict[str, dict]:
    """Every fixture item by a short name."""
    found = []
    for source in ("fiercepharma", "medincell", "camurus"):
        found += parse_feed(
            CATALOG[source], render((FEEDS_DIR / f"{source}.xml").read_text(), RUN_DATE).encode()
        )
    found += parse_pubmed_articles(
        CATALOG["pubmed_lai"], render((FEEDS_DIR / "pubmed_efetch.xml").read_text(), RUN_DATE).encode()
    )
    return {i["title"].split()[0].lower() + "_" + i["title"].split()[1].lower(): i for i in found}


ITEMS = items()


def test_scope_matching_uses_aliases_word_boundaries_and_acronym_case() -> None:
    scope = Scope.model_validate(
        {
            "scope_id": "s",
            "kind": "keywords",
            "description": "d",
            "entries": [{"name": "long-acting injectable", "aliases": ["LAI"]}, {"name": "depot"}],
        }
    )
    matcher = ScopeMatcher.of(scope)
    assert [e.name for e in matcher.match("A new LAI")] == ["long-acting injectable"]
    assert matcher.match("Lai is a name; depots and non-depot-like") == []
    assert [e.name for e in matcher.match("Long-Acting Injectable DEPOT")] == [
        "long-acting injectable",
        "depot",
    ]


def test_an_item_matches_the_domains_whose_scopes_it_names_and_scores_their_scopes_once(bundle) -> None:
    scorer = Scorer.of(bundle)
    text = "FDA approves Teva and MedinCell's olanzapine long-acting injectable"
    score = scorer.score(text, "regulatory", True)
    # lai_ecosystem (keywords, companies, molecules) matches; lai_delivery_technologies (technologies) not
    assert score.domains == ["lai_ecosystem"]
    # keywords 3.0 x 1.5 + molecules 2.0 x 1.0 + companies (1.5 + 3.0) x 1.0 + regulatory 3.0 (the override)
    assert score.value == 14.0
    assert score.details["scopes"]["lai_companies"] == {"matched": ["MedinCell", "Teva"], "points": 4.5}
    assert score.details["event_type"] == {"event_type": "regulatory", "points": 3.0}
    halved = scorer.score(text, "regulatory", False)
    assert halved.value == 7.0 and halved.details["not_relevant_factor"] == 0.5
    both = scorer.score(text + " in PLGA microspheres", "regulatory", True)
    assert both.domains == ["lai_ecosystem", "lai_delivery_technologies"]
    assert both.value == 14.0 + 2.0 * 1.2  # PLGA microspheres: weight 2.0, lai_technologies' match_weight 1.2


def test_event_weights_are_canonical_unless_the_config_overrides_them(bundle) -> None:
    scorer = Scorer.of(bundle)
    assert set(scorer.event_weights) == set(EVENT_TYPES)
    assert scorer.event_weights["regulatory"] == 3.0  # lai_weekly's override of the canonical 2.5
    assert scorer.event_weights["regulatory_approval"] == 3.0  # canonical/scoring/scoring_rules.yaml
    alone = scorer.score("nothing followed here", "safety_signal", True)
    assert (alone.value, alone.domains) == (3.0, [])


def test_client_bonuses_apply_when_the_item_names_their_scope(bundle) -> None:
    scoring = bundle.config.scoring_config.model_copy(
        update={"client_specific_bonuses": {"pure_players": Bonus(scope="lai_companies", bonus=5.0)}}
    )
    config = bundle.config.model_copy(update={"scoring_config": scoring})
    scorer = Scorer.of(dataclasses.replace(bundle, config=config))
    with_bonus = scorer.score("Camurus news", "other", True)
    assert with_bonus.details["bonuses"] == {"pure_players": 5.0}
    assert with_bonus.value == 3.0 * 1.0 + 5.0  # Camurus (3.0) in lai_companies, then the bonus
    assert "bonuses" not in scorer.score("Pfizer news", "other", True).details


def stubbed_bedrock_json(**kwargs) -> tuple[BedrockJson, Stubber]:
    fake = FakeBedrock(lambda _: "unused")
    stubber = Stubber(fake.client)
    return BedrockJson(
        fake.client,
        MODEL_ID,
        sleep=lambda _: None,
        rng=random.Random(1),  # noqa: S311  # seeded jitter for a repeatable test
        **kwargs,
    ), stubber


def test_bedrock_normalizer_sends_the_canonical_prompt_in_a_converse_request(bundle) -> None:
    # given: Stubber checks the exact Converse request and returns a real Converse response
    bedrock, stubber = stubbed_bedrock_json()
    item = ITEMS["fda_approves"]
    prompt = bundle.normalization_prompt
    answer = {
        "summary": "FDA approved TEV-749.",
        "companies": ["Teva", "MedinCell"],
        "molecules": ["olanzapine"],
        "technologies": ["SteadyTeq"],
        "event_type": "regulatory_approval",
        "event_date": "2026-11-23",
        "dates": [{"date": "2027-01-15", "label": "US launch"}],
        "lai_relevant": True,
    }
    stubber.add_response(
        "converse",
        converse_response("```json\n" + json.dumps(answer) + "\n```"),
        {
            "modelId": MODEL_ID,
            "system": [
                {"text": prompt.system.format(language="English", event_types=", ".join(EVENT_TYPES))}
            ],
            "messages": [{"role": "user", "content": [{"text": pytest.approx_text(item)}]}],
            "inferenceConfig": {"maxTokens": prompt.max_tokens, "temperature": prompt.temperature},
        },
    )
    with stubber:
        normalization = BedrockNormalizer(bundle, bedrock).normalize(item)
    stubber.assert_no_pending_responses()
    assert normalization.dates[0].label == "US launch" and normalization.event_type == "regulatory_approval"


class _UserText:
    """Matches the rendered user prompt of an item (Stubber compares with ==)."""

    def __init__(self, item: dict) -> None:
        self.item = item

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, str)
            and f"Title: {self.item['title']}" in other
            and f"URL: {self.item['url']}" in other
            and "companies: MedinCell, Camurus" in other
        )


pytest.approx_text = _UserText  # type: ignore[attr-defined]  # a tiny matcher shared by the tests here


def test_throttling_is_retried_with_backoff_then_succeeds(bundle) -> None:
    calls = {"n": 0}

    def answer(request):
        calls["n"] += 1
        return (429, "ThrottlingException") if calls["n"] <= 2 else normalization_answer(request)

    fake = FakeBedrock(answer)
    waits: list[float] = []
    bedrock = BedrockJson(
        fake.client,
        MODEL_ID,
        sleep=waits.append,
        rng=random.Random(7),  # noqa: S311  # seeded jitter for a repeatable test
        base_delay_s=1.0,
    )
    result = BedrockNormalizer(bundle, bedrock).normalize(ITEMS["fda_approves"])
    assert result.event_type == "regulatory_approval"
    assert calls["n"] == 3 and bedrock.throttled == 2
    assert 0 <= waits[0] <= 1.0 and 0 <= waits[1] <= 2.0


class _Ceiling(random.Random):
    """Jitter that always draws the ceiling: the waits show the exponential bound itself."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_backoff_doubles_from_the_base_delay_up_to_the_cap(bundle) -> None:
    fake = FakeBedrock(lambda _: (429, "ThrottlingException"))
    waits: list[float] = []
    bedrock = BedrockJson(
        fake.client, MODEL_ID, sleep=waits.append, rng=_Ceiling(), max_attempts=7, base_delay_s=0.5,
        max_delay_s=6.0,
    )  # fmt: skip
    with pytest.raises(BedrockError, match="after 7 attempt"):
        BedrockNormalizer(bundle, bedrock).normalize(ITEMS["fda_approves"])
    assert waits == [0.5, 1.0, 2.0, 4.0, 6.0, 6.0]


def test_no_more_model_calls_in_flight_than_the_workers(bundle) -> None:
    in_flight, peak = [0], [0]
    lock = threading.Lock()

    def answer(request: dict) -> str:
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.1)  # long enough for every free worker to be calling too
        with lock:
            in_flight[0] -= 1
        return normalization_answer(request)

    fake = FakeBedrock(answer)
    normalizer = BedrockNormalizer(bundle, BedrockJson(fake.client, MODEL_ID, sleep=lambda _: None))
    batch = [dict(item, url=f"{item['url']}#{n}") for n in range(3) for item in ITEMS.values()][:12]
    curated = curate_all(batch, normalizer, bundle, workers=3)
    assert [c["url"] for c in curated] == [b["url"] for b in batch]  # input order kept
    assert len(fake.requests) == 12
    assert peak[0] == 3


def test_throttling_that_never_ends_fails_the_item_not_the_run(bundle) -> None:
    fake = FakeBedrock(lambda _: (429, "ThrottlingException"))
    bedrock = BedrockJson(fake.client, MODEL_ID, sleep=lambda _: None, max_attempts=3)
    curated = curate_item(ITEMS["fda_approves"], BedrockNormalizer(bundle, bedrock), Scorer.of(bundle))
    assert curated["status"] == "normalization_failed" and curated["score"] == 0.0
    assert curated["error"].startswith("Bedrock ThrottlingException after 3 attempt(s)")
    assert len(fake.requests) == 3


def test_access_denied_stops_the_run(bundle) -> None:
    fake = FakeBedrock(lambda _: (403, "AccessDeniedException"))
    bedrock = BedrockJson(fake.client, MODEL_ID, sleep=lambda _: None)
    with pytest.raises(BedrockUnavailableError, match="AccessDeniedException"):
        BedrockNormalizer(bundle, bedrock).normalize(ITEMS["fda_approves"])
    assert len(fake.requests) == 1


def test_an_invalid_answer_gets_one_corrective_turn(bundle) -> None:
    answers = iter(['{"summary": "x", "event_type": "rumour", "lai_relevant": true}', normalization_answer])

    def answer(request):
        nxt = next(answers)
        return nxt(request) if callable(nxt) else nxt

    fake = FakeBedrock(answer)
    bedrock = BedrockJson(fake.client, MODEL_ID, sleep=lambda _: None)
    assert (
        BedrockNormalizer(bundle, bedrock).normalize(ITEMS["fda_approves"]).event_type
        == "regulatory_approval"
    )
    second = fake.requests[1]["messages"]
    assert [m["role"] for m in second] == ["user", "assistant", "user"]
    assert second[2]["content"][0]["text"].startswith("That answer is not valid (")


def test_two_invalid_answers_are_an_error() -> None:
    fake = FakeBedrock(lambda _: "I cannot answer in JSON")
    bedrock = BedrockJson(fake.client, MODEL_ID, sleep=lambda _: None)
    with pytest.raises(BedrockError, match="no valid JSON answer after a corrective turn: no JSON object"):
        bedrock.ask(Normalization, system="s", user="u", max_tokens=100, temperature=0)


def test_extract_json_tolerates_fences_and_prose() -> None:
    assert extract_json('Sure! ```json\n{"a": 1}\n``` done') == {"a": 1}
    assert extract_json('Here: {"a": {"b": 2}} ok') == {"a": {"b": 2}}
    with pytest.raises(ValueError, match="no JSON object"):
        extract_json("nothing")
