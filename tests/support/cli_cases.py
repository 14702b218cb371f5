"""Bad command lines and refusals of the snapshot scripts, with the exit status and the words of
their one-line error. The whole table runs in process (tests/fast, ``main(argv)`` on moto: a case
costs milliseconds); the emulator tier (tests/snapshots, the deployed dev) runs, through each
script's real entry point (a Python start each), every refusal - it proves the environment stayed
as it was, audit records aside - and each script's first bad command line (``REAL_ENTRY_CASES``).

Where they run: dev's buckets exist, stage's do not (nothing deployed there), prod is prod.
"""

from __future__ import annotations

from typing import Final

USAGE: Final = 2  # a bad command line: nothing attempted, nothing audited
REFUSED: Final = 1  # a valid request refused or failed

ErrorCase = tuple[str, list[str], int, str]
ERROR_CASES: Final[list[ErrorCase]] = [
    ("archive_snapshots.py", ["--env", "dev"], REFUSED, "archive applies to environments that keep"),
    (
        "archive_snapshots.py",
        ["--env", "dev", "--older-than", "90"],
        REFUSED,
        "archive applies to environments that keep",
    ),
    ("archive_snapshots.py", ["--env", "prod", "--older-than", "x"], USAGE, "'x' is not a number of days"),
    (
        "cleanup_snapshots.py",
        ["--env", "prod", "--older-than", "7"],
        REFUSED,
        "cleanup never deletes prod snapshots",
    ),
    ("cleanup_snapshots.py", ["--env", "dev", "--older-than", "-1"], USAGE, "'-1' is not a number of days"),
    (
        "cleanup_snapshots.py",
        ["--env", "dev", "--older-than", "seven"],
        USAGE,
        "'seven' is not a number of days",
    ),
    (
        "create_snapshot.py",
        ["--env", "dev", "--name", "x", "--client", "nobody"],
        REFUSED,
        "unknown client 'nobody'",
    ),
    (
        "create_snapshot.py",
        ["--env", "stage", "--name", "x"],
        REFUSED,
        "backups bucket vectora-inbox-backups-stage does not exist: deploy vectora-inbox-s0-core-stage first",
    ),
    ("create_snapshot.py", ["--env", "dev", "--name", "a..b"], USAGE, "invalid snapshot name 'a..b'"),
    ("create_snapshot.py", ["--env", "dev", "--name", "a/b"], USAGE, "invalid snapshot name 'a/b'"),
    ("create_snapshot.py", ["--env", "dev", "--name", "x", "--client", "../etc"], USAGE, "invalid client id"),
    ("create_snapshot.py", ["--env", "dev", "--name", "x", "--components", ","], USAGE, "no component given"),
    (
        "create_snapshot.py",
        ["--env", "dev", "--name", "x", "--components", "all"],
        USAGE,
        "unknown component 'all'",
    ),
    (
        "create_snapshot.py",
        ["--env", "dev", "--name", "x", "--components", "everything"],
        USAGE,
        "unknown component 'everything'",
    ),
    (
        "create_snapshot.py",
        ["--env", "qa", "--name", "x"],
        USAGE,
        "unknown environment 'qa': allowed values are dev, stage, prod",
    ),
    ("create_snapshot.py", ["--name", "x"], USAGE, "which environment: dev, stage or prod?"),
    (
        "list_snapshots.py",
        ["--env", "stage"],
        REFUSED,
        "backups bucket vectora-inbox-backups-stage does not exist",
    ),
    ("list_snapshots.py", ["--env", "Prod"], USAGE, "unknown environment 'Prod'"),
    (
        "rollback_snapshot.py",
        ["--env", "dev", "--snapshot", "no_such_snapshot_20260101_000000"],
        REFUSED,
        "unknown snapshot 'no_such_snapshot_20260101_000000' in s3://vectora-inbox-backups-dev/snapshots/",
    ),
    (
        "rollback_snapshot.py",
        ["--env", "dev", "--snapshot", "x_20260101_000000"],
        REFUSED,
        "unknown snapshot",
    ),
    ("rollback_snapshot.py", ["--env", "dev"], USAGE, "the following arguments are required: --snapshot"),
    (
        "rollback_snapshot.py",
        ["--env", "dev", "--snapshot", "../../../../../escaped"],
        USAGE,
        "malformed snapshot id '../../../../../escaped'",
    ),
    (
        "rollback_snapshot.py",
        ["--env", "dev", "--snapshot", "lai_v7_stable"],
        USAGE,
        "malformed snapshot id 'lai_v7_stable': expected {name}_{YYYYMMDD_HHMMSS}, "
        "e.g. lai_v7_stable_20260130_143022",
    ),
    (
        "rollback_snapshot.py",
        ["--env", "dev", "--snapshot", "pre_deploy_*/../x"],
        USAGE,
        "invalid snapshot pattern 'pre_deploy_*/../x'",
    ),
    (
        "rollback_snapshot.py",
        ["--env", "dev", "--snapshot", "x_20260101_000000", "--components", "client_config,lambdas"],
        USAGE,
        "unknown component 'lambdas': allowed values are lambda_config, lambda_code, layers, client_config, "
        "canonical, curated, stacks",
    ),
    (
        "rollback_snapshot.py",
        ["--env", "dev", "--snapshot", "x_20260101_000000", "--components", "lambdas"],
        USAGE,
        "unknown component 'lambdas'",
    ),
    (
        "rollback_snapshot.py",
        ["--env", "qa", "--snapshot", "x_20260101_000000"],
        USAGE,
        "unknown environment 'qa'",
    ),
]


def real_entry_cases(cases: list[ErrorCase]) -> list[ErrorCase]:
    """Every refusal, and the first bad command line of each script."""
    first_usage: dict[str, ErrorCase] = {}
    for case in cases:
        if case[2] == USAGE:
            first_usage.setdefault(case[0], case)
    return [c for c in cases if c[2] == REFUSED or first_usage.get(c[0]) is c]


# What the emulator tier runs through each script's real entry point.
REAL_ENTRY_CASES: Final = real_entry_cases(ERROR_CASES)
