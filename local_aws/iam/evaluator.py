"""IAM decisions by @cloud-copilot/iam-simulate, run as one long-lived Node.js process.

The API (``IamRequest``, ``Decision``, ``evaluate``) is what the emulator's enforcement and the
decision corpus in the tests use. The evaluation itself is not written here: the pinned npm package
(``package.json``) implements AWS's policy evaluation logic (identity and resource-based policies,
every condition operator, the KMS key-policy and role trust-policy rules, permission boundaries),
and ``evaluator_server.cjs`` serves it as JSON lines on stdin/stdout. The process is started on the
first evaluation, restarted if it dies, and shared by the server's threads (one request at a time
on the pipe, under a lock; an evaluation takes well under a millisecond, the answers are cached).
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from local_aws import settings

SERVER_SCRIPT: Final = Path(__file__).with_name("evaluator_server.cjs")
NODE: Final = settings.PROJECT_NODE_BIN / "node"
# Answers kept (the same role calling the same action on the same resource, again and again).
CACHE_SIZE: Final = 4096
# Context keys whose value changes on every request: left out of the cache key unless a policy
# reads them.
_VOLATILE_KEYS: Final = ("aws:CurrentTime", "aws:EpochTime")

ContextValue = str | Sequence[str]


class IamEvaluationError(RuntimeError):
    """The evaluator refused its input (a policy, an action, an ARN or a context key), or died."""


@dataclass(frozen=True)
class IamRequest:
    principal: str  # caller ARN: a role, an assumed-role session, a service principal, the admin
    action: str  # "s3:ListBucket"
    resource: str  # an ARN, or "*" for actions that take none
    context: Mapping[str, ContextValue] = field(default_factory=dict)  # condition keys


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # one line: "allowed", "no identity-based policy allows the action", ...
    # Which policy type decided a denial: "identity", "resource", "pb", ... ("" when allowed).
    step: str = ""
    explicit: bool = False

    def aws_message(self, principal: str, action: str, resource: str) -> str:
        """The message AWS puts in its AccessDenied answer for this denial."""
        head = f"User: {principal} is not authorized to perform: {action} on resource: {resource}"
        kind = _POLICY_KIND.get(self.step, "identity-based")
        if self.explicit:
            return f"{head} with an explicit deny in {_article(kind)} {kind} policy"
        return f"{head} because no {kind} policy allows the {action} action"


_POLICY_KIND: Final = {
    "identity": "identity-based",
    "resource": "resource-based",
    "pb": "permissions boundary",
    "scp": "service control",
    "rcp": "resource control",
    "session": "session",
    "vpce": "VPC endpoint",
}


def _article(kind: str) -> str:
    return "an" if kind[0] in "aeiou" else "a"


def principal_account(principal: str) -> str | None:
    """The account of an IAM/STS ARN; None for a service principal."""
    parts = principal.split(":")
    if len(parts) >= 6 and parts[0] == "arn" and parts[4].isdigit():
        return parts[4]
    return None


def role_arn_of(principal: str) -> str:
    """``arn:aws:iam::A:role/path/name`` for an assumed-role session ARN; the ARN itself otherwise."""
    parts = principal.split(":", 5)
    if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        role_name = parts[5].split("/")[1]
        return f"arn:{parts[1]}:iam::{parts[4]}:role/{role_name}"
    return principal


def default_context(
    request: IamRequest, *, region: str | None = None, resource_account: str | None = None
) -> dict[str, ContextValue]:
    """The keys AWS sets on every request, under the request's own (which win)."""
    now = datetime.now(UTC)
    context: dict[str, ContextValue] = {
        # The local endpoint is plain HTTP on the loopback; it stands for AWS's TLS endpoints.
        "aws:SecureTransport": "true",
        "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(int(now.timestamp())),
        "aws:ViaAWSService": "false",
    }
    account = principal_account(request.principal)
    if account is not None:
        context["aws:PrincipalArn"] = role_arn_of(request.principal)
        context["aws:PrincipalAccount"] = account
        context["aws:PrincipalType"] = (
            "AssumedRole" if ":assumed-role/" in request.principal else
            "Account" if request.principal.endswith(":root") else "User"
        )  # fmt: skip
        context["aws:PrincipalIsAWSService"] = "false"
    elif request.principal.endswith(".amazonaws.com"):
        context["aws:PrincipalServiceName"] = request.principal
        context["aws:PrincipalIsAWSService"] = "true"
    if region:
        context["aws:RequestedRegion"] = region
    if resource_account and request.resource != "*":
        context["aws:ResourceAccount"] = resource_account
    context.update({k: _context_value(v) for k, v in request.context.items()})
    return context


