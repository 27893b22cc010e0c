"""Where AWS Organizations guardrails apply: the rules the evaluator and the z3 encoding share.

SCPs and RCPs never grant; they only take away (AWS Organizations User Guide, "Service control
policies (SCPs)", "Resource control policies (RCPs)"). The prover assumes AWS's ``FullAWSAccess``
SCP is attached at every level, so a request is refused by the guardrails exactly when a Deny
statement of an applicable SCP or RCP matches it:

* an SCP applies to the requests of the IAM users, roles and root users of the accounts it is
  attached to, except principals of the management account and service-linked roles; never to AWS
  service principals or anonymous requests (they belong to no account);
* an RCP applies to requests on the resources of the accounts it is attached to, from any principal
  (in or outside the organization, anonymous and AWS services included), except resources of the
  management account, AWS managed KMS keys, calls made by service-linked roles and the
  ``kms:RetireGrant`` permission; and only for the services RCPs support (of those the prover
  models, S3 and KMS, not IAM).

An SCP Allow statement other than ``FullAWSAccess`` itself means an allow list, where the other
levels of the organization might not allow the request: that is not modelled (an unknown).
RCP Allow statements never matter: ``RCPFullAWSAccess`` is attached at every level and cannot be
detached ("RCP evaluation").
"""

from __future__ import annotations

from collections.abc import Iterable

from constructs_lib.core.prover.parse import Effect, Guardrails, Policy, Statement

#: A service-linked role's path (IAM User Guide, "Service-linked role"): ``role/aws-service-role/...``.
SERVICE_LINKED_PATH = "aws-service-role/"

#: Of the services the prover models, those RCPs apply to (Organizations, "List of AWS services
#: that support RCPs": S3 and KMS are listed, IAM is not).
RCP_SERVICES = frozenset({"kms", "s3"})

#: Permissions RCPs do not affect (Organizations, "Resources and entities not restricted by RCPs").
RCP_EXEMPT_ACTIONS = frozenset({"kms:retiregrant"})


def is_service_linked_role(arn: str) -> bool:
    """Whether a role ARN is a service-linked role's (its path starts with ``/aws-service-role/``)."""
    _, found, resource = arn.partition(":role/")
    return bool(found) and resource.startswith(SERVICE_LINKED_PATH)


def is_full_aws_access(statement: Statement) -> bool:
    """The ``FullAWSAccess`` statement: Allow every action on every resource, without conditions."""
    return (
        statement.effect is Effect.ALLOW
        and not statement.not_action
        and not statement.not_resource
        and "*" in statement.actions
        and "*" in statement.resources
        and not statement.conditions
    )


def allow_list(policies: Iterable[Policy]) -> list[Statement]:
    """The SCP Allow statements that make an allow list (everything but ``FullAWSAccess``)."""
    statements = [s for p in policies for s in p.statements]
    return [s for s in statements if s.effect is Effect.ALLOW and s.effective and not is_full_aws_access(s)]


def rcps_cover(guardrails: Guardrails, *, service: str, resource_account: str) -> bool:
    """Whether the RCPs can apply to a request of ``service`` on a resource of ``resource_account``
    (the key, for ``kms``; the principal and the action are the callers' to decide)."""
    if not guardrails.rcps or service not in RCP_SERVICES or resource_account not in guardrails.rcp_accounts:
        return False
    return not (service == "kms" and guardrails.aws_managed_key)
