"""Pure parts of the snapshot engine: ids, components, scopes, plain-line progress."""

from __future__ import annotations

import argparse
import io
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from vectora_core.naming import client_of
from vectora_ops import cli
from vectora_ops.environment import is_not_found, is_write_conflict
from vectora_ops.snapshots import COMPONENTS, DEFAULT_ROLLBACK_COMPONENTS, SnapshotError, make_id, parse_id
from vectora_ops.snapshots.ids import check_client, check_components, check_name, check_ref, parse_components
from vectora_ops.snapshots.progress import ProgressEvent
from vectora_ops.snapshots.scopes import s3_scope


def test_id_round_trip_is_utc_and_keeps_underscores_in_the_name() -> None:
    when = datetime(2026, 1, 30, 14, 30, 22, tzinfo=UTC)
    snapshot_id = make_id("lai_v7_stable", when)
    assert snapshot_id == "lai_v7_stable_20260130_143022"
    assert parse_id(snapshot_id) == ("lai_v7_stable", when)


def test_id_of_a_name_that_itself_ends_like_a_timestamp() -> None:
    # pre_rollback_ snapshots are named after the snapshot they restore.
    name, when = parse_id("pre_rollback_lai_v7_stable_20260130_143022_20260131_090000")
    assert name == "pre_rollback_lai_v7_stable_20260130_143022"
    assert when == datetime(2026, 1, 31, 9, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "bad",
    [
        "lai_v7_stable",
        "lai_v7_stable_20260130",
        "lai_20261330_143022",
        "_20260130_143022",
        "../x_20260130_143022",
        "",
    ],
)
def test_malformed_ids_are_one_line_errors_with_an_example(bad: str) -> None:
    with pytest.raises(SnapshotError) as err:
        parse_id(bad)
    message = str(err.value)
    assert "\n" not in message
    assert "malformed snapshot id" in message and "lai_v7_stable_20260130_143022" in message


@pytest.mark.parametrize("bad", ["", "a b", "x/y", "-x", "é", "a..b", "x" * 129])
def test_bad_names_are_refused(bad: str) -> None:
    with pytest.raises(SnapshotError, match="invalid snapshot name"):
        check_name(bad)


@pytest.mark.parametrize(
    "ref", ["lai_v7_stable_20260130_143022", "pre_deploy_*", "*", "a_2026013?_*", "x_[0-9]*"]
)
def test_ids_and_patterns_over_the_id_alphabet_are_references(ref: str) -> None:
    assert check_ref(ref) == ref


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("../../../../../escaped", "malformed snapshot id"),
        ("a/b_20260130_143022", "malformed snapshot id"),
        ("a..b_20260130_143022", "malformed snapshot id"),
        ("pre_deploy_*/x", "invalid snapshot pattern"),
        ("../pre_*", "invalid snapshot pattern"),
        ("pre_*..", "invalid snapshot pattern"),
        ("pre_[!x]*", "invalid snapshot pattern"),
        ("", "malformed snapshot id"),
    ],
)
def test_references_that_could_leave_a_folder_are_refused(bad: str, message: str) -> None:
    with pytest.raises(SnapshotError, match=message) as err:
        check_ref(bad)
    assert "\n" not in str(err.value)


def test_the_cli_form_of_components_needs_at_least_one() -> None:
    assert parse_components("curated,canonical") == ("canonical", "curated")
    with pytest.raises(SnapshotError, match="no component given"):
        parse_components("")


def test_client_ids_are_checked() -> None:
    assert check_client("lai_weekly") == "lai_weekly"
    with pytest.raises(SnapshotError, match="invalid client id"):
        check_client("../etc")


@pytest.mark.parametrize(
    "value", ["lai_weekly", "a1", "../etc", "lai-weekly", "9lai", "LAI", "lai_", "", "a" * 64, "a" * 65]
)
def test_one_client_id_rule_for_configs_command_lines_and_snapshots(value: str) -> None:
    # A client a config may name is exactly a client a script and a snapshot accept, and back.
    from pydantic import ValidationError

    from vectora_core.config.schema import ClientProfile
    from vectora_ops.cli import client_id_type

    def accepts(check) -> bool:
        try:
            check(value)
        except (SnapshotError, ValidationError, argparse.ArgumentTypeError):
            return False
        return True

    profile = {"name": "x", "version": "1.0.0", "client_id": value}
    verdicts = {accepts(check_client), accepts(client_id_type), accepts(lambda _: ClientProfile(**profile))}
    assert len(verdicts) == 1
    assert verdicts == {value in ("lai_weekly", "a1", "a" * 64)}


def test_components_accept_the_cli_form_keep_canonical_order_and_name_the_allowed_values() -> None:
    assert check_components("client_config, lambda_config", default=()) == ("lambda_config", "client_config")
    assert check_components(None, default=DEFAULT_ROLLBACK_COMPONENTS) == DEFAULT_ROLLBACK_COMPONENTS
    assert "stacks" not in DEFAULT_ROLLBACK_COMPONENTS and "stacks" in COMPONENTS
    with pytest.raises(SnapshotError) as err:
        check_components("client_config,lambdas", default=())
    assert str(err.value) == (
        "unknown component 'lambdas': allowed values are "
        "lambda_config, lambda_code, layers, client_config, canonical, curated, stacks"
    )
    with pytest.raises(SnapshotError, match="no component given"):
        check_components(" , ", default=())


