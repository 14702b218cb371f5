"""A Lambda execution environment: one interpreter, one function, invocations one after the other.

Executed by the function's own interpreter (e.g. python3.13) with ``-I -S``, so the handler sees
exactly what it would on AWS: the function code, its layers and the runtime SDK, in that order on
``sys.path``. Standard library only: this file must not depend on anything the handler does not see.

As on AWS, the handler's module is imported once (the init phase, on the first invocation) and
every later invocation this environment serves reuses it: module-level clients, caches and
``/tmp`` survive from one invocation to the next. The runner (``runner.py``) keeps environments
warm between invocations and starts a new one when none is free or the function changed.

Protocol, one JSON object per line:

- stdin, from the runner: ``{handler, event, sys_path, task_root, log_path, function_name,
  function_arn, memory_size, timeout, request_id}`` (``sys_path`` and ``task_root`` are read on the
  first request only); end of input ends the environment.
- fd 1 at start, to the runner: ``{"status": 0 or 1, "payload": <the handler's answer or the error
  document, as JSON text>}`` per invocation. Whatever the handler (or its import) writes to stdout
  and stderr goes to that invocation's ``log_path`` instead, C-level writes included.
"""

import importlib
import json
import os
import sys
import time
import traceback
import uuid


class LambdaContext:
    """The attributes of the AWS Lambda Python runtime's context object."""

    def __init__(self, spec: dict, deadline: float) -> None:
        self.function_name = spec["function_name"]
        self.function_version = spec.get("function_version", "$LATEST")
        self.invoked_function_arn = spec["function_arn"]
        self.memory_limit_in_mb = int(spec.get("memory_size", 128))
        self.aws_request_id = spec.get("request_id") or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = spec.get("log_stream_name", "local")
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _error_document(exc: BaseException) -> dict:
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": "",
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


class Output:
    """fds 1 and 2 pointed at one invocation's log file, then back at nothing between invocations."""

    def __init__(self) -> None:
        self.control = os.fdopen(os.dup(1), "w", encoding="utf-8")
        self._null = os.open(os.devnull, os.O_WRONLY)
        self._point(self._null)

    def _point(self, fd: int) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(fd, 1)
        os.dup2(fd, 2)

    def to_log(self, path: str) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            self._point(fd)
        finally:
            os.close(fd)

    def to_nothing(self) -> None:
        self._point(self._null)

    def answer(self, status: int, payload: str) -> None:
        self.control.write(json.dumps({"status": status, "payload": payload}) + "\n")
        self.control.flush()


def _serialized(result: object) -> tuple[int, str]:
    try:
        return 0, json.dumps(result)
    except TypeError as exc:
        return 1, json.dumps(_error_document(exc))


def _load_handler(spec: dict):  # noqa: ANN202  # whatever the function's module defines
    # Function code first, then layers, then the runtime SDK: the precedence the AWS runtime uses.
    sys.path[:0] = spec["sys_path"]
    os.chdir(spec["task_root"])
    module_name, _, function_name = spec["handler"].rpartition(".")
    module = importlib.import_module(module_name.replace("/", "."))
    return getattr(module, function_name)


def main() -> int:
    output = Output()
    handler = None
    for line in sys.stdin:
        spec = json.loads(line)
        output.to_log(spec["log_path"])
        try:
            if handler is None:
                handler = _load_handler(spec)
            # The function's time starts with its handler: the init phase has an allowance of its own.
            deadline = time.monotonic() + float(spec.get("timeout", 3))
            status, payload = _serialized(handler(spec["event"], LambdaContext(spec, deadline)))
        except Exception as exc:  # noqa: BLE001  # reported to the caller like the AWS runtime does
            traceback.print_exc()
            status, payload = 1, json.dumps(_error_document(exc))
        output.to_nothing()
        output.answer(status, payload)
        if handler is None:
            return 1  # the init failed: AWS starts a new environment for the next invocation
    return 0


if __name__ == "__main__":
    sys.exit(main())
