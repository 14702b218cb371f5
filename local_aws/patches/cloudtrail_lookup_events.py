"""Patch: CloudTrail ``LookupEvents`` answers an empty list.

Symptom: when a deployment fails, the CDK CLI looks up CloudTrail events to explain it; moto
answers HTTP 500 (``lookup_events action has not been implemented``) and the CLI retries for
over a minute before printing the failure.
Cause: moto does not implement ``LookupEvents``.
Fix: answer ``{"Events": []}``: there is no API audit trail locally (see README).
"""

from __future__ import annotations

import json

from moto.cloudtrail.responses import CloudTrailResponse


def _lookup_events(self: CloudTrailResponse) -> str:
    return json.dumps({"Events": []})


def apply() -> None:
    CloudTrailResponse.lookup_events = _lookup_events  # type: ignore[attr-defined]  # the patch itself
