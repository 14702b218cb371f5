"""Session fixtures shared by every test tier that needs AWS: the project's local AWS.

- ``local_aws``: an emulator (moto server + the project's patches, ``local_aws/``) started on a
  free port for this test session, in its own state folder, and stopped at the end.
- ``aws_backend``: for tests that need only AWS APIs, each run twice: moto in this process (the
  fast tier) and ``local_aws`` (see ``tests/support/backends.py``); ``env_aws_backend`` the same
  on ``env_local_aws``, a second emulator for tests that create an environment's resources by name.
- ``deployed_dev``: the same emulator after ``cdk bootstrap`` and
  ``cdk deploy -c env=dev --all`` with the real, pinned CDK CLI (deployed once per session; the
  functions call Bedrock, which the local AWS answers); ``.deploy(extra_env=..., env=...)`` redeploys.

Every wait is bounded (server start-up, each CDK command). When a test that uses one of these
fixtures fails, the tail of the emulator's log is attached to the report ("local AWS log").
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config

from local_aws import cdk as local_cdk
from local_aws import fork_server
from local_aws.server import LocalAws
from local_aws.settings import CDK_CLI_QUIET_ENV
from tests.support.assembly import assembly  # noqa: F401  # the session synth, registered here once
from tests.support.backends import BACKENDS, aws_backend_for
from tests.support.cdk_cli import ALARM_CONTEXT, VALIDATION_ENV
from tests.support.models import share_service_models
from tests.support.parallel import assign_groups, is_worker, make_scheduler, share_groups_folder
from vectora_constructs.synth_cache import CACHE_ENV

# However pytest is started (make test, an IDE, plain pytest), jsii and the CDK CLI run the pinned
# Node.js (PATH, the project's node first) without a version check: set before any test module
# imports aws_cdk, whose jsii runtime spawns the first `node` on PATH.
os.environ.update(CDK_CLI_QUIET_ENV)
# The CDK's built-in template validator (its default rules, errors with cdk.json's flag) costs 1-2 s
# of WebAssembly per synth: the suite runs it once, in the session synth of all nine stacks
# (tests/support/assembly.py, the gate), and skips it in every other synth, whose templates are those.
os.environ[VALIDATION_ENV] = "false"

# A CDK command that takes longer than this is hung: the failure then carries the emulator log.
CDK_TIMEOUT_S = float(os.environ.get("LOCAL_AWS_CDK_TIMEOUT_S", "300"))
LOG_TAIL_LINES = 120
CLIENT_READ_TIMEOUT_S = 960  # the longest function timeout of any environment (900 s), plus margin


class LocalAwsSession:
    """What the fixtures hand to tests: where the emulator is and how to talk to it."""

    def __init__(self, server: LocalAws, work_dir: Path) -> None:
        self._server = server
        self.work_dir = work_dir
        # Each session synthesizes into its own folder: several test runs (or a developer's own
        # `cdk synth`) in one checkout must not fight over ./cdk.out's lock.
        self.cdk_out = work_dir / "cdk.out"
        self.timings: dict[str, float] = {}

    @property
    def port(self) -> int:
        assert self._server.port is not None
        return self._server.port

    @property
    def endpoint_url(self) -> str:
        return self._server.endpoint_url

    @property
    def client_env(self) -> dict[str, str]:
        """Variables to add to a subprocess's environment: endpoint, dummy credentials, region."""
        return self._server.client_env()

    @property
    def state_dir(self) -> Path:
        return self._server.state_dir

    def client(self, service_name: str) -> Any:
        # A synchronous Lambda Invoke lasts as long as the handler: botocore's 60 s read timeout
        # would cut a long one and (retrying) invoke it a second time.
        return self._server.client(service_name, config=Config(read_timeout=CLIENT_READ_TIMEOUT_S))

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return self._server.log_tail(lines)

    def invocations(self, function_name: str | None = None) -> list[dict[str, Any]]:
        """What the emulator's last Lambda invocations ran with (layers, sys.path, environment)."""
        return self._server.invocations(function_name)

    def subprocess_env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """``os.environ`` without real-account ``AWS_*`` leftovers, plus ``client_env`` and ``extra``."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(self.client_env)
        env.update(extra or {})
        return env

    def cdk(self, *args: str, timeout_s: float = CDK_TIMEOUT_S, check: bool = True) -> local_cdk.CdkResult:
        """Run the pinned CDK CLI (repo app) against this emulator; raises with both logs on failure."""
        return local_cdk.run_cdk(
            self._server, list(args), output_dir=self.cdk_out, timeout_s=timeout_s, check=check
        )

    def bootstrap(self) -> None:
        started = time.monotonic()
        local_cdk.bootstrap(
            self._server, output_dir=self.cdk_out, context=["-c", "env=dev"], timeout_s=CDK_TIMEOUT_S
        )
        self.timings["bootstrap"] = time.monotonic() - started

    def deploy(self, extra_env: Mapping[str, str] | None = None, env: str = "dev") -> local_cdk.CdkResult:
        """``cdk deploy -c env=<env> --all``, the README's command; in dev plus ``extra_env``.

        stage and prod take no extra variables (the app refuses them), so ``extra_env`` must be
        empty there; they get the tests' alarm subscriber.
        """
        args = ["deploy", "-c", f"env={env}", "--all", "--require-approval", "never"]
        if extra_env and env != "dev":
            raise ValueError(f"extra_env is only allowed for dev, not {env}")
        if extra_env:
            args += ["-c", f"extra_env={json.dumps(dict(extra_env), sort_keys=True)}"]
        if env != "dev":
            args += ALARM_CONTEXT
        started = time.monotonic()
        result = self.cdk(*args)
        self.timings.setdefault(f"deploy {env} (first)", time.monotonic() - started)
        self.timings[f"deploy {env} (last)"] = time.monotonic() - started
        return result


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAwsSession]:
    """A fresh local AWS on a free port, for the whole test session."""
    yield from _session_emulator()


@pytest.fixture(scope="session")
def env_local_aws() -> Iterator[LocalAwsSession]:
    """A second local AWS, for the tests that create an environment's own resources by their real
    names (``vectora-inbox-backups-dev``) to run the operations scripts: ``local_aws`` holds the
    deployed dev once any end-to-end test ran, and its buckets would collide with theirs."""
    yield from _session_emulator()


def _session_emulator() -> Iterator[LocalAwsSession]:
    work_dir = Path(tempfile.mkdtemp(prefix="vectora-local-aws-"))
    server = LocalAws(port=0, state_dir=work_dir / "state")
    started = time.monotonic()
    server.start()
    session = LocalAwsSession(server, work_dir)
    session.timings["server start"] = time.monotonic() - started
    try:
        yield session
    finally:
        server.stop()
        remove_caches(work_dir)


def remove_caches(work_dir: Path) -> None:
    """Drop the bulky parts of a test emulator's folder (unzipped code, synth output: ~50 MB);
    its ``server.log`` stays for a post-mortem."""
    for path in list(work_dir.glob("**/lambda")) + list(work_dir.glob("**/cdk.out")):
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(params=BACKENDS)
def aws_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto in this process, then the session's local AWS: see tests/support/backends.py."""
    yield from aws_backend_for(request, monkeypatch)


