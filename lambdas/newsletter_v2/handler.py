"""newsletter-v2: Lambda entry point (thin adapter; the pipeline logic lives in the vectora_core layer)."""

from __future__ import annotations

import logging
import os
from typing import Any

from vectora_core.naming import PROJECT_NAME, EnvVar, check_env

LOGGER = logging.getLogger("newsletter-v2")
LOGGER.setLevel(os.environ.get(EnvVar.LOG_LEVEL, "INFO"))
# Resolved once, at cold start: a function deployed without a valid ENV must fail loudly.
ENV = check_env(os.environ.get(EnvVar.ENV, ""))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    LOGGER.info("invoked", extra={"env": ENV, "event_keys": sorted(event)})
    return {"function": "newsletter-v2", "env": ENV, "project": os.environ.get(EnvVar.PROJECT_NAME, PROJECT_NAME)}
