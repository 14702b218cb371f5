"""The IAM gate: a WSGI layer in front of moto that authorizes every signed request as AWS would.

For each request: who signed it (``principals``), which operation it is (moto's own botocore-model
router), what IAM sees of it (``mapping``), then one ``evaluator.evaluate`` per authorization with
the caller's identity policies and the resource's policy. A denial is answered in the service's
own error shape (S3's 403 ``AccessDenied`` XML, a JSON service's ``AccessDeniedException``, a query
service's ``ErrorResponse``) with AWS's message, and logged in one line; moto never sees the request.
moto's own ``access_control`` is never consulted (it stays off: ``INITIAL_NO_AUTH_ACTION_COUNT``).

S3's rule for a missing key: GetObject/HeadObject of a key that does not exist is 403 AccessDenied,
not 404, unless the caller may ``s3:ListBucket`` the bucket (evaluated with no ``s3:prefix``).

Cost: an administrator's request to a service whose resources carry no policy that could deny it
is passed on with no evaluation at all; evaluations are cached (``evaluator``).
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl

from local_aws import settings
from local_aws.iam import evaluator, mapping, principals

LOGGER = logging.getLogger("local_aws.iam")
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_CREDENTIAL: Final = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
# SigV4 signing name -> botocore service name (where they differ).
SIGNING_NAMES: Final = {"monitoring": "cloudwatch", "states": "stepfunctions", "bedrock": "bedrock-runtime"}
# Services whose resources carry policies that could deny an administrator (or that need the
# resource's own allow even for one: a trust policy, a key policy).
_ADMIN_EVALUATED: Final = frozenset({"s3", "sns", "kms", "lambda", "sts", "ssm"})
# Denials are answered with these codes (service: code, HTTP status).
_QUERY_CODES: Final = {"sns": ("AuthorizationError", 403)}
STATS_LOCK = threading.Lock()
# Served at /_local_aws/iam-stats: what enforcement costs (signed requests seen, evaluations run,
# seconds spent deciding).
STATS: dict[str, float] = {"requests": 0, "evaluated": 0, "denied": 0, "audited": 0, "gate_s": 0.0}


@dataclass(frozen=True)
class Denial:
    principal: str
    authorization: mapping.Authorization
    decision: evaluator.Decision
    operation: str

    @property
    def message(self) -> str:
        a = self.authorization
        return self.decision.aws_message(self.principal, a.action, a.resource)

    def log_line(self, verb: str) -> str:
        a = self.authorization
        context = json.dumps(dict(a.context), sort_keys=True, default=str)
        return (
            f"IAM {verb}: principal={self.principal} action={a.action} resource={a.resource} "
            f"context={context} operation={self.operation} step={self.decision.step or 'mapping'}: "
            f"{self.decision.reason}"
        )


def _credential(environ: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(access key, region, signing name) of a SigV4 request (header or presigned query)."""
    source = environ.get("HTTP_AUTHORIZATION") or ""
    if not source:
        query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
        source = f"Credential={query['X-Amz-Credential']}" if "X-Amz-Credential" in query else ""
    match = _CREDENTIAL.search(source)
    return (match.group(1), match.group(2), match.group(3)) if match else None


def _read_body(environ: dict[str, Any]) -> bytes:
    """The body, read once; moto then reads it again from a fresh stream."""
    length = environ.get("CONTENT_LENGTH")
    stream = environ["wsgi.input"]
    if length:
        body: bytes = stream.read(int(length))
    elif environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
        body = stream.read()  # werkzeug's server ends a chunked stream
    else:
        return b""  # no body (a GET): reading would wait for the client's next request
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def api_call(environ: dict[str, Any], service: str, region: str, body: bytes) -> mapping.ApiCall:
    """The operation (moto's router over botocore's model) and its parameters, flattened."""
    from moto.core.request import Request
    from moto.core.routing import get_service_router
    from moto.core.utils import get_service_model
    from werkzeug.exceptions import NotFound

    request = Request({**environ, "wsgi.input": io.BytesIO(body)})
    try:
        operation, uri_params = get_service_router(service).match(request)
    except NotFound:
        # The JS SDK (the CDK CLI) may send a short X-Amz-Target ("CloudTrail_20131101.LookupEvents")
        # where moto's router expects the model's full target prefix: the operation is its last part.
        target = request.headers.get("X-Amz-Target", "")
        if not target:
            raise
        model = get_service_model(service)
        operation, uri_params = model.operation_model(target.rsplit(".", 1)[-1]), {}
    params: dict[str, Any] = {}
    content_type = (request.content_type or "").split(";")[0]
    if content_type == "application/x-www-form-urlencoded":
        params.update(mapping.flatten_query(dict(parse_qsl(body.decode(errors="replace")))))
    elif "json" in content_type and body:
        params.update(mapping.parse_json_body(body))
    query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    headers = {k.lower(): v for k, v in request.headers.items()}
    shape = operation.input_shape
    for member, member_shape in shape.members.items() if shape is not None else []:
        location = member_shape.serialization.get("location")
        name = member_shape.serialization.get("name", member)
        if location == "uri" and name in uri_params:
            params[member] = uri_params[name]
        elif location == "querystring" and name in query:
            params[member] = query[name]
        elif location == "header" and name.lower() in headers:
            params[member] = headers[name.lower()]
    return mapping.ApiCall(service, operation.name, region, params, headers, body)


