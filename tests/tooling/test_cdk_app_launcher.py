"""cdk.json's app, scripts/cdk_app.sh: one clear line before ``make install``, the app unchanged after.

Each test lays out a project root of its own (the launcher copied into ``scripts/``), with or
without a ``.venv`` (a link to this checkout's), since the launcher finds both from its own place.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LAUNCHER = REPO / "scripts" / "cdk_app.sh"
NOT_INSTALLED = "error: the project is not installed (no .venv/bin/python): run make install first\n"
# Stands for app.py: reports what it was started with, exits with a status of its own.
PROBE_APP = """
import json, os, sys
print(json.dumps({"argv": sys.argv, "prefix": sys.prefix, "cwd": os.getcwd(), "env": dict(os.environ)}))
sys.exit(3)
"""


def project_root(tmp_path: Path, *, installed: bool) -> Path:
    (tmp_path / "scripts").mkdir(parents=True)
    shutil.copy(LAUNCHER, tmp_path / "scripts" / LAUNCHER.name)
    (tmp_path / "app.py").write_text(PROBE_APP)
    (tmp_path / "cdk.json").write_text((REPO / "cdk.json").read_text())
    if installed:
        (tmp_path / ".venv").symlink_to(REPO / ".venv")
    return tmp_path


def run_app_command(
    root: Path, *extra: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """cdk.json's ``app`` command, run the way the CDK CLI runs it: through a shell, from the root."""
    command = " ".join([json.loads((root / "cdk.json").read_text())["app"], *extra])
    # The CLI runs cdk.json's app through a shell, from the root.
    return subprocess.run(command, shell=True, cwd=root, env=env,  # noqa: S602
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_before_install_one_line_says_to_run_make_install(tmp_path: Path) -> None:
    root = project_root(tmp_path, installed=False)
    result = run_app_command(root)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", NOT_INSTALLED)


def test_before_install_the_cdk_cli_shows_that_line(tmp_path: Path) -> None:
    # The project's cdk.json, copied into the root: its app is the launcher.
    root = project_root(tmp_path, installed=False)
    result = subprocess.run([str(REPO / "node_modules" / ".bin" / "cdk"), "synth", "-c", "env=dev"], cwd=root,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode != 0
    assert NOT_INSTALLED.strip() in result.stderr.splitlines()
    assert "error 127" not in result.stderr


def test_installed_the_app_runs_on_the_venv_with_the_same_argv_and_environment(tmp_path: Path) -> None:
    root = project_root(tmp_path, installed=True)
    env = {**os.environ, "LAUNCHER_PROBE": "kept"}
    result = run_app_command(root, "--flag", "value", env=env)
    assert result.returncode == 3, result.stderr  # the app's own exit status
    seen = json.loads(result.stdout)
    # What `.venv/bin/python app.py --flag value` gives the app, run from the root as cdk.json did.
    assert seen["argv"] == ["app.py", "--flag", "value"]
    assert Path(seen["prefix"]) == root / ".venv"
    assert Path(seen["cwd"]) == root.resolve()
    # The command cdk.json used to hold, run the same way: the environment must not differ.
    before = subprocess.run(".venv/bin/python app.py", shell=True, cwd=root, env=env,  # noqa: S602, S607
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert seen["env"] == json.loads(before.stdout)["env"]


def test_started_from_elsewhere_the_launcher_finds_the_root_from_its_own_path(tmp_path: Path) -> None:
    root = project_root(tmp_path / "project", installed=True)
    result = subprocess.run(
        ["sh", "project/scripts/cdk_app.sh"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 3, result.stderr
    assert json.loads(result.stdout)["argv"] == [str(Path("project") / "app.py")]
    assert Path(json.loads(result.stdout)["prefix"]) == root / ".venv"
