"""Custom-resource answers: the ResponseURL endpoint and a bounded wait for an answer.

On AWS the ResponseURL is a pre-signed S3 URL that the handler PUTs a JSON document to. Here it
is ``http://localhost:<port>/_local_aws/cfn-response/<request id>`` on the emulator itself, so a
handler that answers CloudFormation with ``urllib``/``requests`` works unchanged.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from local_aws import settings

_answers: dict[str, dict[str, Any]] = {}
_changed = threading.Condition()
PATH_PREFIX = f"{settings.INTERNAL_PREFIX}/cfn-response/"


def response_url(request_id: str) -> str:
    return f"{settings.current().endpoint_url}{PATH_PREFIX}{request_id}"


def record(request_id: str, body: bytes) -> None:
    """Store the answer a handler PUT to its ResponseURL (raises ValueError on a non-JSON body)."""
    answer = json.loads(body.decode("utf-8") or "{}")
    if not isinstance(answer, dict):
        raise ValueError("a custom-resource answer must be a JSON object")
    with _changed:
        _answers[request_id] = answer
        _changed.notify_all()


def pop(request_id: str) -> dict[str, Any] | None:
    with _changed:
        return _answers.pop(request_id, None)


def wait_for(request_id: str, timeout_s: float) -> dict[str, Any] | None:
    """The answer for ``request_id``, or None once ``timeout_s`` has passed without one."""
    deadline = time.monotonic() + timeout_s
    with _changed:
        while request_id not in _answers:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            _changed.wait(remaining)
        return _answers.pop(request_id)
