"""The customer managed KMS key that encrypts Teleport session recordings (RFD 42)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib.core import policies, validation
from constructs_lib.core.policies import KeyAdminMode
from constructs_lib.core.validation import Problem

DEFAULT_KEY_ALIAS = "alias/teleport-session-recordings"
DEFAULT_ROTATION_DAYS = 365
DEFAULT_PENDING_WINDOW_DAYS = 30


def _concrete(values: Sequence[str]) -> list[str]:
    return [v for v in values if not cdk.Token.is_unresolved(v)]


def check_key_settings(
    *,
    key_admin_arns: Sequence[str],
    denied_principal_arns: Sequence[str],
    key_admin_mode: str,
    rotation_period_days: int,
    pending_window_days: int,
    alias: str,
    auth_principal_arn: str | None = None,
    deploy_role_arn: str | None = None,
    auth_principal_setting: str = "auth_principal_arn",
) -> list[Problem]:
    """Every problem of the key settings; CDK tokens are not judged."""
    admins, denied = _concrete(key_admin_arns), _concrete(denied_principal_arns)
    problems = [
        *validation.check_principal_arns("key_admin_arns", admins),
        *validation.check_principal_arns("denied_principal_arns", denied),
        *validation.check_choice("key_admin_mode", str(key_admin_mode), [m.value for m in KeyAdminMode]),
        *validation.check_int_range("key_rotation_days", rotation_period_days, *validation.ROTATION_DAYS_RANGE),
        *validation.check_int_range(
            "key_pending_window_days", pending_window_days, *validation.PENDING_WINDOW_DAYS_RANGE
        ),
        *validation.check_disjoint(
            "key_admin_arns", admins, "denied_principal_arns", denied, "an explicit deny overrides the admin grant"
        ),
    ]
    if not cdk.Token.is_unresolved(alias):
        problems += validation.check_key_alias("key_alias", alias)
    if auth_principal_arn is not None and not cdk.Token.is_unresolved(auth_principal_arn):
        problems += validation.check_disjoint(
            auth_principal_setting,
            [auth_principal_arn],
            "denied_principal_arns",
            denied,
            "Teleport could not write or play back recordings",
        )
    if deploy_role_arn is not None and not cdk.Token.is_unresolved(deploy_role_arn):
        problems += validation.check_role_arn("deploy_role_arn", deploy_role_arn)
        problems += validation.check_disjoint(
            "deploy_role_arn",
            [deploy_role_arn],
            "denied_principal_arns",
            denied,
            "KMS would refuse the policy: it must leave the deploying role able to update it",
        )
    return problems


def _synthesizer_deploy_role_template(scope: Construct) -> str | None:
    """The DefaultStackSynthesizer's execution role ARN, with ``${AWS::AccountId}``-style placeholders."""
    synthesizer = cdk.Stack.of(scope).synthesizer
    if isinstance(synthesizer, cdk.DefaultStackSynthesizer):
        return synthesizer.cloud_formation_execution_role_arn
    return None


def default_deploy_role_arn(scope: Construct) -> str | None:
    """The CloudFormation execution role of the stack's default synthesizer, if it uses one."""
    template = _synthesizer_deploy_role_template(scope)
    return cdk.Fn.sub(template) if template is not None else None


_PSEUDO_PARAMETER = re.compile(r"\$\{AWS::(Partition|AccountId|Region|URLSuffix)\}")
_PSEUDO_PARAMETER_PATTERNS = {
    "Partition": "[a-z-]+",
    "AccountId": "[0-9]{12}",
    "Region": "[a-z0-9-]+",
    "URLSuffix": "[a-z.]+",
}


def check_deploy_role_not_denied(
    scope: Construct, denied_principal_arns: Sequence[str], deploy_role_arn: str | None
) -> list[Problem]:
    """Refuse a deny list naming the synthesizer's execution role, whose ARN is only a template here.

    KMS's lockout safety check would reject the key policy at deployment. An explicit
    ``deploy_role_arn`` is compared by :func:`check_key_settings` instead.
    """
    if deploy_role_arn is not None:
        return []
    template = _synthesizer_deploy_role_template(scope)
    if template is None or cdk.Token.is_unresolved(template):
        return []
    pieces = _PSEUDO_PARAMETER.split(template)
    # split() alternates literal text and placeholder names.
    pattern = "".join(
        _PSEUDO_PARAMETER_PATTERNS[piece] if index % 2 else re.escape(piece) for index, piece in enumerate(pieces)
    )
    return [
        Problem(
            "denied_principal_arns",
            arn,
            "a list without the CloudFormation execution role that deploys the stack (KMS would refuse a key "
            "policy that denies the role updating it)",
        )
        for arn in _concrete(denied_principal_arns)
        if re.fullmatch(pattern, arn, flags=re.IGNORECASE)
    ]


