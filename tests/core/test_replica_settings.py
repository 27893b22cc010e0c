"""The replica's settings: every refused input names the setting as the caller spelled it, the value and what is
allowed (docs/REPLICATION.md, Settings)."""

from __future__ import annotations

from typing import Any

import pytest

from constructs_lib.core.settings import AppSettings, ObjectLockMode, StorageSettings, check, render, validate
from constructs_lib.core.settings.replica import effective_replica_lock

ACCOUNT = "111122223333"
CENTRAL = "444455556666"
BASE: dict[str, Any] = {
    "account": ACCOUNT,
    "region": "eu-west-1",
    "replicaRegion": "eu-central-1",
    "authRoleName": "teleport-auth",
}


def lines(context: dict[str, Any], *, errors_only: bool = True) -> list[str]:
    settings = AppSettings.from_context(context)
    return [
        render(p, settings)
        for p in check(settings, settings.environment())
        if not errors_only or p.severity.value == "error"
    ]


def test_a_valid_replica_configuration_has_no_error() -> None:
    assert lines(BASE) == []


def test_a_replica_in_the_primary_region_is_refused() -> None:
    assert lines(BASE | {"replicaRegion": "eu-west-1"}) == [
        "'replicaRegion' must be a region other than the stack's eu-west-1: a copy in the same region does not "
        'survive the loss of that region, got "eu-west-1"'
    ]


def test_a_replica_in_another_partition_is_refused() -> None:
    (line,) = lines(BASE | {"replicaRegion": "cn-north-1"})
    assert line.startswith("'replicaRegion' must be a region of the stack's partition (aws)")


def test_a_replica_needs_a_concrete_account_and_region() -> None:
    (line,) = lines({k: v for k, v in BASE.items() if k != "account"})
    assert line.startswith("'replicaRegion' must be set only for a stack with a concrete account and region")


def test_a_replica_needs_the_auth_role_name_or_an_existing_role() -> None:
    (line,) = lines({k: v for k, v in BASE.items() if k != "authRoleName"})
    assert line.startswith("'authRoleName' must be set with replicaRegion when the auth role is created")
    existing = {k: v for k, v in BASE.items() if k != "authRoleName"}
    assert lines(existing | {"existingAuthRoleArn": f"arn:aws:iam::{ACCOUNT}:role/teleport"}) == []


def test_replica_settings_without_a_replica_region_are_refused() -> None:
    found = lines({"replicaAccount": CENTRAL, "replicaBucketName": "dr-recordings", "replicationRoleName": "r"})
    assert found == [
        "'replicaAccount' must be unset unless replicaRegion is set, got \"444455556666\"",
        "'replicaBucketName' must be unset unless replicaRegion is set, got \"dr-recordings\"",
        "'replicationRoleName' must be unset unless replicaRegion is set, got \"r\"",
    ]


NOT_BUILT = "'replicaAccount' must be unset or the stack's account 111122223333: a replica in another account"


def cross_account_lines(context: dict[str, Any]) -> list[str]:
    """The refusals other than "not built yet", which every cross-account configuration gets today."""
    found = lines(context)
    assert any(line.startswith(NOT_BUILT) for line in found), found
    return [line for line in found if not line.startswith(NOT_BUILT)]


def test_a_replica_in_another_account_is_refused_as_not_built() -> None:
    """The cross-account bucket policy and key statements are not built: refused, naming the setting and value."""
    (line,) = lines(BASE | {"replicaAccount": CENTRAL, "organizationId": "o-a1b2c3d4e5"})
    assert line == (
        f"{NOT_BUILT} is not supported yet (the replica bucket policy and the cross-account key statements it needs "
        'are not built), got "444455556666"'
    )
    assert lines(BASE | {"replicaAccount": ACCOUNT}) == []


def test_a_replica_account_needs_the_organization() -> None:
    """The cross-account statements name the organization (aws:PrincipalOrgID): without it, refused."""
    (line,) = cross_account_lines(BASE | {"replicaAccount": CENTRAL})
    assert line.startswith("'organizationId' must be set with replicaAccount (another account than account)")
    assert cross_account_lines(BASE | {"replicaAccount": CENTRAL, "organizationId": "o-a1b2c3d4e5"}) == []


