"""The project's dev app with one more permission on the ingest role: an IAM change to review.

The diff summary's end-to-end test synthesizes this (``cdk synth --app``) and compares it with the
deployed dev: the very same stacks but for one statement, on an object with no wildcard (so
cdk-nag, which runs here too, has nothing to say about it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

import aws_cdk as cdk  # noqa: E402  # after the path set-up above
from aws_cdk import aws_iam as iam  # noqa: E402

from stacks import build_environment  # noqa: E402
from vectora_constructs.nag import add_security_checks  # noqa: E402
from vectora_core.environments import get_env_config  # noqa: E402
from vectora_core.naming import Bucket, Function, resource_name  # noqa: E402

EXTRA_OBJECT = f"arn:aws:s3:::{resource_name(Bucket.CONFIG, 'dev')}/iam-variant.json"

app = cdk.App(context=json.loads((REPO_ROOT / "cdk.json").read_text())["context"])
stacks = build_environment(app, get_env_config("dev"))
stacks.iam.roles[Function.INGEST].add_to_policy(
    iam.PolicyStatement(actions=["s3:GetObject"], resources=[EXTRA_OBJECT])
)
add_security_checks(app)
app.synth()
