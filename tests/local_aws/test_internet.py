"""The local internet in this process: its proxy answers the repository's recordings to ingest's own
fetch code (``requests`` with the variables the Lambda runner gives a function), an unrecorded URL
fails like an unreachable host, and the fault modes reach ingest's retries and errors.

The same through the deployed functions: ``test_internet_e2e.py``.
"""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import yaml

from local_aws import internet
from local_aws.internet import dates, store
from local_aws.internet.ca import CertificateAuthority
from local_aws.internet.listing import print_recordings
from local_aws.internet.proxy import UNREACHABLE, Internet
from vectora_core.config.schema import SourceCatalog
from vectora_core.pipeline.sources import HttpFetcher, Period, SourceError, fetch_source, in_period

REPO_ROOT = Path(__file__).resolve().parents[2]
TODAY = datetime.now(UTC).date()
PERIOD = Period.ending_on(TODAY, 7)


def catalog_sources() -> list:
    return [
        source
        for path in sorted((REPO_ROOT / "canonical" / "sources").glob("*.yaml"))
        for source in SourceCatalog.model_validate(yaml.safe_load(path.read_text())).sources
    ]


@pytest.fixture
def net(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Internet]:
    """The repository's recordings plus ``tmp_path/recordings``, served through a proxy whose
    variables are in this process's environment, as the runner puts them in a function's."""
    extra = tmp_path / "recordings"
    extra.mkdir()
    served = Internet(internet.folders(tmp_path), CertificateAuthority(tmp_path / "internet")).start()
    proxy, bundle = served.url, str(served.ca.cert_path)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, proxy)
    monkeypatch.setenv("NO_PROXY", internet.NO_PROXY)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundle)
    yield served
    served.stop()


def record(net: Internet, name: str, text: str) -> None:
    (net.folders[-1] / name).write_text(text)


def fetcher(**kwargs: object) -> HttpFetcher:
    return HttpFetcher(requests.Session(), sleep=lambda _s: None, **kwargs)  # type: ignore[arg-type]


def test_every_catalog_source_is_answered_with_items_of_this_week(net: Internet) -> None:
    sources = catalog_sources()
    assert {s.id for s in sources} >= {"fiercepharma", "camurus", "pubmed_lai", "pubmed_lai_hiv"}
    for source in sources:
        items = fetch_source(source, fetcher(), PERIOD, 50, None)
        kept, _ = in_period(items, PERIOD)
        assert kept, f"{source.id}: no item of this week in its recording"
        assert all("{{" not in item["title"] + item["text"] for item in items), source.id
    # https throughout: the proxy terminated TLS with certificates the functions' CA bundle verifies
    assert {r["url"].split(":", 1)[0] for r in net.requests} == {"https"}
    assert not [r for r in net.requests if r["answer"] == UNREACHABLE]


def test_dates_are_shifted_to_the_serving_day(net: Internet) -> None:
    body = requests.get("https://www.camurus.com/feed/", timeout=10).text
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    assert two_days_ago.strftime("%a, %d %b %Y 06:00:00") in body and "{{days_ago" not in body


def test_an_unrecorded_url_fails_like_an_unreachable_host_and_is_logged_once(
    net: Internet, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="local_aws.internet")
    for url in (
        "https://www.camurus.com/not-recorded",
        "https://unknown-host.example/feed",
        "http://x.example/",
    ):
        with pytest.raises(SourceError, match=r"failed after 3 attempt\(s\): (Proxy|Connection)Error"):
            fetcher().get(url)
        with pytest.raises(requests.ConnectionError):
            requests.get(url, timeout=10)
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 3 and all("no recording for" in w for w in warnings), warnings


def test_the_most_specific_recording_answers_and_query_order_does_not_matter(net: Internet) -> None:
    record(net, "generic.http", "url: https://eutils.example/q?db=pubmed\n\ngeneric\n")
    record(net, "specific.http", "url: https://eutils.example/q?db=pubmed&term=a b\n\nspecific\n")
    assert requests.get("https://eutils.example/q?term=a+b&tool=t&db=pubmed", timeout=10).text == "specific\n"
    assert requests.get("https://eutils.example/q?db=pubmed&term=c", timeout=10).text == "generic\n"
    with pytest.raises(requests.ConnectionError):
        requests.get("https://eutils.example/q?db=other", timeout=10)


# --- fault modes ---------------------------------------------------------------------------------

FEED = "<rss version='2.0'><channel><item><title>t</title><link>https://f.example/1</link></item></channel></rss>"


def test_a_5xx_is_retried_then_fails_the_source(net: Internet) -> None:
    record(net, "down.http", "url: https://faults.example/down\nstatus: 503\n\nService Unavailable\n")
    with pytest.raises(SourceError, match=r"after 3 attempt\(s\): HTTP 503"):
        fetcher().get("https://faults.example/down")
    assert [r["answer"] for r in net.requests] == ["503 (down.http)"] * 3


def test_a_429_with_retry_after_then_success_is_retried_to_success(net: Internet) -> None:
    record(
        net,
        "busy.http",
        "url: https://faults.example/busy\nfail-first: 429, 503\nretry-after: 1\n"
        f"content-type: application/rss+xml\n\n{FEED}",
    )
    first = requests.get("https://faults.example/busy", timeout=10)
    assert first.status_code == 429 and first.headers["Retry-After"] == "1"
    assert fetcher().get("https://faults.example/busy") == FEED.encode()  # 503, then the recording
    assert [r["answer"] for r in net.requests] == ["429 (busy.http)", "503 (busy.http)", "200 (busy.http)"]


