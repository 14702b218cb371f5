"""The ``stacks`` component of a snapshot taken INSIDE a stack's update records the template before it.

While a stack is UPDATE_IN_PROGRESS, CloudFormation answers GetTemplate with the new template and
DescribeStacks with the new parameters, so a pre_deploy snapshot must take the previous ones from
an earlier snapshot, and say where they came from (``template_source``).

moto in this process stands for AWS; the one thing stock moto does not do, stay UPDATE_IN_PROGRESS
with the new template stored, is set on its stack directly, as AWS would answer.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.cloudformation.models import cloudformation_backends

from tests.support.backends import IN_PROCESS_ENV
from vectora_core.naming import Bucket, StackComponent, resource_name
from vectora_ops.environment import Environment
from vectora_ops.snapshots import SnapshotEngine
from vectora_ops.snapshots.layout import stack_file

ENV = "stage"
STACK = resource_name(StackComponent.CORE, ENV)
UNTRUSTED = "get_template during UPDATE_IN_PROGRESS (no earlier copy: may be the new template)"


def _template(mark: str) -> str:
    return json.dumps(
        {
            "Description": mark,
            "Parameters": {"Level": {"Type": "String"}},
            "Resources": {
                "Value": {
                    "Type": "AWS::SSM::Parameter",
                    "Properties": {"Name": f"/t/{mark}", "Type": "String", "Value": {"Ref": "Level"}},
                }
            },
        }
    )


def _level(value: str) -> list[dict[str, str]]:
    return [{"ParameterKey": "Level", "ParameterValue": value}]


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.session.Session]:
    """moto with the backups bucket and the S0-core stack at template "v1" (Level 1)."""
    for key, value in IN_PROCESS_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        session = boto3.session.Session()
        session.client("s3").create_bucket(
            Bucket=resource_name(Bucket.BACKUPS, ENV),
            CreateBucketConfiguration={"LocationConstraint": session.region_name},
        )
        session.client("cloudformation").create_stack(
            StackName=STACK, TemplateBody=_template("v1"), Parameters=_level("1")
        )
        yield session


@pytest.fixture
def engine(session: boto3.session.Session) -> SnapshotEngine:
    # each snapshot a minute after the previous one: "newest" is never a tie
    moments = (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n) for n in itertools.count())
    return SnapshotEngine(ENV, aws=Environment(ENV, session=session, workers=2), clock=lambda: next(moments))


def _updating(session: boto3.session.Session, mark: str, level: str) -> None:
    """The stack as AWS shows it inside an update: new template and parameters stored."""
    backend = cloudformation_backends[session.client("sts").get_caller_identity()["Account"]][
        session.region_name
    ]
    stack = next(s for s in backend.stacks.values() if s.name == STACK)
    stack.template = _template(mark)
    stack._parse_template()
    stack.parameters = {"Level": level}
    stack.resource_map.resolved_parameters = {"Level": level}  # what DescribeStacks answers
    stack.status = "UPDATE_IN_PROGRESS"


def _stack_doc(engine: SnapshotEngine, snapshot_id: str) -> dict[str, Any]:
    raw = engine.store.read_bytes(snapshot_id, stack_file(STACK))
    assert raw is not None
    return dict(json.loads(raw))


def _recorded(engine: SnapshotEngine, snapshot_id: str) -> tuple[str, dict[str, str], str]:
    doc = _stack_doc(engine, snapshot_id)
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in doc["parameters"]}
    return doc["template"]["Description"], parameters, doc["template_source"]


def test_a_stable_stack_records_what_get_template_answers(engine: SnapshotEngine) -> None:
    snapshot_id = engine.create("manual", components=["stacks"])
    assert _recorded(engine, snapshot_id) == ("v1", {"Level": "1"}, "get_template")
    assert "stacks" not in engine.verify(snapshot_id).contents  # no warning


def test_inside_an_update_the_previous_template_comes_from_the_newest_earlier_snapshot(
    engine: SnapshotEngine, session: boto3.session.Session
) -> None:
    # given an earlier snapshot of the stable stack
    earlier = engine.create("manual", components=["stacks"])
    # when the stack's update to v2 takes its pre_deploy snapshot
    _updating(session, "v2", "2")
    snapshot_id = engine.create(f"pre_deploy_{STACK}", components=["stacks"])
    # then it records v1 and its parameters, from that snapshot, and verifies
    assert _recorded(engine, snapshot_id) == ("v1", {"Level": "1"}, f"snapshot {earlier}")
    metadata = engine.verify(snapshot_id)
    assert "stacks" not in metadata.contents
    # and the template file (what a stacks rollback redeploys) is v1 too
    template_file = engine.store.read_bytes(snapshot_id, f"stacks/{STACK}.template.json")
    assert template_file is not None and json.loads(template_file)["Description"] == "v1"


def test_without_an_earlier_copy_it_records_get_template_and_warns(
    engine: SnapshotEngine, session: boto3.session.Session
) -> None:
    _updating(session, "v2", "2")
    snapshot_id = engine.create(f"pre_deploy_{STACK}", components=["stacks"])
    assert _recorded(engine, snapshot_id) == ("v2", {"Level": "2"}, UNTRUSTED)
    warnings = engine.verify(snapshot_id).contents["stacks"]["warnings"]
    assert warnings == [f"{STACK}: {UNTRUSTED}; no earlier copy"]
    readme = engine.store.read_bytes(snapshot_id, "README.md")
    assert readme is not None and b"may be the new template" in readme


def test_a_copy_taken_during_an_earlier_update_is_not_trusted(
    engine: SnapshotEngine, session: boto3.session.Session
) -> None:
    # given a pre_deploy snapshot of an earlier update (v2): how that update ended is unknown
    engine.create("manual", components=["stacks"])
    _updating(session, "v2", "2")
    during_v2 = engine.create(f"pre_deploy_{STACK}", components=["stacks"])
    # when the next update (v3) takes its snapshot
    _updating(session, "v3", "3")
    snapshot_id = engine.create(f"pre_deploy_{STACK}", components=["stacks"])
    # then no earlier copy is used (the older v1 may be stale): GetTemplate's, with a warning
    assert _recorded(engine, snapshot_id)[2] == UNTRUSTED
    (warning,) = engine.verify(snapshot_id).contents["stacks"]["warnings"]
    assert f"snapshot {during_v2}) was taken during an earlier update" in warning


def test_a_copy_of_an_earlier_stack_of_the_same_name_is_not_used(
    engine: SnapshotEngine, session: boto3.session.Session
) -> None:
    # given a snapshot of the stack, which is then deleted and created again (a new stack id)
    engine.create("manual", components=["stacks"])
    cfn = session.client("cloudformation")
    cfn.delete_stack(StackName=STACK)
    cfn.create_stack(StackName=STACK, TemplateBody=_template("w1"), Parameters=_level("1"))
    # when the new stack's update takes its snapshot: the old stack's template is not its previous one
    _updating(session, "w2", "2")
    snapshot_id = engine.create(f"pre_deploy_{STACK}", components=["stacks"])
    assert _recorded(engine, snapshot_id)[2] == UNTRUSTED
