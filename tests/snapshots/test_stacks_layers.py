"""The ``stacks`` component (redeploys the snapshot's templates through CloudFormation) and the
``layers`` component (points functions back at the snapshot's layer content, republishing a layer
version that was deleted since) against the deployed dev environment.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from tests.snapshots.conftest import ENV, INGEST, DevState, engine, run_script
from vectora_core.naming import Function, StackComponent, resource_name
from vectora_ops.operation.rollback import Rollback

pytestmark = pytest.mark.e2e


def test_stacks_component_redeploys_the_snapshot_templates(dev_state: DevState, aws_env: Any) -> None:
    # given: a snapshot, then a deployment that adds a variable to every dev function
    snapshot_id = engine().create("stacks_before", components=["stacks", "lambda_config"])
    aws_env.deploy(extra_env={"SNAPTEST_VAR": "1"})
    functions = [resource_name(f, ENV) for f in Function]
    assert all(dev_state.env_vars(f).get("SNAPTEST_VAR") == "1" for f in functions)
    cfn = aws_env.client("cloudformation")
    runtime = resource_name(StackComponent.RUNTIME, ENV)
    # when
    result = run_script(
        aws_env, "rollback_snapshot.py", "--snapshot", snapshot_id, "--env", ENV, "--components", "stacks"
    )
    # then: CloudFormation deployed the snapshot's template (and so the functions lost the variable)
    assert result.code == 0, result.stderr
    assert f"stacks {runtime}: redeploy the snapshot's template and parameters" in result.stdout
    assert "drifts" not in result.stderr  # the change went through CloudFormation
    assert all("SNAPTEST_VAR" not in dev_state.env_vars(f) for f in functions)
    assert cfn.describe_stacks(StackName=runtime)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    again = Rollback(engine(), snapshot_id, components="stacks", dry_run=True).run()
    assert again.changes == []


def layer_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("python/snaptest_layer.py", "VALUE = 1\n")
    return buffer.getvalue()


def test_layers_component_republishes_a_deleted_layer_version(dev_state: DevState, aws_env: Any) -> None:
    lam = dev_state.lam
    original_layers = [layer["Arn"] for layer in dev_state.config().get("Layers", [])]
    published = lam.publish_layer_version(LayerName="snaptest-layer", Content={"ZipFile": layer_zip()})
    extra_arn, extra_sha = published["LayerVersionArn"], published["Content"]["CodeSha256"]
    new_arns: list[str] = []
    try:
        # given: the function uses an extra layer version when the snapshot is taken; then that
        # version is deleted and detached
        lam.update_function_configuration(FunctionName=INGEST, Layers=[*original_layers, extra_arn])
        snapshot_id = engine().create("layers_before", components=["lambda_config", "layers"])
        lam.delete_layer_version(LayerName="snaptest-layer", VersionNumber=published["Version"])
        lam.update_function_configuration(FunctionName=INGEST, Layers=original_layers)
        # when
        report = Rollback(engine(), snapshot_id, components="layers").run()
        # then: a new version with the snapshot's content is published and attached
        layers = [layer["Arn"] for layer in dev_state.config().get("Layers", [])]
        assert layers[: len(original_layers)] == original_layers and len(layers) == len(original_layers) + 1
        new_arns = layers[len(original_layers) :]
        assert new_arns[0] != extra_arn and ":layer:snaptest-layer:" in new_arns[0]
        version = int(new_arns[0].rsplit(":", 1)[1])
        content = lam.get_layer_version(LayerName="snaptest-layer", VersionNumber=version)["Content"]
        assert content["CodeSha256"] == extra_sha
        assert report.verified and any("drifts" in w for w in report.warnings)
        layer_doc = json.loads(
            dev_state.get(f"snapshots/{snapshot_id}/layer_snaptest-layer.json", "vectora-inbox-backups-dev")
            or b"{}"
        )
        assert layer_doc["versions"][0]["arn"] == extra_arn
    finally:
        lam.update_function_configuration(FunctionName=INGEST, Layers=original_layers)
        for arn in new_arns:
            lam.delete_layer_version(LayerName="snaptest-layer", VersionNumber=int(arn.rsplit(":", 1)[1]))
