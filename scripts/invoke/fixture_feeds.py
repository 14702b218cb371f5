"""Fixture feeds on 127.0.0.1 and the config that points a test client at them.

Used by the pipeline and promotion tests: a run date of their choosing and a source that answers
404. (``make local`` and ``local_demo.py`` run the real ``lai_weekly`` instead, its sources answered
by the local AWS's local internet, ``local_aws/recordings/``.) Nothing here is a special code path of the
pipeline: the functions fetch these feeds exactly as real ones, because a *fixture catalog*
(``canonical/sources/demo_fixture_sources.yaml``, ``fixture: true``) lists the server's URLs and a
*demo client* (``clients/lai_weekly_demo.yaml``, a copy of ``lai_weekly`` that uses that catalog)
selects them. Both are generated with the server's port and published next to the real files,
which they never replace: ``lai_weekly`` and ``lai_sources`` in the bucket stay the real ones, and
every output of the demo client carries a "FIXTURE SOURCES" banner.

Fixture files (``demo_feeds/``) may contain ``{{days_ago:N:FORMAT}}``: the date N days before the
server's ``today``, formatted with strftime, so that items always fall in the client's period (the
same markers as the recordings: ``local_aws.internet.dates``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml

from local_aws.internet.dates import render
from vectora_ops.config.publish import ConfigFile

FEEDS_DIR = Path(__file__).resolve().parent / "demo_feeds"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_CLIENT_ID = "lai_weekly_demo"
FIXTURE_CATALOG_ID = "demo_fixture_sources"
# Fixture source id -> fixture file (RSS/Atom); "pubmed_lai" is served by the E-utilities routes.
RSS_FIXTURES = {"fiercepharma": "fiercepharma.xml", "medincell": "medincell.xml", "camurus": "camurus.xml"}
BROKEN_SOURCE_ID = "broken_feed"
CONTENT_TYPES = {".xml": "application/xml; charset=utf-8", ".json": "application/json"}


@dataclass
class FixtureFeedServer:
    """A threaded HTTP server on 127.0.0.1 serving ``demo_feeds/``; records the requests it got."""

    today: date = field(default_factory=lambda: datetime.now(UTC).date())
    requests: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fixture feed server is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def _answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
        if path.startswith("/feeds/"):
            name = path.removeprefix("/feeds/")
            file = FEEDS_DIR / name
            if name in RSS_FIXTURES.values() and file.is_file():
                return 200, CONTENT_TYPES[".xml"], render(file.read_text("utf-8"), self.today).encode()
            return 404, "text/plain", b"no such feed"
        if path == "/eutils/esearch.fcgi":
            if query.get("db") != ["pubmed"] or not query.get("term"):
                return 400, "text/plain", b"esearch needs db=pubmed and term"
            return 200, CONTENT_TYPES[".json"], (FEEDS_DIR / "pubmed_esearch.json").read_bytes()
        if path == "/eutils/efetch.fcgi":
            if query.get("db") != ["pubmed"] or not query.get("id"):
                return 400, "text/plain", b"efetch needs db=pubmed and id"
            text = (FEEDS_DIR / "pubmed_efetch.xml").read_text("utf-8")
            return 200, CONTENT_TYPES[".xml"], render(text, self.today).encode()
        return 404, "text/plain", b"not found"

    def start(self) -> FixtureFeedServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802  # the http.server API
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                owner.requests.append((parts.path, query))
                status, content_type, body = owner._answer(parts.path, query)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002  # signature of the base
                return  # quiet: tests and the demo print what matters themselves

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, name="fixture-feeds", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@contextmanager
def serving(today: date | None = None) -> Iterator[FixtureFeedServer]:
    server = FixtureFeedServer(today=today or datetime.now(UTC).date()).start()
    try:
        yield server
    finally:
        server.stop()


def fixture_catalog(base_url: str, *, with_broken_source: bool = False) -> dict:
    sources = [
        {"id": source_id, "name": f"{source_id} (fixture)", "type": "rss", "url": f"{base_url}feeds/{file}"}
        for source_id, file in RSS_FIXTURES.items()
    ]
    sources.append(
        {
            "id": "pubmed_lai",
            "name": "PubMed - long-acting injectables (fixture)",
            "type": "pubmed",
            "query": '"long-acting injectable"[tiab]',
            "eutils_base_url": f"{base_url}eutils/",
        }
    )
    if with_broken_source:
        sources.append(
            {
                "id": BROKEN_SOURCE_ID,
                "name": "A feed that answers 404",
                "type": "rss",
                "url": f"{base_url}feeds/gone.xml",
            }
        )
    return {
        "catalog_id": FIXTURE_CATALOG_ID,
        "description": f"FIXTURE feeds on {base_url} (scripts/invoke/fixture_feeds.py): demo and tests only",
        "fixture": True,
        "sources": sources,
    }


def demo_client(
    client_id: str, catalog: dict, *, template: Path = REPO_ROOT / "clients" / "lai_weekly.yaml"
) -> dict:
    """``lai_weekly``'s config under another id, reading the fixture catalog."""
    document = yaml.safe_load(template.read_text("utf-8"))
    document["client_profile"]["client_id"] = client_id
    document["client_profile"]["name"] = f"{document['client_profile']['name']} (demo, fixture feeds)"
    document["source_config"] = {
        "source_bouquets_enabled": [catalog["catalog_id"]],
        "sources_extra_enabled": [],
    }
    return document


def fixture_config_files(
    base_url: str, *, client_id: str = DEMO_CLIENT_ID, with_broken_source: bool = False
) -> list[ConfigFile]:
    """The two generated files to publish next to the repository's own."""
    catalog = fixture_catalog(base_url, with_broken_source=with_broken_source)
    client = demo_client(client_id, catalog)
    origin = "generated by scripts/invoke/fixture_feeds.py"
    header = f"# GENERATED fixture config ({origin}); not a real client or source list.\n"
    return [
        ConfigFile.of_text(
            f"canonical/sources/{FIXTURE_CATALOG_ID}.yaml",
            header + yaml.safe_dump(catalog, sort_keys=False, allow_unicode=True),
            f"{origin}: canonical/sources/{FIXTURE_CATALOG_ID}.yaml",
        ),
        ConfigFile.of_text(
            f"clients/{client_id}.yaml",
            header + yaml.safe_dump(client, sort_keys=False, allow_unicode=True),
            f"{origin}: clients/{client_id}.yaml",
        ),
    ]
