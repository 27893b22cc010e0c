"""The organization layout as plain data: every name both sides use, and both sides' policy statements (pure).

The recordings stack (key and bucket, in the recordings account) and each workload stack (the
clusters' auth roles, in their accounts) cannot reference each other: CDK's cross-account references
are weak. So every name one side uses for the other is computed here, from the settings alone, by the
one :func:`plan` both sides call, and a test synthesizes all stacks and compares them.

A cluster role of ANOTHER account is named in the key and bucket policies as its account's root with
``StringEquals aws:PrincipalArn = ROLE_ARN``: the root always exists, so KMS and S3 accept the policy
before the role does (KMS rejects a key policy naming a principal that does not exist), and the role's
own account must allow the access anyway (KMS Developer Guide, "Allowing users in other accounts to
use a KMS key": "Neither the key policy nor the IAM policy alone is sufficient"). A cluster role of the
recordings account itself is matched with the package's same-deployment form
(``policies.statements_for``: ``Principal: *`` and ``ArnEquals aws:PrincipalArn``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from constructs_lib.core import naming, policies
from constructs_lib.core.kinds import Environment, principal_arn, principal_arns
from constructs_lib.core.settings import AppSettings, AuthTrust, Cluster, ClusterIsolation
from constructs_lib.core.settings.clusters import cluster_env, cluster_prefix, default_role_name

PolicyStatement = policies.PolicyStatement

#: The stack of a workload account's cluster roles: ``TeleportSessionRecordingsAuth-ACCOUNT``.
WORKLOAD_STACK_PREFIX = "TeleportSessionRecordingsAuth-"
SID_CLUSTER_AUTH = "Teleport CMK Auth cluster {name}"
SID_CLUSTER_AUTH_DESCRIBE = "Teleport CMK Auth DescribeKey cluster {name}"
SID_CLUSTER_READERS = "Teleport CMK Readers cluster {name}"
SID_CLUSTER_READERS_DESCRIBE = "Teleport CMK Readers DescribeKey cluster {name}"


def storage_uri_output_id(name: str) -> str:
    """``StorageUriProdEu`` for cluster ``prod-eu`` (CloudFormation output ids are alphanumeric)."""
    return "StorageUri" + "".join(part.capitalize() for part in name.split("-"))


@dataclass(frozen=True)
class ClusterPlan:
    """One cluster, every name resolved."""

    name: str
    account: str
    prefix: str
    role_name: str
    role_arn: str
    #: The role exists already (``existingAuthRoleArn``): the workload stack only attaches its policy.
    existing: bool
    trust: AuthTrust
    readers: tuple[str, ...]
    settings: Cluster
    #: With ``clusterIsolation=key``: its own key's alias (``KEYALIAS/NAME``) and, once known, its ARN.
    key_alias: str = ""
    key_arn: str | None = None

    @property
    def stack_name(self) -> str:
        return WORKLOAD_STACK_PREFIX + self.account

    @property
    def output_id(self) -> str:
        return storage_uri_output_id(self.name)

    @property
    def construct_id(self) -> str:
        return "Cluster" + "".join(part.capitalize() for part in self.name.split("-"))


@dataclass(frozen=True)
class OrganizationPlan:
    """The recordings account's key and bucket, and every cluster."""

    partition: str
    account: str
    region: str
    bucket_name: str
    key_alias: str
    recordings_prefix: str
    clusters: tuple[ClusterPlan, ...]
    #: Readers of every cluster's recordings (``readerArns``).
    readers: tuple[str, ...]
    isolation: ClusterIsolation = ClusterIsolation.PREFIX
    #: ``recordingsKeyArn``: the shared key's ARN, once known (``prefix`` isolation).
    key_arn: str | None = None

    @property
    def bucket_arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.bucket_name}"

    @property
    def keys_arn(self) -> str:
        """Every key of the recordings account and region: the workload side's KMS resource.

        KMS makes the key id when it creates the key, and CDK cannot reference another account's
        stack, so a workload stack synthesized with the recordings stack cannot name the key itself.
        ``key/*`` grants nothing on its own: KMS also needs the key policy, and only the recordings
        key's policy names the cluster roles; the statement is limited further to S3 for this bucket.
        """
        return f"arn:{self.partition}:kms:{self.region}:{self.account}:key/*"

    @property
    def key_per_cluster(self) -> bool:
        return self.isolation is ClusterIsolation.KEY

    def identity_key_arn(self, cluster: ClusterPlan) -> str:
        """The KMS resource of ``cluster``'s identity policy: its key's ARN once the settings name it
        (``recordingsKeyArn``, or the cluster's own with ``key`` isolation), else :attr:`keys_arn`."""
        named = cluster.key_arn if self.key_per_cluster else self.key_arn
        return named or self.keys_arn

    def names_key_of(self, cluster: ClusterPlan) -> bool:
        """Whether ``cluster``'s identity policy names one key (its ARN is in the settings), not ``key/*``."""
        return self.identity_key_arn(cluster) != self.keys_arn

    def accounts(self) -> list[str]:
        """The workload accounts, in the order their first cluster is listed."""
        return list(dict.fromkeys(c.account for c in self.clusters))

    def peers_of(self, cluster: ClusterPlan) -> tuple[str, ...]:
        """The principals that must not reach ``cluster``'s recordings: the other clusters' roles and readers."""
        others = [c for c in self.clusters if c.name != cluster.name]
        mine = {a.lower() for a in (cluster.role_arn, *cluster.readers, *self.readers)}
        found = [a for c in others for a in (c.role_arn, *c.readers) if a.lower() not in mine]
        return tuple(dict.fromkeys(found))


