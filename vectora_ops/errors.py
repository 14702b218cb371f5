"""The two kinds of failure every operations script tells apart (and their exit statuses), and
the snapshot engine's refusals and failures, one kind of the first."""

from __future__ import annotations


class OperationError(Exception):
    """A valid request that was refused or failed (exit status 1); the message is one line."""


class UsageError(Exception):
    """The command line itself is wrong (exit status 2): nothing was attempted, nothing audited."""


class SnapshotError(OperationError):
    """A snapshot operation refused or failed; nothing was changed unless the message says so."""


class RollbackError(SnapshotError):
    """A rollback failed part-way; ``restored`` says whether the pre-rollback state was put back."""

    def __init__(self, message: str, *, pre_rollback_id: str | None, restored: bool) -> None:
        super().__init__(message)
        self.pre_rollback_id = pre_rollback_id
        self.restored = restored


def one_line(err: BaseException | str, limit: int = 300) -> str:
    """An exception (or a text) as one line of at most ``limit`` characters (AWS errors can carry
    an HTML page)."""
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def typed_line(err: BaseException, limit: int = 300) -> str:
    """``TypeName: message``, the message one line (``one_line``): an error nobody expected."""
    return f"{type(err).__name__}: {one_line(err, limit)}"


def stop_reason(err: BaseException, limit: int = 300) -> str:
    """Why an operation stopped, for its audit record: ``interrupted`` for a Ctrl-C, else the error."""
    return "interrupted" if isinstance(err, KeyboardInterrupt) else one_line(err, limit)


def printable_line(text: str) -> str:
    """``text`` with every character a terminal would not print as itself escaped: a newline, a
    control character, a lone surrogate standing for a byte of the command line that was not UTF-8
    (``\\n``, ``\\x1b``, ``\\udcff``). One line, whatever a user typed."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
