"""Two backends behind one interface for the tests that need only AWS APIs (S3, SSM, ...): moto in
this process, or the project's local AWS.

A test that takes ``aws_backend`` runs twice: ``[in-process]`` (``mock_aws``, starts nothing, in
``make test-fast``) and ``[emulator]`` (the session's local AWS, marked ``emulator``, in ``make
test``), so the fast tier and the emulator tier prove the same behaviour. Both offer what the tests
use of ``LocalAwsSession``: ``client(service)`` and ``client_env`` (the variables a handler's own
boto3 clients need, which the fixture also sets).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local_aws.settings import DEFAULT_REGION

IN_PROCESS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": DEFAULT_REGION,
}


@functools.cache
def _models_session() -> boto3.session.Session:
    # One session for the in-process backend's clients (the models are shared by every session of
    # a test process anyway: tests/support/models.py).
    return boto3.session.Session(region_name=DEFAULT_REGION)


class InProcessAws:
    """moto's ``mock_aws`` in this process: no endpoint, dummy credentials."""

    client_env = IN_PROCESS_ENV

    def client(self, service_name: str) -> Any:
        return _models_session().client(service_name)


BACKENDS = ["in-process", pytest.param("emulator", marks=pytest.mark.emulator)]


def aws_backend_for(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, emulator: str = "local_aws"
) -> Iterator[Any]:
    """The body of the ``aws_backend`` fixtures (tests/conftest.py): the backend with its variables
    set, and no endpoint or credentials of the machine's own left over. ``emulator`` names the
    session fixture of the local AWS the ``[emulator]`` run uses."""
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    if request.param == "emulator":
        backend = request.getfixturevalue(emulator)
        for name, value in backend.client_env.items():
            monkeypatch.setenv(name, value)
        yield backend
        return
    for name, value in IN_PROCESS_ENV.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield InProcessAws()