def test_the_organization_without_guardrails_is_still_refused_in_one_account() -> None:
    (line,) = lines(BASE | {"organizationId": "o-a1b2c3d4e5"})
    assert line.startswith("'organizationId' must be unset unless guardrailTargetIds is set")


def test_the_management_account_cannot_hold_the_replica() -> None:
    context = BASE | {
        "replicaAccount": "999988887777",
        "organizationId": "o-a1b2c3d4e5",
        "guardrailTargetIds": "ou-ab12-cdef3456",
        "managementAccount": "999988887777",
    }
    assert any(
        line.startswith("'replicaAccount' must be another account than managementAccount")
        for line in cross_account_lines(context)
    )


def test_replica_key_admins_must_be_of_the_replica_account() -> None:
    admin = f"arn:aws:iam::{ACCOUNT}:role/KeyAdmins"
    context = BASE | {"replicaAccount": CENTRAL, "organizationId": "o-a1b2c3d4e5", "replicaKeyAdminArns": admin}
    (line,) = cross_account_lines(context)
    assert line.startswith(f"'replicaKeyAdminArns' must be a principal of the replica's account {CENTRAL}")
    assert cross_account_lines(context | {"replicaKeyAdminArns": f"arn:aws:iam::{CENTRAL}:role/KeyAdmins"}) == []


LOCKED = {"objectLockMode": "governance", "objectLockRetentionDays": "30"}


def test_a_locked_primary_with_an_unlocked_replica_is_refused() -> None:
    """Object Lock on the primary only: S3 refuses it (S3 UG, Requirements for replication)."""
    (line,) = lines(BASE | LOCKED | {"replicaObjectLockMode": "none"})
    assert line == (
        '\'replicaObjectLockMode\' must be "governance" or "compliance" while objectLockMode locks the primary: S3 '
        'replicates from an Object Lock bucket only into an Object Lock bucket, got "none"'
    )


def test_a_locked_primary_locks_the_replica_alike_and_warns_about_the_token() -> None:
    settings = AppSettings.from_context(BASE | LOCKED)
    assert effective_replica_lock(settings, settings.object_lock_mode, settings.object_lock_retention_days) == (
        ObjectLockMode.GOVERNANCE,
        30,
    )
    codes = [p.code for p in check(settings, settings.environment())]
    assert "teleport-recordings:replicationFromLockedBucket" in codes


def test_a_lock_on_the_replica_alone_is_allowed_and_needs_its_days() -> None:
    (line,) = lines(BASE | {"replicaObjectLockMode": "compliance"})
    assert (
        line == "'replicaObjectLockRetentionDays' must be set when replicaObjectLockMode locks the replica, got nothing"
    )
    context = BASE | {"replicaObjectLockMode": "compliance", "replicaObjectLockRetentionDays": "400"}
    assert lines(context) == []
    settings = AppSettings.from_context(context)
    assert "teleport-recordings:objectLockCompliance" in [p.code for p in check(settings, settings.environment())]
    assert "teleport-recordings:replicationFromLockedBucket" not in [
        p.code for p in check(settings, settings.environment())
    ]


def test_replica_lock_days_without_a_lock_and_a_lifecycle_shorter_than_the_lock_are_refused() -> None:
    (line,) = lines(BASE | {"replicaObjectLockRetentionDays": "30"})
    assert line.startswith("'replicaObjectLockRetentionDays' must be unset unless the replica is locked")
    context = BASE | {
        "replicaObjectLockMode": "governance",
        "replicaObjectLockRetentionDays": "400",
        "retentionDays": "365",
    }
    (line,) = lines(context)
    assert line.startswith("'retentionDays' must be at least the replica's Object Lock retention (400 days)")


def test_python_callers_get_their_keywords_in_messages() -> None:
    settings = StorageSettings(replica_region="eu-west-1")
    from constructs_lib.core.kinds import Environment

    with pytest.raises(Exception, match=r"'replica_region' must be a region other than the stack's eu-west-1"):
        validate(settings, Environment(account=ACCOUNT, region="eu-west-1"))
