"""The development rules document is true of the code.

Every fenced shell command of the document (and of the files that carry or point to it: the
Amazon Q rules file, AGENTS.md) is checked against what it calls: a script's command line is
parsed by that script's own parser (in process, stopped right after parsing), a ``make`` target
and its variables must be in the Makefile, a ``cdk`` command's flags in the CLI's ``--help``.
The safe ones run for real: ``--help`` of every script named, ``validate_config.py``,
``publish_config.py --dry-run`` (no AWS), and synth through the session's assembly. Every
resource name must come out of ``vectora_core.naming``; every figure (retention counts, days,
hours, memory, regions, model ids) must equal ``EnvConfig``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import os
import re
import runpy
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.docs.markdown_refs import REPO_ROOT, prose_and_code
from tests.docs.rules_sync import AMAZONQ_RULES, DOCUMENT, render
from vectora_core.environments import ENVIRONMENTS, MAIN_REGION
from vectora_core.functions import COMMON_VARIABLES, FUNCTIONS
from vectora_core.naming import (
    ENV_NAMES,
    PROJECT_NAME,
    SNAPSHOT_FUNCTION,
    Bucket,
    Function,
    Layer,
    StackComponent,
    log_group_name,
    pubmed_api_key_param,
    resource_name,
    role_name,
)
from vectora_ops.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from vectora_ops.preflight import CHECKS
from vectora_ops.preflight.parameters import MANAGED_KEY
from vectora_ops.promotion.gates import PREFLIGHT_GATES, TARGET_PREFLIGHT

AGENTS = REPO_ROOT / "AGENTS.md"
CARRIERS = (DOCUMENT, AMAZONQ_RULES, AGENTS)
CDK = REPO_ROOT / "node_modules" / ".bin" / "cdk"
PYTHON = sys.executable
SECTIONS = (
    "## 🌍 Gestion des environnements",
    "## 📋 Règles de configuration client",
    "## 🔧 Règles d'exécution scripts",
    "## 📸 Snapshots et rollback",
    "## 🔧 Configuration AWS par environnement",
    "## ✅ Checklist Q Developer - environnements",
)
DEV, STAGE, PROD = (ENVIRONMENTS[e] for e in ENV_NAMES)


def text() -> str:
    return DOCUMENT.read_text(encoding="utf-8")


# --- the commands ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    source: str
    line: int
    argv: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {shlex.join(self.argv)}"


def commands(path: Path) -> Iterator[Command]:
    """Every command of the file's shell blocks (continuation lines joined, comments dropped)."""
    pending = ""
    start = 0
    for number, line, block in prose_and_code(path.read_text(encoding="utf-8")):
        if block not in ("bash", "sh", "shell"):
            continue
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        argv = shlex.split(pending + line, comments=True)
        pending = ""
        if argv:
            yield Command(str(path.relative_to(REPO_ROOT)), start, tuple(argv))


# The Amazon Q rules file is the document (test_amazonq_rules_carry_the_document): checked once.
ALL_COMMANDS = [c for carrier in (DOCUMENT, AGENTS) for c in commands(carrier)]


def _wrapped(script: str) -> tuple[str, list[str]]:
    """The Python script a ``scripts/...sh`` wrapper execs, and the arguments it puts first."""
    body = (REPO_ROOT / script).read_text(encoding="utf-8")
    found = re.search(r'exec\s+"\$root/\.venv/bin/python"\s+"\$root/(\S+\.py)"((?:\s+\w+)*)\s+"\$@"', body)
    assert found, f"{script}: no exec line of a Python script"
    return found.group(1), found.group(2).split()


def script_call(command: Command) -> tuple[str, list[str]] | None:
    """(Python script, its arguments) for a script command, None for make/cdk."""
    argv = list(command.argv)
    if argv[0] == ".venv/bin/python" and argv[1].startswith("scripts/"):
        return argv[1], argv[2:]
    if argv[0].startswith("./scripts/") and argv[0].endswith(".sh"):
        script, prefix = _wrapped(argv[0][2:])
        return script, prefix + argv[1:]
    return None


class _Parsed(BaseException):  # not an Exception: no script's error handling may catch it
    def __init__(self, namespace: argparse.Namespace) -> None:
        self.namespace = namespace


def parse_only(script: str, args: list[str], monkeypatch: pytest.MonkeyPatch) -> argparse.Namespace:
    """Run the script as ``__main__`` until its parser has parsed ``args``; nothing else runs."""
    original = argparse.ArgumentParser.parse_args

    def parse_and_stop(self: argparse.ArgumentParser, *a: Any, **kw: Any) -> argparse.Namespace:
        raise _Parsed(original(self, *a, **kw))

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_and_stop)
    monkeypatch.setattr(sys, "argv", [script, *args])
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        try:
            runpy.run_path(str(REPO_ROOT / script), run_name="__main__")
        except _Parsed as parsed:
            return parsed.namespace
        except SystemExit as exit_:
            pytest.fail(f"{script} {shlex.join(args)}: exit {exit_.code}: {stderr.getvalue().strip()}")
    pytest.fail(f"{script} {shlex.join(args)}: main returned without parsing its command line")


