"""Everything one ``SessionRecordingsStorage`` takes, and the rules that read two of its groups (pure).

A new group of the storage is a module like ``bucket.py`` (its fields, its README heading and the
rules that read only them) and one more base class of :class:`StorageSettings` below.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from constructs_lib.core import arns
from constructs_lib.core.kinds import Environment, principal_arn, principal_arns, principal_kind
from constructs_lib.core.problems import Problem, Spelling
from constructs_lib.core.settings.alarms import AlarmSettings
from constructs_lib.core.settings.auth import TRUST_SETTINGS, AuthSettings
from constructs_lib.core.settings.bucket import BucketSettings
from constructs_lib.core.settings.key import KeySettings
from constructs_lib.core.settings.model import overlap, rule
from constructs_lib.core.settings.replica import ReplicaSettings
from constructs_lib.core.settings.retention import RetentionSettings


@dataclass(frozen=True, kw_only=True)
class StorageSettings(BucketSettings, KeySettings, AuthSettings, RetentionSettings, AlarmSettings, ReplicaSettings):
    """Everything one ``SessionRecordingsStorage`` takes (``StorageSettings(key_admins=[role], ...)``)."""


@rule(StorageSettings, "auth_role", "denied_principals", "key_admins", "readers")
def _auth_role_is_neither_denied_nor_admin(s: StorageSettings, env: Environment) -> Iterator[Problem]:
    auth = principal_arn(s.auth_role, env)
    if auth is None or env.is_unresolved(auth):
        return
    yield from overlap(
        "denied_principals",
        principal_arns(s.denied_principals, env),
        "auth_role",
        [auth],
        "Teleport could not write or play back recordings",
    )
    yield from overlap(
        "key_admins",
        principal_arns(s.key_admins, env),
        "auth_role",
        [auth],
        "in rfd mode a key admin gets kms:*, in separated mode key administration: the auth role needs neither",
    )
    yield from overlap(
        "readers", principal_arns(s.readers, env), "auth_role", [auth], "the auth role already reads recordings"
    )


@rule(StorageSettings, "auth_role")
def _auth_principal_is_a_role(s: StorageSettings, env: Environment) -> Iterator[Problem]:
    """What the constructs build for the auth principal (its S3 policy, its tamper alarm, the guardrails) is for a role.

    ``recordings-kms`` (CLI spelling) builds nothing: it judges and prints the policies of deployments
    made elsewhere, RFD 42's own user form included.
    """
    if s.spelling is Spelling.CLI or principal_kind(s.auth_role, env) != "user":
        return
    yield Problem(
        "auth_role",
        principal_arn(s.auth_role, env),
        "an IAM role, not a user: Teleport should run as a role (instance profile, IRSA, Pod Identity) rather than "
        "with a user's long-lived access keys, the compliance packs refuse policies attached to a user "
        "(IAMUserNoPolicies) and the guardrails protect a role only; to keep the user, leave {auth_role} out and let "
        'the user assume the created role ({auth_trust} "principal", {auth_principal} = the user\'s ARN)',
    )


@rule(StorageSettings, "auth_role")
def _auth_role_in_this_account(s: StorageSettings, env: Environment) -> Iterator[Problem]:
    auth = principal_arn(s.auth_role, env)
    if auth is None or env.is_unresolved(auth) or env.account is None:
        return
    principal = arns.parse_iam_principal(auth)
    if principal is not None and principal.account != env.account:
        yield Problem(
            "auth_role",
            auth,
            f"a role in the stack's account {env.account} (the S3 managed policy is attached to it by name)",
        )


@rule(StorageSettings, "auth_role", *TRUST_SETTINGS)
def _trust_settings_only_for_a_created_role(s: StorageSettings, env: Environment) -> Iterator[Problem]:
    if s.auth_role is None:
        return
    for name in TRUST_SETTINGS:
        if s.given(name):
            yield Problem(
                name,
                getattr(s, name),
                "unset when {auth_role} is set (the existing role's trust is not managed here)",
            )


@rule(StorageSettings, "access_logs_bucket", "bucket_name")
def _log_bucket_is_another_bucket(s: StorageSettings, env: Environment) -> Iterator[Problem]:
    logs = s.access_logs_bucket
    if isinstance(logs, str) and logs == s.bucket_name:
        yield Problem("access_logs_bucket", logs, "a bucket other than {bucket_name}")


@rule(StorageSettings, "key_admins", "denied_principals", "readers", "deploy_role", "auth_role", "auth_principal")
def _one_partition(s: StorageSettings, env: Environment) -> Iterator[Problem]:
    """Without a known stack partition, every ARN must at least share one partition."""
    if env.partition is not None:
        return
    seen: dict[str, str] = {}
    for name in ("auth_role", "deploy_role", "auth_principal"):
        arn = principal_arn(getattr(s, name), env)
        if arn is not None and not env.is_unresolved(arn):
            seen.setdefault(name, arn)
    for name in ("key_admins", "denied_principals", "readers"):
        for arn in principal_arns(getattr(s, name), env):
            seen.setdefault(name, arn)
    partitions = {name: arn.split(":")[1] for name, arn in seen.items() if arn.count(":") >= 5}
    if len(set(partitions.values())) > 1:
        first = next(iter(partitions))
        for name, partition in partitions.items():
            if partition != partitions[first]:
                yield Problem(
                    name,
                    seen[name],
                    f"an ARN in the same partition as {{{first}}} ({partitions[first]!r}), not {partition!r}",
                )


@rule(StorageSettings, "access_log_retention_days", "access_logs_bucket")
def _log_retention_only_for_a_created_log_bucket(s: StorageSettings, env: Environment) -> Iterator[Problem]:
    if s.access_logs_bucket is not None and s.given("access_log_retention_days"):
        yield Problem(
            "access_log_retention_days",
            s.access_log_retention_days,
            "unset when {access_logs_bucket} is set (that bucket's lifecycle is its owner's)",
        )
