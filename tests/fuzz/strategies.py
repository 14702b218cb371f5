"""What the fuzzer types: hostile strings, values that look valid, whole command lines built per flag.

A command line is drawn from the script's own ``argparse`` parser (``CommandSpec.of``): each option
present or not (a required one is sometimes left out), each value either a valid-looking one for
that flag or a hostile one (path separators, ``..``, glob and shell characters, control characters,
10 kB values, lone surrogates - how Python decodes argv bytes that are not UTF-8), plus now and then
an unknown flag or a stray argument. The case knows whether the command line is *wrong* by the
documented rules (``RULES``): an unknown flag, a missing required argument, or a value one of those
rules rejects; the fuzz test then expects exit status 2.

The rules are written here from the words of docs/snapshots.md, not imported from the code they check.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from hypothesis import strategies as st

from tests.fuzz.harness import Sandbox
from vectora_core.naming import ENV_NAMES
from vectora_ops.snapshots import COMPONENTS

SEED_ID = "seed_20260130_143022"  # the complete snapshot in the sandbox's ``store/`` (worlds.py)
LONG = 10_000

# --- hostile strings ---------------------------------------------------------------------------------

HOSTILE = (
    "",
    " ",
    "-",
    "..",
    "../",
    "../../../../../../etc/passwd",
    "a/../../b",
    "/etc/passwd",
    "/",
    "//",
    "./x",
    "~",
    "~root",
    "*",
    "?",
    "[a-z]*",
    "[",
    "**/*",
    "$(id)",
    "`id`",
    "; rm -rf ~",
    "a|b",
    "a&&b",
    "$HOME",
    "${IFS}",
    "'",
    '"',
    "\\",
    "%s%n",
    "\x00",
    "a\x00b",
    "\n",
    "a\nb",
    "\r",
    "\t",
    "\x1b[31mred",
    "\x7f",
    "\u202eevil",
    "\ufeffdev",
    "ｄｅｖ",
    "dev\n",
    " dev",
    "DEV",
    "é",
    "²",
    "٣",
    "\udcff",
    "lai\udce9weekly",
    "a" * LONG,
    "../" * (LONG // 3),
    "9" * LONG,
    "-1",
    "1e3",
    "0x10",
    "--help",
    "-h",
)
DANGEROUS_CHARS = "/\\.*?[]{}$`;|&<>'\"~!#%=:,\x00\n\r\t\x1b\x7f\u202e\udcff -"


def surrogate_escaped(data: bytes) -> str:
    """``data`` as Python hands argv bytes to a program: UTF-8, invalid bytes as lone surrogates."""
    return data.decode("utf-8", "surrogateescape")


def hostile_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(HOSTILE),
        st.text(alphabet=st.sampled_from(DANGEROUS_CHARS + "abcXYZ019_"), max_size=24),
        st.binary(max_size=24).map(surrogate_escaped),
        st.text(max_size=12),  # anything Unicode has, surrogates included
    )


def spliced(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A valid-looking value with a hostile piece before, inside or after it, or repeated to 10 kB."""
    pieces = st.sampled_from([*HOSTILE[:40], "/", "..", "\x00", "\udcff", "\n"])

    def splice(value: str, piece: str, where: int) -> str:
        cut = where % (len(value) + 1)
        return value[:cut] + piece + value[cut:]

    return st.one_of(
        st.builds(splice, valid, pieces, st.integers(0, 200)),
        valid.map(lambda v: (v * (LONG // max(len(v), 1) + 1))[:LONG]),
    )


# --- the documented rules ----------------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_STAMP = re.compile(r"(?P<name>.+)_(?P<ts>\d{8}_\d{6})")
_PATTERN = re.compile(r"[A-Za-z0-9._*?\[\]-]+")
_CLIENT = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")  # the loosest of the project's client-id rules
_SEMVER = re.compile(r"\d+\.\d+\.\d+")
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def valid_env(value: str) -> bool:
    return value in ENV_NAMES


def valid_name(value: str) -> bool:
    return bool(_NAME.fullmatch(value)) and ".." not in value


def valid_snapshot_ref(value: str) -> bool:
    """An id ``{name}_{YYYYMMDD_HHMMSS}``, or a pattern of letters, digits, ``_ - .`` and ``* ? [ ]``:
    no ``/``, no ``..``."""
    if ".." in value:
        return False
    if any(ch in value for ch in "*?["):
        return bool(_PATTERN.fullmatch(value))
    match = _STAMP.fullmatch(value)
    return bool(match) and valid_name(match["name"]) and _real_stamp(match["ts"])


def _real_stamp(stamp: str) -> bool:
    try:
        date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8]))
    except ValueError:
        return False
    return int(stamp[9:11]) < 24 and int(stamp[11:13]) < 60 and int(stamp[13:15]) < 60


