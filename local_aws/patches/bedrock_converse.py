"""Patch: bedrock-runtime ``Converse`` is answered by a local, deterministic, labelled model.

Symptom: a function deployed without ``BEDROCK_MODE=offline`` calls Converse through
``AWS_ENDPOINT_URL`` and gets HTTP 500 with an HTML page ("Internal Server Error"), which
``run_pipeline.py`` then prints.
Cause: moto's server picks the backend of a request on ``localhost`` from its SigV4 credential
scope. bedrock, bedrock-agent and bedrock-runtime share the signing name ``bedrock``, so moto tries
each one's REST routes and finds bedrock-runtime's ``Converse`` (``POST /model/{modelId}/converse``);
but ``BedrockRuntimeResponse`` implements only ``InvokeModel``, and the missing action raises
``NotImplementedError`` (HTTP 500).
Fix: a ``converse`` action on ``BedrockRuntimeResponse``, i.e. at moto's response layer, below its
routing and above its serializer: requests reach it exactly as real clients address Bedrock, and
the answer is serialized by moto from botocore's own model of the operation (the Converse response
document; errors with their HTTP status, ``x-amzn-ErrorType`` header and JSON body), so botocore
parses both as it parses Bedrock's. The text comes from ``local_aws.bedrock_model``: built from
the request only (same request, same answer), following the output contract the prompts spell out,
every generated text labelled ``[local Bedrock emulator]``. A request Bedrock would refuse (body
not JSON, no messages, a conversation not starting with the user, an unknown key, a bad
``inferenceConfig``) gets a ``ValidationException`` (HTTP 400), with one line saying what is
wrong. moto parses a body before the action runs, and a body that is not UTF-8 or not a JSON object
would fail there (HTTP 500): for Converse the patch skips that generic parse, and the action
validates the raw body itself.
"""

from __future__ import annotations

import json
import math
from typing import Any, Literal

from moto.bedrockruntime.responses import BedrockRuntimeResponse
from moto.core.exceptions import ServiceException
from moto.core.request import Request
from moto.core.responses import ActionResult
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from local_aws import bedrock_model

_original_setup_class = BedrockRuntimeResponse.setup_class
# Top-level members of a Converse request (botocore's model of the operation, less the URI's modelId).
CONVERSE_MEMBERS = (
    "messages",
    "system",
    "inferenceConfig",
    "toolConfig",
    "guardrailConfig",
    "projectIdentifier",
    "additionalModelRequestFields",
    "promptVariables",
    "additionalModelResponseFieldPaths",
    "requestMetadata",
    "performanceConfig",
    "serviceTier",
    "outputConfig",
)
# A rough English tokenizer: what the usage figures are computed with.
CHARS_PER_TOKEN = 4


class ValidationException(ServiceException):
    code = "ValidationException"


class ContentBlock(BaseModel):
    # Other kinds of block (image, document, toolUse...) are accepted; only text is read.
    model_config = ConfigDict(extra="allow", strict=True)

    text: str | None = None


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    role: Literal["user", "assistant"]
    content: list[ContentBlock] = Field(min_length=1)


class InferenceConfiguration(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    maxTokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=1)
    topP: float | None = Field(default=None, ge=0, le=1)
    stopSequences: list[str] = Field(default_factory=list, max_length=4)


class ConverseRequest(BaseModel):
    """What Bedrock checks of a Converse body before a model sees it (names as in its API)."""

    model_config = ConfigDict(extra="allow", strict=True)

    messages: list[Message] = Field(min_length=1)
    system: list[ContentBlock] = Field(default_factory=list)
    inferenceConfig: InferenceConfiguration = Field(default_factory=InferenceConfiguration)


def _one_line(err: PydanticValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    count = err.error_count()
    return f"{count} validation error{'s' if count > 1 else ''} detected: {where}: {first['msg']}"


def parse_request(body: str | bytes) -> ConverseRequest:
    """The Converse body as Bedrock validates it; ``ValidationException`` with one line if not."""
    try:
        document = json.loads(body or b"{}")
    except ValueError:
        raise ValidationException("Malformed input request: the body is not JSON") from None
    if not isinstance(document, dict):
        raise ValidationException("Malformed input request: the body must be a JSON object")
    unknown = sorted(set(document) - set(CONVERSE_MEMBERS))
    if unknown:
        raise ValidationException(
            f"Malformed input request: unknown key(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(CONVERSE_MEMBERS)}"
        )
    try:
        request = ConverseRequest.model_validate(document)
    except PydanticValidationError as err:
        raise ValidationException(_one_line(err)) from None
    roles = [m.role for m in request.messages]
    if roles[0] != "user":
        raise ValidationException("A conversation must start with a user message.")
    if any(a == b for a, b in zip(roles, roles[1:], strict=False)):
        raise ValidationException("A conversation must alternate between user and assistant roles.")
    return request


def _text(blocks: list[ContentBlock]) -> str:
    return "".join(block.text or "" for block in blocks)


def _tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN)) if text else 0


def converse_document(request: ConverseRequest) -> dict[str, Any]:
    """The Converse response document for a validated request (deterministic)."""
    system = "\n".join(block.text or "" for block in request.system)
    user_turns = [_text(m.content) for m in request.messages if m.role == "user"]
    text = bedrock_model.answer(system, user_turns)
    stop_reason = "end_turn"
    max_tokens = request.inferenceConfig.maxTokens
    if max_tokens is not None and _tokens(text) > max_tokens:
        # What a model does when it runs out of tokens: stops mid-answer, and says so.
        text, stop_reason = text[: max_tokens * CHARS_PER_TOKEN], "max_tokens"
    input_tokens = _tokens(system) + sum(_tokens(_text(m.content)) for m in request.messages)
    output_tokens = _tokens(text)
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": stop_reason,
        "usage": {
            "inputTokens": input_tokens,
            "outputTokens": output_tokens,
            "totalTokens": input_tokens + output_tokens,
        },
        # Deterministic too: a fixed start-up plus a per-token time, not a measured duration.
        "metrics": {"latencyMs": 100 + 2 * output_tokens},
    }


def _converse(self: BedrockRuntimeResponse) -> ActionResult:
    if not self.uri_match.get("modelId"):
        raise ValidationException("The provided model identifier is invalid.")
    return ActionResult(converse_document(parse_request(self.raw_body)))


def _setup_class(
    self: BedrockRuntimeResponse,
    request: Request,
    full_url: str | None = None,
    headers: Any = None,
    use_raw_body: bool | None = None,
) -> None:
    if self._get_action_from_method_and_request_uri(request) == "Converse":
        # The action reads the body itself, as Bedrock validates it: moto's generic parse would
        # fail on a body that is not UTF-8 or not an object, outside the action (HTTP 500).
        self.automated_parameter_parsing = False
        use_raw_body = True
    _original_setup_class(self, request, full_url, headers, use_raw_body)


def apply() -> None:
    BedrockRuntimeResponse.converse = _converse  # type: ignore[attr-defined]  # the patch itself
    BedrockRuntimeResponse.setup_class = _setup_class  # type: ignore[method-assign,assignment]  # the patch itself
