"""The replica stack and the primary's replication agree on every name, from the settings alone.

No cross-region reference joins the two stacks (CDK's are experimental): each computes the other's
names from the settings (core/replication.py). A name that differs would be a rule that replicates
nowhere, a key policy that admits nobody or a failover role without access, and S3 would not say so
(PutBucketReplication does not check the key, research notes §2): these tests synthesize both stacks
in one app, as app.py does, and compare.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from app import build
from constructs_lib.core import replication
from constructs_lib.core.settings import AppSettings, InvalidSettingsError
from constructs_lib.proofs import RECORD_FILE, enable_access_proofs
from stacks.recordings_stack import SessionRecordingsStack
from stacks.replica_stack import REPLICA_STACK_NAME, ReplicaStack
from tests.conftest import (
    ACCOUNT,
    REGION,
    cdk_json_context,
    make_app,
    only_resource,
    recordings_key,
    resources_of_type,
    template_of,
)

REPLICA_REGION = "eu-central-1"
CONTEXT: dict[str, Any] = {
    "account": ACCOUNT,
    "region": REGION,
    "replicaRegion": REPLICA_REGION,
    "authRoleName": "teleport-auth",
    "keyAdminArns": f"arn:aws:iam::{ACCOUNT}:role/KeyAdmins",
}


def built(context: dict[str, Any]) -> dict[str, cdk.Stack]:
    stacks = build(make_app(), AppSettings.from_context(context))
    return {type(stack).__name__: stack for stack in stacks}


@pytest.fixture(scope="module")
def stacks() -> dict[str, cdk.Stack]:
    return built(CONTEXT)


@pytest.fixture(scope="module")
def primary(stacks: dict[str, cdk.Stack]) -> dict[str, Any]:
    return template_of(stacks["SessionRecordingsStack"])


@pytest.fixture(scope="module")
def replica(stacks: dict[str, cdk.Stack]) -> dict[str, Any]:
    return template_of(stacks["ReplicaStack"])


def recordings_bucket(template: dict[str, Any]) -> dict[str, Any]:
    (bucket,) = (b for k, b in resources_of_type(template, "AWS::S3::Bucket").items() if "AccessLogs" not in k)
    return bucket["Properties"]


def key_statements(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    key = recordings_key(template)
    return {s["Sid"]: s for s in key["Properties"]["KeyPolicy"]["Statement"]}


def role_named(template: dict[str, Any], name: str) -> tuple[str, dict[str, Any]]:
    (found,) = (
        (k, r) for k, r in resources_of_type(template, "AWS::IAM::Role").items() if r["Properties"]["RoleName"] == name
    )
    return found


def test_the_replica_deploys_first_in_its_region_protected(stacks: dict[str, cdk.Stack]) -> None:
    replica_stack, primary_stack = stacks["ReplicaStack"], stacks["SessionRecordingsStack"]
    assert replica_stack.stack_name == REPLICA_STACK_NAME
    assert (replica_stack.account, replica_stack.region) == (ACCOUNT, REPLICA_REGION)
    assert replica_stack.termination_protection is True
    assert replica_stack in primary_stack.dependencies


def test_the_rule_names_the_replica_bucket_and_key_alias(primary: dict[str, Any], replica: dict[str, Any]) -> None:
    configuration = recordings_bucket(primary)["ReplicationConfiguration"]
    assert replication.rule_problems(configuration) == []
    (rule,) = configuration["Rules"]
    assert rule["Destination"]["Bucket"] == f"arn:aws:s3:::{recordings_bucket(replica)['BucketName']}"
    alias = only_resource(replica, "AWS::KMS::Alias")["Properties"]["AliasName"]
    expected = f"arn:aws:kms:{REPLICA_REGION}:{ACCOUNT}:{alias}"
    assert rule["Destination"]["EncryptionConfiguration"]["ReplicaKmsKeyID"] == expected
    assert only_resource(replica, "AWS::KMS::Alias")["Properties"]["TargetKeyId"] == {
        "Fn::GetAtt": ["StorageKey7CE16CA6", "Arn"]
    }


def test_the_replica_key_admits_the_primarys_replication_and_auth_roles(
    primary: dict[str, Any], replica: dict[str, Any]
) -> None:
    role_name = replication.default_role_name(REGION)
    logical_id, _ = role_named(primary, role_name)
    assert recordings_bucket(primary)["ReplicationConfiguration"]["Role"] == {"Fn::GetAtt": [logical_id, "Arn"]}
    statements = key_statements(replica)
    replicate = statements[replication.SID_KEY_REPLICATION]
    assert replicate["Principal"] == {"AWS": "*"}
    assert replicate["Condition"]["ArnEquals"] == {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/{role_name}"}
    _, auth = role_named(primary, "teleport-auth")
    auth_arn = f"arn:aws:iam::{ACCOUNT}:role/{auth['Properties']['RoleName']}"
    assert statements["Teleport CMK Auth"]["Condition"]["ArnEquals"] == {"aws:PrincipalArn": auth_arn}
    assert statements["Teleport CMK Auth"]["Condition"]["StringEquals"] == {
        "kms:ViaService": f"s3.{REPLICA_REGION}.amazonaws.com"
    }
    assert not resources_of_type(replica, "AWS::IAM::Role"), "the replica stack creates no role"


def test_the_auth_role_can_fail_over_to_the_replica_bucket(primary: dict[str, Any], replica: dict[str, Any]) -> None:
    auth_id, _ = role_named(primary, "teleport-auth")
    replica_arn = f"arn:aws:s3:::{recordings_bucket(replica)['BucketName']}"
    attached = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in resources_of_type(primary, "AWS::IAM::ManagedPolicy").values()
        if p["Properties"].get("Roles") == [{"Ref": auth_id}]
    ]
    resources = {json.dumps(s["Resource"]) for statements in attached for s in statements}
    assert json.dumps(replica_arn) in resources
    assert json.dumps(f"{replica_arn}/records/*") in resources


def test_the_failure_alarm_watches_this_rule_and_goes_to_the_tamper_topic(
    primary: dict[str, Any], replica: dict[str, Any]
) -> None:
    alarm = only_resource(primary, "AWS::CloudWatch::Alarm")["Properties"]
    dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    assert dimensions == {
        "SourceBucket": recordings_bucket(primary)["BucketName"],
        "DestinationBucket": recordings_bucket(replica)["BucketName"],
        "RuleId": recordings_bucket(primary)["ReplicationConfiguration"]["Rules"][0]["Id"],
    }
    assert (alarm["Namespace"], alarm["MetricName"], alarm["TreatMissingData"]) == (
        "AWS/S3",
        "OperationsFailedReplication",
        "ignore",
    )
    (topic_id,) = resources_of_type(primary, "AWS::SNS::Topic")
    assert alarm["AlarmActions"] == [{"Ref": topic_id}]
    topic_policy = only_resource(primary, "AWS::SNS::TopicPolicy")["Properties"]["PolicyDocument"]
    cloudwatch = [s for s in topic_policy["Statement"] if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert len(cloudwatch) == 1


def test_the_replication_roles_decryption_raises_no_tamper_alarm(
    primary: dict[str, Any], replica: dict[str, Any]
) -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/{replication.default_role_name(REGION)}"
    for template in (primary, replica):
        (decrypt,) = (r for k, r in resources_of_type(template, "AWS::Events::Rule").items() if "DecryptByOthers" in k)
        assert role in json.dumps(decrypt["Properties"]["EventPattern"])


def test_the_replica_keeps_the_design(primary: dict[str, Any], replica: dict[str, Any]) -> None:
    """Same key settings, bucket settings and bucket-policy denies; only the names and region differ."""
    key, replica_key = recordings_key(primary), recordings_key(replica)
    for name in ("EnableKeyRotation", "RotationPeriodInDays", "KeySpec", "KeyUsage", "PendingWindowInDays"):
        assert key["Properties"].get(name) == replica_key["Properties"].get(name), name
    assert replica_key["DeletionPolicy"] == "Retain"
    mine, theirs = recordings_bucket(primary), recordings_bucket(replica)
    for name in (
        "VersioningConfiguration",
        "PublicAccessBlockConfiguration",
        "OwnershipControls",
        "LifecycleConfiguration",
    ):
        assert mine[name] == theirs[name], name
    assert theirs["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["BucketKeyEnabled"] is True
    assert "ReplicationConfiguration" not in theirs
    assert "LoggingConfiguration" in theirs
    denies = [
        {s["Sid"] for s in p["Properties"]["PolicyDocument"]["Statement"]}
        for t in (primary, replica)
        for k, p in resources_of_type(t, "AWS::S3::BucketPolicy").items()
        if "AccessLogs" not in k
    ]
    assert denies[0] == denies[1]


def test_a_locked_primary_locks_the_replica_and_reads_retention() -> None:
    locked = built(CONTEXT | {"objectLockMode": "governance", "objectLockRetentionDays": "30"})
    replica_bucket = recordings_bucket(template_of(locked["ReplicaStack"]))
    assert replica_bucket["ObjectLockEnabled"] is True
    assert replica_bucket["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == {"Mode": "GOVERNANCE", "Days": 30}
    policy = json.dumps(
        [
            p["Properties"]
            for p in resources_of_type(
                template_of(locked["SessionRecordingsStack"]), "AWS::IAM::ManagedPolicy"
            ).values()
        ]
    )
    assert "s3:GetObjectRetention" in policy
    assert "s3:GetObjectLegalHold" in policy


def test_without_a_replica_region_there_is_no_replica_stack_and_no_rule() -> None:
    plain = built({k: v for k, v in CONTEXT.items() if k != "replicaRegion"})
    assert "ReplicaStack" not in plain
    assert "ReplicationConfiguration" not in recordings_bucket(template_of(plain["SessionRecordingsStack"]))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"replicaRegion": REGION}, r"'replicaRegion' must be a region other than the stack's eu-west-1"),
        (
            {"objectLockMode": "governance", "objectLockRetentionDays": "30", "replicaObjectLockMode": "none"},
            r"'replicaObjectLockMode' must be \"governance\" or \"compliance\" while objectLockMode locks the primary",
        ),
        (
            {"replicaAccount": "444455556666", "organizationId": "o-a1b2c3d4e5"},
            r"'replicaAccount' must be unset or the stack's account 111122223333",
        ),
    ],
)
def test_refused_inputs_build_nothing(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidSettingsError, match=message):
        SessionRecordingsStack(make_app(), "Recordings", settings=AppSettings.from_context(CONTEXT | changes))


# --- the compliance gate on both stacks -------------------------------------------------------------


def test_both_stacks_are_proven_at_synthesis(tmp_path: Path) -> None:
    """P1-P6 for both keys and buckets, R1 (the role's trust, where it is) and R2 (replication works)."""
    app = cdk.App(context=cdk_json_context(), outdir=str(tmp_path))
    enable_access_proofs(app)
    build(app, AppSettings.from_context(CONTEXT))
    app.synth()
    record = json.loads((tmp_path / RECORD_FILE).read_text())
    verdicts = {s["stack"]: {r["id"]: r["verdict"] for r in s["results"]} for s in record["storages"]}
    passed = {f"P{n}": "PASS" for n in range(1, 7)}
    assert verdicts == {
        "TeleportSessionRecordings": passed | {"R1": "PASS", "R2": "PASS"},
        REPLICA_STACK_NAME: passed | {"R2": "PASS"},
    }


def test_the_replica_stack_is_the_storage_of_a_replica(stacks: dict[str, cdk.Stack]) -> None:
    replica_stack = stacks["ReplicaStack"]
    assert isinstance(replica_stack, ReplicaStack)
    assert replica_stack.storage.replica_of == replica_stack.names
    assert replica_stack.storage.replication is None
    assert replica_stack.storage.auth_role is None


# --- the guardrails with a replica ------------------------------------------------------------------

ORGANIZATION: dict[str, Any] = CONTEXT | {
    "guardrailTargetIds": "ou-ab12-cdef3456",
    "managementAccount": "999988887777",
    "organizationId": "o-a1b2c3d4e5",
    "breakGlassPrincipalArns": f"arn:aws:iam::{ACCOUNT}:role/BreakGlass",
}


def test_the_guardrails_protect_the_replication_role_and_the_replica_bucket() -> None:
    from stacks.guardrails_stack import guarded_design

    design = guarded_design(AppSettings.from_context(ORGANIZATION), "hnb659fds")
    role = f"arn:aws:iam::{ACCOUNT}:role/{replication.default_role_name(REGION)}"
    assert design.replication_role_arn == role
    replica_deployer = f"arn:aws:iam::{ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-{ACCOUNT}-{REPLICA_REGION}"
    assert design.exempt_principal_arns[-1] == replica_deployer, "the replica stack can still update its key"
    by_sid = {s["Sid"]: s for s in guardrails_scp(design)}
    assert role in by_sid["ProtectTeleportAuthRole"]["Resource"]
    assert by_sid["PassReplicationRoleOnlyToS3"]["Resource"] == [role]
    assert by_sid["PassReplicationRoleOnlyToS3"]["Condition"]["StringNotEquals"] == {
        "iam:PassedToService": "s3.amazonaws.com"
    }
    replica_bucket = f"arn:aws:s3:::teleport-recordings-{ACCOUNT}-{REPLICA_REGION}"
    assert replica_bucket in by_sid["ProtectRecordingsBucket"]["Resource"]
    assert f"{replica_bucket}/records/*" in by_sid["KeepRecordings"]["Resource"]
    plain = guarded_design(
        AppSettings.from_context({k: v for k, v in ORGANIZATION.items() if k != "replicaRegion"}), "q"
    )
    assert "PassReplicationRoleOnlyToS3" not in {s["Sid"] for s in guardrails_scp(plain)}


def guardrails_scp(design: Any) -> list[dict[str, Any]]:
    from constructs_lib.core import guardrails

    return guardrails.scp_statements(design)


def synthesize_organization(tmp_path: Path) -> dict[str, Any]:
    """The organization app with a replica, proven: the error if any, and the guardrails' results by id."""
    from tests.stacks.test_guardrails_stack import synthesize_organization as synthesize

    outcome = synthesize(tmp_path, ORGANIZATION)
    (proof,) = outcome["guardrails"]
    return {"error": outcome["error"], "proof": {r["id"]: r for r in proof["results"]}}


def test_g1_to_g4_hold_with_the_replica(tmp_path: Path) -> None:
    outcome = synthesize_organization(tmp_path)
    assert outcome["error"] == ""
    assert {k: r["verdict"] for k, r in outcome["proof"].items()} == {f"G{n}": "PASS" for n in range(1, 5)}
    assert "passing it to anything but S3" in outcome["proof"]["G1"]["summary"]


def test_g1_fails_when_the_replication_role_may_be_passed_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from constructs_lib.core import guardrails

    complete = guardrails.scp_statements
    monkeypatch.setattr(
        guardrails,
        "scp_statements",
        lambda design: [s for s in complete(design) if s["Sid"] != guardrails.SID_PASS_REPLICATION_ROLE],
    )
    outcome = synthesize_organization(tmp_path)
    assert "ValidationFailed" in outcome["error"]
    g1 = outcome["proof"]["G1"]
    assert g1["verdict"] == "FAIL"
    assert "iam:PassRole" in g1["counterexample"]
    assert replication.default_role_name(REGION) in g1["counterexample"]


def test_the_primary_names_the_replica_stack_for_teleport_config(stacks: dict[str, cdk.Stack]) -> None:
    """teleport-config --replica follows these two outputs to the replica stack's StorageUri."""
    outputs_of = template_of(stacks["SessionRecordingsStack"])["Outputs"]
    replica_stack = stacks["ReplicaStack"]
    assert outputs_of["ReplicaStackName"]["Value"] == replica_stack.stack_name
    assert outputs_of["ReplicaRegion"]["Value"] == replica_stack.region
    assert "StorageUri" in template_of(replica_stack)["Outputs"]


def test_with_alarms_off_there_is_no_failure_alarm_and_every_pack_passes(tmp_path: Path) -> None:
    """Without the tamper topic, an alarm would have no action (HIPAA/NIST CloudWatchAlarmAction): none is made."""
    from tests.stacks.test_compliance import PACKS, synth_with_packs

    settings = AppSettings.from_context(CONTEXT | {"alarms": "false"})
    report = synth_with_packs(lambda app: build(app, settings), tmp_path)
    conclusions = {r["pluginName"]: r["conclusion"] for r in report["pluginReports"]}
    assert all(conclusions.get(pack) == "success" for pack in PACKS), conclusions
    primary = json.loads((tmp_path / "TeleportSessionRecordings.template.json").read_text())
    assert not resources_of_type(primary, "AWS::CloudWatch::Alarm")
    assert "ReplicationConfiguration" in recordings_bucket(primary)


def deployed(value: Any) -> str:
    """An output's value as CloudFormation would make it, for the intrinsics these outputs hold."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(deployed(part) for part in parts)
    if "Fn::Sub" in value:
        return str(value["Fn::Sub"]).replace("${AWS::Partition}", "aws")
    raise AssertionError(f"unexpected intrinsic {value}")


def test_the_replica_stack_publishes_what_verify_reads(stacks: dict[str, cdk.Stack]) -> None:
    """``recordings-kms verify --stack-name TeleportSessionRecordingsReplica --region REPLICA`` reads these."""
    from recordings_kms.access import parameters_from_access_design

    replica_stack = stacks["ReplicaStack"]
    found = template_of(replica_stack)["Outputs"]
    design = parameters_from_access_design(deployed(found["AccessDesign"]["Value"]), source="AccessDesign")
    assert design.auth_role_arn == f"arn:aws:iam::{ACCOUNT}:role/teleport-auth"
    assert design.replication_role_arn == f"arn:aws:iam::{ACCOUNT}:role/{replication.default_role_name(REGION)}"
    assert design.replication_key_actions == replication.REPLICA_KMS_ACTIONS
    assert json.loads(found["RetentionDesign"]["Value"]) == {"incompleteUploadAbortDays": 30, "objectLockMode": "none"}
