"""SessionRecordingsStorage: the key, the bucket and the auth role of RFD 42, wired together."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.auth_role import (
    DEFAULT_SERVICE_ACCOUNT,
    AuthNodeRole,
    AuthTrust,
    RecordingsAccessPolicy,
    check_trust_settings,
)
from constructs_lib.bucket import RecordingsBucket, bucket_arn_for
from constructs_lib.core import policies, validation
from constructs_lib.core.policies import KeyAdminMode
from constructs_lib.core.validation import Problem
from constructs_lib.key import (
    DEFAULT_KEY_ALIAS,
    DEFAULT_PENDING_WINDOW_DAYS,
    DEFAULT_ROTATION_DAYS,
    RecordingsKey,
    check_deploy_role_not_denied,
    check_key_settings,
)

DEFAULT_RECORDINGS_PREFIX = "records"
DEFAULT_BUCKET_NAME_PREFIX = "teleport-recordings"


def default_bucket_name(scope: Construct) -> str:
    """``teleport-recordings-ACCOUNT-REGION``: known at synth time, unique per account and region."""
    stack = cdk.Stack.of(scope)
    return f"{DEFAULT_BUCKET_NAME_PREFIX}-{stack.account}-{stack.region}"


def check_storage_settings(
    *,
    bucket_name: str | None = None,
    recordings_prefix: str = DEFAULT_RECORDINGS_PREFIX,
    key_alias: str = DEFAULT_KEY_ALIAS,
    key_admin_arns: Sequence[str] = (),
    denied_principal_arns: Sequence[str] = (),
    key_admin_mode: str = KeyAdminMode.RFD,
    scope_key_to_s3: bool = True,
    require_encryption_headers: bool = False,
    key_rotation_days: int = DEFAULT_ROTATION_DAYS,
    key_pending_window_days: int = DEFAULT_PENDING_WINDOW_DAYS,
    auth_trust: str = AuthTrust.EC2,
    auth_principal_arn: str | None = None,
    oidc_provider_arn: str | None = None,
    service_account: str = DEFAULT_SERVICE_ACCOUNT,
    existing_auth_role_arn: str | None = None,
    deploy_role_arn: str | None = None,
) -> list[Problem]:
    """Every problem of a storage configuration at once, before anything is built."""
    problems: list[Problem] = []
    if bucket_name is not None and not cdk.Token.is_unresolved(bucket_name):
        problems += validation.check_bucket_name("bucket_name", bucket_name)
    if not cdk.Token.is_unresolved(recordings_prefix):
        problems += validation.check_prefix("recordings_prefix", recordings_prefix)
    if existing_auth_role_arn is not None and not cdk.Token.is_unresolved(existing_auth_role_arn):
        problems += validation.check_role_arn("existing_auth_role_arn", existing_auth_role_arn)
    problems += check_key_settings(
        key_admin_arns=key_admin_arns,
        denied_principal_arns=denied_principal_arns,
        key_admin_mode=key_admin_mode,
        rotation_period_days=key_rotation_days,
        pending_window_days=key_pending_window_days,
        alias=key_alias,
        auth_principal_arn=existing_auth_role_arn,
        deploy_role_arn=deploy_role_arn,
        auth_principal_setting="existing_auth_role_arn",
    )
    if existing_auth_role_arn is None:
        problems += check_trust_settings(
            trust=auth_trust,
            principal_arn=auth_principal_arn,
            oidc_provider_arn=oidc_provider_arn,
            service_account=service_account,
        )
    for setting, flag in (
        ("scope_key_to_s3", scope_key_to_s3),
        ("require_encryption_headers", require_encryption_headers),
    ):
        if not isinstance(flag, bool):
            problems.append(Problem(setting, flag, "true or false"))
    return problems


def _check_existing_role_account(scope: Construct, role_arn: str | None) -> list[Problem]:
    """An existing auth role must live in the stack's account: the S3 policy is attached to it by name."""
    account = cdk.Stack.of(scope).account
    if role_arn is None or cdk.Token.is_unresolved(role_arn) or cdk.Token.is_unresolved(account):
        return []
    role_account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
    if role_account == account:
        return []
    return [
        Problem(
            "existing_auth_role_arn",
            role_arn,
            f"a role in the stack's account {account} (the S3 managed policy is attached to the role by name)",
        )
    ]


