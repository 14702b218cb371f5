"""The config scripts as a user runs them: exit statuses, one line per problem, hostile input,
``--client`` never a path, all-or-nothing publish of the files' exact bytes, the runtime gate."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from tests.pipeline.conftest import REPO_ROOT
from vectora_core.config.loading import MAX_CONFIG_BYTES
from vectora_core.naming import CLIENT_ID_RULE, Function, resource_name
from vectora_ops.cli import run
from vectora_ops.config.cli import Refused, migrate_main, publish, publish_main
from vectora_ops.config.files import read_config_bytes
from vectora_ops.config.integrity import byte_differences, config_objects
from vectora_ops.config.publish import ConfigFile, repo_files, upload, validate_files
from vectora_ops.config.runtime import deployed_runtime_version, runtime_gate
from vectora_ops.errors import OperationError

CONFIGS = Path(__file__).parent / "configs"


def run_script(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, f"scripts/config/{script}", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def hostile(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Files no config script may choke on, and the one line each must get."""
    binary = Path("/bin/ls")
    empty = tmp_path / "empty.yaml"
    empty.write_bytes(b"")
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("client_profile:\n  name: Hebdo LAI réglementaire\n".encode("latin-1"))
    huge = tmp_path / "huge.yaml"
    huge.write_bytes(b"# " + b"x" * MAX_CONFIG_BYTES + b"\n")
    folder = tmp_path / "a_folder"
    folder.mkdir()
    return {
        "binary": (binary, f"{binary}: a binary file (it contains NUL bytes), not YAML text"),
        "empty": (empty, f"{empty}: empty file; a config file is a YAML mapping of keys"),
        "latin1": (latin1, f"{latin1}: not UTF-8 text (byte 0xe9 at offset 35); save the file as UTF-8"),
        "huge": (
            huge,
            f"{huge}: {MAX_CONFIG_BYTES + 3} bytes, larger than the {MAX_CONFIG_BYTES} bytes a config "
            "file may have",
        ),
        "directory": (folder, f"{folder}: a directory, not a file; give the path of a .yaml file"),
        "missing": (tmp_path / "nope.yaml", f"{tmp_path / 'nope.yaml'}: file not found"),
        "device": (Path("/dev/zero"), "/dev/zero: not a regular file (a device, socket or pipe)"),
    }


KINDS = ["binary", "empty", "latin1", "huge", "directory", "missing", "device"]