def plan(settings: AppSettings, env: Environment | None = None) -> OrganizationPlan:
    """Every name of the layout, from validated settings (account and region concrete)."""
    env = env or settings.environment()
    partition = env.partition or "aws"
    account, region = settings.account or "", settings.region or ""
    clusters = []
    key_alias = settings.key_alias or naming.KEY_ALIAS
    isolation = ClusterIsolation(settings.cluster_isolation)
    for cluster in settings.clusters:
        where = cluster_env(cluster, env)
        cluster_account = where.account or account
        existing = principal_arn(cluster.auth_role, where)
        role_name = cluster.auth_role_name or default_role_name(cluster.name)
        role_arn = existing or f"arn:{partition}:iam::{cluster_account}:role/{role_name}"
        if existing:
            role_name = existing.rsplit("/", 1)[-1]
        clusters.append(
            ClusterPlan(
                name=cluster.name,
                account=cluster_account,
                prefix=cluster_prefix(cluster, settings.recordings_prefix),
                role_name=role_name,
                role_arn=role_arn,
                existing=existing is not None,
                trust=AuthTrust(cluster.auth_trust),
                readers=tuple(principal_arns(cluster.readers, where)),
                settings=cluster,
                key_alias=f"{key_alias}/{cluster.name}" if isolation is ClusterIsolation.KEY else "",
                key_arn=cluster.key_arn,
            )
        )
    return OrganizationPlan(
        partition=partition,
        account=account,
        region=region,
        bucket_name=settings.bucket_name or naming.default_bucket_name(account, region),
        key_alias=key_alias,
        recordings_prefix=settings.recordings_prefix,
        clusters=tuple(clusters),
        readers=tuple(principal_arns(settings.readers, env)),
        isolation=isolation,
        key_arn=settings.recordings_key_arn,
    )


# --- naming a principal of another deployment --------------------------------------------------------


def _account_of(arn: str) -> str:
    return arn.split(":")[4]


