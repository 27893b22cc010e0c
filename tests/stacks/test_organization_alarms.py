"""Tamper alarms on the organization layout's cluster roles: their accounts' us-east-1 rules, the recordings bus.

IAM's CloudTrail events reach EventBridge in us-east-1 only, in the role's account; each such account
gets a rule that sends its cluster roles' changes to a bus of the recordings account (EventBridge User
Guide, "Sending and receiving events between AWS accounts in Amazon EventBridge":
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html), whose rules publish to
the tamper topic. The stacks name each other from the settings: these tests synthesize them together,
compare the names, and match the patterns against CloudTrail events (tests/event_patterns.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from app import main
from constructs_lib.core import clusters
from constructs_lib.core.settings import AppSettings
from tests.conftest import cdk_json_context
from tests.core.test_alarms import cloudtrail_event, session
from tests.event_patterns import matches
from tests.stacks.test_organization_stacks import CONTEXT, RECORDINGS, REGION, WORKLOAD_A, WORKLOAD_B

LAYOUT = clusters.plan(AppSettings.from_context(CONTEXT))


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("organization-alarms")
    app = cdk.App(outdir=str(out), context={**cdk_json_context(), **CONTEXT})
    assert main(app) == 0
    return out


def template(out: Path, stack: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((out / f"{stack}.template.json").read_text())
    return loaded


def of_type(document: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r["Properties"] for k, r in document["Resources"].items() if r["Type"] == kind}


def role_change(account: str, role_name: str, event: str = "UpdateAssumeRolePolicy") -> dict[str, Any]:
    """A CloudTrail event for a change to ``role_name`` in ``account`` (IAM's events are in us-east-1)."""
    caller = session(f"arn:aws:iam::{account}:role/Administrator", "admin")
    found = cloudtrail_event("iam", event, caller, requestParameters={"roleName": role_name})
    return {**found, "account": account, "region": "us-east-1"}


def forwarder(out: Path, account: str) -> dict[str, Any]:
    (rule,) = of_type(template(out, f"TeleportSessionRecordingsIamEvents-{account}"), "AWS::Events::Rule").values()
    return rule


def test_each_account_with_cluster_roles_has_a_us_east_1_forwarder(assembly: Path) -> None:
    manifest = json.loads((assembly / "manifest.json").read_text())["artifacts"]
    for account in (WORKLOAD_A, WORKLOAD_B):
        assert manifest[f"TeleportSessionRecordingsIamEvents-{account}"]["environment"] == f"aws://{account}/us-east-1"


@pytest.mark.parametrize("event", ["UpdateAssumeRolePolicy", "AttachRolePolicy", "PutRolePolicy", "DetachRolePolicy"])
def test_the_forwarders_pattern_matches_its_own_cluster_roles_changes_only(assembly: Path, event: str) -> None:
    for cluster in LAYOUT.clusters:
        pattern = forwarder(assembly, cluster.account)["EventPattern"]
        assert matches(pattern, role_change(cluster.account, cluster.role_name, event)), (cluster.name, pattern)
        others = [c for c in LAYOUT.clusters if c.name != cluster.name]
        assert not any(matches(pattern, role_change(cluster.account, o.role_name, event)) for o in others)
        assert not matches(pattern, role_change(cluster.account, "SomeOtherRole", event))


def test_the_forwarder_sends_to_the_bus_the_recordings_stack_creates_which_accepts_its_rule_only(
    assembly: Path,
) -> None:
    recordings = template(assembly, "TeleportSessionRecordings")
    (bus,) = of_type(recordings, "AWS::Events::EventBus").values()
    bus_arn = f"arn:aws:events:{REGION}:{RECORDINGS}:event-bus/{bus['Name']}"
    allowed = {
        p["Statement"]["Principal"]["AWS"]: p["Statement"]["Condition"]["ArnEquals"]["aws:SourceArn"]
        for p in of_type(recordings, "AWS::Events::EventBusPolicy").values()
    }
    for account in (WORKLOAD_A, WORKLOAD_B):
        rule = forwarder(assembly, account)
        (target,) = rule["Targets"]
        assert target["Arn"] == bus_arn
        assert "RoleArn" in target  # a bus of another account takes a role on the sending rule
        assert allowed[f"arn:aws:iam::{account}:root"] == f"arn:aws:events:us-east-1:{account}:rule/{rule['Name']}"
        policies = of_type(
            template(assembly, f"TeleportSessionRecordingsIamEvents-{account}"), "AWS::IAM::ManagedPolicy"
        )
        (policy,) = policies.values()
        assert policy["PolicyDocument"]["Statement"] == [
            {"Action": "events:PutEvents", "Effect": "Allow", "Resource": bus_arn}
        ]


def test_the_recordings_accounts_rules_match_the_forwarded_events_of_their_account_and_publish(
    assembly: Path,
) -> None:
    recordings = template(assembly, "TeleportSessionRecordings")
    rules = {
        k: r
        for k, r in of_type(recordings, "AWS::Events::Rule").items()
        if r.get("EventBusName") == {"Ref": next(iter(of_type(recordings, "AWS::Events::EventBus")))}
    }
    assert len(rules) == 2
    (topic,) = of_type(recordings, "AWS::SNS::Topic")
    publishers = next(
        s
        for p in of_type(recordings, "AWS::SNS::TopicPolicy").values()
        for s in p["PolicyDocument"]["Statement"]
        if s.get("Sid") == "TamperAlarmRulesPublish"
    )["Condition"]["ArnEquals"]["aws:SourceArn"]
    for cluster in LAYOUT.clusters:
        event = role_change(cluster.account, cluster.role_name)
        matching = [k for k, r in rules.items() if matches(r["EventPattern"], event)]
        assert len(matching) == 1, (cluster.name, matching)
        other_account = WORKLOAD_B if cluster.account == WORKLOAD_A else WORKLOAD_A
        assert not any(
            matches(r["EventPattern"], role_change(other_account, cluster.role_name)) for r in rules.values()
        )
        (target,) = rules[matching[0]]["Targets"]
        assert target["Arn"] == {"Ref": topic}
        assert {"Fn::GetAtt": [matching[0], "Arn"]} in publishers


def test_without_alarms_there_are_no_forwarders_and_no_bus(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path), context={**cdk_json_context(), **CONTEXT, "alarms": "false"})
    assert main(app) == 0
    assert not list(tmp_path.glob("TeleportSessionRecordingsIamEvents-*.template.json"))
    assert not of_type(template(tmp_path, "TeleportSessionRecordings"), "AWS::Events::EventBus")


