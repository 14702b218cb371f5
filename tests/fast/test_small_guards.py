"""Small guards of the operations tooling (issue 24, item 8), each proven where it acts:

- a single-valued option given twice is refused (exit 2), not silently its last value;
- a client named twice in ``publish_config.py --client`` is published once;
- a local snapshot write that fails leaves no ``.part`` file behind;
- a client id equal to an environment's name is refused everywhere one is accepted;
- dev's retention counts rollbacks' ``pre_rollback_…`` snapshots apart: a string of rollbacks
  does not push out the snapshot taken on purpose.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fast.conftest import Clock, EngineFactory
from vectora_core.config.schema import ClientProfile
from vectora_core.naming import ENV_NAMES, is_client_id
from vectora_ops import cli
from vectora_ops.config.publish import repo_files
from vectora_ops.snapshots import SnapshotError
from vectora_ops.snapshots.ids import check_client

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"


def script(path: str, *argv: str, limit_file_size: int | None = None) -> subprocess.CompletedProcess[str]:
    """A script as an operator runs it, AWS unreachable; ``limit_file_size``: a disk that fills up
    after that many bytes per file (RLIMIT_FSIZE: a write beyond it fails with EFBIG)."""

    def limited() -> None:
        if limit_file_size is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an error from write(), not a killed process
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_size, limit_file_size))

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL="http://localhost:1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106  # dummy: nothing answers there
        AWS_DEFAULT_REGION="eu-west-3",
        AWS_MAX_ATTEMPTS="1",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONPATH=str(REPO),
    )
    return subprocess.run(  # noqa: S603  # a script of this repository
        [sys.executable, str(SCRIPTS / path), *argv],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        preexec_fn=limited,  # noqa: PLW1509  # no threads in this process need protecting here
    )


@pytest.mark.parametrize(
    ("path", "argv"),
    [
        (
            "maintenance/rollback_snapshot.py",
            ["--snapshot", "a_20260101_000000", "--snapshot=b_20260101_000000"],
        ),
        ("maintenance/create_snapshot.py", ["--name", "a", "--name", "b"]),
        ("maintenance/cleanup_snapshots.py", ["--older-than", "7", "--older-than", "700"]),
        ("maintenance/list_snapshots.py", ["--env", "prod"]),
    ],
)
def test_a_single_valued_option_given_twice_is_refused(path: str, argv: list[str]) -> None:
    result = script(path, "--env", "dev", *argv)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "given more than once: give it once" in lines[0], result.stderr
    assert result.stdout == ""


def test_the_rule_is_the_parser_s_own_and_leaves_repeatable_options_alone() -> None:
    parser = cli.parser("x.py", "test")
    parser.add_argument("--snapshot")
    parser.add_argument("--client", action="append")
    args = parser.parse_args(["--env", "dev", "--snapshot", "a", "--client", "a", "--client", "b"])
    assert vars(args) == {"env": "dev", "snapshot": "a", "client": ["a", "b"]}
    with pytest.raises(SystemExit) as raised:
        parser.parse_args(["--env", "dev", "--snap", "a", "--snapshot", "b"])  # an abbreviation too
    assert raised.value.code == 2


def test_a_client_named_twice_is_published_once() -> None:
    files = repo_files(REPO, ["lai_weekly", "lai_weekly"])
    assert [f.key for f in files if f.key.startswith("clients/")] == ["clients/lai_weekly.yaml"]


def test_a_failed_local_write_leaves_no_part_file(tmp_path: Path) -> None:
    # given a disk that takes no file over 64 bytes: the reserved metadata (~250 bytes) cannot be written
    store = tmp_path / "store"
    result = script(
        "maintenance/create_snapshot.py",
        "--env",
        "dev",
        "--name",
        "full",
        "--local",
        str(store),
        limit_file_size=64,
    )
    assert result.returncode == 1, result.stderr
    assert "File too large" in result.stderr and len(result.stderr.splitlines()) == 1, result.stderr
    left = [p.relative_to(store).as_posix() for p in store.rglob("*") if p.is_file()]
    assert not [p for p in left if p.endswith(".part")], left


@pytest.mark.parametrize("env", ENV_NAMES)
def test_a_client_id_equal_to_an_environment_name_is_refused(env: str) -> None:
    assert not is_client_id(env)
    with pytest.raises(SnapshotError, match="not an environment's name"):
        check_client(env)
    with pytest.raises(ValueError, match="not an environment's name"):
        ClientProfile.model_validate({"name": "x", "client_id": env, "version": "1.0.0"})
    result = script("maintenance/create_snapshot.py", "--env", "dev", "--name", "x", "--client", env)
    assert result.returncode == 2 and "not an environment's name" in result.stderr, result.stderr
    assert is_client_id(f"{env}_weekly")  # only the name itself


def test_rollbacks_pre_rollback_snapshots_do_not_push_out_the_validated_one(
    s3: Any, make_engine: EngineFactory, clock: Clock
) -> None:
    engine = make_engine()
    validated = engine.create("local_validated", components=["canonical"])
    clock.advance(hours=1)
    automatic = []
    for _ in range(9):  # nine rollbacks in a row, each with its pre-rollback snapshot
        automatic.append(engine.create(f"pre_rollback_{validated}", components=["canonical"]))
        clock.advance(minutes=5)
    # when
    deleted = engine.apply_retention()
    # then: the pre_rollback ones beyond dev's 7 go; the one taken on purpose stays
    assert deleted == sorted(automatic[:2])
    assert validated in {i.snapshot_id for i in engine.list_snapshots()}
    # and deliberate snapshots are still held to their own 7
    for _ in range(8):
        engine.create("manual", components=["canonical"])
        clock.advance(minutes=1)
    assert validated in engine.apply_retention()
