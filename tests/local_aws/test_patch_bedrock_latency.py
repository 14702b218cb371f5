"""The local Bedrock's latency knob (patch ``bedrock_latency``, ``LOCAL_AWS_BEDROCK_LATENCY_MS``).

Two emulators started with the knob at 500 ms: one with every patch, one without this patch. The
check is what the benchmark relies on: each Converse answer takes at least the configured time, and
concurrent requests overlap (they are not served one after the other).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from local_aws.patches.bedrock_latency import LATENCY_ENV, latency_s
from local_aws.server import LocalAws
from tests.conftest import remove_caches
from tests.local_aws.helpers import client
from tests.local_aws.test_patches import assert_patch_needed
from tests.pipeline.fake_bedrock import MODEL_ID

LATENCY_MS = 500
CONCURRENT = 6


def _start(disabled: tuple[str, ...]) -> LocalAws:
    state_dir = Path(tempfile.mkdtemp(prefix="local-aws-latency-"))
    return LocalAws(
        port=0, state_dir=state_dir, disabled_patches=disabled, extra_env={LATENCY_ENV: str(LATENCY_MS)}
    ).start()


@pytest.fixture(scope="module")
def slow_bedrock() -> Iterator[Callable[[tuple[str, ...]], LocalAws]]:
    started: dict[tuple[str, ...], LocalAws] = {}

    def get(disabled: tuple[str, ...] = ()) -> LocalAws:
        if disabled not in started:
            started[disabled] = _start(disabled)
        return started[disabled]

    try:
        yield get
    finally:
        for aws in started.values():
            aws.stop()
            remove_caches(aws.state_dir)


def _converse(aws: LocalAws) -> float:
    bedrock = client(aws, "bedrock-runtime")
    started = time.monotonic()
    answer = bedrock.converse(
        modelId=MODEL_ID, messages=[{"role": "user", "content": [{"text": "Title: a test"}]}]
    )
    assert answer["output"]["message"]["content"][0]["text"]
    return time.monotonic() - started


def check_latency(aws: LocalAws) -> None:
    assert _converse(aws) >= LATENCY_MS / 1000
    started = time.monotonic()
    with ThreadPoolExecutor(CONCURRENT) as pool:
        each = list(pool.map(lambda _: _converse(aws), range(CONCURRENT)))
    together = time.monotonic() - started
    assert min(each) >= LATENCY_MS / 1000
    # one after the other would take CONCURRENT x the latency; overlapping, about one latency
    assert together < CONCURRENT * LATENCY_MS / 1000 / 2, (together, each)


def test_converse_answers_take_the_configured_latency_and_overlap(slow_bedrock) -> None:
    assert_patch_needed("bedrock_latency", check_latency, slow_bedrock(()), lambda p: slow_bedrock((p,)))


@pytest.mark.parametrize(
    ("raw", "expected"), [(None, 0.0), ("", 0.0), ("0", 0.0), ("200", 0.2), (" 60000 ", 60.0)]
)
def test_the_knob_reads_whole_milliseconds(raw: str | None, expected: float) -> None:
    assert latency_s({} if raw is None else {LATENCY_ENV: raw}) == expected


@pytest.mark.parametrize("raw", ["abc", "-5", "0.2", "200ms", "60001"])
def test_a_bad_knob_value_is_one_line_naming_what_is_allowed(raw: str) -> None:
    with pytest.raises(
        ValueError, match=rf"^{LATENCY_ENV}=.*: a whole number of milliseconds from 0 to 60000$"
    ):
        latency_s({LATENCY_ENV: raw})
