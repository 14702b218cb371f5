"""The config scripts' mains (``scripts/config/*.py`` are thin wrappers around these).

Each follows the operations CLI pattern (``vectora_ops.cli``): a bad command line is one line and
exit status 2; a refusal prints one line per problem, then the verdict, and exits 1, changing
nothing; warnings (keys the schema does not know, kept as they are) never change the status.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final

from vectora_core import RUNTIME_VERSION
from vectora_core.config.loading import ConfigFileError, client_key, decode_config
from vectora_core.config.schema import SEMVER
from vectora_core.config.validation import CanonicalIndex, validate_client_text
from vectora_core.environments import get_env_config
from vectora_core.naming import Bucket, resource_name
from vectora_ops.cli import client_id_type, parser, path_type
from vectora_ops.config.files import read_config_bytes
from vectora_ops.config.migration import MigrationError, migrate_text
from vectora_ops.config.publish import ConfigFile, canonical_files_index, repo_files, upload, validate_files
from vectora_ops.config.runtime import runtime_gate
from vectora_ops.errors import OperationError, printable_line

# vectora_ops/config/cli.py -> the repository root
REPO_ROOT: Final = Path(__file__).resolve().parents[2]
CHECKOUT_RUNTIME: Final = (RUNTIME_VERSION, "this checkout (vectora_core.RUNTIME_VERSION)")


def semver_type(value: str) -> str:
    if not SEMVER.fullmatch(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a semantic version MAJOR.MINOR.PATCH such as 7.0.0"
        )
    return value


def date_type(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date YYYY-MM-DD") from None


class Refused(OperationError):
    """A refusal with several problems: each is printed on its own line before the verdict."""

    def __init__(self, problems: list[str], verdict: str) -> None:
        self.problems = problems
        super().__init__(f"{verdict}: {len(problems)} problem(s)")


def report(problems: Sequence[str], warnings: Sequence[str] = ()) -> None:
    """Each on one line of stderr, escaped: a problem may name a key or a value of the file."""
    for line in [*warnings, *problems]:
        print(printable_line(line), file=sys.stderr)


def canonical_index(root: Path) -> tuple[CanonicalIndex, list[str]]:
    """Every canonical file under ``root/canonical``, validated; problems name the file."""
    return canonical_files_index(repo_files(root, clients=[]))


# --- validate_config.py ----------------------------------------------------------------------------


def validate_main(argv: Sequence[str] | None = None) -> int:
    p = parser(
        "validate_config.py",
        "Validate client configs against the schema, the canonical files and this checkout's runtime.",
        env=False,
    )
    p.add_argument("paths", nargs="+", type=path_type, help="clients/<client_id>.yaml files")
    p.add_argument(
        "--root", type=path_type, default=REPO_ROOT, help="folder holding canonical/ (default: repo)"
    )
    args = p.parse_args(argv)
    # Each file validated as clients/<its name>.yaml would be, against root's canonical files.
    files = [ConfigFile.of_path(client_key(path.stem), path) for path in args.paths]
    checked = validate_files(repo_files(args.root, clients=[]) + files, runtime=CHECKOUT_RUNTIME)
    for origin, config in checked.configs:
        print(f"ok {origin}: {config.client_id} {config.version}")
    report(checked.problems, checked.warnings)
    if checked.problems:
        raise Refused(checked.problems, "invalid config")
    return 0


# --- publish_config.py ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    uris: list[str]
    warnings: list[str]


def require_recent_snapshot(env: str) -> None:
    """Refuse a change of ``env`` whose current state no snapshot holds (``EnvConfig.
    change_needs_recent_snapshot``: stage), so that the change can be rolled back."""
    from vectora_ops.checklist.freshness import snapshot_command, stale_reason
    from vectora_ops.snapshots import SnapshotEngine

    engine = SnapshotEngine(env)
    snapshots = engine.list_snapshots() if engine.aws.bucket_exists(engine.aws.backups_bucket) else []
    reason = stale_reason(engine.aws, snapshots)
    if reason:
        raise OperationError(
            f"--env {env} is refused: {reason}; take one first: {snapshot_command(env, 'pre_publish')}"
        )


def publish(
    env: str,
    files: list[ConfigFile],
    *,
    s3: Any | None = None,
    lambda_client: Any | None = None,
    dry_run: bool = False,
) -> Published:
    """Validate ``files`` together and upload them all to the config bucket of ``env``, or nothing.

    Refused (``Refused``/``OperationError``): an environment receiving configs only by promotion, an
    environment needing a snapshot newer than its last change that has none (``require_recent_snapshot``),
    any invalid file, a config needing a newer runtime than the deployed one (read through the
    Lambda API; an environment without functions is refused too). ``dry_run``: no AWS call, the
    runtime check is against this checkout's runtime.
    """
    config = get_env_config(env)
    if not config.direct_changes_allowed:
        raise OperationError(
            f"--env {env} is refused: {env} only receives configs by promotion from {config.promoted_from}"
        )
    if config.change_needs_recent_snapshot and not dry_run:
        require_recent_snapshot(env)
    checked = validate_files(files, runtime=CHECKOUT_RUNTIME if dry_run else None)
    problems = list(checked.problems)
    if not problems and not dry_run:
        problems += runtime_gate(_client(lambda_client, "lambda"), env, checked.configs)
    if problems:
        raise Refused(problems, "nothing uploaded")
    bucket = resource_name(Bucket.CONFIG, env)
    if dry_run:
        return Published([f"(dry run) s3://{bucket}/{f.key}" for f in files], checked.warnings)
    return Published(upload(_client(s3, "s3"), bucket, files), checked.warnings)


def _client(given: Any | None, service: str) -> Any:
    """``given``, else a new client of ``service`` (boto3 is imported only when AWS is reached)."""
    if given is not None:
        return given
    from vectora_ops.sessions import new_session

    return new_session().client(service)


def publish_main(argv: Sequence[str] | None = None) -> int:
    p = parser(
        "publish_config.py",
        "Validate, then upload clients/ and canonical/ to s3://vectora-inbox-config-{env}/ (all or nothing).",
    )
    p.add_argument(
        "--client",
        action="append",
        type=client_id_type,
        help="only this client (repeatable); default: all",
    )
    p.add_argument("--dry-run", action="store_true", help="validate and list what would be uploaded (no AWS)")
    p.add_argument("--root", type=path_type, default=REPO_ROOT, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    try:
        published = publish(args.env, repo_files(args.root, args.client), dry_run=args.dry_run)
    except Refused as err:
        report(err.problems)
        raise
    report([], published.warnings)
    for uri in published.uris:
        print(uri)
    return 0


# --- migrate_config.py ----------------------------------------------------------------------------


def _checked(text: str, client_id: str, index: CanonicalIndex, old: Path) -> list[str]:
    """Refuse a result the schema rejects; what only canonical/ or the runtime lacks is a warning."""
    schema = validate_client_text(text, None, expected_id=client_id).problems
    if schema:
        report([f"{old}: migrated {client_id}: {p}" for p in schema])
        raise Refused(schema, "nothing written; complete the old file and retry")
    full = validate_client_text(text, index, expected_id=client_id, runtime=CHECKOUT_RUNTIME)
    return [f"{old}: warning: {p} (publish_config.py refuses it until this is fixed)" for p in full.problems]


def migrate_main(argv: Sequence[str] | None = None) -> int:
    p = parser(
        "migrate_config.py",
        "Turn an old client config (client_id: lai_weekly_v7, or this project's previous format) into "
        "the current format, keeping every other key, value and comment.",
        env=False,
    )
    p.add_argument("old", type=path_type, help="the old YAML file")
    p.add_argument("--version", type=semver_type, help="semantic version to give it (default: from the file)")
    p.add_argument("--date", type=date_type, help="changelog date YYYY-MM-DD (default: today, UTC)")
    p.add_argument("--output", type=path_type, help="where to write (default: clients/<client_id>.yaml)")
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    p.add_argument("--dry-run", action="store_true", help="print the unified diff, write nothing")
    p.add_argument("--root", type=path_type, default=REPO_ROOT, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    try:
        text = decode_config(read_config_bytes(args.old), str(args.old))
    except ConfigFileError as err:
        raise OperationError(str(err)) from None
    index, _ = canonical_index(args.root)
    try:
        migrated = migrate_text(
            text, today=args.date or datetime.now(UTC).date(), version=args.version, canonical=index
        )
    except MigrationError as err:
        report([f"{args.old}: {p}" for p in err.problems])
        raise Refused(err.problems, "nothing written") from None
    warnings = _checked(migrated.text, migrated.client_id, index, args.old)
    output = args.output or args.root / client_key(migrated.client_id)
    report([], warnings)
    if args.dry_run:
        diff = difflib.unified_diff(
            text.splitlines(keepends=True),
            migrated.text.splitlines(keepends=True),
            fromfile=str(args.old),
            tofile=str(output),
        )
        sys.stdout.writelines(diff)
        return 0
    if output.exists() and not args.force:
        raise OperationError(f"{output} exists; pass --force to overwrite it")
    try:
        output.write_bytes(migrated.text.encode("utf-8"))
    except OSError as err:
        raise OperationError(f"{output}: cannot be written ({err.strerror or err})") from None
    print(f"wrote {output} ({migrated.client_id} {migrated.version})")
    return 0
