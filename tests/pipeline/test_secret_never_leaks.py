"""A credential never reaches a log, an error or a stored object, whatever way a source fails.

A distinctive PubMed API key is planted, then ingest runs against a hostile HTTP server that fails
every request of one source kind in one way (a status, a dropped or refused connection, a timeout,
a redirect loop, a redirect elsewhere, a truncated or unreadable body), at each step (a feed,
PubMed's esearch, PubMed's efetch after a good esearch), with a healthy feed beside it so that the
run's report is written. Then every log record the function would ship (vectora_core's at any
level, anything at WARNING and above), every error raised and every object in the data bucket is
searched for the key, as written and URL-encoded. The server checks that the key was really sent.

The ingest function itself runs too, on moto and on the local AWS: its key read from SSM, every
source of its client redirected to a closed port; its Powertools output (what Lambda ships to
CloudWatch Logs), the failed run's error and every object it wrote are searched the same way.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, quote_plus, urlsplit

import boto3
import pytest
from moto import mock_aws

from scripts.invoke.fixture_feeds import fixture_catalog, fixture_config_files
from tests.pipeline.conftest import REPO_ROOT, RUN_DATE
from tests.pipeline.fake_bedrock import MODEL_ID
from tests.pipeline.test_failed_runs import CLIENT, client_root
from tests.pipeline.test_handlers import Context, cold_start
from vectora_core.config.loading import DirStore, load_client_bundle
from vectora_core.pipeline import sources
from vectora_core.pipeline.ingest import run_ingest
from vectora_core.pipeline.sources import HttpFetcher, Period, SourceError, fetch_source
from vectora_ops.config.publish import repo_files, upload

SECRET: Final = f"vx-Leak+Canary/{uuid.uuid4().hex}="  # '+', '/' and '=' change when URL-encoded
FORMS: Final = {SECRET, quote(SECRET, safe=""), quote_plus(SECRET)}
MODES: Final = ("404", "500", "429", "drop", "refused", "slow", "loop", "elsewhere", "truncated", "echo")
ESEARCH_OK: Final = b'{"esearchresult": {"idlist": ["41000001"]}}'
HANDLER_CLIENT: Final = "leak_canary"


class HostileServer:
    """Fails each request as its path says: ``/<mode>/...`` fails, ``/efetch-<mode>/...`` answers
    esearch and fails efetch. Records whether the secret arrived."""

    def __init__(self) -> None:
        self.received_secret = False
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802  # the http.server API
                owner.received_secret |= any(form in self.path for form in FORMS)
                mode = self.path.split("/")[1]
                if mode.startswith("efetch-"):
                    if "esearch.fcgi" in self.path:
                        return self.answer(200, ESEARCH_OK)
                    mode = mode.removeprefix("efetch-")
                owner.fail(self, mode)
                return None

            def answer(self, status: int, body: bytes, **headers: str) -> None:
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def fail(handler: Any, mode: str) -> None:
        if mode.isdigit():
            handler.answer(int(mode), b"no")
        elif mode == "drop":
            handler.close_connection = True  # no answer at all
        elif mode == "refused":  # to a closed port, the query (and its key) carried along
            handler.answer(302, b"", Location=f"http://127.0.0.1:1{handler.path}")
        elif mode == "loop":
            handler.answer(302, b"", Location=handler.path)
        elif mode == "elsewhere":  # a scheme requests cannot follow: its error quotes the URL
            handler.answer(302, b"", Location=f"ftp://127.0.0.1{handler.path}")
        elif mode == "slow":
            time.sleep(0.6)
            handler.answer(200, b"late")
        elif mode == "truncated":
            handler.send_response(200)
            handler.send_header("Content-Length", "1000")
            handler.end_headers()
            handler.wfile.write(b"<rss>")
            handler.close_connection = True
        else:  # echo: a page quoting the request, key included, that is neither feed, JSON nor XML
            handler.answer(200, f"<html>{handler.path} {SECRET}".encode(), **{"Content-Type": "text/html"})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    server = HostileServer()
    yield server
    server.close()


def catalog(hostile: HostileServer, healthy_base: str, mode: str) -> dict[str, Any]:
    """One healthy feed, one feed and one PubMed source failing in ``mode``."""
    healthy = fixture_catalog(healthy_base)["sources"][0]
    return {
        **fixture_catalog(healthy_base),
        "catalog_id": "hostile_sources",
        "sources": [
            healthy,
            {
                "id": "hostile_feed",
                "name": "hostile feed",
                "type": "rss",
                "url": f"{hostile.base_url}{mode}/feed",
            },
            {
                "id": "hostile_pubmed",
                "name": "hostile PubMed",
                "type": "pubmed",
                "query": "long-acting injectable",
                "eutils_base_url": f"{hostile.base_url}{mode}/eutils/",
            },
        ],
    }


def leaks(text: str) -> list[str]:
    return [form for form in FORMS if form in text]


@pytest.mark.parametrize("mode", [*MODES, *(f"efetch-{m}" for m in MODES)])
def test_no_source_failure_puts_the_api_key_in_a_log_an_error_or_an_object(
    tmp_path: Path,
    feed_server: Any,
    hostile: HostileServer,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
) -> None:
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    hostile.received_secret = False
    root = client_root(tmp_path, catalog(hostile, feed_server.base_url, mode))
    bundle = load_client_bundle(DirStore(root), CLIENT)
    fetcher = HttpFetcher(attempts=2, timeout=(1.0, 0.3), sleep=lambda _: None)
    caplog.set_level(logging.DEBUG, logger="vectora_core")
    errors: list[str] = []
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-3")
        s3.create_bucket(Bucket="leaks", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
        # each source kind alone: the error it raises, and its whole chain
        for source in bundle.sources[1:]:
            try:
                fetch_source(source, fetcher, Period.ending_on(RUN_DATE, 7), 20, SECRET)
            except SourceError as err:
                errors.append("".join(traceback.format_exception(err)))
            else:
                pytest.fail(f"{source.id} did not fail in mode {mode}")
        # the run: the healthy feed gets its report written, the hostile sources reported failed
        try:
            result = run_ingest(
                bundle, s3=s3, data_bucket="leaks", fetcher=fetcher, run_date=RUN_DATE, pubmed_api_key=SECRET
            )
            errors.append(repr(result))
        except Exception as err:  # noqa: BLE001  # its text is searched like the rest
            errors.append("".join(traceback.format_exception(err)))
        objects = [
            s3.get_object(Bucket="leaks", Key=o["Key"])["Body"].read().decode("utf-8", "replace")
            for o in s3.list_objects_v2(Bucket="leaks").get("Contents", [])
        ]
    shipped = [
        record
        for record in caplog.records
        if record.name.startswith("vectora_core") or record.levelno >= logging.WARNING
    ]
    logs = [logging.Formatter("%(message)s %(exc_text)s").format(r) for r in shipped]
    # then: the key was sent, the failures were reported, and the key is nowhere
    assert hostile.received_secret, "the planted key never reached the server: the test proves nothing"
    assert objects and any("hostile_pubmed" in o for o in objects), "no report written"
    assert any("failed" in line for line in logs)
    for where, texts in (("log", logs), ("error", errors), ("object", objects)):
        for text in texts:
            assert not leaks(text), f"the API key leaked into a {where} (mode {mode}): {text[:2000]}"


def test_redaction_covers_a_url_password_and_every_encoding() -> None:
    url_secret = "p@ss/w rd"  # noqa: S105  # a planted test value
    text = f"{SECRET} {quote(SECRET, safe='')} {quote_plus(SECRET)} {quote_plus(url_secret)}"
    assert sources.redact(text, {SECRET, url_secret}) == "*** *** *** ***"
    with pytest.raises(SourceError) as raised:
        HttpFetcher(attempts=1, timeout=(0.5, 0.5)).get(f"http://user:{quote(url_secret)}@127.0.0.1:1/x")
    assert url_secret not in str(raised.value) and quote(url_secret, safe="") not in str(raised.value)
    assert urlsplit(str(raised.value).split()[1]).password is None


@pytest.fixture
def hostile_client(aws_backend: Any, hostile: HostileServer, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The ingest function's environment (buckets of its own, on moto then on the local AWS) with a
    client whose every source, feeds and PubMed, is redirected to a closed port, and the key planted
    in SSM as the function reads it."""
    suffix = uuid.uuid4().hex[:8]
    buckets = {name: f"leak-test-{name}-{suffix}" for name in ("config", "data", "newsletters")}
    s3 = aws_backend.client("s3")
    for bucket in buckets.values():
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    files = repo_files(REPO_ROOT) + fixture_config_files(
        f"{hostile.base_url}refused/", client_id=HANDLER_CLIENT
    )
    upload(s3, buckets["config"], files)
    parameter = f"/rag-lai/dev/pubmed/api-key-{suffix}"
    aws_backend.client("ssm").put_parameter(Name=parameter, Value=SECRET, Type="SecureString")
    env = {
        "ENV": "dev",
        "PROJECT_NAME": "vectora-inbox",
        "CONFIG_BUCKET": buckets["config"],
        "DATA_BUCKET": buckets["data"],
        "NEWSLETTERS_BUCKET": buckets["newsletters"],
        "LOG_LEVEL": "DEBUG",  # dev's: the most the function ever logs
        "DEBUG": "true",
        "BEDROCK_MODEL_ID": MODEL_ID,
        "BEDROCK_REGION": "eu-west-3",
        "PUBMED_API_KEY_PARAM": parameter,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return s3, buckets


def test_the_ingest_function_logs_and_stores_no_key_when_every_source_fails(
    hostile_client: Any, hostile: HostileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    s3, buckets = hostile_client
    hostile.received_secret = False
    # when the function runs (its Powertools logs go to stdout, as Lambda ships them to CloudWatch)
    try:
        result: Any = cold_start("ingest_v2").handler(
            {"client_id": HANDLER_CLIENT, "run_date": RUN_DATE.isoformat()}, Context()
        )
        raised = repr(result)
    except Exception as err:  # noqa: BLE001  # every source failed: a failed run, its text searched
        raised = "".join(traceback.format_exception(err))
    logs = capsys.readouterr()
    objects = [
        s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read().decode("utf-8", "replace")
        for bucket in buckets.values()
        for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])
        if not o["Key"].startswith(("canonical/", "clients/"))
    ]
    # then the key went out, the failure was logged, and the key is nowhere
    assert hostile.received_secret, "the planted key never reached the server: the test proves nothing"
    assert "failed" in logs.out + logs.err
    for where, text in (
        ("stdout", logs.out),
        ("stderr", logs.err),
        ("error", raised),
        *(("object", o) for o in objects),
    ):
        assert not leaks(text), f"the API key leaked into {where}: {text[:2000]}"
