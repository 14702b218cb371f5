"""`python scripts/invoke/local_demo.py --env dev`: a real client's pipeline end to end on the local AWS.

The last step of `make local`: it publishes the repository's `clients/` and `canonical/`, runs the three
deployed functions through the Lambda API for ``lai_weekly`` (``--client-id`` for another), on the
sources of its own catalog, which the local AWS's local internet answers from recorded responses
(``local_aws/recordings/``, ``python -m local_aws recordings``), and prints where the newsletter is
and its first lines. On AWS the same run is ``scripts/invoke/run_pipeline.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import boto3

from vectora_core.naming import Function
from vectora_ops import cli
from vectora_ops.config.cli import publish
from vectora_ops.config.publish import repo_files
from vectora_ops.errors import OperationError
from vectora_ops.invoke import InvocationError, run_pipeline, summary_line

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CLIENT_ID = "lai_weekly"
PREVIEW_LINES = 25


def lines_type(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or len(value) > 6:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of lines (a whole number >= 0)")
    return int(value)


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.parser("local_demo.py", __doc__.splitlines()[0])
    parser.add_argument(
        "--client-id",
        default=DEFAULT_CLIENT_ID,
        type=cli.client_id_type,
        help=f"client id (default {DEFAULT_CLIENT_ID})",
    )
    parser.add_argument("--lines", type=lines_type, default=PREVIEW_LINES, help="newsletter lines to print")
    args = parser.parse_args(argv)
    if args.env != "dev":
        raise OperationError(f"--env {args.env} refused: the local demo runs dev only")
    if not os.environ.get("AWS_ENDPOINT_URL"):
        raise OperationError(
            "AWS_ENDPOINT_URL is not set: the demo runs on the local AWS (`make local`); "
            "on an AWS account use scripts/invoke/run_pipeline.py"
        )
    try:
        uploaded = publish(args.env, repo_files(REPO_ROOT)).uris
    except OperationError as err:
        problems = getattr(err, "problems", [])
        print("\n".join(["local_demo.py: publish failed:", *problems, str(err)]), file=sys.stderr)
        return 1
    print(f"published {len(uploaded)} config file(s) of clients/ and canonical/")
    print(
        f"{args.client_id}: its own sources, answered by the local internet (python -m local_aws recordings)"
    )
    try:
        results = run_pipeline(args.env, args.client_id, echo=lambda f, r: print(summary_line(f, r)))
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
