"""Unit tests of the promotion's pure parts: template diffs, plans, gates and their evidence, test
records, assembly zips, who approves, and the step runner. No AWS (the emulator tests are the
test_e2e_* files and test_lock_records_stability.py)."""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from vectora_core.environments import get_env_config
from vectora_ops.errors import UsageError
from vectora_ops.operation.records import DeploymentRecord, iso
from vectora_ops.operation.state import ConfigObject, EnvState
from vectora_ops.operation.steps import Steps
from vectora_ops.promotion import assembly, gates
from vectora_ops.promotion.cli import alarm_emails
from vectora_ops.promotion.gitinfo import Checkout
from vectora_ops.promotion.plan import build_plan, compare, moved, source_part
from vectora_ops.promotion.stability import Stability
from vectora_ops.promotion.testrecords import (
    RECORDS_ENV,
    TestRecord,
    read_record,
    record_path,
    refusal,
    write_record,
)
from vectora_ops.promotion.watch import Watch
from vectora_ops.template_diff import diff_templates

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
COMMIT = "a" * 40


def state(
    env: str, ingest: str = "sha-1", config: str = "c1", *, extra: dict[str, str] | None = None
) -> EnvState:
    configs = {"clients/x.yaml": ConfigObject("clients/x.yaml", "v1", config, 10, semver="1.0.0")}
    configs |= {k: ConfigObject(k, "v1", v, 10) for k, v in (extra or {}).items()}
    return EnvState(
        env=env,
        functions={"ingest-v2": ingest, "newsletter-v2": "n"},
        layers={"vectora-core": {"arn": "arn:1", "code_sha256": "l"}},
        configs=configs,
    )


def record(**changes: object) -> DeploymentRecord:
    fields: dict[str, object] = dict(
        env="dev", via="deploy", commit=COMMIT, tree_clean=True, operator="me", started_at=iso(NOW),
        finished_at=iso(NOW), assembly={"sha256": "s", "location": "s3://b/k"},
        functions={"ingest-v2": "sha-1", "newsletter-v2": "n"},
        layers={"vectora-core": {"arn": "arn:1", "code_sha256": "l"}},
    )  # fmt: skip
    fields.update(changes)
    return DeploymentRecord(**fields)  # type: ignore[arg-type]


def test_a_record_written_before_operator_was_named_so_reads_its_who() -> None:
    data = json.loads(record().to_json())
    data["who"] = data.pop("operator")  # the key deployment records had until then
    assert DeploymentRecord.from_json(data) == record()


# --- templates -----------------------------------------------------------------------------------
def test_template_diff_names_added_changed_removed_and_flags_permissions() -> None:
    old = {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {"A": 1}},
                         "Gone": {"Type": "AWS::SNS::Topic"},
                         "Role": {"Type": "AWS::IAM::Role", "Properties": {"P": 1}},
                         "Meta": {"Type": "AWS::CDK::Metadata", "Metadata": {"x": 1}}}}  # fmt: skip
    new = {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {"A": 2}},
                         "Role": {"Type": "AWS::IAM::Role", "Properties": {"P": 2}},
                         "Meta": {"Type": "AWS::CDK::Metadata", "Metadata": {"x": 2}, "Properties": {"A": 1}},
                         "New": {"Type": "AWS::S3::BucketPolicy"}}}  # fmt: skip
    diff = diff_templates("s", new, old)
    assert diff.added == ("New (AWS::S3::BucketPolicy)",)
    assert diff.changed == ("Fn (AWS::Lambda::Function)", "Role (AWS::IAM::Role)")  # metadata never counts
    assert diff.removed == ("Gone (AWS::SNS::Topic)",)
    assert diff.permissions == ("New", "Role")
    assert diff.summary() == "1 added, 2 changed, 1 removed, PERMISSIONS: New, Role"
    assert diff_templates("s", new, new).summary() == "no change"
    assert diff_templates("s", new, None).summary() == "new stack (3 resources)"  # Meta deploys nothing
    function = {"Type": "AWS::Lambda::Function", "Properties": {"A": 2, "KmsKeyArn": "k"}}
    encrypted = {"Resources": {**new["Resources"], "Fn": function}}
    assert diff_templates("s", encrypted, new).permissions == ("Fn",)  # a security property, any type


# --- plans ------------------------------------------------------------------------------------------
def test_plan_rows_side_by_side_and_its_sha_covers_every_part() -> None:
    source, target = (
        state("dev", "sha-2", "c2", extra={"canonical/a.yaml": "a"}),
        state("stage", extra={"canonical/b.yaml": "b"}),
    )
    plan = build_plan(source=source, target=target, client="x", commit=COMMIT, assembly_sha256="s", stacks={})
    changes = {(r.kind, r.name): (r.source, r.target, r.change) for r in plan.changes()}
    assert changes[("function", "ingest-v2")] == ("sha-2", "sha-1", "update")
    assert changes[("client config", "x")][2] == "update" and changes[("client config", "x")][0].startswith(
        "1.0.0"
    )
    assert changes[("canonical", "a.yaml")][2] == "add" and changes[("canonical", "b.yaml")][2] == "remove"
    assert ("function", "newsletter-v2") not in changes
    again = build_plan(
        source=source, target=target, client="x", commit=COMMIT, assembly_sha256="s", stacks={}
    )
    assert again.sha256 == plan.sha256
    other = build_plan(
        source=source, target=state("stage"), client="x", commit=COMMIT, assembly_sha256="s", stacks={}
    )
    assert other.sha256 != plan.sha256  # the target part counts too
    assert [r.change for r in compare(state("a"), state("b"))] == ["same"] * 4


