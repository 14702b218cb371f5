"""`python scripts/config/validate_config.py --help`: see vectora_core.config.cli.validate_main."""

import sys

from vectora_core.config.cli import validate_main

if __name__ == "__main__":
    sys.exit(validate_main())
