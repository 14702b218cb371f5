"""Migration of old-style configs (version in the client id) to the current format."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

from tests.pipeline.conftest import REPO_ROOT
from vectora_core.config.migration import MigrationError, migrate

CURRENT = yaml.safe_load((REPO_ROOT / "clients" / "lai_weekly.yaml").read_text())


def old_style() -> dict:
    """What lai_weekly looked like before: the version in the id, no semantic version."""
    document = yaml.safe_load((REPO_ROOT / "clients" / "lai_weekly.yaml").read_text())
    document["client_profile"] = {"client_id": "lai_weekly_v7", "name": "LAI Weekly", "language": "en"}
    document["metadata"] = {
        "owner": "Vectora Inbox editorial team",
        "changelog": [{"version": "v6.1", "date": "2025-12-08", "changes": "PubMed HIV query"}],
    }
    return document


def test_version_moves_from_the_id_to_client_profile_and_metadata() -> None:
    new = migrate(old_style(), today=date(2026, 1, 30))
    assert new["client_profile"]["client_id"] == "lai_weekly"
    assert new["client_profile"]["version"] == "7.0.0"
    assert new["metadata"]["config_version"] == "7.0.0"
    assert new["metadata"]["changelog"][0] == {
        "version": "7.0.0",
        "date": "2026-01-30",
        "changes": (
            "Migrated from client_id lai_weekly_v7: stable id lai_weekly, version 7.0.0 in client_profile"
        ),
    }
    # Old entries are kept, their versions made semantic.
    assert new["metadata"]["changelog"][1]["version"] == "6.1.0"
    assert new["scoring"] == CURRENT["scoring"]


@pytest.mark.parametrize(
    ("old_id", "version"), [("x_v7_1", "7.1.0"), ("x_v8", "8.0.0"), ("x_v2.3.4", "2.3.4")]
)
def test_suffix_forms(old_id: str, version: str) -> None:
    new = migrate({"client_id": old_id}, today=date(2026, 1, 1))
    assert (new["client_profile"]["client_id"], new["client_profile"]["version"]) == ("x", version)


def test_an_explicit_version_wins_and_missing_information_is_an_error() -> None:
    assert (
        migrate({"client_id": "x_v7"}, today=date(2026, 1, 1), version="7.2.0")["client_profile"]["version"]
        == "7.2.0"
    )
    with pytest.raises(MigrationError, match="has no version suffix and no semantic version: pass --version"):
        migrate({"client_profile": {"client_id": "x"}}, today=date(2026, 1, 1))
    with pytest.raises(MigrationError, match="no client_id found"):
        migrate({"client_profile": {"name": "x"}}, today=date(2026, 1, 1))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "scripts/config/migrate_config.py", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_script_writes_a_valid_config_and_never_overwrites(tmp_path: Path) -> None:
    old = tmp_path / "lai_weekly_v7.yaml"
    old.write_text(yaml.safe_dump(old_style()))
    output = tmp_path / "lai_weekly.yaml"
    result = run(str(old), "--date", "2026-01-30", "--output", str(output))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote {output} (lai_weekly 7.0.0)\n"
    check = subprocess.run(
        [sys.executable, "scripts/config/validate_config.py", str(output)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
    again = run(str(old), "--output", str(output))
    assert (again.returncode, again.stderr) == (
        1,
        f"migrate_config: {output} exists; pass --force to overwrite it\n",
    )


def test_script_writes_nothing_when_the_result_is_invalid(tmp_path: Path) -> None:
    document = old_style()
    del document["scoring"]
    old = tmp_path / "old.yaml"
    old.write_text(yaml.safe_dump(document))
    output = tmp_path / "new.yaml"
    result = run(str(old), "--output", str(output))
    assert result.returncode == 1
    assert "migrate_config: migrated lai_weekly: scoring: required field is missing" in result.stderr
    assert not output.exists()
