"""The organization guardrails of the organization layout as plain data (pure): one SCP over both sides.

In one account the SCP protects the auth role, the key and the bucket of that account
(``constructs_lib.core.guardrails``). With ``clusters`` the key and the bucket are in the recordings
account and each cluster's auth role is in its workload account, so the same SCP, attached above all
of them, says both: the key's, alias's, bucket's and recordings' statements as in one account (exempting
the recordings account's break-glass principals and the role its stack deploys with), and for each
cluster role the one-account role statements (no change to it, ``iam:PassRole`` only to its trust's
service, into no other instance profile), exempting that cluster's break-glass principals and the role
its workload stack deploys with. An exemption is by ``aws:PrincipalArn``, which carries the account, so a
break-glass principal is one in its own account only.

Organizations limits a policy to 5,120 characters and attaches at most five SCPs to one root, OU or
account, ``FullAWSAccess`` among them (AWS Organizations User Guide, "Quotas and service limits":
https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html): the statements
are packed into as few documents as fit, and more than ``SCP_DOCUMENTS_LIMIT`` is refused at synthesis.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs_lib.core import guardrails

#: SCPs one target may carry besides ``FullAWSAccess`` (five at most per root, OU or account).
SCP_DOCUMENTS_LIMIT = 4


@dataclass(frozen=True)
class GuardedRole:
    """One cluster's auth role, as the SCP protects it."""

    cluster: str
    arn: str
    #: The workload account the role is in.
    account: str
    #: The service its trust names (the one ``iam:PassRole`` target left); None: none.
    service: str | None
    #: The cluster's break-glass principals and the role its workload stack deploys with.
    exempt_principal_arns: tuple[str, ...]

    @property
    def sid_suffix(self) -> str:
        """``ProdEu`` for ``prod-eu``: statement ids are alphanumeric."""
        return "".join(part.capitalize() for part in self.cluster.split("-"))


@dataclass(frozen=True)
class ClusterGuardedDesign:
    """The recordings account's key and bucket (``storage``: its ``auth_role_arn`` is empty) and every cluster role."""

    storage: guardrails.GuardedDesign
    roles: tuple[GuardedRole, ...]
    #: The accounts the SCP must reach: the recordings account and every workload account.
    accounts: tuple[str, ...]


def scp_statements(design: ClusterGuardedDesign) -> list[guardrails.Statement]:
    """Each cluster role's statements, then the key's and the bucket's (``guardrails.resource_statements``)."""
    statements: list[guardrails.Statement] = []
    partition = design.storage.partition
    for role in design.roles:
        statements += guardrails.role_statements(
            role.arn,
            role.service,
            guardrails.exempting(role.exempt_principal_arns),
            f"arn:{partition}:ec2:*:{role.account}:instance/*",
            sid_suffix=role.sid_suffix,
        )
    return [*statements, *guardrails.resource_statements(design.storage)]


def scp_documents(design: ClusterGuardedDesign) -> list[guardrails.Document]:
    """The SCP documents; ``ValueError`` (one line, naming the count) when one target could not carry them."""
    documents = guardrails.documents(scp_statements(design))
    if len(documents) > SCP_DOCUMENTS_LIMIT:
        sizes = ", ".join(str(guardrails.size(d)) for d in documents)
        raise ValueError(
            f"the SCP protecting {len(design.roles)} cluster roles needs {len(documents)} policies of at most "
            f"{guardrails.POLICY_SIZE_LIMIT} characters ({sizes}), over the {SCP_DOCUMENTS_LIMIT} a root, OU or "
            "account can carry besides FullAWSAccess (Organizations attaches at most 5): fewer clusters or "
            "break-glass principals per guardrails stack"
        )
    return documents
