"""Run a moto ``LambdaFunction`` without Docker: unzip, pick the interpreter, run the bootstrap.

The handler runs in an execution environment (``workers``: a warm one of the same function as
deployed when one is free, as on AWS), a subprocess of the runtime's Python (``python3.13`` for
``python3.13``) with ``-I -S``: it sees the function code, its layers' ``python/`` folders and the
runtime SDK (boto3, botocore, s3transfer, jmespath, dateutil, urllib3, six - the venv's pinned,
pure-Python copies), nothing else of the venv. On a machine without that Python it falls back to
the base interpreter of the Python running the emulator (``find_interpreter``; one warning per
runtime in the log), with the layers' compiled distributions rebuilt for it (``compat``). Its
environment is the function's variables plus what the AWS runtime sets, with ``AWS_ENDPOINT_URL``
pointing back at the emulator and the temporary credentials of the function's execution role
(``local_aws.iam.credentials``: the emulator's STS, the role's trust policy checked).
"""

from __future__ import annotations

import glob
import hashlib
import importlib.util
import json
import logging
import os
import platform
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_aws import internet, settings
from local_aws.iam import credentials as role_credentials
from local_aws.lambda_runtime import compat, workers

# Interpreter start-up and imports are not part of the function's own timeout on AWS either.
START_GRACE_S = 10.0
# Distributions the AWS Python runtime ships (the "runtime SDK"), as importable top-level names.
RUNTIME_SDK_MODULES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
_unzip_lock = threading.Lock()
DIGESTS_KEPT = 64
_digests: dict[bytes, str] = {}
_digests_lock = threading.Lock()
# What the last invocations ran with (served at /_local_aws/invocations): lets a test or a
# developer check which layers and variables a function really saw, whatever its handler returns.
RECENT_INVOCATIONS: deque[dict[str, Any]] = deque(maxlen=200)
# "all" (default): look for pythonX.Y on PATH, in pyenv and in the system folders; "path": on PATH
# only (tests use it to stand for a machine that has no pythonX.Y, whatever this one has).
SEARCH_ENV = "LOCAL_AWS_PYTHON_SEARCH"
LOGGER = logging.getLogger("local_aws.lambda")
_warned_runtimes: set[str] = set()
_warned_lock = threading.Lock()


class RuntimeNotFoundError(RuntimeError):
    """No interpreter on this machine matches the function's runtime."""


@dataclass(frozen=True)
class InvocationResult:
    payload: str  # the JSON the handler returned, or the AWS-style error document
    errored: bool
    logs: str
    warm: bool = False  # served by an execution environment that had served before


@dataclass(frozen=True)
class Interpreter:
    """The Python an invocation runs with, and whether it is the function's runtime."""

    path: Path
    version: str  # "3.13" when found for the runtime; the full version of a fallback
    matches_runtime: bool


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _candidates(version: str) -> list[str]:
    """Where a ``python{version}`` may be: PATH, then (unless SEARCH_ENV=path) pyenv and system folders."""
    on_path = shutil.which(f"python{version}")
    candidates = [on_path] if on_path else []
    search = os.environ.get(SEARCH_ENV, "all")
    if search not in ("all", "path"):
        raise RuntimeNotFoundError(f"{SEARCH_ENV}={search!r} is not a search mode (allowed: all, path)")
    if search == "path":
        return candidates
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    # pyenv's root, and the folder of versions that holds the interpreter running us (a venv made
    # from a pyenv Python, whatever HOME is)
    for versions in dict.fromkeys([f"{pyenv_root}/versions", str(Path(sys.base_prefix).parent)]):
        candidates += sorted(glob.glob(f"{versions}/{version}*/bin/python{version}"), reverse=True)
    return [*candidates, f"/usr/local/bin/python{version}", f"/usr/bin/python{version}"]


def find_interpreter(runtime: str) -> Interpreter:
    """The interpreter for a ``pythonX.Y`` runtime.

    ``LOCAL_AWS_PYTHON_X_Y`` if set (it must be an executable file), else the first ``pythonX.Y``
    of ``_candidates``, else the base interpreter of the Python running the emulator (never its
    venv), with one warning per runtime in the emulator's log: the runtime then differs from Lambda's.
    """
    match = re.fullmatch(r"python(3\.\d+)", runtime or "")
    if not match:
        raise RuntimeNotFoundError(f"runtime {runtime!r} is not supported locally (only pythonX.Y runtimes)")
    version = match.group(1)
    override_env = f"LOCAL_AWS_PYTHON_{version.replace('.', '_')}"
    override = os.environ.get(override_env)
    if override:
        if not _executable(Path(override)):
            raise RuntimeNotFoundError(
                f"{override_env}={override} is not an executable file "
                f"(point it at a python{version}, or unset it to search PATH and pyenv)"
            )
        return Interpreter(Path(override), version, True)
    for candidate in _candidates(version):
        if _executable(Path(candidate)) and "/shims/" not in candidate:
            return Interpreter(Path(candidate), version, True)
    return _fallback(runtime, version, override_env)


