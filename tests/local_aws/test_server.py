"""The launcher: start/re-use/stop by state folder, port settings, a stale state file."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local_aws import fork_server, settings
from local_aws.server import LocalAws, LocalAwsError


def test_a_second_start_reuses_the_running_emulator_and_stop_ends_it(tmp_path: Path) -> None:
    first = LocalAws(port=0, state_dir=tmp_path).start()
    try:
        # a second launcher on the same state folder (what a second `make local` does)
        second = LocalAws(port=None, state_dir=tmp_path).start()
        assert second.port == first.port
        assert second.running() == first.running()
        # asking for another port while one runs there is refused with one line
        with pytest.raises(LocalAwsError, match=f"already runs from .* on port {first.port}, not 1"):
            LocalAws(port=1, state_dir=tmp_path).start()
        # `down` from a third launcher stops it
        assert LocalAws(state_dir=tmp_path).stop(force=True) is True
        assert first.running() is None
        with pytest.raises(OSError):
            urllib.request.urlopen(f"{first.endpoint_url}/_local_aws/health", timeout=2)  # noqa: S310
    finally:
        first.stop()


def test_down_never_kills_a_pid_from_a_stale_state_file(tmp_path: Path) -> None:
    # given a state file naming a live process that is not an emulator (e.g. after a reboot)
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / "server.json").write_text(json.dumps({"pid": bystander.pid, "port": 9}))
        # when stopping by state folder: nothing is stopped, the stale file is removed
        assert LocalAws(state_dir=tmp_path).stop(force=True) is False
        assert bystander.poll() is None
        assert not (tmp_path / "server.json").exists()
    finally:
        bystander.kill()
        bystander.wait()


@pytest.mark.parametrize("value", ["abc", "0", "70000", "-1"])
def test_a_bad_local_aws_port_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(settings.PORT_ENV, value)
    with pytest.raises(ValueError, match=rf"^LOCAL_AWS_PORT='{value}' is not a TCP port \(1-65535\)$"):
        settings.port_from_env()


def test_the_port_is_4566_unless_local_aws_port_says_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(settings.PORT_ENV, raising=False)
    assert settings.port_from_env() == 4566
    monkeypatch.setenv(settings.PORT_ENV, "5123")
    assert settings.port_from_env() == 5123


def test_clients_are_pointed_at_localhost_not_the_bind_address() -> None:
    # moto only recognises S3 template URLs on "localhost"; the server binds to 127.0.0.1 only
    env = settings.client_env(4566)
    assert env["AWS_ENDPOINT_URL"] == "http://localhost:4566"
    assert settings.BIND_HOST == "127.0.0.1"


def test_the_emulator_refuses_to_start_where_it_is_forbidden(tmp_path, monkeypatch) -> None:
    # make test-fast sets it: a test there that would start an emulator fails, naming why.
    monkeypatch.setenv("LOCAL_AWS_FORBIDDEN", "the fast tier starts no emulator")
    with pytest.raises(LocalAwsError, match="may not start here: the fast tier starts no emulator"):
        LocalAws(port=0, state_dir=tmp_path / "state").start()
    assert not (tmp_path / "state").exists()


# --- the fork server (LOCAL_AWS_FORK_SERVER=1: the suite's own setting, tests/conftest.py) ----------
def _server_log(aws: LocalAws) -> str:
    return aws.log_path.read_text()


def test_forked_servers_keep_their_own_settings_state_and_ids(
    tmp_path: Path, own_fork_servers: dict[Any, fork_server.ForkServer]
) -> None:
    with (
        LocalAws(port=0, state_dir=tmp_path / "a", extra_env={settings.IAM_ENV: "off"}) as first,
        LocalAws(port=0, state_dir=tmp_path / "b", disabled_patches=("bedrock_latency",)) as second,
    ):
        # both forked from one preloaded process, each a server of its own
        assert isinstance(first._process, fork_server.ForkedServer)
        assert isinstance(second._process, fork_server.ForkedServer)
        # each with the settings it was started with (read when serving, not when imported)
        assert "IAM evaluation: off" in _server_log(first)
        assert "IAM evaluation: enforce" in _server_log(second)
        assert "bedrock_latency" not in _server_log(second).split("patches applied:")[1].splitlines()[0]
        # no state shared, and the ids moto draws differ as between two processes
        roles = []
        for aws in (first, second):
            iam = aws.client("iam")
            roles.append(
                iam.create_role(RoleName="same-name", AssumeRolePolicyDocument="{}")["Role"]["RoleId"]
            )
            assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["same-name"]
        assert roles[0] != roles[1]
    assert first.running() is None and second.running() is None


@pytest.fixture
def own_fork_servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[Any, fork_server.ForkServer]]:
    """The test's own fork servers (whatever ran before it in this process), closed after it."""
    monkeypatch.setenv(fork_server.ENABLE_ENV, "1")
    servers: dict[Any, fork_server.ForkServer] = {}
    monkeypatch.setattr(fork_server, "_servers", servers)
    yield servers
    for server in servers.values():
        server.close()


