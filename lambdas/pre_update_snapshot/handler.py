"""Pre-update snapshot: the custom resource each stack runs before CloudFormation updates it.

CloudFormation calls this function directly (the resource's ServiceToken is the function), so the
handler answers CloudFormation itself by PUTting to the pre-signed ``ResponseURL``. It answers on
every path - success, a snapshot error, an exception, a timeout about to hit, an unknown request
type - because a custom resource that never answers leaves its stack hanging for an hour.

- Create: a ``baseline_<stack>`` snapshot of the environment. On a fresh account the function's
  role may be seconds old and not yet effective everywhere (IAM is eventually consistent): an
  AccessDenied on this first snapshot is retried a few times (``ACCESS_DENIED_RETRY_DELAYS_S``),
  within the answer's deadline, before the failure policy applies.
- Update: a ``pre_deploy_<stack>`` snapshot of the state *before* the update, then retention.
  An Update sent while CloudFormation rolls back (old and new properties swapped) takes no
  snapshot and restores nothing: the stack is going back to the state that was just saved.
- Delete: nothing; snapshots outlive stacks.

Failure policy (``FailurePolicy`` property, from the environment's config): ``fail`` answers
FAILED so the update stops before anything changes (stage, prod); ``warn`` logs a warning and
answers SUCCESS (dev).

Only the stdlib and boto3 (the Lambda runtime's) are used; the snapshot engine is the very
``vectora_ops.snapshots.SnapshotEngine`` the operations scripts use, bundled next to this file.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

LOGGER = logging.getLogger("pre-update-snapshot")
LOGGER.setLevel(os.environ.get("LOG_LEVEL", "INFO"))

# Answer CloudFormation this long before the function's own timeout would cut us off.
ANSWER_MARGIN_S = 20.0
# CloudFormation rejects a response body over 4096 bytes: the Reason is cut so that the body, as
# sent (UTF-8), stays under this whatever the language of the error (a character is 1 to 4 bytes).
MAX_BODY_BYTES = 4000
# The first create's retries of an AccessDenied (a role seconds old), then the failure policy.
ACCESS_DENIED_RETRY_DELAYS_S: tuple[float, ...] = (2.0, 4.0, 8.0, 16.0)
ACCESS_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException"})
RESPONSE_ATTEMPTS = 4
RESOURCE_SUFFIX = "pre-update-snapshot"
FAIL, WARN = "fail", "warn"


@dataclass
class Outcome:
    """What the handler tells CloudFormation."""

    status: str  # SUCCESS | FAILED
    reason: str
    data: dict[str, str] = field(default_factory=dict)


class Snapshots(Protocol):
    """The two calls this handler makes on ``SnapshotEngine``."""

    def create(self, name: str) -> str: ...
    def apply_retention(self) -> list[str]: ...


class Services:
    """What the handler needs from AWS (replaced in tests): the snapshot engine of an environment,
    and a stack's status. The engine is imported on first use, so that even a broken bundle gets
    an answer to CloudFormation."""

    def engine(self, env: str) -> Snapshots:
        from vectora_ops.snapshots import SnapshotEngine

        return SnapshotEngine(env)

    def stack_status(self, stack_id: str) -> str:
        import boto3

        stacks = boto3.client("cloudformation").describe_stacks(StackName=stack_id)["Stacks"]
        return stacks[0]["StackStatus"] if stacks else ""


def is_rollback_status(status: str) -> bool:
    # UPDATE_ROLLBACK_IN_PROGRESS is what CloudFormation shows while it re-applies old properties.
    return "ROLLBACK" in status


def snapshot_outcome(event: dict[str, Any], services: Services) -> Outcome:
    """Decide and do what this request needs (no answer sent here)."""
    request_type = event.get("RequestType")
    props = event.get("ResourceProperties") or {}
    stack_name = str(props.get("StackName") or "")
    env = str(props.get("Env") or "")
    if request_type == "Delete":
        return Outcome("SUCCESS", "delete: nothing to do, snapshots outlive stacks", {"SnapshotId": "none"})
    if request_type not in ("Create", "Update"):
        return Outcome("FAILED", f"unknown RequestType {request_type!r}: expected Create, Update or Delete")
    if not stack_name or not env:
        return Outcome("FAILED", "missing resource property StackName or Env (template error)")
    if request_type == "Update":
        try:
            status = services.stack_status(str(event.get("StackId") or stack_name))
        except Exception as err:  # noqa: BLE001  # unknown status: a snapshot too many never hurts
            LOGGER.warning("could not read the stack status (%s); taking the snapshot", err)
            status = ""
        if is_rollback_status(status):
            return Outcome(
                "SUCCESS",
                f"{stack_name} is rolling back ({status}): no snapshot taken, nothing restored",
                {"SnapshotId": "none"},
            )
    name = f"{'baseline' if request_type == 'Create' else 'pre_deploy'}_{stack_name}"
    engine = services.engine(env)
    if request_type == "Create":
        snapshot_id = create_retrying_access_denied(engine, name)
    else:
        snapshot_id = engine.create(name)
    reason = f"snapshot {snapshot_id} taken before {request_type.lower()} of {stack_name}"
    if request_type == "Update":
        try:
            removed = engine.apply_retention()
            if removed:
                reason += f"; retention removed {len(removed)} old snapshot(s)"
        except Exception as err:  # noqa: BLE001  # the snapshot exists: retention can wait for the next one
            LOGGER.warning("retention failed after %s: %s", snapshot_id, err)
            reason += f"; retention failed: {err}"
    return Outcome("SUCCESS", reason, {"SnapshotId": snapshot_id})


def is_access_denied(err: BaseException) -> bool:
    """An AWS AccessDenied, from botocore's ClientError or wrapped in the engine's own error."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        response = getattr(current, "response", None)
        code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
        if code in ACCESS_DENIED_CODES or any(c in str(current) for c in ACCESS_DENIED_CODES):
            return True
        current = current.__cause__ or current.__context__
    return False


