"""End to end on the local AWS: publish config, run the deployed functions through the Lambda API,
read the newsletter from the newsletters bucket.

The functions (deployed by the real CDK CLI, calling the local AWS's Bedrock) run as subprocesses of
this machine, so they fetch the fixture feeds from 127.0.0.1 like any feed. The test uses its own
client id; it removes what it created afterwards.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from local_aws.bedrock_model import LABEL as LOCAL_BEDROCK_LABEL
from scripts.invoke.fixture_feeds import BROKEN_SOURCE_ID, fixture_config_files
from tests.pipeline.conftest import REPO_ROOT, RUN_DATE
from vectora_core.config.cli import publish
from vectora_core.config.publish import repo_files
from vectora_core.naming import Bucket, Function, resource_name
from vectora_ops.invoke import run_pipeline

pytestmark = pytest.mark.e2e

CLIENT = "lai_weekly_e2e"
CONFIG, DATA, NEWSLETTERS = (
    resource_name(b, "dev") for b in (Bucket.CONFIG, Bucket.DATA, Bucket.NEWSLETTERS)
)


def sections_of(markdown: str) -> dict[str, list[str]]:
    """Section heading -> the titles of its items, from the rendered Markdown."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in markdown.splitlines():
        if line.startswith("## "):
            current = sections.setdefault(line[3:], [])
        elif current is not None and line.startswith("- **["):
            current.append(re.match(r"- \*\*\[(.*?)\]\(", line).group(1))
    return sections


def keys(s3, bucket: str, prefix: str) -> set[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


@pytest.fixture
def published(deployed_dev, feed_server, monkeypatch):
    for name, value in deployed_dev.client_env.items():
        monkeypatch.setenv(name, value)
    s3 = deployed_dev.client("s3")
    before = keys(s3, CONFIG, "")
    # Canonical files (what the fixture client refers to) and the fixture client; lai_weekly is untouched.
    files = repo_files(REPO_ROOT, clients=[]) + fixture_config_files(
        feed_server.base_url, client_id=CLIENT, with_broken_source=True
    )
    publish("dev", files, s3=s3)
    yield s3
    created = (
        (keys(s3, CONFIG, "") - before)
        | keys(s3, DATA, f"raw/{CLIENT}/")
        | keys(s3, DATA, f"curated/{CLIENT}/")
    )
    for key in created:
        s3.delete_object(Bucket=CONFIG if not key.startswith(("raw/", "curated/")) else DATA, Key=key)
    for key in keys(s3, NEWSLETTERS, f"{CLIENT}/"):
        s3.delete_object(Bucket=NEWSLETTERS, Key=key)


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
    markdown = (
        s3.get_object(Bucket=NEWSLETTERS, Key=f"{CLIENT}/2026-11-24/newsletter.md")["Body"].read().decode()
    )
    assert LOCAL_BEDROCK_LABEL in markdown and "FIXTURE SOURCES" in markdown
    sections = sections_of(markdown)
    assert sections == {
        "Regulatory & approvals": [
            "FDA approves Teva and MedinCell's olanzapine long-acting injectable for schizophrenia"
        ],
        "Partnerships & deals": [
            "MedinCell raises EUR 30 million in a private placement to expand its long-acting injectable "
            "pipeline",
            "Camurus enters license agreement with Lilly for FluidCrystal long-acting incretins",
        ],
        "Clinical development": [
            "MedinCell announces first patient dosed in Phase 3 trial of mdc-CWM for post-operative pain"
        ],
        "Launches & company news": ["Camurus launches Oczyesa octreotide subcutaneous depot in Germany"],
        "Publications": [
            "Real-world persistence with paliperidone palmitate long-acting injectables: "
            "a retrospective cohort",
            "Pharmacokinetics of twice-yearly subcutaneous lenacapavir in adolescents: a population model",
        ],
    }


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
    assert [line.split(":")[0] for line in lines[:3]] == [
        Function.INGEST,
        Function.NORMALIZE_SCORE,
        Function.NEWSLETTER,
    ]
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
        location = re.search(
            r"^newsletter: (s3://\S+/lai_weekly_demo/\d{4}-\d{2}-\d{2}/newsletter\.md)$", out, re.M
        )
        assert location, out
        assert "ingest-v2: 8 item(s) from 4 source(s), 1 duplicate(s) removed, failed sources: none" in out
        assert "\n# LAI Weekly — " in out and LOCAL_BEDROCK_LABEL in out
    finally:
        for key in keys(s3, CONFIG, "") - before:
            s3.delete_object(Bucket=CONFIG, Key=key)
        for bucket, prefix in (
            (DATA, "raw/lai_weekly_demo/"),
            (DATA, "curated/lai_weekly_demo/"),
            (NEWSLETTERS, "lai_weekly_demo/"),
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
        "error: --env stage refused: the demo publishes a fixture client, dev only\n",
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
