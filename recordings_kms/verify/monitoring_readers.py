"""The boto3 side of the tamper-alarm checks: CloudTrail trails, EventBridge rules, SNS subscriptions.

Read-only, and never fatal: a denied or failed read becomes a ``problems`` entry that ``verify``
reports as a WARN line, since the alarms are a second line of defence and the caller verifying the
key (a key administrator) may not be allowed to read the account's CloudTrail.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from constructs_lib.core import alarms, arns
from recordings_kms.aws import Clients, error_code, is_access_denied
from recordings_kms.verify.monitoring import (
    IAM_FORWARDING,
    RULES,
    SUBSCRIBERS,
    TRAIL,
    AlarmFacts,
    RuleFacts,
    TrailFacts,
    management_selection,
)

if TYPE_CHECKING:
    from mypy_boto3_cloudtrail.client import CloudTrailClient
    from mypy_boto3_events.client import EventBridgeClient
    from mypy_boto3_sns.client import SNSClient

T = TypeVar("T")

#: The IAM action each read needs, for the WARN line when it is denied.
READ_ACTIONS = {
    "DescribeTrails": "cloudtrail:DescribeTrails",
    "GetTrailStatus": "cloudtrail:GetTrailStatus",
    "GetEventSelectors": "cloudtrail:GetEventSelectors",
    "ListRuleNamesByTarget": "events:ListRuleNamesByTarget",
    "DescribeRule": "events:DescribeRule",
    "ListSubscriptionsByTopic": "sns:ListSubscriptionsByTopic",
}


class _UnreadError(Exception):
    pass


@contextmanager
def _reading() -> Iterator[None]:
    try:
        yield
    except ClientError as error:
        operation = error.operation_name
        if is_access_denied(error):
            needs = READ_ACTIONS.get(operation)
            raise _UnreadError(f"access denied: {operation}" + (f" (needs {needs})" if needs else "")) from None
        message = str(error.response.get("Error", {}).get("Message", "")).strip()
        raise _UnreadError(f"{operation}: {error_code(error)}" + (f": {message}" if message else "")) from None
    except BotoCoreError as error:
        raise _UnreadError(" ".join(str(error).split())) from None


def _session(clients: Clients) -> boto3.session.Session:
    return clients.session or boto3.session.Session()


def _events(clients: Clients, region: str) -> EventBridgeClient:
    return _session(clients).client(
        "events", region_name=region, endpoint_url=clients.endpoint_url, config=clients.config
    )


def _cloudtrail(clients: Clients, region: str) -> CloudTrailClient:
    return _session(clients).client(
        "cloudtrail", region_name=region, endpoint_url=clients.endpoint_url, config=clients.config
    )


def _sns(clients: Clients, region: str) -> SNSClient:
    return _session(clients).client("sns", region_name=region, endpoint_url=clients.endpoint_url, config=clients.config)


def _attempt(problems: dict[str, str], check_id: str, read: Callable[[], T]) -> T | None:
    try:
        with _reading():
            return read()
    except _UnreadError as error:
        problems[check_id] = str(error)
        return None


def gather_alarms(clients: Clients, topic_arn: str) -> AlarmFacts:
    """What the alarm checks need, read in the verified region (and us-east-1 for IAM's events)."""
    region = clients.region
    problems: dict[str, str] = {}
    events = _events(clients, region)
    sns = _sns(clients, region)
    trails = _attempt(problems, TRAIL, lambda: _trails(clients, region))
    rules = _attempt(problems, RULES, lambda: _rules_targeting(events, topic_arn))
    confirmed = _attempt(problems, SUBSCRIBERS, lambda: _confirmed(sns, topic_arn))
    forwarders = None
    if region != alarms.IAM_EVENT_REGION:
        account = arns.parse_arn(topic_arn)
        bus = f"arn:{account.partition}:events:{region}:{account.account}:event-bus/default" if account else ""
        east = _events(clients, alarms.IAM_EVENT_REGION)
        forwarders = _attempt(problems, IAM_FORWARDING, lambda: _rules_targeting(east, bus))
    return AlarmFacts(
        topic_arn=topic_arn,
        rules=rules,
        confirmed_subscriptions=confirmed,
        trails=trails,
        forwarders=forwarders,
        problems=problems,
    )


def _trails(clients: Clients, region: str) -> tuple[TrailFacts, ...]:
    """Every trail that applies to ``region`` or to us-east-1 (IAM's events), each once."""
    found: dict[str, TrailFacts] = {}
    for where in dict.fromkeys((region, alarms.IAM_EVENT_REGION)):
        cloudtrail = _cloudtrail(clients, where)
        for trail in cloudtrail.describe_trails(includeShadowTrails=True).get("trailList", []):
            arn = trail.get("TrailARN")
            if arn is None or arn in found:
                continue
            home = trail.get("HomeRegion", where)
            # Asked in the trail's home region: a trail another region only shadows is read there.
            owner = cloudtrail if home == where else _cloudtrail(clients, home)
            status = owner.get_trail_status(Name=arn)
            selectors = owner.get_event_selectors(TrailName=arn)
            management, excluded = management_selection(
                list(selectors.get("EventSelectors", [])), list(selectors.get("AdvancedEventSelectors", []))
            )
            found[arn] = TrailFacts(
                arn=arn,
                home_region=home,
                multi_region=bool(trail.get("IsMultiRegionTrail")),
                global_events=bool(trail.get("IncludeGlobalServiceEvents")),
                logging=bool(status.get("IsLogging")),
                management=management,
                excluded_sources=excluded,
            )
    return tuple(found.values())


def _rules_targeting(events: EventBridgeClient, target_arn: str) -> tuple[RuleFacts, ...]:
    names = [
        name
        for page in events.get_paginator("list_rule_names_by_target").paginate(TargetArn=target_arn)
        for name in page.get("RuleNames", [])
    ]
    rules = []
    for name in names:
        rule = events.describe_rule(Name=name)
        try:
            pattern = json.loads(rule.get("EventPattern") or "{}")
        except json.JSONDecodeError:
            pattern = {}
        rules.append(
            RuleFacts(
                name=name,
                description=rule.get("Description", ""),
                state=str(rule.get("State", "")),
                pattern=pattern if isinstance(pattern, dict) else {},
            )
        )
    return tuple(rules)


def _confirmed(sns: SNSClient, topic_arn: str) -> int:
    count = 0
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
        for subscription in page.get("Subscriptions", []):
            arn = subscription.get("SubscriptionArn", "")
            count += arn.startswith("arn:")  # "PendingConfirmation" until the endpoint confirms
    return count
