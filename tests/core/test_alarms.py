"""The tamper alarms' event patterns against CloudTrail events shaped as EventBridge delivers them.

The events follow CloudTrail's record format (userIdentity, resources, requestParameters) inside
EventBridge's envelope; ``tests/event_patterns.py`` matches them with EventBridge's documented rules.
"""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest

from constructs_lib.core import alarms
from tests.event_patterns import matches

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/0987dcba-09fe-87dc-65ba-ab0987654321"
AUTH_ROLE = f"arn:aws:iam::{ACCOUNT}:role/teleport-auth"
READER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/SessionAuditors"
READER_USER = f"arn:aws:iam::{ACCOUNT}:user/auditor"
ADMIN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/Administrator"
BUCKET = "acme-teleport-recordings"


def session(role_arn: str, name: str = "i-0123456789abcdef0") -> dict[str, Any]:
    role_name = role_arn.rsplit("/", 1)[-1]
    return {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLE:{name}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/{name}",
        "accountId": ACCOUNT,
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": role_arn, "userName": role_name}},
    }


def user(user_arn: str) -> dict[str, Any]:
    return {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": user_arn, "accountId": ACCOUNT}


ROOT = {"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root", "accountId": ACCOUNT}
OTHER_ACCOUNT_CALLER = {"type": "AWSAccount", "principalId": "AIDAOTHER", "accountId": OTHER_ACCOUNT}
SERVICE = {"type": "AWSService", "invokedBy": "s3.amazonaws.com"}


def cloudtrail_event(source: str, name: str, identity: dict[str, Any], **detail: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "AWS API Call via CloudTrail",
        "source": f"aws.{source}",
        "account": ACCOUNT,
        "time": "2026-11-24T10:00:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": {
            "eventVersion": "1.09",
            "userIdentity": identity,
            "eventTime": "2026-11-24T10:00:00Z",
            "eventSource": f"{source}.amazonaws.com",
            "eventName": name,
            "awsRegion": "eu-west-1",
            "eventCategory": "Management",
            **detail,
        },
    }


def kms_event(name: str, identity: dict[str, Any], *keys: str) -> dict[str, Any]:
    resources = [{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": key} for key in keys or (KEY,)]
    return cloudtrail_event(
        "kms",
        name,
        identity,
        requestParameters={"encryptionAlgorithm": "SYMMETRIC_DEFAULT"},
        resources=resources,
        readOnly=name == "Decrypt",
    )


DECRYPT = alarms.decrypt_pattern(KEY, [AUTH_ROLE, READER_ROLE, READER_USER])


@pytest.mark.parametrize(
    "identity",
    [session(AUTH_ROLE), session(AUTH_ROLE, "teleport-auth-pod"), session(READER_ROLE), user(READER_USER)],
    ids=["auth role", "auth role (pod session)", "reader role", "reader user"],
)
def test_decryption_by_the_allowed_principals_is_quiet(identity: dict[str, Any]) -> None:
    assert not matches(DECRYPT, kms_event("Decrypt", identity))


@pytest.mark.parametrize(
    "identity",
    [
        session(ADMIN_ROLE),
        session(f"arn:aws:iam::{ACCOUNT}:role/teleport-auth-copy"),
        user(f"arn:aws:iam::{ACCOUNT}:user/ops"),
        ROOT,
        OTHER_ACCOUNT_CALLER,
        SERVICE,
        {"type": "FederatedUser", "arn": f"arn:aws:sts::{ACCOUNT}:federated-user/bob", "accountId": ACCOUNT},
    ],
    ids=["admin role", "look-alike role", "other user", "root", "other account", "aws service", "federated user"],
)
@pytest.mark.parametrize("name", alarms.DECRYPT_EVENTS)
def test_decryption_by_anyone_else_alarms(identity: dict[str, Any], name: str) -> None:
    assert matches(DECRYPT, kms_event(name, identity))


def test_reencrypt_from_the_key_into_another_alarms() -> None:
    assert matches(DECRYPT, kms_event("ReEncrypt", session(ADMIN_ROLE), KEY, OTHER_KEY))


def test_other_keys_and_other_calls_are_quiet() -> None:
    assert not matches(DECRYPT, kms_event("Decrypt", session(ADMIN_ROLE), OTHER_KEY))
    assert not matches(DECRYPT, kms_event("GenerateDataKey", session(ADMIN_ROLE)))
    assert not matches(DECRYPT, cloudtrail_event("s3", "GetObject", session(ADMIN_ROLE)))


def test_an_empty_allowed_list_alarms_on_every_decryption() -> None:
    assert matches(alarms.decrypt_pattern(KEY, []), kms_event("Decrypt", session(AUTH_ROLE)))


@pytest.mark.parametrize("name", alarms.KEY_EVENTS)
def test_key_changes_alarm(name: str) -> None:
    pattern = alarms.key_pattern(KEY)
    assert matches(pattern, kms_event(name, session(ADMIN_ROLE)))
    assert not matches(pattern, kms_event(name, session(ADMIN_ROLE), OTHER_KEY))


def test_key_reads_are_quiet() -> None:
    pattern = alarms.key_pattern(KEY)
    for name in ("DescribeKey", "GetKeyPolicy", "ListGrants", "Decrypt", "Encrypt", "EnableKeyRotation"):
        assert not matches(pattern, kms_event(name, session(ADMIN_ROLE))), name


def bucket_event(name: str, bucket: str = BUCKET) -> dict[str, Any]:
    return cloudtrail_event(
        "s3", name, session(ADMIN_ROLE), requestParameters={"bucketName": bucket, "Host": f"{bucket}.s3.amazonaws.com"}
    )


@pytest.mark.parametrize("name", alarms.BUCKET_EVENTS)
def test_bucket_changes_alarm(name: str) -> None:
    pattern = alarms.bucket_pattern(BUCKET)
    assert matches(pattern, bucket_event(name))
    assert not matches(pattern, bucket_event(name, "acme-teleport-recordings-copy"))


def test_bucket_reads_are_quiet() -> None:
    pattern = alarms.bucket_pattern(BUCKET)
    for name in ("GetBucketPolicy", "GetBucketEncryption", "ListObjectVersions", "GetObject"):
        assert not matches(pattern, bucket_event(name)), name


def role_event(name: str, role_name: str) -> dict[str, Any]:
    event = cloudtrail_event("iam", name, session(ADMIN_ROLE), requestParameters={"roleName": role_name})
    event["region"] = alarms.IAM_EVENT_REGION
    return event


@pytest.mark.parametrize("name", alarms.ROLE_EVENTS)
def test_auth_role_changes_alarm(name: str) -> None:
    pattern = alarms.role_pattern("teleport-auth")
    assert matches(pattern, role_event(name, "teleport-auth"))
    assert not matches(pattern, role_event(name, "teleport-proxy"))
    # The forwarder takes every role's changes (the recordings region's rule picks the auth role's).
    assert matches(alarms.role_pattern(), role_event(name, "teleport-proxy"))


def test_role_reads_are_quiet() -> None:
    assert not matches(alarms.role_pattern("teleport-auth"), role_event("GetRole", "teleport-auth"))


@pytest.mark.parametrize(
    ("service", "names"),
    [
        ("kms", alarms.KEY_EVENTS + alarms.DECRYPT_EVENTS),
        ("s3", alarms.BUCKET_EVENTS),
        ("iam", alarms.ROLE_EVENTS),
    ],
)
def test_event_names_are_api_operations(service: str, names: tuple[str, ...]) -> None:
    """CloudTrail names management events after the API operation: a misspelt name never fires."""
    operations = set(botocore.session.get_session().get_service_model(service).operation_names)
    assert sorted(set(names) - operations) == []
