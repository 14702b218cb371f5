"""The Lambda runner on a machine without the function runtime's Python.

The emulator is started with an environment in which no interpreter of the runtime can be found
(PATH holding an empty folder, PYENV_ROOT an empty pyenv, ``LOCAL_AWS_PYTHON_SEARCH=path`` so that
neither the folders next to this Python nor /usr/bin are searched): the function still runs, on the
base interpreter of the Python running the emulator, isolated from its venv, with one warning per
runtime in the log, and a layer's compiled distributions rebuilt for that interpreter.
"""

from __future__ import annotations

import importlib.metadata
import io
import platform
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from local_aws.lambda_runtime import runner
from local_aws.server import LocalAws
from tests.conftest import remove_caches
from tests.local_aws.helpers import client, invoke, lambda_role, uid, zip_bytes
from tests.local_aws.test_patches import RUNNER_HANDLER

# A runtime this Python is not (so the fallback is a different version, as on a machine without it).
RUNTIME = "python3.13" if sys.version_info[:2] != (3, 13) else "python3.12"
RUNTIME_VERSION = RUNTIME.removeprefix("python")
OVERRIDE_ENV = f"LOCAL_AWS_PYTHON_{RUNTIME_VERSION.replace('.', '_')}"
BASE = runner.base_interpreter()


@pytest.fixture(scope="module")
def bare_machine() -> Iterator[LocalAws]:
    root = Path(tempfile.mkdtemp(prefix="local-aws-bare-"))
    (root / "bin").mkdir()
    (root / "pyenv" / "versions").mkdir(parents=True)
    aws = LocalAws(
        port=0,
        state_dir=root / "state",
        extra_env={
            "PATH": str(root / "bin"),
            "PYENV_ROOT": str(root / "pyenv"),
            runner.SEARCH_ENV: "path",
            OVERRIDE_ENV: "",
        },
    ).start()
    try:
        yield aws
    finally:
        aws.stop()
        remove_caches(aws.state_dir)


def _function(aws: LocalAws, code: dict[str, str], layers: list[str] | None = None) -> str:
    name = f"bare-{uid()}"
    client(aws, "lambda").create_function(
        FunctionName=name,
        Runtime=RUNTIME,
        Role=lambda_role(aws),
        Handler="index.handler",
        Code={"ZipFile": zip_bytes(code)},
        Timeout=30,
        Environment={"Variables": {"GREETING": "hi"}},
        Layers=layers or [],
    )
    return name


def test_the_function_runs_on_the_base_interpreter_with_one_warning(bare_machine):
    assert BASE is not None
    name = _function(bare_machine, {"index.py": RUNNER_HANDLER})
    for _ in range(2):
        payload, error = invoke(bare_machine, name, {"n": 1})
        assert error is None, payload
        assert payload["python"] == list(sys.version_info[:2])  # the fallback, not the runtime's
        assert payload["venv_module_visible"] is False  # -I -S: nothing of the venv but the SDK
        assert payload["greeting"] == "hi"
    record = bare_machine.invocations(name)[-1]
    assert record["interpreter"] == str(BASE)
    assert ".venv" not in record["interpreter"]
    assert record["interpreter_version"] == platform.python_version()
    assert record["interpreter_matches_runtime"] is False
    expected = (
        f"python{RUNTIME_VERSION} not found: running {RUNTIME} functions with {BASE} "
        f"({platform.python_version()}); the runtime differs from Lambda's"
    )
    warnings = [line for line in bare_machine.log_tail(400).splitlines() if "not found: running" in line]
    assert len(warnings) == 1, warnings  # once per runtime, however many invocations
    assert expected in warnings[0] and " WARNING " in warnings[0]


COMPILED_HANDLER = """
import markupsafe
from markupsafe import _speedups

def handler(event, context):
    return {"escaped": str(markupsafe.escape("<b>")), "speedups": _speedups.__file__}
"""


def _layer_built_for_the_runtime(tmp_path: Path) -> bytes:
    """A layer zip with MarkupSafe's wheel for RUNTIME (its _speedups built for that CPython only).

    MarkupSafe (in the venv: Flask's) is small and ships a compiled module for every CPython.
    """

    target = tmp_path / "layer" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--only-binary=:all:",
            "--platform",
            "manylinux2014_x86_64",
            "--implementation",
            "cp",
            "--python-version",
            RUNTIME_VERSION,
            "--target",
            str(target),
            f"markupsafe=={importlib.metadata.version('markupsafe')}",
        ],  # fmt: skip
        check=True,
        capture_output=True,
        timeout=300,
    )
    tag = RUNTIME_VERSION.replace(".", "")
    assert list(target.glob(f"markupsafe/_speedups.cpython-{tag}-*.so")), "not a build for the runtime"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(target.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, str(path.relative_to(target.parent)))
    return buffer.getvalue()


def test_a_layers_compiled_distribution_is_rebuilt_for_the_fallback(bare_machine, tmp_path):
    layer = client(bare_machine, "lambda").publish_layer_version(
        LayerName=f"compiled-{uid()}", Content={"ZipFile": _layer_built_for_the_runtime(tmp_path)}
    )
    name = _function(bare_machine, {"index.py": COMPILED_HANDLER}, [layer["LayerVersionArn"]])
    payload, error = invoke(bare_machine, name)
    assert error is None, payload
    assert payload["escaped"] == "&lt;b&gt;"
    tag = f"{sys.version_info.major}{sys.version_info.minor}"
    assert f".cpython-{tag}-" in payload["speedups"]  # the fallback's own build
    record = bare_machine.invocations(name)[-1]
    assert len(record["compat_paths"]) == 1
    compat_at = record["sys_path"].index(record["compat_paths"][0])
    assert record["sys_path"][compat_at + 1] == record["layer_paths"][0]  # just before its layer


# --- in-process: how find_interpreter reads its settings -----------------------------------------


def test_an_override_that_does_not_exist_is_an_error_not_a_fallback(monkeypatch, tmp_path):
    missing = tmp_path / "no-such-python"
    monkeypatch.setenv(OVERRIDE_ENV, str(missing))
    with pytest.raises(runner.RuntimeNotFoundError) as raised:
        runner.find_interpreter(RUNTIME)
    assert str(raised.value).startswith(f"{OVERRIDE_ENV}={missing} is not an executable file")


def test_an_override_that_exists_wins(monkeypatch):
    assert BASE is not None
    monkeypatch.setenv(OVERRIDE_ENV, str(BASE))
    assert runner.find_interpreter(RUNTIME) == runner.Interpreter(BASE, RUNTIME_VERSION, True)


def test_an_unknown_search_mode_is_an_error(monkeypatch):
    monkeypatch.delenv(OVERRIDE_ENV, raising=False)
    monkeypatch.setenv(runner.SEARCH_ENV, "everywhere")
    with pytest.raises(runner.RuntimeNotFoundError, match="allowed: all, path"):
        runner.find_interpreter(RUNTIME)
