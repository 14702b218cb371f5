#!/usr/bin/env python3
"""The Vectora Inbox CDK app: ``cdk synth|diff|deploy -c env=dev|stage|prod|all``."""

import sys

import aws_cdk as cdk

from stacks import build_environment
from stacks.context import ContextError, read_context
from vectora_constructs.nag import add_security_checks

app = cdk.App()
try:
    context = read_context(app.node.try_get_context)
except ContextError as error:
    print(f"error: {error}", file=sys.stderr)
    sys.exit(2)

for config in context.configs:
    build_environment(
        app,
        config,
        extra_environment=context.extra_environment,
        adopted_buckets=context.adopted_buckets.get(config.name, frozenset()),
    )

# Security rules run on every synth; acknowledgements (each with its reason) live beside the
# resources they concern.
add_security_checks(app)
app.synth()
