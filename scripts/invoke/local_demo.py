"""`python scripts/invoke/local_demo.py --env dev`: the pipeline end to end on the local AWS, fixture feeds.

The last step of `make local`. It serves the fixture feeds of ``demo_feeds/`` on 127.0.0.1, publishes
the repository's config plus a generated demo client (``lai_weekly_demo``) and fixture catalog
(see fixture_feeds.py: the real ``lai_weekly`` is left as it is), runs the three deployed functions
through the Lambda API, and prints where the newsletter is and its first lines.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import boto3
from fixture_feeds import DEMO_CLIENT_ID, REPO_ROOT, fixture_config_files, serving

from vectora_core.naming import Function
from vectora_ops import cli
from vectora_ops.config.cli import publish
from vectora_ops.config.publish import repo_files
from vectora_ops.errors import OperationError
from vectora_ops.invoke import InvocationError, run_pipeline, summary_line

PREVIEW_LINES = 25


def lines_type(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or len(value) > 6:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of lines (a whole number >= 0)")
    return int(value)


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.parser("local_demo.py", __doc__.splitlines()[0])
    parser.add_argument(
        "--client-id",
        default=DEMO_CLIENT_ID,
        type=cli.client_id_type,
        help=f"demo client id (default {DEMO_CLIENT_ID})",
    )
    parser.add_argument("--lines", type=lines_type, default=PREVIEW_LINES, help="newsletter lines to print")
    args = parser.parse_args(argv)
    env = args.env
    if env != "dev":
        raise OperationError(f"--env {env} refused: the demo publishes a fixture client, dev only")
    if not os.environ.get("AWS_ENDPOINT_URL"):
        raise OperationError(
            "AWS_ENDPOINT_URL is not set: the demo runs on the local AWS "
            "(functions on a real account cannot reach this machine's fixture feeds); "
            "use `make local`, or scripts/invoke/run_pipeline.py for a real account"
        )
    with serving() as server:
        print(f"fixture feeds: {server.base_url} (scripts/invoke/demo_feeds/)")
        try:
            files = repo_files(REPO_ROOT) + fixture_config_files(server.base_url, client_id=args.client_id)
            uploaded = publish(env, files).uris
        except OperationError as err:
            problems = getattr(err, "problems", [])
            print("\n".join(["local_demo.py: publish failed:", *problems, str(err)]), file=sys.stderr)
            return 1
        print(f"published {len(uploaded)} config file(s), including clients/{args.client_id}.yaml (fixture)")
        try:
            results = run_pipeline(env, args.client_id, echo=lambda f, r: print(summary_line(f, r)))
        except InvocationError as err:
            print(f"local_demo.py: {err}", file=sys.stderr)
            return 1
    newsletter = results[Function.NEWSLETTER]
    bucket, _, key = newsletter["markdown"].removeprefix("s3://").partition("/")
    text = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
    print(f"newsletter: {newsletter['markdown']}")
    print(f"            {newsletter['html']}")
    print("-" * 72)
    print("\n".join(text.splitlines()[: args.lines]))
    print("-" * 72)
    return 0


if __name__ == "__main__":
    cli.run(main)