def base_interpreter() -> Path | None:
    """The interpreter the running Python's venv was made from (itself outside a venv)."""
    for candidate in (
        getattr(sys, "_base_executable", None),
        f"{sys.base_prefix}/bin/python{sys.version_info.major}.{sys.version_info.minor}",
        sys.executable if sys.prefix == sys.base_prefix else None,
    ):
        if candidate and _executable(Path(candidate)):
            return Path(candidate)
    return None


def _fallback(runtime: str, version: str, override_env: str) -> Interpreter:
    base = base_interpreter()
    if base is None:
        raise RuntimeNotFoundError(
            f"no python{version} interpreter found for runtime {runtime}, and no base interpreter of "
            f"{sys.executable} to fall back to "
            f"(install it, e.g. `pyenv install {version}`, or set {override_env})"
        )
    running = platform.python_version()
    same = running.startswith(f"{version}.")
    if not same:
        with _warned_lock:
            first = runtime not in _warned_runtimes
            _warned_runtimes.add(runtime)
        if first:
            LOGGER.warning(
                "python%s not found: running %s functions with %s (%s); the runtime differs from "
                "Lambda's (install python%s or set %s)",
                version, runtime, base, running, version, override_env,
            )  # fmt: skip
    return Interpreter(base, running, same)


def runtime_sdk_dir(state_dir: Path) -> Path:
    """A folder holding only the runtime SDK: links to the venv's pinned pure-Python copies."""
    target = state_dir / "runtime-sdk"
    marker = target / ".complete"
    if marker.exists():
        return target
    with _unzip_lock:
        if marker.exists():
            return target
        target.mkdir(parents=True, exist_ok=True)
        for name in RUNTIME_SDK_MODULES:
            spec = importlib.util.find_spec(name)
            if spec is None or spec.origin is None:
                raise RuntimeNotFoundError(f"runtime SDK module {name} is not installed in {sys.prefix}")
            origin = Path(spec.origin)
            source = origin.parent if origin.name == "__init__.py" else origin
            link = target / source.name
            if not link.exists():
                link.symlink_to(source)
        marker.write_text("boto3 and friends from the venv\n")
    return target


def _digest(data: bytes) -> str:
    """The SHA-256 of a zip, computed once per zip: moto keeps each function's and layer's zip as
    one bytes object, which Python hashes once for a dict key, where SHA-256 re-read every byte of
    the function and of each layer on every invocation."""
    with _digests_lock:
        digest = _digests.get(data)
    if digest is None:
        digest = hashlib.sha256(data).hexdigest()
        with _digests_lock:
            if len(_digests) >= DIGESTS_KEPT:
                _digests.clear()  # old versions' zips are not kept alive by this cache
            _digests[data] = digest
    return digest


def unzip_cached(data: bytes, state_dir: Path) -> Path:
    """Extract a zip once per content hash (functions and layers share the cache)."""
    digest = _digest(data)
    target = state_dir / "unzipped" / digest
    if target.exists():
        return target
    with _unzip_lock:
        if target.exists():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".tmp-"))
        with tempfile.TemporaryFile() as buffer:
            buffer.write(data)
            buffer.seek(0)
            with zipfile.ZipFile(buffer) as archive:
                archive.extractall(staging)  # noqa: S202  # zips come from our own deploys
        staging.rename(target)
    return target


def _layer_paths(fn: Any, state_dir: Path) -> list[str]:
    from moto.awslambda.models import lambda_backends

    backend = lambda_backends[fn.account_id][fn.region]
    paths: list[str] = []
    # Later layers override earlier ones when AWS merges them into /opt: they go first here.
    for layer in reversed(fn.layers):
        version = backend.layers_versions_by_arn(layer["Arn"])
        if version is None:
            raise RuntimeNotFoundError(f"layer version {layer['Arn']} of {fn.function_name} does not exist")
        root = unzip_cached(bytes(version.code_bytes), state_dir)
        major_minor = (fn.run_time or "python3").removeprefix("python")
        for sub in (f"python/lib/python{major_minor}/site-packages", "python"):
            if (root / sub).is_dir():
                paths.append(str(root / sub))
    return paths


