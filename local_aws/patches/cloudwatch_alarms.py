"""Patch: CloudWatch alarms created by CloudFormation, with a history of their state changes.

Symptom: a stack's ``AWS::CloudWatch::Alarm`` resources are not created (moto logs "No Moto
CloudFormation support for AWS::CloudWatch::Alarm"), so stage and prod deploy without any alarm;
``DescribeAlarmHistory`` answers HTTP 500 ("has not been implemented"), so nothing can read whether
an alarm went to ALARM (the promotion's stability gate reads exactly that).
Cause: moto's ``Alarm`` is not a ``CloudFormationModel``; ``CloudWatchResponse`` has no
``describe_alarm_history`` (``Alarm.history`` keeps only the previous states, as tuples).
Fix: a CloudFormation model for ``AWS::CloudWatch::Alarm`` (physical id and ``Ref``: the alarm name;
``Fn::GetAtt Arn``) that creates, updates (a renamed alarm replaces the old one) and deletes the
alarm through moto's own ``put_metric_alarm``/``delete_alarms``, metric math (``Metrics``)
included; every configuration write and every state change (``SetAlarmState``) appends an AWS-shaped
history item (``HistoryData`` with ``oldState``/``newState``); ``DescribeAlarmHistory`` filters them by
name, type, dates, newest first unless ``ScanBy=TimestampAscending``, paginated.
Alarms are still never evaluated: only ``SetAlarmState`` changes a state.

Actions. Symptom: an alarm going to ALARM notifies nobody (stock moto executes no action), so nothing
showed that CloudWatch could not use the alarm topic's key (the aws/sns defect of issue 23).
Fix: a state change executes the new state's actions (``AlarmActions``, ``OKActions``,
``InsufficientDataActions``; actions enabled) as AWS does: an SNS topic is published to as the
service principal ``cloudwatch.amazonaws.com`` with ``aws:SourceAccount``/``aws:SourceArn`` of the
alarm, authorized by the IAM evaluation like any request (``sns:Publish`` against the topic policy,
``kms:GenerateDataKey``/``kms:Decrypt`` against the topic key's policy). A denial (under
``LOCAL_AWS_IAM=enforce``) publishes nothing and is recorded as AWS records it: an ``Action``
history item "Failed to execute action <topic>"; success records "Successfully executed action".
Other action kinds (Lambda, Auto Scaling, EC2, SSM) are not executed: recorded as failed, saying so.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import moto.cloudformation.parsing as cfn_parsing
from moto.cloudwatch.models import (
    Alarm,
    CloudWatchBackend,
    Dimension,
    Metric,
    MetricDataQuery,
    MetricStat,
    cloudwatch_backends,
)
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.common_models import CloudFormationModel
from moto.core.responses import ActionResult

from local_aws import settings
from local_aws.iam import evaluator, mapping, principals

LOGGER = logging.getLogger("local_aws.cloudwatch")
CLOUDWATCH_PRINCIPAL = "cloudwatch.amazonaws.com"
_HISTORY = "_local_aws_alarm_history"
_original_put = CloudWatchBackend.put_metric_alarm
_original_update_state = Alarm.update_state


def _now() -> datetime:
    return datetime.now(UTC)


def _history(backend: CloudWatchBackend) -> list[dict[str, Any]]:
    if not hasattr(backend, _HISTORY):
        setattr(backend, _HISTORY, [])
    return getattr(backend, _HISTORY)  # type: ignore[no-any-return]


def _backend_of(alarm: Alarm) -> CloudWatchBackend:
    account = alarm.alarm_arn.split(":")[4]
    return cloudwatch_backends[account][alarm.region_name]


def _append(backend: CloudWatchBackend, name: str, kind: str, summary: str, data: dict[str, Any]) -> None:
    _history(backend).append(
        {
            "AlarmName": name,
            "AlarmType": "MetricAlarm",
            "Timestamp": _now(),
            "HistoryItemType": kind,
            "HistorySummary": summary,
            "HistoryData": json.dumps({"version": "1.0", **data}),
        }
    )


def _put_metric_alarm(self: CloudWatchBackend, *args: Any, **kwargs: Any) -> Alarm:
    existed = kwargs.get("name") in self.alarms
    alarm = _original_put(self, *args, **kwargs)
    verb = "updated" if existed else "created"
    _append(self, alarm.name, "ConfigurationUpdate", f'Alarm "{alarm.name}" {verb}', {"type": verb.title()})
    return alarm


def _update_state(self: Alarm, reason: str, reason_data: str, state_value: str) -> None:
    old_value, old_reason = self.state_value, self.state_reason
    _original_update_state(self, reason, reason_data, state_value)
    _append(
        _backend_of(self),
        self.name,
        "StateUpdate",
        f"Alarm updated from {old_value} to {state_value}",
        {
            "oldState": {"stateValue": old_value, "stateReason": old_reason},
            "newState": {"stateValue": state_value, "stateReason": reason},
        },
    )
    # AWS runs an alarm's actions on a change of state only (setting the same state again notifies
    # nobody), and not at all while its actions are disabled.
    if old_value != state_value and self.actions_enabled:
        for action in _actions_for(self, state_value):
            _execute(self, action, old_value)


def _actions_for(alarm: Alarm, state_value: str) -> list[str]:
    by_state = {
        "ALARM": alarm.alarm_actions,
        "OK": alarm.ok_actions,
        "INSUFFICIENT_DATA": alarm.insufficient_data_actions,
    }
    return list(by_state.get(state_value) or [])


def cloudwatch_denial(alarm_arn: str, topic_arn: str) -> str | None:
    """Why AWS would refuse CloudWatch's publish of ``alarm_arn`` to ``topic_arn`` (None: allowed).

    The same authorizations as a caller's ``Publish`` (``mapping``: the topic policy, then the key's
    when the topic is encrypted), evaluated for the service principal with the alarm as the source.
    A service principal calls from no account of the customer's: ``kms:CallerAccount`` is not the
    account (which is why the AWS-managed aws/sns key, whose policy requires it, cannot serve).
    """
    account, region = alarm_arn.split(":")[4], alarm_arn.split(":")[3]
    call = mapping.ApiCall("sns", "Publish", region, {"TopicArn": topic_arn}, account=account)
    source = {"aws:SourceAccount": account, "aws:SourceArn": alarm_arn, "aws:SourceOwner": account}
    for auth in mapping.authorizations(call, principals.MotoLookup(account)):
        context = {k: v for k, v in auth.context.items() if k != "kms:CallerAccount"}
        request = evaluator.IamRequest(
            CLOUDWATCH_PRINCIPAL, auth.action, auth.resource, {**context, **source}
        )
        policy = principals.resource_policy(auth.policy, account) if auth.policy is not None else None
        try:
            decision = evaluator.evaluate(
                request, identity_policies=[], resource_policy=policy, region=region
            )
        except evaluator.IamEvaluationError as err:
            decision = evaluator.Decision(False, f"the evaluator refused the request: {err}", "evaluator")
        if not decision.allowed:
            return decision.aws_message(CLOUDWATCH_PRINCIPAL, auth.action, auth.resource)
    return None


def _notification(alarm: Alarm, old_value: str) -> dict[str, Any]:
    """The JSON body CloudWatch publishes (its documented fields)."""
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description or None,
        "AWSAccountId": alarm.alarm_arn.split(":")[4],
        "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": _now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000",
        "Region": alarm.region_name,
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old_value,
        "Trigger": {
            "MetricName": alarm.metric_name,
            "Namespace": alarm.namespace,
            "Statistic": alarm.statistic,
            "Period": alarm.period,
            "EvaluationPeriods": alarm.evaluation_periods,
            "ComparisonOperator": alarm.comparison_operator,
            "Threshold": alarm.threshold,
        },
    }


def _execute(alarm: Alarm, action: str, old_value: str) -> None:
    error = _publish(alarm, action, old_value)
    data: dict[str, Any] = {
        "actionState": "Failed" if error else "Succeeded",
        "stateUpdateTimestamp": _now().isoformat(),
        "notificationResource": action,
    }
    if error is not None:
        LOGGER.warning("alarm %s: failed to execute action %s: %s", alarm.name, action, error)
        summary = f"Failed to execute action {action}. Received error: {error}"
        data["error"] = error
    else:
        summary = f"Successfully executed action {action}"
    _append(_backend_of(alarm), alarm.name, "Action", summary, data)


def _publish(alarm: Alarm, action: str, old_value: str) -> str | None:
    """Publish ``alarm``'s notification to the topic ``action`` as CloudWatch; the error, or None."""
    parts = action.split(":")
    if len(parts) < 6 or parts[2] != "sns":
        return "the local AWS executes SNS actions only"
    mode = settings.iam_mode()
    try:
        error = cloudwatch_denial(alarm.alarm_arn, action) if mode != "off" else None
    except Exception as err:  # a defect of the evaluation: the action fails, never silently succeeds
        LOGGER.exception("IAM evaluation of alarm %s's action %s failed", alarm.name, action)
        error = f"IAM evaluation failed: {type(err).__name__}: {err}"
    if error is not None:
        if mode == "enforce":
            return error
        LOGGER.warning("IAM AUDIT (would deny): alarm %s action %s: %s", alarm.name, action, error)
    from moto.sns.models import sns_backends

    subject = f'{alarm.state_value}: "{alarm.name}" in {alarm.region_name}'[:100]
    try:
        sns_backends[parts[4]][parts[3]].publish(
            json.dumps(_notification(alarm, old_value)), action, subject=subject
        )
    except Exception as err:  # noqa: BLE001  # moto's NotFound (a deleted topic): the action fails
        return f"{type(err).__name__}: {err}"
    return None