def test_the_source_moved_on_code_or_config_content_not_on_a_new_version_of_the_same_bytes() -> None:
    before = source_part(state("dev"), COMMIT, "s")
    same_bytes = state("dev")
    same_bytes.configs["clients/x.yaml"] = ConfigObject("clients/x.yaml", "v2", "c1", 10)
    assert moved(before, source_part(same_bytes, COMMIT, "s")) == []
    assert moved(before, source_part(state("dev", config="c9"), COMMIT, "s")) == ["config clients/x.yaml"]
    assert moved(before, source_part(state("dev", ingest="z"), "b" * 40, "t")) == [
        "commit", "assembly sha256", "function ingest-v2"
    ]  # fmt: skip


# --- gates --------------------------------------------------------------------------------------------
def test_tests_gate_reads_the_record_of_the_recorded_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RECORDS_ENV, str(tmp_path / "records"))
    missing = gates.tests_gate(tmp_path, COMMIT)
    assert not missing.passed and "no test record for commit aaaaaaaaaaaa" in missing.line()
    assert "make test" in (missing.fix or "")
    write_record(tmp_path, TestRecord(COMMIT, True, False, 1, "t", {"failed": 1}))
    assert "not green: failed (exit status 1)" in gates.tests_gate(tmp_path, COMMIT).line()
    write_record(tmp_path, TestRecord(COMMIT, True, True, 0, "t", {"passed": 3}))
    green = gates.tests_gate(tmp_path, COMMIT)
    assert green.passed and green.evidence["counts"] == {"passed": 3}
    assert record_path(tmp_path, COMMIT) == tmp_path / "records" / f"{COMMIT}.json"
    assert read_record(tmp_path, "b" * 40) is None


def test_the_source_record_gate_refuses_no_record_a_dirty_tree_and_drift() -> None:
    live = state("dev")
    fix = "scripts/deploy/deploy_lambda.sh --env dev"
    assert gates.source_record_gate("dev", record(), "k", live, fix).passed
    none = gates.source_record_gate("dev", None, None, live, fix)
    assert not none.passed and none.fix == fix
    assert "dirty tree" in (
        gates.source_record_gate("dev", record(tree_clean=False), "k", live, fix).problem or ""
    )
    drift = gates.source_record_gate("dev", record(), "k", state("dev", ingest="changed-by-hand"), fix)
    assert not drift.passed and "function ingest-v2" in (drift.problem or "") and drift.fix == fix


def test_prod_needs_an_approver_stage_a_validator_or_an_approver() -> None:
    prod, stage = get_env_config("prod"), get_env_config("stage")
    assert not gates.approval_gate(prod, None, "Ana").passed  # a validation is no approval
    assert not gates.approval_gate(prod, "", None).passed  # nobody could be named
    assert gates.approval_gate(prod, "Olga", None).evidence == {"approved_by": "Olga"}
    assert gates.approval_gate(stage, None, "Ana").passed and gates.approval_gate(stage, "Olga", None).passed
    assert "--validate" in (gates.approval_gate(stage, None, None).fix or "")


def test_freeze_gate_holds_during_the_watch_and_a_hotfix_skips_it() -> None:
    prod = get_env_config("prod")
    watch = Watch(record(env="prod", watch_until=iso(NOW + timedelta(hours=47))), NOW + timedelta(hours=47))
    frozen = gates.freeze_gate(prod, watch, NOW, None)
    assert frozen is not None and not frozen.passed and "46 h 59 min left" not in (frozen.problem or "")
    assert "47 h 00 min left" in (frozen.problem or "")
    skipped = gates.freeze_gate(prod, watch, NOW, "urgent fix")
    assert skipped is not None and skipped.passed and skipped.skipped == "hotfix: urgent fix"
    assert gates.freeze_gate(prod, watch, NOW + timedelta(hours=48), None).passed  # type: ignore[union-attr]
    assert gates.freeze_gate(get_env_config("stage"), watch, NOW, None) is None  # stage has no watch


def test_stability_problems_name_the_age_the_rollbacks_and_the_alarms() -> None:
    last = record(env="stage", finished_at=iso(NOW - timedelta(days=3)))
    young = Stability("stage", 14, NOW, "k", last, rollbacks=["snap at t"], alarms=["a-stage-errors at t"])
    problems = young.problems()
    assert problems[0].startswith("its last deployment (deploy, ") and "3.0 days old" in problems[0]
    assert (
        "11.0 days to go" in problems[0]
        and "rolled back since then" in problems[1]
        and "a-stage-errors" in problems[2]
    )
    old = Stability("stage", 14, NOW, "k", record(env="stage", finished_at=iso(NOW - timedelta(days=15))))
    assert old.problems() == [] and gates.stability_gate(old, None).passed  # type: ignore[union-attr]
    assert Stability("stage", 14, NOW).problems()[0].startswith("stage has no deployment record")
    assert gates.stability_gate(young, "fix").skipped == "hotfix: fix"  # type: ignore[union-attr]


