"""The rehearsal account: the team's dev (issue 27) on a local AWS of its own, built once per
module (so the session's ``deployed_dev`` never meets it)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from local_aws.server import LocalAws
from tests.conftest import remove_caches
from tests.takeover.legacy_account import LegacyAccount, build_legacy_dev


@pytest.fixture(scope="module")
def legacy_dev() -> Iterator[tuple[LocalAws, LegacyAccount]]:
    work = Path(tempfile.mkdtemp(prefix="vectora-legacy-dev-"))
    aws = LocalAws(port=0, state_dir=work / "state").start()
    try:
        yield aws, build_legacy_dev(aws)
    finally:
        aws.stop()
        remove_caches(work)