SCRIPT_COMMANDS = [c for c in ALL_COMMANDS if c.argv[0] == ".venv/bin/python" or c.argv[0].startswith("./")]
MAKE_COMMANDS = [c for c in ALL_COMMANDS if c.argv[0] == "make"]
CDK_COMMANDS = [c for c in ALL_COMMANDS if c.argv[:2] == ("npx", "cdk")]


def test_every_command_is_a_script_a_make_target_or_cdk() -> None:
    others = [str(c) for c in ALL_COMMANDS if c not in {*SCRIPT_COMMANDS, *MAKE_COMMANDS, *CDK_COMMANDS}]
    assert not others, "commands the test cannot check:\n" + "\n".join(others)
    assert len(SCRIPT_COMMANDS) >= 20 and MAKE_COMMANDS and CDK_COMMANDS


@pytest.mark.parametrize("command", [c for c in SCRIPT_COMMANDS if "--help" not in c.argv], ids=str)
def test_each_script_command_is_accepted_by_its_parser(
    command: Command, monkeypatch: pytest.MonkeyPatch
) -> None:
    call = script_call(command)
    assert call, f"{command}: not a script"
    script, args = call
    assert (REPO_ROOT / script).is_file(), f"{command}: {script} does not exist"
    namespace = parse_only(script, args, monkeypatch)
    if "env" in vars(namespace):
        assert namespace.env in ENV_NAMES


# The --help commands as written, and every wrapper script's --help (the wrapper itself runs).
HELP_COMMANDS = [c for c in SCRIPT_COMMANDS if "--help" in c.argv] + [
    Command(c.source, c.line, (c.argv[0], "--help"))
    for c in {c.argv[0]: c for c in SCRIPT_COMMANDS if c.argv[0].endswith(".sh")}.values()
]


@pytest.mark.parametrize("command", HELP_COMMANDS, ids=str)
def test_help_commands_run(command: Command) -> None:
    argv = [PYTHON, *command.argv[1:]] if command.argv[0] == ".venv/bin/python" else list(command.argv)
    done = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "usage:" in done.stdout, f"{command}: {done.stderr.strip()}"


# The safe commands that need no AWS: run exactly as written.
SAFE = [
    c
    for c in SCRIPT_COMMANDS
    if c.argv[1:2] == ("scripts/config/validate_config.py",)
    or (c.argv[1:2] == ("scripts/config/publish_config.py",) and "--dry-run" in c.argv)
]


@pytest.mark.parametrize("command", SAFE, ids=str)
def test_safe_commands_run(command: Command) -> None:
    done = subprocess.run(
        [PYTHON, *command.argv[1:]],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "AWS_ENDPOINT_URL": "http://localhost:1"},  # any AWS call would fail
    )
    assert done.returncode == 0, f"{command}: {done.stderr.strip()}"


def test_safe_commands_are_there() -> None:
    assert {c.argv[1] for c in SAFE} == {
        "scripts/config/validate_config.py",
        "scripts/config/publish_config.py",
    }


# --- make and cdk ------------------------------------------------------------------------------


@functools.cache
def _makefile() -> str:
    return (REPO_ROOT / "Makefile").read_text(encoding="utf-8")


@functools.cache
def _make_targets() -> frozenset[str]:
    return frozenset(re.findall(r"^([\w-]+):", _makefile(), re.MULTILINE))


@pytest.mark.parametrize("command", MAKE_COMMANDS, ids=str)
def test_each_make_command_names_a_target_and_its_variables(command: Command) -> None:
    target, *assignments = command.argv[1:]
    assert target in _make_targets(), f"{command}: no target {target!r} in the Makefile"
    for assignment in assignments:
        name, _, value = assignment.partition("=")
        assert f"$({name})" in _makefile(), f"{command}: the Makefile never reads {name}"
        if name == "ENV":
            assert value in ENV_NAMES, f"{command}: ENV={value}"