@pytest.mark.parametrize("account", [WORKLOAD_A, WORKLOAD_B])
def test_forwarder_template_snapshot(assembly: Path, account: str, snapshot: SnapshotAssertion) -> None:
    """A regression net (cfn-lint reads every snapshot: tests/stacks/test_compliance.py)."""
    assert template(assembly, f"TeleportSessionRecordingsIamEvents-{account}") == snapshot.use_extension(
        JSONSnapshotExtension
    )


def test_a_rule_added_after_the_alarms_were_built_may_publish_too() -> None:
    """The topic policy lists the rules at synthesis: the replica's ReplicationRoleChanges rule (added by
    ``add_role_rule`` after ``TamperAlarms`` was built) was left out before, so SNS refused its alarms."""
    from app import build
    from tests.conftest import make_app, template_of

    context = {"account": "111122223333", "region": "eu-west-1", "replicaRegion": "eu-central-1", "authRoleName": "tp"}
    stacks = {s.stack_name: s for s in build(make_app(), AppSettings.from_context(context))}
    recordings = template_of(stacks["TeleportSessionRecordings"])
    rules = [k for k, r in recordings["Resources"].items() if r["Type"] == "AWS::Events::Rule"]
    assert any("ReplicationRoleChanges" in k for k in rules)
    publishers = next(
        s
        for p in of_type(recordings, "AWS::SNS::TopicPolicy").values()
        for s in p["PolicyDocument"]["Statement"]
        if s.get("Sid") == "TamperAlarmRulesPublish"
    )["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert sorted(p["Fn::GetAtt"][0] for p in publishers) == sorted(rules)
