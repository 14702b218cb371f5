"""A small reading of rendered HTML (stdlib parser): tags in order, block ids, texts and links."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


@dataclass
class Scan:
    tags: list[str] = field(default_factory=list)  # every start tag, in document order
    attrs: list[tuple[str, dict[str, str | None]]] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)  # ids in document order
    text_of: dict[str, str] = field(default_factory=dict)  # id -> its text, whitespace collapsed
    links: list[tuple[str, str]] = field(default_factory=list)  # (href, text)
    text: str = ""  # the whole text, whitespace collapsed


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scan = Scan()
        self._open: list[tuple[str, str | None]] = []  # (tag, id) of the open elements
        self._chunks: dict[str, list[str]] = {}
        self._link: tuple[str, list[str]] | None = None
        self._all: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.scan.tags.append(tag)
        self.scan.attrs.append((tag, values))
        block_id = values.get("id")
        if block_id is not None:
            self.scan.ids.append(block_id)
            self._chunks[block_id] = []
        if tag == "a":
            self._link = (values.get("href") or "", [])
        if tag not in _VOID:
            self._open.append((tag, block_id))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._link is not None:
            self.scan.links.append((self._link[0], " ".join("".join(self._link[1]).split())))
            self._link = None
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        self._all.append(data)
        for _tag, block_id in self._open:
            if block_id is not None:
                self._chunks[block_id].append(data)
        if self._link is not None:
            self._link[1].append(data)

    def result(self) -> Scan:
        self.scan.text_of = {k: " ".join(" ".join(v).split()) for k, v in self._chunks.items()}
        self.scan.text = " ".join(" ".join(self._all).split())
        return self.scan


def scan(page: str) -> Scan:
    """What a browser would build from ``page``, reduced to what the tests look at."""
    scanner = _Scanner()
    scanner.feed(page)
    scanner.close()
    return scanner.result()
