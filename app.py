#!/usr/bin/env python3
"""The Vectora Inbox CDK app: ``cdk synth|diff|deploy -c env=dev|stage|prod|all``."""

import sys
from pathlib import Path

from vectora_constructs.synth_cache import SynthCache

# Only the test suite sets the cache's folder (VECTORA_SYNTH_CACHE); a hit skips the whole app.
cache = SynthCache(Path(__file__).resolve().parent)
if cache.replay():
    sys.exit(0)

import aws_cdk as cdk  # noqa: E402  # after the cache: the jsii runtime starts on import

from stacks import build_environment  # noqa: E402
from stacks.context import ContextError, read_context  # noqa: E402
from vectora_constructs.nag import add_security_checks  # noqa: E402

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
cache.store()
