"""The data layouts in the data and newsletters buckets, and JSON in/out of S3."""

from __future__ import annotations

import json
from typing import Any


def raw_key(client_id: str, run_date: str) -> str:
    return f"raw/{client_id}/{run_date}/items.json"


def curated_key(client_id: str, run_date: str) -> str:
    return f"curated/{client_id}/{run_date}/items.json"


def latest_curated_key(client_id: str) -> str:
    # The snapshot engine saves this exact key as the client's curated_items.json.
    return f"curated/{client_id}/curated_items.json"


def newsletter_prefix(client_id: str, newsletter_date: str) -> str:
    return f"{client_id}/{newsletter_date}/"


def put_json(s3: Any, bucket: str, key: str, document: Any) -> str:
    body = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    return f"s3://{bucket}/{key}"


def put_text(s3: Any, bucket: str, key: str, text: str, content_type: str) -> str:
    s3.put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"), ContentType=content_type)
    return f"s3://{bucket}/{key}"


class MissingInputError(LookupError):
    """The previous step's output is not there (one line saying which step to run)."""


def get_json(s3: Any, bucket: str, key: str, *, hint: str) -> Any:
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        raise MissingInputError(f"s3://{bucket}/{key} does not exist: {hint}") from None
    return json.loads(body)
