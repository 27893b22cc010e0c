"""SessionRecordingsStorage: the key, the bucket and the auth role of RFD 42, wired together."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.access_policy import RecordingsAccessPolicy
from constructs_lib.alarms import IAM_EVENTS_NOT_FORWARDED, TamperAlarms
from constructs_lib.auth_role import AuthNodeRole
from constructs_lib.bucket import RecordingsBucket, bucket_arn_for
from constructs_lib.compliance import acknowledgments
from constructs_lib.core import arns, naming, policies, replication
from constructs_lib.core.kinds import principal_arn, principal_arns
from constructs_lib.core.replication import ReplicationNames
from constructs_lib.core.settings import InvalidSettingsError, KeyAdminMode, ObjectLockMode, Problem, StorageSettings
from constructs_lib.core.template import DESIGN_METADATA
from constructs_lib.iam_event_forwarder import iam_events_reach
from constructs_lib.key import RecordingsKey
from constructs_lib.private.construction import check_settings, removed_on_failure, settings_as_keywords, settings_of
from constructs_lib.private.environment import environment_of, resolved_deploy_role
from constructs_lib.private.names import DeployedNames, names_discriminator, refuse_name_clashes
from constructs_lib.replication import RecordingsReplication, let_the_replication_role_in

AUTH_ROLE_ARN_UNRESOLVED = "teleport-recordings:authRoleArnUnresolved"


@dataclass(frozen=True, kw_only=True)
class StorageProps(StorageSettings):
    """The keywords of ``SessionRecordingsStorage`` for type checkers: every setting, or ``settings``."""

    settings: StorageSettings | None = None
    replica_of: ReplicationNames | None = None


class SessionRecordingsStorage(Construct):
    """Everything Teleport needs to keep session recordings under a customer managed key (RFD 42).

    Creates the recordings key, the recordings bucket (with its access-log bucket unless one is
    given) and, unless ``settings.auth_role`` names an existing one, the auth service role.
    ``storage_uri`` is the ``audit_sessions_uri`` for ``teleport.yaml``. Works with scope and id alone.

    Default names: the first storage created in a stack is named as every release has named it
    (``teleport-recordings-ACCOUNT-REGION``, ``alias/teleport-session-recordings``); any further
    storage in the same stack derives both from its construct path (``constructs_lib.core.naming``).
    Two storages of an app that would deploy the same bucket name, or the same alias to the same
    account and region, are refused when the second is created (``NameClashError``).

    A construction that raises leaves nothing behind: the app can go on, and a storage created
    later keeps the names it would have had.

    The settings come as keywords (``SessionRecordingsStorage(self, "R", key_admins=[role])``) or as one
    object (``settings=StorageSettings(key_admins=[role])``), not both: the same declarations, the same
    validation, the same template.
    """

    @settings_as_keywords(StorageProps, settings=StorageSettings)
    @removed_on_failure
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: StorageSettings | None = None,
        replica_of: ReplicationNames | None = None,
    ) -> None:
        """
        :param settings: every setting of the storage (``StorageSettings``: bucket, key, auth role, readers),
            or each as a keyword. Default: all defaults.
        :param replica_of: this storage is the replica of that primary (``stacks.replica_stack``): its key lets
            the primary's replication role in, and names the primary's auth role (``settings.auth_role``) by
            ``aws:PrincipalArn``, since that role may not exist yet. Default: not a replica.
        """
        super().__init__(scope, id)
        settings = settings_of(settings, StorageSettings)
        _, synthesized = resolved_deploy_role(self, settings)
        self._env = environment_of(self, deploy_role=synthesized)
        check_settings(self, settings, self._env)

        stack = cdk.Stack.of(self)
        discriminator = names_discriminator(self, SessionRecordingsStorage)
        settings = settings.replaced(
            still_valid=True,
            bucket_name=settings.bucket_name or naming.default_bucket_name(stack.account, stack.region, discriminator),
            key_alias=settings.key_alias or naming.default_key_alias(discriminator),
        )
        self._names = DeployedNames.of(self, settings.bucket_name or "", settings.key_alias or "")
        refuse_name_clashes(self, self._names, SessionRecordingsStorage, settings)
        self.settings = settings
        self.bucket_name: str = settings.bucket_name or ""
        self.bucket_arn = bucket_arn_for(self.bucket_name)
        self.recordings_prefix = settings.recordings_prefix

        self.auth_node_role: AuthNodeRole | None = None
        self.auth_role: iam.IRole | None = None
        self.auth_principal_arn: str = self._auth_principal(settings, replica_of)

        self.replica_of = replica_of
        self.recordings_key = RecordingsKey(
            self,
            "Key",
            auth_principal_arn=self.auth_principal_arn,
            settings=settings,
            bucket_arn=self.bucket_arn,
            created_elsewhere=(replica_of.auth_role_arn,) if replica_of is not None else (),
        )
        self.key: kms.Key = self.recordings_key.key
        if replica_of is not None:
            let_the_replication_role_in(replica_of, key=self.recordings_key)

        self.recordings_bucket = RecordingsBucket(
            self, "Bucket", bucket_name=self.bucket_name, encryption_key=self.key, settings=settings, retention=settings
        )
        self.bucket: s3.Bucket = self.recordings_bucket.bucket
        if replica_of is not None:
            acknowledgments.acknowledge_in_packs(
                self.bucket.node.default_child or self.bucket,
                "S3BucketReplicationEnabled",
                acknowledgments.REASON_REPLICA_NOT_REPLICATED,
                acknowledgments.REPLICATION_PACKS,
            )
        self.log_bucket: s3.IBucket = self.recordings_bucket.access_logs_bucket

        self.storage_uri: str = policies.storage_uri(
            bucket_name=self.bucket_name, prefix=self.recordings_prefix, region=stack.region, key_arn=self.key.key_arn
        )
        names = replication.replication_names(settings, self._env) if settings.replica_region is not None else None
        replicating = names or replica_of
        #: The role S3 replicates with (this storage's, or its primary's): it decrypts through S3, alarm-free.
        self.replication_role_arn = replicating.replication_role_arn if replicating is not None else None
        self.alarms: TamperAlarms | None = None
        if settings.alarms:
            self._alarms(settings)
        self.replication: RecordingsReplication | None = None
        if names is not None:
            self.replication = RecordingsReplication(
                self,
                "Replication",
                names=names,
                bucket=self.bucket,
                key=self.recordings_key,
                source_locked=ObjectLockMode(settings.object_lock_mode) is not ObjectLockMode.NONE,
                alarms=self.alarms,
                auth_role=self.auth_role,
            )
        self._readers: dict[str, iam.Grant] = {}
        for reader in settings.readers:
            self._grant_reader(reader)
        # What the access proofs (enable_access_proofs) judge the synthesized policies against.
        self.node.add_metadata(DESIGN_METADATA, cdk.Lazy.any(_RecordedDesign(self)))
        if settings.require_encryption_headers:
            acknowledgments.acknowledge(
                self, f"{acknowledgments.ACCESS_PROOFS}::P5", acknowledgments.REASON_STRICT_MODE_BREAKS_MULTIPART_PROOF
            )

    def _alarms(self, settings: StorageSettings) -> None:
        role_name = self.auth_role.role_name if self.auth_role is not None else None
        self.alarms = TamperAlarms(
            self,
            "Alarms",
            key_arn=self.key.key_arn,
            bucket_name=self.bucket_name,
            auth_role_name=role_name,
            decrypt_allowed=lambda: [
                self.auth_principal_arn,
                *self.recordings_key.reader_arns,
                *([self.replication_role_arn] if self.replication_role_arn is not None else []),
            ],
            settings=settings,
        )
        if role_name is not None and iam_events_reach(self) is False:
            cdk.Annotations.of(self).add_warning_v2(
                IAM_EVENTS_NOT_FORWARDED,
                "CloudTrail delivers IAM events to EventBridge in us-east-1 only: the auth role's tamper alarm fires "
                "only once a us-east-1 stack of this account holds an IamEventForwarder for this region (the "
                "bundled app adds one)",
            )

    def _auth_principal(self, settings: StorageSettings, replica_of: ReplicationNames | None) -> str:
        """The existing auth principal's ARN (its S3 policy attached), or a new role's; for a replica, the primary's
        auth role by ARN (its S3 permissions on the replica come from the primary stack)."""
        if replica_of is not None:
            return replica_of.auth_role_arn
        existing = settings.auth_role
        if existing is None:
            self.auth_node_role = AuthNodeRole(
                self,
                "AuthRole",
                bucket_arn=self.bucket_arn,
                recordings_prefix=self.recordings_prefix,
                settings=settings,
            )
            self.auth_role = self.auth_node_role.role
            return self.auth_node_role.role_arn
        # A role: the settings refuse an IAM user as the auth principal (README: existingAuthRoleArn).
        arn = principal_arn(existing, self._env) or ""
        role: iam.IRole = (
            existing  # type: ignore[assignment]
            if hasattr(existing, "role_arn")
            else iam.Role.from_role_arn(self, "ExistingAuthRole", arn)
        )
        if not isinstance(role, iam.Role) and cdk.Token.is_unresolved(role.role_arn):
            cdk.Annotations.of(self).add_warning_v2(
                AUTH_ROLE_ARN_UNRESOLVED,
                "auth_role was imported from an ARN known only at deploy time: CDK derives its name from the ARN's "
                "last '/' segment only when the role has no path; import it with Role.from_role_name or a "
                "concrete ARN if it has one",
            )
        RecordingsAccessPolicy(
            self,
            "AuthRoleRecordingsAccess",
            bucket_arn=self.bucket_arn,
            recordings_prefix=self.recordings_prefix,
            roles=[role],
        )
        self.auth_role = role
        return arn

    # --- readers ------------------------------------------------------------------------------------

    def grant_read_recordings(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read and decrypt recordings, and nothing else (Teleport's read-only reader).

        The key policy names its principal for ``kms:Decrypt`` and ``kms:DescribeKey`` only (through
        S3 for this bucket when ``scope_key_to_s3``). A role or user of this account gets a managed
        policy with read-only S3 on the recordings prefix; a principal of another account gets a
        bucket-policy statement instead (its own account must still allow it S3 and KMS). The principal
        must be one IAM role or user (``iam.IRole``, ``iam.IUser``, ``iam.ArnPrincipal``).
        """
        principal = getattr(grantee, "grant_principal", None)
        if principal is None:
            raise InvalidSettingsError(
                [Problem("grantee", grantee, "an iam.IGrantable: a role or user (iam.IRole, iam.IUser)")]
            )
        updated = self.settings.replaced(readers=(*self.settings.readers, principal))
        check_settings(self, updated, self._env)
        self.settings = updated
        return self._grant_reader(principal)

    def _grant_reader(self, principal: object) -> iam.Grant:
        arn = principal_arn(principal, self._env)
        if arn is None:  # the rules have refused this already
            raise InvalidSettingsError([Problem("readers", principal, "an IAM role or user")])
        if arn in self._readers:
            return self._readers[arn]
        self.recordings_key.add_reader(arn)
        grant = self._grant_reader_s3(principal, arn)
        self._readers[arn] = grant
        return grant

    def _grant_reader_s3(self, principal: object, arn: str) -> iam.Grant:
        tag = _tag(principal, arn)
        objects = policies.recordings_objects_arn(self.bucket_arn, self.recordings_prefix)
        role = self._same_account_role(principal, arn, tag)
        if role is not None:
            policy = RecordingsAccessPolicy(
                self,
                f"Reader{tag}",
                bucket_arn=self.bucket_arn,
                recordings_prefix=self.recordings_prefix,
                roles=[role],
                read_only=True,
            ).policy
            # The policy holds the statements already; the grant reports them, attached to that policy.
            holder = _ManagedPolicyPrincipal(policy, role)
            return iam.Grant.add_to_principal(
                grantee=holder, actions=list(policies.READER_S3_BUCKET_ACTIONS), resource_arns=[self.bucket_arn]
            ).combine(
                iam.Grant.add_to_principal(
                    grantee=holder, actions=list(policies.READER_S3_OBJECT_ACTIONS), resource_arns=[objects]
                )
            )
        # Other accounts' readers, and users of any account: the bucket policy names them. A user of this
        # account needs nothing more (S3 allows a same-account request that either policy allows), and
        # no policy is attached to a user: the compliance packs refuse that (IAMUserNoPolicies).
        is_user = hasattr(principal, "user_arn") or _kind_of(arn) == "user"
        grantee: iam.IPrincipal = (
            iam.ArnPrincipal(arn) if isinstance(principal, str) or is_user else principal  # type: ignore[assignment]
        )
        bucket_grant = iam.Grant.add_to_principal_or_resource(
            grantee=grantee,
            actions=list(policies.READER_S3_BUCKET_ACTIONS),
            resource_arns=[self.bucket_arn],
            resource=self.bucket,
        )
        return bucket_grant.combine(
            iam.Grant.add_to_principal_or_resource(
                grantee=grantee,
                actions=list(policies.READER_S3_OBJECT_ACTIONS),
                resource_arns=[objects],
                resource=self.bucket,
            )
        )

    def _same_account_role(self, principal: object, arn: str, tag: str) -> iam.IRole | None:
        """The reader as a role of this stack's account, to attach a managed policy to; else ``None``
        (another account's principal, or a user)."""
        stack = cdk.Stack.of(self)
        if cdk.Token.is_unresolved(arn):
            owner = getattr(principal, "stack", None)
            same = isinstance(owner, cdk.Stack) and owner.account == stack.account
        else:
            parsed = arns.parse_iam_principal(arn)
            same = parsed is not None and not cdk.Token.is_unresolved(stack.account) and parsed.account == stack.account
        if not same or hasattr(principal, "user_arn") or _kind_of(arn) == "user":
            return None
        if hasattr(principal, "role_arn"):
            return principal  # type: ignore[return-value]
        return iam.Role.from_role_arn(self, f"ReaderRole{tag}", arn, mutable=True)

    def access_design(self) -> dict[str, Any]:
        """Who the design lets do what: the parameters the access proofs and ``recordings-kms verify`` judge by.

        ARNs may be tokens; call it at synthesis (it sees every ``grant_read_recordings`` made by then).
        """
        settings = self.settings
        return {
            "authPrincipalArn": self.auth_principal_arn,
            "readers": list(self.recordings_key.reader_arns),
            "admins": principal_arns(settings.key_admins, self._env, tokens=True),
            "adminMode": KeyAdminMode(settings.key_admin_mode).value,
            "deployRole": self.recordings_key.deploy_role_arn,
            "scopeKeyToS3": settings.scope_key_to_s3,
            "prefix": self.recordings_prefix,
            **self._replication_design(),
        }

    def _replication_design(self) -> dict[str, Any]:
        """The replication role and what S3 may do with this key for it (none without replication)."""
        if self.replica_of is not None:
            return {
                "replicationRoleArn": self.replica_of.replication_role_arn,
                "replicationKeyActions": list(replication.REPLICA_KMS_ACTIONS),
            }
        if self.replication is not None:
            return {
                "replicationRoleArn": self.replication.names.replication_role_arn,
                "replicationKeyActions": list(replication.SOURCE_KMS_ACTIONS),
            }
        return {}

    @property
    def instance_profile(self) -> iam.InstanceProfile | None:
        """The EC2 instance profile of the created auth role (``ec2`` trust only)."""
        return self.auth_node_role.instance_profile if self.auth_node_role is not None else None


