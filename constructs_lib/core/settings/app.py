"""The bundled app's settings: one storage, where its stack deploys, and the guardrails (pure)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from constructs_lib.core import arns
from constructs_lib.core.kinds import Environment
from constructs_lib.core.problems import Problem, warning
from constructs_lib.core.settings.clusters import ClusterSettings
from constructs_lib.core.settings.guardrails import GuardrailSettings
from constructs_lib.core.settings.model import rule, specs
from constructs_lib.core.settings.stack import StackSettings
from constructs_lib.core.settings.storage import StorageSettings


@dataclass(frozen=True, kw_only=True)
class AppSettings(StorageSettings, StackSettings, GuardrailSettings, ClusterSettings):
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


@rule(AppSettings, *[d.name for d in specs(GuardrailSettings)], "account", "region", "auth_role", "auth_role_name")
def _guardrails_need_names_both_accounts_know(s: AppSettings, env: Environment) -> Iterator[Problem]:
    if not s.guardrail_target_ids:
        for name in ("management_account", "organization_id", "break_glass_principals"):
            if s.given(name):
                yield Problem(name, getattr(s, name), "unset unless {guardrail_target_ids} is set")
        return
    needs = "set with {guardrail_target_ids} (the guardrails stack names it in the management account)"
    for name in ("management_account", "organization_id", "account", "region"):
        if getattr(s, name) is None:
            yield Problem(name, None, needs)
    if s.auth_role is None and s.auth_role_name is None:
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
