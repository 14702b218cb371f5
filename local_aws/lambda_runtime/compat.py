"""Code built for a function's runtime, made importable by a fallback interpreter of another version.

When the runner falls back to an interpreter of another version than the function's runtime (no
``pythonX.Y`` on this machine: ``runner.find_interpreter``), the compiled extensions of a layer
built for that runtime (e.g. ``pydantic_core/_pydantic_core.cpython-313-x86_64-linux-gnu.so``)
cannot be imported. For each ``sys.path`` folder holding such distributions, the same
distributions at the same versions are installed once for the running Python by the venv's pip
(wheels only, no dependencies), cached under ``<state dir>/compat/``, and put on ``sys.path`` just
before that folder. Pure-Python distributions are used from the layer as they are.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

LOGGER = logging.getLogger("local_aws.lambda")
PIP_TIMEOUT_S = 300.0
# An extension module built for one CPython: "<name>.cpython-313-x86_64-linux-gnu.so" (abi3 modules,
# "<name>.abi3.so", load on any later version and are left alone).
_EXTENSION = re.compile(r"\.cpython-(\d{2,3})[^/]*\.so$")
_lock = threading.Lock()


class CompatError(RuntimeError):
    """The distributions could not be installed for the running Python."""


def running_tag() -> str:
    return f"{sys.version_info.major}{sys.version_info.minor}"


def foreign_distributions(folder: Path, tag: str) -> list[str]:
    """``name==version`` of each distribution in ``folder`` with extension modules for another CPython."""
    found: list[str] = []
    for record in sorted(folder.glob("*.dist-info/RECORD")):
        files = [line.split(",", 1)[0] for line in record.read_text(errors="replace").splitlines()]
        tags = {m.group(1) for f in files if (m := _EXTENSION.search(f))}
        if tags and tags != {tag}:
            dist = importlib.metadata.PathDistribution(record.parent)
            found.append(f"{dist.metadata['Name']}=={dist.version}")
    return found


def compat_folder(folder: Path, state_dir: Path) -> Path | None:
    """The folder of ``folder``'s foreign distributions rebuilt for the running Python (None: none)."""
    tag = running_tag()
    wanted = foreign_distributions(folder, tag)
    if not wanted:
        return None
    key = hashlib.sha256(f"{folder.resolve()}|{tag}|{','.join(wanted)}".encode()).hexdigest()[:24]
    target = state_dir / "compat" / f"{key}-cp{tag}"
    if target.is_dir():
        return target
    with _lock:
        if target.is_dir():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        # Installed beside the cache and renamed at the end: an interrupted install never looks done.
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".tmp-"))
        try:
            _pip_install(wanted, staging)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    LOGGER.info(
        "%s reinstalled for Python %s in %s (%s holds builds for another Python)",
        ", ".join(wanted), sys.version.split()[0], target, folder,
    )  # fmt: skip
    return target


def _pip_install(wanted: list[str], target: Path) -> None:
    command = [
        sys.executable, "-m", "pip", "install",
        "--quiet", "--disable-pip-version-check", "--no-compile", "--no-deps", "--only-binary=:all:",
        "--target", str(target), *wanted,
    ]  # fmt: skip
    try:
        result = subprocess.run(  # noqa: S603  # fixed argv, no shell
            command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise CompatError(f"pip did not install {', '.join(wanted)} within {PIP_TIMEOUT_S:.0f} s") from None
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise CompatError(f"pip could not install {', '.join(wanted)} for Python {running_tag()}: {last}")


def with_compat(paths: list[str], state_dir: Path) -> tuple[list[str], list[str]]:
    """``paths`` with each one's compat folder just before it; and the compat folders alone."""
    result: list[str] = []
    added: list[str] = []
    for path in paths:
        extra = compat_folder(Path(path), state_dir)
        if extra is not None:
            result.append(str(extra))
            added.append(str(extra))
        result.append(path)
    return result, added
