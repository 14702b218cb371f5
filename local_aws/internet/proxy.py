"""The forward proxy the functions' HTTP(S) traffic goes through (``HTTPS_PROXY``/``HTTP_PROXY``).

Plain ``http://`` requests arrive with an absolute URI; ``https://`` ones as a ``CONNECT`` tunnel,
whose TLS the proxy terminates with a certificate for the host signed by the local CA. Either way
the request's URL is answered from the recordings (``store``), never from the network: a URL
without a recording gets its connection closed without an answer, which a client sees as an
unreachable host (logged once per URL).

The proxy's own paths (a request with a relative URI, outside a tunnel): ``GET
/_local_aws/requests`` lists what it was asked (url, answer), oldest first.
"""

from __future__ import annotations

import json
import logging
import socketserver
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from local_aws.internet import dates, store
from local_aws.internet.ca import CertificateAuthority

LOGGER = logging.getLogger("local_aws.internet")
REQUESTS_PATH = "/_local_aws/requests"
MAX_LOGGED_REQUESTS = 2000
UNREACHABLE = "unreachable (no recording)"


@dataclass
class Internet:
    """The recordings of ``folders`` served through a proxy on ``host``:``port``."""

    folders: list[Path]
    ca: CertificateAuthority
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    _answered: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _warned: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # --- answers -------------------------------------------------------------------------------
    def recordings(self) -> list[store.Recording]:
        # Read at each request: an edited recording is served at once, without a restart.
        recordings, errors = store.load(self.folders)
        for error in errors:
            self._once(error, f"recording skipped: {error}")
        return recordings

    def _once(self, key: str, message: str) -> None:
        with self._lock:
            if key in self._warned:
                return
            self._warned.add(key)
        LOGGER.warning(message)

    def _log(self, url: str, outcome: str) -> None:
        with self._lock:
            self.requests.append({"url": url, "answer": outcome, "at": time.time()})
            del self.requests[:-MAX_LOGGED_REQUESTS]

    def answer(self, url: str) -> tuple[store.Recording, int] | None:
        """The recording for ``url`` and the status to answer (``fail-first`` counted), or None."""
        try:
            recording = store.find(self.recordings(), url)
        except ValueError:
            recording = None
        if recording is None:
            self._once(url, f"no recording for {url}: answered as an unreachable host")
            self._log(url, UNREACHABLE)
            return None
        with self._lock:
            served = self._answered[recording.url]
            self._answered[recording.url] += 1
        status = recording.fail_first[served] if served < len(recording.fail_first) else recording.status
        self._log(url, f"{status} ({recording.path.name})")
        return recording, status

    def knows_host(self, host: str, port: int) -> bool:
        return store.knows_host(self.recordings(), host, port)

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> Internet:
        self._server = _ProxyServer((self.host, self.port), _Handler, self)
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, name="local-internet", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[_Handler], internet: Internet) -> None:
        self.internet = internet
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the functions' sessions expect
    server: _ProxyServer
    tunnel: tuple[str, int] | None = None

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  # the base's signature
        return  # the proxy logs what it answered itself (Internet._log)

    def do_CONNECT(self) -> None:  # noqa: N802  # http.server's naming
        host, _, port_text = self.path.rpartition(":")
        port = int(port_text) if port_text.isdigit() else 443
        if not self.server.internet.knows_host(host, port):
            url = f"https://{host}" + ("" if port == 443 else f":{port}") + "/"
            self.server.internet._once(host, f"no recording for host {host}:{port}: unreachable")
            self.server.internet._log(url, UNREACHABLE)
            self.close_connection = True
            return
        self.send_response(200, "Connection Established")
        self.end_headers()
        self.wfile.flush()
        try:
            tls = self.server.internet.ca.server_context(host).wrap_socket(self.connection, server_side=True)
        except (OSError, ValueError) as err:
            LOGGER.warning("TLS with a client for %s failed: %s", host, err)
            self.close_connection = True
            return
        # The rest of this connection is the client's requests inside the tunnel.
        self.connection = tls
        self.rfile = tls.makefile("rb")
        self.wfile = socketserver._SocketWriter(tls)  # type: ignore[attr-defined]  # what StreamRequestHandler uses
        self.tunnel = (host, port)
        self.close_connection = False

    def do_GET(self) -> None:  # noqa: N802
        self._serve(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(head=True)

    def _serve_with_body(self) -> None:
        # A recording answers its URL whatever the method; the request's body is read and ignored
        # (the connection stays usable for the client's next request).
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._serve(head=False)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve_with_body  # noqa: N815

    def _url(self) -> str | None:
        if self.tunnel is not None:
            host, port = self.tunnel
            return f"https://{host}" + ("" if port == 443 else f":{port}") + self.path
        return self.path if self.path.startswith(("http://", "https://")) else None

    def _serve(self, *, head: bool) -> None:
        url = self._url()
        if url is None:
            self._own_path()
            return
        found = self.server.internet.answer(url)
        if found is None:
            self.close_connection = True  # no answer at all: what an unreachable host gives
            return
        recording, status = found
        if recording.delay_s:
            time.sleep(recording.delay_s)
        body = b""
        if status == recording.status:
            try:
                body = dates.render(recording.body.decode("utf-8"), dates.today_utc()).encode("utf-8")
            except UnicodeDecodeError:
                body = recording.body  # not text: served as recorded
        try:
            self.send_response(status)
            self.send_header("Content-Type", recording.content_type)
            for name, value in recording.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (its read timeout, for a slow recording)

    def _own_path(self) -> None:
        if self.path.split("?", 1)[0] == REQUESTS_PATH:
            with self.server.internet._lock:
                body = json.dumps(self.server.internet.requests).encode()
            status = 200
        else:
            body = b"a forward proxy: ask for an absolute http:// URL, or CONNECT for https://\n"
            status = 400
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if status == 200 else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
