"""The config scripts' mains (``scripts/config/*.py`` are thin wrappers around these).

Each prints one line per problem and exits != 0 on bad input, changing nothing.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import yaml
from botocore.exceptions import BotoCoreError, ClientError

from vectora_core.config.migration import MigrationError, migrate
from vectora_core.config.publish import ConfigFile, repo_files, upload, validate_files
from vectora_core.config.validation import (
    CanonicalIndex,
    add_to_index,
    parse_yaml,
    validate_canonical_text,
    validate_client_text,
)
from vectora_core.environments import get_env_config
from vectora_core.naming import Bucket, UnknownEnvironmentError, resource_name

# layers/vectora_core/python/vectora_core/config/cli.py -> the repository root
REPO_ROOT = Path(__file__).resolve().parents[5]


def canonical_index(root: Path) -> tuple[CanonicalIndex, list[str]]:
    """Every canonical file under ``root/canonical``, validated; problems name the file."""
    index, problems = CanonicalIndex(), []
    for folder in ("sources", "scopes", "prompts"):
        for path in sorted((root / "canonical" / folder).glob("*.yaml")):
            parsed, found = validate_canonical_text(folder, path.stem, path.read_text("utf-8"))
            problems += [f"{path}: {p}" for p in found]
            if parsed is not None:
                add_to_index(index, parsed)
    return index, problems


def validate_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="validate_config.py", description="Validate client configs (and the canonical files they use)."
    )
    parser.add_argument("paths", nargs="+", type=Path, help="clients/<client_id>.yaml files")
    parser.add_argument(
        "--root", type=Path, default=REPO_ROOT, help="folder holding canonical/ (default: repo)"
    )
    args = parser.parse_args(argv)
    index, problems = canonical_index(args.root)
    for path in args.paths:
        if not path.is_file():
            problems.append(f"{path}: file not found")
            continue
        config, found = validate_client_text(path.read_text("utf-8"), index, expected_id=path.stem)
        problems += [f"{path}: {p}" for p in found]
        if config is not None:
            print(f"ok {path}: {config.client_id} {config.client_profile.version}")
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"validate_config: {len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


def publish(
    env: str, files: list[ConfigFile], *, s3: object | None = None, dry_run: bool = False
) -> list[str]:
    """Validate ``files`` together and upload them all to the config bucket of ``env``, or nothing.

    Raises ValueError (one line per problem) for prod or any invalid file.
    """
    config = get_env_config(env)
    if not config.direct_changes_allowed:
        raise ValueError(
            f"--env {env} is refused: {env} only receives configs by promotion from {config.promoted_from}"
        )
    problems = validate_files(files)
    if problems:
        raise ValueError("\n".join([*problems, f"nothing uploaded: {len(problems)} problem(s)"]))
    bucket = resource_name(Bucket.CONFIG, env)
    if dry_run:
        return [f"(dry run) s3://{bucket}/{f.key}" for f in files]
    if s3 is None:
        import boto3

        s3 = boto3.client("s3")
    return upload(s3, bucket, files)


def publish_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="publish_config.py",
        description="Validate, then upload clients/ and canonical/ to s3://vectora-inbox-config-{env}/.",
    )
    parser.add_argument("--env", required=True, help="dev or stage (prod only receives configs by promotion)")
    parser.add_argument(
        "--client", action="append", help="only this client (repeatable); default: all clients"
    )
    parser.add_argument("--dry-run", action="store_true", help="validate and list what would be uploaded")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        uris = publish(args.env, repo_files(args.root, args.client), dry_run=args.dry_run)
    except UnknownEnvironmentError as err:
        print(f"publish_config: {err}", file=sys.stderr)
        return 2
    except ValueError as err:
        for line in str(err).splitlines():
            print(f"publish_config: {line}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as err:
        print(
            f"publish_config: upload to {resource_name(Bucket.CONFIG, args.env)} failed: {err}",
            file=sys.stderr,
        )
        return 1
    for uri in uris:
        print(uri)
    return 0


def migrate_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="migrate_config.py",
        description="Turn an old-style client config (client_id: lai_weekly_v7) into the current format.",
    )
    parser.add_argument("old", type=Path, help="the old YAML file")
    parser.add_argument("--version", help="semantic version to give it (default: from the id's _vN suffix)")
    parser.add_argument("--date", type=date.fromisoformat, help="changelog date (default: today, UTC)")
    parser.add_argument("--output", type=Path, help="where to write (default: clients/<client_id>.yaml)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing output file")
    parser.add_argument("--dry-run", action="store_true", help="print the result, write nothing")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.old.is_file():
        print(f"migrate_config: {args.old}: file not found", file=sys.stderr)
        return 1
    old, problems = parse_yaml(args.old.read_text("utf-8"))
    try:
        if problems:
            raise MigrationError(problems[0])
        new = migrate(old, today=args.date or datetime.now(UTC).date(), version=args.version)
    except MigrationError as err:
        print(f"migrate_config: {args.old}: {err}", file=sys.stderr)
        return 1
    client_id = new["client_profile"]["client_id"]
    text = yaml.safe_dump(new, sort_keys=False, allow_unicode=True)
    index, _ = canonical_index(args.root)
    _, problems = validate_client_text(text, index, expected_id=client_id)
    if problems:
        for problem in problems:
            print(f"migrate_config: migrated {client_id}: {problem}", file=sys.stderr)
        print(
            "migrate_config: nothing written; complete the old file (or the result) and retry",
            file=sys.stderr,
        )
        return 1
    if args.dry_run:
        print(text, end="")
        return 0
    output = args.output or args.root / "clients" / f"{client_id}.yaml"
    if output.exists() and not args.force:
        print(f"migrate_config: {output} exists; pass --force to overwrite it", file=sys.stderr)
        return 1
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output} ({client_id} {new['client_profile']['version']})")
    return 0
