"""The local internet through the deployed functions on the local AWS: the real ``lai_weekly``, on
the sources of its own catalog, runs end to end through the state machine (any number of times),
and the fault modes of the recordings reach the deployed ingest function (retries, "some sources
failed", an unrecorded URL failing like an unreachable host).

Fault recordings go into the emulator's own recordings folder (``<state dir>/recordings/``), never
into the repository.
"""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from local_aws import internet
from local_aws.bedrock_model import LABEL as LOCAL_BEDROCK_LABEL
from vectora_core.naming import Bucket, Function, resource_name
from vectora_ops.config.cli import publish
from vectora_ops.config.publish import ConfigFile, repo_files
from vectora_ops.invoke import invoke
from vectora_ops.pipeline_runs import run_client_pipeline

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG, DATA, NEWSLETTERS = (
    resource_name(b, "dev") for b in (Bucket.CONFIG, Bucket.DATA, Bucket.NEWSLETTERS)
)
FAULTS_CLIENT = "internet_faults_e2e"
FAULTS_CATALOG = "internet_faults_e2e_sources"
FAULTS_HOST = "https://faults.internet-e2e.example"


def keys(s3: Any, bucket: str, prefix: str) -> set[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


def proxy_requests(state_dir: Path) -> list[dict[str, Any]]:
    recorded = internet.state(state_dir)
    assert recorded, f"no {internet.STATE_FILE} in {state_dir}: the local internet did not start"
    with urllib.request.urlopen(recorded["proxy"] + "/_local_aws/requests", timeout=10) as answer:  # noqa: S310  # loopback
        return list(json.loads(answer.read()))


@pytest.fixture
def aws_env(deployed_dev: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in deployed_dev.client_env.items():
        monkeypatch.setenv(name, value)
    return deployed_dev


def test_lai_weekly_runs_end_to_end_on_its_own_sources_any_number_of_times(aws_env: Any) -> None:
    s3 = aws_env.client("s3")
    publish("dev", repo_files(REPO_ROOT), s3=s3, lambda_client=aws_env.client("lambda"))
    before = len(proxy_requests(aws_env.state_dir))
    lines: list[str] = []
    records = [run_client_pipeline("dev", "lai_weekly", echo=lines.append) for _ in range(2)]
    for record in records:
        assert record["status"] == "succeeded", record
        assert record["items"] >= 20 and record["kept"] >= 10, record
    # every source of lai_sources answered, over https, from the recordings
    asked = proxy_requests(aws_env.state_dir)[before:]
    assert asked and all(r["answer"].startswith("200 (") for r in asked), asked
    hosts = {re.match(r"https://([^/]+)/", r["url"]).group(1) for r in asked}  # type: ignore[union-attr]
    assert {"www.fiercepharma.com", "www.camurus.com", "eutils.ncbi.nlm.nih.gov"} <= hosts
    entered = [line.split("-> ")[1] for line in lines if "-> " in line]
    assert {"Ingest", "NormalizeBatch", "Newsletter", "Succeeded"} <= set(entered)
    bucket, _, key = records[-1]["newsletter"]["markdown"].removeprefix("s3://").partition("/")
    assert bucket == NEWSLETTERS and key.startswith("lai_weekly/")
    text = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    # the sections of lai_weekly's layout, each with at least one item, and news of its companies
    layout = yaml.safe_load((REPO_ROOT / "clients" / "lai_weekly.yaml").read_text())["newsletter_layout"]
    for section in layout["sections"]:
        assert re.search(rf"^#+ {re.escape(section['title'])}\s*\n+(?:.*\n)*?.*\]\(https://", text, re.M), (
            section["title"],
            text,
        )
    for news in ("olanzapine long-acting injectable", "FluidCrystal", "Sublocade", "lenacapavir"):
        assert news in text, news
    assert "Pfizer reports third-quarter results" not in text  # not LAI news: below the threshold
    assert "two-month dosing" not in text  # six weeks old: outside the period
    assert LOCAL_BEDROCK_LABEL.strip("[]") in text  # written by the local model, and saying so


FAULT_RECORDINGS = {
    # file: header block (the body is a one-item feed)
    "good.http": "url: {host}/good.xml\ncontent-type: text/xml\n",
    "slow.http": "url: {host}/slow.xml\ndelay: 2\ncontent-type: text/xml\n",
    "busy.http": "url: {host}/busy.xml\nfail-first: 429, 503\nretry-after: 1\ncontent-type: text/xml\n",
    "down.http": "url: {host}/down.xml\nstatus: 503\n",
}
# a feed URL answering an HTML page cut short, with HTTP 200
MALFORMED = "url: {host}/cut.xml\ncontent-type: text/xml\n\n<html><head><title>Maintenance</title><body><p>Ba"
FEED = """<rss version="2.0"><channel><title>t</title>
<item><title>{name}: MedinCell long-acting injectable news</title>
<link>{host}/items/{name}</link><description>MedinCell and Teva, risperidone depot.</description>
<pubDate>{{{{days_ago:1:%a, %d %b %Y 08:00:00 +0000}}}}</pubDate></item></channel></rss>"""


@pytest.fixture
def faults_client(aws_env: Any) -> Iterator[Any]:
    folder = aws_env.state_dir / internet.LOCAL_RECORDINGS
    written = []
    for name, head in FAULT_RECORDINGS.items():
        path = folder / f"e2e-{name}"
        body = FEED.format(name=name.removesuffix(".http"), host=FAULTS_HOST)
        path.write_text(head.format(host=FAULTS_HOST) + "\n" + body)
        written.append(path)
    cut = folder / "e2e-cut.http"
    cut.write_text(MALFORMED.format(host=FAULTS_HOST))
    written.append(cut)
    names = ["good", "slow", "busy", "down", "cut", "unrecorded"]
    catalog = {
        "catalog_id": FAULTS_CATALOG,
        "description": "test: the local internet's fault modes",
        "sources": [
            {"id": f"faults_{n}", "name": f"fault mode {n}", "type": "rss", "url": f"{FAULTS_HOST}/{n}.xml"}
            for n in names
        ],
    }
    client = yaml.safe_load((REPO_ROOT / "clients" / "lai_weekly.yaml").read_text())
    client["client_profile"]["client_id"] = FAULTS_CLIENT
    client["source_config"] = {"source_bouquets_enabled": [FAULTS_CATALOG], "sources_extra_enabled": []}
    s3 = aws_env.client("s3")
    files = repo_files(REPO_ROOT, clients=[]) + [
        ConfigFile.of_text(f"canonical/sources/{FAULTS_CATALOG}.yaml", yaml.safe_dump(catalog), "test"),
        ConfigFile.of_text(f"clients/{FAULTS_CLIENT}.yaml", yaml.safe_dump(client), "test"),
    ]
    publish("dev", files, s3=s3, lambda_client=aws_env.client("lambda"))
    yield aws_env
    for path in written:
        path.unlink()
    for key in (f"canonical/sources/{FAULTS_CATALOG}.yaml", f"clients/{FAULTS_CLIENT}.yaml"):
        s3.delete_object(Bucket=CONFIG, Key=key)
    for key in keys(s3, DATA, f"raw/{FAULTS_CLIENT}/"):
        s3.delete_object(Bucket=DATA, Key=key)


def test_fault_modes_reach_the_deployed_ingest_retries_and_failed_sources(faults_client: Any) -> None:
    before = len(proxy_requests(faults_client.state_dir))
    result = invoke("dev", Function.INGEST, FAULTS_CLIENT)
    # some sources failed: the run goes on with the others
    assert sorted(result["sources_failed"]) == ["faults_cut", "faults_down", "faults_unrecorded"], result
    assert result["sources_ok"] == 3 and result["items"] == 3, result
    asked: dict[str, list[str]] = {}
    for request in proxy_requests(faults_client.state_dir)[before:]:
        asked.setdefault(request["url"].rsplit("/", 1)[-1], []).append(request["answer"].split(" ")[0])
    assert asked["busy.xml"] == ["429", "503", "200"]  # retried to success
    assert asked["down.xml"] == ["503"] * 3  # retried, then the source failed
    assert asked["unrecorded.xml"] == ["unreachable"] * 3  # like a host that never answers
    assert asked["slow.xml"] == ["200"] and asked["good.xml"] == ["200"] and asked["cut.xml"] == ["200"]
    log = faults_client.log_tail(400)
    assert log.count(f"no recording for {FAULTS_HOST}/unrecorded.xml") == 1  # logged once


def test_an_unrecorded_source_fails_like_an_unreachable_host_in_the_function(faults_client: Any) -> None:
    result = invoke("dev", Function.INGEST, FAULTS_CLIENT)
    environment = faults_client.invocations(resource_name(Function.INGEST, "dev"))[-1]["environment"]
    assert environment["HTTPS_PROXY"] == internet.state(faults_client.state_dir)["proxy"]  # type: ignore[index]
    assert Path(environment["REQUESTS_CA_BUNDLE"]).is_file() and "localhost" in environment["NO_PROXY"]
    assert "faults_unrecorded" in result["sources_failed"]


def test_the_guarded_deploy_of_dev_passes_its_smoke_test_on_lai_weekly(aws_env: Any) -> None:
    # Before the local internet, lai_weekly's sources were unreachable here: the smoke test failed
    # and the guarded deploy restored dev. The command line is the README's.
    publish("dev", repo_files(REPO_ROOT), s3=aws_env.client("s3"), lambda_client=aws_env.client("lambda"))
    result = subprocess.run(
        ["./scripts/deploy/deploy_lambda.sh", "--env", "dev"],
        cwd=REPO_ROOT,
        env=aws_env.subprocess_env({"VECTORA_ALARM_EMAILS": "alarms@example.com"}),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert re.search(
        r"dev lai_weekly: ingest-v2: \d+ item\(s\) from 9 source\(s\), .*failed sources: none", out
    ), out
    assert "smoke test of dev" in out and "restor" not in out.lower(), out
