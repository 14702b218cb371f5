"""What a piece of code asks of AWS, as IAM sees it: record its boto3 calls, map each one with the
local AWS's table (``local_aws.iam.mapping``) and put it to the evaluator with the synthesized
policies of the role the code runs as.

The S3 rule that decides 404 or 403 is applied as AWS applies it: a read that S3 answered "no
such key" also needs ``s3:ListBucket`` on the bucket with no ``s3:prefix``, else the caller would
have had 403 AccessDenied where the code expects NoSuchKey.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

import boto3

from local_aws.iam.evaluator import Decision, IamRequest, evaluate
from local_aws.iam.mapping import ApiCall, Authorization, authorizations
from tests.iam.world import ACCOUNT, Role, World

NOT_FOUND_READS = frozenset({"GetObject", "HeadObject"})


@dataclass
class Recorded:
    service: str
    operation: str
    params: dict[str, Any]
    status: int | None = None  # HTTP status of the answer


@dataclass
class Recorder:
    """Every call made through a session's clients, in order, with its HTTP status."""

    calls: list[Recorded] = field(default_factory=list)

    def attach(self, session: boto3.session.Session) -> None:
        session.events.register("before-parameter-build", self._before)
        session.events.register("after-call", self._after)

    def _before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        recorded = dict(params)
        source = recorded.get("CopySource")
        if isinstance(source, Mapping):  # botocore makes it "bucket/key" later on
            recorded["CopySource"] = f"{source['Bucket']}/{source['Key']}"
        self.calls.append(Recorded(model.service_model.service_name, model.name, recorded))

    def _after(self, http_response: Any, model: Any, **_: Any) -> None:
        for call in reversed(self.calls):
            if call.operation == model.name and call.status is None:
                call.status = http_response.status_code
                return


def _body(call: Recorded) -> bytes:
    if call.operation != "DeleteObjects":
        return b""
    keys = "".join(
        f"<Object><Key>{escape(o['Key'])}</Key></Object>" for o in call.params["Delete"]["Objects"]
    )
    return f"<Delete>{keys}</Delete>".encode()


def as_iam_sees_it(call: Recorded, region: str) -> list[Authorization]:
    api_call = ApiCall(call.service, call.operation, region, call.params, body=_body(call), account=ACCOUNT)
    found = authorizations(api_call)
    if call.service == "s3" and call.operation in NOT_FOUND_READS and call.status == 404:
        bucket = str(call.params["Bucket"])
        # as every S3 request, with the bucket owner's account (the roles' S3 statements require it)
        owner = {"s3:ResourceAccount": ACCOUNT}
        found.append(Authorization("s3:ListBucket", f"arn:aws:s3:::{bucket}", owner))
    return found


def concrete(resource: str) -> str:
    """A stack named by name is authorized on ``stack/<name>/<id>``: one id stands for any."""
    if ":cloudformation:" in resource and resource.endswith("/*"):
        return resource[:-1] + "0f6a0c80-1b2c-4d3e-8f90-a1b2c3d4e5f6"
    return resource


def denials(world: World, role: Role, calls: list[Recorded]) -> list[str]:
    """One line per authorization of ``calls`` that ``role`` would be refused."""
    refused = []
    region = world.regions[role.env]
    for call in calls:
        for authorization in as_iam_sees_it(call, region):
            resource = concrete(authorization.resource)
            decision: Decision = evaluate(
                IamRequest(role.principal, authorization.action, resource, dict(authorization.context)),
                identity_policies=list(role.policies),
                resource_policy=world.resource_policy_of(resource),
                resource_account=ACCOUNT,
                region=region,
            )
            if not decision.allowed:
                refused.append(
                    f"{call.service}:{call.operation} -> {authorization.action} on {resource} "
                    f"{dict(authorization.context)}: {decision.reason}"
                )
    return refused
