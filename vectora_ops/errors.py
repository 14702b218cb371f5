"""The two kinds of failure every operations script tells apart (and their exit statuses)."""

from __future__ import annotations


class OperationError(Exception):
    """A valid request that was refused or failed (exit status 1); the message is one line."""


class UsageError(Exception):
    """The command line itself is wrong (exit status 2): nothing was attempted, nothing audited."""


def one_line(err: BaseException) -> str:
    """An exception as one short line (AWS errors can carry an HTML page)."""
    text = " ".join(str(err).split())
    return text if len(text) <= 300 else text[:297] + "..."


def printable_line(text: str) -> str:
    """``text`` with every character a terminal would not print as itself escaped: a newline, a
    control character, a lone surrogate standing for a byte of the command line that was not UTF-8
    (``\\n``, ``\\x1b``, ``\\udcff``). One line, whatever a user typed."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
