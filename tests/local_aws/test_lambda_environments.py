"""Warm execution environments (``local_aws.lambda_runtime.workers``): what Lambda does with them.

An environment is reused by the next invocation of the same function as deployed, and only then:
a change of configuration, a concurrent invocation, a timeout or an interpreter that exits each
gets the next invocation a fresh interpreter. Each invocation's log holds its own output only.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from local_aws.lambda_runtime import workers
from local_aws.server import LocalAws
from tests.local_aws.helpers import client, create_function, invoke, uid

HANDLER = """
import os, sys, time

INVOCATIONS = 0
print("init of", os.environ.get("LABEL"))

def handler(event, context):
    global INVOCATIONS
    INVOCATIONS += 1
    print("invocation", event.get("n"), "of", os.environ.get("LABEL"))
    time.sleep(event.get("sleep", 0))
    if event.get("exit"):
        sys.exit(3)
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"pid": os.getpid(), "invocations": INVOCATIONS, "label": os.environ.get("LABEL")}
"""


def _function(aws: LocalAws, *, timeout: int = 30) -> str:
    name = f"warm-{uid()}"
    create_function(aws, name, {"index.py": HANDLER}, env={"LABEL": "one"})
    if timeout != 30:
        client(aws, "lambda").update_function_configuration(FunctionName=name, Timeout=timeout)
    return name


def _records(aws: LocalAws, name: str) -> list[dict[str, Any]]:
    url = f"{aws.endpoint_url}/_local_aws/invocations?function={name}"
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310  # the emulator, http
        return list(json.load(response))


def _logs(aws: LocalAws, name: str) -> list[str]:
    """Each invocation's log (the runner writes one stream per invocation), as one text."""
    events = client(aws, "logs").filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    streams: dict[str, list[str]] = {}
    for event in events:
        streams.setdefault(event["logStreamName"], []).append(event["message"])
    return ["\n".join(lines) for lines in streams.values()]


def test_the_next_invocation_reuses_the_environment_and_its_module_state(patched_aws: LocalAws) -> None:
    name = _function(patched_aws)
    first, error = invoke(patched_aws, name, {"n": 1})
    assert error is None, first
    second, _ = invoke(patched_aws, name, {"n": 2})
    assert second["pid"] == first["pid"]
    assert (first["invocations"], second["invocations"]) == (1, 2)
    assert [r["warm"] for r in _records(patched_aws, name)] == [False, True]
    # each invocation's log holds its own output; the init's goes with the first
    logs = _logs(patched_aws, name)
    assert any("init of one" in m and "invocation 1" in m for m in logs), logs
    assert any("invocation 2" in m and "init of" not in m and "invocation 1" not in m for m in logs), logs


def test_a_configuration_change_gets_a_fresh_environment(patched_aws: LocalAws) -> None:
    name = _function(patched_aws)
    first, _ = invoke(patched_aws, name)
    client(patched_aws, "lambda").update_function_configuration(
        FunctionName=name, Environment={"Variables": {"LABEL": "two"}}
    )
    second, _ = invoke(patched_aws, name)
    assert second["label"] == "two"
    assert second["pid"] != first["pid"] and second["invocations"] == 1


def test_concurrent_invocations_run_in_separate_environments(patched_aws: LocalAws) -> None:
    name = _function(patched_aws)
    answers: list[Any] = []
    threads = [
        threading.Thread(target=lambda: answers.append(invoke(patched_aws, name, {"sleep": 1.5})[0]))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({a["pid"] for a in answers}) == 2, answers
    # both are free afterwards: the next two invocations, one after the other, reuse one of them
    third, _ = invoke(patched_aws, name)
    assert third["pid"] in {a["pid"] for a in answers}


def test_a_handler_error_keeps_the_environment(patched_aws: LocalAws) -> None:
    name = _function(patched_aws)
    first, _ = invoke(patched_aws, name)
    failed, error = invoke(patched_aws, name, {"fail": True})
    assert error is not None and failed["errorMessage"] == "asked to fail"
    after, _ = invoke(patched_aws, name)
    assert after["pid"] == first["pid"] and after["invocations"] == 3


@pytest.mark.parametrize(
    ("event", "message"),
    [({"exit": True}, "Runtime exited with status 3"), ({"sleep": 5}, "Task timed out after 2.00 seconds")],
)
def test_an_exit_or_a_timeout_ends_the_environment(
    patched_aws: LocalAws, event: dict[str, Any], message: str
) -> None:
    name = _function(patched_aws, timeout=2)
    first, _ = invoke(patched_aws, name)
    ended, error = invoke(patched_aws, name, event)
    assert error is not None and message in ended["errorMessage"], ended
    after, _ = invoke(patched_aws, name)
    assert after["pid"] != first["pid"] and after["invocations"] == 1


def test_warm_environments_can_be_turned_off(tmp_path: Path) -> None:
    with LocalAws(port=0, state_dir=tmp_path / "state", extra_env={workers.WARM_ENV: "0"}) as aws:
        name = _function(aws)
        first, _ = invoke(aws, name)
        second, _ = invoke(aws, name)
        assert second["pid"] != first["pid"] and second["invocations"] == 1
        assert [r["warm"] for r in _records(aws, name)] == [False, False]


@pytest.mark.parametrize("value", ["yes", "2", "true"])
def test_a_bad_warm_setting_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(workers.WARM_ENV, value)
    with pytest.raises(ValueError, match=rf"^{workers.WARM_ENV}=.*: 1 \(reuse .*\) or 0$"):
        workers.warm_enabled()
