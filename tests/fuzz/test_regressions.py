"""What the fuzzer found in the operations scripts, pinned as plain examples (each was a traceback,
a second line on stderr or a value accepted that should not be; each is fixed and stays fixed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fuzz.harness import SCRIPTS, Outcome, run_script
from tests.fuzz.worlds import UnreachableWorld
from vectora_ops.environment import Environment
from vectora_ops.snapshots import LocalStore, SnapshotEngine, SnapshotError
from vectora_ops.snapshots.ids import MAX_DAYS


def run(tmp_path: Path, script: str, *argv: str) -> Outcome:
    with UnreachableWorld():
        return run_script(SCRIPTS / script, list(argv), tmp_path)


def one_error_line(outcome: Outcome) -> str:
    assert outcome.traceback is None, outcome.describe()
    lines = outcome.stderr.splitlines()
    assert len(lines) == 1 and "error" in lines[0], outcome.describe()
    return lines[0]


@pytest.mark.parametrize("junk", ["a\nb", "\x1b[31mred", "lai\udce9weekly", "\u202eevil"])
def test_an_unrecognized_argument_is_escaped_on_one_line(tmp_path: Path, junk: str) -> None:
    # argparse quotes bad values with repr() but prints unrecognized arguments as they are.
    outcome = run(tmp_path, "maintenance/list_snapshots.py", "--env", "dev", junk)
    assert outcome.code == 2
    line = one_error_line(outcome)
    assert "unrecognized arguments: " + ascii(junk)[1:-1] in line
    assert line.isprintable()


@pytest.mark.parametrize("days", ["²", "٣", str(MAX_DAYS + 1), "99999999999", "9" * 10_000, "-1", " 7"])
def test_older_than_takes_ascii_digits_up_to_a_century(tmp_path: Path, days: str) -> None:
    # '²' passed str.isdigit() then failed int() ("invalid days_type value"); 99999999999 passed
    # both and overflowed the date arithmetic (OverflowError traceback).
    for script in ("maintenance/cleanup_snapshots.py", "maintenance/archive_snapshots.py"):
        outcome = run(tmp_path, script, "--env", "dev", "--older-than", days)
        assert outcome.code == 2, outcome.describe()
        assert f"from 0 to {MAX_DAYS}" in one_error_line(outcome)


def test_older_than_a_century_is_accepted(tmp_path: Path) -> None:
    argv = ["--env", "dev", "--older-than", str(MAX_DAYS), "--local", str(tmp_path / "store")]
    outcome = run(tmp_path, "maintenance/cleanup_snapshots.py", *argv)
    assert outcome.code == 0 and outcome.stdout == "0 snapshot(s) deleted\n", outcome.describe()


def test_the_engine_refuses_an_age_beyond_a_century_too() -> None:
    with UnreachableWorld():
        aws = Environment("dev")
        engine = SnapshotEngine("dev", aws=aws, store=LocalStore(aws, "unused"))
        with pytest.raises(SnapshotError, match=f"from 0 to {MAX_DAYS}"):
            engine.cleanup(10**12)
        with pytest.raises(SnapshotError, match=f"from 0 to {MAX_DAYS}"):
            SnapshotEngine(
                "prod", aws=Environment("prod"), store=LocalStore(Environment("prod"), "unused")
            ).archive(-1)


def local_values(tmp_path: Path) -> list[str]:
    (tmp_path / "a-file").write_text("not a folder")
    return [str(tmp_path / "a-file"), str(tmp_path / ("n" * 300)), "a\nb", "\udcff", ""]


@pytest.mark.parametrize("index", range(5))
def test_local_must_be_a_printable_folder_path(tmp_path: Path, index: int) -> None:
    # A file, a name too long for the file system, a newline, a byte that is not UTF-8: each was a
    # NotADirectoryError/OSError traceback, a listing of nothing (exit 0) or a path printed raw.
    value = local_values(tmp_path)[index]
    for script in ("list_snapshots.py", "create_snapshot.py", "cleanup_snapshots.py", "rollback_snapshot.py"):
        extra = {
            "create_snapshot.py": ["--name", "x"],
            "rollback_snapshot.py": ["--snapshot", "x_20260101_000000"],
        }
        outcome = run(
            tmp_path, f"maintenance/{script}", "--env", "dev", "--local", value, *extra.get(script, [])
        )
        assert outcome.code == 2, outcome.describe()
        assert "argument --local:" in one_error_line(outcome)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_a_folder_that_cannot_be_created_is_one_line_exit_1(tmp_path: Path) -> None:
    # Valid on the command line (the path does not exist), refused by the machine: OSError -> one line.
    (tmp_path / "a-file").write_text("not a folder")
    outcome = run(
        tmp_path, "maintenance/create_snapshot.py", "--env", "dev", "--name", "x", "--local", "a-file/sub"
    )
    assert outcome.code == 1, outcome.describe()
    assert "Not a directory" in one_error_line(outcome)
    assert (tmp_path / "a-file").read_text() == "not a folder"


@pytest.mark.parametrize(
    "script", ["invoke/invoke_ingest_v2.py", "invoke/run_pipeline.py", "invoke/local_demo.py"]
)
def test_a_client_id_is_at_most_64_characters(tmp_path: Path, script: str) -> None:
    # 'lai_weekly' * 1000 matched the client-id pattern and went on to become keys and payloads.
    outcome = run(tmp_path, script, "--env", "dev", "--client-id", "lai_weekly" * 1000)
    assert outcome.code == 2, outcome.describe()
    assert "up to 64 lowercase letters" in one_error_line(outcome)


def test_the_local_demo_follows_the_cli_pattern(tmp_path: Path) -> None:
    # It was plain argparse and sys.exit(main()): a two-line usage error, and with an unreachable
    # AWS an EndpointConnectionError traceback.
    usage = run(tmp_path, "invoke/local_demo.py")
    assert usage.code == 2 and "pass --env dev|stage|prod" in one_error_line(usage)
    stage = run(tmp_path, "invoke/local_demo.py", "--env", "stage")
    assert stage.code == 1 and "dev only" in one_error_line(stage)
    unreachable = run(tmp_path, "invoke/local_demo.py", "--env", "dev")  # AWS_ENDPOINT_URL: localhost:1
    assert unreachable.code == 1, unreachable.describe()
    assert "Could not connect to the endpoint URL" in one_error_line(unreachable)
    assert unreachable.stdout == ""  # nothing published, nothing run
    assert "AWS_ENDPOINT_URL" not in os.environ or os.environ["AWS_ENDPOINT_URL"] != "http://localhost:1"
