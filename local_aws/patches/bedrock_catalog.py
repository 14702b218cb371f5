"""Patch: Bedrock's catalog reads, ``GetInferenceProfile``, ``GetFoundationModel`` and
``GetFoundationModelAvailability``, answer as on an account with model access.

Symptom: ``scripts/deploy/preflight.py`` (which reads these before a first deploy) gets an HTTP 500
HTML page from the local AWS instead of the profile and its models.
Cause: moto's bedrock backend implements custom models and jobs only; the three reads are not
actions of ``BedrockResponse`` (``NotImplementedError``, HTTP 500).
Fix: the three actions on ``BedrockResponse``. A foundation model id is ``<provider>.<model>``
with a provider Bedrock hosts; a system-defined cross-region profile is ``<geography>.<model id>``
(``eu``, ``us``, ``apac``, ``global``) and routes to that geography's regions (AWS's published
list for ``eu``; the caller's region elsewhere). Any other identifier is a
``ResourceNotFoundException`` (HTTP 404), as Bedrock answers. Locally every model is ACTIVE,
available, entitled and authorized: the local AWS has no Marketplace and no model-access form.
"""

from __future__ import annotations

import json
from typing import Final
from urllib.parse import unquote

from moto.bedrock.responses import BedrockResponse
from moto.core.exceptions import JsonRESTError

# The providers whose models Bedrock serves (the first part of a foundation model id).
PROVIDERS: Final = frozenset(
    {"amazon", "anthropic", "ai21", "cohere", "deepseek", "meta", "mistral", "openai", "qwen", "writer"}
)
# Where a system-defined cross-region profile routes (AWS: "Supported Regions for inference
# profiles"); a geography not listed routes to the caller's region only.
GEOGRAPHY_REGIONS: Final = {
    "eu": ("eu-central-1", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-3"),
}
GEOGRAPHIES: Final = frozenset({"eu", "us", "apac", "global"})
# A fixed date: the catalog does not change with the clock.
CATALOG_DATE: Final = "2025-09-29T00:00:00Z"


class ResourceNotFoundException(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("ResourceNotFoundException", message)


def is_model_id(model_id: str) -> bool:
    provider, _, name = model_id.partition(".")
    return provider in PROVIDERS and bool(name)


def _identifier(self: BedrockResponse) -> str:
    return unquote(self.path.rstrip("/").split("/")[-1])


def _model_id(identifier: str) -> str:
    """An id or a foundation-model ARN (``arn:aws:bedrock:r::foundation-model/<id>``)."""
    return identifier.split("foundation-model/", 1)[-1]


def _get_foundation_model(self: BedrockResponse) -> str:
    model_id = _model_id(_identifier(self))
    if not is_model_id(model_id):
        raise ResourceNotFoundException(f"The model {model_id} does not exist.")
    provider = model_id.partition(".")[0]
    details = {
        "modelArn": f"arn:aws:bedrock:{self.region}::foundation-model/{model_id}",
        "modelId": model_id,
        "modelName": model_id,
        "providerName": provider.capitalize(),
        "inputModalities": ["TEXT"],
        "outputModalities": ["TEXT"],
        "responseStreamingSupported": True,
        "customizationsSupported": [],
        "inferenceTypesSupported": ["INFERENCE_PROFILE"],
        "modelLifecycle": {"status": "ACTIVE"},
    }
    return json.dumps({"modelDetails": details})


def _get_inference_profile(self: BedrockResponse) -> str:
    profile_id = _identifier(self).split("inference-profile/", 1)[-1]
    geography, _, model_id = profile_id.partition(".")
    if geography not in GEOGRAPHIES or not is_model_id(model_id):
        raise ResourceNotFoundException(f"The inference profile {profile_id} does not exist.")
    regions = GEOGRAPHY_REGIONS.get(geography, (self.region,))
    return json.dumps(
        {
            "inferenceProfileName": f"{geography.upper()} {model_id}",
            "description": f"Routes requests to {model_id} in {geography.upper()} regions.",
            "createdAt": CATALOG_DATE,
            "updatedAt": CATALOG_DATE,
            "inferenceProfileArn": (
                f"arn:aws:bedrock:{self.region}:{self.current_account}:inference-profile/{profile_id}"
            ),
            "models": [{"modelArn": f"arn:aws:bedrock:{r}::foundation-model/{model_id}"} for r in regions],
            "inferenceProfileId": profile_id,
            "status": "ACTIVE",
            "type": "SYSTEM_DEFINED",
        }
    )


def _get_foundation_model_availability(self: BedrockResponse) -> str:
    model_id = _identifier(self)
    if not is_model_id(model_id):
        raise ResourceNotFoundException(f"The model {model_id} does not exist.")
    return json.dumps(
        {
            "modelId": model_id,
            "agreementAvailability": {"status": "AVAILABLE"},
            "authorizationStatus": "AUTHORIZED",
            "entitlementAvailability": "AVAILABLE",
            "regionAvailability": "AVAILABLE",
        }
    )


def apply() -> None:
    BedrockResponse.get_foundation_model = _get_foundation_model  # type: ignore[attr-defined]  # the patch itself
    BedrockResponse.get_inference_profile = _get_inference_profile  # type: ignore[attr-defined]  # the patch itself
    BedrockResponse.get_foundation_model_availability = _get_foundation_model_availability  # type: ignore[attr-defined]  # the patch itself
