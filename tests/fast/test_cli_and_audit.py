"""The maintenance scripts' exit statuses (2: the command line is wrong, nothing attempted nor
audited; 1: a valid request refused or failed) and the rollback audit, which never leaves
``audit/rollbacks/``: the scripts run in this process (``main(argv)`` through ``cli.run``)."""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.fast.conftest import BACKUPS, CONFIG, ENV, START, EngineFactory, keys, make_buckets, put
from tests.support.cli_cases import ERROR_CASES, USAGE
from vectora_ops import cli
from vectora_ops.audit import audit_key
from vectora_ops.environment import Environment
from vectora_ops.operation.rollback import Rollback
from vectora_ops.snapshots import BackupsBucketStore, LocalStore, SnapshotError

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts" / "maintenance"
AUDIT_KEY_RE = re.compile(r"^audit/rollbacks/\d{8}T\d{12}Z_[A-Za-z0-9._-]+\.json$")


def script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name.removesuffix(".py"), SCRIPTS / name)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """``run("rollback_snapshot.py", "--env", "dev", ...)`` -> (exit status, stdout, stderr)."""

    def call(name: str, *argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_:
            cli.run(script(name).main, list(argv))
        out, err = capsys.readouterr()
        return int(exit_.value.code or 0), out, err

    return call


def all_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


# --- the audit never leaves audit/rollbacks/ --------------------------------------------------------

TRAVERSALS = [
    "../../../../../escaped",
    "../escaped_20260101_000000",
    "a/../../b_20260101_000000",
    "pre_*/../x",
]


@pytest.mark.parametrize("snapshot", TRAVERSALS)
def test_a_climbing_snapshot_id_is_a_bad_command_line_with_local_dir(
    s3: Any, run: Run, tmp_path: Path, snapshot: str
) -> None:
    local = tmp_path / "x" / "a" / "b"
    local.mkdir(parents=True)
    code, _, err = run("rollback_snapshot.py", "--env", ENV, "--local", str(local), "--snapshot", snapshot)
    assert code == 2
    assert err.count("\n") == 1 and "argument --snapshot:" in err
    assert all_files(tmp_path) == []  # nothing audited, inside DIR or out


@pytest.mark.parametrize("snapshot", TRAVERSALS)
def test_a_climbing_snapshot_id_is_a_bad_command_line_with_the_bucket(
    s3: Any, run: Run, snapshot: str
) -> None:
    code, _, err = run("rollback_snapshot.py", "--env", ENV, "--snapshot", snapshot)
    assert code == 2 and "argument --snapshot:" in err
    assert keys(s3, BACKUPS) == []


def test_a_rollback_refuses_a_climbing_id_too_and_audits_nothing(
    s3: Any, make_engine: EngineFactory, tmp_path: Path
) -> None:
    for engine in (make_engine(), make_engine(local=tmp_path)):
        with pytest.raises(SnapshotError, match="malformed snapshot id"):
            Rollback(engine, "../../../../../escaped").run()
    assert keys(s3, BACKUPS) == [] and all_files(tmp_path) == []


def test_refused_attempts_are_audited_under_audit_rollbacks_with_safe_keys(
    s3: Any, run: Run, make_engine: EngineFactory
) -> None:
    # given one snapshot; then three valid requests that are refused
    snapshot_id = make_engine().create("pre_deploy_s1", components=["client_config"])
    unknown = "no_such_20260101_000000"
    assert run("rollback_snapshot.py", "--env", ENV, "--snapshot", unknown)[0] == 1
    assert run("rollback_snapshot.py", "--env", ENV, "--snapshot", "nothing_matches_*")[0] == 1
    code, _, err = run(
        "rollback_snapshot.py", "--env", ENV, "--snapshot", snapshot_id, "--components", "canonical"
    )
    assert code == 1 and "holds no 'canonical' component" in err
    # then: one record each, all under audit/rollbacks/, none with "..", the label from validated values
    audits = keys(s3, BACKUPS, "audit/")
    assert len(audits) == 3 and all(AUDIT_KEY_RE.match(k) and ".." not in k for k in audits), audits
    assert sorted(k.split("_", 1)[1] for k in audits) == sorted(
        [f"{unknown}.json", "nothing_matches_.json", f"{snapshot_id}.json"]
    )
    entries = {json.loads(s3.get_object(Bucket=BACKUPS, Key=k)["Body"].read())["snapshot"] for k in audits}
    assert entries == {unknown, "nothing_matches_*", snapshot_id}


def test_a_pattern_is_audited_under_the_id_it_resolved_to(
    s3: Any, run: Run, make_engine: EngineFactory
) -> None:
    snapshot_id = make_engine().create("pre_deploy_s1", components=["client_config"])
    put(s3, CONFIG, "clients/lai_weekly.yaml", b"changed\n")
    code, out, _ = run(
        "rollback_snapshot.py", "--env", ENV, "--snapshot", "pre_deploy_*", "--components", "client_config"
    )
    assert code == 0, out
    (audit,) = keys(s3, BACKUPS, "audit/")
    assert AUDIT_KEY_RE.match(audit) and audit.endswith(f"_{snapshot_id}.json")
    entry = json.loads(s3.get_object(Bucket=BACKUPS, Key=audit)["Body"].read())
    assert (entry["pattern"], entry["snapshot"], entry["result"]) == (
        "pre_deploy_*",
        snapshot_id,
        "succeeded",
    )


def test_prod_without_an_approver_is_refused_and_audited(aws: Any, run: Run) -> None:
    make_buckets(aws, "prod")
    code, _, err = run("rollback_snapshot.py", "--env", "prod", "--snapshot", "x_20260101_000000")
    assert code == 1 and 'needs --approve "<who>"' in err
    (audit,) = keys(aws, "vectora-inbox-backups-prod", "audit/")
    assert AUDIT_KEY_RE.match(audit) and audit.endswith("_x_20260101_000000.json")


@pytest.mark.parametrize("label", ["../../../../escaped", "a/b", "..", "", "pre_deploy_*", "x" * 300])
def test_the_stores_write_audit_records_in_their_folder_whatever_the_label(
    s3: Any, tmp_path: Path, label: str
) -> None:
    aws = Environment(ENV, workers=1)
    local = LocalStore(aws, tmp_path / "dir")
    written = Path(local.write_audit("rollbacks", START, label, {"label": label}))
    assert written.resolve().parent == (tmp_path / "dir" / "audit" / "rollbacks").resolve()
    assert all_files(tmp_path) == [written]
    location = BackupsBucketStore(aws).write_audit("rollbacks", START, label, {"label": label})
    (key,) = keys(s3, BACKUPS, "")
    assert location == f"s3://{BACKUPS}/{key}" and AUDIT_KEY_RE.match(key) and ".." not in key
    s3.delete_object(Bucket=BACKUPS, Key=key)


def test_an_audit_kind_is_one_lowercase_word() -> None:
    assert audit_key("rollbacks", START, "x").startswith("audit/rollbacks/20260130T143022000000Z_x")
    with pytest.raises(ValueError, match="must be lowercase letters"):
        audit_key("../rollbacks", START, "x")


# --- exit statuses, every script ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "argv", "code", "message"), ERROR_CASES, ids=[f"{c[0]} {' '.join(c[1])}" for c in ERROR_CASES]
)
def test_each_script_exits_2_on_a_bad_command_line_and_1_on_a_refusal(
    s3: Any, run: Run, name: str, argv: list[str], code: int, message: str
) -> None:
    before = keys(s3, BACKUPS)
    status, out, err = run(name, *argv)
    assert (status, err.count("\n")) == (code, 1), err
    assert message in err and out == ""
    if code == USAGE:
        assert keys(s3, BACKUPS) == before  # nothing attempted, nothing audited


def test_the_scripts_work_end_to_end_on_the_bucket(s3: Any, run: Run) -> None:
    code, out, _ = run("create_snapshot.py", "--env", ENV, "--name", "cli", "--components", "client_config")
    assert code == 0
    snapshot_id = out.strip().splitlines()[-1]
    code, out, _ = run("list_snapshots.py", "--env", ENV, "--json")
    assert code == 0 and [row["id"] for row in json.loads(out)] == [snapshot_id]
    put(s3, CONFIG, "clients/lai_weekly.yaml", b"changed\n")
    code, out, err = run("rollback_snapshot.py", "--env", ENV, "--snapshot", snapshot_id, "--dry-run")
    assert code == 0 and "dry run: nothing was changed" in out and "audit: s3://" in err
    code, out, _ = run("cleanup_snapshots.py", "--env", ENV, "--older-than", "0", "--dry-run")
    assert code == 0 and "0 snapshot(s) would delete" in out  # the newest complete one always stays
