"""The environment every run of the project's pinned CDK CLI gets, defined once.

The Makefile exports the same two settings; the promotion and the checklist (``run_cdk``, their
synth), ``scripts/deploy/diff_summary.py`` and the local AWS (``local_aws.settings``) take them
from here. Standard library only: the local AWS imports it.
"""

from __future__ import annotations

import os
from pathlib import Path


def node_bin(root: Path) -> Path:
    """``root``'s ``node_modules/.bin``: the pinned CDK CLI and, where npm installed it (Linux x64),
    the Node.js LTS pinned in package.json."""
    return root / "node_modules" / ".bin"


def cdk_cli_env(root: Path, path: str | None = None) -> dict[str, str]:
    """What a run of ``root``'s pinned CDK CLI gets on top of the caller's environment.

    ``PATH`` (``path``, default the caller's) with ``root``'s node_modules/.bin first, once, when
    the pinned Node is installed: the CLI (its ``#!/usr/bin/env node`` line) and jsii (aws_cdk's
    Python runtime spawns ``node``) take the first node on PATH; without it the machine's node
    runs. And no version check, which would ask npm for a newer CLI on every command and advise
    npm's latest (3.x), which cannot read aws-cdk-lib 2.275's cloud assembly. The pinned Node 24
    needs no banner silenced.
    """
    folder = node_bin(root)
    path = os.environ.get("PATH", os.defpath) if path is None else path
    if (folder / "node").exists():
        rest = [entry for entry in path.split(os.pathsep) if entry and Path(entry) != folder]
        path = os.pathsep.join([str(folder), *rest])
    return {"PATH": path, "CDK_DISABLE_VERSION_CHECK": "1"}