def for_principals(statement: PolicyStatement, arns: Sequence[str], resource_account: str) -> list[PolicyStatement]:
    """``statement`` for principals that may not exist yet, in a form KMS and S3 accept before they do.

    The recordings account's own principals: ``policies.statements_for`` (``Principal: *``,
    ``ArnEquals aws:PrincipalArn``). Each other account's: that account's root as the principal,
    with ``StringEquals aws:PrincipalArn`` (one statement per account, Sid suffixed by the account).
    """
    same = [a for a in arns if _account_of(a) == resource_account]
    result = policies.statements_for(statement, same, created=same) if same else []
    by_account: dict[str, list[str]] = {}
    for arn in arns:
        if _account_of(arn) != resource_account:
            by_account.setdefault(_account_of(arn), []).append(arn)
    partition = arns[0].split(":")[1] if arns else "aws"
    for account, members in by_account.items():
        condition = {operator: dict(values) for operator, values in statement.get("Condition", {}).items()}
        condition.setdefault("StringEquals", {})["aws:PrincipalArn"] = members[0] if len(members) == 1 else members
        sid = f"{statement['Sid']} {account}" if " " in statement["Sid"] else f"{statement['Sid']}{account}"
        result.append(
            _ordered(
                {
                    **statement,
                    "Sid": sid,
                    "Condition": condition,
                    "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                }
            )
        )
    return result


def _ordered(statement: PolicyStatement) -> PolicyStatement:
    order = (
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    )
    return {element: statement[element] for element in order if element in statement}


# --- the recordings account's side --------------------------------------------------------------------


def key_statements(layout: OrganizationPlan, only: ClusterPlan | None = None) -> list[PolicyStatement]:
    """Per cluster: its role's use of the key through S3 for this bucket, its readers' decryption.

    ``only``: that cluster's statements alone (its own key's, with ``clusterIsolation=key``). The readers
    of every cluster (``readerArns``) are named by ``RecordingsKey`` itself, as in one account.
    """
    statements: list[PolicyStatement] = []
    for cluster in layout.clusters if only is None else (only,):
        uses = [
            (SID_CLUSTER_AUTH, SID_CLUSTER_AUTH_DESCRIBE, (cluster.role_arn,), policies.AUTH_KMS_CRYPTO_ACTIONS),
            (SID_CLUSTER_READERS, SID_CLUSTER_READERS_DESCRIBE, cluster.readers, policies.READER_KMS_CRYPTO_ACTIONS),
        ]
        for sid, describe_sid, arns, actions in uses:
            if not arns:
                continue
            for raw in policies.use_statements(
                sid.format(name=cluster.name),
                describe_sid.format(name=cluster.name),
                ["marker"],
                actions,
                layout.bucket_arn,
                layout.region,
            ):
                statement = {k: v for k, v in raw.items() if k != "Principal"}
                statements += for_principals(statement, arns, layout.account)
    return statements


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


def bucket_statements(layout: OrganizationPlan) -> list[PolicyStatement]:
    """Per cluster: its role's (and readers') access to its own prefix, and two denies that keep it there.

    The allows are what a role of another account needs from the bucket's side (S3 User Guide, "Bucket
    owner granting cross-account bucket permissions"). The denies hold whatever identity policy the
    role has, which matters for a cluster in the recordings account, where an identity policy alone
    would reach every prefix: no S3 action outside the bucket ARN and the cluster's prefix, and on the
    bucket ARN only Teleport's five bucket actions (no policy, lifecycle or encryption change).
    """
    bucket = layout.bucket_arn
    statements: list[PolicyStatement] = []
    for cluster in layout.clusters:
        tag = _pascal(cluster.name)
        objects = policies.recordings_objects_arn(bucket, cluster.prefix)
        allows = [
            (f"Cluster{tag}Bucket", (cluster.role_arn,), policies.AUTH_S3_BUCKET_ACTIONS, bucket),
            (f"Cluster{tag}Objects", (cluster.role_arn,), policies.AUTH_S3_OBJECT_ACTIONS, objects),
            (f"Cluster{tag}ReadersBucket", cluster.readers, policies.READER_S3_BUCKET_ACTIONS, bucket),
            (f"Cluster{tag}ReadersObjects", cluster.readers, policies.READER_S3_OBJECT_ACTIONS, objects),
        ]
        for sid, arns, actions, resource in allows:
            if arns:
                statement = {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": resource}
                statements += for_principals(statement, arns, layout.account)
        members = (cluster.role_arn, *cluster.readers)
        statements += for_principals(
            {"Sid": f"Cluster{tag}OnlyItsPrefix", "Effect": "Deny", "Action": "s3:*", "NotResource": [bucket, objects]},
            members,
            layout.account,
        )
        statements += for_principals(
            {
                "Sid": f"Cluster{tag}NoBucketChanges",
                "Effect": "Deny",
                "NotAction": list(policies.AUTH_S3_BUCKET_ACTIONS),
                "Resource": bucket,
            },
            members,
            layout.account,
        )
    if layout.readers:
        objects = policies.recordings_objects_arn(bucket, layout.recordings_prefix)
        for sid, actions, resource in (
            ("ReadersBucket", policies.READER_S3_BUCKET_ACTIONS, bucket),
            ("ReadersObjects", policies.READER_S3_OBJECT_ACTIONS, objects),
        ):
            statement = {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": resource}
            statements += for_principals(statement, layout.readers, layout.account)
    return statements


def bucket_key_statements(layout: OrganizationPlan, keys: Mapping[str, tuple[str, str]]) -> list[PolicyStatement]:
    """With ``clusterIsolation=key``: under each cluster's prefix, a write naming any key but its own is denied.

    ``keys`` maps a cluster's name to its key's ARN and id (both spellings S3 may receive in
    ``x-amz-server-side-encryption-aws-kms-key-id``). For every principal, so that a write under
    cluster A's prefix with cluster B's key is refused whatever the identity policies say. A write
    without the header is encrypted by default encryption, under the shared key, which no cluster
    role may use (S3 asks KMS for a data key as the caller), so it fails too.
    """
    statements: list[PolicyStatement] = []
    for cluster in layout.clusters:
        arn, key_id = keys[cluster.name]
        statements.append(
            {
                "Sid": f"Cluster{_pascal(cluster.name)}OnlyItsKey",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "s3:PutObject",
                "Resource": policies.recordings_objects_arn(layout.bucket_arn, cluster.prefix),
                "Condition": {
                    "StringNotEquals": {policies.SSE_KMS_KEY_HEADER: [arn, key_id]},
                    "Null": {policies.SSE_KMS_KEY_HEADER: "false"},
                },
            }
        )
    return statements


def storage_uri(layout: OrganizationPlan, cluster: ClusterPlan, key_arn: str) -> str:
    """The cluster's ``audit_sessions_uri``: its prefix, and the key by its full ARN (a key of another account
    cannot be named by id or alias: S3 User Guide, "Specifying server-side encryption with AWS KMS")."""
    return policies.storage_uri(
        bucket_name=layout.bucket_name, prefix=cluster.prefix, region=layout.region, key_arn=key_arn
    )


# --- the workload account's side ----------------------------------------------------------------------

SID_CLUSTER_KMS = "TeleportRecordingsKey"
SID_CLUSTER_KMS_DESCRIBE = "TeleportRecordingsKeyDescribe"


def identity_kms_statements(layout: OrganizationPlan, cluster: ClusterPlan | None = None) -> list[PolicyStatement]:
    """The KMS half of a cluster role's identity policy: what S3 asks KMS for on Teleport's behalf.

    ``kms:GenerateDataKey`` (CreateMultipartUpload, PutObject) and ``kms:Decrypt`` (UploadPart of an
    SSE-KMS multipart upload, and playback) through S3 for this bucket; ``kms:DescribeKey`` alone. On
    ``cluster``'s key once the settings name its ARN (``OrganizationPlan.identity_key_arn``), else on
    every key of the recordings account and region.
    """
    resource = layout.identity_key_arn(cluster) if cluster is not None else layout.keys_arn
    crypto: dict[str, Any] = {
        "Sid": SID_CLUSTER_KMS,
        "Effect": "Allow",
        "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
        "Resource": resource,
        "Condition": {
            "StringEquals": {"kms:ViaService": policies.s3_via_service(layout.region)},
            "StringLike": {"kms:EncryptionContext:aws:s3:arn": [layout.bucket_arn, f"{layout.bucket_arn}/*"]},
        },
    }
    describe = {
        "Sid": SID_CLUSTER_KMS_DESCRIBE,
        "Effect": "Allow",
        "Action": ["kms:DescribeKey"],
        "Resource": resource,
    }
    return [crypto, describe]


def trusted_principal_json(cluster: ClusterPlan, env: Environment) -> dict[str, Any] | None:
    """Who the cluster's created role trusts (T1, ``prover.trust``), as recorded for the proofs; None for an
    existing role (its trust is its owner's)."""
    from constructs_lib.core.prover.trust import trusted_principal

    if cluster.existing:
        return None
    settings = cluster.settings
    trusted = trusted_principal(
        cluster.trust.value,
        auth_principal=principal_arn(settings.auth_principal, cluster_env(settings, env)),
        oidc_provider_arn=settings.oidc_provider_arn,
        pod_identity_role_arn=settings.pod_identity_role_arn,
    )
    if trusted is None:
        return None
    return {"kind": trusted.kind, "value": trusted.value, "sessionTags": trusted.session_tags}
