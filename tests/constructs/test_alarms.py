"""The tamper alarms in a synthesized stack: the rules' patterns, their state, the topic and the IAM events.

The patterns in the template are resolved to concrete ARNs and compared with ``core/alarms.py`` (whose
matching is tested against CloudTrail events in ``tests/core/test_alarms.py``), then CloudTrail events
of the stack's own principals are matched against them.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match

from constructs_lib.alarms import IAM_EVENTS_NOT_FORWARDED, IamEventForwarder, TamperAlarms
from constructs_lib.core import alarms
from constructs_lib.core.settings import AlarmSettings, AppSettings, InvalidSettingsError
from constructs_lib.core.template import IntrinsicResolver
from constructs_lib.storage import SessionRecordingsStorage
from stacks.iam_events_stack import IamEventsStack
from tests.conftest import (
    ACCOUNT,
    REGION,
    TEST_ENV,
    make_app,
    only_resource,
    recordings_keys,
    resources_of_type,
    synth_stack,
    template_of,
)
from tests.core.test_alarms import kms_event, session
from tests.event_patterns import matches

READER = f"arn:aws:iam::{ACCOUNT}:role/SessionAuditors"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:security-alarms"


def resolver(template: dict[str, Any]) -> IntrinsicResolver:
    return IntrinsicResolver(template, account=ACCOUNT, region=REGION)


def rules(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The alarm rules by construct id (KeyChanges, ...), their event patterns resolved."""
    found = {}
    for logical_id, rule in resources_of_type(template, "AWS::Events::Rule").items():
        name = next(n for n in ("KeyChanges", "BucketChanges", "AuthRoleChanges", "DecryptByOthers") if n in logical_id)
        properties = dict(rule["Properties"])
        properties["EventPattern"] = resolver(template).resolve(properties["EventPattern"])
        found[name] = properties
    return found


def key_arn(template: dict[str, Any]) -> str:
    (logical_id,) = recordings_keys(template)
    return resolver(template).get_att(logical_id, "Arn")


def auth_role(template: dict[str, Any]) -> tuple[str, str]:
    (logical_id,) = resources_of_type(template, "AWS::IAM::Role")
    return resolver(template).get_att(logical_id, "Arn"), resolver(template).ref(logical_id)


def test_the_default_stack_has_the_four_rules_with_the_core_patterns(synth: Any) -> None:
    template = synth()
    found = rules(template)
    role_arn, role_name = auth_role(template)
    bucket = f"teleport-recordings-{ACCOUNT}-{REGION}"
    assert found["KeyChanges"]["EventPattern"] == alarms.key_pattern(key_arn(template))
    assert found["BucketChanges"]["EventPattern"] == alarms.bucket_pattern(bucket)
    assert found["AuthRoleChanges"]["EventPattern"] == alarms.role_pattern(role_name)
    assert found["DecryptByOthers"]["EventPattern"] == alarms.decrypt_pattern(key_arn(template), [role_arn])


def test_only_the_decrypt_rule_matches_read_only_management_events(synth: Any) -> None:
    states = {name: rule["State"] for name, rule in rules(synth()).items()}
    assert states == {
        "KeyChanges": "ENABLED",
        "BucketChanges": "ENABLED",
        "AuthRoleChanges": "ENABLED",
        "DecryptByOthers": alarms.ALL_MANAGEMENT_EVENTS_STATE,
    }


def test_the_auth_roles_own_decryption_is_quiet_and_an_administrators_alarms(synth: Any) -> None:
    template = synth()
    pattern = rules(template)["DecryptByOthers"]["EventPattern"]
    role_arn, _ = auth_role(template)
    key = key_arn(template)
    assert not matches(pattern, kms_event("Decrypt", session(role_arn), key))
    assert matches(pattern, kms_event("Decrypt", session(f"arn:aws:iam::{ACCOUNT}:role/Administrator"), key))


def test_readers_may_decrypt_without_an_alarm(synth: Any) -> None:
    template = synth(AppSettings(readers=(READER,)))
    pattern = rules(template)["DecryptByOthers"]["EventPattern"]
    assert not matches(pattern, kms_event("Decrypt", session(READER), key_arn(template)))


def test_every_rule_publishes_a_readable_message_to_the_topic(synth: Any) -> None:
    template = synth()
    (topic_id,) = resources_of_type(template, "AWS::SNS::Topic")
    for name, rule in rules(template).items():
        (target,) = rule["Targets"]
        assert target["Arn"] == {"Ref": topic_id}
        text = target["InputTransformer"]["InputTemplate"]
        for field in ("<detail-eventName>", "<detail-userIdentity-arn>", "<account>", "<region>", "<time>"):
            assert field in text, (name, field)


