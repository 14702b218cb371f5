"""expect_bucket_owner: every S3 operation that takes ExpectedBucketOwner sends the account."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders

from vectora_core.bucket_owner import expect_bucket_owner

ACCOUNT = "123456789012"


class _Recorder:
    """Answers every request with an empty 200 and keeps its headers (nothing leaves the process)."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        self.headers.append(
            {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        )
        body = b"<ListBucketResult></ListBucketResult>"
        return AWSResponse(request.url, 200, HTTPHeaders(), _Raw(body))


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def _client() -> tuple[Any, _Recorder]:
    client = boto3.client(
        "s3", region_name="eu-west-3", aws_access_key_id="k", aws_secret_access_key="s",  # noqa: S106  # never sent
        endpoint_url="http://127.0.0.1:9",
    )  # fmt: skip
    recorder = _Recorder()
    client.meta.events.register("before-send.s3", recorder)  # type: ignore[arg-type]  # a response ends the send
    return client, recorder


@pytest.fixture
def s3() -> tuple[Any, _Recorder]:
    client, recorder = _client()
    return expect_bucket_owner(client, ACCOUNT), recorder


def test_reads_writes_and_listings_name_the_owner(s3: tuple[Any, _Recorder]) -> None:
    client, recorder = s3
    client.put_object(Bucket="b", Key="k", Body=b"x")
    client.get_object(Bucket="b", Key="k")
    client.head_object(Bucket="b", Key="k")
    client.list_objects_v2(Bucket="b", Prefix="p/")
    client.delete_object(Bucket="b", Key="k")
    assert [h.get("x-amz-expected-bucket-owner") for h in recorder.headers] == [ACCOUNT] * 5


def test_a_copy_names_both_owners(s3: tuple[Any, _Recorder]) -> None:
    client, recorder = s3
    client.copy_object(Bucket="b", Key="k", CopySource={"Bucket": "a", "Key": "k"})
    (headers,) = recorder.headers
    assert headers["x-amz-expected-bucket-owner"] == ACCOUNT
    assert headers["x-amz-source-expected-bucket-owner"] == ACCOUNT


def test_an_operation_without_the_parameter_is_left_alone(s3: tuple[Any, _Recorder]) -> None:
    client, recorder = s3
    client.list_buckets()  # no bucket, no owner to expect
    assert "x-amz-expected-bucket-owner" not in recorder.headers[0]


def test_a_malformed_account_is_refused() -> None:
    with pytest.raises(ValueError, match="12-digit"):
        expect_bucket_owner(boto3.client("s3", region_name="eu-west-3"), "me")


def test_the_account_of_a_callable_is_asked_once_on_the_first_request() -> None:
    client, recorder = _client()
    asked: list[int] = []

    def account() -> str:
        asked.append(1)
        return "210987654321"

    expect_bucket_owner(client, account)
    assert asked == []
    client.get_object(Bucket="b", Key="k")
    client.get_object(Bucket="b", Key="k")
    assert asked == [1]
    assert [h["x-amz-expected-bucket-owner"] for h in recorder.headers] == ["210987654321"] * 2
