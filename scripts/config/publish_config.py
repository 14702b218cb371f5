"""`python scripts/config/publish_config.py --help`: see vectora_ops.config.cli.publish_main."""

from vectora_ops.cli import run
from vectora_ops.config.cli import publish_main

if __name__ == "__main__":
    run(publish_main)