def _tag(principal: object, arn: str) -> str:
    """A stable construct-id suffix for a reader: from its ARN, or its construct path when the ARN is a token."""
    source = arn if not cdk.Token.is_unresolved(arn) else getattr(getattr(principal, "node", None), "path", arn)
    return hashlib.sha256(str(source).encode()).hexdigest()[:8]


@jsii.implements(iam.IPrincipal)
class _ManagedPolicyPrincipal:
    """A principal whose policy statements go into a given managed policy instead of an inline one.

    ``iam.Grant`` adds a grant's statements to the grantee's default (inline) policy; the compliance
    packs prefer managed policies, which this package uses for every identity it gives S3 access.
    """

    def __init__(self, policy: iam.ManagedPolicy, principal: iam.IPrincipal) -> None:
        self._policy = policy
        self._principal = principal

    @property
    def grant_principal(self) -> iam.IPrincipal:
        return self

    @property
    def assume_role_action(self) -> str:
        return self._principal.assume_role_action

    @property
    def policy_fragment(self) -> iam.PrincipalPolicyFragment:
        return self._principal.policy_fragment

    @property
    def principal_account(self) -> str | None:
        return self._principal.principal_account

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self._policy)

    def add_to_policy(self, statement: iam.PolicyStatement) -> bool:
        return True


