"""The documented dev -> stage command line (docs/promotion.md), verbatim, into a stage that does not
exist yet: stacks created, the same artifact (every function and layer sha), the configs copied by
exact version and byte for byte, a deployment record, an audit record, no lock left behind."""

from __future__ import annotations

from typing import Any

from tests.promotion.conftest import VALIDATOR, FirstPromotion
from tests.promotion.support import World

CLIENT = "lai_weekly"


def test_the_documented_command_line_creates_stage_with_the_artifact_dev_runs(
    first_promotion: FirstPromotion,
) -> None:
    run, dev, stage = first_promotion.run, first_promotion.dev, first_promotion.stage
    assert run.code == 0, run
    assert f"business validation recorded for: {VALIDATOR}" in run.stderr
    # the three stacks exist, and run exactly dev's code and layers (not a rebuild)
    assert all(s is not None and s.status.endswith("COMPLETE") for s in stage.stacks.values()), stage.stacks
    assert stage.code() == dev.code()
    assert all(dev.code()["functions"].values()) and all(dev.code()["layers"].values())


def test_configs_are_copied_by_exact_version_byte_for_byte(
    world: World, first_promotion: FirstPromotion
) -> None:
    dev, stage = first_promotion.dev, first_promotion.stage
    assert set(stage.configs) == set(dev.configs) and f"clients/{CLIENT}.yaml" in stage.configs
    audit = world.audits("stage")[-1]
    (configs_step,) = [s for s in audit["steps"] if s["step"] == "configs"]
    copied = {c["key"]: c for c in configs_step["copied"]}
    source, target = world.clients("dev"), world.clients("stage")
    for key, obj in dev.configs.items():
        # the version dev had when the plan was made, and the very bytes (French comments included)
        assert obj.version_id and copied[key]["source_version_id"] == obj.version_id
        assert copied[key]["target_version_id"] == stage.configs[key].version_id
        mine = source.s3.get_object(Bucket=source.config_bucket, Key=key, VersionId=obj.version_id)[
            "Body"
        ].read()
        theirs = target.s3.get_object(Bucket=target.config_bucket, Key=key)["Body"].read()
        assert theirs == mine
    assert (
        b"# "
        in target.s3.get_object(Bucket=target.config_bucket, Key=f"clients/{CLIENT}.yaml")["Body"].read()
    )


def test_stage_records_what_it_runs_and_the_audit_says_how_it_got_there(
    world: World, first_promotion: FirstPromotion
) -> None:
    assert first_promotion.run.code == 0
    (dev_record,) = [r for r in world.deployments("dev") if r.via == "deploy"][-1:]
    (record,) = world.deployments("stage")
    assert (record.via, record.commit, record.tree_clean) == ("promotion", dev_record.commit, True)
    assert record.functions == first_promotion.stage.functions
    assert record.assembly is not None and record.assembly["sha256"] == dev_record.assembly["sha256"]
    assert record.assembly["location"].startswith("s3://vectora-inbox-lambda-code-stage/assemblies/")
    audit = world.audits("stage")[-1]
    expected: dict[str, Any] = {
        "result": "done",
        "from": "dev",
        "to": "stage",
        "client": CLIENT,
        "validated_by": VALIDATOR,
    }
    assert {k: audit[k] for k in expected} == expected
    assert audit["commit"] == dev_record.commit and audit["plan"]["sha256"] == record.promotion["plan_sha256"]
    gates = {g["gate"]: g for g in audit["gates"]}
    assert list(gates) == [
        "tests",
        "source-deployment",
        "configs",
        "validation",
        "target-preflight",
        "source-smoke",
        "source-snapshot",
    ]
    assert all(g["passed"] for g in gates.values())
    # the preflight ran on stage before it existed: every gating check passed, none was left out
    checks = gates["target-preflight"]["evidence"]["checks"]
    assert {c for c, v in checks.items() if v["gate"]} == {
        "identity", "bootstrap", "buckets", "bedrock", "pubmed-parameter", "lambda-concurrency"
    }  # fmt: skip
    assert all(v["status"] == "passed" for v in checks.values() if v["gate"]), checks
    assert checks["bedrock-invoke"]["status"] == "not_checked"  # no model call in a promotion
    # the smoke test is an execution of dev's state machine, the path the schedule uses
    run = gates["source-smoke"]["evidence"]["pipeline_runs"][CLIENT]
    assert ":execution:vectora-inbox-pipeline-dev:" in run["execution"]
    assert run["status"] == "SUCCEEDED" and run["newsletter"].startswith("s3://")
    assert {"ListClients", "Ingest", "NormalizeBatches", "Merge", "Newsletter"} <= set(run["states"])
    assert all(o.startswith("succeeded") for o in run["states"].values()), run["states"]
    assert "failed sources: none" in run["summaries"]["ingest-v2"]  # every source reached
    (target_smoke,) = [s for s in audit["steps"] if s["step"] == "target-smoke"]
    staged = target_smoke["evidence"]["pipeline_runs"][CLIENT]
    assert ":execution:vectora-inbox-pipeline-stage:" in staged["execution"]
    assert staged["status"] == "SUCCEEDED"
    assert [s["step"] for s in audit["steps"]][-6:] == [
        "deploy", "verify-artifact", "configs", "target-smoke", "store-assembly", "record"
    ]  # fmt: skip
    assert all(s["outcome"] == "done" for s in audit["steps"]) and audit["duration_s"] > 0
    # the stage it created had no bucket to hold the lock at first: dev's held it; none is left
    for env in ("dev", "stage"):
        clients = world.clients(env)
        assert clients.keys(clients.backups_bucket, "locks/") == []


def test_compare_envs_finds_no_drift_after_the_promotion(
    world: World, first_promotion: FirstPromotion
) -> None:
    assert first_promotion.run.code == 0
    compared = world.run("compare_envs.py", "dev", "stage")
    assert compared.code == 0, compared
    assert "dev and stage run the same code, layers, configs and canonical files" in compared.stdout
