"""`python scripts/config/validate_config.py --help`: see vectora_ops.config.cli.validate_main."""

from vectora_ops.cli import run
from vectora_ops.config.cli import validate_main

if __name__ == "__main__":
    run(validate_main)