@jsii.implements(cdk.IStableAnyProducer)
class _RecordedDesign:
    """The design parameters, produced at synthesis (after every grant_read_recordings call)."""

    def __init__(self, storage: SessionRecordingsStorage) -> None:
        self.storage = storage

    def produce(self) -> Any:
        storage, stack = self.storage, cdk.Stack.of(self.storage)
        auth_role = storage.auth_node_role.role if storage.auth_node_role is not None else None
        return {
            "keyLogicalId": stack.resolve(_logical_id(storage.key)),
            "bucketLogicalId": stack.resolve(_logical_id(storage.bucket)),
            "authRoleLogicalId": stack.resolve(_logical_id(auth_role)) if auth_role is not None else None,
            "replicationRoleLogicalId": stack.resolve(_logical_id(storage.replication.role))
            if storage.replication is not None
            else None,
            "keyArn": storage.key.key_arn,
            "keyId": storage.key.key_id,
            "bucketName": storage.bucket_name,
            **storage.access_design(),
            "account": None if cdk.Token.is_unresolved(stack.account) else stack.account,
            "region": None if cdk.Token.is_unresolved(stack.region) else stack.region,
            "partition": storage._env.partition,
        }


def _logical_id(construct: Construct) -> str:
    child = construct.node.default_child
    if not isinstance(child, cdk.CfnElement):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource")
    return child.logical_id


def _kind_of(arn: str) -> str | None:
    """``role``, ``user`` or ``root`` for a literal IAM principal ARN; ``None`` for a token or anything else."""
    if cdk.Token.is_unresolved(arn):
        return None
    parsed = arns.parse_iam_principal(arn)
    return parsed.kind if parsed is not None else None
