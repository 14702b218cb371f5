"""Patch: Lambda ``GetAccountSettings`` answers the account's concurrency and code-size limits.

Symptom: ``scripts/deploy/preflight.py`` (which compares the account's Lambda concurrency with the
pipeline's fan-out) gets ``404 Not yet implemented`` from the local AWS.
Cause: moto routes no ``/2016-08-19/account-settings`` path and ``LambdaResponse`` has no action
for it.
Fix: the route and the action. The limits are AWS's defaults for an account whose quota was
raised (1,000 concurrent executions); ``UnreservedConcurrentExecutions`` is that less every
function's reserved concurrency (``PutFunctionConcurrency``), as AWS computes it, and the usage
counts the region's functions.
"""

from __future__ import annotations

import json
from typing import Final

from moto.awslambda import urls
from moto.awslambda.models import lambda_backends
from moto.awslambda.responses import LambdaResponse

ROUTE: Final = r"{0}/(?P<api_version>[^/]+)/account-settings/?$"
CONCURRENT_EXECUTIONS: Final = 1000
# AWS's fixed code-size limits (bytes).
TOTAL_CODE_SIZE: Final = 80 * 1024**3
CODE_SIZE_UNZIPPED: Final = 250 * 1024**2
CODE_SIZE_ZIPPED: Final = 50 * 1024**2


def _get_account_settings(self: LambdaResponse) -> str:
    functions = list(lambda_backends[self.current_account][self.region].list_functions())
    reserved = sum(int(f.reserved_concurrency or 0) for f in functions)
    return json.dumps(
        {
            "AccountLimit": {
                "TotalCodeSize": TOTAL_CODE_SIZE,
                "CodeSizeUnzipped": CODE_SIZE_UNZIPPED,
                "CodeSizeZipped": CODE_SIZE_ZIPPED,
                "ConcurrentExecutions": CONCURRENT_EXECUTIONS,
                "UnreservedConcurrentExecutions": CONCURRENT_EXECUTIONS - reserved,
            },
            "AccountUsage": {
                "TotalCodeSize": sum(int(f.code_size or 0) for f in functions),
                "FunctionCount": len(functions),
            },
        }
    )


def apply() -> None:
    # The server builds its routes from this module's table when it starts, after the patches.
    urls.url_paths.setdefault(ROUTE, LambdaResponse.dispatch)
    LambdaResponse.get_account_settings = _get_account_settings  # type: ignore[attr-defined]  # the patch itself