def valid_components(value: str) -> bool:
    items = [item.strip() for item in value.split(",") if item.strip()]
    return bool(items) and all(item in COMPONENTS for item in items)


def valid_days(value: str) -> bool:
    return value.isascii() and value.isdigit()


def valid_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def valid_int(value: str) -> bool:
    return value.isascii() and value.isdigit()


@dataclass(frozen=True)
class Rule:
    """What a flag accepts (None: anything, e.g. a person's name), and values that look valid."""

    valid: Callable[[str], bool] | None
    examples: st.SearchStrategy[str]


def _components() -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(COMPONENTS), min_size=1, max_size=3, unique=True).map(",".join)


_IDENT = st.from_regex(r"\A[a-z][a-z0-9_]{0,12}[a-z0-9]\Z")
ENV_RULE = Rule(valid_env, st.sampled_from(ENV_NAMES))
CLIENT_RULE = Rule(lambda v: bool(_CLIENT.fullmatch(v)), st.one_of(st.just("lai_weekly"), _IDENT))
DATE_RULE = Rule(valid_date, st.dates(date(2024, 1, 1), date(2030, 12, 31)).map(date.isoformat))
# By argparse ``dest``: the same word means the same thing in every script.
RULES: dict[str, Rule] = {
    "env": ENV_RULE,
    "source": ENV_RULE,
    "target": ENV_RULE,
    "first": ENV_RULE,
    "second": ENV_RULE,
    "name": Rule(
        valid_name, st.one_of(st.sampled_from(["lai_v7_stable", "pre_migration_v8", "a.b-c"]), _IDENT)
    ),
    "client": CLIENT_RULE,
    "client_id": CLIENT_RULE,
    "snapshot": Rule(
        valid_snapshot_ref,
        st.sampled_from(
            [SEED_ID, "seed_*", "seed_2026013?_*", "lai_v7_stable_20260130_143022", "pre_deploy_*"]
        ),
    ),
    "components": Rule(valid_components, _components()),
    "older_than": Rule(valid_days, st.integers(0, 400).map(str)),
    "run_date": DATE_RULE,
    "date": DATE_RULE,
    "version": Rule(lambda v: bool(_SEMVER.fullmatch(v)), st.sampled_from(["7.0.0", "1.2.3"])),
    "plan": Rule(lambda v: bool(_SHA256.fullmatch(v)), st.just("0" * 64)),
    "lines": Rule(valid_int, st.integers(0, 40).map(str)),
}
FREE_TEXT = Rule(None, st.sampled_from(["alice", "Jane Doe", "ops@example.com", "hotfix: feed down"]))
PATH_DESTS = frozenset({"local", "output", "root", "paths", "old", "path", "out", "dir", "cdk_out", "file"})
PATH_METAVARS = frozenset({"DIR", "PATH", "FILE", "FOLDER"})

# --- paths -------------------------------------------------------------------------------------------


VALID_PATHS = {"local": ("store", "fresh"), "root": ("repo",)}  # by dest; else a valid config file
HOSTILE_FILES = ("binary.yaml", "empty.yaml", "latin1.yaml", "huge.yaml", "bomb.yaml", "deep.yaml")
HOSTILE_FILES += ("folder.yaml", "fifo.yaml", "dangling.yaml", "loop.yaml", "bad-json", "lai_weekly.yaml")
SYSTEM_FILES = ("/dev/null", "/proc/self/mem", "/bin/ls", "/etc/passwd")  # no script can write to these


