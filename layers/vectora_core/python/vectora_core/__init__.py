"""Vectora Inbox shared package: names, environments, config loading, storage, pipeline logic.

Shipped as the ``vectora-inbox-vectora-core-{env}`` Lambda layer and imported by the operations
scripts and the CDK app alike. It never imports aws_cdk.
"""
