"""`python scripts/config/migrate_config.py --help`: see vectora_ops.config.cli.migrate_main."""

from vectora_ops.cli import run
from vectora_ops.config.cli import migrate_main

if __name__ == "__main__":
    run(migrate_main)
