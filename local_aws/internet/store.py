"""Recorded responses: one readable file per URL, matched against the requests the functions make.

A recording (``*.http``) is a header block, a blank line, then the body, as it is served::

    # comment lines start with "#"
    url: https://www.camurus.com/feed/
    status: 200
    content-type: application/rss+xml; charset=utf-8

    <?xml version="1.0" encoding="UTF-8"?> ...

Keys of the header block (case-insensitive):

- ``url`` (required): what it answers. A request matches when its scheme, host, port and path are
  the recording's and it carries every query parameter the recording's URL names, with the same
  value (it may carry more: PubMed's dates, ``tool``, ``retmax``); query values may be written as
  they read (spaces, quotes, brackets) or percent-encoded. The recording naming the most
  parameters wins.
- ``status`` (default 200), ``content-type`` (default ``text/plain; charset=utf-8``);
- ``delay`` (seconds, default 0): answer that late (a slow source; beyond the caller's read
  timeout, a timed-out one);
- ``fail-first``: statuses answered, in order, to the first requests of the URL since the local
  AWS started (e.g. ``503, 429``) before the recording's own answer: retries that succeed;
- any other key is a response header sent as written (e.g. ``retry-after: 2``).

The body may hold ``{{days_ago:N:FORMAT}}`` (see ``dates``): shifted to the day it is served.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

LOGGER = logging.getLogger("local_aws.internet")
SUFFIX = ".http"
# The recordings kept in the repository; an emulator also reads <state dir>/recordings/ (tests and
# fault rehearsals add files there without touching the repository), which wins on equal URLs.
REPO_RECORDINGS = Path(__file__).resolve().parent.parent / "recordings"
CONTROL_KEYS = frozenset({"url", "status", "content-type", "delay", "fail-first"})
MAX_DELAY_S = 600.0


class RecordingError(ValueError):
    """A recording file that cannot be served; the message names the file and what is allowed."""


@dataclass(frozen=True)
class Target:
    """The parts of a URL a recording is matched on."""

    scheme: str
    host: str
    port: int
    path: str
    query: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, url: str) -> Target:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an absolute http(s) URL")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        query = tuple(parse_qsl(parts.query, keep_blank_values=True))
        return cls(parts.scheme, parts.hostname.lower(), port, parts.path or "/", query)


@dataclass(frozen=True)
class Recording:
    path: Path
    url: str
    status: int
    content_type: str
    body: bytes
    delay_s: float = 0.0
    fail_first: tuple[int, ...] = ()
    headers: tuple[tuple[str, str], ...] = field(default=())

    @property
    def target(self) -> Target:
        return Target.of(self.url)

    def matches(self, target: Target) -> bool:
        mine = self.target
        if (mine.scheme, mine.host, mine.port, mine.path) != (
            target.scheme,
            target.host,
            target.port,
            target.path,
        ):
            return False
        asked = set(target.query)
        return all(pair in asked for pair in mine.query)


def _status(value: str, where: str) -> int:
    if not (value.isdigit() and 100 <= int(value) <= 599):
        raise RecordingError(f"{where}: status {value!r} is not an HTTP status (100-599)")
    return int(value)


def parse(path: Path) -> Recording:
    """One recording file; RecordingError naming the file and the problem."""
    raw = path.read_bytes()
    head, sep, body = raw.partition(b"\n\n")
    if not sep:
        raise RecordingError(f"{path}: no blank line between the header block and the body")
    fields: dict[str, str] = {}
    headers: list[tuple[str, str]] = []
    for number, line in enumerate(head.decode("utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, colon, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if not colon or not key or " " in key:
            raise RecordingError(f"{path}:{number}: {line!r} is not a 'key: value' line")
        if key in CONTROL_KEYS:
            fields[key] = value
        else:
            headers.append((key, value))
    if "url" not in fields:
        raise RecordingError(f"{path}: no 'url:' line (every recording answers one URL)")
    try:
        Target.of(fields["url"])
    except ValueError as err:
        raise RecordingError(f"{path}: url: {err}") from None
    try:
        delay = float(fields.get("delay", "0"))
    except ValueError:
        delay = -1.0
    if not 0 <= delay <= MAX_DELAY_S:
        raise RecordingError(
            f"{path}: delay {fields['delay']!r} is not a number of seconds (0-{MAX_DELAY_S:.0f})"
        )
    fail_first = tuple(
        _status(part.strip(), f"{path}: fail-first")
        for part in fields.get("fail-first", "").split(",")
        if part.strip()
    )
    return Recording(
        path=path,
        url=fields["url"],
        status=_status(fields.get("status", "200"), str(path)),
        content_type=fields.get("content-type", "text/plain; charset=utf-8"),
        body=body,
        delay_s=delay,
        fail_first=fail_first,
        headers=tuple(headers),
    )


def load(folders: Iterable[Path]) -> tuple[list[Recording], list[str]]:
    """Every recording of ``folders`` (later folders first: they override), and the errors of
    the files that could not be read."""
    recordings: list[Recording] = []
    errors: list[str] = []
    for folder in reversed(list(folders)):
        for path in sorted(folder.rglob(f"*{SUFFIX}")) if folder.is_dir() else []:
            try:
                recordings.append(parse(path))
            except (RecordingError, UnicodeDecodeError, OSError) as err:
                errors.append(str(err))
    return recordings, errors


def find(recordings: Iterable[Recording], url: str) -> Recording | None:
    """The recording answering ``url``: the one naming the most query parameters, the first
    listed (the overriding folder's) on a tie."""
    target = Target.of(url)
    best: Recording | None = None
    for recording in recordings:
        if recording.matches(target) and (
            best is None or len(recording.target.query) > len(best.target.query)
        ):
            best = recording
    return best


def knows_host(recordings: Iterable[Recording], host: str, port: int) -> bool:
    return any((r.target.host, r.target.port) == (host.lower(), port) for r in recordings)