def _context_value(value: ContextValue) -> ContextValue:
    return value if isinstance(value, str) else [str(v) for v in value]


class _NodeEvaluator:
    """The one node process; every call goes through ``ask`` under the lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._next_id = 0
        self._cache: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.evaluations = 0  # answered by the process (cache misses)

    def _start(self) -> subprocess.Popen[str]:
        if not NODE.exists():
            raise IamEvaluationError(f"the pinned Node.js is not installed ({NODE}): run `npm ci`")
        return subprocess.Popen(  # noqa: S603  # the pinned node, our own script
            [str(NODE), str(SERVER_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,  # the emulator's log
            text=True,
            bufsize=1,
            cwd=settings.REPO_ROOT,
        )

    def ask(self, simulation: dict[str, Any], cache_key: str | None) -> dict[str, Any]:
        with self._lock:
            if cache_key is not None and cache_key in self._cache:
                self._cache.move_to_end(cache_key)
                return self._cache[cache_key]
            answer = self._ask_locked(simulation)
            if cache_key is not None and "error" not in answer:
                self._cache[cache_key] = answer
                if len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
            return answer

    def _ask_locked(self, simulation: dict[str, Any]) -> dict[str, Any]:
        for attempt in (1, 2):  # a dead process is restarted once per request
            if self._process is None or self._process.poll() is not None:
                self._process = self._start()
            self._next_id += 1
            line = json.dumps({"id": self._next_id, "simulation": simulation}) + "\n"
            try:
                stdin, stdout = self._process.stdin, self._process.stdout
                if stdin is None or stdout is None:
                    raise OSError("no pipes")
                stdin.write(line)
                stdin.flush()
                reply = stdout.readline()
            except (BrokenPipeError, OSError):
                reply = ""
            if reply:
                answer: dict[str, Any] = json.loads(reply)
                if answer.get("id") != self._next_id:
                    raise IamEvaluationError(
                        f"the evaluator answered request {answer.get('id')}, not {self._next_id}"
                    )
                self.evaluations += 1
                return answer
            self._process = None
            if attempt == 2:
                raise IamEvaluationError("the IAM evaluator process exited (see the emulator's log)")
        raise AssertionError("unreachable")

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def close(self) -> None:
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                if self._process.stdin is not None:
                    self._process.stdin.close()
                try:
                    self._process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._process.kill()
            self._process = None


_EVALUATOR = _NodeEvaluator()


def evaluator_stats() -> dict[str, int]:
    return {"evaluations": _EVALUATOR.evaluations, "cached": len(_EVALUATOR._cache)}


def shutdown() -> None:
    _EVALUATOR.close()


def _named(policies: Sequence[Mapping[str, Any]], prefix: str) -> list[dict[str, Any]]:
    """iam-simulate's ``{"name", "policy"}``; a bare policy document gets a numbered name."""
    named = []
    for index, policy in enumerate(policies):
        if "policy" in policy and "name" in policy:
            named.append({"name": str(policy["name"]), "policy": _document(policy["policy"])})
        else:
            named.append({"name": f"{prefix}{index + 1}", "policy": _document(policy)})
    return named


