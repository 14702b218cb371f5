"""The emulator's header parser builds the message the standard library's would, for any block."""

from __future__ import annotations

import http.client
import io
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from local_aws.http_headers import parse_headers

# Header names and values as clients send them, and the pieces that make a block unusual: folds,
# bare CRs, LF-only ends, a leading "From ", empty names, spaces before the colon, Latin-1 bytes.
PIECES = st.sampled_from(
    [b"Host", b"X-Amz-Date", b"x-amz-meta-a_b", b"Content-Length", b": ", b":", b" ", b"\t", b"\r", b"\n",
     b"\r\n", b"From ", b"value", b"\xe9", b"\x85", b"\x0c", b"a=b;c", b"Content-Type", b"multipart/mixed",
     b"message/rfc822", b"application/json"]
)  # fmt: skip
LINE = st.lists(PIECES, max_size=6).map(b"".join)


def describe(message: Any) -> tuple[object, ...]:
    payload = message.get_payload()
    return (
        message.items(),
        [type(d).__name__ for d in message.defects],
        [describe(part) for part in payload] if isinstance(payload, list) else payload,
        message.get_unixfrom(),
        message.is_multipart(),
    )


@settings(max_examples=400, deadline=None)
@example([b"Host: a", b"Content-Type: multipart/mixed; boundary=x"], b"\r\n")
@example([b"Content-type: Message/RFC822"], b"\r\n")
@example([b"Content-Type: application/json", b"X: a", b" b"], b"\r\n")
@given(st.lists(LINE, max_size=8), st.sampled_from([b"\r\n", b"\n", b""]))
def test_any_header_block_parses_as_the_standard_library_parses_it(lines: list[bytes], end: bytes) -> None:
    block = b"".join(line + b"\r\n" for line in lines) + end
    assert describe(parse_headers(io.BytesIO(block))) == describe(
        http.client.parse_headers(io.BytesIO(block))
    )


def test_a_typical_request_block_takes_the_fast_path_with_folds_and_underscores() -> None:
    block = b"Host: localhost:4566\r\nX-Amz-Meta-Key_Name: v\r\nX-Folded: a\r\n b\r\n\r\n"
    message = parse_headers(io.BytesIO(block))
    assert message.items() == [
        ("Host", "localhost:4566"),
        ("X-Amz-Meta-Key_Name", "v"),
        ("X-Folded", "a\r\n b"),
    ]
    assert message["host"] == "localhost:4566" and message.get_all("x-folded") == ["a\r\n b"]
