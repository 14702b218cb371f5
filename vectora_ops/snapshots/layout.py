"""Where each piece of an environment goes inside a snapshot folder (one place for every file name).

S3 objects keep their source key as their path (``clients/lai_weekly.yaml``); see ``scopes``.
"""

from __future__ import annotations


def lambda_file(function_name: str) -> str:
    return f"lambda_{function_name}.json"


def lambda_zip(function_name: str) -> str:
    return f"lambda_{function_name}.zip"


def layer_file(layer_name: str) -> str:
    return f"layer_{layer_name}.json"


def layer_zip(layer_name: str, version: int) -> str:
    return f"layer_{layer_name}_{version}.zip"


def stack_file(stack_name: str) -> str:
    return f"stacks/{stack_name}.json"


def stack_template_file(stack_name: str) -> str:
    return f"stacks/{stack_name}.template.json"


def is_lambda_file(rel: str) -> bool:
    return rel.startswith("lambda_") and rel.endswith(".json")


def is_layer_file(rel: str) -> bool:
    return rel.startswith("layer_") and rel.endswith(".json")


def is_stack_file(rel: str) -> bool:
    return rel.startswith("stacks/") and rel.endswith(".json") and not rel.endswith(".template.json")


def layer_name_of(arn: str) -> tuple[str, int]:
    """``arn:aws:lambda:region:account:layer:NAME:VERSION`` -> (NAME, VERSION)."""
    parts = arn.split(":")
    return parts[-2], int(parts[-1])
