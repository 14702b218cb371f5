"""The config validator (``scripts/config/validate_config.py``) on hostile files and contents.

A config file given on the command line may turn out to be binary, empty, huge, not UTF-8, a YAML
bomb, nested 50 000 deep, a folder, a FIFO, a dangling link, a link loop or unreadable: each gets
exactly one line naming the file and saying what is wrong (plus the count of problems), exit 1,
and no traceback. Generated contents (hypothesis) get the same treatment: a verdict, never a crash.

The script is run in this process (``harness.run_script``), so whatever module the script calls
behind it is what is tested.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from tests.fuzz import contents
from tests.fuzz.harness import SCRIPTS, Outcome, Sandbox, outside_changes, record, run_script

VALIDATE = SCRIPTS / "config" / "validate_config.py"
SCALE = float(os.environ.get("VECTORA_FUZZ_SCALE", "1"))
COUNT_LINE = re.compile(r"\d+ problem\(s\)")
SECONDS = 20  # a bomb or a huge file must be refused, not worked through


def validate(sandbox: Sandbox, path: str) -> Outcome:
    outcome = run_script(VALIDATE, [path, "--root", str(sandbox.box / "repo")], sandbox.cwd)
    return record(f"{VALIDATE.relative_to(SCRIPTS).as_posix()} [files and contents]", outcome)


def problem_lines(outcome: Outcome) -> list[str]:
    """stderr without a last line that only counts the problems."""
    lines = outcome.stderr.splitlines()
    return lines[:-1] if lines and COUNT_LINE.search(lines[-1]) and len(lines) > 1 else lines


def refusal_problems(outcome: Outcome, name: str, expect: str) -> list[str]:
    problems = []
    if outcome.traceback or "Traceback" in outcome.stderr + outcome.stdout:
        problems.append("a traceback")
    if outcome.code != 1:
        problems.append(f"exit status {outcome.code}, not 1")
    lines = problem_lines(outcome)
    if len(lines) != 1:
        problems.append(f"{len(lines)} problem lines, not one")
    elif name not in lines[0] or not re.search(expect, lines[0].split(name, 1)[1], re.IGNORECASE):
        problems.append(f"the line does not name {name}, then say /{expect}/")
    return problems


# (file in the sandbox, what the line must say); the sandbox's files are made in conftest.py.
HOSTILE_FILES = [
    pytest.param(
        "binary.yaml",
        r"binary|UTF-8|not (YAML|text)",
        id="binary",
    ),
    pytest.param("empty.yaml", r"empty", id="empty"),
    pytest.param(
        "huge.yaml",
        r"large|bytes|size",
        id="huge",
    ),
    pytest.param("latin1.yaml", r"UTF-8", id="not-utf8"),
    pytest.param("deep.yaml", r"nested|deep|YAML|mapping", id="deep"),
    pytest.param("folder.yaml", r"director|folder", id="folder"),
    pytest.param("fifo.yaml", r"regular file|pipe|fifo", id="fifo"),
    pytest.param("dangling.yaml", r"not found|no such|link", id="dangling-link"),
    pytest.param("loop.yaml", r"link|loop|not found|cannot", id="link-loop"),
    pytest.param("absent.yaml", r"not found|no such", id="missing"),
]


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("name", "expect"), HOSTILE_FILES)
def test_a_hostile_file_gets_one_line_naming_it(sandbox: Sandbox, name: str, expect: str) -> None:
    started = time.monotonic()
    outcome = validate(sandbox, sandbox.relative(sandbox.box / name))
    assert time.monotonic() - started < SECONDS, "a hostile file must be refused quickly"
    problems = refusal_problems(outcome, name, expect)
    assert not problems, "; ".join(problems) + "\n" + outcome.describe()


BOMB_IN_A_VALID_CONFIG = (
    contents.VALID_CONFIG
    + b"\n"
    + contents.BILLION_LAUGHS.replace(b"\n", b"\n  ").replace(b"a: &a", b"laughs:\n  a: &a", 1)
)


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "document",
    [
        pytest.param(contents.BILLION_LAUGHS, id="alone"),
        pytest.param(BOMB_IN_A_VALID_CONFIG, id="under-an-unknown-key"),
    ],
)
def test_a_yaml_bomb_gets_a_verdict_quickly(sandbox: Sandbox, document: bytes) -> None:
    # Alone it is a mapping that is no config (one line per missing field); under an unknown key of
    # a valid config it is kept as it is. Either way nothing may expand its 10**9 leaves.
    (sandbox.box / "lai_weekly.yaml").write_bytes(document)
    started = time.monotonic()
    outcome = validate(sandbox, sandbox.relative(sandbox.box / "lai_weekly.yaml"))
    assert time.monotonic() - started < SECONDS, "the aliases must not be expanded"
    assert outcome.traceback is None and outcome.code in (0, 1), outcome.describe()
    assert all("lai_weekly.yaml" in line for line in problem_lines(outcome)), outcome.describe()


def test_an_unreadable_file_gets_one_line_naming_it(sandbox: Sandbox) -> None:
    # As root every permission check passes: a file whose read fails is the way to be unreadable.
    outcome = validate(sandbox, "/proc/self/mem")
    problems = refusal_problems(outcome, "/proc/self/mem", r"read|error|regular")
    assert not problems, "; ".join(problems) + "\n" + outcome.describe()


def test_the_valid_config_passes(sandbox: Sandbox) -> None:
    # The other side of every refusal above: the same call on the repository's config is a pass.
    outcome = validate(sandbox, sandbox.relative(sandbox.box / "lai_weekly.yaml"))
    assert (outcome.code, outcome.traceback) == (0, None), outcome.describe()
    assert outcome.stdout.startswith("ok "), outcome.describe()


@pytest.mark.timeout(600)
def test_generated_contents_get_a_verdict_never_a_crash(sandbox: Sandbox) -> None:
    target = sandbox.box / "lai_weekly.yaml"  # the name a valid config must have (its client id)
    outside, box = sandbox.outside_state(), sandbox.box_listing()

    @settings(
        max_examples=max(1, int(30 * SCALE)),
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=contents.yaml_documents())
    def property_(data: bytes) -> None:
        target.write_bytes(data)
        outcome = validate(sandbox, sandbox.relative(target))
        assert outcome.traceback is None and "Traceback" not in outcome.stderr, outcome.describe()
        assert outcome.code in (0, 1), outcome.describe()
        if outcome.code == 0:
            assert outcome.stdout.startswith("ok ") and not problem_lines(outcome), outcome.describe()
        else:
            lines = problem_lines(outcome)
            assert lines and all("lai_weekly.yaml" in line for line in lines), outcome.describe()

    try:
        property_()
    finally:
        target.write_bytes(contents.VALID_CONFIG)
    assert outside_changes(outside, sandbox.outside_state()) == []
    assert sandbox.box_listing().keys() == box.keys()  # the validator writes nothing


def test_the_hostile_files_are_what_they_claim(sandbox: Sandbox) -> None:
    # The cases above prove something only if the sandbox holds what their names say.
    box = sandbox.box
    assert b"\x00" in (box / "binary.yaml").read_bytes()
    assert (box / "empty.yaml").stat().st_size == 0
    assert (box / "huge.yaml").stat().st_size > 50 * 1024 * 1024
    with pytest.raises(UnicodeDecodeError):
        (box / "latin1.yaml").read_bytes().decode("utf-8")
    assert (box / "folder.yaml").is_dir() and Path(box / "fifo.yaml").is_fifo()
    assert (box / "dangling.yaml").is_symlink() and not (box / "dangling.yaml").exists()
    with pytest.raises(OSError, match="Too many levels of symbolic links"):
        (box / "loop.yaml").stat()
    with pytest.raises(OSError, match="Input/output error"), open("/proc/self/mem", "rb") as mem:
        mem.read(1)
