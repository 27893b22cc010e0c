"""The auth service principal's settings and the rules that read them (pure)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from constructs_lib.core import arns
from constructs_lib.core.kinds import Choice, Environment, Principal, PrincipalInput, Text, principal_arn
from constructs_lib.core.problems import Problem, warning
from constructs_lib.core.settings.model import Spec, _Settings, rule, setting
from constructs_lib.core.settings.values import oidc_provider_rule, role_arn_rule, role_name_rule, service_account_rule


class AuthTrust(StrEnum):
    """Who may assume the auth role the construct creates."""

    #: EC2 instances, through an instance profile.
    EC2 = "ec2"
    #: An EKS service account through IAM Roles for Service Accounts (an OIDC provider).
    IRSA = "irsa"
    #: An EKS service account through EKS Pod Identity.
    POD_IDENTITY = "pod-identity"
    #: A given IAM principal ARN.
    PRINCIPAL = "principal"


@dataclass(frozen=True, kw_only=True)
class AuthSettings(_Settings):
    """The Teleport auth service's principal."""

    heading: ClassVar[str] = "Auth service"

    auth_role: PrincipalInput | None = setting(
        None,
        Spec(
            "existingAuthRoleArn",
            Principal(("role", "user"), doc="IAM role ARN (`recordings-kms`: or user)"),
            "Use this existing role in the stack's account instead of creating one: the key policy names it and the "
            "S3 managed policy is attached to it. The trust settings must then be unset. An IAM user is refused "
            "(long-lived access keys, policies attached to a user, no guardrails): let the user assume the created "
            "role instead (`authTrust=principal`, `authPrincipalArn` = the user). `recordings-kms --auth` also "
            "takes a user, to judge or print the policies of an RFD 42 deployment that uses one.",
            cli="--auth",
            default_doc="a new role (see `authTrust`)",
        ),
    )
    auth_role_name: str | None = setting(
        None,
        Spec(
            "authRoleName",
            Text("IAM role name", role_name_rule, optional=True),
            "The name of the created auth role. The organization guardrails name the role in the management "
            "account, so they need it (or `existingAuthRoleArn`); setting it on a deployed stack replaces the "
            "role (not its recordings).",
            default_doc="a name CloudFormation generates",
        ),
    )
    auth_trust: AuthTrust | str = setting(
        AuthTrust.EC2,
        Spec(
            "authTrust",
            Choice(AuthTrust),
            "Who may assume the created auth role: EC2 (with an instance profile), an EKS service account via its "
            "OIDC provider, EKS Pod Identity (the trust requires the association's `kubernetes-namespace` and "
            "`kubernetes-service-account` session tags, so keep session tags enabled on the association), or "
            "`authPrincipalArn`.",
        ),
    )
    auth_principal: PrincipalInput | None = setting(
        None,
        Spec(
            "authPrincipalArn",
            Principal(("role", "user", "root")),
            "With `authTrust=principal`: who may assume the auth role. An account root, or a principal of another "
            "account, gets a warning: everyone there allowed `sts:AssumeRole` could then read recordings.",
            default_doc="none",
        ),
    )
    oidc_provider_arn: str | None = setting(
        None,
        Spec(
            "oidcProviderArn",
            Text("IAM OIDC provider ARN", oidc_provider_rule, optional=True),
            "With `authTrust=irsa` (required): the EKS cluster's IAM OIDC provider, in the stack's account (IAM "
            "looks it up in the role's own account; for a cluster of another account, create a provider for its "
            "issuer in this one).",
            default_doc="none",
        ),
    )
    pod_identity_role_arn: str | None = setting(
        None,
        Spec(
            "podIdentityRoleArn",
            Text("IAM role ARN", role_arn_rule, optional=True),
            "With `authTrust=pod-identity`: EKS Pod Identity role chaining (the association's `targetRoleArn` is the "
            "auth role): the auth role trusts this role, the association's Pod Identity role in the EKS cluster's "
            "account, with `sts:AssumeRole` and `sts:TagSession` (its account root, `aws:PrincipalArn` = this role, "
            "and the service account's session tags), instead of `pods.eks.amazonaws.com`.",
            default_doc="none: EKS Pod Identity assumes the auth role itself",
        ),
    )
    service_account: str = setting(
        "teleport:teleport",
        Spec(
            "serviceAccount",
            Text("`namespace:name`", service_account_rule),
            "With `irsa` / `pod-identity`: the Kubernetes service account of the auth pods.",
        ),
    )


