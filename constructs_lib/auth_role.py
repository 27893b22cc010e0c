"""The IAM role Teleport auth nodes run as, with exactly the S3 access Teleport needs."""

from __future__ import annotations

from enum import StrEnum

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib import compliance
from constructs_lib.core import policies, validation
from constructs_lib.core.validation import Problem

DEFAULT_SERVICE_ACCOUNT = "teleport:teleport"


class AuthTrust(StrEnum):
    """Who may assume the auth role."""

    #: EC2 instances, through an instance profile.
    EC2 = "ec2"
    #: An EKS service account through IAM Roles for Service Accounts (an OIDC provider).
    IRSA = "irsa"
    #: An EKS service account through EKS Pod Identity.
    POD_IDENTITY = "pod-identity"
    #: A given IAM principal ARN.
    PRINCIPAL = "principal"


def check_trust_settings(
    *, trust: str, principal_arn: str | None, oidc_provider_arn: str | None, service_account: str
) -> list[Problem]:
    problems = validation.check_choice("auth_trust", str(trust), [t.value for t in AuthTrust])
    if trust == AuthTrust.PRINCIPAL:
        if principal_arn is None:
            problems.append(Problem("auth_principal_arn", None, "set when {auth_trust} is 'principal'"))
        elif not cdk.Token.is_unresolved(principal_arn):
            problems += validation.check_auth_principal_arn("auth_principal_arn", principal_arn)
    elif principal_arn is not None:
        problems.append(Problem("auth_principal_arn", principal_arn, "unset unless {auth_trust} is 'principal'"))
    if trust == AuthTrust.IRSA:
        if oidc_provider_arn is None:
            problems.append(Problem("oidc_provider_arn", None, "set when {auth_trust} is 'irsa'"))
        elif cdk.Token.is_unresolved(oidc_provider_arn):
            problems.append(
                Problem(
                    "oidc_provider_arn",
                    oidc_provider_arn,
                    "a concrete ARN: its issuer names the trust policy's condition keys",
                )
            )
        else:
            problems += validation.check_oidc_provider_arn("oidc_provider_arn", oidc_provider_arn)
    elif oidc_provider_arn is not None:
        problems.append(Problem("oidc_provider_arn", oidc_provider_arn, "unset unless {auth_trust} is 'irsa'"))
    if trust in (AuthTrust.IRSA, AuthTrust.POD_IDENTITY):
        problems += validation.check_service_account("service_account", service_account)
    return problems


def _assumed_by(
    trust: AuthTrust, principal_arn: str | None, oidc_provider_arn: str | None, service_account: str
) -> iam.IPrincipal:
    if trust == AuthTrust.EC2:
        return iam.ServicePrincipal("ec2.amazonaws.com")
    if trust == AuthTrust.POD_IDENTITY:
        # EKS Pod Identity assumes the role with session tags naming the pod's namespace and
        # service account: require them, so other pods' associations cannot use this role.
        namespace, name = service_account.split(":", 1)
        pods = iam.ServicePrincipal("pods.eks.amazonaws.com").with_conditions(
            {
                "StringEquals": {
                    "aws:RequestTag/kubernetes-namespace": namespace,
                    "aws:RequestTag/kubernetes-service-account": name,
                }
            }
        )
        return iam.SessionTagsPrincipal(pods)
    if trust == AuthTrust.IRSA:
        assert oidc_provider_arn is not None
        issuer = validation.oidc_issuer(oidc_provider_arn)
        return iam.WebIdentityPrincipal(
            oidc_provider_arn,
            {
                "StringEquals": {
                    f"{issuer}:sub": f"system:serviceaccount:{service_account}",
                    f"{issuer}:aud": "sts.amazonaws.com",
                }
            },
        )
    assert principal_arn is not None
    return iam.ArnPrincipal(principal_arn)


class RecordingsAccessPolicy(Construct):
    """A customer managed IAM policy with Teleport's S3 permissions on the bucket and the recordings prefix.

    Attached to the given roles; a managed policy rather than an inline one, so that it can be
    reviewed and reused. It holds no delete action. KMS access is not here: it comes from the key policy.
    """

    def __init__(
        self, scope: Construct, id: str, *, bucket_arn: str, recordings_prefix: str, roles: list[iam.IRole]
    ) -> None:
        super().__init__(scope, id)
        if not cdk.Token.is_unresolved(recordings_prefix):
            validation.raise_if_any(validation.check_prefix("recordings_prefix", recordings_prefix))
        self.policy = iam.ManagedPolicy(
            self,
            "Resource",
            description="Teleport auth service: session recordings in S3 (RFD 42)",
            statements=[
                iam.PolicyStatement.from_json(s)
                for s in policies.auth_s3_policy_statements(bucket_arn=bucket_arn, prefix=recordings_prefix)
            ],
            roles=roles,
        )
        objects_arn = policies.recordings_objects_arn(bucket_arn, recordings_prefix)
        compliance.acknowledge(
            self.policy.node.default_child or self.policy,
            f"AwsSolutions::AwsSolutions-IAM5[Resource::{compliance.nag_resource_string(self, objects_arn)}]",
            compliance.REASON_RECORDINGS_PREFIX_WILDCARD,
        )


class AuthNodeRole(Construct):
    """The role of Teleport's auth service: S3 access to the recordings, trusted by EC2, EKS or a principal."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket_arn: str,
        recordings_prefix: str,
        trust: AuthTrust = AuthTrust.EC2,
        principal_arn: str | None = None,
        oidc_provider_arn: str | None = None,
        service_account: str = DEFAULT_SERVICE_ACCOUNT,
    ) -> None:
        """
        :param bucket_arn: the recordings bucket.
        :param recordings_prefix: the key prefix Teleport writes under (no leading slash).
        :param trust: ``ec2`` (default, with an instance profile), ``irsa``, ``pod-identity`` or ``principal``.
        :param principal_arn: with ``principal``: the IAM principal that may assume the role.
        :param oidc_provider_arn: with ``irsa``: the EKS cluster's IAM OIDC provider ARN.
        :param service_account: with ``irsa``/``pod-identity``: ``namespace:name``. Default: ``teleport:teleport``.
        """
        super().__init__(scope, id)
        validation.raise_if_any(
            check_trust_settings(
                trust=trust,
                principal_arn=principal_arn,
                oidc_provider_arn=oidc_provider_arn,
                service_account=service_account,
            )
        )
        self.trust = AuthTrust(trust)
        self.role = iam.Role(
            self,
            "Resource",
            assumed_by=_assumed_by(self.trust, principal_arn, oidc_provider_arn, service_account),
            description="Teleport auth service: writes and plays back session recordings (RFD 42)",
            max_session_duration=cdk.Duration.hours(1),
        )
        self.access_policy = RecordingsAccessPolicy(
            self, "RecordingsAccess", bucket_arn=bucket_arn, recordings_prefix=recordings_prefix, roles=[self.role]
        )
        self.instance_profile: iam.InstanceProfile | None = None
        if self.trust == AuthTrust.EC2:
            self.instance_profile = iam.InstanceProfile(self, "InstanceProfile", role=self.role)

    @property
    def role_arn(self) -> str:
        return self.role.role_arn
