"""Where the bundled app deploys: its account and region (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from constructs_lib.core.kinds import Text
from constructs_lib.core.settings.model import Spec, _Settings, setting
from constructs_lib.core.settings.values import account_rule, region_rule


@dataclass(frozen=True, kw_only=True)
class StackSettings(_Settings):
    """Where the bundled app deploys."""

    heading: ClassVar[str] = "Where the stack deploys"

    account: str | None = setting(
        None,
        Spec(
            "account",
            Text("12-digit account id", account_rule, optional=True),
            "The account the stack is for.",
            default_doc="`CDK_DEFAULT_ACCOUNT` (the CDK CLI sets it from your credentials), else an "
            "account-agnostic template",
        ),
    )
    region: str | None = setting(
        None,
        Spec(
            "region",
            Text("region name", region_rule, optional=True),
            "The region the stack is for; `make synth` prints which region it used and where it came from.",
            cli="--region",
            default_doc="`CDK_DEFAULT_REGION` (the CDK CLI sets it from your AWS profile, or to `us-east-1` when "
            "no profile names one)",
        ),
    )

    @classmethod
    def _environment_defaults(cls, environ: Mapping[str, str]) -> dict[str, tuple[str, str | None]]:
        return {
            "account": ("CDK_DEFAULT_ACCOUNT", environ.get("CDK_DEFAULT_ACCOUNT")),
            "region": ("CDK_DEFAULT_REGION", environ.get("CDK_DEFAULT_REGION")),
        }