def _both_ways(sandbox: Sandbox, names: tuple[str, ...]) -> list[str]:
    return [sandbox.relative(sandbox.box / n) for n in names] + [str(sandbox.box / n) for n in names]


def valid_paths(dest: str, sandbox: Sandbox) -> st.SearchStrategy[str]:
    return st.sampled_from(_both_ways(sandbox, VALID_PATHS.get(dest, ("lai_weekly.yaml",))))


def hostile_paths(sandbox: Sandbox) -> st.SearchStrategy[str]:
    """Paths a path flag may be given: in the sandbox (a path flag names a place the operator
    chose, where a script may write) - binary, empty, huge, non-UTF-8, a folder, a FIFO, a dangling
    link, a link loop, YAML bombs, names of control, glob and shell characters or non-UTF-8 bytes,
    ``..`` that stays in the box - and a few system files no script can write to."""
    segment = st.one_of(
        st.sampled_from(["..", ".", "new", "store", "x.yaml", "folder.yaml", "*", "?", "[a]", "~", " "]),
        st.text(alphabet=st.sampled_from(DANGEROUS_CHARS.replace("/", "") + "ab"), min_size=1, max_size=8),
        st.binary(min_size=1, max_size=8).map(surrogate_escaped).filter(lambda s: "/" not in s),
    )
    composed = st.lists(segment, min_size=1, max_size=5).map("/".join).filter(lambda p: _stays_in(p, sandbox))
    return st.one_of(
        st.sampled_from(_both_ways(sandbox, HOSTILE_FILES)),
        st.sampled_from(SYSTEM_FILES),
        composed,
        composed.map(lambda p: f"{sandbox.box}/{p}"),
        st.just(str(sandbox.box / ("n" * 300))),  # a name longer than the file system takes
    )


def _stays_in(path: str, sandbox: Sandbox) -> bool:
    """Whether the relative ``path``, resolved lexically from the sandbox's cwd, stays in the box."""
    depth = sandbox.depth
    for part in path.split("/"):
        depth += -1 if part == ".." else 0 if part in ("", ".") else 1
        if depth < 0:
            return False
    return True


# --- command lines -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlagSpec:
    """One argparse action, as the fuzzer needs it."""

    option: str | None  # None: a positional
    dest: str
    arity: str  # "none" (a switch), "one", "optional" (nargs='?'), "some" (+), "any" (*)
    required: bool
    repeatable: bool
    choices: tuple[str, ...] | None
    is_path: bool

    @property
    def rule(self) -> Rule | None:
        if self.choices is not None:
            return Rule(lambda v: v in (self.choices or ()), st.sampled_from(self.choices))
        return RULES.get(self.dest)


def _arity(action: argparse.Action) -> str:
    if action.nargs == 0:
        return "none"
    return {None: "one", "?": "optional", "+": "some", "*": "any"}.get(action.nargs, "one")  # type: ignore[arg-type]


def _flag(action: argparse.Action) -> FlagSpec:
    options = sorted(action.option_strings, key=lambda o: (not o.startswith("--"), o))
    is_path = action.type is Path or action.dest in PATH_DESTS or (action.metavar or "") in PATH_METAVARS
    return FlagSpec(
        option=options[0] if options else None,
        dest=action.dest,
        arity=_arity(action),
        required=bool(action.required),
        repeatable=isinstance(action, argparse._AppendAction),
        choices=tuple(str(c) for c in action.choices) if action.choices else None,
        is_path=is_path,
    )


