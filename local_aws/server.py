"""Run the emulator (``serve``, in this process) or manage it as a background process (``LocalAws``).

``LocalAws`` is what the CLI, the pytest fixtures and any other tooling use: it starts the server
process on a port (a free one if asked), waits until it answers, and stops it by its own pid.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from local_aws import fork_server, settings

STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
SHUTDOWN_POLL_S = 0.05  # how soon the server loop sees a stop (socketserver's default: 0.5 s)
STATE_FILE = "server.json"
# werkzeug's access-log line of a 2xx/3xx answer: `... "GET /path HTTP/1.1" 200 -`
_SUCCESSFUL_REQUEST = re.compile(r' werkzeug: .*" [23]\d\d -$')
LOG_FILE = "server.log"


class LocalAwsError(RuntimeError):
    """The emulator could not be started, reached or stopped."""


def serve(port: int, state_dir: Path) -> None:
    """Apply the patches and serve moto + the emulator's own paths on 127.0.0.1:port (blocking)."""
    # moto reads these for the URLs it builds itself.
    os.environ["MOTO_PORT"] = str(port)
    os.environ.setdefault("AWS_DEFAULT_REGION", settings.DEFAULT_REGION)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings.configure(settings.ServerSettings(port=port, state_dir=state_dir))
    iam_mode = settings.iam_mode()  # a bad LOCAL_AWS_IAM stops the start, with one line

    import werkzeug.serving
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    from local_aws import http_headers, patches
    from local_aws.iam.enforce import IamGate
    from local_aws.wsgi import LocalAwsApp, moto_app

    # The log is a file: no ANSI colours in its access-log lines.
    werkzeug.serving._log_add_style = False  # type: ignore[attr-defined]  # werkzeug's own switch
    disabled = patches.disabled_from_env(os.environ.get(patches.DISABLE_ENV))
    applied = patches.apply_all(disabled)
    logging.getLogger("local_aws").info("patches applied: %s", ", ".join(applied))
    if disabled:
        logging.getLogger("local_aws").warning(
            "patches DISABLED (tests only): %s", ", ".join(sorted(disabled))
        )
    logging.getLogger("local_aws").info("IAM evaluation: %s (%s)", iam_mode, settings.IAM_ENV)
    http_headers.install()  # every request's headers, without the email package
    app = LocalAwsApp(IamGate(moto_app(), iam_mode))
    server = make_server(settings.BIND_HOST, port, app, threaded=True, request_handler=MotoRequestHandler)

    def stop(_signum: int, _frame: Any) -> None:
        # shutdown() waits for serve_forever to return: call it off the main thread.
        import threading

        threading.Thread(target=server.shutdown, daemon=True).start()

    from local_aws import internet

    internet.start(state_dir)  # the functions' HTTP(S) answered from recordings
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logging.getLogger("local_aws").info(
        "serving on %s (bound to %s)", settings.endpoint_url(port), settings.BIND_HOST
    )
    server.serve_forever(poll_interval=SHUTDOWN_POLL_S)
    from local_aws.iam import enforce, evaluator

    # What enforcement cost this run (also served at /_local_aws/iam-stats while it runs).
    logging.getLogger("local_aws").info("IAM stats: %s", {**enforce.STATS, **evaluator.evaluator_stats()})
    # Nothing is kept in memory that a clean interpreter exit would save (the state folder is
    # written as it goes), and unwinding moto's models took seconds after a long run: the exit
    # handlers (the Lambda workers, the IAM evaluator) run, the log is flushed, the process ends.
    atexit._run_exitfuncs()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((settings.BIND_HOST, 0))
        return int(sock.getsockname()[1])


def _healthy(port: int, timeout_s: float = 1.0) -> bool:
    url = f"{settings.endpoint_url(port)}{settings.INTERNAL_PREFIX}/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310  # http://localhost only
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # An exited child not yet reaped by its parent (a zombie) still answers kill(0).
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc: trust kill(0)
    return state != "Z"


