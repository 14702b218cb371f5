"""botocore's service models, loaded once per test process instead of once per session.

The operations tooling opens its sessions on one shared loader (``vectora_ops.sessions``); the
suite makes thousands more of its own (each world, each fuzz case, each in-process check, with
``boto3.session.Session()``), at about 140 ms each for S3 and STS with the models parsed again.
So in a test process every new botocore session gets that shared loader too. What a session does
is unchanged: the loader's caches hand it the same parsed models.
"""

from __future__ import annotations

import botocore.session

from vectora_ops.sessions import shared_loader


def share_service_models() -> None:
    """From now on, every new botocore (and so boto3) session of this process shares the loader."""
    botocore.session.create_loader = shared_loader  # type: ignore[assignment]
