"""The one pattern every operations script follows: parsing, errors, exit status, progress.

A script is ``def main(argv) -> int`` built on ``parser()``, run by ``run(main)``.

Exit status, the same in every script:
- 0: done (a dry run that found nothing wrong is done too);
- 1: the request was valid but refused or failed (an unknown snapshot, a missing approval, a gate
  that does not pass, an AWS error); when it was an attempt to change an environment, its audit
  record says so;
- 2: the command line itself is wrong (unknown flag, missing or malformed argument, unknown
  environment): nothing was attempted, so nothing is audited;
- 130: interrupted.

Output: results on stdout, progress and warnings on stderr, every error one line on stderr (made
one printable line here, whatever the input held: a newline, a control character, a byte that was
not UTF-8).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final, NoReturn, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from vectora_core.naming import ENV_NAMES, check_env
from vectora_ops.errors import OperationError, UsageError, one_line, printable_line
from vectora_ops.snapshots import ProgressEvent
from vectora_ops.snapshots.ids import MAX_DAYS, check_client

T = TypeVar("T")

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2
EXIT_INTERRUPTED: Final = 130
# What a script run without --env asks (the question an operator must answer first).
ENV_QUESTION: Final = f"which environment: {', '.join(ENV_NAMES[:-1])} or {ENV_NAMES[-1]}?"
STEP_LABELS = {
    "copy": "snapshot",
    "restore": "restore",
    "undo": "restore the pre-rollback state",
    "delete": "delete",
    "archive": "archive",
}


# Where _StoreOnce notes, during one parse, the options already given (removed before parse_args returns).
_GIVEN: Final = "_one_line_parser_given"


class _StoreOnce(argparse._StoreAction):
    """``store``, but an option given twice is a usage error: argparse would silently keep the last
    value, and ``--snapshot a --snapshot b`` means two things, not ``b``."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        given: set[str] = namespace.__dict__.setdefault(_GIVEN, set())
        if option_string is not None and self.dest in given:
            raise argparse.ArgumentError(self, "given more than once: give it once")
        given.add(self.dest)
        super().__call__(parser, namespace, values, option_string)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad command line gives one line (not usage + error) and exit status 2, and a
    single-valued option given twice is refused (repeatable ones say ``action="append"``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", None, _StoreOnce)
        self.register("action", "store", _StoreOnce)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        parsed.__dict__.pop(_GIVEN, None)
        return parsed, extras

    def error(self, message: str) -> NoReturn:
        if "required" in message and "--env" in message:
            message = f"{ENV_QUESTION} pass --env {'|'.join(ENV_NAMES)}"
        # argparse quotes a bad value with repr() but not an unrecognized argument: escape it here.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {printable_line(message)} (see --help)\n")


def arg_type(check: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse ``type=`` from a validating function: the one-line message of its OperationError
    or ValueError becomes the usage error (exit 2, nothing attempted), e.g.
    ``--name: invalid snapshot name 'a/b': use ...``."""

    def parse(value: str) -> T:
        try:
            return check(value)
        except (OperationError, ValueError) as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    parse.__name__ = getattr(check, "__name__", "value")
    return parse


def days_type(value: str) -> int:
    # ASCII digits only: str.isdigit() also accepts '²' (which int() refuses) and other scripts' digits;
    # the length test keeps int() away from a 10 kB number.
    digits = value.isascii() and value.isdigit() and len(value) <= len(str(MAX_DAYS))
    if not digits or int(value) > MAX_DAYS:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a number of days (a whole number from 0 to {MAX_DAYS})"
        )
    return int(value)


env_type = arg_type(check_env)  # an UnknownEnvironmentError is a ValueError
# --client/--client-id: a client id, never a path (``../x`` must not name a file outside clients/ nor
# a key outside the client's prefix).
client_id_type = arg_type(check_client)


def path_type(value: str, what: str = "path") -> Path:
    """A file or folder argument: a non-empty printable path (a NUL byte or a control character is
    no file name the scripts could open or print back)."""
    if not value or not value.isprintable():
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a usable {what}: give a path of printable characters"
        )
    return Path(value)


def _folder_test(value: str, test: Callable[[Path], bool]) -> bool:
    """``test(Path(value))``; an OSError (e.g. a name too long for the file system) is a usage error."""
    try:
        return test(Path(value))
    except OSError as err:
        raise argparse.ArgumentTypeError(f"{value!r} cannot be used as a folder: {err.strerror}") from None


def existing_dir_type(value: str) -> Path:
    """A folder that must already exist (something to read, such as a cloud assembly)."""
    path = path_type(value)
    if not _folder_test(value, Path.is_dir):
        raise argparse.ArgumentTypeError(f"{value!r} is not a folder")
    return path


def local_dir_type(value: str) -> str:
    """``--local DIR``: a printable path (it is printed back) that is a folder, or does not exist yet."""
    path_type(value, "folder path")
    if _folder_test(value, lambda path: path.exists() and not path.is_dir()):
        raise argparse.ArgumentTypeError(
            f"{value!r} exists and is not a folder: give a folder (or a path to create)"
        )
    return value


def parser(prog: str, description: str, *, env: bool = True) -> OneLineParser:
    """The script's parser; with ``env``, a required ``--env`` (dev, stage or prod)."""
    result = OneLineParser(prog=prog, description=description)
    if env:
        result.add_argument("--env", required=True, type=env_type, help="environment: dev, stage or prod")
    return result


def add_local(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--local",
        metavar="DIR",
        type=local_dir_type,
        help="read/write snapshots in DIR/snapshots/ on disk instead of the backups bucket",
    )


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    # A message is prose: its line breaks become spaces; what is left unprintable is escaped.
    print(f"error: {printable_line(' '.join(message.split()))}", file=sys.stderr)
    raise SystemExit(code)


def run(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None) -> NoReturn:
    """Run ``main``; every expected failure becomes one line on stderr and its exit status."""
    try:
        code = main(argv)
    except UsageError as err:
        fail(str(err), EXIT_USAGE)
    except OperationError as err:
        fail(str(err))
    except ClientError as err:
        fail(f"AWS refused a request: {one_line(err)}")
    except BotoCoreError as err:
        # No credentials, endpoint unreachable...: the message names it; the hint covers the local AWS.
        fail(f"{one_line(err)} (is AWS_ENDPOINT_URL / the AWS profile set?)")
    except OSError as err:
        # The machine refused: a full disk, a folder that cannot be created, a file that cannot be read.
        fail(one_line(err))
    except KeyboardInterrupt:
        fail("interrupted", EXIT_INTERRUPTED)
    raise SystemExit(code)


@contextlib.contextmanager
def progress_display(stream: Any = None) -> Iterator[Callable[[ProgressEvent], None]]:
    """A progress callback: a live bar when ``stream`` (stderr) is a terminal, plain lines otherwise."""
    stream = stream or sys.stderr
    if stream.isatty():
        console = Console(file=stream)
        tasks: dict[str, Any] = {}
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as bar:

            def on_tty(event: ProgressEvent) -> None:
                if event.message:
                    bar.console.print(event.message)
                    return
                label = STEP_LABELS.get(event.step, event.step)
                if event.step not in tasks or event.done == 0:
                    tasks[event.step] = bar.add_task(label, total=event.total or None)
                bar.update(tasks[event.step], completed=event.done)

            yield on_tty
        return

    last_tenth: dict[str, int] = {}

    def on_lines(event: ProgressEvent) -> None:
        if event.message:
            print(event.message, file=stream, flush=True)
            return
        label = STEP_LABELS.get(event.step, event.step)
        tenth = (10 * event.done // event.total) if event.total else 10
        # One line at the start, one per 10 %, one at the end: readable in CI logs.
        if event.done == 0 or tenth > last_tenth.get(event.step, -1):
            last_tenth[event.step] = tenth
            print(f"{label}: {event.done}/{event.total}", file=stream, flush=True)

    yield on_lines


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
