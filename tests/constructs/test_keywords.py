"""The constructs take their settings as keywords, as aws-cdk constructs take their props, or as one object.

``SessionRecordingsStorage(self, "R", key_admins=[...])`` and ``settings=StorageSettings(key_admins=[...])``
come from the same declarations and must build the same template, warn alike and fail alike.
(That a caller's mypy checks the keywords is ``tests/test_installed_package.py``.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Annotations, Match
from constructs import Construct

from constructs_lib import AuthNodeRole, RecordingsBucket, RecordingsKey, SessionRecordingsStorage
from constructs_lib.alarms import TamperAlarms
from constructs_lib.core.settings import (
    AlarmSettings,
    AuthSettings,
    BucketSettings,
    InvalidSettingsError,
    KeySettings,
    RetentionSettings,
    StorageSettings,
)
from constructs_lib.private.construction import settings_as_keywords
from tests.conftest import ACCOUNT, ADMIN_ROLE, DENIED_ROLE, TEST_ENV, make_app, resources_of_type, template_of

READER = f"arn:aws:iam::{ACCOUNT}:role/Auditor"
BUCKET_ARN = "arn:aws:s3:::acme-recordings"
#: Settings away from their defaults in every group of a storage.
STORAGE: dict[str, Any] = {
    "bucket_name": "acme-recordings",
    "recordings_prefix": "teleport/sessions",
    "key_alias": "alias/acme-recordings",
    "key_admins": [ADMIN_ROLE],
    "denied_principals": [DENIED_ROLE],
    "key_admin_mode": "separated",
    "key_rotation_days": 180,
    "readers": [READER],
    "auth_trust": "principal",
    "auth_principal": f"arn:aws:iam::{ACCOUNT}:role/teleport-ec2",
    "retention_days": 400,
    "object_lock_mode": "governance",
    "object_lock_retention_days": 30,
    "alarm_emails": ["security@example.com"],
}


def stack() -> cdk.Stack:
    return cdk.Stack(make_app(), "Keywords", env=TEST_ENV)


def warnings_of(scope: cdk.Stack) -> list[str]:
    return sorted(str(w.entry.data) for w in Annotations.from_stack(scope).find_warning("*", Match.any_value()))


def built(make: Callable[[cdk.Stack], object]) -> tuple[dict[str, Any], list[str]]:
    scope = stack()
    make(scope)
    return template_of(scope), warnings_of(scope)


def test_the_storage_from_keywords_is_the_storage_from_settings() -> None:
    from_settings = built(lambda s: SessionRecordingsStorage(s, "Storage", settings=StorageSettings(**STORAGE)))
    from_keywords = built(lambda s: SessionRecordingsStorage(s, "Storage", **STORAGE))
    assert from_keywords == from_settings
    template, warnings = from_keywords
    assert "teleport/sessions" in str(template)
    assert any("Content-MD5" in w for w in warnings), "the keywords' warnings (Object Lock) reach the stack"


def test_the_parts_from_keywords_are_the_parts_from_settings() -> None:
    def key(s: cdk.Stack, **given: Any) -> None:
        RecordingsKey(s, "Key", auth_principal_arn=READER, bucket_arn=BUCKET_ARN, **given)

    def bucket(s: cdk.Stack, **given: Any) -> None:
        encryption_key = kms.Key(s, "Cmk")
        RecordingsBucket(s, "Bucket", bucket_name="acme-recordings", encryption_key=encryption_key, **given)

    def role(s: cdk.Stack, **given: Any) -> None:
        AuthNodeRole(s, "Role", bucket_arn=BUCKET_ARN, recordings_prefix="records", **given)

    def alarms(s: cdk.Stack, **given: Any) -> None:
        TamperAlarms(
            s,
            "Alarms",
            key_arn="arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            bucket_name="acme-recordings",
            auth_role_name="teleport-auth",
            decrypt_allowed=lambda: [READER],
            **given,
        )

    key_settings = {"key_admins": [ADMIN_ROLE], "key_admin_mode": "separated", "deploy_role": DENIED_ROLE}
    bucket_settings = {"recordings_prefix": "teleport", "require_encryption_headers": True}
    retention = {"retention_days": 400, "transition_storage_class": "GLACIER_IR", "transition_days": 90}
    auth = {"auth_trust": "pod-identity", "service_account": "teleport:auth"}
    alarm = {"alarm_emails": ["security@example.com"]}
    cases: list[tuple[Callable[..., None], dict[str, Any], dict[str, Any]]] = [
        (key, key_settings, {"settings": KeySettings(**key_settings)}),
        (
            bucket,
            {**bucket_settings, **retention},
            {"settings": BucketSettings(**bucket_settings), "retention": RetentionSettings(**retention)},
        ),
        (bucket, retention, {"retention": RetentionSettings(**retention)}),  # one group as keywords, the other none
        (role, auth, {"settings": AuthSettings(**auth)}),
        (alarms, alarm, {"settings": AlarmSettings(**alarm)}),
    ]
    for make, keywords, objects in cases:
        from_keywords = built(lambda s, make=make, keywords=keywords: make(s, **keywords))
        from_objects = built(lambda s, make=make, objects=objects: make(s, **objects))
        assert from_keywords == from_objects, make.__name__
        assert from_keywords != built(make), f"{make.__name__}: the settings were ignored"


def test_a_wrong_keyword_fails_as_the_same_setting_does() -> None:
    with pytest.raises(InvalidSettingsError) as from_settings:
        SessionRecordingsStorage(stack(), "Storage", settings=StorageSettings(key_rotation_days=30, readers="x"))
    with pytest.raises(InvalidSettingsError) as from_keywords:
        SessionRecordingsStorage(stack(), "Storage", key_rotation_days=30, readers="x")
    assert str(from_keywords.value) == str(from_settings.value)
    assert "'key_rotation_days' must be a whole number of days from 90 to 2560, got 30" in str(from_keywords.value)


def test_settings_and_keywords_of_the_same_group_are_refused_naming_the_keywords() -> None:
    scope = stack()
    with pytest.raises(InvalidSettingsError) as refused:
        SessionRecordingsStorage(
            scope, "Storage", settings=StorageSettings(key_admins=[ADMIN_ROLE]), key_rotation_days=180, readers=[READER]
        )
    assert refused.value.lines == (
        "'key_rotation_days' must be left out when settings= is given (give every setting of StorageSettings as a "
        "keyword or all of them in settings=, not both), got 180",
        "'readers' must be left out when settings= is given (give every setting of StorageSettings as a keyword or "
        f'all of them in settings=, not both), got ["{READER}"]',
    )
    SessionRecordingsStorage(scope, "Storage", key_rotation_days=180)  # nothing was left in the tree
    encryption_key = kms.Key(scope, "Cmk")
    with pytest.raises(InvalidSettingsError, match=r"'retention_days' must be left out when retention= is given"):
        RecordingsBucket(
            scope,
            "Bucket",
            bucket_name="other-recordings",
            encryption_key=encryption_key,
            retention=RetentionSettings(),
            retention_days=400,
            require_encryption_headers=True,  # the other group's keyword alone is fine
        )


def test_an_unknown_keyword_is_a_settings_error_with_the_keyword_meant() -> None:
    scope = stack()
    with pytest.raises(InvalidSettingsError) as refused:
        SessionRecordingsStorage(scope, "Storage", key_admin=[ADMIN_ROLE], colour="blue")  # type: ignore[call-arg]
    first, second = refused.value.lines
    assert first == (
        f"'key_admin' must be a keyword SessionRecordingsStorage takes (did you mean 'key_admins'?), got "
        f'["{ADMIN_ROLE}"]'
    )
    assert second.startswith("'colour' must be a keyword SessionRecordingsStorage takes: access_log_retention_days, ")
    assert scope.node.try_find_child("Storage") is None
    with pytest.raises(InvalidSettingsError, match=r"'bucket_nme' must be a keyword RecordingsBucket takes \(did you"):
        RecordingsBucket(scope, "Bucket", bucket_nme="x", encryption_key=kms.Key(scope, "Cmk"))  # type: ignore[call-arg]


def test_a_constructs_own_keyword_is_its_own_not_a_setting() -> None:
    """``RecordingsBucket(bucket_name=...)`` names the bucket; ``BucketSettings.bucket_name`` is the storage's."""
    scope = stack()
    RecordingsBucket(scope, "Bucket", bucket_name="acme-recordings", encryption_key=kms.Key(scope, "Cmk"))
    names = [
        r["Properties"].get("BucketName") for r in resources_of_type(template_of(scope), "AWS::S3::Bucket").values()
    ]
    assert "acme-recordings" in names


