"""A local AWS for Vectora Inbox: moto server (pinned) plus the project's documented fixes.

Start it with ``python -m local_aws up`` (or ``make local``); point any script, the CDK CLI or
boto3 at it with the single setting ``AWS_ENDPOINT_URL=http://localhost:<port>``.
See ``local_aws/README.md`` for what it does not emulate and for the list of patches.
"""

from local_aws.server import LocalAws, LocalAwsError

__all__ = ["LocalAws", "LocalAwsError"]
