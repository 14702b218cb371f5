"""HTTP headers parsed without the email package: the same message, at a fraction of the cost.

``http.server`` (under werkzeug's server) and ``http.client`` read every request's and response's
header block with ``http.client.parse_headers``, which hands it to the ``email`` package's feed
parser: about an eighth of the emulator's CPU per request. ``parse_headers`` here builds the same
``HTTPMessage`` for the blocks clients send (``Name: value`` lines, folded continuations) and
gives any other block (a line without a colon, a leading ``From ``, an empty name, a multipart or
message content type, whose body the email package would start to parse) to the standard parser
unchanged, so a malformed request is still read, and refused, exactly as before.
``install()`` is called once by the server process.
"""

from __future__ import annotations

import email.parser
import http.client
import re
from typing import Any

# A header line as the email package recognises one: a name of printable ASCII but the colon,
# then the colon. Anything else (a "From " line, a leading space with no header before it, a line
# without a colon or with an empty name) is left to the standard parser.
_HEADER = re.compile(r"[\041-\071\073-\176]+:")
_BLANK = ("\r\n", "\n", "")
_COMPOUND = re.compile(r"multipart|message", re.IGNORECASE)


def _fields(lines: list[str]) -> list[tuple[str, str]] | None:
    """(name, value) as the email package's compat32 policy stores them, or None: not a plain block."""
    fields: list[list[str]] = []
    for line in lines:
        if line in _BLANK:
            break
        if "\r" in line.removesuffix("\r\n"):
            return None  # a bare CR ends a line for the email package, not for readline
        if line[0] in " \t":
            if not fields:
                return None
            fields[-1].append(line)
        elif _HEADER.match(line) and not line.startswith("From "):
            fields.append([line])
        else:
            return None
    parsed = []
    for source in fields:
        name, value = source[0].split(":", 1)
        value = (value.lstrip(" \t") + "".join(source[1:])).rstrip("\r\n")
        if name.lower() == "content-type" and _COMPOUND.search(value):
            return None  # the email package reads such a body (defects, sub-messages)
        parsed.append((name, value))
    return parsed


def parse_headers(fp: Any, _class: type[http.client.HTTPMessage] = http.client.HTTPMessage) -> Any:
    """``http.client.parse_headers``: read the header block of ``fp``, return a ``_class`` message."""
    read = http.client._read_headers  # type: ignore[attr-defined]  # noqa: SLF001  # its own reader
    lines = [raw.decode("iso-8859-1") for raw in read(fp)]
    fields = _fields(lines)
    if fields is None:
        return email.parser.Parser(_class=_class).parsestr("".join(lines))
    message = _class()
    for name, value in fields:
        message.set_raw(name, value)
    message.set_payload("")  # what the feed parser leaves after the blank line: an empty body
    return message


def install() -> None:
    http.client.parse_headers = parse_headers  # type: ignore[assignment]
