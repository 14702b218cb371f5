"""The test suite's synth cache: a synth whose inputs were synthesized before is copied, not rerun.

``make test`` synthesizes the same checkout dozens of times (the session's templates, every guarded
deploy of an unchanged tree, each promotion world's clone), at about 7 s of CPU each: a quarter of
the suite. When ``VECTORA_SYNTH_CACHE`` names a folder, ``app.py`` first looks there for a cloud
assembly made from the same inputs and copies it into the CLI's output folder instead of building
the app; after a successful synth it stores its output there. Without the variable (every command
a person or CI runs for real) nothing changes.

The key is everything a synth reads: the content of every file git would commit (tracked, or
untracked and not ignored, minus the tests and docs), the context the CLI hands the app
(``CDK_CONTEXT_JSON`` and its overflow file), the CLI's other ``CDK_*`` variables, the region,
``PYTHONPATH`` and the Python version. A changed line anywhere in the app, its handlers, layers or
requirements (hence its libraries) is a new key, so a cached synth is the one a rerun would write.
Outside a git checkout there is no key, and the app synthesizes.

Imports no ``aws_cdk``: a hit costs milliseconds, not the jsii runtime's start.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Final

CACHE_ENV: Final = "VECTORA_SYNTH_CACHE"
# What the CLI tells the app (cdk-cli-lib: cxapi.OUTDIR_ENV, CONTEXT_ENV, the overflow file's).
OUTDIR_ENV: Final = "CDK_OUTDIR"
CONTEXT_ENV: Final = "CDK_CONTEXT_JSON"
CONTEXT_OVERFLOW_ENV: Final = "CONTEXT_OVERFLOW_LOCATION_ENV"
# Besides every CDK_* variable (the context, CDK_CONTEXT_JSON, among them).
KEYED_ENV: Final = ("AWS_REGION", "AWS_DEFAULT_REGION", "PYTHONPATH")
# Read by no synth: the suite and the documentation.
UNKEYED_FOLDERS: Final = ("tests/", "docs/", "benchmarks/")
# The CLI's own lock files in its output folder (held while the app runs), never part of a synth.
LOCK_SUFFIX: Final = ".lock"


def _sources(root: Path) -> list[str] | None:
    try:
        listed = subprocess.run(  # noqa: S603  # fixed argv
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607
            cwd=root,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    names = {name for name in listed.decode().split("\0") if name and not name.startswith(UNKEYED_FOLDERS)}
    return sorted(name for name in names if (root / name).is_file())  # a deleted file is listed


def key(root: Path, environ: dict[str, str]) -> str | None:
    """The synth's inputs as one sha256, or None when they cannot be listed (not a git checkout)."""
    sources = _sources(root)
    if sources is None:
        return None
    digest = hashlib.sha256(sys.version.encode())
    outdir = environ.get(OUTDIR_ENV, "")
    for name in sorted(v for v in environ if v.startswith("CDK_") and v != OUTDIR_ENV) + list(KEYED_ENV):
        # The CLI's files in the output folder (CDK_ERROR_FILE...) by their place in it.
        value = environ.get(name, "").replace(outdir, "<outdir>") if outdir else environ.get(name, "")
        digest.update(f"\0env {name}={value}".encode())
    try:
        overflow = environ.get(CONTEXT_OVERFLOW_ENV)
        if overflow:
            digest.update(b"\0context-file\0" + Path(overflow).read_bytes())
        for name in sources:
            digest.update(f"\0file {name}\0".encode() + (root / name).read_bytes())
    except OSError:  # an input that cannot be read: no key, the app synthesizes
        return None
    return digest.hexdigest()


def _copy(source: Path, target: Path) -> None:
    """Every file of ``source`` into ``target`` (real copies: a test may edit its copy)."""
    shutil.copytree(
        source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns(f"*{LOCK_SUFFIX}"), symlinks=True
    )


class SynthCache:
    """The cache folder and this synth's key; inactive (every method a no-op) without either."""

    def __init__(self, root: Path, environ: dict[str, str] | None = None) -> None:
        environ = dict(os.environ if environ is None else environ)
        folder, outdir = environ.get(CACHE_ENV), environ.get(OUTDIR_ENV)
        self.folder = Path(folder) if folder else None
        self.outdir = Path(outdir) if outdir else None
        self.key = key(root, environ) if self.folder and self.outdir else None

    @property
    def entry(self) -> Path | None:
        return self.folder / self.key if self.folder and self.key else None

    def replay(self) -> bool:
        """Copy the stored synth of these inputs into the output folder; whether there was one."""
        entry = self.entry
        if entry is None or self.outdir is None or not entry.is_dir():
            return False
        _copy(entry, self.outdir)
        return True

    def store(self) -> None:
        """Keep the output folder under this synth's key (whole or not at all: a rename)."""
        entry = self.entry
        if entry is None or self.outdir is None or entry.exists():
            return
        entry.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(dir=entry.parent, prefix=".partial-"))
        try:
            _copy(self.outdir, scratch)
            scratch.rename(entry)
        except OSError:  # another synth of the same inputs stored it first
            shutil.rmtree(scratch, ignore_errors=True)