def _decide(
    principal: principals.Principal, call: mapping.ApiCall, auth: mapping.Authorization
) -> evaluator.Decision:
    policy = principals.resource_policy(auth.policy, principal.account) if auth.policy is not None else None
    if principal.is_admin:
        kind = auth.policy.kind if auth.policy is not None else None
        needs_resource_allow = kind in ("kms-key", "iam-role-trust")
        if not needs_resource_allow and (policy is None or '"Deny"' not in json.dumps(policy)):
            return evaluator.Decision(True, "allowed (administrator)")
        identity: list[dict[str, Any]] = [principals.ADMIN_POLICY]
        boundaries: list[dict[str, Any]] = []
    else:
        identity, boundaries = principals.role_policies(principal.account, str(principal.role_name))
    with STATS_LOCK:
        STATS["evaluated"] += 1
    request = evaluator.IamRequest(principal.arn, auth.action, auth.resource, auth.context)
    try:
        return evaluator.evaluate(
            request,
            identity_policies=identity,
            resource_policy=policy,
            resource_account=principal.account if auth.resource.startswith("arn:aws:s3:") else None,
            permission_boundaries=boundaries,
            region=call.region,
        )
    except evaluator.IamEvaluationError as err:
        return evaluator.Decision(False, f"the evaluator refused the request: {err}", "evaluator")


def _object_missing(account: str, bucket: str, key: str) -> bool:
    from moto.s3.models import s3_backends

    found = s3_backends[account][principals.PARTITION].buckets.get(bucket)
    return found is not None and found.keys.get(key) is None


def denials_for(principal: principals.Principal, call: mapping.ApiCall) -> list[Denial]:
    """What stops ``call`` by ``principal`` (first denial only; empty: allowed)."""
    operation = f"{call.service}:{call.operation}"
    try:
        auths = mapping.authorizations(call, principals.MotoLookup(principal.account))
    except mapping.NoMappingError as err:
        if principal.is_admin:
            return []
        unmapped = mapping.Authorization(
            f"{mapping.IAM_PREFIX.get(call.service, call.service)}:{call.operation}", "*"
        )
        return [Denial(principal.arn, unmapped, evaluator.Decision(False, str(err), "mapping"), operation)]
    for auth in auths:
        decision = _decide(principal, call, auth)
        if not decision.allowed:
            return [Denial(principal.arn, auth, decision, operation)]
    if call.service == "s3" and call.operation in ("GetObject", "HeadObject") and not principal.is_admin:
        bucket, key = str(call.param("Bucket")), str(call.param("Key"))
        if _object_missing(principal.account, bucket, key):
            list_bucket = mapping.Authorization(
                "s3:ListBucket", f"arn:aws:s3:::{bucket}", {"s3:ResourceAccount": principal.account},
                mapping.PolicyRef("s3-bucket", bucket),
            )  # fmt: skip
            decision = _decide(principal, call, list_bucket)
            if not decision.allowed:
                # AWS answers 403 for the object (the caller may not learn it is missing).
                return [Denial(principal.arn, list_bucket, decision, operation)]
    return []


