"""A Ctrl-C or a lost connection at every AWS call of a promotion and a guarded deploy that stop
before changing anything (moto in this process: no CDK, no deployed environment).

Whatever the call, the operation ends in one of its own outcomes (a refusal, an interrupt, an AWS
error), never another exception; its attempt is audited (in the target's backups bucket, or the
source's when the target's cannot be written), an interrupt as ``interrupted before any change``;
and its lock is released, or the outcome says it could not be. The deploy's synth interrupted
(the issue's case) is pinned on its own: it left no record.

Promotions and deploys that change an environment: a Ctrl-C or a lost connection at a call of
every changing step in ``tests/promotion/test_e2e_b_faults_mid_change.py`` (a restore each), an
AWS error at each step in ``tests/promotion/test_e2e_b_faults.py``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import boto3
import pytest
from botocore.exceptions import BotoCoreError, ClientError
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.fuzz.faults import FAULTS, CallFaults
from tests.fuzz.harness import REPO
from tests.fuzz.worlds import MotoWorld
from vectora_core.naming import Bucket, resource_name
from vectora_ops.errors import OperationError
from vectora_ops.operation.lock import LOCK_KEY
from vectora_ops.promotion import deploy as deploy_module
from vectora_ops.promotion.deploy import GuardedDeploy
from vectora_ops.promotion.promote import Promotion, Request

SCALE = float(os.environ.get("VECTORA_FUZZ_SCALE", "1"))
BACKUPS: Final = {env: resource_name(Bucket.BACKUPS, env) for env in ("dev", "stage")}


def records(s3: Any, kind: str) -> list[dict[str, Any]]:
    found = []
    for bucket in BACKUPS.values():
        for item in s3.list_objects_v2(Bucket=bucket, Prefix=f"audit/{kind}/").get("Contents", []):
            found.append(json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()))
    return found


def locked(s3: Any, env: str) -> bool:
    return bool(s3.list_objects_v2(Bucket=BACKUPS[env], Prefix=LOCK_KEY).get("Contents"))


def outcome_of(operation: Callable[[Callable[[Any], None]], Any]) -> tuple[BaseException | None, str]:
    """The exception the operation ended with (None: it returned) and everything it said (its
    progress notes, its warnings, its error)."""
    notes: list[str] = []

    def progress(event: Any) -> None:
        if event.message:
            notes.append(event.message)

    try:
        result = operation(progress)
    except (OperationError, KeyboardInterrupt, ClientError, BotoCoreError) as err:
        return err, " ".join([*notes, str(err)])
    return None, " ".join([*notes, *getattr(result, "warnings", [])])


def check(s3: Any, kind: str, env: str, ended: BaseException | None, said: str, faults: CallFaults) -> None:
    fired = faults.fired
    found = records(s3, kind)
    if not found:  # the failed call was the record's own: the operation says so
        assert "could not write the audit record" in said, (ended, said, fired)
    else:
        assert len(found) == 1, (found, ended, fired)
        if isinstance(ended, KeyboardInterrupt):
            assert found[0]["result"] == "interrupted before any change", (found[0], fired)
    assert not locked(s3, env) or "could not be released" in said, (ended, said, fired)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_fault_at_every_call_of_a_promotion_before_it_changes_anything(fault: str) -> None:
    with MotoWorld() as world:
        faults = CallFaults()
        s3 = boto3.session.Session().client("s3")

        def promote(progress: Any) -> Any:
            return Promotion(Request("dev", "stage", validated_by="Ana"), REPO, progress=progress).run()

        with faults.armed():
            ended, _ = outcome_of(promote)
        assert isinstance(ended, OperationError), ended  # refused: dev has no deployment record
        calls = len(faults.calls)

        @settings(
            max_examples=max(1, int(25 * SCALE)),
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(nth=st.integers(1, calls))
        def property_(nth: int) -> None:
            world.seed()
            with faults.armed(nth, FAULTS[fault]):
                ended, said = outcome_of(promote)
            check(s3, "promotions", "stage", ended, said, faults)

        property_()


def stopped_synth(*_: Any, **__: Any) -> Path:
    raise OperationError("cdk synth stopped here by the test")


@pytest.mark.timeout(600)
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_fault_at_every_call_of_a_deploy_before_it_changes_anything(
    fault: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The synth is the CDK CLI (seconds to minutes): it fails at once here, after the lock.
    monkeypatch.setattr(deploy_module.assemblies, "synthesize", stopped_synth)
    with MotoWorld() as world:
        faults = CallFaults()
        s3 = boto3.session.Session().client("s3")

        def deploy(progress: Any) -> Any:
            return GuardedDeploy("dev", REPO, None, progress=progress).run()

        with faults.armed():
            ended, _ = outcome_of(deploy)
        assert isinstance(ended, OperationError), ended
        calls = len(faults.calls)

        @settings(
            max_examples=max(1, int(10 * SCALE)),
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(nth=st.integers(1, calls))
        def property_(nth: int) -> None:
            world.seed()
            with faults.armed(nth, FAULTS[fault]):
                ended, said = outcome_of(deploy)
            check(s3, "deploys", "dev", ended, said, faults)

        property_()


def test_an_interrupted_synth_is_audited_and_unlocks(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_: Any, **__: Any) -> Path:
        raise KeyboardInterrupt

    monkeypatch.setattr(deploy_module.assemblies, "synthesize", interrupted)
    with MotoWorld():
        s3 = boto3.session.Session().client("s3")
        with pytest.raises(KeyboardInterrupt):
            GuardedDeploy("dev", REPO, None).run()
        (record,) = records(s3, "deploys")
        assert record["result"] == "interrupted before any change" and record["error"] == "interrupted"
        assert record["steps"][-1]["step"] == "synth" and record["steps"][-1]["outcome"] == "failed"
        assert not locked(s3, "dev")
