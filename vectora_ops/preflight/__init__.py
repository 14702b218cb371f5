"""The preflight: is an account ready for an environment's first deploy, or its next promotion?

Read-only (``--invoke`` adds one Converse call of a few tokens). One row per check, ✓/✗/–, one
line of evidence and, for a ✗, the fix (who does what, where). ``scripts/deploy/preflight.py``
prints them; a promotion runs the same checks on its target as a gate.
"""

from __future__ import annotations

from typing import Final

from vectora_ops.errors import typed_line
from vectora_ops.preflight.alarms import check_alarm_subscriptions
from vectora_ops.preflight.bedrock import check_bedrock, check_bedrock_invoke
from vectora_ops.preflight.bootstrap import check_bootstrap
from vectora_ops.preflight.buckets import check_buckets
from vectora_ops.preflight.context import Context, open_context
from vectora_ops.preflight.identity import check_identity
from vectora_ops.preflight.model import Check, Finding, Status, bad
from vectora_ops.preflight.parameters import check_pubmed_parameter
from vectora_ops.preflight.quota import check_lambda_concurrency

__all__ = ["CHECKS", "Check", "Context", "Finding", "failures", "open_context", "run_checks"]

# In the order a newcomer meets them: identity first (every other check needs its account).
CHECKS: Final = (
    Check("identity", "credentials: account, principal, region", check_identity),
    Check("bootstrap", "CDK bootstrap stack (qualifier, version the assembly needs)", check_bootstrap),
    Check("buckets", "bucket names free or already this account's", check_buckets),
    Check("bedrock", "Bedrock inference profile and model, access granted", check_bedrock),
    Check("bedrock-invoke", "Bedrock: one Converse (--invoke)", check_bedrock_invoke),
    Check("pubmed-parameter", "PubMed key: SecureString under alias/aws/ssm", check_pubmed_parameter),
    Check("alarm-subscriptions", "alarm topic subscriptions confirmed", check_alarm_subscriptions),
    Check("lambda-concurrency", "Lambda concurrency covers the Map's fan-out", check_lambda_concurrency),
)


def run_checks(ctx: Context, checks: tuple[Check, ...] = CHECKS) -> list[tuple[Check, Finding]]:
    """Every check, in order; one that raises (an AWS error, an unreadable assembly) is ✗ with its
    message, the others still run."""
    rows = []
    for check in checks:
        try:
            finding = check.run(ctx)
        except Exception as err:  # noqa: BLE001  # one broken check must not hide the others
            finding = bad(typed_line(err), "fix what the evidence names, then retry")
        rows.append((check, finding))
    return rows


def failures(rows: list[tuple[Check, Finding]]) -> list[str]:
    return [check.id for check, finding in rows if finding.status is Status.FAILED]