TRUST_SETTINGS = (
    "auth_trust",
    "auth_principal",
    "oidc_provider_arn",
    "service_account",
    "auth_role_name",
    "pod_identity_role_arn",
)


@rule(AuthSettings, *TRUST_SETTINGS)
def _trust_settings_match_the_trust(s: AuthSettings, env: Environment) -> Iterator[Problem]:
    trust = s.auth_trust
    if trust == AuthTrust.PRINCIPAL:
        if s.auth_principal is None:
            yield Problem("auth_principal", None, 'set when {auth_trust} is "principal"')
        else:
            yield from _trusted_principal_warnings(s, env)
    elif s.auth_principal is not None:
        yield Problem("auth_principal", s.auth_principal, 'unset unless {auth_trust} is "principal"')
    if trust == AuthTrust.IRSA:
        if s.oidc_provider_arn is None:
            yield Problem("oidc_provider_arn", None, 'set when {auth_trust} is "irsa"')
        elif env.is_unresolved(s.oidc_provider_arn):
            yield Problem(
                "oidc_provider_arn",
                s.oidc_provider_arn,
                "a concrete ARN: its issuer names the trust policy's condition keys",
            )
        else:
            yield from _oidc_provider_in_the_roles_account(s.oidc_provider_arn, env)
    elif s.oidc_provider_arn is not None:
        yield Problem("oidc_provider_arn", s.oidc_provider_arn, 'unset unless {auth_trust} is "irsa"')
    if s.pod_identity_role_arn is not None and trust != AuthTrust.POD_IDENTITY:
        yield Problem(
            "pod_identity_role_arn",
            s.pod_identity_role_arn,
            'unset unless {auth_trust} is "pod-identity" (it names the Pod Identity role chaining into the auth role)',
        )


def _oidc_provider_in_the_roles_account(provider_arn: str, env: Environment) -> Iterator[Problem]:
    """IAM resolves a web-identity trust's provider in the role's own account (the stack's, for the created role).

    For a cluster of another account, that account's issuer gets an IAM OIDC provider in the role's
    account (EKS User Guide, "Authenticate to another account with IRSA":
    https://docs.aws.amazon.com/eks/latest/userguide/cross-account-access.html).
    """
    parsed = arns.parse_oidc_provider(provider_arn)
    if parsed is None or env.account is None or parsed[0].account == env.account:
        return
    yield Problem(
        "oidc_provider_arn",
        provider_arn,
        f"an IAM OIDC provider of the stack's account {env.account}, where the auth role is created (IAM looks a "
        f"web-identity trust's provider up in the role's own account, so a provider of account {parsed[0].account} "
        f"never matches): for a cluster of another account, create an OIDC provider for its issuer in {env.account}",
    )


def _trusted_principal_warnings(s: AuthSettings, env: Environment) -> Iterator[Problem]:
    arn = principal_arn(s.auth_principal, env)
    principal = arns.parse_iam_principal(arn) if arn is not None and not env.is_unresolved(arn) else None
    if principal is None:
        return
    consequence = "everyone there allowed sts:AssumeRole on the auth role can read every recording"
    if principal.kind == "root":
        yield warning(
            "auth_principal",
            arn,
            f"trusting an account root delegates the auth role to IAM policies of account {principal.account}: "
            f"{consequence}; trust the one role or user Teleport runs as",
            code="teleport-recordings:authTrustsAccount",
        )
    elif env.account is not None and principal.account != env.account:
        yield warning(
            "auth_principal",
            arn,
            f"the auth role trusts a principal of another account ({principal.account}): whoever controls that "
            "principal can read every recording",
            code="teleport-recordings:authTrustsForeignPrincipal",
        )
