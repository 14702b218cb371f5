"""Vectora Inbox shared package: names, environments, config loading, storage, pipeline logic.

Shipped as the ``vectora-inbox-vectora-core-{env}`` Lambda layer and imported by the operations
scripts and the CDK app alike. It never imports aws_cdk.
"""

from typing import Final

# The version of the pipeline runtime (this package and the three functions), defined once. It is
# deployed with the layer (its description) and given to every function as the RUNTIME_VERSION
# variable, so each environment shows which runtime it runs; a client config whose
# metadata.min_runtime_version is newer is refused by the functions and by publish_config.py.
# Bump MINOR when the pipeline learns to honour a config key, MAJOR when it stops honouring one.
RUNTIME_VERSION: Final = "2.1.0"
