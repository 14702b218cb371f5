"""Patch: downloadable ``Code.Location`` (GetFunction) and ``Content.Location`` (GetLayerVersion).

Symptom: the snapshot engine cannot download a function's or a layer's zip: ``Code.Location``
points at ``awslambda-<region>-tasks.s3.<region>.amazonaws.com`` (unreachable, and it does not
exist here) and ``Content.Location`` is the literal ``s3://``.
Cause: moto builds placeholder URLs.
Fix: both are URLs on the emulator itself (``http://localhost:<port>/_local_aws/...``, served by
``local_aws.wsgi``) that answer the zip with a plain GET, like AWS's pre-signed URLs.
"""

from __future__ import annotations

from typing import Any

from moto.awslambda.models import LambdaFunction, LayerVersion

from local_aws import settings, wsgi

_original_get_code = LambdaFunction.get_code
_original_get_layer_version = LayerVersion.get_layer_version


def _get_code(self: LambdaFunction) -> dict[str, Any]:
    response = _original_get_code(self)
    if getattr(self, "package_type", "Zip") == "Zip":
        url = settings.current().endpoint_url + wsgi.lambda_code_path(self.region, self.function_name)
        response["Code"] = {"Location": url, "RepositoryType": "S3"}
    return response


def _get_layer_version(self: LayerVersion) -> dict[str, Any]:
    response = _original_get_layer_version(self)
    url = settings.current().endpoint_url + wsgi.layer_content_path(self.region, self.name, self.version)
    response["Content"]["Location"] = url
    return response


def apply() -> None:
    LambdaFunction.get_code = _get_code  # type: ignore[method-assign]  # the patch itself
    LayerVersion.get_layer_version = _get_layer_version  # type: ignore[method-assign]  # the patch itself
