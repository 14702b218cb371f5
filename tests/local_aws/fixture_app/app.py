"""Two-stack CDK app that exercises the local AWS the way the real app does.

- ``LocalAwsFixtureBuckets``: one bucket, exported (the runtime stack imports it).
- ``LocalAwsFixtureRuntime``: a Python layer, a Python function using it, and a Python custom
  resource (``Probe``) that answers CloudFormation itself through its ResponseURL. Every other
  resource of the stack depends on the probe, like the real pre-update snapshot resource.

Context (``-c key=value``): ``greeting`` (the function's GREETING variable and a probe property),
``fail_on`` (the probe answers FAILED for that request type: Create, Update or Delete).
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

HERE = Path(__file__).resolve().parent
MAIN_FUNCTION_NAME = "local-aws-fixture-main"
LAYER_NAME = "local-aws-fixture-layer"
BUCKET_NAME = "local-aws-fixture-bucket"


class BucketStack(cdk.Stack):
    def __init__(self, scope: Construct, id_: str, **kwargs: object) -> None:
        super().__init__(scope, id_, **kwargs)  # type: ignore[arg-type]  # stack props pass through
        self.bucket = s3.Bucket(
            self, "Bucket", bucket_name=BUCKET_NAME, removal_policy=cdk.RemovalPolicy.DESTROY
        )


class RuntimeStack(cdk.Stack):
    def __init__(
        self, scope: Construct, id_: str, *, bucket: s3.IBucket, greeting: str, fail_on: str, **kwargs: object
    ) -> None:
        super().__init__(scope, id_, **kwargs)  # type: ignore[arg-type]  # stack props pass through
        probe_fn = lambda_.Function(
            self,
            "ProbeHandler",
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="index.handler",
            code=lambda_.Code.from_asset(str(HERE / "probe")),
            timeout=cdk.Duration.seconds(30),
        )
        # The local AWS evaluates IAM: each function holds what its code calls, as on AWS.
        bucket.grant_put(probe_fn, "probe/*")
        probe_fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["lambda:GetFunctionConfiguration"],
                resources=[
                    self.format_arn(
                        service="lambda",
                        resource="function",
                        resource_name=MAIN_FUNCTION_NAME,
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            )
        )
        probe = cdk.CustomResource(
            self,
            "Probe",
            service_token=probe_fn.function_arn,
            properties={
                "Bucket": bucket.bucket_name,
                "Greeting": greeting,
                "FailOn": fail_on,
                "WatchedFunction": MAIN_FUNCTION_NAME,
            },
        )
        layer = lambda_.LayerVersion(
            self,
            "Layer",
            layer_version_name=LAYER_NAME,
            code=lambda_.Code.from_asset(str(HERE / "layer")),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_13],
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        main_fn = lambda_.Function(
            self,
            "Main",
            function_name=MAIN_FUNCTION_NAME,
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="handler.handler",
            code=lambda_.Code.from_asset(str(HERE / "main_fn")),
            layers=[layer],
            timeout=cdk.Duration.seconds(30),
            environment={
                "GREETING": greeting,
                "BUCKET": bucket.bucket_name,
                "PROBE_GREETING": probe.get_att_string("Greeting"),
            },
        )
        main_fn.add_to_role_policy(iam.PolicyStatement(actions=["s3:ListAllMyBuckets"], resources=["*"]))
        # Everything else runs after the probe (the role and the probe's own handler cannot).
        for child in (layer, main_fn):
            child.node.add_dependency(probe)
        cdk.CfnOutput(self, "MainFunctionName", value=main_fn.function_name)


# Without the CDK's built-in template validator: the local AWS's fixture, not a template of the
# project (whose app keeps the validator), synthesized again by each of its tests' deploys (~1.5 s
# of WebAssembly each).
app = cdk.App(builtin_cloud_formation_validation=False)
env = cdk.Environment(account="123456789012", region="eu-west-3")
buckets = BucketStack(app, "LocalAwsFixtureBuckets", env=env)
RuntimeStack(
    app,
    "LocalAwsFixtureRuntime",
    bucket=buckets.bucket,
    greeting=str(app.node.try_get_context("greeting") or "hello"),
    fail_on=str(app.node.try_get_context("fail_on") or ""),
    env=env,
)
app.synth()
