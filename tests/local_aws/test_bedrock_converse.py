"""The local Bedrock (patch ``bedrock_converse``) through a real boto3 ``bedrock-runtime`` client.

The requests are the pipeline's own: the repository's canonical prompts, filled and sent by
``BedrockNormalizer`` / ``BedrockEditor`` over the emulator, and the answers must validate against
the pipeline's pydantic models at the first attempt (no corrective turn). Errors must reach
botocore as Bedrock's do.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local_aws.server import LocalAws
from tests.local_aws.helpers import NO_RETRY, REGION
from tests.local_aws.test_patches import assert_patch_needed
from tests.pipeline.conftest import REPO_ROOT
from tests.pipeline.fake_bedrock import MODEL_ID
from vectora_core.config.loading import ClientBundle, DirStore, load_client_bundle
from vectora_core.config.schema import EVENT_TYPES
from vectora_core.pipeline.bedrock import BedrockError, BedrockJson
from vectora_core.pipeline.newsletter import BedrockEditor, Editorial, SectionItems
from vectora_core.pipeline.normalize import BedrockNormalizer, Normalization

LABEL = "[local Bedrock emulator]"
ITEM = {
    "item_id": "teva-olanzapine",
    "source_name": "Teva press releases",
    "source_type": "press_release",
    "published_at": "2026-11-20T08:00:00Z",
    "url": "https://www.tevapharm.com/news/olanzapine-lai",
    "title": "Teva and MedinCell receive FDA approval for olanzapine extended-release injectable",
    "text": (
        "Teva Pharmaceuticals and MedinCell announced that the FDA approved once-monthly olanzapine "
        "(TEV-749) for schizophrenia. Acme Biotech was not involved. The companies expect the US "
        "launch on March 3, 2027, and a European filing in 2027-06-30."
    ),
}


class Converse:
    """A real bedrock-runtime client on ``aws``, recording each Converse answer's text."""

    def __init__(self, aws: LocalAws, config: Config = NO_RETRY) -> None:
        self.client = aws.client("bedrock-runtime", config=config)
        self.texts: list[str] = []
        self.client.meta.events.register("after-call.bedrock-runtime.Converse", self._record)

    def _record(self, parsed: dict[str, Any], **_: Any) -> None:
        content = parsed.get("output", {}).get("message", {}).get("content", [])
        self.texts.append("".join(block.get("text", "") for block in content))

    def bedrock(self) -> BedrockJson:
        return BedrockJson(self.client, MODEL_ID, max_attempts=1)


@pytest.fixture(scope="module")
def bundle() -> ClientBundle:
    return load_client_bundle(DirStore(REPO_ROOT), "lai_weekly")


def _normalize_twice(aws: LocalAws, bundle: ClientBundle) -> tuple[Normalization, Normalization, list[str]]:
    converse = Converse(aws)
    normalizer = BedrockNormalizer(bundle, converse.bedrock())
    try:
        return normalizer.normalize(ITEM), normalizer.normalize(ITEM), converse.texts
    except BedrockError as err:
        raise AssertionError(f"the normalization request failed: {err}") from err


def check_normalization(bundle: ClientBundle) -> Callable[[LocalAws], None]:
    def check(aws: LocalAws) -> None:
        first, second, texts = _normalize_twice(aws, bundle)
        # one answer per request: each was valid JSON of the contract at the first attempt
        assert len(texts) == 2, texts
        assert Normalization.model_validate(json.loads(texts[0])) == first
        assert texts[0] == texts[1] and first == second  # same request, same answer
        assert first.summary.startswith(LABEL)
        assert set(first.companies) == {"MedinCell", "Teva"}  # followed and named; Acme is not followed
        assert "olanzapine" in first.molecules
        assert first.event_type == "regulatory_approval"  # the most specific type the prompt lists
        assert first.lai_relevant is True
        assert {m.date.isoformat() for m in first.dates} == {"2027-03-03", "2027-06-30"}
        assert first.event_date is not None and first.event_date.isoformat() == "2026-11-20"

    return check


def test_normalization_answer_follows_the_prompt_contract(patched_aws, aws_without, bundle):
    assert_patch_needed("bedrock_converse", check_normalization(bundle), patched_aws, aws_without)


def _sections(bundle: ClientBundle) -> list[SectionItems]:
    by_id = {s.id: s for s in bundle.config.newsletter_layout.sections}
    normalized = {
        "summary": "Teva and MedinCell got FDA approval.",
        "companies": ["Teva", "MedinCell"],
        "event_type": "regulatory",
        "event_date": "2026-11-20",
    }
    deal = {**normalized, "summary": "Camurus licensed FluidCrystal.", "event_type": "partnership"}
    return [
        SectionItems(by_id["regulatory"], [{"title": ITEM["title"], "normalized": normalized}]),
        SectionItems(
            by_id["deals"],
            [
                {"title": "Camurus signs a FluidCrystal license", "normalized": deal},
                {
                    "title": "Nanexa raises SEK 50 million",
                    "normalized": {**deal, "event_type": "financial_results"},
                },
            ],
        ),
    ]


def test_editorial_answer_has_one_labelled_text_per_section(patched_aws, bundle):
    converse = Converse(patched_aws)
    sections = _sections(bundle)
    period = {"start": "2026-11-17", "end": "2026-11-24"}
    editor = BedrockEditor(converse.bedrock())
    first = editor.write(sections, period, bundle)
    second = editor.write(sections, period, bundle)
    assert len(converse.texts) == 2 and converse.texts[0] == converse.texts[1]
    raw = Editorial.model_validate(json.loads(converse.texts[0]))  # before the editor's filtering
    assert set(raw.sections) == {"regulatory", "deals"}
    assert first == second == raw
    assert raw.intro.startswith(LABEL) and "2026-11-17 to 2026-11-23" in raw.intro
    assert all(text.startswith(LABEL) for text in raw.sections.values())
    assert "Nanexa raises SEK 50 million" in raw.sections["deals"]


