"""The organization guardrails stack: an SCP and an RCP, deployed to the management account.

It names what the recordings stack created (auth role, key alias, bucket) from the same settings, since
it cannot read another account's stack outputs. Deploy the recordings stack first (README: Organization
guardrails).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_organizations as organizations
from constructs import Construct

from constructs_lib.core import arns, cluster_guardrails, clusters, guardrails, naming, replication
from constructs_lib.core.kinds import principal_arn, principal_arns
from constructs_lib.core.settings import AppSettings, AuthTrust, InvalidSettingsError, Problem
from constructs_lib.core.settings.clusters import cluster_env
from constructs_lib.core.template import GUARDRAILS_METADATA

GUARDRAILS_STACK_NAME = "TeleportSessionRecordingsGuardrails"

#: The one service the auth role may still be passed to, by its trust.
_TRUSTED_SERVICE = {AuthTrust.EC2: "ec2.amazonaws.com", AuthTrust.POD_IDENTITY: "pods.eks.amazonaws.com"}


def guarded_design(settings: AppSettings, qualifier: str) -> guardrails.GuardedDesign:
    """What the guardrails protect, named from the settings alone (they are validated: all concrete)."""
    env = settings.environment()
    account, region = settings.account or "", settings.region or ""
    partition = env.partition or "aws"
    existing = principal_arn(settings.auth_role, env)
    auth_role = existing or f"arn:{partition}:iam::{account}:role/{settings.auth_role_name}"
    given_deploy_role = principal_arn(settings.deploy_role, env)
    deploy_role = given_deploy_role or _bootstrap_deploy_role(qualifier, partition, account, region)
    # With a replica, the role the replica stack deploys with administers the replica key, which the key
    # statements find by the same alias: exempt it too, or the SCP would stop the replica stack's updates. A
    # given deployRoleArn deploys both stacks (IAM roles are global).
    names = replication.replication_names(settings.storage(), env) if settings.replica_region else None
    replica_deployer: tuple[str, ...] = ()
    if names is not None and given_deploy_role is None:
        replica_deployer = (_bootstrap_deploy_role(qualifier, partition, account, names.replica_region),)
    service = None if existing else _TRUSTED_SERVICE.get(AuthTrust(settings.auth_trust))
    if existing and settings.auth_trust == AuthTrust.EC2:
        service = "ec2.amazonaws.com"  # an existing role's trust is unknown: EC2 is the common case (README)
    return guardrails.GuardedDesign(
        partition=partition,
        account=account,
        auth_role_arn=auth_role,
        auth_role_service=service,
        key_alias=settings.key_alias or naming.KEY_ALIAS,
        bucket_name=settings.bucket_name or naming.default_bucket_name(account, region),
        prefix=settings.recordings_prefix,
        exempt_principal_arns=(*principal_arns(settings.break_glass_principals, env), deploy_role, *replica_deployer),
        organization_id=settings.organization_id or "",
        replication_role_arn=names.replication_role_arn if names is not None else None,
        replica_bucket_name=names.replica_bucket if names is not None else None,
    )


def cluster_guarded_design(settings: AppSettings, qualifier: str) -> cluster_guardrails.ClusterGuardedDesign:
    """With ``clusters``: the recordings account's key and bucket, and each cluster's role in its workload account,
    every name from the settings (``clusters.plan``, as the organization stacks name them)."""
    env = settings.environment()
    layout = clusters.plan(settings, env)
    given_deploy_role = principal_arn(settings.deploy_role, env)
    deploy_role = given_deploy_role or _bootstrap_deploy_role(
        qualifier, layout.partition, layout.account, layout.region
    )
    storage = guardrails.GuardedDesign(
        partition=layout.partition,
        account=layout.account,
        auth_role_arn="",
        auth_role_service=None,
        key_alias=layout.key_alias,
        bucket_name=layout.bucket_name,
        prefix=layout.recordings_prefix,
        exempt_principal_arns=(*principal_arns(settings.break_glass_principals, env), deploy_role),
        organization_id=settings.organization_id or "",
    )
    roles = []
    for cluster in layout.clusters:
        # The workload stack deploys with its account's bootstrap execution role (organization_stacks.WorkloadStack).
        workload_deployer = _bootstrap_deploy_role(qualifier, layout.partition, cluster.account, layout.region)
        trust = cluster.trust
        service = "ec2.amazonaws.com" if cluster.existing and trust == AuthTrust.EC2 else None
        if not cluster.existing:
            service = _TRUSTED_SERVICE.get(trust)
        break_glass = principal_arns(cluster.settings.break_glass_principals, cluster_env(cluster.settings, env))
        roles.append(
            cluster_guardrails.GuardedRole(
                cluster=cluster.name,
                arn=cluster.role_arn,
                account=cluster.account,
                service=service,
                exempt_principal_arns=tuple(dict.fromkeys((*break_glass, workload_deployer))),
            )
        )
    return cluster_guardrails.ClusterGuardedDesign(
        storage=storage, roles=tuple(roles), accounts=(layout.account, *layout.accounts())
    )


def _bootstrap_deploy_role(qualifier: str, partition: str, account: str, region: str) -> str:
    """The CloudFormation execution role ``cdk bootstrap`` creates in ``region``."""
    return (
        cdk.DefaultStackSynthesizer.DEFAULT_CLOUDFORMATION_ROLE_ARN.replace("${Qualifier}", qualifier)
        .replace("${AWS::Partition}", partition)
        .replace("${AWS::AccountId}", account)
        .replace("${AWS::Region}", region)
    )


class GuardrailsStack(cdk.Stack):
    """An SCP (as many documents as the 5,120-character limit needs) and an RCP, attached to the targets."""

    def __init__(self, scope: Construct, id: str, *, settings: AppSettings, **kwargs: Any) -> None:
        kwargs.setdefault("env", cdk.Environment(account=settings.management_account, region=settings.region))
        kwargs.setdefault("termination_protection", True)
        kwargs.setdefault(
            "description",
            "Teleport session recordings: organization guardrails for the recordings account"
            + (" and the clusters' workload accounts" if settings.clusters else "")
            + " (SCP, RCP)",
        )
        super().__init__(scope, id, **kwargs)
        qualifier = self.node.try_get_context("@aws-cdk/core:bootstrapQualifier")
        qualifier = qualifier if isinstance(qualifier, str) else cdk.DefaultStackSynthesizer.DEFAULT_QUALIFIER
        targets = list(settings.guardrail_target_ids)
        if settings.clusters:
            self._organization_layout(settings, qualifier, targets)
            return
        self.design = guarded_design(settings, qualifier)
        self.node.add_metadata(
            GUARDRAILS_METADATA,
            {
                "account": self.design.account,
                "bucketName": self.design.bucket_name,
                "keyAlias": self.design.key_alias,
                "authRoleArn": self.design.auth_role_arn,
                "authRoleService": self.design.auth_role_service,
                "exemptPrincipalArns": list(self.design.exempt_principal_arns),
                "organizationId": self.design.organization_id,
                "managementAccount": self.account,
            },
        )
        try:
            scps = guardrails.documents(guardrails.scp_statements(self.design))
            rcps = guardrails.documents(guardrails.rcp_statements(self.design))
        except ValueError as error:
            raise InvalidSettingsError(
                [Problem("break_glass_principals", list(settings.break_glass_principals), str(error))],
                settings.label(),
                settings.spelling,
            ) from None
        self.policies = [
            *self._policies("ProtectRecordings", "SERVICE_CONTROL_POLICY", scps, targets),
            *self._policies("RecordingsPerimeter", "RESOURCE_CONTROL_POLICY", rcps, targets),
        ]

    def _organization_layout(self, settings: AppSettings, qualifier: str, targets: list[str]) -> None:
        """The SCP over the recordings account and every workload account, and the RCP over the key and bucket."""
        self.cluster_design = cluster_guarded_design(settings, qualifier)
        self.design = storage = self.cluster_design.storage
        # Where the SCP applies, as the proofs take it: the target accounts when the targets are accounts (the
        # settings require every account of the layout among them), else the layout's accounts (under an OU or the
        # root: not checkable offline, README).
        accounts = self.cluster_design.accounts
        scp_accounts = [t for t in targets if t in accounts] if all(arns.is_account(t) for t in targets) else accounts
        self.node.add_metadata(
            GUARDRAILS_METADATA,
            {
                "account": storage.account,
                "bucketName": storage.bucket_name,
                "keyAlias": storage.key_alias,
                "exemptPrincipalArns": list(storage.exempt_principal_arns),
                "organizationId": storage.organization_id,
                "managementAccount": self.account,
                "scpAccounts": list(scp_accounts),
                "organizationAccounts": [*accounts, self.account],
                "clusters": [
                    {
                        "name": role.cluster,
                        "authRoleArn": role.arn,
                        "authRoleService": role.service,
                        "exemptPrincipalArns": list(role.exempt_principal_arns),
                    }
                    for role in self.cluster_design.roles
                ],
            },
        )
        try:
            scps = cluster_guardrails.scp_documents(self.cluster_design)
            rcps = guardrails.documents(guardrails.rcp_statements(storage))
        except ValueError as error:
            raise InvalidSettingsError(
                [Problem("clusters", [c.name for c in settings.clusters], str(error))],
                settings.label(),
                settings.spelling,
            ) from None
        self.policies = [
            *self._policies("ProtectRecordings", "SERVICE_CONTROL_POLICY", scps, targets),
            *self._policies("RecordingsPerimeter", "RESOURCE_CONTROL_POLICY", rcps, targets),
        ]

    def _policies(
        self, id: str, kind: str, documents: list[guardrails.Document], targets: list[str]
    ) -> list[organizations.CfnPolicy]:
        made = []
        for index, document in enumerate(documents, start=1):
            suffix = "" if len(documents) == 1 else str(index)
            made.append(
                organizations.CfnPolicy(
                    self,
                    f"{id}{suffix}",
                    name=f"teleport-recordings-{id.lower()}{suffix}",
                    type=kind,
                    content=document,
                    target_ids=targets,
                    description=f"Teleport session recordings: {id} ({guardrails.size(document)} characters)",
                )
            )
            cdk.CfnOutput(self, f"{id}{suffix}Id", value=made[-1].attr_id)
        return made
