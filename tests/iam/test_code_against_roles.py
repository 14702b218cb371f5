"""The calls the code really makes, against the role it runs as (issue 22).

The code runs on moto in this process with every boto3 call recorded; each call is then mapped to
what IAM evaluates (``local_aws.iam.mapping``) and put to the evaluator with the synthesized policies
of the role. A call the role would be refused fails the test with one line naming it: the
snapshot's HeadBucket on the config bucket, before the engine listed instead, was one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.iam.recorded import Recorder, denials
from tests.iam.world import World, load_world
from tests.support.assembly import CloudAssembly
from tests.support.backends import IN_PROCESS_ENV
from vectora_core.config.loading import NotFoundError, S3Store, load_client_bundle
from vectora_core.naming import ENV_NAMES, SNAPSHOT_FUNCTION, Bucket, Function, StackComponent, resource_name
from vectora_core.pipeline.ingest import refuse_nothing_after_something
from vectora_core.pipeline.newsletter import HTML, MARKDOWN
from vectora_core.pipeline.storage import (
    MissingInputError,
    curated_key,
    get_json,
    latest_curated_key,
    newsletter_prefix,
    raw_key,
    refuse_empty_over,
)
from vectora_ops.environment import Environment
from vectora_ops.snapshots import SnapshotEngine

ENVS = ("stage", "prod")  # the environments whose update fails on a failed snapshot


@pytest.fixture(scope="module")
def world(assembly: CloudAssembly) -> World:
    return load_world(assembly)


@pytest.fixture
def moto_session(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.session.Session]:
    for key, value in IN_PROCESS_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.session.Session()


def _environment(session: boto3.session.Session, env: str, *, with_data: bool) -> None:
    """What a half-deployed environment holds: its config (and curated items), its backups bucket."""
    s3 = session.client("s3")
    location: Any = {"LocationConstraint": session.region_name}
    buckets = [Bucket.CONFIG, Bucket.BACKUPS, *([Bucket.DATA] if with_data else [])]
    for component in buckets:
        s3.create_bucket(Bucket=resource_name(component, env), CreateBucketConfiguration=location)
    config = resource_name(Bucket.CONFIG, env)
    s3.put_object(Bucket=config, Key="clients/lai_weekly.yaml", Body=b"client_profile: {}\n")
    s3.put_object(Bucket=config, Key="canonical/scopes/lai.yaml", Body=b"x: 1\n")
    if with_data:
        data = resource_name(Bucket.DATA, env)
        s3.put_object(Bucket=data, Key="curated/lai_weekly/curated_items.json", Body=b"{}")
        s3.put_object(Bucket=data, Key="raw/lai_weekly/2026-01-05/items.json", Body=b"{}")


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("with_data", [True, False], ids=["deployed", "first-create"])
def test_a_pre_update_snapshot_makes_only_calls_its_role_allows(
    world: World, moto_session: boto3.session.Session, env: str, with_data: bool
) -> None:
    _environment(moto_session, env, with_data=with_data)
    recorder = Recorder()
    recorder.attach(moto_session)
    engine = SnapshotEngine(env, aws=Environment(env, session=moto_session, workers=2))
    # What the handler does on an Update: a snapshot, then retention.
    engine.create(f"pre_deploy_{resource_name(StackComponent.IAM, env)}")
    engine.apply_retention()
    operations = {(c.service, c.operation) for c in recorder.calls}
    assert ("s3", "CopyObject") in operations and ("lambda", "GetFunction") in operations
    assert denials(world, world.role(SNAPSHOT_FUNCTION, env), recorder.calls) == []


# --- the pipeline functions' "not there yet" paths: S3 must answer them 404 ---------------------


def _not_there_yet(session: boto3.session.Session, env: str, function: Function) -> None:
    """Run ``function``'s reads of keys that do not exist yet, on empty buckets, as its code does."""
    s3 = session.client("s3")
    location: Any = {"LocationConstraint": session.region_name}
    for component in (Bucket.CONFIG, Bucket.DATA, Bucket.NEWSLETTERS):
        s3.create_bucket(Bucket=resource_name(component, env), CreateBucketConfiguration=location)
    config, data = resource_name(Bucket.CONFIG, env), resource_name(Bucket.DATA, env)
    # every function: a client config not published yet
    with pytest.raises(NotFoundError):
        load_client_bundle(S3Store(s3, config), "lai_weekly")
    day = date(2026, 1, 5)
    if function == Function.INGEST:  # zero items: the day's and the previous run, none yet
        refuse_nothing_after_something(s3, data, "lai_weekly", day)
    elif function == Function.NORMALIZE_SCORE:  # an empty run: the curated files it would replace
        refuse_empty_over(
            s3,
            data,
            [curated_key("lai_weekly", day.isoformat()), latest_curated_key("lai_weekly")],
            what="run",
        )
        with pytest.raises(MissingInputError):  # no raw file: "run ingest first"
            get_json(s3, data, raw_key("lai_weekly", day.isoformat()), hint="run ingest-v2 first")
    else:  # an empty newsletter: the newsletter it would replace; no curated file yet
        prefix = newsletter_prefix("lai_weekly", day.isoformat())
        refuse_empty_over(
            s3, resource_name(Bucket.NEWSLETTERS, env), [prefix + MARKDOWN, prefix + HTML], what="newsletter"
        )
        with pytest.raises(MissingInputError):
            get_json(s3, data, latest_curated_key("lai_weekly"), hint="run normalize-score-v2 first")


@pytest.mark.parametrize("env", ENV_NAMES)
@pytest.mark.parametrize("function", list(Function))
def test_a_key_not_there_yet_reads_as_absent_for_the_function_role(
    world: World, moto_session: boto3.session.Session, env: str, function: Function
) -> None:
    recorder = Recorder()
    recorder.attach(moto_session)
    _not_there_yet(moto_session, env, function)
    reads = [c for c in recorder.calls if c.operation in ("GetObject", "HeadObject")]
    assert reads and all(c.status == 404 for c in reads)  # moto said NoSuchKey: would AWS?
    role_calls = [c for c in recorder.calls if c.operation != "CreateBucket"]  # the test's own setup
    assert denials(world, world.role(function, env), role_calls) == []