@pytest.fixture(params=BACKENDS)
def env_aws_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``aws_backend`` whose emulator is ``env_local_aws``: for environment-named resources."""
    yield from aws_backend_for(request, monkeypatch, emulator="env_local_aws")


@pytest.fixture(scope="session")
def deployed_dev(local_aws: LocalAwsSession) -> LocalAwsSession:
    """``local_aws`` with the dev environment bootstrapped and deployed by the real CDK CLI."""
    local_aws.bootstrap()
    local_aws.deploy()
    return local_aws


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    funcargs = getattr(item, "funcargs", {}) or {}
    for value in funcargs.values():
        if isinstance(value, LocalAwsSession):
            report.sections.append(("local AWS log (tail)", value.log_tail()))
            break


# Fixtures that start a local AWS (here and in tests/local_aws/conftest.py).
EMULATOR_FIXTURES = frozenset({"local_aws", "env_local_aws", "deployed_dev", "patched_aws", "aws_without"})
# Folders whose every test starts one itself (the emulator's own tests, `make local` end to end).
EMULATOR_FOLDERS = ("tests/local_aws/", "tests/e2e/")
# The synthesized templates (the session's synth) and the folders whose tests run the CDK app or CLI
# themselves: seconds each, so the in-process tier leaves them to `make test-infra`.
SYNTH_FIXTURES = frozenset({"assembly"})
SYNTH_FOLDERS = ("tests/infra/", "tests/ci_checks/", "tests/tooling/")


def pytest_configure(config: pytest.Config) -> None:
    share_groups_folder(config)
    share_synth_cache(config)
    share_service_models()
    # Every local AWS of the run forked from a preloaded process (local_aws.fork_server; a worker has
    # one per environment its servers run in): about 2 s of CPU less per start, some fifty a run.
    os.environ.setdefault(fork_server.ENABLE_ENV, "1")
    # A run started in the background by a shell without job control (``make test &``, nohup, some
    # CI runners) inherits SIGINT ignored, and so would every worker and script it starts: the tests
    # that send a real Ctrl-C would see nothing happen. Python's own handler, as at a terminal.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.hookimpl(optionalhook=True)  # an xdist hook: absent from a run with -p no:xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    return make_scheduler(config, log) if config.getoption("dist") == "loadgroup" else None


@pytest.hookimpl(tryfirst=True)  # the markers before the tier selection (-m) reads them
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test that needs the deployed dev environment is end to end, and every test that starts
    a local AWS is marked ``emulator``, every test of synthesized templates ``synth``, marked by hand
    or not: ``make test-fast`` leaves them out (and forbids the emulator to start, so a test this
    misses fails there instead of slowing it)."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if "deployed_dev" in fixtures:
            item.add_marker(pytest.mark.e2e)
        if fixtures & EMULATOR_FIXTURES or item.nodeid.startswith(EMULATOR_FOLDERS):
            item.add_marker(pytest.mark.emulator)
        if fixtures & SYNTH_FIXTURES or item.nodeid.startswith(SYNTH_FOLDERS):
            item.add_marker(pytest.mark.synth)
    if is_worker(config):
        assign_groups(config, items)


# --- the test record: what a promotion's first gate reads (vectora_ops.promotion.testrecords) -------
_RECORD_ROOT = Path(__file__).resolve().parents[1]
_COUNTED = ("passed", "failed", "error", "skipped", "xfailed", "xpassed", "deselected")
_START_CHECKOUT = pytest.StashKey[Any]()


def _checkout() -> Any:
    from vectora_ops.promotion.gitinfo import GitError, checkout

    try:
        return checkout(_RECORD_ROOT)
    except GitError:
        return None


_SYNTH_CACHE_OWNED = pytest.StashKey[Path]()


def share_synth_cache(config: pytest.Config) -> None:
    """One synth cache for the whole run (``vectora_constructs.synth_cache``), made by the controller
    (or a single-process run) before its workers start, so they and every CDK command they run
    inherit it; a cache the caller named is used as it is and kept."""
    if is_worker(config) or os.environ.get(CACHE_ENV):
        return
    folder = Path(tempfile.mkdtemp(prefix="vectora-synth-cache-"))
    os.environ[CACHE_ENV] = str(folder)
    config.stash[_SYNTH_CACHE_OWNED] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_SYNTH_CACHE_OWNED, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop(CACHE_ENV, None)


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_START_CHECKOUT] = _checkout()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """After a full run (``make test``: VECTORA_TEST_RECORD=1, no paths, nothing deselected) of one
    commit on a tree clean at the start and at the end: ``.test-records/<commit>.json``."""
    from vectora_ops.promotion.testrecords import FULL_RUN_ENV, TestRecord, now_iso, refusal, write_record

    if is_worker(session.config):
        _send_fuzz_cases(session.config)
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if os.environ.get(FULL_RUN_ENV) != "1" or reporter is None:
        return
    counts = {k: len(v) for k, v in reporter.stats.items() if k in _COUNTED}
    full = session.config.args_source == pytest.Config.ArgsSource.TESTPATHS and not counts.get("deselected")
    start, end = session.config.stash.get(_START_CHECKOUT, None), _checkout()
    why_not = refusal(full, start, end)
    if why_not is not None:
        reporter.write_line(f"test record not written: {why_not}")
        return
    passed = exitstatus == 0 and not counts.get("failed") and not counts.get("error")
    record = TestRecord(end.commit, True, passed, int(exitstatus), now_iso(), counts)
    path = write_record(_RECORD_ROOT, record)
    reporter.write_line(f"test record: {path} ({'green' if passed else 'NOT green'})")


# --- the fuzz tier's count of generated cases (tests/fuzz/harness.py), over every worker -----------
_WORKER_CASES = "fuzz_cases"


def _fuzz_cases() -> Any:
    from tests.fuzz.harness import CASES

    return CASES


def _send_fuzz_cases(config: pytest.Config) -> None:
    """A worker hands its counts to the controller (read in ``pytest_testnodedown``)."""
    config.workeroutput[_WORKER_CASES] = {name: dict(codes) for name, codes in _fuzz_cases().items()}  # type: ignore[attr-defined]


@pytest.hookimpl(optionalhook=True)  # an xdist hook: absent from a run with -p no:xdist
def pytest_testnodedown(node: Any, error: object) -> None:
    for name, codes in getattr(node, "workeroutput", {}).get(_WORKER_CASES, {}).items():
        _fuzz_cases()[name].update({int(code): count for code, count in codes.items()})


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    cases = _fuzz_cases()
    if not cases:
        return
    terminalreporter.section("fuzz: generated cases run (and their exit statuses)")
    for name, codes in sorted(cases.items()):
        statuses = ", ".join(f"{count} x {code}" for code, count in sorted(codes.items()))
        terminalreporter.write_line(f"{sum(codes.values()):6d}  {name}  ({statuses})")
    terminalreporter.write_line(f"{sum(sum(c.values()) for c in cases.values()):6d}  in total")
