"""The suite's synth cache: a hit only for the same inputs, whole entries, and app.py replays it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vectora_constructs.synth_cache import CACHE_ENV, CONTEXT_ENV, OUTDIR_ENV, SynthCache, key

REPO_ROOT = Path(__file__).resolve().parents[2]


def git_repo(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)  # noqa: S607
    (root / ".gitignore").write_text("cdk.out/\n")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def synth_env(outdir: Path, context: str = '{"env":"dev"}', **extra: str) -> dict[str, str]:
    return {OUTDIR_ENV: str(outdir), CONTEXT_ENV: context, "CDK_ERROR_FILE": f"{outdir}/error.txt", **extra}


def test_the_key_follows_the_inputs_and_not_where_the_output_goes(tmp_path: Path) -> None:
    root = git_repo(tmp_path / "repo", {"app.py": "app", "stacks/a.py": "a", "tests/t.py": "t"})
    first = key(root, synth_env(tmp_path / "out1"))
    assert first is not None
    assert key(root, synth_env(tmp_path / "out2")) == first  # CDK_ERROR_FILE lives in the outdir
    (root / "tests/t.py").write_text("another test")  # read by no synth
    (root / "cdk.out").mkdir()
    (root / "cdk.out/x.json").write_text("ignored output")
    assert key(root, synth_env(tmp_path / "out1")) == first
    changed = {
        "a source line": lambda: (root / "stacks/a.py").write_text("a2"),
        "an untracked source": lambda: (root / "stacks/b.py").write_text("b"),
    }
    seen = {first}
    for why, change in changed.items():
        change()
        now = key(root, synth_env(tmp_path / "out1"))
        assert now not in seen, why
        seen.add(now)
    assert key(root, synth_env(tmp_path / "out1", context='{"env":"prod"}')) not in seen
    assert key(root, synth_env(tmp_path / "out1", CDK_DEFAULT_REGION="eu-west-1")) not in seen
    assert key(tmp_path / "not-a-checkout", synth_env(tmp_path / "out1")) is None
    overflowing = synth_env(tmp_path / "out1", CONTEXT_OVERFLOW_LOCATION_ENV=str(tmp_path / "gone.json"))
    assert key(root, overflowing) is None  # an input that cannot be read: no key, a real synth


def test_a_stored_synth_is_replayed_whole_without_the_cli_locks(tmp_path: Path) -> None:
    root = git_repo(tmp_path / "repo", {"app.py": "app"})
    environ = {CACHE_ENV: str(tmp_path / "cache"), **synth_env(tmp_path / "out1")}
    written = tmp_path / "out1"
    (written / "asset.abc").mkdir(parents=True)
    (written / "asset.abc/index.py").write_text("code")
    (written / "manifest.json").write_text("{}")
    (written / "synth.lock").write_text("held by the CLI")
    first = SynthCache(root, environ)
    assert not first.replay()  # nothing stored yet: the app synthesizes
    first.store()
    first.store()  # stored once; a second store changes nothing
    later = SynthCache(root, {**environ, **synth_env(tmp_path / "out2")})
    assert later.replay()
    copied = sorted(p.relative_to(tmp_path / "out2").as_posix() for p in (tmp_path / "out2").rglob("*"))
    assert copied == ["asset.abc", "asset.abc/index.py", "manifest.json"]
    (tmp_path / "out2/manifest.json").write_text("edited by a test")  # a copy, not the cache's file
    assert SynthCache(root, {**environ, **synth_env(tmp_path / "out3")}).replay()
    assert (tmp_path / "out3/manifest.json").read_text() == "{}"


@pytest.mark.parametrize("missing", [CACHE_ENV, OUTDIR_ENV])
def test_without_a_cache_folder_or_an_output_folder_nothing_is_cached(missing: str, tmp_path: Path) -> None:
    root = git_repo(tmp_path / "repo", {"app.py": "app"})
    environ = {CACHE_ENV: str(tmp_path / "cache"), **synth_env(tmp_path / "out")}
    del environ[missing]
    cache = SynthCache(root, environ)
    (tmp_path / "out").mkdir()
    cache.store()
    assert not cache.replay()
    assert not (tmp_path / "cache").exists()


def test_app_py_replays_a_stored_synth_without_building_the_app(tmp_path: Path) -> None:
    # given a stored entry under the key of this checkout's inputs (a marker no real synth writes)
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CDK_")},
        CACHE_ENV: str(tmp_path / "cache"),
        **synth_env(tmp_path / "out"),
    }
    entry_key = key(REPO_ROOT, environ)
    assert entry_key is not None
    (tmp_path / "cache" / entry_key).mkdir(parents=True)
    (tmp_path / "cache" / entry_key / "manifest.json").write_text('{"replayed": true}')
    # when the CLI would run the app
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "app.py")], env=environ, capture_output=True, text=True, check=False
    )
    # then it exits 0 at once with the stored output (no jsii runtime started, nothing printed)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert (tmp_path / "out/manifest.json").read_text() == '{"replayed": true}'
