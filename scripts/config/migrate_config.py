"""`python scripts/config/migrate_config.py --help`: see vectora_core.config.cli.migrate_main."""

import sys

from vectora_core.config.cli import migrate_main

if __name__ == "__main__":
    sys.exit(migrate_main())
