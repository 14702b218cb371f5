"""The project's app for stage with one Lambda env variable changed (a stand-in for a code change).

The real app refuses ``-c extra_env`` outside dev - as it should - so the end-to-end test of a
failed stage snapshot deploys this instead: the very same stacks, one variable different.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

import aws_cdk as cdk  # noqa: E402  # after the path set-up above

from stacks import build_environment  # noqa: E402
from vectora_constructs.nag import add_security_checks  # noqa: E402
from vectora_core.environments import get_env_config  # noqa: E402

app = cdk.App(context=json.loads((REPO_ROOT / "cdk.json").read_text())["context"])
probe = str(app.node.try_get_context("snapshot_probe"))  # -c snapshot_probe=<value>
build_environment(app, get_env_config("stage"), extra_environment={"SNAPSHOT_PROBE": probe})
add_security_checks(app)
app.synth()
