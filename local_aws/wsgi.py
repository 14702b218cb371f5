"""WSGI front of the emulator: the few paths it serves itself, then moto for everything else.

Served here (under ``/_local_aws/``):
- ``health``: readiness probe of the launcher;
- ``invocations[?function=<name>]`` (GET): what the last Lambda invocations ran with (layers,
  sys.path, environment), newest last;
- ``iam-stats`` (GET): what IAM enforcement cost so far (requests, evaluations, seconds);
- ``cfn-response/<request id>`` (PUT): custom-resource answers (see ``cfn_responses``);
- ``lambda-code/<region>/<function>`` and ``layer-content/<region>/<layer>/<version>`` (GET): the
  zips behind GetFunction ``Code.Location`` and GetLayerVersion ``Content.Location``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, unquote

from local_aws import cfn_responses, settings

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def lambda_code_path(region: str, function_name: str) -> str:
    return f"{settings.INTERNAL_PREFIX}/lambda-code/{region}/{function_name}"


def layer_content_path(region: str, layer_name: str, version: int) -> str:
    return f"{settings.INTERNAL_PREFIX}/layer-content/{region}/{layer_name}/{version}"


def _reply(start_response: StartResponse, status: str, body: bytes, content_type: str) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def _json(start_response: StartResponse, status: str, payload: Any) -> list[bytes]:
    return _reply(start_response, status, json.dumps(payload).encode(), "application/json")


def _read_body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length else b""


def _invocations(query: str) -> list[dict[str, Any]]:
    from local_aws.lambda_runtime.runner import RECENT_INVOCATIONS

    wanted = parse_qs(query).get("function")
    return [r for r in list(RECENT_INVOCATIONS) if not wanted or r["function_name"] in wanted]


def _zip_for(parts: list[str]) -> bytes | None:
    # Imported lazily: moto's backends are heavy and only needed once the server runs.
    from moto.awslambda.models import lambda_backends

    if parts[0] == "lambda-code" and len(parts) == 3:
        _, region, name = parts
        backend = lambda_backends[settings.ACCOUNT_ID][region]
        fn = backend.get_function(name)
        return bytes(fn.code_bytes)
    if parts[0] == "layer-content" and len(parts) == 4:
        _, region, name, version = parts
        backend = lambda_backends[settings.ACCOUNT_ID][region]
        return bytes(backend.get_layer_version(name, version).code_bytes)
    return None


# Hosts whose backend the dispatcher remembers (a few per service and region; S3's virtual-hosted
# names add one per bucket): past this many, the rest are looked up every time as moto does.
HOST_CACHE_SIZE = 4096


def moto_app() -> WsgiApp:
    """moto's dispatcher, remembering which backend serves each host.

    moto looks a request's backend up on every request, under one lock: a listing of its own
    package folder (``list_of_moto_modules``: about 150 ``isdir`` calls) and then a walk over every
    service's URL patterns, both for answers that never change while the server runs. Remembering
    them leaves the dispatch as it was (same backend, same Flask app) at a dictionary look-up.
    """
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    class HostCachingDispatcher(DomainDispatcherApplication):
        def __init__(self) -> None:
            super().__init__(create_backend_app)
            self._backends: dict[str | None, Any] = {}

        def get_backend_for_host(self, host: str | None) -> Any:
            # Called under the dispatcher's own lock (get_application): the dict needs none.
            if host in self._backends:
                return self._backends[host]
            backend = super().get_backend_for_host(host)
            if len(self._backends) < HOST_CACHE_SIZE:
                self._backends[host] = backend
            return backend

    return HostCachingDispatcher()


class LocalAwsApp:
    """Routes ``/_local_aws/...`` to the emulator's own handlers and the rest to moto."""

    def __init__(self, moto_app: WsgiApp) -> None:
        self._moto_app = moto_app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        if not path.startswith(settings.INTERNAL_PREFIX + "/"):
            return self._moto_app(environ, start_response)
        parts = [unquote(p) for p in path[len(settings.INTERNAL_PREFIX) + 1 :].split("/") if p]
        method = environ.get("REQUEST_METHOD", "GET")
        if parts == ["health"]:
            return _json(start_response, "200 OK", {"status": "running", "port": settings.current().port})
        if parts == ["iam-stats"] and method == "GET":
            from local_aws.iam import enforce, evaluator

            with enforce.STATS_LOCK:
                stats = dict(enforce.STATS)
            return _json(start_response, "200 OK", {**stats, **evaluator.evaluator_stats()})
        if parts == ["invocations"] and method == "GET":
            return _json(start_response, "200 OK", _invocations(environ.get("QUERY_STRING", "")))
        if parts and parts[0] == "cfn-response" and len(parts) == 2 and method in ("PUT", "POST"):
            try:
                cfn_responses.record(parts[1], _read_body(environ))
            except ValueError as err:
                return _json(start_response, "400 Bad Request", {"error": str(err)})
            return _reply(start_response, "200 OK", b"", "text/plain")
        if parts and method == "GET":
            try:
                data = _zip_for(parts)
            except Exception as err:  # noqa: BLE001  # any lookup failure is a 404 for the caller
                return _json(start_response, "404 Not Found", {"error": str(err)})
            if data is not None:
                return _reply(start_response, "200 OK", data, "application/zip")
        return _json(start_response, "404 Not Found", {"error": f"no such local_aws path: {path}"})
