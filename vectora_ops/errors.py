"""The two kinds of failure every operations script tells apart (and their exit statuses)."""

from __future__ import annotations


class OperationError(Exception):
    """A valid request that was refused or failed (exit status 1); the message is one line."""


class UsageError(Exception):
    """The command line itself is wrong (exit status 2): nothing was attempted, nothing audited."""


def one_line(err: BaseException | str, limit: int = 300) -> str:
    """An exception (or a text) as one line of at most ``limit`` characters (AWS errors can carry
    an HTML page)."""
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def stop_reason(err: BaseException, limit: int = 300) -> str:
    """Why an operation stopped, for its audit record: ``interrupted`` for a Ctrl-C, else the error."""
    return "interrupted" if isinstance(err, KeyboardInterrupt) else one_line(err, limit)


def printable_line(text: str) -> str:
    """``text`` with every character a terminal would not print as itself escaped: a newline, a
    control character, a lone surrogate standing for a byte of the command line that was not UTF-8
    (``\\n``, ``\\x1b``, ``\\udcff``). One line, whatever a user typed."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