def test_scope_and_id_may_be_keywords_as_before() -> None:
    scope = stack()
    # At run time, as before; for type checkers scope and id are positional (ParamSpec's Concatenate).
    storage = SessionRecordingsStorage(scope=scope, id="Storage", recordings_prefix="teleport")  # type: ignore[call-arg]
    assert storage.recordings_prefix == "teleport"
    assert storage.node.path == "Keywords/Storage"


def test_props_that_differ_from_the_constructor_are_refused_when_the_class_is_made() -> None:
    """The typed keywords and the accepted ones cannot drift apart: the class would not even be defined."""

    @dataclass(frozen=True, kw_only=True)
    class Props(KeySettings):
        auth_principal_arn: str
        settings: KeySettings | None = None

    with pytest.raises(TypeError, match=r"Drifted.__init__ and Props differ in bucket_arn"):

        class Drifted(Construct):
            @settings_as_keywords(Props, settings=KeySettings)
            def __init__(
                self,
                scope: Construct,
                id: str,
                *,
                auth_principal_arn: str,
                settings: KeySettings | None = None,
                bucket_arn: str | None = None,
            ) -> None:
                super().__init__(scope, id)

    @dataclass(frozen=True, kw_only=True)
    class Retyped(KeySettings):
        auth_principal_arn: str | None = None
        settings: KeySettings | None = None

    with pytest.raises(TypeError, match=r"Mistyped.__init__ and Retyped differ in auth_principal_arn"):

        class Mistyped(Construct):
            @settings_as_keywords(Retyped, settings=KeySettings)
            def __init__(
                self, scope: Construct, id: str, *, auth_principal_arn: str, settings: KeySettings | None = None
            ) -> None:
                super().__init__(scope, id)


def test_a_principal_object_as_a_keyword() -> None:
    def admin(s: cdk.Stack) -> iam.Role:
        return iam.Role(s, "Admin", assumed_by=iam.AccountPrincipal(ACCOUNT))

    from_keywords = built(lambda s: SessionRecordingsStorage(s, "Storage", key_admins=[admin(s)]))
    from_settings = built(
        lambda s: SessionRecordingsStorage(s, "Storage", settings=StorageSettings(key_admins=[admin(s)]))
    )
    assert from_keywords == from_settings