def _aware(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    moment = (
        value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    )
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _describe_alarm_history(self: CloudWatchResponse) -> ActionResult:
    name, kind = self._get_param("AlarmName"), self._get_param("HistoryItemType")
    types = self._get_param("AlarmTypes") or []
    start, end = _aware(self._get_param("StartDate")), _aware(self._get_param("EndDate"))
    items = [
        item
        for item in _history(self.cloudwatch_backend)
        if (not name or item["AlarmName"] == name)
        and (not kind or item["HistoryItemType"] == kind)
        and (not types or item["AlarmType"] in types)
        and (start is None or item["Timestamp"] >= start)
        and (end is None or item["Timestamp"] <= end)
    ]
    if self._get_param("ScanBy") != "TimestampAscending":
        items = list(reversed(items))
    offset = int(self._get_param("NextToken") or 0)
    size = int(self._get_param("MaxRecords") or 100)
    result: dict[str, Any] = {"AlarmHistoryItems": items[offset : offset + size]}
    if offset + size < len(items):
        result["NextToken"] = str(offset + size)
    return ActionResult(result)


def _queries(metrics: list[dict[str, Any]]) -> list[MetricDataQuery]:
    queries = []
    for metric in metrics:
        stat = metric.get("MetricStat")
        metric_stat = None
        if stat:
            inner = stat["Metric"]
            dimensions = [Dimension(d["Name"], d["Value"]) for d in inner.get("Dimensions", [])]
            metric_stat = MetricStat(
                metric=Metric(inner["MetricName"], inner.get("Namespace"), dimensions),
                period=stat.get("Period"),
                stat=stat.get("Stat"),
                unit=stat.get("Unit"),
            )
        query: dict[str, Any] = {
            "query_id": metric["Id"],
            "label": metric.get("Label"),
            "period": metric.get("Period"),
            "return_data": metric.get("ReturnData"),
            "expression": metric.get("Expression"),
            "metric_stat": metric_stat,
        }
        queries.append(MetricDataQuery(**query))
    return queries


def _put_from_properties(backend: CloudWatchBackend, name: str, properties: dict[str, Any]) -> Alarm:
    def optional(key: str, kind: Any) -> Any:
        return kind(properties[key]) if key in properties else None

    arguments: dict[str, Any] = {
        "name": name,
        "namespace": properties.get("Namespace"),
        "metric_name": properties.get("MetricName"),
        "metric_data_queries": _queries(properties.get("Metrics", [])) or None,
        "comparison_operator": properties["ComparisonOperator"],
        "evaluation_periods": int(properties["EvaluationPeriods"]),
        "datapoints_to_alarm": optional("DatapointsToAlarm", int),
        "period": optional("Period", int),
        "threshold": optional("Threshold", float),
        "statistic": properties.get("Statistic"),
        "extended_statistic": properties.get("ExtendedStatistic"),
        "description": properties.get("AlarmDescription", ""),
        "dimensions": properties.get("Dimensions", []),
        "alarm_actions": properties.get("AlarmActions", []),
        "ok_actions": properties.get("OKActions", []),
        "insufficient_data_actions": properties.get("InsufficientDataActions", []),
        "unit": properties.get("Unit"),
        "actions_enabled": str(properties.get("ActionsEnabled", True)).lower() != "false",
        "treat_missing_data": properties.get("TreatMissingData"),
        "evaluate_low_sample_count_percentile": properties.get("EvaluateLowSampleCountPercentile"),
        "threshold_metric_id": properties.get("ThresholdMetricId"),
    }
    return backend.put_metric_alarm(**arguments)


class CloudFormationAlarm(CloudFormationModel):
    """``AWS::CloudWatch::Alarm`` for moto's CloudFormation: a handle on the backend's alarm."""

    def __init__(self, name: str, account_id: str, region_name: str) -> None:
        self.name, self.account_id, self.region_name = name, account_id, region_name

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @staticmethod
    def cloudformation_name_type() -> str:
        return "AlarmName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::Alarm"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == "Arn":
            return str(cloudwatch_backends[self.account_id][self.region_name].alarms[self.name].alarm_arn)
        raise KeyError(attribute_name)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]  # moto's abstract signature
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CloudFormationAlarm:
        backend = cloudwatch_backends[account_id][region_name]
        _put_from_properties(backend, resource_name, cloudformation_json.get("Properties", {}))
        return cls(resource_name, account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]  # moto's abstract signature
        cls,
        original_resource: CloudFormationAlarm,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> CloudFormationAlarm:
        if original_resource.name != new_resource_name:
            original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]  # moto's abstract signature
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        cloudwatch_backends[account_id][region_name].delete_alarms([resource_name])

    def delete(self, account_id: str, region_name: str) -> None:
        cloudwatch_backends[account_id][region_name].delete_alarms([self.name])


def apply() -> None:
    CloudWatchBackend.put_metric_alarm = _put_metric_alarm  # type: ignore[method-assign]  # the patch itself
    Alarm.update_state = _update_state  # type: ignore[method-assign]  # the patch itself
    CloudWatchResponse.describe_alarm_history = _describe_alarm_history  # type: ignore[attr-defined]  # new action
    # moto lists CloudFormation models from CloudFormationModel's subclasses, once (lru_cache):
    # the class above is a subclass; drop the cached lists so it is seen.
    for cached in (cfn_parsing.get_model_list, cfn_parsing.get_model_map, cfn_parsing.get_name_type_map):
        cached.cache_clear()
    assert cfn_parsing.get_model_map()["AWS::CloudWatch::Alarm"] is CloudFormationAlarm  # noqa: S101  # fail fast
