"""End to end on the local AWS (issue 28): the team's canonical layout (tests/pipeline/team_catalog/:
scope lists per file, the source catalog with a bouquet of HTML sources, extractors, nested prompts)
published next to the project's, and the team-format lai_weekly run by the deployed state machine
into a newsletter whose items come from the HTML pages the local internet answers
(local_aws/recordings/www.{delsitech.com,nanexa.com,peptron.co.kr}/); then the team's files go
through a canonical snapshot and its rollback byte for byte.

The recordings date their items relative to the day they are served: the run date is today.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.pipeline.conftest import REPO_ROOT
from tests.pipeline.test_e2e_pipeline import CONFIG, DATA, NEWSLETTERS, keys
from tests.snapshots.conftest import run_script
from vectora_core.naming import Bucket, resource_name
from vectora_ops.config.cli import publish
from vectora_ops.config.integrity import byte_differences, config_objects
from vectora_ops.config.publish import ConfigFile, repo_files
from vectora_ops.pipeline_runs import run_client_pipeline

pytestmark = pytest.mark.e2e

TEAM_CATALOG = Path(__file__).parent / "team_catalog"
CLIENT = "team_catalog_e2e"
BACKUPS = resource_name(Bucket.BACKUPS, "dev")
HTML_SOURCES = ("press_corporate__delsitech", "press_corporate__nanexa", "press_corporate__peptron")
HTML_TITLES = (
    "DelSiTech signs license agreement for its silica matrix long-acting injectable platform",
    "Nanexa and Novo Nordisk expand NanoZolid collaboration on long-acting semaglutide",
    "Peptron completes enrollment in Phase 2 trial of SmartDepot once-monthly long-acting injectable",
)


def team_files() -> list[ConfigFile]:
    """The team's canonical files as they are, and its lai_weekly under this test's client id."""
    canonical = TEAM_CATALOG / "canonical"
    files = [
        ConfigFile.of_path(f"canonical/{path.relative_to(canonical).as_posix()}", path)
        for path in sorted(canonical.rglob("*.yaml"))
    ]
    text = (TEAM_CATALOG / "clients" / "lai_weekly.yaml").read_text("utf-8")
    text = text.replace('client_id: "lai_weekly"', f'client_id: "{CLIENT}"')
    return [*files, ConfigFile.of_text(f"clients/{CLIENT}.yaml", text, "test: team lai_weekly")]


@pytest.fixture
def published_team(deployed_dev, monkeypatch):
    for name, value in deployed_dev.client_env.items():
        monkeypatch.setenv(name, value)
    s3 = deployed_dev.client("s3")
    before = keys(s3, CONFIG, "")
    backups_before = keys(s3, BACKUPS, "")
    extra = team_files()
    publish(
        "dev", repo_files(REPO_ROOT, clients=[]) + extra, s3=s3, lambda_client=deployed_dev.client("lambda")
    )
    # published byte for byte: the team's comments and accents included
    for file in extra:
        assert s3.get_object(Bucket=CONFIG, Key=file.key)["Body"].read() == file.body, file.key
    yield s3, {f.key: f.body for f in extra}
    for key in keys(s3, BACKUPS, "") - backups_before:
        s3.delete_object(Bucket=BACKUPS, Key=key)
    for key in keys(s3, CONFIG, "") - before:
        s3.delete_object(Bucket=CONFIG, Key=key)
    for key in keys(s3, DATA, f"raw/{CLIENT}/") | keys(s3, DATA, f"curated/{CLIENT}/"):
        s3.delete_object(Bucket=DATA, Key=key)
    for key in keys(s3, NEWSLETTERS, f"{CLIENT}/"):
        s3.delete_object(Bucket=NEWSLETTERS, Key=key)


def test_the_team_lai_weekly_runs_on_the_local_aws_into_a_newsletter_of_its_html_sources(
    published_team, deployed_dev
) -> None:
    s3, published = published_team
    today = datetime.now(UTC).date().isoformat()
    record = run_client_pipeline("dev", CLIENT, run_date=today)
    assert record["status"] == "succeeded"
    raw = json.loads(s3.get_object(Bucket=DATA, Key=f"raw/{CLIENT}/{today}/items.json")["Body"].read())
    reports = {r["source_id"]: r for r in raw["sources"]}
    # the bouquet's disabled source is not fetched; every other source answered
    assert "press_corporate__medincell_legacy" not in reports
    assert [s for s, r in reports.items() if r["status"] != "ok"] == []
    # each HTML page gave its in-period items (older ones left out), extractor or generic parser
    assert {s: (reports[s]["fetched"] >= 2, reports[s]["in_period"]) for s in HTML_SOURCES} == {
        "press_corporate__delsitech": (True, 2),
        "press_corporate__nanexa": (True, 1),
        "press_corporate__peptron": (True, 1),
    }
    markdown = (
        s3.get_object(Bucket=NEWSLETTERS, Key=f"{CLIENT}/{today}/newsletter.md")["Body"].read().decode()
    )
    for title in HTML_TITLES:
        assert title in markdown
    assert "annual report" not in markdown and "interim report" not in markdown
    # snapshot and rollback carry the team's files byte for byte, nested folders included
    canonical = {key: body for key, body in published.items() if key.startswith("canonical/")}
    snapshot = run_script(
        deployed_dev, "create_snapshot.py", "--env", "dev", "--name", "team", "--components", "canonical"
    )
    assert snapshot.code == 0, snapshot.stderr
    copies = {
        key: s3.get_object(Bucket=BACKUPS, Key=f"snapshots/{snapshot.last_line}/{key}")["Body"].read()
        for key in canonical
    }
    assert byte_differences(canonical, copies) == []
    broken = "canonical/prompts/normalization/generic_normalization.yaml"
    s3.put_object(Bucket=CONFIG, Key=broken, Body=b"metadata: {}\n")
    rollback = run_script(
        deployed_dev, "rollback_snapshot.py", "--snapshot", snapshot.last_line, "--env", "dev",
        "--components", "canonical",
    )  # fmt: skip
    assert rollback.code == 0, rollback.stderr
    assert byte_differences(canonical, config_objects(s3, CONFIG, list(canonical))) == []
