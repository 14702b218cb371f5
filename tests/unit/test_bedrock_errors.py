"""A Bedrock failure reaches the user as one line naming the error code and the model id.

In-process: a real boto3 ``bedrock-runtime`` client whose HTTP answers come from a botocore
``before-send`` hook (as ``tests/pipeline/fake_bedrock.py`` does), so botocore parses each answer,
an error or a proxy's HTML page, exactly as it would from the wire.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.config import Config
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from pydantic import BaseModel

from tests.pipeline.fake_bedrock import MODEL_ID, converse_response
from vectora_core.pipeline.bedrock import (
    EXCERPT_MAX_CHARS,
    BedrockError,
    BedrockJson,
    BedrockUnavailableError,
    excerpt,
)

ENDPOINT = "https://bedrock-runtime.eu-west-3.amazonaws.com"
# Generous: "Bedrock <code> after N attempt(s) for model <id> - <excerpt>"
ONE_LINE_MAX_CHARS = 100 + len(MODEL_ID) + EXCERPT_MAX_CHARS
PROXY_PAGE = (
    "<!doctype html>\n<html lang=en>\n<head><title>502 Bad Gateway</title></head>\n<body>\n"
    "<h1>Bad Gateway</h1>\n<p>The proxy server received an invalid response from an upstream server."
    "</p>\n" + "<p>padding</p>\n" * 200 + "</body></html>\n"
)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


HttpAnswer = Callable[[AWSRequest], AWSResponse]


def _http(status: int, body: str, headers: dict[str, str] | None = None) -> HttpAnswer:
    def answer(request: AWSRequest) -> AWSResponse:
        return AWSResponse(request.url, status, headers or {}, _Raw(body.encode()))

    return answer


def _aws_error(status: int, code: str, message: str) -> HttpAnswer:
    headers = {
        "x-amzn-ErrorType": f"{code}:http://internal.amazon.com/coral/",
        "Content-Type": "application/json",
    }
    return _http(status, json.dumps({"message": message}), headers)


def _raises(error: Exception) -> HttpAnswer:
    def answer(_request: AWSRequest) -> AWSResponse:
        raise error

    return answer


class Reply(BaseModel):
    value: str


def _bedrock(answers: list[HttpAnswer], *, max_attempts: int = 3) -> tuple[BedrockJson, list[AWSRequest]]:
    """A BedrockJson over a real client whose successive HTTP answers are ``answers`` (the last repeats)."""
    client = boto3.client(
        "bedrock-runtime",
        region_name="eu-west-3",
        endpoint_url=ENDPOINT,
        aws_access_key_id="test",
        aws_secret_access_key="test",  # noqa: S106  # never sent anywhere: the hook answers
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )
    sent: list[AWSRequest] = []

    def send(request: AWSRequest, **_: Any) -> AWSResponse:
        sent.append(request)
        return answers[min(len(sent), len(answers)) - 1](request)

    client.meta.events.register("before-send.bedrock-runtime.Converse", send)
    return BedrockJson(client, MODEL_ID, max_attempts=max_attempts, sleep=lambda _: None), sent


def _failure(answers: list[HttpAnswer], expected: type[Exception] = BedrockError, **kwargs: Any) -> str:
    bedrock, _ = _bedrock(answers, **kwargs)
    with pytest.raises(expected) as raised:
        bedrock.ask(Reply, system="s", user="u", max_tokens=10, temperature=0)
    return str(raised.value)


def assert_one_line(message: str) -> None:
    assert "\n" not in message and "\r" not in message, message
    assert len(message) <= ONE_LINE_MAX_CHARS, message
    assert MODEL_ID in message, message
    assert "<" not in message, message  # no markup of any response body


def test_an_html_500_from_a_proxy_is_one_line_with_the_status_and_the_model() -> None:
    message = _failure([_http(500, PROXY_PAGE, {"Content-Type": "text/html"})])
    assert_one_line(message)
    assert message == f"Bedrock HTTP 500 after 1 attempt(s) for model {MODEL_ID}"


def test_an_html_200_from_a_proxy_is_an_error_not_a_crash() -> None:
    message = _failure([_http(200, PROXY_PAGE, {"Content-Type": "text/html"})])
    assert_one_line(message)
    assert message.startswith(f"Bedrock answer without a message for model {MODEL_ID} - HTTP 200")


def test_throttling_to_the_end_names_the_code_the_attempts_and_a_short_excerpt() -> None:
    long_message = "Too many requests, please wait before trying again.\n" + "Details: " + "x" * 5000
    bedrock, sent = _bedrock([_aws_error(429, "ThrottlingException", long_message)], max_attempts=4)
    with pytest.raises(BedrockError) as raised:
        bedrock.ask(Reply, system="s", user="u", max_tokens=10, temperature=0)
    message = str(raised.value)
    assert_one_line(message)
    assert message.startswith(
        f"Bedrock ThrottlingException after 4 attempt(s) for model {MODEL_ID} - Too many requests, please"
    )
    assert message.endswith("...")
    assert len(sent) == 4


def test_access_denied_stops_with_one_line() -> None:
    message = _failure(
        [
            _aws_error(
                403,
                "AccessDeniedException",
                "You don't have access to the model with the specified model ID.",
            )
        ],
        BedrockUnavailableError,
    )
    assert_one_line(message)
    assert message == (
        f"Bedrock AccessDeniedException for model {MODEL_ID} - "
        "You don't have access to the model with the specified model ID."
    )


def test_an_aws_error_whose_message_is_a_page_keeps_only_the_code() -> None:
    message = _failure([_aws_error(400, "ValidationException", PROXY_PAGE)])
    assert message == f"Bedrock ValidationException after 1 attempt(s) for model {MODEL_ID}"


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url=ENDPOINT),
        ReadTimeoutError(endpoint_url=ENDPOINT),
        ConnectTimeoutError(endpoint_url=ENDPOINT),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_connection_failure_is_a_bedrock_error_with_its_class_name(error: Exception) -> None:
    bedrock, sent = _bedrock([_raises(error)])
    with pytest.raises(BedrockError) as raised:
        bedrock.ask(Reply, system="s", user="u", max_tokens=10, temperature=0)
    message = str(raised.value)
    assert_one_line(message)
    assert message.startswith(f"Bedrock {type(error).__name__} after 1 attempt(s) for model {MODEL_ID}")
    assert len(sent) == 1  # not retried: a timeout has already waited the client's read timeout


def test_two_invalid_answers_name_the_model_in_one_line() -> None:
    answer = json.dumps(converse_response("I cannot answer that.\n" + "<p>no</p>" * 100))
    message = _failure([_http(200, answer, {"Content-Type": "application/json"})])
    assert_one_line(message)
    assert message == (
        f"Bedrock model {MODEL_ID}: no valid JSON answer after a corrective turn: "
        "no JSON object in the answer"
    )


def test_a_valid_answer_after_a_throttle_still_succeeds() -> None:
    good = _http(200, json.dumps(converse_response('{"value": "ok"}')), {"Content-Type": "application/json"})
    bedrock, sent = _bedrock([_aws_error(429, "ThrottlingException", "slow down"), good])
    answer, usage = bedrock.ask(Reply, system="s", user="u", max_tokens=10, temperature=0)
    assert (answer.value, len(sent), bedrock.throttled) == ("ok", 2, 1)
    assert usage == {"inputTokens": 120, "outputTokens": 80}


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("Model is not ready.", "Model is not ready."),
        ("line one\nline two", "line one line two"),
        ("<html><body>x</body></html>", ""),
        ("Error: <title>Bad</title>", ""),
        ("", ""),
        ("y" * 500, "y" * (EXCERPT_MAX_CHARS - 3) + "..."),
    ],
)
def test_excerpt_is_short_single_line_and_never_markup(raw: str, kept: str) -> None:
    assert excerpt(raw) == kept