def test_a_slow_recording_times_out_the_read(net: Internet) -> None:
    record(net, "slow.http", f"url: https://faults.example/slow\ndelay: 1.5\n\n{FEED}")
    with pytest.raises(SourceError, match=r"after 2 attempt\(s\): ReadTimeout"):
        fetcher(timeout=(2.0, 0.5), attempts=2).get("https://faults.example/slow")
    assert fetcher(timeout=(2.0, 5.0)).get("https://faults.example/slow") == FEED.encode()


def test_a_malformed_body_fails_the_parse_not_the_fetch(net: Internet) -> None:
    # A feed cut short, and an HTML maintenance page answered with HTTP 200 where JSON was expected.
    record(
        net,
        "cut.http",
        "url: https://faults.example/cut.xml\ncontent-type: application/rss+xml\n\n<rss><chan",
    )
    record(
        net,
        "maintenance.http",
        "url: https://faults.example/eutils/esearch.fcgi\ncontent-type: text/html\n\n<html>Maintenance",
    )
    sources = {s.type: s for s in catalog_sources()}
    rss = sources["rss"].model_copy(update={"url": "https://faults.example/cut.xml"})
    with pytest.raises(SourceError, match="not an RSS/Atom feed"):
        fetch_source(rss, fetcher(), PERIOD, 50, None)
    pubmed = sources["pubmed"].model_copy(update={"eutils_base_url": "https://faults.example/eutils/"})
    with pytest.raises(SourceError, match="esearch answer is not the expected JSON"):
        fetch_source(pubmed, fetcher(), PERIOD, 50, None)
    assert [r["answer"] for r in net.requests] == ["200 (cut.http)", "200 (maintenance.http)"]


# --- recording files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("status: 200\n\nbody", "no 'url:' line"),
        ("url: ftp://x/\n\nbody", "is not an absolute http(s) URL"),
        ("url: https://x/\nstatus: 99x\n\nbody", "status '99x' is not an HTTP status (100-599)"),
        ("url: https://x/\ndelay: soon\n\nbody", "delay 'soon' is not a number of seconds"),
        ("url: https://x/\nfail-first: 503, ok\n\nbody", "fail-first: status 'ok'"),
        ("url: https://x/\nno colon here\n\nbody", "is not a 'key: value' line"),
        ("url: https://x/", "no blank line between the header block and the body"),
    ],
)
def test_a_bad_recording_is_refused_in_one_line_naming_the_file(
    tmp_path: Path, text: str, error: str
) -> None:
    path = tmp_path / "bad.http"
    path.write_text(text)
    with pytest.raises(store.RecordingError) as raised:
        store.parse(path)
    assert error in str(raised.value) and str(path) in str(raised.value) and "\n" not in str(raised.value)


def test_the_listing_names_every_recording_and_the_unreadable_ones(tmp_path: Path) -> None:
    out = io.StringIO()
    assert print_recordings(tmp_path, out) == 0
    listing = out.getvalue()
    assert "https://www.fiercepharma.com/rss/xml" in listing and "local_aws/recordings/" in listing
    (tmp_path / "recordings").mkdir()
    (tmp_path / "recordings" / "x.http").write_text("url: https://x.example/\nstatus: 503\ndelay: 2\n\n")
    (tmp_path / "recordings" / "broken.http").write_text("no url\n\n")
    out = io.StringIO()
    assert print_recordings(tmp_path, out) == 1
    assert "503 text/plain" in out.getvalue() and "[delay 2 s]" in out.getvalue()
    assert "unreadable:" in out.getvalue() and "broken.http" in out.getvalue()


def test_render_shifts_days_ago_markers() -> None:
    assert dates.render("{{days_ago:3:%Y-%m-%d}}!", datetime(2026, 3, 2).date()) == "2026-02-27!"


def test_other_methods_are_answered_by_the_recording_of_their_url(net: Internet) -> None:
    posted = requests.post("https://www.camurus.com/feed/", data=b"x" * 100, timeout=10)
    assert posted.status_code == 200 and posted.headers["Content-Type"].startswith("application/rss+xml")
    with pytest.raises(requests.ConnectionError):
        requests.post("https://www.camurus.com/elsewhere", data=b"x", timeout=10)


def test_the_recordings_command_lists_the_repository_recordings(tmp_path: Path) -> None:
    listed = subprocess.run(  # noqa: S603  # our own module
        [sys.executable, "-m", "local_aws", "--state-dir", str(tmp_path), "recordings"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    recordings = list(store.REPO_RECORDINGS.rglob("*.http"))
    assert f"{len(recordings)} recording(s)" in listed.stdout
    assert "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/esearch.fcgi?db=pubmed&term=" in listed.stdout


def test_the_ca_is_kept_across_starts_and_replaced_before_it_expires(tmp_path: Path) -> None:
    first = CertificateAuthority(tmp_path).cert
    assert CertificateAuthority(tmp_path).cert == first  # a restart keeps it (warm functions trust it)
    (tmp_path / "ca.pem").write_bytes(_expired_ca_pem())
    assert CertificateAuthority(tmp_path).cert != first


def _expired_ca_pem() -> bytes:
    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = cx509.Name([cx509.NameAttribute(cx509.oid.NameOID.COMMON_NAME, "old")])
    now = datetime.now(UTC)
    cert = (
        cx509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=400))
        .not_valid_after(now - timedelta(days=35))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)
