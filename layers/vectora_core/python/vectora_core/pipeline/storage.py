"""The data layouts in the data and newsletters buckets, JSON in/out of S3, and the write guard.

A failed run never replaces a good one: before writing, a step reads what is already there, and
raises ``FailedRunError`` (nothing written) rather than put an empty output over a non-empty one.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from botocore.exceptions import ClientError

# Object metadata on every newsletter object: how many items it holds (a HEAD tells, no download).
ITEMS_METADATA: Final = "items"


def raw_prefix(client_id: str) -> str:
    return f"raw/{client_id}/"


def raw_key(client_id: str, run_date: str) -> str:
    return f"{raw_prefix(client_id)}{run_date}/items.json"


def curated_key(client_id: str, run_date: str) -> str:
    return f"curated/{client_id}/{run_date}/items.json"


def batch_key(client_id: str, run_date: str, batch: int) -> str:
    """One normalize-score batch's partial result (the merge makes the run's curated files of them)."""
    return f"curated/{client_id}/{run_date}/batches/{batch:04d}.json"


def batch_count(items: int, batch_size: int) -> int:
    """How many batches of ``batch_size`` hold ``items`` items (0 for none)."""
    return -(-items // batch_size)


def even_batch_size(items: int, max_size: int, in_flight: int = 1, calls_per_batch: int = 1) -> int:
    """The batch size, at most ``max_size``, that fills every round of ``in_flight`` batches alike.

    A run's batches go ``in_flight`` at a time (the state machine's Map), each with up to
    ``calls_per_batch`` model calls in flight (the client's bedrock_concurrency). The run takes as
    many rounds of batches as batches of ``max_size`` would, but none of them half-empty, so each
    batch is shorter: 1,000 items, 100 at most, 4 at a time: 12 batches of 84 in 3 rounds, where 10
    batches of 100 also take 3 rounds and leave half of the last one idle. A run too small to fill
    every batch's calls is not split further (8 items at 8 calls a batch: one batch), since more
    invocations would not make it shorter.
    """
    if items <= 0:
        return max_size
    rounds = batch_count(items, max_size * in_flight)
    wanted = min(rounds * in_flight, batch_count(items, calls_per_batch))
    return batch_count(items, max(wanted, batch_count(items, max_size)))


def latest_curated_key(client_id: str) -> str:
    # The snapshot engine saves this exact key as the client's curated_items.json.
    return f"curated/{client_id}/curated_items.json"


def newsletter_prefix(client_id: str, newsletter_date: str) -> str:
    return f"{client_id}/{newsletter_date}/"


class MissingInputError(LookupError):
    """The previous step's output is not there (one line saying which step to run)."""


class FailedRunError(RuntimeError):
    """This run produced nothing usable where good output exists: raised before anything is written,
    so the invocation fails (and the function-errors alarm sees it) and the good output stays."""


def put_json(s3: Any, bucket: str, key: str, document: Any) -> str:
    body = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    return f"s3://{bucket}/{key}"


def put_text(
    s3: Any, bucket: str, key: str, text: str, content_type: str, *, metadata: dict[str, str] | None = None
) -> str:
    s3.put_object(
        Bucket=bucket, Key=key, Body=text.encode("utf-8"), ContentType=content_type, Metadata=metadata or {}
    )
    return f"s3://{bucket}/{key}"


def get_json(s3: Any, bucket: str, key: str, *, hint: str) -> Any:
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        raise MissingInputError(f"s3://{bucket}/{key} does not exist: {hint}") from None
    return json.loads(body)


def get_json_if_exists(s3: Any, bucket: str, key: str) -> Any | None:
    try:
        return get_json(s3, bucket, key, hint="")
    except MissingInputError:
        return None


def item_count(document: Any) -> int:
    """How many items a stored raw or curated document holds (0 for anything else)."""
    items = document.get("items") if isinstance(document, dict) else None
    return len(items) if isinstance(items, list) else 0


def stored_items(s3: Any, bucket: str, key: str) -> int:
    """Items of the object at ``key`` (JSON document, or a newsletter's metadata); 0 if absent."""
    if key.endswith(".json"):
        return item_count(get_json_if_exists(s3, bucket, key))
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return 0
        raise
    value = head.get("Metadata", {}).get(ITEMS_METADATA, "")
    # A newsletter written before the metadata existed: assume it had content (never replace it blindly).
    return int(value) if value.isdigit() else 1


def previous_run_date(s3: Any, bucket: str, client_id: str, run_date: str) -> str | None:
    """The newest date before ``run_date`` with a raw file for the client (dates sort as text)."""
    prefix = raw_prefix(client_id)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    dates = [
        match.group(1)
        for page in pages
        for o in page.get("Contents", [])
        if (match := re.fullmatch(re.escape(prefix) + r"(\d{4}-\d{2}-\d{2})/items\.json", o["Key"]))
    ]
    earlier = [d for d in dates if d < run_date]
    return max(earlier) if earlier else None


def refuse_empty_over(s3: Any, bucket: str, keys: list[str], *, what: str) -> None:
    """FailedRunError if any of ``keys`` holds items: an empty ``what`` must not replace it."""
    for key in keys:
        count = stored_items(s3, bucket, key)
        if count:
            raise FailedRunError(
                f"{what} is empty and s3://{bucket}/{key} holds {count} item(s): not replaced "
                "(a failed run never replaces a good one)"
            )