@functools.cache
def _cdk_help(subcommand: str) -> str:
    done = subprocess.run([str(CDK), subcommand, "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def _cdk_parts(command: Command) -> tuple[str, dict[str, str], list[str], list[str]]:
    """(subcommand, -c context, flags, stack names) of ``npx cdk ...``."""
    subcommand, rest = command.argv[2], list(command.argv[3:])
    context: dict[str, str] = {}
    flags, stacks = [], []
    while rest:
        word = rest.pop(0)
        if word == "-c":
            key, _, value = rest.pop(0).partition("=")
            context[key] = value
        elif word.startswith("-"):
            flags.append(word.split("=", 1)[0])
        else:
            stacks.append(word)
    return subcommand, context, flags, stacks


@pytest.mark.synth  # runs the pinned CDK CLI's --help
@pytest.mark.parametrize("command", CDK_COMMANDS, ids=str)
def test_each_cdk_command_uses_real_flags_an_environment_and_real_stacks(command: Command) -> None:
    subcommand, context, flags, stacks = _cdk_parts(command)
    env = context.get("env")
    assert env in ENV_NAMES, f"{command}: -c env= must name an environment"
    if ENVIRONMENTS[env].alarms_enabled and subcommand in ("deploy", "diff", "synth"):
        assert context.get("alarm_emails"), f"{command}: {env} refuses to synthesize without alarm_emails"
    if subcommand == "deploy":
        assert stacks or "--all" in flags, f"{command}: neither --all nor a stack"
    assert set(stacks) <= {resource_name(c, env) for c in StackComponent}, command
    usage = _cdk_help(subcommand)
    for flag in flags:
        assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", usage), f"{command}: cdk has no {flag}"


def test_synth_commands_are_what_the_session_synth_builds(assembly: Any) -> None:
    envs = {
        dict(a.partition("=")[::2] for a in c.argv[2:]).get("ENV")
        for c in MAKE_COMMANDS
        if c.argv[1] == "synth"
    }
    envs |= {_cdk_parts(c)[1]["env"] for c in CDK_COMMANDS}
    for env in envs:
        for component in StackComponent:
            assert resource_name(component, env) in assembly.templates


# --- names, variables, figures -----------------------------------------------------------------


def _known_names() -> set[str]:
    components = [*Bucket, *Function, *Layer, *StackComponent, SNAPSHOT_FUNCTION, "alarms"]
    # The document's own file name is the one "vectora-inbox-..." that is no resource.
    names = {PROJECT_NAME, f"{PROJECT_NAME}-{{component}}-{{env}}", DOCUMENT.stem}
    for env in ENV_NAMES:
        names |= {resource_name(c, env) for c in components}
        names |= {role_name(f, env) for f in [*Function, SNAPSHOT_FUNCTION]}
    for c in components:
        names.add(f"{PROJECT_NAME}-{c}-{{env}}")
    names |= {f"{PROJECT_NAME}-{f}-role-{{env}}" for f in [*Function, SNAPSHOT_FUNCTION]}
    return names


@pytest.mark.parametrize("carrier", CARRIERS, ids=lambda p: p.name)
def test_every_resource_name_comes_out_of_naming(carrier: Path) -> None:
    used = set(re.findall(r"vectora-inbox(?:-[a-z0-9{}]+)*", carrier.read_text(encoding="utf-8")))
    assert used <= _known_names(), sorted(used - _known_names())


def test_log_groups_and_the_pubmed_parameter_come_out_of_naming() -> None:
    doc = text()
    for found in re.findall(r"/aws/lambda/[\w{}-]+", doc):
        assert found in {log_group_name(f, e) for f in Function for e in ENV_NAMES} | {
            f"/aws/lambda/{PROJECT_NAME}-{f}-{{env}}" for f in Function
        }, found
    params = set(re.findall(r"/rag-lai/[\w{}-]+/[\w/-]+", doc))
    assert params == {pubmed_api_key_param("dev").replace("/dev/", "/{env}/")}


def test_the_lambda_variables_are_the_function_specs() -> None:
    doc = " ".join(text().split())
    common = re.search(r"communes à toutes les Lambdas : (.*?) ;", doc)
    assert common
    listed = [v for v in re.findall(r"`([A-Z_]+)`", common.group(1))]
    assert listed == [str(v) for v in COMMON_VARIABLES]
    for name, spec in FUNCTIONS.items():
        extra = re.search(rf"`{resource_name(name, 'dev')[:-4]}-{{env}}` : en plus (.*?) [;.]", doc)
        assert extra, name
        assert listed + re.findall(r"`([A-Z_]+)`", extra.group(1)) == [str(v) for v in spec.variables]


def _cells(*values: object) -> str:
    return " | ".join(str(v) for v in values)


def test_the_figures_are_the_configs() -> None:
    doc = text()
    mem = [f"{c.lambda_memory_mb} Mo / {c.lambda_timeout_seconds} s" for c in (DEV, STAGE, PROD)]
    expected = [
        _cells(*(f"{c.log_level} / {'oui' if c.debug else 'non'}" for c in (DEV, STAGE, PROD))),
        _cells(*(f"les {c.snapshot_keep_newest} plus récents" for c in (DEV, STAGE)), "tous"),
        f"— | — | après {PROD.snapshot_glacier_after_days} jours",
        _cells(
            f"{DEV.backups_noncurrent_days} jours",
            f"{STAGE.backups_noncurrent_days} jours",
            "sans expiration",
        ),
        _cells(*mem),
        _cells(*(f"{c.log_retention_days} jours" for c in (DEV, STAGE, PROD))),
        _cells(*(f"{c.noncurrent_version_days} jours" for c in (DEV, STAGE, PROD))),
        f"stable depuis **{PROD.source_stability_days} jours**",
        f"**{PROD.post_promotion_watch_hours} heures**",
        f"Région : `{MAIN_REGION}`",
    ]
    for phrase in expected:
        assert phrase in doc, phrase
    assert [DEV.snapshot_glacier_after_days, STAGE.snapshot_glacier_after_days] == [None, None]
    assert (DEV.direct_changes_allowed, STAGE.direct_changes_allowed, PROD.direct_changes_allowed) == (
        True, True, False,
    )  # fmt: skip
    assert [c.approval_required for c in (DEV, STAGE, PROD)] == [False, False, True]
    assert [c.promoted_from for c in (DEV, STAGE, PROD)] == [None, "dev", "stage"]


def test_every_number_of_days_hours_or_snapshots_is_a_config_figure() -> None:
    figures = {
        v
        for c in ENVIRONMENTS.values()
        for v in (
            c.snapshot_keep_newest,
            c.snapshot_glacier_after_days,
            c.backups_noncurrent_days,
            c.noncurrent_version_days,
            c.log_retention_days,
            c.source_stability_days,
            c.post_promotion_watch_hours,
        )
        if v is not None
    }
    doc = " ".join(text().replace("*", "").split())
    found = re.findall(r"(\d+) (?:jours|heures|plus récents)", doc)
    assert found and {int(n) for n in found} <= figures, found
    memory = {c.lambda_memory_mb for c in ENVIRONMENTS.values()}
    timeouts = {c.lambda_timeout_seconds for c in ENVIRONMENTS.values()}
    for mb, s in re.findall(r"(\d+) Mo / (\d+) s", doc):
        assert int(mb) in memory and int(s) in timeouts


def test_regions_and_model_ids_are_the_configs() -> None:
    doc = text()
    (config,) = {(c.region, c.bedrock_region, c.bedrock_model_id) for c in ENVIRONMENTS.values()}
    region, bedrock_region, model_id = config
    # no region list: the profile routes where AWS decides (the roles condition on the profile)
    assert set(re.findall(r"\b[a-z]{2}-[a-z]+-\d\b", doc)) == {region, bedrock_region}
    assert "`bedrock:InferenceProfileArn`" in doc
    models = set(re.findall(r"(?:eu\.)?anthropic\.[\w.:-]+\w", doc))
    assert models == {model_id, DEV.bedrock_foundation_model_id}


def test_the_preflight_section_is_the_preflight_and_links_the_guide() -> None:
    """What it says of the preflight: its gate's name in a promotion, the key the parameter needs,
    the exit statuses of preflight.py; and the guide it links exists."""
    doc = " ".join(text().split())
    assert "[docs/first-deploy.md](../docs/first-deploy.md)" in doc
    assert (REPO_ROOT / "docs" / "first-deploy.md").is_file()
    assert f"comme gate `{TARGET_PREFLIGHT}`" in doc and f"chiffré par `{MANAGED_KEY}`" in doc
    # preflight.py runs through cli.run: not ready is an OperationError (tests/preflight prove it)
    statuses = f"statut de sortie {EXIT_OK} prêt, {EXIT_FAILED} pas prêt, {EXIT_USAGE} ligne de commande"
    assert statuses in doc
    # the one check that only warns in a promotion is the one the section says only warns
    assert {c.id for c in CHECKS} - PREFLIGHT_GATES == {"bedrock-invoke", "alarm-subscriptions"}
    assert "abonnements d'alarmes non confirmés n'y sont qu'un avertissement" in doc


# --- the document's shape, and what carries it -------------------------------------------------


def test_the_document_has_its_sections_in_french() -> None:
    headings = [line for _, line, block in prose_and_code(text()) if block is None and line.startswith("## ")]
    assert headings == list(SECTIONS)


def test_amazonq_rules_carry_the_document() -> None:
    assert AMAZONQ_RULES.read_text(encoding="utf-8") == render(), (
        "the Amazon Q rules file is out of date: run `python -m tests.docs.rules_sync`"
    )
    assert sorted(p.name for p in AMAZONQ_RULES.parent.glob("*.md")) == [AMAZONQ_RULES.name]


def test_agents_md_points_at_the_document() -> None:
    assert "](.q-context/vectora-inbox-development-rules.md)" in AGENTS.read_text(encoding="utf-8")
