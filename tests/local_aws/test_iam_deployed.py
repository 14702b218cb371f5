"""Enforcement is real on the deployed dev environment: take the newsletter role's write to its
bucket away (through the IAM API, as an operator could), and the pipeline's Newsletter step fails
with AccessDenied, the denial named in the emulator's log; put it back, and the run succeeds."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.pipeline.conftest import RUN_DATE, feed_server  # noqa: F401  # the fixture `published` needs
from tests.pipeline.test_e2e_pipeline import CLIENT, NEWSLETTERS, keys, published  # noqa: F401
from vectora_constructs.arns import INLINE_POLICY_NAME
from vectora_core.naming import Function, role_name
from vectora_ops.pipeline_runs import PipelineRunError, run_client_pipeline

pytestmark = pytest.mark.e2e


def test_a_deployed_role_without_its_write_fails_the_newsletter_with_access_denied(
    deployed_dev: Any,
    published: Any,  # noqa: F811
) -> None:
    iam = deployed_dev.client("iam")
    role = role_name(Function.NEWSLETTER, "dev")
    document = iam.get_role_policy(RoleName=role, PolicyName=INLINE_POLICY_NAME)["PolicyDocument"]
    writes = [s for s in document["Statement"] if "s3:PutObject" in json.dumps(s.get("Action"))]
    assert writes, f"{role} holds no s3:PutObject: nothing to take away"
    reduced = {**document, "Statement": [s for s in document["Statement"] if s not in writes]}
    iam.put_role_policy(RoleName=role, PolicyName=INLINE_POLICY_NAME, PolicyDocument=json.dumps(reduced))
    try:
        with pytest.raises(PipelineRunError, match="AccessDenied"):
            run_client_pipeline("dev", CLIENT, run_date=RUN_DATE.isoformat())
        assert not keys(published, NEWSLETTERS, f"{CLIENT}/")
        log = deployed_dev.log_tail(2000)
        assert f":assumed-role/{role}/" in log and "action=s3:PutObject" in log
    finally:
        iam.put_role_policy(RoleName=role, PolicyName=INLINE_POLICY_NAME, PolicyDocument=json.dumps(document))
    record = run_client_pipeline("dev", CLIENT, run_date=RUN_DATE.isoformat())
    assert record["status"] == "succeeded"
