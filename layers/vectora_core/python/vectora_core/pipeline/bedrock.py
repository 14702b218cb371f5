"""Amazon Bedrock through the Converse API: a JSON answer, validated, with backoff on throttling.

The boto3 client is built here with botocore's own retries turned off: throttling is retried by
``BedrockJson`` with capped, jittered exponential backoff so that the waits are visible and bounded.

A failure reaches the user as one line naming the error code and the model id, e.g. ``Bedrock
ThrottlingException after 6 attempt(s) for model eu.anthropic...``: never a response body (a proxy's
HTML page, a long message), at most a short single-line excerpt of the AWS error message.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError
from pydantic import BaseModel, ValidationError

LOGGER = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)

RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "ServiceUnavailableException",
        "ModelNotReadyException",
        "InternalServerException",
    }
)
# The function cannot work at all: stop the run instead of failing every item one by one.
FATAL_CODES = frozenset(
    {
        "AccessDeniedException",
        "ResourceNotFoundException",
        "UnrecognizedClientException",
        "ExpiredTokenException",
    }
)

# The longest excerpt of an AWS error message kept in a BedrockError's one line.
EXCERPT_MAX_CHARS = 120


class BedrockError(RuntimeError):
    """One request failed for good (retries exhausted, or an answer that is not the expected JSON)."""


class BedrockUnavailableError(RuntimeError):
    """Bedrock refuses this function altogether (permissions, unknown model): the run stops."""


def excerpt(message: str, max_chars: int = EXCERPT_MAX_CHARS) -> str:
    """A short, single-line excerpt of an error message; '' when it is a markup page or empty."""
    text = " ".join(message.split())
    if not text or text.startswith("<") or re.search(r"<(html|body|head|title)\b", text, re.IGNORECASE):
        return ""
    return text if len(text) <= max_chars else text[: max_chars - 3].rstrip() + "..."


def _error_code(err: ClientError) -> str:
    code = str(err.response.get("Error", {}).get("Code") or "")
    status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    # botocore names an answer it cannot parse (an HTML page) by its HTTP status only.
    if code.isdigit() or not code:
        return f"HTTP {code or status or 'error'}"
    return code


def _detail(text: str) -> str:
    return f" - {text}" if text else ""


def make_client(region: str | None, *, max_connections: int = 32) -> Any:
    config = Config(
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=10,
        read_timeout=120,
        max_pool_connections=max_connections,
    )
    return boto3.client("bedrock-runtime", region_name=region, config=config)


def extract_json(text: str) -> Any:
    """The JSON object in a model answer, tolerating a code fence or a sentence around it."""
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL)
    candidate = fenced.group(1) if fenced else text
    start, end = candidate.find("{"), candidate.rfind("}")
    if start < 0 or end <= start:
        raise ValueError("no JSON object in the answer")
    return json.loads(candidate[start : end + 1])


class BedrockJson:
    """Ask a model for a JSON object validated by a pydantic model, via ``converse``."""

    def __init__(
        self,
        client: Any,
        model_id: str,
        *,
        max_attempts: int = 6,
        base_delay_s: float = 0.5,
        max_delay_s: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.model_id = model_id
        self.max_attempts = max_attempts
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.sleep = sleep
        self.rng = rng or random.Random()  # noqa: S311  # jitter, not cryptography
        self.throttled = 0

    def _converse(self, request: dict[str, Any]) -> dict[str, Any]:
        for attempt in range(1, self.max_attempts + 1):
            try:
                return self.client.converse(**request)
            except ClientError as err:
                code = _error_code(err)
                detail = _detail(excerpt(str(err.response.get("Error", {}).get("Message") or "")))
                if code in FATAL_CODES:
                    raise BedrockUnavailableError(
                        f"Bedrock {code} for model {self.model_id}{detail}"
                    ) from None
                if code not in RETRYABLE_CODES or attempt == self.max_attempts:
                    raise BedrockError(
                        f"Bedrock {code} after {attempt} attempt(s) for model {self.model_id}{detail}"
                    ) from None
                self.throttled += 1
                # Full jitter: concurrent workers that were throttled together do not retry together.
                delay = self.rng.uniform(0, min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)))
                LOGGER.debug("Bedrock %s, retry %d in %.2fs", code, attempt, delay)
                self.sleep(delay)
            except (BotoCoreError, ResponseParserError) as err:
                # No answer (connection refused, timeout) or one botocore cannot read: not retried,
                # a timeout already waited the client's read_timeout.
                raise BedrockError(
                    f"Bedrock {type(err).__name__} after {attempt} attempt(s) for model {self.model_id}"
                    f"{_detail(excerpt(str(err)))}"
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _answer_text(self, response: dict[str, Any]) -> str:
        content = response.get("output", {}).get("message", {}).get("content")
        if not isinstance(content, list):
            # botocore parses any 200 (a proxy's HTML page too) into a document: this one has no answer.
            status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
            raise BedrockError(
                f"Bedrock answer without a message for model {self.model_id} - HTTP {status}, "
                "not a Converse response"
            )
        return "".join(block.get("text", "") for block in content)

    def ask(
        self, model: type[M], *, system: str, user: str, max_tokens: int, temperature: float
    ) -> tuple[M, dict[str, Any]]:
        """The validated answer and the token usage; one corrective turn if the JSON is invalid."""
        messages: list[dict[str, Any]] = [{"role": "user", "content": [{"text": user}]}]
        usage = {"inputTokens": 0, "outputTokens": 0}
        problem = ""
        for _turn in range(2):
            response = self._converse(
                {
                    "modelId": self.model_id,
                    "system": [{"text": system}],
                    "messages": messages,
                    "inferenceConfig": {"maxTokens": max_tokens, "temperature": temperature},
                }
            )
            for key in usage:
                usage[key] += int(response.get("usage", {}).get(key, 0))
            text = self._answer_text(response)
            try:
                return model.model_validate(extract_json(text)), usage
            except (ValueError, ValidationError) as err:
                problem = str(err).splitlines()[0] if str(err) else type(err).__name__
                LOGGER.debug("invalid JSON answer (%s): %.300s", problem, text)
                messages = [
                    *messages,
                    {"role": "assistant", "content": [{"text": text or "(empty)"}]},
                    {
                        "role": "user",
                        "content": [
                            {
                                "text": f"That answer is not valid ({problem}). "
                                "Reply with the JSON object only."
                            }
                        ],
                    },
                ]
        raise BedrockError(
            f"Bedrock model {self.model_id}: no valid JSON answer after a corrective turn: {excerpt(problem)}"
        )
