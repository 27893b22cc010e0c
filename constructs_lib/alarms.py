"""Tamper alarms: EventBridge rules on CloudTrail events that publish to an encrypted SNS topic.

The event patterns are ``constructs_lib.core.alarms``; this module makes them rules, with a message
that names the event, the principal and the resource, and a topic encrypted with its own KMS key
(never the recordings key: EventBridge must be able to use it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from constructs_lib.core import alarms
from constructs_lib.core.settings import AlarmSettings

# The forwarder had its place here: its old import path keeps working.
from constructs_lib.iam_event_forwarder import IamEventForwarder as IamEventForwarder
from constructs_lib.iam_event_forwarder import forwarded_regions as forwarded_regions
from constructs_lib.iam_event_forwarder import iam_events_reach as iam_events_reach
from constructs_lib.private.construction import check_settings, removed_on_failure, settings_as_keywords, settings_of
from constructs_lib.private.environment import environment_of
from constructs_lib.private.events import event_pattern

IAM_EVENTS_NOT_FORWARDED = "teleport-recordings:iamEventsNotForwarded"


@jsii.implements(cdk.IStableListProducer)
class _Produced:
    def __init__(self, produce: Callable[[], list[str]]) -> None:
        self._produce = produce

    def produce(self) -> list[str]:
        return self._produce()


@dataclass(frozen=True, kw_only=True)
class TamperAlarmsProps(AlarmSettings):
    """The keywords of ``TamperAlarms`` for type checkers: its own, and every setting or ``settings``."""

    key_arn: str
    bucket_name: str
    auth_role_name: str | None
    decrypt_allowed: Callable[[], list[str]]
    settings: AlarmSettings | None = None


class TamperAlarms(Construct):
    """Rules for changes to the key, the bucket and the auth role, and for anyone else's decryption."""

    @settings_as_keywords(TamperAlarmsProps, settings=AlarmSettings)
    @removed_on_failure
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        key_arn: str,
        bucket_name: str,
        auth_role_name: str | None,
        decrypt_allowed: Callable[[], list[str]],
        settings: AlarmSettings | None = None,
    ) -> None:
        """
        :param key_arn: the recordings key.
        :param bucket_name: the recordings bucket.
        :param auth_role_name: the auth role's name (no rule for its changes when the auth principal is a user).
        :param decrypt_allowed: the ARNs allowed to decrypt (auth role, readers), read at synthesis.
        :param settings: ``alarm_emails`` or ``alarm_topic_arn`` (see ``AlarmSettings``), or each as a keyword.
            Default: a new topic.
        """
        super().__init__(scope, id)
        settings = settings_of(settings, AlarmSettings)
        check_settings(self, settings, environment_of(self))
        self._topic_key: kms.Key | None = None
        self._cloudwatch_alarms: list[str] = []
        self.topic: sns.ITopic = self._topic(settings)
        self.rules: dict[str, events.Rule] = {}
        self._rule("KeyChanges", alarms.key_pattern(key_arn), "key", "$.detail.resources[0].ARN")
        self._rule(
            "BucketChanges", alarms.bucket_pattern(bucket_name), "bucket", "$.detail.requestParameters.bucketName"
        )
        if auth_role_name is not None:
            self._rule(
                "AuthRoleChanges",
                alarms.role_pattern(auth_role_name),
                "auth role",
                "$.detail.requestParameters.roleName",
            )
        allowed = cdk.Lazy.list(_Produced(decrypt_allowed))
        decrypt = self._rule(
            "DecryptByOthers", alarms.decrypt_pattern(key_arn, allowed), "decryption", "$.detail.resources[0].ARN"
        )
        cfn = decrypt.node.default_child
        if not isinstance(cfn, events.CfnRule):
            raise TypeError("an events.Rule without its CfnRule")
        # kms:Decrypt is a read-only management event: only this state matches it.
        cfn.state = alarms.ALL_MANAGEMENT_EVENTS_STATE
        self._let_the_rules_publish()

    def add_role_rule(self, id: str, role_name: str, what: str) -> events.Rule:
        """A rule for changes to another role of the design (trust, policies, boundary), like the auth role's."""
        return self._rule(id, alarms.role_pattern(role_name), what, "$.detail.requestParameters.roleName")

    def add_forwarded_rule(
        self, id: str, pattern: alarms.Pattern, what: str, event_bus: events.IEventBus
    ) -> events.Rule:
        """A rule on another bus than the default (the cluster roles' IAM events, sent from their accounts)."""
        return self._rule(id, pattern, what, "$.detail.requestParameters.roleName", event_bus=event_bus)

    def publish_alarm(self, alarm: cloudwatch.Alarm) -> None:
        """Send a CloudWatch alarm to the topic: the created topic and its key let CloudWatch publish for it alone.

        Alarms publish as ``cloudwatch.amazonaws.com``; an SSE-KMS topic's key must allow it Decrypt and
        GenerateDataKey* (Amazon CloudWatch User Guide, "Using Amazon CloudWatch alarms": encrypted topics).
        """
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.topic))
        if not isinstance(self.topic, sns.Topic) or self._topic_key is None:
            return  # an existing topic's policies are managed where the topic is (README: alarmTopicArn)
        principal = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        self._topic_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchPublishesAlarms",
                principals=[principal],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )
        self._cloudwatch_alarms.append(alarm.alarm_arn)
        if len(self._cloudwatch_alarms) == 1:
            self.topic.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="TamperAlarmCloudWatchAlarmsPublish",
                    principals=[principal],
                    actions=["sns:Publish"],
                    resources=[self.topic.topic_arn],
                    conditions={
                        "ArnEquals": {"aws:SourceArn": cdk.Lazy.list(_Produced(lambda: self._cloudwatch_alarms))}
                    },
                )
            )

    def _topic(self, settings: AlarmSettings) -> sns.ITopic:
        if settings.alarm_topic_arn is not None:
            return sns.Topic.from_topic_arn(self, "Topic", settings.alarm_topic_arn)
        topic_key = kms.Key(
            self,
            "TopicKey",
            description="Teleport session recordings tamper alarms: encrypts the alarm topic (not the recordings)",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self._topic_key = topic_key
        # As AWS documents for EventBridge and encrypted topics: SNS uses the key for the publishing
        # service. Only this topic uses the key, and its policy lets only these rules publish.
        topic_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="EventBridgePublishesAlarms",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )
        topic = sns.Topic(
            self,
            "Topic",
            display_name="Teleport session recordings tamper alarm",
            master_key=topic_key,
            enforce_ssl=True,
        )
        for email in settings.alarm_emails:
            topic.add_subscription(subscriptions.EmailSubscription(email))
        return topic

    def _rule(
        self,
        id: str,
        pattern: alarms.Pattern,
        what: str,
        resource_path: str,
        *,
        event_bus: events.IEventBus | None = None,
    ) -> events.Rule:
        rule = events.Rule(
            self,
            id,
            description=f"Teleport session recordings tamper alarm: {what}",
            event_pattern=event_pattern(pattern),
            event_bus=event_bus,
        )
        field = events.EventField.from_path
        message = (
            f"Teleport session recordings tamper alarm ({what}): {field('$.detail.eventName')} by "
            f"{field('$.detail.userIdentity.arn')} on {field(resource_path)} in account {field('$.account')}, "
            f"region {field('$.region')}, at {field('$.time')}"
        )
        rule.add_target(_PublishTo(self.topic, events.RuleTargetInput.from_text(message)))
        self.rules[id] = rule
        return rule

    def _let_the_rules_publish(self) -> None:
        """The created topic's policy: only these rules publish (not any account's EventBridge rule)."""
        if not isinstance(self.topic, sns.Topic):
            return  # an existing topic's policy is managed where the topic is
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="TamperAlarmRulesPublish",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                # Read at synthesis: rules added after construction (add_role_rule, add_forwarded_rule) publish too.
                conditions={
                    "ArnEquals": {
                        "aws:SourceArn": cdk.Lazy.list(_Produced(lambda: [r.rule_arn for r in self.rules.values()]))
                    }
                },
            )
        )


@jsii.implements(events.IRuleTarget)
class _PublishTo:
    """An SNS target that, unlike ``targets.SnsTopic``, leaves the topic's policies to ``TamperAlarms``
    (which names its rules instead of letting every EventBridge rule publish)."""

    def __init__(self, topic: sns.ITopic, message: events.RuleTargetInput) -> None:
        self._topic = topic
        self._message = message

    def bind(self, rule: events.IRule, id: str | None = None) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(arn=self._topic.topic_arn, input=self._message)
