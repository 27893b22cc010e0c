"""The customer managed KMS key that encrypts Teleport session recordings (RFD 42)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib.compliance import checkov
from constructs_lib.core import naming, policies
from constructs_lib.core.kinds import principal_arns
from constructs_lib.core.settings import InvalidSettingsError, KeyAdminMode, KeySettings, Problem
from constructs_lib.private.construction import check_settings, removed_on_failure, settings_as_keywords, settings_of
from constructs_lib.private.environment import created_in_deployment, environment_of, resolved_deploy_role

GRANT_GIVES_NO_DECRYPTION = "teleport-recordings:keyGrantGivesNoDecryption"
_GRANT_WARNING = (
    "{method}() on the recordings key only adds statements to the grantee's IAM policy, and this key's policy "
    "names no account root, so KMS ignores IAM policies for it: the grantee gets no use of the key. For a "
    "decrypt-only reader call storage.grant_read_recordings(grantee) (or set readerArns); Teleport's auth role "
    "already encrypts and decrypts."
)


class RecordingsKmsKey(kms.Key):
    """A ``kms.Key`` whose ``grant*`` methods warn that they cannot give use of this key.

    CDK's key grants edit the grantee's identity policy; KMS only honours identity policies for keys
    whose key policy trusts the account, which this one deliberately does not.
    """

    def _warn(self, method: str) -> None:
        cdk.Annotations.of(self).add_warning_v2(
            GRANT_GIVES_NO_DECRYPTION, _GRANT_WARNING.format(method=f"key.{method}")
        )

    def grant(self, grantee: iam.IGrantable, *actions: str) -> iam.Grant:
        self._warn("grant")
        return super().grant(grantee, *actions)

    def grant_decrypt(self, grantee: iam.IGrantable) -> iam.Grant:
        self._warn("grant_decrypt")
        return super().grant_decrypt(grantee)

    def grant_encrypt(self, grantee: iam.IGrantable) -> iam.Grant:
        self._warn("grant_encrypt")
        return super().grant_encrypt(grantee)

    def grant_encrypt_decrypt(self, grantee: iam.IGrantable) -> iam.Grant:
        self._warn("grant_encrypt_decrypt")
        return super().grant_encrypt_decrypt(grantee)

    def grant_admin(self, grantee: iam.IGrantable) -> iam.Grant:
        self._warn("grant_admin")
        return super().grant_admin(grantee)


@dataclass(frozen=True, kw_only=True)
class RecordingsKeyProps(KeySettings):
    """The keywords of ``RecordingsKey`` for type checkers: its own, and every setting or ``settings``."""

    auth_principal_arn: str | None
    settings: KeySettings | None = None
    bucket_arn: str | None = None
    created_elsewhere: Sequence[str] = ()


class RecordingsKey(Construct):
    """A symmetric, rotating CMK whose key policy follows RFD 42 and never trusts the account root.

    Because no statement names ``arn:aws:iam::ACCOUNT:root``, IAM identity policies (AdministratorAccess
    included) grant nothing on this key; only the principals named in the key policy can use it.
    The stack's CloudFormation execution role is named with key-administration actions only, so that
    KMS's lockout safety check passes on creation and on every later policy update.
    """

    @settings_as_keywords(RecordingsKeyProps, settings=KeySettings)
    @removed_on_failure
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        auth_principal_arn: str | None,
        settings: KeySettings | None = None,
        bucket_arn: str | None = None,
        created_elsewhere: Sequence[str] = (),
    ) -> None:
        """
        :param auth_principal_arn: the Teleport auth service's IAM principal (usually a role ARN). None: no auth
            statements (the organization layout adds each cluster's role's own, ``central_storage.py``).
        :param settings: key alias, admins, denied principals, readers, rotation, deletion window,
            ``scope_key_to_s3`` and the deploy role (see ``KeySettings``), or each as a keyword. Default: all
            defaults.
        :param bucket_arn: the recordings bucket; with ``scope_key_to_s3`` the auth principal's and readers'
            cryptographic use of the key only works through S3 for it. Default: no bucket, the RFD's
            literal statement.
        :param created_elsewhere: ARNs (known at synth) of principals another stack of this deployment creates,
            after this one (the primary's auth role, for a replica's key): matched by ``aws:PrincipalArn``, never
            named (``policies.statements_for``), since KMS refuses a principal that does not exist yet. Default:
            none.
        """
        super().__init__(scope, id)
        settings = settings_of(settings, KeySettings)
        deploy_role_arn, synthesized = resolved_deploy_role(self, settings)
        env = environment_of(self, deploy_role=synthesized)
        check_settings(self, settings, env)
        if deploy_role_arn is None:  # the rules have refused this already; this narrows the type
            raise InvalidSettingsError([Problem("deploy_role", None, "the ARN of the role that deploys the stack")])
        self.settings = settings
        stack = cdk.Stack.of(self)
        scoped = bucket_arn if settings.scope_key_to_s3 else None
        self._bucket_arn = scoped
        self._region = stack.region if scoped is not None else None
        admins = principal_arns(settings.key_admins, env, tokens=True)
        denied = principal_arns(settings.denied_principals, env, tokens=True)
        named = [*([auth_principal_arn] if auth_principal_arn else []), deploy_role_arn, *admins, *denied]
        #: Principals created in this deployment: matched by aws:PrincipalArn, not named (policies.statements_for).
        self.created_principal_arns = {arn for arn in named if created_in_deployment(self, arn)}
        self.created_principal_arns |= set(created_elsewhere)
        document = policies.key_policy(
            auth_principal_arn=auth_principal_arn,
            deploy_role_arn=deploy_role_arn,
            key_admin_arns=admins,
            denied_principal_arns=denied,
            key_admin_mode=KeyAdminMode(settings.key_admin_mode),
            bucket_arn=scoped,
            region=self._region,
            created_principal_arns=self.created_principal_arns,
        )
        self.key_policy = iam.PolicyDocument(
            statements=[iam.PolicyStatement.from_json(s) for s in document["Statement"]]
        )
        alias = settings.key_alias or naming.KEY_ALIAS
        self.key: kms.Key = RecordingsKmsKey(
            self,
            "Resource",
            description="Teleport session recordings (RFD 42): only key admins and the auth service may decrypt",
            key_spec=kms.KeySpec.SYMMETRIC_DEFAULT,
            key_usage=kms.KeyUsage.ENCRYPT_DECRYPT,
            enable_key_rotation=True,
            rotation_period=cdk.Duration.days(settings.key_rotation_days),
            pending_window=cdk.Duration.days(settings.key_pending_window_days),
            alias=alias,
            policy=self.key_policy,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.deploy_role_arn: str = deploy_role_arn
        self.alias_name = alias
        if self.created_principal_arns:
            self._skip_wildcard_principal_check()
        self.reader_arns: list[str] = []
        self._named_reader_statements: list[iam.PolicyStatement] = []
        self._created_readers: list[str] = []
        for arn in principal_arns(settings.readers, env, tokens=True):
            self.add_reader(arn)

    def add_reader(self, principal_arn: str) -> None:
        """Name a decrypt-only reader in the key policy (``kms:Decrypt`` through S3, ``DescribeKey``).

        A reader created in this deployment is matched by ``aws:PrincipalArn`` in one statement pair
        whose list of ARNs is produced at synthesis, so that later readers join it.
        """
        if principal_arn in self.reader_arns:
            return
        self.reader_arns.append(principal_arn)
        if created_in_deployment(self, principal_arn):
            self.created_principal_arns.add(principal_arn)
            self._skip_wildcard_principal_check()
            if not self._created_readers:
                self._add_created_reader_statements()
            self._created_readers.append(principal_arn)
        elif self._named_reader_statements:
            for statement in self._named_reader_statements:
                statement.add_arn_principal(principal_arn)
        else:
            for raw in policies.reader_statements([principal_arn], bucket_arn=self._bucket_arn, region=self._region):
                statement = iam.PolicyStatement.from_json(raw)
                self._named_reader_statements.append(statement)
                self.key_policy.add_statements(statement)

    def add_policy_statements(self, statements: Sequence[Mapping[str, Any]]) -> None:
        """Add statements built by ``constructs_lib.core`` (the replication role's) to the key policy."""
        for raw in statements:
            self.key_policy.add_statements(iam.PolicyStatement.from_json(dict(raw)))
            if raw.get("Principal") == {"AWS": "*"}:
                self._skip_wildcard_principal_check()

    def _skip_wildcard_principal_check(self) -> None:
        """Scanners see ``Principal: *`` in the by-ARN statements (:func:`policies.statements_for`): say why."""
        resource = self.key.node.default_child
        if isinstance(resource, cdk.CfnResource):
            checkov.skip_in_checkov(resource, checkov.KMS_WILDCARD_PRINCIPAL)

    def _add_created_reader_statements(self) -> None:
        readers = cdk.Lazy.list(_Readers(self._created_readers))
        marker = "arn:aws:iam::000000000000:role/created-readers"  # replaced by the lazy list below
        for raw in policies.reader_statements(
            [marker], bucket_arn=self._bucket_arn, region=self._region, created={marker}
        ):
            raw["Sid"] += policies.SID_CREATED_SUFFIX
            raw["Condition"]["ArnEquals"]["aws:PrincipalArn"] = readers
            self.key_policy.add_statements(iam.PolicyStatement.from_json(raw))

    @property
    def key_arn(self) -> str:
        return self.key.key_arn

    @property
    def key_id(self) -> str:
        return self.key.key_id


@jsii.implements(cdk.IStableListProducer)
class _Readers:
    """The ARNs of the readers created in this deployment, as the key policy's condition list."""

    def __init__(self, arns: list[str]) -> None:
        self.arns = arns

    def produce(self) -> list[str]:
        return list(self.arns)