def test_the_topic_is_encrypted_with_its_own_key_events_can_use_and_refuses_plain_http(synth: Any) -> None:
    template = synth()
    topic = only_resource(template, "AWS::SNS::Topic")["Properties"]
    keys = resources_of_type(template, "AWS::KMS::Key")
    (topic_key_id,) = set(keys) - set(recordings_keys(template))
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": [topic_key_id, "Arn"]}
    assert keys[topic_key_id]["DeletionPolicy"] == "Retain"
    assert keys[topic_key_id]["Properties"]["EnableKeyRotation"] is True
    events = [
        s
        for s in keys[topic_key_id]["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Principal") == {"Service": "events.amazonaws.com"}
    ]
    (statement,) = events
    assert set(statement["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    topic_policy = only_resource(template, "AWS::SNS::TopicPolicy")["Properties"]["PolicyDocument"]
    assert any(
        s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        for s in topic_policy["Statement"]
    )
    (publish,) = [s for s in topic_policy["Statement"] if s["Effect"] == "Allow"]
    assert publish["Principal"] == {"Service": "events.amazonaws.com"}
    assert publish["Action"] == "sns:Publish"
    rule_ids = set(resources_of_type(template, "AWS::Events::Rule"))
    sources = publish["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert {source["Fn::GetAtt"][0] for source in sources} == rule_ids, "only the alarm rules may publish"


def test_the_recordings_key_policy_is_unchanged_by_the_alarms(synth: Any) -> None:
    with_alarms, without = synth(), synth(AppSettings(alarms=False))
    (key_id,) = recordings_keys(with_alarms)
    assert with_alarms["Resources"][key_id] == without["Resources"][key_id]


def test_emails_are_subscribed(synth: Any) -> None:
    template = synth(AppSettings(alarm_emails=("security@example.com", "oncall@example.com")))
    subscriptions = resources_of_type(template, "AWS::SNS::Subscription").values()
    assert sorted((s["Properties"]["Protocol"], s["Properties"]["Endpoint"]) for s in subscriptions) == [
        ("email", "oncall@example.com"),
        ("email", "security@example.com"),
    ]


def test_an_existing_topic_is_used_and_nothing_is_created_for_it(synth: Any) -> None:
    template = synth(AppSettings(alarm_topic_arn=TOPIC))
    assert not resources_of_type(template, "AWS::SNS::Topic")
    assert len(resources_of_type(template, "AWS::KMS::Key")) == 1
    assert {rule["Targets"][0]["Arn"] for rule in rules(template).values()} == {TOPIC}


def test_alarms_off_creates_no_rule_and_no_topic(synth: Any) -> None:
    template = synth(AppSettings(alarms=False))
    for kind in ("AWS::Events::Rule", "AWS::SNS::Topic", "AWS::SNS::TopicPolicy"):
        assert not resources_of_type(template, kind), kind


# --- IAM events: global, delivered in us-east-1 only ------------------------------------------------


def not_forwarded(stack: cdk.Stack) -> list[Any]:
    found: list[Any] = Annotations.from_stack(stack).find_warning(
        "*", Match.string_like_regexp("IAM events to EventBridge in us-east-1 only")
    )
    return found


def test_a_stack_outside_us_east_1_warns_that_role_changes_need_forwarding() -> None:
    stack = synth_stack()
    assert not_forwarded(stack)
    assert IAM_EVENTS_NOT_FORWARDED.endswith("iamEventsNotForwarded")


def test_the_forwarder_stack_silences_the_warning_and_targets_the_regions_bus() -> None:
    app = make_app()
    forwarder = IamEventsStack(app, "IamEvents", account=ACCOUNT, target_region=REGION)
    recordings = SessionRecordingsStorage(cdk.Stack(app, "Recordings", env=TEST_ENV), "Storage")
    assert not not_forwarded(cdk.Stack.of(recordings))
    template = template_of(forwarder)
    rule = only_resource(template, "AWS::Events::Rule")["Properties"]
    assert rule["EventPattern"] == alarms.role_pattern()
    bus = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"
    assert [t["Arn"] for t in rule["Targets"]] == [bus]
    policy = only_resource(template, "AWS::IAM::ManagedPolicy")["Properties"]["PolicyDocument"]
    assert policy["Statement"] == [{"Action": "events:PutEvents", "Effect": "Allow", "Resource": bus}]
    role = only_resource(template, "AWS::IAM::Role")["Properties"]["AssumeRolePolicyDocument"]
    assert role["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}


def test_a_stack_in_us_east_1_needs_no_forwarding() -> None:
    stack = synth_stack(env=cdk.Environment(account=ACCOUNT, region=alarms.IAM_EVENT_REGION))
    assert not not_forwarded(stack)


def test_the_forwarder_outside_us_east_1_is_refused() -> None:
    stack = cdk.Stack(make_app(), "Wrong", env=TEST_ENV)
    with pytest.raises(InvalidSettingsError, match="'stack region' must be us-east-1"):
        IamEventForwarder(stack, "Forwarder", target_regions=[REGION])


def test_tamper_alarms_can_be_used_alone() -> None:
    stack = cdk.Stack(make_app(), "Alone", env=TEST_ENV)
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    TamperAlarms(
        stack,
        "Alarms",
        key_arn=key,
        bucket_name="existing-recordings",
        auth_role_name=None,
        decrypt_allowed=lambda: [f"arn:aws:iam::{ACCOUNT}:role/teleport"],
        settings=AlarmSettings(alarm_emails=("security@example.com",)),
    )
    template = template_of(stack)
    patterns = [r["Properties"]["EventPattern"] for r in resources_of_type(template, "AWS::Events::Rule").values()]
    assert alarms.key_pattern(key) in patterns
    assert alarms.bucket_pattern("existing-recordings") in patterns
    assert alarms.decrypt_pattern(key, [f"arn:aws:iam::{ACCOUNT}:role/teleport"]) in patterns


def test_the_stack_outputs_the_alarm_topic_only_with_alarms(synth: Any) -> None:
    (topic_id,) = resources_of_type(synth(), "AWS::SNS::Topic")
    assert synth()["Outputs"]["AlarmTopicArn"]["Value"] == {"Ref": topic_id}
    assert synth(AppSettings(alarm_topic_arn=TOPIC))["Outputs"]["AlarmTopicArn"]["Value"] == TOPIC
    assert "AlarmTopicArn" not in synth(AppSettings(alarms=False))["Outputs"]
