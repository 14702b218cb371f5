"""The launcher: start/re-use/stop by state folder, port settings, a stale state file."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from local_aws import settings
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