@dataclass
class LocalAws:
    """The emulator as a background process: ``with LocalAws(port=0) as aws: ...``.

    ``port=None`` means ``LOCAL_AWS_PORT`` or 4566; ``port=0`` picks a free port. ``start()``
    re-uses a server already running from the same ``state_dir`` (that is what makes a second
    ``make local`` update the stacks in place); ``stop()`` stops it only if this object started it,
    unless ``force=True``.
    """

    port: int | None = None
    state_dir: Path = settings.DEFAULT_STATE_DIR
    startup_timeout_s: float = STARTUP_TIMEOUT_S
    # Patches to leave out (tests only: proves a patch's test fails without it).
    disabled_patches: tuple[str, ...] = ()
    # Variables set (or replaced) in the server process's environment, e.g. a PATH without python3.13.
    extra_env: dict[str, str] = field(default_factory=dict)
    _process: subprocess.Popen[bytes] | fork_server.ForkedServer | None = None
    _started_here: bool = False

    def __post_init__(self) -> None:
        self.state_dir = Path(self.state_dir).resolve()

    # --- where -------------------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.state_dir / STATE_FILE

    @property
    def log_path(self) -> Path:
        return self.state_dir / LOG_FILE

    @property
    def endpoint_url(self) -> str:
        return settings.endpoint_url(self._require_port())

    def _require_port(self) -> int:
        if not self.port:
            raise LocalAwsError("the local AWS is not started")
        return self.port

    def client_env(self, region: str = settings.DEFAULT_REGION) -> dict[str, str]:
        """Variables to add to a subprocess environment so that it talks to this emulator."""
        return settings.client_env(self._require_port(), region)

    def client(self, service: str, region: str = settings.DEFAULT_REGION, config: Any = None) -> Any:
        """A boto3 client for this emulator (same settings any script would use)."""
        import boto3

        env = self.client_env(region)
        return boto3.client(
            service,  # type: ignore[call-overload]  # any service name
            endpoint_url=env["AWS_ENDPOINT_URL"],
            region_name=region,
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            config=config,
        )

    def invocations(self, function_name: str | None = None) -> list[dict[str, Any]]:
        """What the last Lambda invocations ran with (layers, sys.path, environment), newest last."""
        query = f"?function={urllib.parse.quote(function_name)}" if function_name else ""
        url = f"{self.endpoint_url}{settings.INTERNAL_PREFIX}/invocations{query}"
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310  # http://localhost only
            return list(json.loads(response.read()))

    def log_tail(self, lines: int = 80, *, successful_requests: bool = False) -> str:
        """The end of the emulator's log; by default without the access-log lines of successful
        requests, which would otherwise fill the tail with polling and hide what went wrong."""
        if not self.log_path.exists():
            return "(no emulator log)"
        kept = self.log_path.read_text(errors="replace").splitlines()
        if not successful_requests:
            kept = [line for line in kept if not _SUCCESSFUL_REQUEST.search(line)]
        return "\n".join(kept[-lines:])

    # --- lifecycle ---------------------------------------------------------------------------
    def running(self) -> dict[str, int] | None:
        """``{"pid", "port"}`` of the server recorded in ``state_dir`` if it is up and answering."""
        try:
            recorded = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None
        pid, port = int(recorded.get("pid", 0)), int(recorded.get("port", 0))
        if pid and _alive(pid) and _healthy(port):
            return {"pid": pid, "port": port}
        return None

    def start(self) -> LocalAws:
        forbidden = os.environ.get(settings.FORBIDDEN_ENV)
        if forbidden:
            raise LocalAwsError(f"the local AWS may not start here: {forbidden}")
        existing = self.running()
        if existing is not None:
            if self.port not in (None, 0, existing["port"]):
                raise LocalAwsError(
                    f"a local AWS already runs from {self.state_dir} on port {existing['port']}, "
                    f"not {self.port}: stop it first (python -m local_aws down)"
                )
            self.port = existing["port"]
            return self
        if self.port is None:
            self.port = settings.port_from_env()
        elif self.port == 0:
            self.port = free_port()
        if _healthy(self.port):
            raise LocalAwsError(
                f"port {self.port} already answers: another emulator runs there (set LOCAL_AWS_PORT)"
            )
        # One line for a bad LOCAL_AWS_IAM or LOCAL_AWS_FORK_SERVER, before anything is made.
        settings.iam_mode({**os.environ, **self.extra_env})
        fork_server.enabled({**os.environ, **self.extra_env})
        self.state_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(settings.REPO_ROOT), os.environ.get("PYTHONPATH")])
            ),
            "LOCAL_AWS_DISABLE_PATCHES": ",".join(self.disabled_patches),
            **self.extra_env,
        }
        try:
            self._process = fork_server.start_server(self.port, self.state_dir, self.log_path, env)
        except fork_server.ForkServerGone as err:
            raise LocalAwsError(f"{err}: see {self.log_path}") from None
        if self._process is None:
            self._process = self._popen(env)
        self._started_here = True
        deadline = time.monotonic() + self.startup_timeout_s
        while not _healthy(self.port):
            if self._process.poll() is not None:
                status = self._process.returncode
                forked = not isinstance(self._process, subprocess.Popen)
                how = "(a forked server: status unknown)" if forked else f"with status {status}"
                raise LocalAwsError(f"the local AWS exited {how}:\n{self.log_tail(40)}")
            if time.monotonic() > deadline:
                self._kill(self._process.pid)
                raise LocalAwsError(
                    f"the local AWS did not answer within {self.startup_timeout_s:.0f} s:\n"
                    f"{self.log_tail(40)}"
                )
            time.sleep(0.05)
        self.state_file.write_text(json.dumps({"pid": self._process.pid, "port": self.port}))
        return self

    def _popen(self, env: dict[str, str]) -> subprocess.Popen[bytes]:
        """The server as a process of its own (``python -m local_aws serve``)."""
        with self.log_path.open("ab") as log:
            return subprocess.Popen(  # noqa: S603  # our own module, fixed argv
                [
                    sys.executable,
                    "-m",
                    "local_aws",
                    "serve",
                    "--port",
                    str(self.port),
                    "--state-dir",
                    str(self.state_dir),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=settings.REPO_ROOT,
                env=env,
                start_new_session=True,  # survives the launching shell, as `make local` requires
            )

    def stop(self, *, force: bool = False) -> bool:
        """Stop the server (this object's, or with ``force`` the one recorded in state_dir)."""
        pid: int | None = None
        if self._process is not None and self._started_here:
            pid = self._process.pid
        elif force:
            # Only a recorded pid that is alive AND whose port answers our health probe: a stale
            # state file (after a reboot, the pid may be another program's) must not kill anything.
            recorded = self.running()
            pid = recorded["pid"] if recorded else None
        if pid is None:
            with contextlib.suppress(FileNotFoundError):
                self.state_file.unlink()  # stale, if anything
            return False
        self._kill(pid)
        with contextlib.suppress(FileNotFoundError):
            self.state_file.unlink()
        self._process = None
        self._started_here = False
        return True

    def _kill(self, pid: int) -> None:
        own = self._process if self._process is not None and self._process.pid == pid else None
        if own is not None:  # signalled through its handle: never a process that took its pid since
            own.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                own.wait(timeout=STOP_TIMEOUT_S)
                return
            own.send_signal(signal.SIGKILL)
            own.wait(timeout=STOP_TIMEOUT_S)
            return
        if not _alive(pid):
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