def test_client_scope_takes_the_client_file_and_folder_only() -> None:
    scope = s3_scope("client_config", "lai_weekly")
    assert scope.matches("clients/lai_weekly.yaml")
    assert scope.matches("clients/lai_weekly/changelog.md")
    assert not scope.matches("clients/lai_weekly_v2.yaml")
    assert not scope.matches("clients/other.yaml")
    assert s3_scope("client_config", None).matches("clients/other.yaml")


def test_curated_scope_is_the_curated_items_file_per_client() -> None:
    everyone, one = s3_scope("curated", None), s3_scope("curated", "lai_weekly")
    assert everyone.matches("curated/a/curated_items.json") and everyone.matches(
        "curated/b/curated_items.json"
    )
    assert not everyone.matches("curated/a/2026/raw.json")
    assert one.matches("curated/lai_weekly/curated_items.json")
    assert not one.matches("curated/other/curated_items.json")
    assert s3_scope("canonical", "lai_weekly").matches("canonical/prompts/x.yaml")  # shared by all clients


def test_client_of_reads_client_ids_from_keys() -> None:
    assert client_of("clients/lai_weekly.yaml") == "lai_weekly"
    assert client_of("clients/lai_weekly/notes.yaml") is None
    assert client_of("canonical/x.yaml") is None


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_progress_draws_a_bar() -> None:
    stream = FakeTerminal()
    with cli.progress_display(stream) as progress:
        progress(ProgressEvent("copy", 0, 12))
        progress(ProgressEvent("copy", 12, 12))
    text = stream.getvalue()
    assert "snapshot" in text and "12/12" in text and "━" in text


def test_plain_progress_prints_start_tenths_and_end() -> None:
    stream = io.StringIO()  # not a terminal: plain lines
    with cli.progress_display(stream) as progress:
        progress(ProgressEvent("copy", 0, 100))
        for done in range(1, 101):
            progress(ProgressEvent("copy", done, 100))
        progress(ProgressEvent("note", message="snapshot x: 100 files"))
    lines = stream.getvalue().splitlines()
    assert lines[0] == "snapshot: 0/100"
    assert lines[-2] == "snapshot: 100/100"
    assert lines[-1] == "snapshot x: 100 files"
    assert len(lines) == 12  # start, ten steps, the note


def test_snapshot_engine_has_no_third_party_imports() -> None:
    # The pre-update Lambda bundles the engine with only boto3 available: every file it bundles.
    import ast

    from vectora_constructs.pre_update_snapshot import _bundle_sources

    allowed = {"boto3", "botocore", "vectora_core", "vectora_ops"}
    # Imported inside the one function that needs it: a YAML template (the team's, before a
    # takeover); the stacks the Lambda reads are the CDK's, whose templates are JSON.
    lazy = {("cloudformation.py", "yaml")}
    for _relative, path in _bundle_sources():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if (path.name, top) in lazy:
                    continue
                assert top in allowed or top in __import__("sys").stdlib_module_names, f"{path.name}: {name}"


@pytest.mark.parametrize(
    ("code", "message", "missing"),
    [
        ("NoSuchKey", "The specified key does not exist.", True),
        ("NoSuchVersion", "The specified version does not exist.", True),
        ("404", "Not Found", True),
        ("ResourceNotFoundException", "Function not found: arn:...", True),
        ("ValidationError", "Stack with id vectora-inbox-s0-core-dev does not exist", True),
        ("ValidationError", "Template format error", False),
        # A missing key without s3:ListBucket, or another account's bucket: a refusal, never absence.
        ("AccessDenied", "Access Denied", False),
        ("403", "Forbidden", False),
    ],
)
def test_one_not_found_rule_for_every_operation(code: str, message: str, missing: bool) -> None:
    err = ClientError({"Error": {"Code": code, "Message": message}}, "AnyOperation")
    assert is_not_found(err) is missing


@pytest.mark.parametrize(
    ("code", "lost"),
    [
        ("PreconditionFailed", True),
        ("ConditionalRequestConflict", True),
        ("412", True),  # a response without an error body: its bare status
        ("409", True),
        ("AccessDenied", False),
        ("NoSuchBucket", False),
        ("SlowDown", False),
    ],
)
def test_one_write_conflict_rule_for_the_store_the_lock_and_the_records(code: str, lost: bool) -> None:
    # A lost conditional write is retried elsewhere (store, records) or read as "taken" (lock); any
    # other error is raised: treating a refusal as a conflict would retry or wait for nothing.
    err = ClientError({"Error": {"Code": code, "Message": "m"}}, "PutObject")
    assert is_write_conflict(err) is lost
