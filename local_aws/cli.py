"""Command line of the local AWS.

python -m local_aws up            start it (127.0.0.1, port LOCAL_AWS_PORT or 4566) if not running
python -m local_aws down          stop it
python -m local_aws status        is it running, where
python -m local_aws logs [-n N]   tail of its log
python -m local_aws deploy --env dev   `make local`: start, bootstrap, deploy, publish, invoke
python -m local_aws patches       the project's fixes to moto, one line each
python -m local_aws iam-coverage  the operations the IAM evaluation maps, one a line
python -m local_aws recordings    what the functions' HTTP(S) requests are answered with
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from local_aws import settings
from local_aws.server import LocalAws, LocalAwsError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local_aws", description="The project's local AWS (moto + fixes)."
    )
    parser.add_argument(
        "--state-dir", type=Path, default=settings.DEFAULT_STATE_DIR, help="default: .local-aws/"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the server in the foreground (used by `up`)")
    serve.add_argument("--port", type=int, required=True)
    serve.add_argument("--state-dir", dest="serve_state_dir", type=Path, required=True)
    sub.add_parser("up", help="start the local AWS if it is not running")
    sub.add_parser("down", help="stop the local AWS")
    sub.add_parser("status", help="say whether it runs, and where")
    logs = sub.add_parser("logs", help="print the end of its log")
    logs.add_argument("-n", "--lines", type=int, default=100)
    logs.add_argument("--all", action="store_true", help="include successful requests' access-log lines")
    deploy = sub.add_parser(
        "deploy", help="start, bootstrap, deploy all stacks, publish config, invoke functions"
    )
    deploy.add_argument("--env", required=True, help="environment to deploy (dev, stage or prod)")
    sub.add_parser("patches", help="list the fixes applied to moto")
    sub.add_parser("iam-coverage", help="list every operation the IAM evaluation maps (service:Operation)")
    sub.add_parser("recordings", help="list what the local internet answers (local_aws/recordings/)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except (LocalAwsError, ValueError) as err:
        print(f"local_aws: {err}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    if args.command == "serve":
        from local_aws.server import serve

        serve(args.port, args.serve_state_dir.resolve())
        return 0
    if args.command == "recordings":
        from local_aws.internet.listing import print_recordings

        return print_recordings(args.state_dir, sys.stdout)
    if args.command == "patches":
        from local_aws.patches import PATCHES

        for name, summary in PATCHES:
            print(f"{name:24} {summary}")
        return 0
    if args.command == "iam-coverage":
        from local_aws.iam.mapping import coverage

        print("\n".join(coverage()))
        return 0
    # An explicit LOCAL_AWS_PORT must match a running emulator (start() says so); unset: re-use
    # whatever port the running one has, else 4566.
    port = settings.port_from_env() if settings.PORT_ENV in os.environ else None
    aws = LocalAws(port=port, state_dir=args.state_dir)
    if args.command == "up":
        aws.start()
        print(f"local AWS running (log: {aws.log_path})")
        print(f"AWS_ENDPOINT_URL={aws.endpoint_url}")
        return 0
    if args.command == "down":
        stopped = aws.stop(force=True)
        # AWS state is in memory and gone with the server: so is the point of its unzipped code.
        shutil.rmtree(aws.state_dir / "lambda", ignore_errors=True)
        print("local AWS stopped" if stopped else "local AWS was not running")
        return 0
    if args.command == "status":
        running = aws.running()
        if running is None:
            print("local AWS is not running")
            return 3
        print(f"local AWS running, pid {running['pid']}, log {aws.log_path}")
        print(f"AWS_ENDPOINT_URL={settings.endpoint_url(running['port'])}")
        return 0
    if args.command == "logs":
        print(aws.log_tail(args.lines, successful_requests=args.all))
        return 0
    if args.command == "deploy":
        from local_aws.deploy import deploy_environment

        return deploy_environment(aws, args.env)
    raise AssertionError(f"unhandled command {args.command}")
