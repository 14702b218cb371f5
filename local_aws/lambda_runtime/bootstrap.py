"""Runs ONE Lambda invocation; executed by the function's own interpreter (e.g. python3.13).

Started with ``-I -S`` (isolated, no site-packages), so the handler sees exactly what it would on
AWS: the function code, its layers and the runtime SDK, in that order on ``sys.path``. Standard
library only: this file must not depend on anything the handler does not see.

argv[1]: path of a JSON spec ``{handler, event, sys_path, result_path, function_name, ...}``.
The handler's return value (or the error document) is written as JSON to ``result_path``;
whatever the handler prints goes to stdout/stderr, i.e. to the function's log.
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


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    deadline = time.monotonic() + float(spec.get("timeout", 3))
    # Function code first, then layers, then the runtime SDK: the precedence the AWS runtime uses.
    sys.path[:0] = spec["sys_path"]
    os.chdir(spec["task_root"])
    result: object
    status = 0
    try:
        module_name, _, function_name = spec["handler"].rpartition(".")
        module = importlib.import_module(module_name.replace("/", "."))
        handler = getattr(module, function_name)
        result = handler(spec["event"], LambdaContext(spec, deadline))
    except Exception as exc:  # noqa: BLE001  # reported to the caller like the AWS runtime does
        traceback.print_exc()
        result = _error_document(exc)
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    with open(spec["result_path"], "w", encoding="utf-8") as handle:
        try:
            json.dump(result, handle)
        except TypeError as exc:
            json.dump(_error_document(exc), handle)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
