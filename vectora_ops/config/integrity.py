"""Byte-for-byte comparison of config objects: what was validated is what every copy holds.

Publish uploads a file's exact bytes; a snapshot copies them, a rollback puts them back, a
promotion copies them to the next environment. Each step can check its copies with
``config_objects`` and ``byte_differences`` (the tests do, through every step).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from typing import Any


def _described(body: bytes) -> str:
    return f"{len(body)} bytes, sha256 {hashlib.sha256(body).hexdigest()[:12]}"


def config_objects(s3: Any, bucket: str, keys: Iterable[str]) -> dict[str, bytes | None]:
    """The bytes of each key in ``bucket`` (None: the object does not exist)."""
    found: dict[str, bytes | None] = {}
    for key in keys:
        try:
            found[key] = bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        except s3.exceptions.NoSuchKey:
            found[key] = None
    return found


def byte_differences(expected: Mapping[str, bytes], actual: Mapping[str, bytes | None]) -> list[str]:
    """One line per key whose bytes differ (missing, or another sha256 and size); [] when identical."""
    problems = []
    for key, body in expected.items():
        copy = actual.get(key)
        if copy is None:
            problems.append(f"{key}: missing (expected {_described(body)})")
        elif copy != body:
            first = len(os.path.commonprefix([body, copy]))  # byte by byte, not path parts
            problems.append(
                f"{key}: {_described(copy)}; expected {_described(body)} (first difference at byte {first})"
            )
    return problems
