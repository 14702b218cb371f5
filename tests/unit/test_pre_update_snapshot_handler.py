"""The pre-update snapshot handler: each request type, the rollback case, both failure policies,
and the guarantee that CloudFormation always gets an answer (checked on a real HTTP PUT)."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

HANDLER_FILE = Path(__file__).resolve().parents[2] / "lambdas" / "pre_update_snapshot" / "handler.py"


def _load_handler() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pre_update_snapshot_handler", HANDLER_FILE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


handler_module = _load_handler()


class CloudFormationEndpoint:
    """A stand-in for CloudFormation's pre-signed response URL: records every PUT body."""

    def __init__(self, failures_first: int = 0) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.sizes: list[int] = []  # bytes of each body as received
        self.failures_left = failures_first
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:  # noqa: N802  # http.server naming
                length = int(self.headers["Content-Length"])
                raw = self.rfile.read(length)
                body = json.loads(raw.decode("utf-8"))
                if endpoint.failures_left > 0:
                    endpoint.failures_left -= 1
                    self.send_response(503)
                else:
                    endpoint.bodies.append(body)
                    endpoint.sizes.append(len(raw))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/response?X-Amz-Signature=x"

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def cfn() -> Iterator[CloudFormationEndpoint]:
    endpoint = CloudFormationEndpoint()
    yield endpoint
    endpoint.close()


class FakeEngine:
    """Records calls; the engine's own behaviour is tested in tests/fast and against the local AWS."""

    def __init__(self, services: FakeServices, env: str) -> None:
        self.services, self.env = services, env

    def create(self, name: str) -> str:
        time.sleep(self.services.delay)
        if self.services.error:
            raise self.services.error
        self.services.snapshots.append((self.env, name))
        return f"{name}_20261124_120000"

    def apply_retention(self) -> list[str]:
        self.services.retention_runs += 1
        return ["old_20260101_000000"]


class FakeServices(handler_module.Services):
    def __init__(
        self, *, status: str = "UPDATE_IN_PROGRESS", error: Exception | None = None, delay: float = 0
    ):
        self.status, self.error, self.delay = status, error, delay
        self.snapshots: list[tuple[str, str]] = []
        self.retention_runs = 0

    def engine(self, env: str) -> FakeEngine:
        return FakeEngine(self, env)

    def stack_status(self, stack_id: str) -> str:
        return self.status


class Context:
    def __init__(self, remaining_s: float) -> None:
        self.deadline = time.monotonic() + remaining_s

    def get_remaining_time_in_millis(self) -> int:
        return int((self.deadline - time.monotonic()) * 1000)


def event(request_type: str, url: str, policy: str = "fail", **extra: Any) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:eu-west-3:123456789012:stack/vectora-inbox-s1-runtime-dev/abc",
        "RequestId": "req-1",
        "LogicalResourceId": "PreUpdateSnapshot",
        "ResourceType": "Custom::PreUpdateSnapshot",
        "ResourceProperties": {
            "ServiceToken": "arn:aws:lambda:eu-west-3:123456789012:function:x",
            "Env": "dev",
            "StackName": "vectora-inbox-s1-runtime-dev",
            "FailurePolicy": policy,
            "Fingerprint": "b" * 64,
        },
        **extra,
    }


def invoke(ev: dict[str, Any], services: FakeServices, remaining_s: float = 300) -> dict[str, Any]:
    return handler_module.make_handler(lambda: services)(ev, Context(remaining_s))


def test_create_takes_a_baseline_snapshot(cfn: CloudFormationEndpoint) -> None:
    services = FakeServices()
    invoke(event("Create", cfn.url), services)
    assert services.snapshots == [("dev", "baseline_vectora-inbox-s1-runtime-dev")]
    (body,) = cfn.bodies
    assert body["Status"] == "SUCCESS"
    assert body["Data"] == {"SnapshotId": "baseline_vectora-inbox-s1-runtime-dev_20261124_120000"}
    assert body["PhysicalResourceId"] == "vectora-inbox-s1-runtime-dev-pre-update-snapshot"
    assert (body["RequestId"], body["LogicalResourceId"]) == ("req-1", "PreUpdateSnapshot")
    assert services.retention_runs == 0


