"""The replica's rules that read other groups too: the stack's region and account, the auth role, retention
and key administration (pure). Registered on the aggregates that hold those groups.
"""

from __future__ import annotations

from collections.abc import Iterator

from constructs_lib.core import arns
from constructs_lib.core.kinds import Environment, principal_arn, principal_arns
from constructs_lib.core.problems import Problem, warning
from constructs_lib.core.settings.app import AppSettings
from constructs_lib.core.settings.model import rule
from constructs_lib.core.settings.replica import effective_replica_lock
from constructs_lib.core.settings.retention import ObjectLockMode
from constructs_lib.core.settings.storage import StorageSettings


@rule(StorageSettings, "replica_region")
def _replica_in_another_region(s: StorageSettings, env: Environment) -> Iterator[Problem]:
    region = s.replica_region
    if region is None or env.region is None:
        return
    if region == env.region:
        yield Problem(
            "replica_region",
            region,
            f"a region other than the stack's {env.region}: a copy in the same region does not survive the loss of "
            "that region",
        )
    elif arns.partition_of_region(region) != arns.partition_of_region(env.region):
        yield Problem(
            "replica_region",
            region,
            f"a region of the stack's partition ({arns.partition_of_region(env.region)}): S3 does not replicate "
            "across partitions",
        )


@rule(StorageSettings, "replica_region", "auth_role", "auth_role_name")
def _replication_needs_names_both_stacks_know(s: StorageSettings, env: Environment) -> Iterator[Problem]:
    """The replica stack names the primary's auth role and replication role by ARN: they must be known at synth."""
    if s.replica_region is None:
        return
    if env.account is None or env.region is None:
        yield Problem(
            "replica_region",
            s.replica_region,
            "set only for a stack with a concrete account and region (set account and region): the replica stack "
            "names the primary's bucket and roles by their ARNs",
        )
    auth = principal_arn(s.auth_role, env)
    if s.auth_role is None and s.auth_role_name is None:
        yield Problem(
            "auth_role_name",
            None,
            "set with {replica_region} when the auth role is created (or use {auth_role}): the replica's key "
            "policy names the auth role, so that Teleport can fail over",
        )
    elif auth is not None and env.is_unresolved(auth):
        yield Problem(
            "auth_role",
            s.auth_role,
            "a role whose ARN is known at synthesis with {replica_region} (the replica stack names it)",
        )


@rule(
    StorageSettings,
    "replica_region",
    "replica_object_lock_mode",
    "replica_object_lock_retention_days",
    "object_lock_mode",
    "object_lock_retention_days",
    "retention_days",
)
def _replica_object_lock(s: StorageSettings, env: Environment) -> Iterator[Problem]:
    """S3 UG "Requirements for replication": a locked source needs a locked destination; the reverse is allowed
    ("Enable Object Lock on just the destination bucket, or on both", Object Lock considerations:
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html)."""
    if s.replica_region is None:
        return
    primary = ObjectLockMode(s.object_lock_mode)
    mode, days = effective_replica_lock(s, s.object_lock_mode, s.object_lock_retention_days)
    if primary is not ObjectLockMode.NONE and mode is ObjectLockMode.NONE:
        yield Problem(
            "replica_object_lock_mode",
            s.replica_object_lock_mode,
            '"governance" or "compliance" while {object_lock_mode} locks the primary: S3 replicates from an Object '
            "Lock bucket only into an Object Lock bucket",
        )
        return
    if mode is ObjectLockMode.NONE and s.replica_object_lock_retention_days is not None:
        yield Problem(
            "replica_object_lock_retention_days",
            s.replica_object_lock_retention_days,
            "unset unless the replica is locked ({replica_object_lock_mode})",
        )
    if mode is not ObjectLockMode.NONE and days is None:
        yield Problem(
            "replica_object_lock_retention_days", None, "set when {replica_object_lock_mode} locks the replica"
        )
    if days is not None and s.retention_days is not None and s.retention_days < days:
        yield Problem(
            "retention_days",
            s.retention_days,
            f"at least the replica's Object Lock retention ({days} days): the replica has the primary's lifecycle, "
            "and S3 cannot expire a locked version",
        )
    if primary is not ObjectLockMode.NONE:
        yield warning(
            "object_lock_mode",
            s.object_lock_mode,
            "replication from an Object Lock bucket: S3 has required an Object Lock token from AWS Support to put a "
            "replication configuration on such a bucket, and CloudFormation cannot pass one; whether it still does "
            "could not be verified: if the deploy fails with 'Replication configuration cannot be applied to an "
            "Object Lock enabled bucket' it rolls back, and a lock on the replica alone (replicaObjectLockMode) is "
            "the path S3 documents without a token (docs/REPLICATION.md)",
            code="teleport-recordings:replicationFromLockedBucket",
        )
    elif mode is ObjectLockMode.COMPLIANCE:
        yield warning(
            "replica_object_lock_mode",
            s.replica_object_lock_mode,
            f"compliance mode cannot be undone: for {days} days after each replica version is written nobody, the "
            "replica account's root included, can delete it or shorten its retention",
            code="teleport-recordings:objectLockCompliance",
        )


@rule(StorageSettings, "replica_region", "replica_account")
def _replica_in_the_stack_account(s: StorageSettings, env: Environment) -> Iterator[Problem]:
    """A replica in another account needs a bucket policy and identity policies on both sides that this release
    does not build yet (docs/REPLICATION.md, "Not built yet"): refused rather than deployed half-working."""
    if s.replica_region is None or s.replica_account is None or env.account is None:
        return
    if s.replica_account != env.account:
        yield Problem(
            "replica_account",
            s.replica_account,
            f"unset or the stack's account {env.account}: a replica in another account is not supported yet (the "
            "replica bucket policy and the cross-account key statements it needs are not built)",
        )


@rule(StorageSettings, "replica_region", "replica_account", "replica_key_admins")
def _replica_key_admins_in_the_replica_account(s: StorageSettings, env: Environment) -> Iterator[Problem]:
    account = s.replica_account or env.account
    if s.replica_region is None or account is None:
        return
    for arn in principal_arns(s.replica_key_admins, env):
        principal = arns.parse_iam_principal(arn)
        if principal is not None and principal.account != account:
            yield Problem(
                "replica_key_admins",
                arn,
                f"a principal of the replica's account {account}: KMS ignores administrative actions of another "
                "account's principals",
            )


@rule(AppSettings, "replica_region", "replica_account", "account", "organization_id", "management_account")
def _a_replica_account_needs_the_organization(s: AppSettings, env: Environment) -> Iterator[Problem]:
    """Across accounts the replica's key and bucket policies admit the primary's roles only while the primary
    account is in the organization (``aws:PrincipalOrgID``), so the organization must be named."""
    if s.replica_region is None or s.replica_account is None or s.replica_account == s.account:
        return
    if s.organization_id is None:
        yield Problem(
            "organization_id",
            None,
            "set with {replica_account} (another account than {account}): the replica's key and bucket policies "
            "admit the primary account's roles only while it is in this organization (aws:PrincipalOrgID)",
        )
    if s.management_account is not None and s.replica_account == s.management_account:
        yield Problem(
            "replica_account",
            s.replica_account,
            "another account than {management_account}: SCPs and RCPs never protect the management account's resources",
        )
