"""End to end on the local AWS: publish config, run the deployed functions through the Lambda API,
read the newsletter from the newsletters bucket.

The functions (deployed by the real CDK CLI) run as subprocesses of this machine, so they fetch the
fixture feeds from 127.0.0.1 like any feed, and call Bedrock Converse, which the local AWS answers
(deterministic answers labelled "[local Bedrock emulator]"). Each test uses its own client ids;
what they create is removed afterwards.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from local_aws.bedrock_model import LABEL as LOCAL_BEDROCK_LABEL
from scripts.invoke.fixture_feeds import BROKEN_SOURCE_ID, fixture_config_files
from tests.pipeline.conftest import REPO_ROOT, RUN_DATE, in_order
from tests.pipeline.test_pipeline_layout import team_layout_files
from vectora_core.naming import Bucket, Function, resource_name
from vectora_ops.config.cli import publish
from vectora_ops.config.publish import ConfigFile, repo_files
from vectora_ops.invoke import run_pipeline

pytestmark = pytest.mark.e2e

CLIENT = "lai_weekly_e2e"
LAYOUT_CLIENT = "team_layout_e2e"
EMULATOR_LABEL = LOCAL_BEDROCK_LABEL.strip("[]")  # without the brackets the Markdown renderer escapes
CONFIG, DATA, NEWSLETTERS = (
    resource_name(b, "dev") for b in (Bucket.CONFIG, Bucket.DATA, Bucket.NEWSLETTERS)
)


def keys(s3, bucket: str, prefix: str) -> set[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


@pytest.fixture
def published(deployed_dev, feed_server, monkeypatch):
    for name, value in deployed_dev.client_env.items():
        monkeypatch.setenv(name, value)
    s3 = deployed_dev.client("s3")
    before = keys(s3, CONFIG, "")
    # Canonical files, the fixture client (lai_weekly's config on the fixture feeds) and a client with
    # the team's four-section layout; lai_weekly itself is untouched.
    layout = team_layout_files(feed_server.base_url)
    layout_client = layout["clients/team_layout.yaml"].replace(
        'client_id: "team_layout"', f'client_id: "{LAYOUT_CLIENT}"'
    )
    files = (
        repo_files(REPO_ROOT, clients=[])
        + fixture_config_files(feed_server.base_url, client_id=CLIENT, with_broken_source=True)
        + [ConfigFile.of_text(f"clients/{LAYOUT_CLIENT}.yaml", layout_client, "test: team layout")]
    )
    publish("dev", files, s3=s3, lambda_client=deployed_dev.client("lambda"))
    yield s3
    created = keys(s3, CONFIG, "") - before
    for client in (CLIENT, LAYOUT_CLIENT):
        created |= keys(s3, DATA, f"raw/{client}/") | keys(s3, DATA, f"curated/{client}/")
    for key in created:
        s3.delete_object(Bucket=CONFIG if not key.startswith(("raw/", "curated/")) else DATA, Key=key)
    for client in (CLIENT, LAYOUT_CLIENT):
        for key in keys(s3, NEWSLETTERS, f"{client}/"):
            s3.delete_object(Bucket=NEWSLETTERS, Key=key)


def newsletter_text(s3, client: str) -> str:
    return s3.get_object(Bucket=NEWSLETTERS, Key=f"{client}/2026-11-24/newsletter.md")["Body"].read().decode()


def test_pipeline_on_the_local_aws_puts_the_expected_items_in_the_expected_sections(published) -> None:
    s3 = published
    results = run_pipeline("dev", CLIENT, run_date=RUN_DATE.isoformat())
    ingest = results[Function.INGEST]
    assert ingest["sources_failed"] == [BROKEN_SOURCE_ID] and ingest["items"] == 8
    assert results[Function.NORMALIZE_SCORE]["normalizer"] == "bedrock"
    assert keys(s3, DATA, f"curated/{CLIENT}/") == {
        f"curated/{CLIENT}/2026-11-24/items.json",
        f"curated/{CLIENT}/curated_items.json",
    }
    newsletter = results[Function.NEWSLETTER]
    assert newsletter["markdown"] == f"s3://{NEWSLETTERS}/{CLIENT}/2026-11-24/newsletter.md"
    assert keys(s3, NEWSLETTERS, f"{CLIENT}/") == {
        f"{CLIENT}/2026-11-24/newsletter.md",
        f"{CLIENT}/2026-11-24/newsletter.html",
    }
    markdown = newsletter_text(s3, CLIENT)
    assert EMULATOR_LABEL in markdown and "FIXTURE SOURCES" in markdown
    # lai_weekly's sections; the emulator answers "other" for the financing and the launch: no section
    # of lai_weekly takes it, so they are left out, as the off-topic Pfizer results are
    assert newsletter["sections"] == {"regulatory": 1, "deals": 1, "clinical": 1, "science": 2}
    assert in_order(
        markdown,
        [
            "Regulatory & approvals",
            "FDA approves Teva and MedinCell's olanzapine long-acting injectable for schizophrenia",
            "Partnerships & deals",
            "Camurus enters license agreement with Lilly for FluidCrystal long-acting incretins",
            "Clinical development",
            "MedinCell announces first patient dosed in Phase 3 trial of mdc-CWM for post-operative pain",
            "Publications",
            "Real-world persistence with paliperidone palmitate long-acting injectables",
            "Pharmacokinetics of twice-yearly subcutaneous lenacapavir in adolescents: a population model",
        ],
    )
    assert "MedinCell raises" not in markdown and "Pfizer" not in markdown


def test_the_newsletter_follows_a_four_section_layout_with_a_catch_all_on_the_local_aws(published) -> None:
    results = run_pipeline("dev", LAYOUT_CLIENT, run_date=RUN_DATE.isoformat())
    newsletter = results[Function.NEWSLETTER]
    assert newsletter["sections"] == {
        "regulatory_updates": 1,
        "partnerships_deals": 1,
        "clinical_updates": 1,
        "others": 4,
    }
    assert newsletter["left_out"] == 0
    markdown = newsletter_text(published, LAYOUT_CLIENT)
    assert in_order(
        markdown,
        [
            "Regulatory Updates",
            "FDA approves Teva and MedinCell's olanzapine long-acting injectable for schizophrenia",
            "Partnerships & Deals",
            "Camurus enters license agreement with Lilly for FluidCrystal long-acting incretins",
            "Clinical Updates",
            "MedinCell announces first patient dosed in Phase 3 trial of mdc-CWM for post-operative pain",
            "Other Signals",  # "*": what no specialised section takes, best first
            "Camurus launches Oczyesa octreotide subcutaneous depot in Germany",
            "Real-world persistence with paliperidone palmitate long-acting injectables",
            "MedinCell raises EUR 30 million in a private placement",
            "Pharmacokinetics of twice-yearly subcutaneous lenacapavir in adolescents",
        ],
    )
    assert "Pfizer" not in markdown


def test_run_pipeline_script_prints_where_the_newsletter_is(published, deployed_dev) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "scripts/invoke/run_pipeline.py",
            "--env",
            "dev",
            "--client-id",
            CLIENT,
            "--run-date",
            "2026-11-24",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env=deployed_dev.subprocess_env(),
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # the state machine's run, state by state, then where the newsletter is
    entered = [line.split("-> ")[1] for line in lines if "-> " in line]
    assert entered[:3] == ["ListClients", "Clients", "Ingest"]
    assert entered.index("Ingest") < entered.index("NormalizeBatches") < entered.index("Merge")
    assert entered.index("Merge") < entered.index("Newsletter") < entered.index("Succeeded")
    assert lines[-4].startswith("execution: arn:aws:states:")
    assert lines[-2:] == [
        f"newsletter (markdown): s3://{NEWSLETTERS}/{CLIENT}/2026-11-24/newsletter.md",
        f"newsletter (html):     s3://{NEWSLETTERS}/{CLIENT}/2026-11-24/newsletter.html",
    ]