def _function_env(fn: Any, task_root: Path) -> dict[str, str]:
    server = settings.current()
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(task_root),
        "_HANDLER": str(fn.handler),
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
        "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": str(fn.version if fn.version != 1 else "$LATEST"),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.function_name}",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update({str(k): str(v) for k, v in (fn.environment_vars or {}).items()})
    # Set last: a function variable cannot point the handler away from the emulator.
    env.update(settings.client_env(server.port, fn.region))
    env.update(internet.function_env())  # proxy + CA of the local internet (local_aws/internet)
    env.pop("CDK_DEFAULT_ACCOUNT")
    env.pop("CDK_DEFAULT_REGION")
    # The execution role's own credentials, from the emulator's STS (its trust policy checked).
    env.update(role_credentials.for_function(fn))
    return env


def invoke(fn: Any, event: Any) -> InvocationResult:
    """Invoke ``fn`` (a moto LambdaFunction) with ``event``; bounded by the function's timeout."""
    state_dir = settings.current().state_dir / "lambda"
    request_id = str(uuid.uuid4())
    interpreter = find_interpreter(fn.run_time)
    task_root = unzip_cached(bytes(fn.code_bytes), state_dir)
    layer_paths = _layer_paths(fn, state_dir)
    code_paths: list[str] = [str(task_root), *layer_paths]
    compat_paths: list[str] = []
    if not interpreter.matches_runtime:
        try:
            code_paths, compat_paths = compat.with_compat(code_paths, state_dir)
        except compat.CompatError as err:
            raise RuntimeNotFoundError(
                f"{fn.function_name} cannot run on {interpreter.path}: {err}"
            ) from None
    sys_path = [*code_paths, str(runtime_sdk_dir(state_dir))]
    env = _function_env(fn, task_root)
    record: dict[str, Any] = {
        "function_name": fn.function_name,
        "request_id": request_id,
        "runtime": fn.run_time,
        "interpreter": str(interpreter.path),
        "interpreter_version": interpreter.version,
        "interpreter_matches_runtime": interpreter.matches_runtime,
        "compat_paths": compat_paths,
        "layers": [layer["Arn"] for layer in fn.layers],
        "layer_paths": layer_paths,
        "sys_path": sys_path,
        "environment": {k: v for k, v in env.items() if k != "AWS_SECRET_ACCESS_KEY"},
        "started": time.time(),
    }
    result = _run(
        fn,
        event,
        interpreter=interpreter.path,
        task_root=task_root,
        sys_path=sys_path,
        env=env,
        work_parent=state_dir,
        request_id=request_id,
    )
    record.update(
        errored=result.errored, warm=result.warm, duration_s=round(time.time() - record["started"], 3)
    )
    RECENT_INVOCATIONS.append(record)
    return result


def _run(
    fn: Any,
    event: Any,
    *,
    interpreter: Path,
    task_root: Path,
    sys_path: list[str],
    env: dict[str, str],
    work_parent: Path,
    request_id: str,
) -> InvocationResult:
    """One invocation on a warm execution environment of this function as deployed, or a new one."""
    timeout_s = float(fn.timeout or 3)
    # The function as deployed: code, layers, interpreter, variables. The log stream is the
    # environment's own (one per environment, as on AWS), so it is not part of what must match.
    key = (fn.function_arn, str(interpreter), tuple(sys_path), frozenset(env.items()))
    environment = workers.POOL.take(key)
    warm = environment is not None
    if environment is None:
        work_parent.mkdir(parents=True, exist_ok=True)
        stream = {"AWS_LAMBDA_LOG_STREAM_NAME": f"local/{request_id}"}
        environment = workers.Environment.start(interpreter, {**env, **stream}, cwd=work_parent)
    with tempfile.TemporaryDirectory(prefix="invoke-", dir=work_parent) as work:
        log_path = Path(work) / "log.txt"
        request = {
            "handler": fn.handler,
            "event": event,
            "sys_path": sys_path,
            "task_root": str(task_root),
            "log_path": str(log_path),
            "function_name": fn.function_name,
            "function_arn": fn.function_arn,
            "memory_size": fn.memory_size,
            "timeout": timeout_s,
            "request_id": request_id,
        }
        try:
            # The init phase (interpreter start-up, imports) has its own allowance, as on AWS.
            status, payload = environment.invoke(request, timeout_s + (1.0 if warm else START_GRACE_S))
        except workers.InvocationTimeout:
            error = {
                "errorMessage": f"Task timed out after {timeout_s:.2f} seconds",
                "errorType": "TimeoutError",
            }
            return InvocationResult(json.dumps(error), True, _read_log(log_path), warm)
        except workers.RuntimeExited as exited:
            error = {"errorMessage": str(exited), "errorType": "Runtime.ExitError"}
            return InvocationResult(json.dumps(error), True, _read_log(log_path), warm)
        workers.POOL.give_back(key, environment)
        return InvocationResult(payload, status != 0, _read_log(log_path), warm)


def _read_log(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""