def _error_response(
    call: mapping.ApiCall | None, service: str, denial: Denial, method: str
) -> tuple[str, list[tuple[str, str]], bytes]:
    request_id = str(uuid.uuid4())
    message = denial.message if denial.decision.step != "mapping" else denial.decision.reason
    content_type = (call.header("content-type") if call else "") or ""
    if service == "s3":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
            f"<Message>{_xml(message)}</Message><RequestId>{request_id}</RequestId></Error>"
        ).encode()
        return (
            "403 Forbidden",
            [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)],
            b"" if method == "HEAD" else body,
        )
    if content_type.startswith("application/x-www-form-urlencoded"):
        code, status = _QUERY_CODES.get(service, ("AccessDenied", 403))
        body = (
            "<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{code}</Code><Message>{_xml(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        return f"{status} Forbidden", [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body
    headers = [("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", "AccessDeniedException")]
    if content_type.startswith("application/cbor"):
        payload = _cbor_map({"__type": "AccessDeniedException", "message": message})
        return (
            "400 Bad Request",
            [*headers, ("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")],
            payload,
        )
    if content_type.startswith("application/x-amz-json"):
        body = json.dumps({"__type": "AccessDeniedException", "message": message}).encode()
        return "400 Bad Request", [*headers, ("Content-Type", "application/x-amz-json-1.1")], body
    # rest-json (Lambda, Bedrock, Scheduler): 403 and the error type in a header.
    body = json.dumps({"Type": "User", "message": message, "Message": message}).encode()
    return "403 Forbidden", [*headers, ("Content-Type", "application/json")], body


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cbor_text(text: str) -> bytes:
    data = text.encode()
    return _cbor_head(3, len(data)) + data


def _cbor_head(major: int, length: int) -> bytes:
    if length < 24:
        return bytes([major << 5 | length])
    if length < 256:
        return bytes([major << 5 | 24, length])
    if length < 65536:
        return bytes([major << 5 | 25]) + length.to_bytes(2, "big")
    return bytes([major << 5 | 26]) + length.to_bytes(4, "big")


def _cbor_map(values: Mapping[str, str]) -> bytes:
    """A CBOR map of text to text (CloudWatch's rpc-v2-cbor error body): no library for two strings."""
    return _cbor_head(5, len(values)) + b"".join(_cbor_text(k) + _cbor_text(v) for k, v in values.items())


class IamGate:
    """WSGI middleware: authorizes, then hands the request to moto (or answers the denial)."""

    def __init__(self, app: WsgiApp, mode: str) -> None:
        self._app = app
        self.mode = mode
        if mode != "off":
            # moto's IAM/STS models and the router take about a second to import: at start, not in
            # the first requests (a cold emulator's first calls would otherwise be that much slower).
            import moto.core.routing
            import moto.iam.models
            import moto.sts.models  # noqa: F401

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        answer = self._gate(environ)
        with STATS_LOCK:
            STATS["gate_s"] += time.perf_counter() - started
        if answer is None:
            return self._app(environ, start_response)
        status, headers, payload = answer
        start_response(status, [*headers, ("Content-Length", str(len(payload)))])
        return [payload]

    def _gate(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """None: hand the request to moto; else the denial to answer."""
        path = environ.get("PATH_INFO", "")
        if self.mode == "off" or path.startswith(("/moto-api", settings.INTERNAL_PREFIX)):
            return None
        credential = _credential(environ)
        if credential is None:
            return None  # unsigned: moto's own answer (see README)
        access_key, region, signing_name = credential
        service = SIGNING_NAMES.get(signing_name, signing_name)
        principal = principals.for_access_key(access_key)
        with STATS_LOCK:
            STATS["requests"] += 1
        if principal.is_admin and service not in _ADMIN_EVALUATED:
            return None
        # S3's parameters are in the path, query and headers (uploads stay streamed), but for a POST.
        s3_streamed = service == "s3" and environ.get("REQUEST_METHOD") != "POST"
        body = b"" if s3_streamed else _read_body(environ)
        try:
            call = api_call(environ, service, region, body)
        except Exception:  # noqa: BLE001  # no operation of the model matches: moto answers it
            if principal.is_admin:
                return None
            call = None
        if call is None:
            unknown = mapping.Authorization(f"{service}:<unknown operation>", "*")
            reason = f"no IAM mapping for {service}:{environ.get('REQUEST_METHOD')} {path}"
            found = [Denial(principal.arn, unknown, evaluator.Decision(False, reason, "mapping"), service)]
        else:
            try:
                found = denials_for(principal, call)
            except Exception as err:  # a defect of the gate: refused, never silently allowed
                LOGGER.exception("IAM evaluation of %s:%s failed", call.service, call.operation)
                failed = mapping.Authorization(f"{call.service}:{call.operation}", "*")
                reason = f"IAM evaluation failed: {type(err).__name__}: {err}"
                found = [
                    Denial(
                        principal.arn, failed, evaluator.Decision(False, reason, "evaluator"), call.operation
                    )
                ]
        if not found:
            return None
        denial = found[0]
        if self.mode == "audit":
            with STATS_LOCK:
                STATS["audited"] += 1
            LOGGER.warning(denial.log_line("AUDIT (would deny)"))
            return None
        with STATS_LOCK:
            STATS["denied"] += 1
        LOGGER.warning(denial.log_line("DENY"))
        return _error_response(call, service, denial, environ.get("REQUEST_METHOD", "GET"))
