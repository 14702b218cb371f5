"""`python scripts/config/publish_config.py --help`: see vectora_core.config.cli.publish_main."""

import sys

from vectora_core.config.cli import publish_main

if __name__ == "__main__":
    sys.exit(publish_main())