@dataclass(frozen=True)
class CommandSpec:
    """A script's command line: its options and positionals, and which options exclude each other."""

    flags: tuple[FlagSpec, ...]
    exclusive: tuple[frozenset[str], ...] = ()
    option_strings: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, parser: argparse.ArgumentParser) -> CommandSpec:
        actions = [
            a for a in parser._actions if not isinstance(a, argparse._HelpAction | argparse._VersionAction)
        ]
        groups = tuple(frozenset(a.dest for a in g._group_actions) for g in parser._mutually_exclusive_groups)
        strings = frozenset(s for a in parser._actions for s in a.option_strings)
        return cls(tuple(_flag(a) for a in actions), groups, strings)

    @property
    def options(self) -> tuple[FlagSpec, ...]:
        return tuple(f for f in self.flags if f.option is not None)

    @property
    def positionals(self) -> tuple[FlagSpec, ...]:
        return tuple(f for f in self.flags if f.option is None)

    def is_unknown_option(self, token: str) -> bool:
        """Not an option of this parser, nor an abbreviation argparse would expand."""
        head = token.split("=", 1)[0]
        return not any(s.startswith(head) for s in self.option_strings if head.startswith("--")) and (
            head not in self.option_strings
        )


@dataclass(frozen=True)
class Case:
    """A generated command line; ``wrong``: it breaks a documented rule (None: nobody knows)."""

    argv: tuple[str, ...]
    wrong: bool | None
    reasons: tuple[str, ...]
    envs: frozenset[str]  # the environments it names


def valid_value(flag: FlagSpec, sandbox: Sandbox) -> st.SearchStrategy[str]:
    if flag.is_path and flag.rule is None:
        return valid_paths(flag.dest, sandbox)
    return (flag.rule or FREE_TEXT).examples


def hostile_value(flag: FlagSpec, sandbox: Sandbox) -> st.SearchStrategy[str]:
    """A path flag only gets paths that stay in the sandbox (``/`` would be the operator's choice
    to write there); any other flag gets anything."""
    if flag.is_path and flag.rule is None:
        return hostile_paths(sandbox)
    return st.one_of(hostile_text(), spliced(valid_value(flag, sandbox)), st.sampled_from(BIG_NUMBERS))


BIG_NUMBERS = ("36501", "99999999999", "4294967296", "1" + "0" * 30, "-0", "+7", "007", "7.0", "7 ")


@dataclass
class _Line:
    """A command line being drawn: its tokens, why it is wrong, the environments it names."""

    options: list[list[str]] = field(default_factory=list)
    positionals: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    envs: set[str] = field(default_factory=set)
    present: set[str] = field(default_factory=set)

    def judge(self, flag: FlagSpec, value: str) -> None:
        rule = flag.rule
        if rule is not None and rule.valid is not None and not rule.valid(value):
            self.wrong.append(f"{flag.option or flag.dest} {value[:60]!r} breaks its rule")
        if rule is ENV_RULE and valid_env(value):
            # Two environments in one command line (promote's source and target, compare_envs's
            # first and second) must be two different ones.
            if flag.option is None and value in self.envs:
                self.wrong.append(f"{flag.dest} names {value} a second time")
            self.envs.add(value)


def _option(draw: st.DrawFn, line: _Line, flag: FlagSpec, sandbox: Sandbox, hostile: bool) -> None:
    assert flag.option is not None
    tokens: list[str] = []
    for _ in range(draw(st.integers(1, 2)) if flag.repeatable else 1):
        if flag.arity == "none" or (flag.arity == "optional" and draw(st.booleans())):
            tokens.append(flag.option)
            continue
        value = draw(hostile_value(flag, sandbox) if hostile else valid_value(flag, sandbox))
        line.judge(flag, value)
        # A value starting with '-' only reaches the option as --opt=value (else argparse sees an option).
        joined = value.startswith("-") or draw(st.booleans())
        tokens += [f"{flag.option}={value}"] if joined else [flag.option, value]
    line.options.append(tokens)
    line.present.add(flag.dest)


def _positional(
    draw: st.DrawFn, line: _Line, flag: FlagSpec, sandbox: Sandbox, hostile: bool, drop: bool
) -> None:
    low, high = {"one": (1, 1), "optional": (0, 1), "some": (1, 3), "any": (0, 3)}.get(flag.arity, (1, 1))
    count = low - 1 if drop and low else draw(st.integers(low, high))
    if count < low:
        line.wrong.append(f"{flag.dest}: {count} value(s), {low} needed")
    for index in range(count):
        bad = hostile and index == count - 1
        strategy = hostile_value(flag, sandbox) if bad else valid_value(flag, sandbox)
        if flag.rule is ENV_RULE and not bad and (others := [e for e in ENV_NAMES if e not in line.envs]):
            strategy = st.sampled_from(others)  # a valid line names each environment once
        value = draw(strategy.filter(lambda v: not v.startswith("-")))  # an option, by convention
        line.judge(flag, value)
        line.positionals.append(value)


