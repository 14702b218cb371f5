"""Bedrock: the configured inference profile and its foundation model, readable and usable.

Read APIs only: ``GetInferenceProfile`` (the profile exists and is ACTIVE; the regions it routes to
are shown: the roles allow the model through this profile wherever it routes), ``GetFoundationModel``
(the model is ACTIVE or LEGACY) and ``GetFoundationModelAvailability`` (what an administrator must
do once: the model's agreement - its AWS Marketplace subscription - and the access request, such as
Anthropic's use-case form). ``--invoke`` adds one Converse call of a few tokens (a second row).
"""

from __future__ import annotations

from typing import Any, Final

from botocore.exceptions import ClientError

from vectora_ops.environment import error_code
from vectora_ops.errors import one_line
from vectora_ops.preflight.context import Context
from vectora_ops.preflight.identity import NO_ACCOUNT
from vectora_ops.preflight.model import Finding, bad, ok, skip

CONSOLE: Final = "the Bedrock console (Model catalog > the model)"
GRANT_READS: Final = (
    "give the preflight's credentials bedrock:GetInferenceProfile, bedrock:GetFoundationModel and "
    "bedrock:GetFoundationModelAvailability"
)
PING: Final = "Reply with the word ready."


def availability_problems(availability: dict[str, Any], model: str) -> list[tuple[str, str]]:
    """(what is wrong, what an administrator does once) for a GetFoundationModelAvailability answer."""
    seen = {
        "agreement": (availability.get("agreementAvailability") or {}).get("status"),
        "authorization": availability.get("authorizationStatus"),
        "entitlement": availability.get("entitlementAvailability"),
        "region": availability.get("regionAvailability"),
    }
    fixes = {
        "agreement": f"an administrator accepts {model}'s offer once in {CONSOLE}, which creates its AWS "
        "Marketplace subscription (needs aws-marketplace:Subscribe); PENDING: wait a few minutes",
        "authorization": f"an administrator requests access to {model} once in {CONSOLE} "
        "(for Anthropic: the use-case form)",
        "entitlement": "the account is not entitled to the model: its Marketplace subscription is missing or "
        "the account's payment method cannot buy it (an administrator checks AWS Marketplace)",
        "region": "the model is not offered in this region: choose a profile that is "
        "(EnvConfig.bedrock_model_id)",
    }
    usable = {"authorization": "AUTHORIZED"}  # the others: AVAILABLE
    return [
        (f"{what} {seen[what]}", fix)
        for what, fix in fixes.items()
        if seen[what] != usable.get(what, "AVAILABLE")
    ]


def _region_of(model_arn: str) -> str:
    return model_arn.split(":")[3] if model_arn.count(":") >= 4 else ""


def check_bedrock(ctx: Context) -> Finding:
    if ctx.account is None:
        return skip(NO_ACCOUNT)
    config = ctx.config
    bedrock = ctx.client("bedrock", config.bedrock_region)
    model = config.bedrock_foundation_model_id
    notes = []
    try:
        if config.is_inference_profile:
            profile = bedrock.get_inference_profile(inferenceProfileIdentifier=config.bedrock_model_id)
            regions = sorted({_region_of(m.get("modelArn", "")) for m in profile.get("models", [])})
            if profile.get("status") != "ACTIVE":
                return bad(
                    f"inference profile {config.bedrock_model_id} is {profile.get('status')}",
                    "choose an ACTIVE profile (EnvConfig.bedrock_model_id)",
                )
            notes.append(f"profile {config.bedrock_model_id} ACTIVE, routes to {', '.join(regions)}")
        details = bedrock.get_foundation_model(modelIdentifier=model)["modelDetails"]
        lifecycle = (details.get("modelLifecycle") or {}).get("status")
        if lifecycle not in ("ACTIVE", "LEGACY"):
            return bad(f"model {model} is {lifecycle}", "choose an ACTIVE model (EnvConfig.bedrock_model_id)")
        notes.append(f"model {model} {lifecycle}")
        availability = bedrock.get_foundation_model_availability(modelId=model)
    except ClientError as err:
        code = error_code(err)
        if code in ("ResourceNotFoundException", "ValidationException"):
            return bad(
                f"{config.bedrock_region}: {one_line(err)}",
                f"check EnvConfig.bedrock_model_id ({config.bedrock_model_id}) against the models Bedrock "
                f"offers in {config.bedrock_region}",
            )
        if code in ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation"):
            return bad(f"{config.bedrock_region}: {one_line(err)}", GRANT_READS)
        raise
    problems = availability_problems(availability, model)
    if problems:
        return bad(
            f"{'; '.join(notes)}; {', '.join(what for what, _ in problems)}",
            "; ".join(fix for _, fix in problems),
        )
    return ok(f"{'; '.join(notes)}; agreement, access, entitlement and region available")


def check_bedrock_invoke(ctx: Context) -> Finding:
    if not ctx.invoke:
        return skip("not asked (--invoke sends one Converse of a few tokens)")
    if ctx.account is None:
        return skip(NO_ACCOUNT)
    config = ctx.config
    runtime = ctx.client("bedrock-runtime", config.bedrock_region)
    try:
        answer = runtime.converse(
            modelId=config.bedrock_model_id,
            messages=[{"role": "user", "content": [{"text": PING}]}],
            inferenceConfig={"maxTokens": 8},
        )
    except ClientError as err:
        return bad(
            f"Converse {config.bedrock_model_id}: {one_line(err)}",
            "see the bedrock row: model access, the Marketplace subscription, or bedrock:InvokeModel "
            "on the profile and its models for these credentials",
        )
    usage = answer.get("usage", {})
    return ok(
        f"Converse {config.bedrock_model_id}: {answer.get('stopReason')}, "
        f"{usage.get('inputTokens')} + {usage.get('outputTokens')} tokens"
    )