def test_update_snapshots_the_state_before_the_update_then_applies_retention(
    cfn: CloudFormationEndpoint,
) -> None:
    services = FakeServices()
    ev = event(
        "Update",
        cfn.url,
        PhysicalResourceId="vectora-inbox-s1-runtime-dev-pre-update-snapshot",
        OldResourceProperties={"Fingerprint": "a" * 64},
    )
    invoke(ev, services)
    assert services.snapshots == [("dev", "pre_deploy_vectora-inbox-s1-runtime-dev")]
    assert services.retention_runs == 1
    (body,) = cfn.bodies
    assert body["Status"] == "SUCCESS"
    assert body["Data"]["SnapshotId"].startswith("pre_deploy_vectora-inbox-s1-runtime-dev_")
    # the physical id never changes, so CloudFormation never replaces (and deletes) the resource
    assert body["PhysicalResourceId"] == "vectora-inbox-s1-runtime-dev-pre-update-snapshot"
    assert "retention removed 1" in body["Reason"]


def test_update_during_a_rollback_takes_no_snapshot(cfn: CloudFormationEndpoint) -> None:
    services = FakeServices(status="UPDATE_ROLLBACK_IN_PROGRESS")
    invoke(event("Update", cfn.url, PhysicalResourceId="p"), services)
    assert services.snapshots == [] and services.retention_runs == 0
    (body,) = cfn.bodies
    assert body["Status"] == "SUCCESS" and "rolling back" in body["Reason"]


def test_delete_does_nothing_and_succeeds_even_when_the_engine_is_broken(cfn: CloudFormationEndpoint) -> None:
    services = FakeServices(error=RuntimeError("backups bucket gone"))
    invoke(event("Delete", cfn.url, PhysicalResourceId="p"), services)
    assert services.snapshots == []
    (body,) = cfn.bodies
    assert body["Status"] == "SUCCESS" and body["PhysicalResourceId"] == "p"


def test_an_unknown_request_type_is_a_clear_failure(cfn: CloudFormationEndpoint) -> None:
    invoke(event("Replace", cfn.url), FakeServices(), remaining_s=300)
    (body,) = cfn.bodies
    assert body["Status"] == "FAILED"
    assert body["Reason"] == "unknown RequestType 'Replace': expected Create, Update or Delete"


@pytest.mark.parametrize(("policy", "status"), [("fail", "FAILED"), ("warn", "SUCCESS")])
def test_a_failed_snapshot_follows_the_failure_policy(
    cfn: CloudFormationEndpoint, policy: str, status: str
) -> None:
    services = FakeServices(error=RuntimeError("bucket vectora-inbox-backups-dev does not exist"))
    invoke(event("Update", cfn.url, policy=policy, PhysicalResourceId="p"), services)
    (body,) = cfn.bodies
    assert body["Status"] == status
    assert "bucket vectora-inbox-backups-dev does not exist" in body["Reason"]
    assert services.retention_runs == 0


def test_it_answers_before_the_lambda_timeout_when_the_snapshot_hangs(cfn: CloudFormationEndpoint) -> None:
    # given a snapshot that would outlive the function (1 s left after the answer margin)
    services = FakeServices(delay=30)
    started = time.monotonic()
    invoke(
        event("Update", cfn.url, PhysicalResourceId="p"),
        services,
        remaining_s=handler_module.ANSWER_MARGIN_S + 1,
    )
    # then CloudFormation hears FAILED within about a second, not after 30 s
    assert time.monotonic() - started < 5
    (body,) = cfn.bodies
    assert body["Status"] == "FAILED" and "did not finish within" in body["Reason"]


