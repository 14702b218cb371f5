"""The PubMed API key parameter: present, a SecureString, encrypted with the AWS managed key
``alias/aws/ssm`` (the functions' roles may decrypt that key through SSM only, and no other)."""

from __future__ import annotations

from typing import Final

from vectora_core.naming import pubmed_api_key_param
from vectora_ops.preflight.context import Context
from vectora_ops.preflight.identity import NO_ACCOUNT
from vectora_ops.preflight.model import Finding, bad, ok, skip

MANAGED_KEY: Final = "alias/aws/ssm"


def put_command(name: str, region: str) -> str:
    # No --key-id: SSM then encrypts with alias/aws/ssm. --overwrite replaces a wrong one.
    return (
        f"aws ssm put-parameter --region {region} --name {name} --type SecureString "
        "--value '<the NCBI API key>' --overwrite"
    )


def check_pubmed_parameter(ctx: Context) -> Finding:
    if ctx.account is None:
        return skip(NO_ACCOUNT)
    name, region = pubmed_api_key_param(ctx.env), ctx.config.region
    found = ctx.client("ssm").describe_parameters(
        ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}]
    )["Parameters"]
    fix = f"someone holding the key runs: {put_command(name, region)}"
    if not found:
        return bad(f"no parameter {name} in {region}", fix)
    kind, key = found[0].get("Type"), found[0].get("KeyId")
    if kind != "SecureString":
        return bad(f"{name} is a {kind}, not a SecureString", fix)
    if key != MANAGED_KEY:
        return bad(f"{name} is encrypted with {key}, not {MANAGED_KEY} (the roles may not decrypt it)", fix)
    return ok(f"{name}: SecureString, {MANAGED_KEY}, version {found[0].get('Version')}")