# --- the allowed values come from the prompt, not from a list of the emulator's -------------------

RICHER_TYPES = (
    "partnership, clinical_update, regulatory_approval, nda_submission, pivotal_trial_result, "
    "corporate_move, financial_results, safety_signal, manufacturing_supply, scientific_publication, "
    "label_expansion, other"
)


def _ask(aws: LocalAws, system: str, user: str, **inference: Any) -> dict[str, Any]:
    client = aws.client("bedrock-runtime", config=NO_RETRY)
    return client.converse(  # type: ignore[no-any-return]
        modelId=MODEL_ID,
        system=[{"text": system}],
        messages=[{"role": "user", "content": [{"text": user}]}],
        inferenceConfig={"maxTokens": 800, "temperature": 0.0, **inference},
    )


def _richer_prompt(bundle: ClientBundle) -> str:
    system = bundle.normalization_prompt.system.format(language="English", event_types=", ".join(EVENT_TYPES))
    start = system.index('"event_type": one of ') + len('"event_type": one of ')
    return system[:start] + RICHER_TYPES + system[system.index(";", start) :]


def _user(title: str, text: str = "") -> str:
    return (
        f"Source: Example\nPublished: 2026-11-20\nURL: https://example.org\nTitle: {title}\nText: {text}\n\n"
        "Entities this newsletter follows (for spelling; report others too): companies: Teva, Camurus; "
        "molecules: olanzapine; technologies: FluidCrystal"
    )


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("FDA approves Teva's olanzapine LAI", "regulatory_approval"),
        ("Camurus submits an NDA for CAM2029", "nda_submission"),
        ("Teva reports topline pivotal results", "pivotal_trial_result"),
        ("Camurus announces a label expansion in Europe", "label_expansion"),  # recognised by its name
        ("Camurus opens a new office", "other"),
    ],
)
def test_event_type_is_taken_from_the_prompts_own_list(patched_aws, bundle, title, expected):
    response = _ask(patched_aws, _richer_prompt(bundle), _user(title))
    answer = json.loads(response["output"]["message"]["content"][0]["text"])
    assert answer["event_type"] == expected
    assert answer["companies"] == [c for c in ("Teva", "Camurus") if c in title]


def test_response_document_is_bedrocks(patched_aws, bundle):
    response = _ask(patched_aws, _richer_prompt(bundle), _user("FDA approves Teva's olanzapine LAI"))
    assert response["stopReason"] == "end_turn"
    assert response["output"]["message"]["role"] == "assistant"
    usage = response["usage"]
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"] > 0
    assert isinstance(response["metrics"]["latencyMs"], int)


def test_an_answer_longer_than_max_tokens_stops_there(patched_aws, bundle):
    response = _ask(patched_aws, _richer_prompt(bundle), _user(ITEM["title"], ITEM["text"]), maxTokens=10)
    assert response["stopReason"] == "max_tokens"
    assert response["usage"]["outputTokens"] <= 10


def test_an_unknown_task_gets_a_labelled_local_answer(patched_aws):
    response = _ask(patched_aws, "You are a poet.", "Write a haiku about depots.")
    answer = json.loads(response["output"]["message"]["content"][0]["text"])
    assert answer["local_bedrock_emulator"] is True
    assert answer["answer"].startswith(LABEL)


# --- errors as Bedrock gives them --------------------------------------------------------------


def test_a_conversation_starting_with_the_assistant_is_a_validation_exception(patched_aws):
    client = patched_aws.client("bedrock-runtime", config=NO_RETRY)
    with pytest.raises(ClientError) as raised:
        client.converse(modelId=MODEL_ID, messages=[{"role": "assistant", "content": [{"text": "hi"}]}])
    error = raised.value.response
    assert error["Error"]["Code"] == "ValidationException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Message"] == "A conversation must start with a user message."


def test_messages_of_the_wrong_shape_are_a_validation_exception(patched_aws):
    unchecked = Config(retries={"total_max_attempts": 1}, parameter_validation=False)
    client = patched_aws.client("bedrock-runtime", config=unchecked)
    with pytest.raises(client.exceptions.ValidationException) as raised:
        client.converse(modelId=MODEL_ID, messages=[{"role": "robot", "content": [{"text": "hi"}]}])
    assert "messages.0.role" in raised.value.response["Error"]["Message"]


@pytest.mark.parametrize("body", [b"not json {", b"\xff\xfe", b"[1, 2]", b'{"messages": [], "extra": 1}'])
def test_a_malformed_body_is_a_validation_exception_on_the_wire(patched_aws, body):
    request = urllib.request.Request(  # noqa: S310  # http://localhost only
        f"{patched_aws.endpoint_url}/model/{MODEL_ID}/converse",
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            # moto picks the service from the SigV4 credential scope, as for any signed request
            "Authorization": f"AWS4-HMAC-SHA256 Credential=test/20260101/{REGION}/bedrock/aws4_request, "
            "SignedHeaders=host, Signature=0",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=10)  # noqa: S310
    answer = raised.value
    assert answer.code == 400
    assert answer.headers["x-amzn-ErrorType"].split(":")[0] == "ValidationException"
    message = json.loads(answer.read())["message"]
    assert "\n" not in message and len(message) < 300, message