JUNK_OPTIONS = ("--nope", "--no-such-flag=1", "-Z", "---", "--env2=dev", "--dry-runs", "--ENV")
MODES = ("valid",) * 2 + ("one hostile value",) * 6 + ("chaos",) * 2


@st.composite
def command_lines(draw: st.DrawFn, spec: CommandSpec, sandbox: Sandbox) -> Case:
    """A command line for ``spec``: all valid, or one thing wrong (a hostile value, a missing
    argument, an unknown option, a stray argument), or chaos (anything anywhere)."""
    mode = draw(st.sampled_from(MODES))
    required = [f.dest for f in spec.flags if f.required or f.arity in ("one", "some")]
    targets = (
        [f.dest for f in spec.flags] + ["unknown option", "stray argument"] + ["missing"] * bool(required)
    )
    target = draw(st.sampled_from(targets)) if mode == "one hostile value" else None
    dropped = draw(st.sampled_from(required)) if target == "missing" else None
    chaos = mode == "chaos"
    line = _Line()
    for flag in draw(st.permutations(spec.options)):
        hostile = flag.dest == target or (chaos and draw(st.booleans()))
        # --root (the config scripts' canonical folder and default output) always points into the box.
        wanted = flag.required or flag.dest == "root" or hostile or draw(st.booleans())
        if flag.dest == dropped or (chaos and draw(st.integers(0, 9)) == 0):
            wanted = False
        if wanted:
            _option(draw, line, flag, sandbox, hostile)
        elif flag.required:
            line.wrong.append(f"{flag.option} missing")
    for flag in spec.positionals:
        hostile = flag.dest == target or (chaos and draw(st.booleans()))
        _positional(draw, line, flag, sandbox, hostile, drop=flag.dest == dropped)
    if target == "unknown option" or (chaos and draw(st.booleans())):
        _junk_option(draw, line, spec)
    if target == "stray argument" or (chaos and draw(st.booleans())):
        _stray(draw, line, spec)
    line.wrong += [
        f"{sorted(g & line.present)} exclude each other" for g in spec.exclusive if len(g & line.present) > 1
    ]
    argv = tuple(token for tokens in line.options for token in tokens) + tuple(line.positionals)
    return Case(argv, bool(line.wrong), tuple(line.wrong), frozenset(line.envs))


def _junk_option(draw: st.DrawFn, line: _Line, spec: CommandSpec) -> None:
    junk = draw(st.one_of(st.sampled_from(JUNK_OPTIONS), hostile_text().map(lambda t: f"--zz{t}")))
    if spec.is_unknown_option(junk):
        line.options.insert(draw(st.integers(0, len(line.options))), [junk])
        line.wrong.append(f"unknown option {junk[:60]!r}")


def _stray(draw: st.DrawFn, line: _Line, spec: CommandSpec) -> None:
    """An argument no positional takes (none is variadic or optional, none is missing a value): an
    optional positional (nargs='?') left empty would take it."""
    if any(f.arity in ("some", "any", "optional") for f in spec.positionals) or any(
        "needed" in w for w in line.wrong
    ):
        return
    line.positionals.append(draw(hostile_text().filter(lambda v: not v.startswith("-"))))
    line.wrong.append("a stray argument")


@st.composite
def free_command_lines(draw: st.DrawFn, sandbox: Sandbox) -> Case:
    """For a script that reads sys.argv itself: up to three paths or hostile strings."""
    value = st.one_of(valid_paths("", sandbox), hostile_paths(sandbox), hostile_text())
    argv = draw(st.lists(value, max_size=3))
    return Case(tuple(argv), None, (), frozenset())
