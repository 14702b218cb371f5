"""The fuzz tier's machinery: find the operations scripts, run one in this process, see what it touched.

- ``discover_scripts()``: every ``scripts/**/*.py`` with an ``if __name__ == "__main__":`` block, so a
  script added later is fuzzed without being listed here (modules such as ``fixture_feeds.py`` that
  only serve other scripts have no such block).
- ``run_script(path, argv, cwd)``: the script run as ``python path argv...`` would run it (its
  ``__main__`` block, its folder first on ``sys.path``), in this process; what it printed (stdout
  with the strict UTF-8 encoding of a UTF-8 terminal, stderr with Python's backslashreplace), its
  exit status, and the traceback of any exception other than ``SystemExit`` that escaped it.
- ``parser_of(path, cwd)``: the ``argparse`` parser the script builds, caught the moment it parses.
- ``Sandbox``: the only folder a script may write to, with the hostile files the fuzzer points at;
  ``outside_state()`` lists everything else a script could reach (the repository, the sandbox's
  neighbours, ``/``) to compare before and after.
- ``no_spawn()``: programs other than git are "not installed" while a script runs (a fuzzed
  deploy must not start the CDK CLI for minutes); a script must say so in one line.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import errno
import io
import os
import runpy
import shutil
import subprocess
import sys
import traceback
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
# Folders no script writes to on purpose but Python, the tools or git do (bytecode, caches).
# Not watched: git's own store and what installs and builds generate (tens of thousands of files
# a walk per case would cost a second each: the repository's listing is taken twice per case).
NOT_WATCHED = frozenset(
    {
        ".git",
        ".venv",
        ".venv-checkov",
        ".build",
        "node_modules",
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".hypothesis",
    }
)
ALLOWED_PROGRAMS = frozenset({"git"})  # read-only and fast: commit ids, a clean tree
# Cases run in this session: by script and world, how many ended with each exit status (printed
# at the end of the session: conftest.py).
CASES: defaultdict[str, Counter[int]] = defaultdict(Counter)


def has_main_block(path: Path) -> bool:
    for node in ast.parse(path.read_text("utf-8"), filename=str(path)).body:
        test = node.test if isinstance(node, ast.If) else None
        if (
            isinstance(test, ast.Compare)
            and isinstance(test.left, ast.Name)
            and test.left.id == "__name__"
            and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "__main__"
        ):
            return True
    return False


def discover_scripts() -> list[Path]:
    """Every operations script (a ``.py`` under ``scripts/`` with a ``__main__`` block), sorted."""
    return sorted(p for p in SCRIPTS.rglob("*.py") if "__pycache__" not in p.parts and has_main_block(p))


def script_id(path: Path) -> str:
    return path.relative_to(SCRIPTS).as_posix()


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str
    escaped: BaseException | None  # an exception other than SystemExit that left the script
    traceback: str | None

    def describe(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.stdout[:2000]}\n--- stderr\n{self.stderr[:4000]}" + (
            f"\n--- escaped\n{self.traceback}" if self.traceback else ""
        )


def _stream(errors: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors=errors, newline="\n", write_through=True)


def _text(stream: io.TextIOWrapper) -> str:
    stream.flush()
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue().decode("utf-8", "backslashreplace")


def exit_code(err: SystemExit, stderr: io.TextIOWrapper) -> int:
    """What the interpreter makes of ``SystemExit(value)``: None is 0, a number itself, anything
    else printed on stderr and 1."""
    if err.code is None:
        return 0
    if isinstance(err.code, int):
        return err.code
    print(err.code, file=stderr)
    return 1


@contextlib.contextmanager
def _as_main(
    path: Path, argv: Sequence[str], cwd: Path
) -> Iterator[tuple[io.TextIOWrapper, io.TextIOWrapper]]:
    saved = (sys.argv, list(sys.path), sys.stdin, sys.stdout, sys.stderr, Path.cwd())
    out, err = _stream("strict"), _stream("backslashreplace")
    sys.argv, sys.stdin, sys.stdout, sys.stderr = [str(path), *argv], io.StringIO(""), out, err
    sys.path.insert(0, str(path.parent))
    os.chdir(cwd)
    try:
        yield out, err
    finally:
        sys.argv, sys.path[:], sys.stdin, sys.stdout, sys.stderr = saved[0], saved[1], *saved[2:5]
        os.chdir(saved[5])


def record(name: str, outcome: Outcome) -> Outcome:
    CASES[name][outcome.code] += 1
    return outcome


def run_script(path: Path, argv: Sequence[str], cwd: Path) -> Outcome:
    """Run ``python path *argv`` in this process (see the module docstring)."""
    escaped: BaseException | None = None
    trace = None
    with _as_main(path, argv, cwd) as (out, err):
        try:
            runpy.run_path(str(path), run_name="__main__")
            code = 0
        except SystemExit as exit_:
            code = exit_code(exit_, err)
        except BaseException as other:  # noqa: BLE001  # exactly what the fuzzer looks for
            escaped, code = other, 1
            trace = "".join(traceback.format_exception(other))
    return Outcome(code, _text(out), _text(err), escaped, trace)


class _ParserReached(BaseException):  # BaseException: no script's `except Exception` stops it
    def __init__(self, parser: argparse.ArgumentParser) -> None:
        super().__init__("parser reached")
        self.parser = parser


def parser_of(path: Path, cwd: Path) -> argparse.ArgumentParser | None:
    """The parser ``path`` builds (the first one it parses with), or None: a script that reads
    ``sys.argv`` itself gets free-form arguments."""
    original = argparse.ArgumentParser.parse_known_args

    def reached(self: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> Any:
        raise _ParserReached(self)

    argparse.ArgumentParser.parse_known_args = reached  # type: ignore[method-assign]
    try:
        outcome = run_script(path, [], cwd)
    finally:
        argparse.ArgumentParser.parse_known_args = original  # type: ignore[method-assign]
    return outcome.escaped.parser if isinstance(outcome.escaped, _ParserReached) else None


class _NotInstalled(subprocess.Popen):  # type: ignore[type-arg]
    def __init__(self, args: Any, *rest: Any, **kwargs: Any) -> None:
        first = args if isinstance(args, str | bytes | os.PathLike) else args[0]
        program = Path(os.fsdecode(first).split()[0]).name
        if program not in ALLOWED_PROGRAMS:
            raise FileNotFoundError(
                errno.ENOENT, "not installed (the fuzz tier runs no other program)", program
            )
        super().__init__(args, *rest, **kwargs)


@contextlib.contextmanager
def no_spawn() -> Iterator[None]:
    original = subprocess.Popen
    subprocess.Popen = _NotInstalled  # type: ignore[misc]
    try:
        yield
    finally:
        subprocess.Popen = original  # type: ignore[misc]


# --- the file system ---------------------------------------------------------------------------------

Listing = dict[str, tuple[str, int, int]]


def listing(root: Path, skip: Path | None = None) -> Listing:
    """``relative path -> (kind, size, mtime)`` of every file and link under ``root`` (folders by
    existence only: a new ``__pycache__`` changes its parent's mtime), skipping ``NOT_WATCHED``.
    One ``lstat`` per file (``scandir``): the repository is listed twice per generated case. A
    link is listed as a link, never followed, even to a folder (a script must not change either)."""
    found: Listing = {}
    start = len(str(root)) + 1
    pending = [str(root)]
    while pending:
        try:
            folder = os.scandir(pending.pop())
        except OSError:
            continue  # gone since its parent was listed, or unreadable (os.walk skips it too)
        with folder as entries:
            for entry in entries:
                relative = entry.path[start:]
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in NOT_WATCHED and (skip is None or entry.path != str(skip)):
                        found[relative] = ("dir", 0, 0)
                        pending.append(entry.path)
                    continue
                info = entry.stat(follow_symlinks=False)
                found[relative] = ("link" if entry.is_symlink() else "file", info.st_size, info.st_mtime_ns)
    return found


def changes(before: Listing, after: Listing) -> list[str]:
    return sorted(
        [f"created {p}" for p in after.keys() - before.keys()]
        + [f"removed {p}" for p in before.keys() - after.keys()]
        + [f"changed {p}" for p in before.keys() & after.keys() if before[p] != after[p]]
    )


HUGE_BYTES = 64 * 1024 * 1024  # sparse: costs nothing on disk


@dataclass(frozen=True)
class Sandbox:
    """``root/box`` is the only folder a script may write to; scripts run in ``box/w1/w2/w3`` so
    that up to three ``..`` stay inside. ``template`` holds what ``reset`` copies into the box."""

    root: Path
    template: Path

    @property
    def box(self) -> Path:
        return self.root / "box"

    @property
    def cwd(self) -> Path:
        return self.box / "w1" / "w2" / "w3"

    @property
    def depth(self) -> int:
        return len(self.cwd.relative_to(self.box).parts)

    def reset(self) -> None:
        """The box as new: the template's files, plus what cannot be copied (a FIFO, links, a sparse file)."""
        if self.box.exists():
            shutil.rmtree(self.box)
        shutil.copytree(self.template, self.box, symlinks=True)
        self.cwd.mkdir(parents=True, exist_ok=True)
        os.mkfifo(self.box / "fifo.yaml")
        (self.box / "dangling.yaml").symlink_to(self.box / "no" / "such" / "file.yaml")
        (self.box / "loop.yaml").symlink_to(self.box / "loop.yaml")
        with (self.box / "huge.yaml").open("wb") as huge:
            huge.truncate(HUGE_BYTES)

    def box_listing(self) -> Listing:
        return listing(self.box)

    def outside_state(self) -> dict[str, Any]:
        """Everything a script must not change: the repository, the sandbox's neighbours, the
        names in the folder above it and in ``/``."""
        return {
            "repository": listing(REPO),
            "beside the box": listing(self.root, skip=self.box),
            "above the sandbox": sorted(os.listdir(self.root.parent)),
            "/": sorted(os.listdir("/")),
        }

    def relative(self, path: Path) -> str:
        return os.path.relpath(path, self.cwd)


def outside_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    found = []
    for place in before:
        if isinstance(before[place], dict):
            found += [f"{place}: {c}" for c in changes(before[place], after[place])]
        elif before[place] != after[place]:
            found.append(f"{place}: {sorted(set(before[place]) ^ set(after[place]))}")
    return found
