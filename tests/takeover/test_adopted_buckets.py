"""``-c adopted_buckets``: the buckets a takeover adopted are retained in every environment (a
bucket that held the team's data is never left under a Delete policy); bad values are one line."""

from __future__ import annotations

import pytest

from stacks.context import ContextError, parse_adopted_buckets


def test_a_mapping_from_cdk_json_or_json_on_the_command_line() -> None:
    expected = {"dev": frozenset({"config", "data"})}
    assert parse_adopted_buckets({"dev": ["config", "data"]}) == expected
    assert parse_adopted_buckets('{"dev": ["config", "data"]}') == expected
    assert parse_adopted_buckets(None) == {} == parse_adopted_buckets("")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{not json", "-c adopted_buckets must be a JSON object"),
        ('["config"]', "must map environments to bucket components"),
        ('{"qa": ["config"]}', "unknown environment 'qa' (allowed: dev, stage, prod)"),
        ('{"dev": ["../config"]}', "dev must list bucket components among config, data"),
        ('{"dev": "config"}', "dev must list bucket components"),
    ],
)
def test_bad_values_are_refused_in_one_line(value: str, message: str) -> None:
    with pytest.raises(ContextError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        parse_adopted_buckets(value)
    assert "\n" not in str(caught.value)
