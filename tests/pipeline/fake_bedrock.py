"""Bedrock stubbed at the HTTP boundary of a real boto3 ``bedrock-runtime`` client.

A ``before-send`` hook answers each Converse request with a real Converse response document (or a
real error, e.g. a 429 ThrottlingException), so botocore serializes the request and parses the
answer exactly as with Bedrock. Thread-safe (the answer is computed from the request), which the
normalizer's thread pool and the benchmark need; ``latency_s`` simulates the model's time.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config

MODEL_ID = "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def converse_response(text: str, *, input_tokens: int = 120, output_tokens: int = 80) -> dict[str, Any]:
    """A Converse response document as Bedrock returns it."""
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {
            "inputTokens": input_tokens,
            "outputTokens": output_tokens,
            "totalTokens": input_tokens + output_tokens,
        },
        "metrics": {"latencyMs": 200},
    }


class FakeBedrock:
    """``answer(request_json) -> str | tuple[int, str]``: the model's text, or (HTTP status, error code)."""

    def __init__(self, answer: Callable[[dict[str, Any]], Any], *, latency_s: float = 0.0) -> None:
        self.answer = answer
        self.latency_s = latency_s
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.client = boto3.client(
            "bedrock-runtime",
            region_name="eu-west-3",
            # No AWS host: moto's mock_aws (the in-process tier) would claim an amazonaws.com URL and
            # answer that Converse is not implemented; the hook below answers every request.
            endpoint_url="https://fake-bedrock-runtime.invalid",
            aws_access_key_id="test",
            aws_secret_access_key="test",  # noqa: S106  # never sent anywhere: the hook answers
            config=Config(retries={"total_max_attempts": 1}, max_pool_connections=64),
        )
        self.client.meta.events.register("before-send.bedrock-runtime.Converse", self._send)

    def _send(self, request: Any, **_: Any) -> AWSResponse:
        body = json.loads(request.body)
        # Converse carries the model id in the path: POST /model/{modelId}/converse
        model_id = unquote(request.url.split("/model/", 1)[1].removesuffix("/converse"))
        with self._lock:
            self.requests.append({"url": request.url, "modelId": model_id, **body})
        if self.latency_s:
            time.sleep(self.latency_s)
        answer = self.answer(body)
        if isinstance(answer, tuple):
            status, code = answer
            payload = json.dumps({"message": f"{code} (fake)"}).encode()
            headers = {
                "x-amzn-ErrorType": f"{code}:http://internal.amazon.com/coral/",
                "Content-Type": "application/json",
            }
            return AWSResponse(request.url, status, headers, _Raw(payload))
        payload = json.dumps(converse_response(answer)).encode()
        return AWSResponse(request.url, 200, {"Content-Type": "application/json"}, _Raw(payload))


def user_text(request: dict[str, Any]) -> str:
    return request["messages"][0]["content"][0]["text"]


def normalization_answer(request: dict[str, Any]) -> str:
    """A plausible model answer for a normalization request, derived from the item's title."""
    text = user_text(request)
    title = next(line.removeprefix("Title: ") for line in text.splitlines() if line.startswith("Title: "))
    lowered = title.lower()
    rules = (
        ("fda", "regulatory_approval"),
        ("license", "partnership"),
        ("raises eur", "financial_results"),
        ("results", "financial_results"),
        ("phase 3", "clinical_update"),
        ("launch", "corporate_move"),
    )
    event_type = next((t for word, t in rules if word in lowered), None)
    event_type = event_type or ("scientific_publication" if "pubmed" in text.lower() else "other")
    return json.dumps(
        {
            "summary": f"Summary of: {title}",
            "companies": [
                c for c in ("Teva", "MedinCell", "Camurus", "Lilly", "Pfizer") if c.lower() in lowered
            ],
            "molecules": [],
            "technologies": [],
            "event_type": event_type,
            "event_date": "2026-11-20",
            "dates": [],
            "lai_relevant": "pfizer" not in lowered,
        }
    )


def editorial_answer(request: dict[str, Any]) -> str:
    sections = json.loads(user_text(request).split("(JSON):", 1)[1])
    return json.dumps(
        {
            "intro": "BEDROCK-EDITORIAL intro.",
            "sections": {s["id"]: f"BEDROCK-EDITORIAL {s['id']}" for s in sections},
        }
    )
