"""The tamper alarms' settings and the rule that reads them (pure)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

from constructs_lib.core import arns
from constructs_lib.core.kinds import Bool, Environment, Text, TextList
from constructs_lib.core.problems import Problem
from constructs_lib.core.settings.model import Spec, _Settings, rule, setting
from constructs_lib.core.settings.values import email_rule, sns_topic_rule


@dataclass(frozen=True, kw_only=True)
class AlarmSettings(_Settings):
    """Tamper alarms: EventBridge rules on CloudTrail events for the key, the bucket and the auth role."""

    heading: ClassVar[str] = "Tamper alarms"

    alarms: bool = setting(
        True,
        Spec(
            "alarms",
            Bool(),
            "EventBridge rules that publish to SNS when someone changes the key (policy, grants, state, rotation, "
            "aliases), the bucket (policy, encryption, versioning, Object Lock, lifecycle, replication, public "
            "access, ownership, deletion) or the auth role (trust, policies, boundary), and when anyone but the "
            "auth role and the readers decrypts with the key. They only fire while a CloudTrail trail logs "
            "management events in the region (`recordings-kms verify` checks).",
        ),
    )
    alarm_emails: Sequence[str] = setting(
        (),
        Spec(
            "alarmEmails",
            TextList("list of email addresses", email_rule),
            "Email addresses subscribed to the created alarm topic (each must confirm the subscription).",
            default_doc="none",
        ),
    )
    alarm_topic_arn: str | None = setting(
        None,
        Spec(
            "alarmTopicArn",
            Text("SNS topic ARN", sns_topic_rule, optional=True),
            "Publish to this existing SNS topic instead of creating one (its policy, and its KMS key's, must let "
            "`events.amazonaws.com` publish).",
            cli="--alarm-topic",
            default_doc="a new topic, encrypted with its own KMS key",
        ),
    )


@rule(AlarmSettings, "alarms", "alarm_emails", "alarm_topic_arn")
def _alarm_targets(s: AlarmSettings, env: Environment) -> Iterator[Problem]:
    if not s.alarms:
        for name in ("alarm_emails", "alarm_topic_arn"):
            if s.given(name):
                yield Problem(name, getattr(s, name), "unset when {alarms} is false")
        return
    if s.alarm_topic_arn is not None and s.alarm_emails:
        yield Problem(
            "alarm_emails",
            s.alarm_emails,
            "unset with {alarm_topic_arn} (subscribe them to your topic where it is managed)",
        )
    topic = (
        arns.parse_arn(s.alarm_topic_arn) if s.alarm_topic_arn and not env.is_unresolved(s.alarm_topic_arn) else None
    )
    if topic is not None and env.region is not None and topic.region != env.region:
        yield Problem(
            "alarm_topic_arn",
            s.alarm_topic_arn,
            f"a topic in the stack's region {env.region} (EventBridge rules publish to topics of their own region)",
        )
