"""The metrics the three handlers emit are the ones S1-runtime's alarms read.

The handlers run as in test_handlers.py (S3/SSM on moto in this process, then on the local AWS;
Bedrock stubbed at its client); their Powertools Metrics write the embedded metric format (EMF) to
stdout, which is what CloudWatch turns into metrics on AWS. Each EMF document is read back and
checked against ``vectora_core.metrics`` (namespace, names, units, the ``service`` and
``environment`` dimensions) and against the alarms' own rules (``vectora_constructs.pipeline_alarms``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pytest

from scripts.invoke.fixture_feeds import BROKEN_SOURCE_ID
from tests.pipeline.fake_bedrock import FakeBedrock, editorial_answer, normalization_answer
from tests.pipeline.test_handlers import EVENT, Context, aws, cold_start  # noqa: F401  # aws: the fixture
from vectora_constructs.pipeline_alarms import RULES
from vectora_core.metrics import EMITTED_BY, NAMESPACE, UNITS, Metric, dimensions
from vectora_core.pipeline.ingest import AllSourcesFailedError

ENV = "dev"


@dataclass
class Emitted:
    """Every EMF document of a run, by metric: its values, unit and dimension values."""

    values: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    units: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    dimensions: dict[str, list[dict[str, str]]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def parse(cls, stdout: str) -> Emitted:
        emitted = cls()
        for line in stdout.splitlines():
            document = _json(line)
            if document is None or "_aws" not in document:
                continue
            (directive,) = document["_aws"]["CloudWatchMetrics"]
            assert directive["Namespace"] == NAMESPACE
            (dimension_names,) = directive["Dimensions"]
            for definition in directive["Metrics"]:
                name = definition["Name"]
                value = document[name]
                emitted.values[name] += value if isinstance(value, list) else [value]
                emitted.units[name].add(definition["Unit"])
                emitted.dimensions[name].append({d: document[d] for d in dimension_names})
        return emitted

    def one(self, metric: Metric) -> float:
        (value,) = self.values[metric]
        return value


def _json(line: str) -> dict[str, Any] | None:
    try:
        document = json.loads(line)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def assert_as_declared(emitted: Emitted) -> None:
    """Each metric in its declared unit, with exactly the dimensions an alarm on it uses."""
    for name in emitted.values:
        metric = Metric(name)  # a name vectora_core.metrics does not declare fails here
        assert emitted.units[name] == {UNITS[metric]}, name
        assert all(d == dimensions(metric, ENV) for d in emitted.dimensions[name]), emitted.dimensions[name]


def test_a_run_emits_every_declared_metric_with_the_alarms_dimensions(aws, capsys) -> None:  # noqa: F811
    # when: the three handlers run one client (one source of five answers 404)
    ingest = cold_start("ingest_v2").handler(EVENT, Context())
    normalize = cold_start("normalize_score_v2")
    normalize.BEDROCK = FakeBedrock(normalization_answer).client
    curated = normalize.handler(EVENT, Context())
    newsletter = cold_start("newsletter_v2")
    newsletter.BEDROCK = FakeBedrock(editorial_answer).client
    letter = newsletter.handler(EVENT, Context())
    emitted = Emitted.parse(capsys.readouterr().out)
    # then: every metric vectora_core.metrics declares, each from its function, in its unit
    assert set(emitted.values) == {str(m) for m in Metric}
    assert_as_declared(emitted)
    assert {str(EMITTED_BY[Metric(n)]) for n in emitted.values} == {
        "ingest-v2",
        "normalize-score-v2",
        "newsletter-v2",
    }
    # what happened, as the metrics say it
    assert emitted.one(Metric.ITEMS_INGESTED) == ingest["items"] == 8
    assert (emitted.one(Metric.SOURCES_OK), emitted.one(Metric.SOURCES_FAILED)) == (4, 1)
    assert ingest["sources_failed"] == [BROKEN_SOURCE_ID]
    assert emitted.one(Metric.ALL_SOURCES_FAILED) == 0
    assert emitted.one(Metric.BEDROCK_CALLS) == 8 == len(emitted.values[Metric.BEDROCK_LATENCY])
    assert all(latency >= 0 for latency in emitted.values[Metric.BEDROCK_LATENCY])
    assert emitted.one(Metric.BEDROCK_THROTTLES) == 0
    assert emitted.one(Metric.ITEMS_KEPT) == curated["above_threshold"]
    assert emitted.one(Metric.NEWSLETTERS_WRITTEN) == 1
    assert emitted.one(Metric.NEWSLETTER_ITEMS) == letter["items"] > 0
    # and no alarm of S1-runtime would fire on this run: each rule's metric is there, not breaching
    for rule in RULES:
        assert rule.metric in emitted.values, rule.label
        assert not _breaches(rule, emitted.values[rule.metric]), rule.label


def test_a_run_where_every_source_fails_emits_what_the_all_sources_failed_alarm_reads(
    aws,  # noqa: F811
    feed_server,
    monkeypatch,
    capsys,
) -> None:
    # given: every source of the client failing (every feed moved: 404, which is not retried)
    monkeypatch.setattr(feed_server, "_answer", lambda path, query: (404, "text/plain", b"gone"))
    # when: ingest runs, it refuses the run (nothing written) ...
    with pytest.raises(AllSourcesFailedError, match="every source failed"):
        cold_start("ingest_v2").handler(EVENT, Context())
    emitted = Emitted.parse(capsys.readouterr().out)
    # ... and its metrics still reach CloudWatch, as the alarms read them
    assert_as_declared(emitted)
    assert set(emitted.values) == {
        str(m)
        for m in (Metric.ITEMS_INGESTED, Metric.SOURCES_OK, Metric.SOURCES_FAILED, Metric.ALL_SOURCES_FAILED)
    }
    assert emitted.one(Metric.ALL_SOURCES_FAILED) == 1
    assert (emitted.one(Metric.SOURCES_OK), emitted.one(Metric.SOURCES_FAILED)) == (0, 5)
    assert emitted.one(Metric.ITEMS_INGESTED) == 0
    breached = {
        rule.label
        for rule in RULES
        if rule.metric in emitted.values and _breaches(rule, emitted.values[rule.metric])
    }
    assert breached == {"all-sources-failed", "no-items-ingested"}
    assert aws.s3.list_objects_v2(Bucket=aws.buckets["data"]).get("KeyCount", 0) == 0


def _breaches(rule: Any, values: list[float]) -> bool:
    """Whether the alarm's statistic over one period of these values crosses its threshold."""
    statistic = {"Sum": sum, "Maximum": max, "Minimum": min}[rule.statistic](values)
    comparison = str(rule.comparison)
    if "LESS_THAN" in comparison:
        return statistic < rule.threshold
    if "GREATER_THAN_OR_EQUAL" in comparison:
        return statistic >= rule.threshold
    raise AssertionError(f"{rule.label}: comparison {comparison} not read by this test")
