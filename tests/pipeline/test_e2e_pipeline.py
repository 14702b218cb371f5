"""End to end on the local AWS: publish config, run the deployed functions through the Lambda API,
read the newsletter from the newsletters bucket.

The functions (deployed by the real CDK CLI) run as subprocesses of this machine, so they fetch the
fixture feeds from 127.0.0.1 like any feed, and call Bedrock Converse, which the local AWS answers
(deterministic answers labelled "[local Bedrock emulator]"). Each test uses its own client ids;
what they create is removed afterwards.
"""

from __future__ import annotations

import json
import re
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


def test_the_three_invoke_scripts_run_the_pipeline_in_turn(published, deployed_dev) -> None:
    # each script calls its deployed function through the Lambda API and prints its JSON answer
    answers = {}
    for script, key in (
        ("invoke_ingest_v2.py", "raw_items"),
        ("invoke_normalize_score_v2.py", "curated_items"),
        ("invoke_newsletter_v2.py", "markdown"),
    ):
        result = subprocess.run(
            [sys.executable, f"scripts/invoke/{script}", "--env", "dev", "--client-id", CLIENT,
             "--run-date", "2026-11-24"],
            cwd=REPO_ROOT, capture_output=True, text=True, env=deployed_dev.subprocess_env(), check=False,
            timeout=600,
        )  # fmt: skip
        assert result.returncode == 0, (script, result.stderr)
        answers[script] = json.loads(result.stdout)
        assert key in answers[script], (script, result.stdout)
    assert answers["invoke_ingest_v2.py"]["raw_items"] == f"s3://{DATA}/raw/{CLIENT}/2026-11-24/items.json"
    markdown = answers["invoke_newsletter_v2.py"]["markdown"]
    assert markdown == f"s3://{NEWSLETTERS}/{CLIENT}/2026-11-24/newsletter.md"
    s3 = published
    assert s3.head_object(Bucket=NEWSLETTERS, Key=f"{CLIENT}/2026-11-24/newsletter.md")["ContentLength"] > 0


def test_invoke_script_reports_a_function_error_in_one_line(published, deployed_dev) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "scripts/invoke/invoke_normalize_score_v2.py",
            "--env",
            "dev",
            "--client-id",
            CLIENT,
            "--run-date",
            "2020-01-01",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env=deployed_dev.subprocess_env(),
        check=False,
        timeout=300,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(
        "error: vectora-inbox-normalize-score-v2-dev failed: MissingInputError: "
        f"s3://{DATA}/raw/{CLIENT}/2020-01-01/items.json does not exist: run ingest-v2"
    )


def test_local_demo_prints_the_newsletter_location_and_its_first_lines(deployed_dev) -> None:
    s3 = deployed_dev.client("s3")
    before = keys(s3, CONFIG, "")
    try:
        result = subprocess.run(
            [sys.executable, "scripts/invoke/local_demo.py", "--env", "dev", "--lines", "30"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            env=deployed_dev.subprocess_env(),
            check=False,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr
        out = result.stdout
        print(out)  # shown with -s: what `make local` prints
        # the real lai_weekly, on the recordings of its nine sources (local_aws/recordings/)
        location = re.search(
            r"^newsletter: (s3://\S+/lai_weekly/\d{4}-\d{2}-\d{2}/newsletter\.md)$", out, re.M
        )
        assert location, out
        assert re.search(
            r"^ingest-v2: \d+ item\(s\) from 9 source\(s\), .*failed sources: none ->", out, re.M
        ), out
        assert "LAI Weekly" in out and EMULATOR_LABEL in out
    finally:
        for key in keys(s3, CONFIG, "") - before:
            s3.delete_object(Bucket=CONFIG, Key=key)
        for bucket, prefix in (
            (DATA, "raw/lai_weekly/"),
            (DATA, "curated/lai_weekly/"),
            (NEWSLETTERS, "lai_weekly/"),
        ):
            for key in keys(s3, bucket, prefix):
                s3.delete_object(Bucket=bucket, Key=key)


def test_local_demo_refuses_anything_but_the_local_dev() -> None:
    env = {k: v for k, v in __import__("os").environ.items() if k != "AWS_ENDPOINT_URL"}
    run = [sys.executable, "scripts/invoke/local_demo.py", "--env"]
    stage = subprocess.run(
        [*run, "stage"], cwd=REPO_ROOT, capture_output=True, text=True, env=env, check=False
    )
    assert (stage.returncode, stage.stderr) == (
        1,
        "error: --env stage refused: the local demo runs dev only\n",
    )
    dev = subprocess.run([*run, "dev"], cwd=REPO_ROOT, capture_output=True, text=True, env=env, check=False)
    assert dev.returncode == 1 and dev.stderr.startswith("error: AWS_ENDPOINT_URL is not set")


def test_publish_config_script_uploads_the_repository_files(deployed_dev) -> None:
    s3 = deployed_dev.client("s3")
    before = keys(s3, CONFIG, "")
    try:
        result = subprocess.run(
            [sys.executable, "scripts/config/publish_config.py", "--env", "dev", "--client", "lai_weekly"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            env=deployed_dev.subprocess_env(),
            check=False,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[0] == f"s3://{CONFIG}/clients/lai_weekly.yaml"
        body = s3.get_object(Bucket=CONFIG, Key="clients/lai_weekly.yaml")["Body"].read()
        assert body == (REPO_ROOT / "clients" / "lai_weekly.yaml").read_bytes()
        expected = {f"canonical/{p.parent.name}/{p.name}" for p in (REPO_ROOT / "canonical").glob("*/*.yaml")}
        assert expected <= keys(s3, CONFIG, "canonical/")
    finally:
        for key in keys(s3, CONFIG, "") - before:
            s3.delete_object(Bucket=CONFIG, Key=key)
