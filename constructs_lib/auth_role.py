"""The IAM role Teleport auth nodes run as, with exactly the S3 access Teleport needs."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib.access_policy import RecordingsAccessPolicy as RecordingsAccessPolicy  # and its old import path
from constructs_lib.core import arns
from constructs_lib.core.kinds import principal_arn
from constructs_lib.core.settings import AuthSettings, AuthTrust
from constructs_lib.private.construction import check_settings, removed_on_failure, settings_as_keywords, settings_of
from constructs_lib.private.environment import environment_of


def _pod_identity_principal(service_account: str, pod_identity_role_arn: str | None) -> iam.IPrincipal:
    """EKS Pod Identity, or its role chaining into this role (the association's ``targetRoleArn``).

    Pod Identity assumes the role with session tags naming the pod's namespace and service account:
    require them, so other pods' associations cannot use this role. With role chaining, Pod Identity
    first assumes ``pod_identity_role_arn`` (in the EKS cluster's account), then this role with those
    credentials and the same tags; the trust names that role as its account root with
    ``aws:PrincipalArn``, as AWS's example does, so it deploys before the role exists (EKS User Guide,
    "Access AWS Resources using EKS Pod Identity Target IAM Roles",
    https://docs.aws.amazon.com/eks/latest/userguide/pod-id-assign-target-role.html).
    """
    namespace, name = service_account.split(":", 1)
    tags = {
        "aws:RequestTag/kubernetes-namespace": namespace,
        "aws:RequestTag/kubernetes-service-account": name,
    }
    if pod_identity_role_arn is None:
        return iam.SessionTagsPrincipal(
            iam.ServicePrincipal("pods.eks.amazonaws.com").with_conditions({"StringEquals": tags})
        )
    _, partition, _, _, account, _ = pod_identity_role_arn.split(":", 5)
    chained = iam.ArnPrincipal(f"arn:{partition}:iam::{account}:root").with_conditions(
        {"StringEquals": tags, "ArnEquals": {"aws:PrincipalArn": pod_identity_role_arn}}
    )
    return iam.SessionTagsPrincipal(chained)


def _assumed_by(
    trust: AuthTrust,
    trusted_arn: str | None,
    oidc_provider_arn: str | None,
    service_account: str,
    pod_identity_role_arn: str | None = None,
) -> iam.IPrincipal:
    if trust == AuthTrust.EC2:
        return iam.ServicePrincipal("ec2.amazonaws.com")
    if trust == AuthTrust.POD_IDENTITY:
        return _pod_identity_principal(service_account, pod_identity_role_arn)
    if trust == AuthTrust.IRSA:
        parsed = arns.parse_oidc_provider(oidc_provider_arn or "")
        if parsed is None:  # the rules have refused this already
            raise ValueError(f"not an OIDC provider ARN: {oidc_provider_arn!r}")
        provider, issuer = parsed
        return iam.WebIdentityPrincipal(
            provider.arn,
            {
                "StringEquals": {
                    f"{issuer}:sub": f"system:serviceaccount:{service_account}",
                    f"{issuer}:aud": "sts.amazonaws.com",
                }
            },
        )
    if trusted_arn is None:  # the rules have refused this already
        raise ValueError("principal trust needs the trusted principal's ARN")
    return iam.ArnPrincipal(trusted_arn)


@dataclass(frozen=True, kw_only=True)
class AuthNodeRoleProps(AuthSettings):
    """The keywords of ``AuthNodeRole`` for type checkers: its own, and every setting or ``settings``."""

    bucket_arn: str
    recordings_prefix: str
    settings: AuthSettings | None = None


class AuthNodeRole(Construct):
    """The role of Teleport's auth service: S3 access to the recordings, trusted by EC2, EKS or a principal."""

    @settings_as_keywords(AuthNodeRoleProps, settings=AuthSettings)
    @removed_on_failure
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket_arn: str,
        recordings_prefix: str,
        settings: AuthSettings | None = None,
    ) -> None:
        """
        :param bucket_arn: the recordings bucket.
        :param recordings_prefix: the key prefix Teleport writes under (no leading slash).
        :param settings: ``auth_trust`` (default ``ec2``, with an instance profile), ``auth_principal``,
            ``oidc_provider_arn`` and ``service_account`` (see ``AuthSettings``), or each as a keyword. Default:
            all defaults.
        """
        super().__init__(scope, id)
        settings = settings_of(settings, AuthSettings)
        env = environment_of(self)
        check_settings(self, settings, env)
        self.trust = AuthTrust(settings.auth_trust)
        self.role = iam.Role(
            self,
            "Resource",
            assumed_by=_assumed_by(
                self.trust,
                principal_arn(settings.auth_principal, env),
                settings.oidc_provider_arn,
                settings.service_account,
                settings.pod_identity_role_arn,
            ),
            role_name=settings.auth_role_name,
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
