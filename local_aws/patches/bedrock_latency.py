"""Patch: the local Bedrock can take a model's time to answer (``LOCAL_AWS_BEDROCK_LATENCY_MS``).

Symptom: the local model (patch ``bedrock_converse``) answers a Converse request in a few
milliseconds, where a real model takes hundreds; a measure of the pipeline's concurrency (the
state machine's Map, the normalizer's pool of model calls) on the local AWS then measures nothing
but the Lambda runner.
Cause: ``bedrock_converse`` builds the answer from the request and returns it at once, by design
(deterministic and fast for the tests).
Fix: with ``LOCAL_AWS_BEDROCK_LATENCY_MS`` set in the emulator process's environment (a whole
number of milliseconds, 0-60000; unset or 0: no delay), every Converse answer, refusals included,
is held that long before it is sent. The server's threads sleep independently, so concurrent
requests overlap as they do on Bedrock. A bad value stops the emulator's start with one line.
Builds on ``bedrock_converse`` (it wraps that patch's action), so it is applied after it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

from moto.bedrockruntime.responses import BedrockRuntimeResponse

LATENCY_ENV: Final = "LOCAL_AWS_BEDROCK_LATENCY_MS"
MAX_LATENCY_MS: Final = 60_000


def latency_s(environ: Mapping[str, str]) -> float:
    """The configured delay in seconds (0.0 when unset); ValueError, one line, for a bad value."""
    raw = environ.get(LATENCY_ENV, "").strip()
    if not raw:
        return 0.0
    if not raw.isdigit() or int(raw) > MAX_LATENCY_MS:
        raise ValueError(f"{LATENCY_ENV}={raw!r}: a whole number of milliseconds from 0 to {MAX_LATENCY_MS}")
    return int(raw) / 1000


def _delayed(action: Callable[[Any], Any], delay_s: float) -> Callable[[Any], Any]:
    def converse(self: Any) -> Any:
        started = time.monotonic()
        try:
            return action(self)
        finally:
            # The model's time counts from the request's arrival, whatever the local model took.
            time.sleep(max(0.0, delay_s - (time.monotonic() - started)))

    return converse


def apply() -> None:
    delay_s = latency_s(os.environ)
    if delay_s:
        action = BedrockRuntimeResponse.converse  # type: ignore[attr-defined]  # bedrock_converse's
        BedrockRuntimeResponse.converse = _delayed(action, delay_s)  # type: ignore[attr-defined]  # the patch itself