def test_validate_config_gives_each_hostile_file_one_line_and_exits_1(tmp_path) -> None:
    files = hostile(tmp_path)
    result = run_script("validate_config.py", *(str(files[kind][0]) for kind in KINDS))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [files[kind][1] for kind in KINDS] + [
        "error: invalid config: 7 problem(s)"
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_migrate_config_gives_hostile_input_one_line_and_exits_1(tmp_path, capsys, kind: str) -> None:
    path, line = hostile(tmp_path)[kind]
    with pytest.raises(SystemExit) as exited:
        run(migrate_main, [str(path), "--root", str(REPO_ROOT)])
    assert exited.value.code == 1
    assert capsys.readouterr().err == f"error: {line}\n"


def test_migrate_config_script_on_a_binary_is_one_line() -> None:
    result = run_script("migrate_config.py", "/bin/ls")
    assert (result.returncode, result.stderr) == (
        1,
        "error: /bin/ls: a binary file (it contains NUL bytes), not YAML text\n",
    )


def test_an_unreadable_file_is_one_line(tmp_path, monkeypatch) -> None:
    # Tests may run as root, who reads anything: the OS's refusal is simulated at open().
    path = tmp_path / "secret.yaml"
    path.write_text("a: 1\n")

    def refuse(*_: object, **__: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(ValueError, match=rf"^{path}: cannot be read \(Permission denied\)$"):
        read_config_bytes(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_an_unreadable_file_is_one_line_for_the_script(tmp_path) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text("a: 1\n")
    path.chmod(0)
    result = run_script("validate_config.py", str(path))
    assert (result.returncode, result.stderr.splitlines()[0]) == (
        1,
        f"{path}: cannot be read (Permission denied)",
    )


def test_publish_hostile_repo_files_are_problems_not_tracebacks(tmp_path) -> None:
    root = tmp_path / "repo"
    (root / "clients").mkdir(parents=True)
    (root / "clients" / "binary.yaml").write_bytes(Path("/bin/ls").read_bytes()[:4096])
    (root / "clients" / "folder.yaml").mkdir()
    problems = validate_files(repo_files(root)).problems
    assert problems == [
        f"{root / 'clients' / 'binary.yaml'}: a binary file (it contains NUL bytes), not YAML text",
        f"{root / 'clients' / 'folder.yaml'}: a directory, not a file; give the path of a .yaml file",
    ]


def test_validate_config_reports_every_problem_and_exits_1(tmp_path) -> None:
    bad = tmp_path / "lai_weekly.yaml"
    text = (CONFIGS / "lai_weekly.yaml").read_text("utf-8")
    text = text.replace("min_domain_score: 0.25", "min_domain_score: 0.95")
    text = text.replace(
        '- "delivery_technologies"\n      max_items: 5', '- "biosimilars"\n      max_items: 5'
    )
    bad.write_text(text)
    result = run_script("validate_config.py", str(bad))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert (
        f"{bad}: matching_config.min_domain_score: a score threshold must lie within 0.1-0.9, got 0.95"
        in lines
    )
    assert any(
        line.startswith(
            f"{bad}: newsletter_layout.sections[2].source_domains[1]: 'biosimilars' is not a watch"
        )
        for line in lines
    )
    assert lines[-1] == "error: invalid config: 2 problem(s)"


def test_a_key_with_control_characters_is_named_escaped_on_one_line(tmp_path) -> None:
    # given a config with a key that carries a terminal escape and a newline
    config = tmp_path / "lai_weekly.yaml"
    config.write_text('"x\\x1b[2J\\ny": 1\n' + (CONFIGS / "lai_weekly.yaml").read_text("utf-8"))
    result = run_script("validate_config.py", str(config))
    # then the warning naming it is one line, the key escaped: the terminal is neither cleared nor fooled
    assert result.returncode == 0
    assert result.stderr.count("\n") == 1 and "\x1b" not in result.stderr
    assert "unknown to the schema, kept as they are: x\\x1b[2J\\ny, " in result.stderr


def test_validate_config_accepts_both_configs_and_prints_the_one_warning() -> None:
    ok = run_script("validate_config.py", "clients/lai_weekly.yaml", "tests/pipeline/configs/lai_weekly.yaml")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines() == [
        "ok clients/lai_weekly.yaml: lai_weekly 7.1.0",
        "ok tests/pipeline/configs/lai_weekly.yaml: lai_weekly 7.0.0",
    ]
    assert ok.stderr.splitlines() == [
        "tests/pipeline/configs/lai_weekly.yaml: warning: 6 key(s) unknown to the schema, kept as they are: "
        "matching_config.enable_diagnostic_mode, matching_config.trademark_privileges.ingestion_priority, "
        "newsletter_selection.deduplication.prefer_higher_score, newsletter_layout.sections[3].notes, "
        "metadata.created_by, metadata.creation_notes"
    ]


def client_refusal(client: str) -> str:
    return (
        f"publish_config.py: error: argument --client: invalid client id {client!r}: {CLIENT_ID_RULE} "
        "(e.g. lai_weekly) (see --help)\n"
    )


def test_publish_client_is_validated_at_parse_time_and_never_becomes_a_path(capsys) -> None:
    # given a file outside clients/ that a path-like --client would reach: never read
    result = run_script("publish_config.py", "--env", "dev", "--client", "../xx", "--dry-run")
    assert (result.returncode, result.stderr, result.stdout) == (2, client_refusal("../xx"), "")
    for client in ("lai_weekly/../../xx", "/etc/passwd", "LAI", "", "lai_weekly.yaml"):
        with pytest.raises(SystemExit) as exited:
            run(publish_main, ["--env", "dev", "--client", client, "--dry-run"])
        assert (exited.value.code, capsys.readouterr().err) == (2, client_refusal(client))


def test_publish_refuses_prod_in_one_line_and_an_unknown_env_is_a_usage_error() -> None:
    prod = run_script("publish_config.py", "--env", "prod")
    assert (prod.returncode, prod.stderr) == (
        1,
        "error: --env prod is refused: prod only receives configs by promotion from stage\n",
    )
    unknown = run_script("publish_config.py", "--env", "qa")
    assert unknown.returncode == 2
    assert unknown.stderr == (
        "publish_config.py: error: argument --env: unknown environment 'qa': allowed values are dev, stage, "
        "prod (see --help)\n"
    )


def test_publish_dry_run_validates_without_aws_and_lists_the_keys() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_ENDPOINT_URL"] = "http://localhost:9"  # nothing listens: any AWS call would fail
    result = subprocess.run(
        [sys.executable, "scripts/config/publish_config.py", "--env", "dev", "--client", "lai_weekly",
         "--dry-run"],
        cwd=REPO_ROOT, capture_output=True, text=True, env=env, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    keys = {
        line.removeprefix("(dry run) s3://vectora-inbox-config-dev/") for line in result.stdout.splitlines()
    }
    expected = {f"canonical/{p.parent.name}/{p.name}" for p in (REPO_ROOT / "canonical").glob("*/*.yaml")}
    assert keys == {"clients/lai_weekly.yaml"} | expected


def test_publish_uploads_nothing_when_one_file_is_invalid() -> None:
    files = repo_files(REPO_ROOT) + [
        ConfigFile.of_text("clients/bad.yaml", "client_profile: {}\n", "clients/bad.yaml")
    ]

    class Untouchable:
        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"nothing may be called on AWS ({name})")

    with pytest.raises(Refused) as raised:
        publish("dev", files, s3=Untouchable(), lambda_client=Untouchable())
    assert "clients/bad.yaml: client_profile.version: required field is missing" in raised.value.problems
    assert str(raised.value).startswith("nothing uploaded: ")


def test_publish_of_a_missing_client_is_an_error() -> None:
    assert validate_files(repo_files(REPO_ROOT, ["nobody"])).problems == [
        f"{REPO_ROOT / 'clients' / 'nobody.yaml'}: file not found"
    ]


def test_upload_puts_the_exact_bytes_of_a_heavily_commented_french_config(aws_backend) -> None:
    # given the team-format config with CRLF line ends, a BOM-free UTF-8 body full of French comments
    body = (CONFIGS / "lai_weekly.yaml").read_bytes().replace(b"\n", b"\r\n")
    assert "é".encode() in body and body.count(b"#") > 50
    s3 = aws_backend.client("s3")
    bucket = f"publish-bytes-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    files = [ConfigFile("clients/lai_weekly.yaml", body, "test")]
    # when
    upload(s3, bucket, files)
    # then the object is the file, byte for byte
    assert (
        byte_differences({f.key: f.body for f in files}, config_objects(s3, bucket, [f.key for f in files]))
        == []
    )


def test_byte_differences_say_what_differs() -> None:
    expected = {"a.yaml": "x: 1 # é\n".encode(), "b.yaml": b"y: 2\n"}
    actual = {"a.yaml": b"x: 1 # e\n", "b.yaml": None}

    def short(body: bytes) -> str:
        return hashlib.sha256(body).hexdigest()[:12]

    assert byte_differences(expected, actual) == [
        f"a.yaml: 9 bytes, sha256 {short(actual['a.yaml'])}; expected 10 bytes, sha256 "
        f"{short(expected['a.yaml'])} (first difference at byte 7)",
        f"b.yaml: missing (expected 5 bytes, sha256 {short(expected['b.yaml'])})",
    ]
    assert byte_differences(expected, dict(expected)) == []


# --- the runtime version of an environment (Lambda API stubbed: narrow unit tests) -------------


def lambda_stubbed() -> tuple[object, Stubber]:
    client = boto3.client(
        "lambda",
        region_name="eu-west-3",
        aws_access_key_id="x",
        aws_secret_access_key="x",  # noqa: S106
    )
    return client, Stubber(client)


def configuration(function: str, version: str | None) -> dict:
    variables = {"ENV": "dev"} | ({"RUNTIME_VERSION": version} if version is not None else {})
    return {"FunctionName": resource_name(function, "dev"), "Environment": {"Variables": variables}}


def test_the_deployed_runtime_is_the_oldest_of_the_functions() -> None:
    client, stubber = lambda_stubbed()
    for function, version in zip(Function, ("2.1.0", "2.10.0", "2.9.1"), strict=True):
        stubber.add_response(
            "get_function_configuration",
            configuration(function, version),
            {"FunctionName": resource_name(function, "dev")},
        )
    with stubber:
        assert deployed_runtime_version(client, "dev") == "2.1.0"


def test_an_environment_without_functions_is_a_clear_refusal() -> None:
    client, stubber = lambda_stubbed()
    for _ in Function:
        stubber.add_client_error(
            "get_function_configuration", "ResourceNotFoundException", http_status_code=404
        )
    with stubber, pytest.raises(OperationError) as raised:
        deployed_runtime_version(client, "dev")
    assert str(raised.value) == (
        "dev has no pipeline function deployed (missing: vectora-inbox-ingest-v2-dev, "
        "vectora-inbox-normalize-score-v2-dev, vectora-inbox-newsletter-v2-dev), so its runtime version is "
        "unknown: deploy S1-runtime first (--dry-run validates without it)"
    )


def test_a_function_deployed_before_runtime_versions_is_a_clear_refusal() -> None:
    client, stubber = lambda_stubbed()
    stubber.add_response("get_function_configuration", configuration(Function.INGEST, None))
    with (
        stubber,
        pytest.raises(OperationError, match=r"vectora-inbox-ingest-v2-dev has no RUNTIME_VERSION variable"),
    ):
        deployed_runtime_version(client, "dev")


def test_the_gate_names_both_versions(bundle) -> None:
    client, stubber = lambda_stubbed()
    for function in Function:
        stubber.add_response("get_function_configuration", configuration(function, "2.0.0"))
    with stubber:
        assert runtime_gate(client, "dev", [("clients/lai_weekly.yaml", bundle.config)]) == [
            "clients/lai_weekly.yaml: metadata.min_runtime_version: 2.1.0 is newer than the runtime 2.0.0 of "
            "dev (deployed); deploy a runtime >= 2.1.0 first"
        ]