def test_a_missing_engine_is_an_answer_too(
    cfn: CloudFormationEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the real Services import vectora_ops.snapshots lazily: an import error must still answer
    class BrokenServices(handler_module.Services):
        def engine(self, env: str) -> Any:
            raise ImportError("No module named 'vectora_ops.snapshots'")

        def stack_status(self, stack_id: str) -> str:
            return "UPDATE_IN_PROGRESS"

    handler_module.make_handler(BrokenServices)(
        event("Update", cfn.url, PhysicalResourceId="p"), Context(300)
    )
    (body,) = cfn.bodies
    assert body["Status"] == "FAILED" and "ImportError" in body["Reason"]


def test_the_answer_is_retried_on_a_transient_error() -> None:
    endpoint = CloudFormationEndpoint(failures_first=1)
    try:
        assert handler_module.send_response(endpoint.url, {"Status": "SUCCESS"}, attempts=3)
        assert endpoint.bodies == [{"Status": "SUCCESS"}]
    finally:
        endpoint.close()


@pytest.mark.parametrize(
    "text",
    ["x" * 10_000, "é" * 10_000, "快照失败" * 3_000, "😀" * 5_000, '"\\' * 5_000, "\x01" * 10_000],
    ids=["ascii", "latin", "cjk", "emoji", "escaped", "control"],
)
def test_long_reasons_are_cut_on_encoded_bytes_below_cloudformations_limit(
    cfn: CloudFormationEndpoint, text: str
) -> None:
    services = FakeServices(error=RuntimeError(text))
    invoke(event("Create", cfn.url), services)
    (body,), (size,) = cfn.bodies, cfn.sizes
    # CloudFormation refuses a body over 4096 bytes: the bytes as sent, whatever the language
    assert size < 4096
    reason = body["Reason"]
    assert reason.endswith("...") and len(reason) > 100
    # cut on a character boundary: what is kept is the start of the error, intact
    problem = reason.removeprefix("pre-update snapshot failed, update stopped (policy fail): RuntimeError: ")
    assert text.startswith(problem.removesuffix("..."))


def test_a_short_reason_is_sent_whole(cfn: CloudFormationEndpoint) -> None:
    services = FakeServices(error=RuntimeError("数据桶不存在"))
    invoke(event("Create", cfn.url), services)
    assert cfn.bodies[0]["Reason"].endswith("RuntimeError: 数据桶不存在")


def access_denied() -> Exception:
    from botocore.exceptions import ClientError

    error = {"Error": {"Code": "AccessDenied", "Message": "not authorized to perform: s3:ListBucket"}}
    return ClientError(error, "ListObjectsV2")


class DeniedFirst(FakeServices):
    """An engine whose first ``denials`` creates are refused (a role not yet effective)."""

    def __init__(self, denials: int, error: Exception | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.denials, self.first_error, self.attempts = denials, error or access_denied(), 0

    def engine(self, env: str) -> FakeEngine:
        services, inner = self, FakeEngine(self, env)

        class Engine:
            def create(self, name: str) -> str:
                services.attempts += 1
                if services.attempts <= services.denials:
                    raise services.first_error
                return inner.create(name)

            def apply_retention(self) -> list[str]:
                return inner.apply_retention()

        return Engine()  # type: ignore[return-value]


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handler_module, "ACCESS_DENIED_RETRY_DELAYS_S", (0.01, 0.01, 0.01, 0.01))


def test_the_first_create_retries_an_access_denied_of_a_new_role(cfn, quick_retries) -> None:
    services = DeniedFirst(denials=2)
    invoke(event("Create", cfn.url), services)
    assert services.attempts == 3
    (body,) = cfn.bodies
    assert body["Status"] == "SUCCESS" and body["Data"]["SnapshotId"].startswith("baseline_")


def test_the_access_denied_retries_are_bounded_then_the_failure_policy_applies(cfn, quick_retries) -> None:
    services = DeniedFirst(denials=99)
    invoke(event("Create", cfn.url), services)
    assert services.attempts == len(handler_module.ACCESS_DENIED_RETRY_DELAYS_S) + 1
    (body,) = cfn.bodies
    assert body["Status"] == "FAILED" and "AccessDenied" in body["Reason"]


@pytest.mark.parametrize(
    ("request_type", "error"),
    [
        ("Update", access_denied()),
        ("Create", RuntimeError("bucket vectora-inbox-backups-dev does not exist")),
    ],
    ids=["update-denied", "create-other-error"],
)
def test_only_the_first_create_retries_and_only_an_access_denied(
    cfn, quick_retries, request_type: str, error: Exception
) -> None:
    services = DeniedFirst(denials=1, error=error)
    invoke(event(request_type, cfn.url, PhysicalResourceId="p"), services)
    assert services.attempts == 1 and cfn.bodies[0]["Status"] == "FAILED"