class SessionRecordingsStorage(Construct):
    """Everything Teleport needs to keep session recordings under a customer managed key (RFD 42).

    Creates the recordings key, the recordings bucket (with its access-log bucket unless one is
    given) and, unless ``auth_role`` is given, the auth service role. ``storage_uri`` is the
    ``audit_sessions_uri`` for ``teleport.yaml``. Works with scope and id alone.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket_name: str | None = None,
        recordings_prefix: str = DEFAULT_RECORDINGS_PREFIX,
        key_alias: str = DEFAULT_KEY_ALIAS,
        key_admin_arns: Sequence[str] = (),
        denied_principal_arns: Sequence[str] = (),
        key_admin_mode: KeyAdminMode = KeyAdminMode.RFD,
        scope_key_to_s3: bool = True,
        require_encryption_headers: bool = False,
        key_rotation_days: int = DEFAULT_ROTATION_DAYS,
        key_pending_window_days: int = DEFAULT_PENDING_WINDOW_DAYS,
        auth_trust: AuthTrust = AuthTrust.EC2,
        auth_principal_arn: str | None = None,
        oidc_provider_arn: str | None = None,
        service_account: str = DEFAULT_SERVICE_ACCOUNT,
        auth_role: iam.IRole | None = None,
        access_logs_bucket: s3.IBucket | None = None,
        deploy_role_arn: str | None = None,
    ) -> None:
        """
        :param bucket_name: recordings bucket name. Default: ``teleport-recordings-ACCOUNT-REGION``.
        :param recordings_prefix: key prefix Teleport writes under. Default: ``records``.
        :param key_alias: alias of the key. Default: ``alias/teleport-session-recordings``.
        :param key_admin_arns: key administrators (IAM roles/users). Default: none.
        :param denied_principal_arns: principals explicitly denied ``kms:*``. Default: none.
        :param key_admin_mode: ``rfd`` (``kms:*``) or ``separated`` (no cryptographic actions). Default: ``rfd``.
        :param scope_key_to_s3: limit the auth role's cryptographic use of the key to S3 for this bucket.
            Default: true.
        :param require_encryption_headers: also deny puts without an encryption header (strict mode).
            Default: false.
        :param key_rotation_days: rotation period, 90..2560. Default: 365.
        :param key_pending_window_days: deletion waiting period, 7..30. Default: 30.
        :param auth_trust: who may assume the created auth role. Default: ``ec2``.
        :param auth_principal_arn: with ``principal`` trust: who may assume the role.
        :param oidc_provider_arn: with ``irsa`` trust: the EKS OIDC provider ARN.
        :param service_account: with ``irsa``/``pod-identity``: ``namespace:name``. Default: ``teleport:teleport``.
        :param auth_role: use this existing role instead of creating one; the S3 policy is attached to it.
            Default: a new role (see ``auth_trust``).
        :param access_logs_bucket: existing bucket for S3 server access logs. Default: a new SSE-S3 bucket.
        :param deploy_role_arn: the role CloudFormation deploys with. Default: the default
            synthesizer's CloudFormation execution role.
        """
        super().__init__(scope, id)
        existing_role_arn = auth_role.role_arn if auth_role is not None else None
        problems = [
            *check_storage_settings(
                bucket_name=bucket_name,
                recordings_prefix=recordings_prefix,
                key_alias=key_alias,
                key_admin_arns=key_admin_arns,
                denied_principal_arns=denied_principal_arns,
                key_admin_mode=key_admin_mode,
                scope_key_to_s3=scope_key_to_s3,
                require_encryption_headers=require_encryption_headers,
                key_rotation_days=key_rotation_days,
                key_pending_window_days=key_pending_window_days,
                auth_trust=auth_trust,
                auth_principal_arn=auth_principal_arn,
                oidc_provider_arn=oidc_provider_arn,
                service_account=service_account,
                existing_auth_role_arn=existing_role_arn,
                deploy_role_arn=deploy_role_arn,
            ),
            *check_deploy_role_not_denied(self, denied_principal_arns, deploy_role_arn),
            *_check_existing_role_account(self, existing_role_arn),
        ]
        validation.raise_if_any(problems, label=validation.labelled({"existing_auth_role_arn": "auth_role"}))
        if auth_role is not None and not isinstance(auth_role, iam.Role) and cdk.Token.is_unresolved(existing_role_arn):
            cdk.Annotations.of(self).add_warning_v2(
                "teleport-recordings:authRoleArnUnresolved",
                "auth_role was imported from an ARN known only at deploy time: CDK derives its name from the ARN's "
                "last '/' segment only when the role has no path; import it with Role.from_role_name or a "
                "concrete ARN if it has one",
            )
        resolved_bucket_name = bucket_name if bucket_name is not None else default_bucket_name(self)
        bucket_arn = bucket_arn_for(resolved_bucket_name)
        self.recordings_prefix = recordings_prefix

        self.auth_node_role: AuthNodeRole | None = None
        if auth_role is None:
            self.auth_node_role = AuthNodeRole(
                self,
                "AuthRole",
                bucket_arn=bucket_arn,
                recordings_prefix=recordings_prefix,
                trust=auth_trust,
                principal_arn=auth_principal_arn,
                oidc_provider_arn=oidc_provider_arn,
                service_account=service_account,
            )
            auth_role = self.auth_node_role.role
        else:
            RecordingsAccessPolicy(
                self,
                "AuthRoleRecordingsAccess",
                bucket_arn=bucket_arn,
                recordings_prefix=recordings_prefix,
                roles=[auth_role],
            )
        self.auth_role: iam.IRole = auth_role

        self.recordings_key = RecordingsKey(
            self,
            "Key",
            auth_principal_arn=auth_role.role_arn,
            key_admin_arns=key_admin_arns,
            denied_principal_arns=denied_principal_arns,
            key_admin_mode=key_admin_mode,
            restrict_to_bucket_arn=bucket_arn if scope_key_to_s3 else None,
            rotation_period_days=key_rotation_days,
            pending_window_days=key_pending_window_days,
            alias=key_alias,
            deploy_role_arn=deploy_role_arn,
        )
        self.key: kms.IKey = self.recordings_key.key

        self.recordings_bucket = RecordingsBucket(
            self,
            "Bucket",
            bucket_name=resolved_bucket_name,
            encryption_key=self.key,
            require_encryption_headers=require_encryption_headers,
            access_logs_bucket=access_logs_bucket,
        )
        self.bucket: s3.IBucket = self.recordings_bucket.bucket
        self.log_bucket: s3.IBucket = self.recordings_bucket.access_logs_bucket

        self.storage_uri: str = policies.storage_uri(
            bucket_name=resolved_bucket_name,
            prefix=recordings_prefix,
            region=cdk.Stack.of(self).region,
            key_arn=self.key.key_arn,
        )

    @property
    def instance_profile(self) -> iam.InstanceProfile | None:
        """The EC2 instance profile of the created auth role (``ec2`` trust only)."""
        return self.auth_node_role.instance_profile if self.auth_node_role is not None else None