def _environ(pid: int) -> set[str]:
    return set(Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0"))


def test_each_environment_has_its_fork_server_and_the_setting_0_none(
    tmp_path: Path, own_fork_servers: dict[Any, fork_server.ForkServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    # moto reads some variables when imported: a server of another environment is forked from a
    # fork server that imported moto in that environment
    moto_variable = "MOTO_ALLOW_NONEXISTENT_REGION=1"
    with (
        LocalAws(port=0, state_dir=tmp_path / "a") as plain,
        LocalAws(port=0, state_dir=tmp_path / "b", extra_env=dict([moto_variable.split("=")])) as other,
    ):
        assert isinstance(plain._process, fork_server.ForkedServer)
        assert isinstance(other._process, fork_server.ForkedServer)
        assert len(own_fork_servers) == 2
        assert moto_variable in _environ(other._process.pid)
        assert moto_variable not in _environ(plain._process.pid)
    monkeypatch.setattr(fork_server, "MAX_FORK_SERVERS", 2)  # one environment more: its own process
    with LocalAws(port=0, state_dir=tmp_path / "c", extra_env={"MOTO_PRETTIFY_RESPONSES": "1"}) as aws:
        assert isinstance(aws._process, subprocess.Popen)
    monkeypatch.setenv(fork_server.ENABLE_ENV, "0")
    with LocalAws(port=0, state_dir=tmp_path / "d") as aws:
        assert isinstance(aws._process, subprocess.Popen)


def test_a_fork_server_that_ends_with_the_request_unanswered_fails_the_start_in_one_line(
    tmp_path: Path, own_fork_servers: dict[Any, fork_server.ForkServer]
) -> None:
    with LocalAws(port=0, state_dir=tmp_path / "a"):
        pass
    (server,) = own_fork_servers.values()
    server.close()
    # it reads the request, then ends: whether a server started is not known
    server._process = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.readline()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    with pytest.raises(
        LocalAwsError,
        match=r"^the fork server ended without starting the server on port \d+: see \S+server.log$",
    ):
        LocalAws(port=0, state_dir=tmp_path / "b").start()


def test_a_bad_fork_server_setting_is_one_clear_line_and_makes_nothing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(fork_server.ENABLE_ENV, "yes")
    with pytest.raises(
        ValueError, match=r"^LOCAL_AWS_FORK_SERVER='yes': 1 \(fork servers from one preloaded process\) or 0$"
    ):
        LocalAws(port=0, state_dir=tmp_path / "state").start()
    assert not (tmp_path / "state").exists()


def test_a_fork_server_that_has_gone_leaves_each_server_its_own_process(
    tmp_path: Path, own_fork_servers: dict[Any, fork_server.ForkServer]
) -> None:
    with LocalAws(port=0, state_dir=tmp_path / "a") as aws:
        assert isinstance(aws._process, fork_server.ForkedServer)
    (gone,) = own_fork_servers.values()
    gone._process.kill()
    gone._process.wait()
    with LocalAws(port=0, state_dir=tmp_path / "b") as aws:
        assert isinstance(aws._process, subprocess.Popen)
        assert aws.client("s3").list_buckets()["Buckets"] == []


def test_a_forked_server_that_fails_to_start_says_so_with_its_log(
    tmp_path: Path, own_fork_servers: dict[Any, fork_server.ForkServer]
) -> None:
    with pytest.raises(LocalAwsError) as failed:
        LocalAws(port=0, state_dir=tmp_path / "a", disabled_patches=("no_such_patch",)).start()
    first, *log = str(failed.value).splitlines()
    assert first == "the local AWS exited (a forked server: status unknown):"
    assert any("unknown patch(es) no_such_patch" in line for line in log), log
