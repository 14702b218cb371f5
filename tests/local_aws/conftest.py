"""Emulators for the patch tests: one with every patch, and one per patch left out (on demand)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from local_aws.patches import PATCHES
from local_aws.server import LocalAws
from tests.conftest import remove_caches


def _start(disabled: tuple[str, ...] = ()) -> LocalAws:
    state_dir = Path(tempfile.mkdtemp(prefix="local-aws-test-"))
    return LocalAws(port=0, state_dir=state_dir, disabled_patches=disabled).start()


def _stop(aws: LocalAws) -> None:
    aws.stop()
    remove_caches(aws.state_dir)


@pytest.fixture(scope="session")
def patched_aws() -> Iterator[LocalAws]:
    """An emulator with every patch, shared by the patch tests (each test uses its own names)."""
    aws = _start()
    try:
        yield aws
    finally:
        _stop(aws)


@pytest.fixture(scope="session")
def aws_without() -> Iterator[Callable[[str], LocalAws]]:
    """``aws_without("cfn_parameters")``: an emulator with that one patch left out (cached)."""
    started: dict[str, LocalAws] = {}
    known = {name for name, _ in PATCHES}

    def get(patch: str) -> LocalAws:
        assert patch in known, f"no patch named {patch}"
        if patch not in started:
            started[patch] = _start((patch,))
        return started[patch]

    try:
        yield get
    finally:
        for aws in started.values():
            _stop(aws)