def create_retrying_access_denied(engine: Snapshots, name: str) -> str:
    """``engine.create(name)``, retrying an AccessDenied after each of ``ACCESS_DENIED_RETRY_DELAYS_S``:
    the first create runs seconds after its role was made. Any other error is raised at once."""
    for delay in (*ACCESS_DENIED_RETRY_DELAYS_S, None):
        try:
            return engine.create(name)
        except Exception as err:
            if delay is None or not is_access_denied(err):
                raise
            LOGGER.warning(
                "AccessDenied on the first snapshot (a new role?): retrying in %.0f s: %s", delay, err
            )
            time.sleep(delay)
    raise AssertionError("unreachable")


def apply_failure_policy(event: dict[str, Any], problem: str) -> Outcome:
    props = event.get("ResourceProperties") or {}
    policy = props.get("FailurePolicy", FAIL)
    if event.get("RequestType") == "Delete":
        return Outcome("SUCCESS", f"delete: {problem}", {"SnapshotId": "none"})
    if policy == WARN:
        LOGGER.warning("pre-update snapshot failed, deployment goes on (policy warn): %s", problem)
        return Outcome(
            "SUCCESS",
            f"WARNING snapshot failed, deploying anyway (dev policy): {problem}",
            {"SnapshotId": "none"},
        )
    return Outcome("FAILED", f"pre-update snapshot failed, update stopped (policy fail): {problem}")


def run_with_deadline(event: dict[str, Any], services: Services, seconds: float) -> Outcome:
    """``snapshot_outcome`` in a worker thread; the failure policy if it errs or runs out of time."""
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["outcome"] = snapshot_outcome(event, services)
        except Exception as err:  # noqa: BLE001  # every error must become an answer to CloudFormation
            LOGGER.exception("snapshot failed")
            box["error"] = f"{type(err).__name__}: {err}"

    worker = threading.Thread(target=work, name="snapshot", daemon=True)
    worker.start()
    worker.join(max(seconds, 0.0))
    if worker.is_alive():
        return apply_failure_policy(event, f"snapshot did not finish within {seconds:.0f}s")
    if "error" in box:
        return apply_failure_policy(event, box["error"])
    outcome: Outcome = box["outcome"]
    return outcome


def encode_body(body: dict[str, Any]) -> bytes:
    """The bytes PUT to CloudFormation: JSON in UTF-8 (not ASCII escapes, 6 to 12 bytes a character)."""
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def fit_reason(body: dict[str, Any], max_bytes: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """``body`` with its Reason cut, on a character boundary, so the encoded body is at most
    ``max_bytes`` (JSON escapes make a character up to 6 bytes: cut until it fits)."""
    reason = str(body.get("Reason", ""))
    while len(encoded := encode_body({**body, "Reason": reason})) > max_bytes and reason:
        raw = reason.removesuffix("...").encode("utf-8")
        # escapes make the encoded reason longer than its raw bytes: cut in proportion
        escaped = len(json.dumps(reason, ensure_ascii=False).encode("utf-8"))
        excess = -(-(len(encoded) - max_bytes) * len(raw) // max(escaped, 1))
        reason = raw[: max(0, len(raw) - excess - 3)].decode("utf-8", "ignore") + "..."
        if reason == "...":
            reason = ""
    return {**body, "Reason": reason}


def response_body(event: dict[str, Any], outcome: Outcome) -> dict[str, Any]:
    props = event.get("ResourceProperties") or {}
    physical_id = event.get("PhysicalResourceId") or f"{props.get('StackName', 'stack')}-{RESOURCE_SUFFIX}"
    return fit_reason(
        {
            "Status": outcome.status,
            "Reason": outcome.reason,
            "PhysicalResourceId": physical_id,
            "StackId": event.get("StackId"),
            "RequestId": event.get("RequestId"),
            "LogicalResourceId": event.get("LogicalResourceId"),
            "NoEcho": False,
            "Data": outcome.data,
        }
    )


def send_response(url: str, body: dict[str, Any], *, attempts: int = RESPONSE_ATTEMPTS) -> bool:
    """PUT the answer to CloudFormation's pre-signed URL, retrying transient errors."""
    payload = encode_body(body)
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(  # noqa: S310  # the URL is CloudFormation's pre-signed https URL
            url, data=payload, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(payload))}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  # see above
                response.read()
            return True
        except Exception as err:  # noqa: BLE001  # log and retry; nothing else can answer for us
            LOGGER.warning("answer to CloudFormation failed (attempt %d/%d): %s", attempt, attempts, err)
            time.sleep(min(2**attempt, 8) if attempt < attempts else 0)
    return False


def make_handler(
    services_factory: Callable[[], Services],
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        LOGGER.info(
            "request %s for %s",
            event.get("RequestType"),
            (event.get("ResourceProperties") or {}).get("StackName"),
        )
        remaining_s = context.get_remaining_time_in_millis() / 1000 if context else 300.0
        outcome = run_with_deadline(event, services_factory(), remaining_s - ANSWER_MARGIN_S)
        body = response_body(event, outcome)
        LOGGER.info("answering %s: %s", body["Status"], body["Reason"])
        url = event.get("ResponseURL")
        if url:
            send_response(url, body)
        else:
            LOGGER.error("no ResponseURL in the event: this was not a CloudFormation request")
        return body

    return handler


handler = make_handler(Services)
