"""The bundled app's settings: one storage, where its stack deploys, and the guardrails (pure)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from constructs_lib.core import arns
from constructs_lib.core.kinds import Environment
from constructs_lib.core.problems import Problem, warning
from constructs_lib.core.settings.clusters import ClusterSettings
from constructs_lib.core.settings.existing_bucket import ExistingBucketSettings
from constructs_lib.core.settings.guardrails import GuardrailSettings
from constructs_lib.core.settings.model import rule, specs
from constructs_lib.core.settings.stack import StackSettings
from constructs_lib.core.settings.storage import StorageSettings


@dataclass(frozen=True, kw_only=True)
class AppSettings(StorageSettings, ExistingBucketSettings, StackSettings, GuardrailSettings, ClusterSettings):
    """The bundled app's settings: one storage, and where its stack deploys."""

    def storage(self) -> StorageSettings:
        """The storage's share of these settings (same spelling, same parse problems)."""
        made = StorageSettings(**{d.name: getattr(self, d.name) for d in specs(StorageSettings)})
        for name in self._PRIVATE:
            object.__setattr__(made, name, getattr(self, name))
        return made

    def environment(self, **facts: Any) -> Environment:
        """What these settings say about the target (partition, account, region)."""
        region = self.region if self.region and arns.is_region(self.region) else None
        account = self.account if self.account and arns.is_account(self.account) else None
        partition = arns.partition_of_region(region) if region else None
        return Environment(partition=partition, account=account, region=region, **facts)


@rule(
    AppSettings,
    *[d.name for d in specs(GuardrailSettings)],
    "account",
    "region",
    "auth_role",
    "auth_role_name",
    "clusters",
)
def _guardrails_need_names_both_accounts_know(s: AppSettings, env: Environment) -> Iterator[Problem]:
    if not s.guardrail_target_ids:
        # A replica in another account names the organization too (replica_rules.py).
        cross_account = s.replica_account is not None and s.replica_account != s.account
        for name in ("management_account", "organization_id", "break_glass_principals"):
            if s.given(name) and not (name == "organization_id" and cross_account):
                yield Problem(name, getattr(s, name), "unset unless {guardrail_target_ids} is set")
        return
    needs = "set with {guardrail_target_ids} (the guardrails stack names it in the management account)"
    for name in ("management_account", "organization_id", "account", "region"):
        if getattr(s, name) is None:
            yield Problem(name, None, needs)
    if s.auth_role is None and s.auth_role_name is None and not s.clusters:  # clusters name their roles
        yield Problem(
            "auth_role_name",
            None,
            "set with {guardrail_target_ids} when the auth role is created (or use {auth_role}): the guardrails "
            "stack names it in the management account",
        )
    if s.management_account is not None and s.management_account == s.account:
        yield Problem(
            "management_account",
            s.management_account,
            "another account than {account}: SCPs and RCPs never apply to the management account's own "
            "principals and resources",
        )
    if not s.break_glass_principals:
        yield warning(
            "break_glass_principals",
            s.break_glass_principals,
            "no break-glass principal: only the role CloudFormation deploys with may change the auth role, the key "
            "and the bucket once the guardrails are attached",
            code="teleport-recordings:noBreakGlass",
        )


@rule(AppSettings, "existing_bucket", "bucket_name", "object_lock_mode")
def _an_existing_bucket_is_named_and_imported_as_it_is(s: AppSettings, env: Environment) -> Iterator[Problem]:
    """What CloudFormation resource import cannot do for a bucket that exists already.

    Import finds the bucket by its primary identifier, ``BucketName`` (the AWS::S3::Bucket schema's
    ``primaryIdentifier``). Turning Object Lock on is refused: the schema lets ``ObjectLockEnabled``
    update in place, but a change set in cloudformation-coverage-roadmap issue 1929 required replacing
    the bucket, which a bucket with a fixed name cannot complete (``recordings-kms upgrade-check``
    takes it as a replacement for the same reason).
    """
    if not s.existing_bucket:
        return
    if s.bucket_name is None:
        yield Problem(
            "bucket_name",
            None,
            "set with {existing_bucket}: the name of the bucket that exists (CloudFormation import finds an S3 "
            "bucket by its BucketName)",
        )
    if s.object_lock_mode != "none":
        yield Problem(
            "object_lock_mode",
            s.object_lock_mode,
            '"none" with {existing_bucket}: turning Object Lock on for an existing bucket through CloudFormation is '
            "contested (cloudformation-coverage-roadmap issue 1929: a change set replacing the bucket, which a "
            "bucket with a fixed name cannot complete)",
        )
    yield warning(
        "existing_bucket",
        s.existing_bucket,
        "deploy only after `make import` brought the bucket into the stack (before, the deploy fails: the bucket "
        "exists); the update after the import replaces the bucket's policy, default encryption, lifecycle rules, "
        "logging, versioning, public access block and ownership controls with this package's; objects written "
        "before keep their old encryption (recordings-kms migrate copies them into a fresh bucket under the key)",
        code="teleport-recordings:existingBucketReconfigured",
    )