class RecordingsKey(Construct):
    """A symmetric, rotating CMK whose key policy follows RFD 42 and never trusts the account root.

    Because no statement names ``arn:aws:iam::ACCOUNT:root``, IAM identity policies (AdministratorAccess
    included) grant nothing on this key; only the principals named in the key policy can use it.
    The stack's CloudFormation execution role is named with key-administration actions only, so that
    KMS's lockout safety check passes on creation and on every later policy update.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        auth_principal_arn: str,
        key_admin_arns: Sequence[str] = (),
        denied_principal_arns: Sequence[str] = (),
        key_admin_mode: KeyAdminMode = KeyAdminMode.RFD,
        restrict_to_bucket_arn: str | None = None,
        rotation_period_days: int = DEFAULT_ROTATION_DAYS,
        pending_window_days: int = DEFAULT_PENDING_WINDOW_DAYS,
        alias: str = DEFAULT_KEY_ALIAS,
        deploy_role_arn: str | None = None,
    ) -> None:
        """
        :param auth_principal_arn: the Teleport auth service's IAM principal (usually a role ARN).
        :param key_admin_arns: IAM roles/users named in "Teleport CMK Admin". Default: none.
        :param denied_principal_arns: principals explicitly denied ``kms:*``. Default: none (no deny statement).
        :param key_admin_mode: ``rfd`` gives key admins ``kms:*``; ``separated`` key administration only.
            Default: ``rfd``, as the RFD template.
        :param restrict_to_bucket_arn: limit the auth principal's cryptographic actions to S3 requests
            for this bucket (``kms:ViaService`` and the ``aws:s3:arn`` encryption context).
            Default: no restriction, the RFD's literal statement.
        :param rotation_period_days: automatic rotation period, 90..2560. Default: 365.
        :param pending_window_days: waiting period before deletion, 7..30. Default: 30.
        :param alias: key alias. Default: ``alias/teleport-session-recordings``.
        :param deploy_role_arn: the role CloudFormation deploys with. Default: the default stack
            synthesizer's CloudFormation execution role; required with any other synthesizer.
        """
        super().__init__(scope, id)
        resolved_deploy_role = deploy_role_arn if deploy_role_arn is not None else default_deploy_role_arn(self)
        problems = check_key_settings(
            key_admin_arns=key_admin_arns,
            denied_principal_arns=denied_principal_arns,
            key_admin_mode=key_admin_mode,
            rotation_period_days=rotation_period_days,
            pending_window_days=pending_window_days,
            alias=alias,
            auth_principal_arn=auth_principal_arn,
            deploy_role_arn=deploy_role_arn,
        )
        problems += check_deploy_role_not_denied(self, denied_principal_arns, deploy_role_arn)
        if resolved_deploy_role is None:
            problems.append(
                Problem(
                    "deploy_role_arn",
                    None,
                    "the ARN of the role that deploys the stack when the stack does not use the "
                    "DefaultStackSynthesizer (KMS refuses a key policy that would lock that role out)",
                )
            )
        validation.raise_if_any(problems)
        assert resolved_deploy_role is not None

        stack = cdk.Stack.of(self)
        document = policies.key_policy(
            auth_principal_arn=auth_principal_arn,
            deploy_role_arn=resolved_deploy_role,
            key_admin_arns=list(key_admin_arns),
            denied_principal_arns=list(denied_principal_arns),
            key_admin_mode=KeyAdminMode(key_admin_mode),
            bucket_arn=restrict_to_bucket_arn,
            region=stack.region if restrict_to_bucket_arn is not None else None,
        )
        self.key_policy = iam.PolicyDocument(
            statements=[iam.PolicyStatement.from_json(s) for s in document["Statement"]]
        )
        self.key = kms.Key(
            self,
            "Resource",
            description="Teleport session recordings (RFD 42): only key admins and the auth service may decrypt",
            key_spec=kms.KeySpec.SYMMETRIC_DEFAULT,
            key_usage=kms.KeyUsage.ENCRYPT_DECRYPT,
            enable_key_rotation=True,
            rotation_period=cdk.Duration.days(rotation_period_days),
            pending_window=cdk.Duration.days(pending_window_days),
            alias=alias,
            policy=self.key_policy,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.deploy_role_arn: str = resolved_deploy_role
        self.alias_name = alias

    @property
    def key_arn(self) -> str:
        return self.key.key_arn

    @property
    def key_id(self) -> str:
        return self.key.key_id