def _document(policy: Any) -> Any:
    return json.loads(policy) if isinstance(policy, str) else policy


def evaluate(
    request: IamRequest,
    *,
    identity_policies: Sequence[Mapping[str, Any]],
    resource_policy: Mapping[str, Any] | str | None = None,
    resource_account: str | None = None,
    permission_boundaries: Sequence[Mapping[str, Any]] = (),
    region: str | None = None,
    with_default_context: bool = True,
) -> Decision:
    """Would AWS allow ``request``, given the caller's identity policies and the resource's policy?

    ``identity_policies``: policy documents, or ``{"name": ..., "policy": ...}``. ``resource_policy``:
    the bucket/topic/function policy, the KMS key policy (for ``kms:`` actions the key policy must
    allow, directly or through the account root), or the role's trust policy (``sts:AssumeRole``).
    ``resource_account`` defaults to the account in the resource ARN (S3 ARNs have none: the
    principal's). The request context gets AWS's defaults (``default_context``) under its own keys.
    Raises ``IamEvaluationError`` when the evaluator refuses the input.
    """
    account = resource_account or principal_account(request.resource) or principal_account(request.principal)
    context = (
        default_context(request, region=region, resource_account=account)
        if with_default_context
        else dict(request.context)
    )
    simulation: dict[str, Any] = {
        "request": {
            "principal": request.principal,
            "action": request.action,
            "resource": {"resource": request.resource, "accountId": account or settings.ACCOUNT_ID},
            "contextVariables": context,
        },
        "identityPolicies": _named(identity_policies, "identity-policy-"),
        "serviceControlPolicies": [],
        "resourceControlPolicies": [],
    }
    if resource_policy is not None:
        simulation["resourcePolicy"] = _document(resource_policy)
    if permission_boundaries:
        simulation["permissionBoundaryPolicies"] = _named(permission_boundaries, "boundary-")
    answer = _EVALUATOR.ask(simulation, _cache_key(simulation))
    if "error" in answer:
        raise IamEvaluationError(
            f"{request.action} on {request.resource} by {request.principal}: {answer['error']}"
        )
    # A service principal has no identity policies: its denial is the resource policy's (a trust
    # policy, a function policy) that did not name it.
    return _decision(
        answer, prefer="resource" if principal_account(request.principal) is None else "identity"
    )


def _cache_key(simulation: dict[str, Any]) -> str:
    text = json.dumps(simulation, sort_keys=True)
    if any(key in text.replace(f'"{key}": ', "") for key in _VOLATILE_KEYS):
        return text  # never a hit: a policy reads the time  # pragma: no cover
    context = simulation["request"]["contextVariables"]
    stable = {k: v for k, v in context.items() if k not in _VOLATILE_KEYS}
    return json.dumps(
        {**simulation, "request": {**simulation["request"], "contextVariables": stable}}, sort_keys=True
    )


def _decision(answer: Mapping[str, Any], prefer: str) -> Decision:
    result = answer["result"]
    if result == "Allowed":
        return Decision(True, "allowed")
    denials = list(answer.get("denials") or [])
    explicit = result == "ExplicitlyDenied"
    wanted = "Explicit" if explicit else "Implicit"
    ranked = sorted(
        (d for d in denials if d.get("denialType") == wanted), key=lambda d: d.get("policyType") != prefer
    )
    chosen = ranked[0] if ranked else (denials[0] if denials else {})
    step = str(chosen.get("policyType", "identity"))
    kind = _POLICY_KIND.get(step, step)
    if explicit:
        where = chosen.get("statementId") or f"statement {chosen.get('statementIndex', '?')}"
        policy = chosen.get("policyIdentifier")
        named = f" ({policy}, {where})" if policy else f" ({where})"
        return Decision(False, f"explicit deny in {_article(kind)} {kind} policy{named}", step, True)
    return Decision(False, f"no {kind} policy allows the action", step, False)
