"""Where each piece of an environment goes inside a snapshot folder (one place for every file name).

S3 objects keep their source key as their path (``clients/lai_weekly.yaml``); see ``scopes``.
"""

from __future__ import annotations

from typing import Final

from vectora_ops.snapshots.metadata import METADATA_FILE, README_FILE

# The object tag that lets the backups bucket's lifecycle move a snapshot file to Glacier (and that
# archive_snapshots.py follows too): set when the file is written, on the bulk copies only.
SLEEP_TAG_KEY: Final = "vectora:storage"
SLEEP_TAG_VALUE: Final = "may-sleep"
# The same tag as S3's Tagging header of PutObject/CopyObject (URL query form).
SLEEP_TAGGING: Final = f"{SLEEP_TAG_KEY}={SLEEP_TAG_VALUE}"
# What list, verify and rollback read (the metadata, the README, the stack, function and layer
# documents, the stack templates a rollback hands CloudFormation as its TemplateURL): never asleep.


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


def may_sleep(rel: str) -> bool:
    """Whether the snapshot file ``rel`` may go to Glacier: the bulk copies (the functions' and
    layers' zips, the copies of S3 objects), which only a restore reads; never the files that list,
    verify and a rollback's plan read."""
    if rel in (METADATA_FILE, README_FILE) or rel.startswith("stacks/"):
        return False
    return not (is_lambda_file(rel) or is_layer_file(rel))


def layer_name_of(arn: str) -> tuple[str, int]:
    """``arn:aws:lambda:region:account:layer:NAME:VERSION`` -> (NAME, VERSION)."""
    parts = arn.split(":")
    return parts[-2], int(parts[-1])
