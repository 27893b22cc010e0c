"""The organization guardrails' settings (pure); their rule reads the stack's too, so it is ``app.py``'s."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from constructs_lib.core.kinds import PrincipalInput, PrincipalList, Text, TextList
from constructs_lib.core.settings.model import Spec, _Settings, setting
from constructs_lib.core.settings.values import account_rule, organization_id_rule, target_id_rule


@dataclass(frozen=True, kw_only=True)
class GuardrailSettings(_Settings):
    """Organization guardrails (SCP and RCP), deployed by the bundled app to the management account."""

    heading: ClassVar[str] = "Organization guardrails"

    guardrail_target_ids: Sequence[str] = setting(
        (),
        Spec(
            "guardrailTargetIds",
            TextList("list of root/OU/account ids", target_id_rule),
            "Creates the `TeleportSessionRecordingsGuardrails` stack: an SCP and an RCP attached to these targets "
            "(the recordings account, its OU or the organization root; with `clusters`, covering every cluster's "
            "account too).",
            default_doc="none (no guardrails stack)",
        ),
    )
    management_account: str | None = setting(
        None,
        Spec(
            "managementAccount",
            Text("12-digit account id", account_rule, optional=True),
            "The Organizations management account (or a delegated administrator) the guardrails stack deploys to.",
            default_doc="none",
        ),
    )
    organization_id: str | None = setting(
        None,
        Spec(
            "organizationId",
            Text("organization id", organization_id_rule, optional=True),
            "The organization whose principals alone may use the key and the bucket (the RCP's aws:PrincipalOrgID).",
            default_doc="none",
        ),
    )
    break_glass_principals: Sequence[PrincipalInput] = setting(
        (),
        Spec(
            "breakGlassPrincipalArns",
            PrincipalList(),
            "Roles or users the guardrails leave able to change the auth role, the key and the bucket (with the role "
            "CloudFormation deploys with). Keep them few, and alarm on their use. With `clusters`: principals of "
            "the recordings account, for the key and the bucket (each cluster has its own).",
            default_doc="none",
        ),
    )