def test_a_refusal_names_the_first_failing_gate_and_counts_the_others() -> None:
    found = [
        gates.Gate("a", True),
        gates.Gate("b", False, problem="no", fix="do"),
        gates.Gate("c", False, problem="x"),
    ]
    with pytest.raises(gates.GateRefused) as refused:
        gates.refuse_if_failed(found, "promotion dev -> stage")
    assert (
        str(refused.value)
        == "promotion dev -> stage refused: gate b: no; to pass it: do (and 1 more gate(s): c)"
    )


def test_who_approves_explicit_then_variable_then_git_then_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("USER", "unix-user")
    monkeypatch.setenv(gates.APPROVER_ENV, "  Olga   Ops ")
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    assert gates.person("Ana  Métier", repo) == "Ana Métier"
    assert gates.person(None, repo) == "Olga Ops"
    monkeypatch.delenv(gates.APPROVER_ENV)
    assert gates.person(None, repo) == "unix-user"  # no git user.name anywhere
    subprocess.run(["git", "-C", str(repo), "config", "user.name", "Git User"], check=True)
    assert gates.person(None, repo) == "Git User"
    subprocess.run(["git", "-C", str(repo), "config", "--unset", "user.name"], check=True)
    monkeypatch.delenv("USER")
    assert gates.person(None, repo) == ""


# --- test records ---------------------------------------------------------------------------------
def test_only_a_full_run_of_one_clean_commit_writes_a_record() -> None:
    clean, dirty = Checkout(COMMIT, True), Checkout(COMMIT, False)
    assert refusal(True, clean, clean) is None
    assert refusal(False, clean, clean).startswith("not a full run")  # type: ignore[union-attr]
    assert refusal(True, clean, dirty) == "the tree of aaaaaaaaaaaa is dirty"  # dirty at the end counts
    assert refusal(True, dirty, clean) == "the tree of aaaaaaaaaaaa is dirty"
    assert refusal(True, clean, Checkout("b" * 40, True)).startswith("the commit changed")
    assert refusal(True, None, clean) == "not a git checkout"


# --- assembly -------------------------------------------------------------------------------------
def test_assembly_zip_is_deterministic_and_unpacks_inside_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "asm"
    (folder / "asset.1").mkdir(parents=True)
    (folder / "manifest.json").write_text("{}")
    (folder / "asset.1" / "run.sh").write_text("#!/bin/sh\n")
    (folder / "asset.1" / "run.sh").chmod(0o755)
    first = assembly.build(folder)
    (folder / "manifest.json").touch()  # a new mtime changes nothing
    assert assembly.build(folder).sha256 == first.sha256
    out = assembly.unpack(first.data, tmp_path / "out")
    assert (out / "manifest.json").read_text() == "{}" and (out / "asset.1" / "run.sh").stat().st_mode & 0o111
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../outside.txt", "x")
    with pytest.raises(assembly.AssemblyError, match="outside its folder"):
        assembly.unpack(evil.getvalue(), tmp_path / "evil")
    assert not (tmp_path / "outside.txt").exists()
    assert assembly.key_of(COMMIT, "f" * 64) == f"assemblies/{COMMIT}/{'f' * 64}.zip"


def test_alarm_subscribers_flag_then_variable_then_cdk_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VECTORA_ALARM_EMAILS", "var@example.com")
    (tmp_path / "cdk.json").write_text('{"context": {}}')
    assert alarm_emails("flag@example.com", tmp_path) == "flag@example.com"
    assert alarm_emails(None, tmp_path) == "var@example.com"
    monkeypatch.delenv("VECTORA_ALARM_EMAILS")
    with pytest.raises(UsageError, match="--alarm-emails"):
        alarm_emails(None, tmp_path)
    (tmp_path / "cdk.json").write_text('{"context": {"alarm_emails": "ctx@example.com"}}')
    assert alarm_emails(None, tmp_path) is None  # the app reads cdk.json itself


# --- steps ----------------------------------------------------------------------------------------
def test_steps_announce_time_record_and_let_a_fault_hit_the_named_step() -> None:
    lines: list[str] = []

    def hook(step: str) -> None:
        if step == "two":
            raise RuntimeError("injected")

    steps = Steps(lambda event: lines.append(event.message or ""), lambda: NOW, hook)
    with steps.step("one", "first step") as info:
        info["evidence"] = 1
    with pytest.raises(RuntimeError), steps.step("two", "second step"):
        lines.append("never reached")
    assert lines[0] == "▶ first step" and lines[1].startswith("✔ first step (")
    assert lines[2:] == ["▶ second step", "✘ second step: RuntimeError: injected"]
    assert [(r["step"], r["outcome"]) for r in steps.records] == [("one", "done"), ("two", "failed")]
    assert steps.records[0]["evidence"] == 1 and steps.current == "two"
