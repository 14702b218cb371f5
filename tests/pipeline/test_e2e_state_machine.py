"""End to end on the local AWS: the deployed state machine vectora-inbox-pipeline-dev runs for real
(the ASL interpreter of the ``stepfunctions_execution`` patch), its Lambda tasks through the
Docker-free runner; ``list_runs`` reads the runs back.

Not run locally, asserted on the templates instead (tests/infra/test_pipeline_state_machine.py):
the EventBridge Scheduler schedule (never fires locally), the SNS notification of the failure path
(dev has no alarm topic), the execution logs and X-Ray tracing, the roles' permissions.
"""

from __future__ import annotations

import json

import pytest

from tests.pipeline.conftest import RUN_DATE
from tests.pipeline.test_e2e_pipeline import CLIENT, DATA, NEWSLETTERS, keys, published  # noqa: F401
from vectora_ops.pipeline_runs import PipelineRunError, list_runs, run_client_pipeline, sfn_client

pytestmark = pytest.mark.e2e


def test_the_state_machine_runs_one_client_in_batches_and_says_where_the_newsletter_is(published) -> None:  # noqa: F811
    s3 = published
    lines: list[str] = []
    record = run_client_pipeline("dev", CLIENT, run_date=RUN_DATE.isoformat(), echo=lines.append)
    assert record["status"] == "succeeded" and record["items"] == 8
    assert record["newsletter"]["markdown"] == f"s3://{NEWSLETTERS}/{CLIENT}/2026-11-24/newsletter.md"
    assert record["newsletter"]["html"] == f"s3://{NEWSLETTERS}/{CLIENT}/2026-11-24/newsletter.html"
    # normalize-score ran as a batch (one for 8 items at the env's batch size), then the merge
    assert keys(s3, DATA, f"curated/{CLIENT}/2026-11-24/batches/") == {
        f"curated/{CLIENT}/2026-11-24/batches/0000.json"
    }
    curated = json.loads(
        s3.get_object(Bucket=DATA, Key=f"curated/{CLIENT}/2026-11-24/items.json")["Body"].read()
    )
    assert curated["stats"]["items"] == 8 and curated["stats"]["above_threshold"] == record["kept"]
    entered = [line.split("-> ")[1] for line in lines if "-> " in line]
    assert [
        s
        for s in entered
        if s in {"ListClients", "Ingest", "NormalizeBatch", "Merge", "Newsletter", "Succeeded"}
    ] == ["ListClients", "Ingest", "NormalizeBatch", "Merge", "Newsletter", "Succeeded"]
    runs = list_runs("dev", limit=5)
    (run,) = [r for r in runs if record["execution_arn"].endswith(":" + r.name)]
    assert run.status == "SUCCEEDED" and run.items == 8 and run.duration_s is not None
    assert run.newsletters == (record["newsletter"]["html"],)


def test_a_run_for_a_client_without_config_fails_with_the_recorded_error(published) -> None:  # noqa: F811
    with pytest.raises(PipelineRunError, match=r"FAILED: .*no_such_client"):
        run_client_pipeline("dev", "no_such_client", run_date=RUN_DATE.isoformat(), client=sfn_client())
    (run, *_) = list_runs("dev", limit=10)
    assert run.status == "FAILED" and run.items is None and run.newsletters == ()
