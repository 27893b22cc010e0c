"""Organization guardrails for the recordings as plain data (pure): the SCP and the RCP documents.

A key policy cannot stop an IAM administrator from becoming the auth role (rewriting its trust or
policies, or passing it to another service), and a bucket policy can never protect itself from the
account's root. An SCP attached to the recordings account (or its OU, or the root) can: it denies the
changes below to every principal of the account except the break-glass principals and the role
CloudFormation deploys with (a deploy must still be able to update the stack). An RCP keeps the key
and the bucket away from principals outside the organization.

The guardrails stack lives in the management account and cannot read the recordings stack's
generated names, so everything here is named: the auth role by name, the key by its alias
(``kms:ResourceAliases``), the bucket by name. The action lists follow AWS's published SCP examples
(aws-samples/service-control-policy-examples) and the IAM action names of each API.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Statement = dict[str, Any]
Document = dict[str, Any]

#: Organizations' limit for a service control policy and for a resource control policy (characters).
POLICY_SIZE_LIMIT = 5120

#: Changes to the auth role that would let someone become it or give it other permissions.
AUTH_ROLE_CHANGES = (
    "iam:AttachRolePolicy",
    "iam:DeleteRole",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
)
#: Changes to the recordings key that change who can decrypt, or destroy every recording.
KEY_CHANGES = (
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:PutKeyPolicy",
    "kms:ReplicateKey",
    "kms:ScheduleKeyDeletion",
    "kms:UpdateAlias",
    "kms:UpdatePrimaryRegion",
)
#: Changes to the recordings bucket's configuration (IAM action names, not API names:
#: PutBucketEncryption is s3:PutEncryptionConfiguration, and so on).
BUCKET_CHANGES = (
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:PutReplicationConfiguration",
)
#: Alias changes, also denied on the alias itself: the key statement finds the key by this alias, so
#: whoever could move or delete it would take the key out of the SCP. Denying them on the alias ARN
#: does not depend on how ``kms:ResourceAliases`` is evaluated for alias operations.
ALIAS_CHANGES = ("kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias")
#: Deleting recordings (every version) or bypassing an Object Lock in governance mode.
RECORDING_DELETES = ("s3:BypassGovernanceRetention", "s3:DeleteObject", "s3:DeleteObjectVersion")

SID_AUTH_ROLE = "ProtectTeleportAuthRole"
SID_PASS_ROLE = "PassTeleportAuthRoleOnlyToItsService"  # noqa: S105 (a statement id)
SID_INSTANCE_PROFILES = "TeleportAuthRoleInNoOtherInstanceProfile"
SID_PASS_REPLICATION_ROLE = "PassReplicationRoleOnlyToS3"  # noqa: S105 (a statement id)
#: The one service the replication role may be passed to (its trust names it alone).
REPLICATION_SERVICE = "s3.amazonaws.com"
SID_KEY = "ProtectRecordingsKey"
SID_GRANTS = "NoGrantsOnRecordingsKeyExceptForAwsServices"
SID_ALIAS = "ProtectRecordingsKeyAlias"
SID_BUCKET = "ProtectRecordingsBucket"
SID_DELETES = "KeepRecordings"
SID_OUTSIDE_ORG = "RecordingsOnlyForThisOrganization"
SID_FOREIGN_SERVICES = "RecordingsOnlyForServicesActingForThisAccount"


@dataclass(frozen=True)
class GuardedDesign:
    """What the guardrails protect and who may still change it; every value concrete."""

    partition: str
    #: The recordings account.
    account: str
    auth_role_arn: str
    #: The service the auth role's trust names (``ec2.amazonaws.com``...), the one PassRole target left.
    auth_role_service: str | None
    key_alias: str
    bucket_name: str
    prefix: str
    #: Break-glass principals and the role CloudFormation deploys the recordings stack with.
    exempt_principal_arns: tuple[str, ...]
    organization_id: str
    #: With a replica (``replicaRegion``): the role S3 replicates with, protected like the auth role and passed
    #: to S3 only, and the replica bucket, protected like the recordings bucket. None: no replica.
    replication_role_arn: str | None = None
    replica_bucket_name: str | None = None

    @property
    def bucket_arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.bucket_name}"

    @property
    def added_to_instance_profile(self) -> str:
        """``iam:AssociatedResourceArn`` of the ``PassRole`` that ``AddRoleToInstanceProfile`` needs.

        The IAM API reference (AddRoleToInstanceProfile) gives this literal value, wildcards included;
        ``RunInstances`` passes the role for a concrete instance ARN instead, so ``StringEquals`` on it
        singles out adding the role to an instance profile.
        """
        return f"arn:{self.partition}:ec2:*:{self.account}:instance/*"

    @property
    def alias_arn(self) -> str:
        """The key's alias in every region of the account (an alias is regional; its name is not)."""
        return f"arn:{self.partition}:kms:*:{self.account}:{self.key_alias}"


def _exempt(design: GuardedDesign) -> dict[str, Any]:
    return exempting(design.exempt_principal_arns)


def exempting(arns: Sequence[str]) -> dict[str, Any]:
    """The condition that leaves ``arns`` (break-glass principals, deploy roles) out of a deny."""
    return {"ArnNotLike": {"aws:PrincipalArn": list(arns)}}


def _deny(sid: str, actions: Sequence[str], resources: Sequence[str] | str, condition: dict[str, Any]) -> Statement:
    return {
        "Sid": sid,
        "Effect": "Deny",
        "Action": list(actions),
        "Resource": resources if isinstance(resources, str) else list(resources),
        "Condition": condition,
    }


def scp_statements(design: GuardedDesign) -> list[Statement]:
    """The SCP: every protected change denied to all principals of the account but the exempt ones."""
    replication_role = [design.replication_role_arn] if design.replication_role_arn is not None else []
    statements = [
        *role_statements(
            design.auth_role_arn,
            design.auth_role_service,
            _exempt(design),
            design.added_to_instance_profile,
            also_protected=replication_role,
        ),
        *resource_statements(design),
    ]
    if replication_role:
        passed_elsewhere = {**_exempt(design), "StringNotEquals": {"iam:PassedToService": REPLICATION_SERVICE}}
        statements.insert(2, _deny(SID_PASS_REPLICATION_ROLE, ["iam:PassRole"], replication_role, passed_elsewhere))
    return statements


def role_statements(
    role_arn: str,
    service: str | None,
    exempt: dict[str, Any],
    instance_profile_resource: str,
    *,
    sid_suffix: str = "",
    also_protected: Sequence[str] = (),
) -> list[Statement]:
    """An auth role's protection: no change to it, no ``iam:PassRole`` of it but to its trust's service, and
    into no other instance profile (``instance_profile_resource``: ``GuardedDesign.added_to_instance_profile``
    of the role's account). ``also_protected`` roles get the first statement too (the replication role)."""
    pass_role_condition: dict[str, Any] = dict(exempt)
    if service is not None:
        pass_role_condition["StringNotEquals"] = {"iam:PassedToService": service}
    return [
        _deny(SID_AUTH_ROLE + sid_suffix, AUTH_ROLE_CHANGES, [role_arn, *also_protected], exempt),
        _deny(SID_PASS_ROLE + sid_suffix, ["iam:PassRole"], [role_arn], pass_role_condition),
        _deny(
            SID_INSTANCE_PROFILES + sid_suffix,
            ["iam:PassRole"],
            [role_arn],
            {**exempt, "StringEquals": {"iam:AssociatedResourceArn": instance_profile_resource}},
        ),
    ]


def resource_statements(design: GuardedDesign) -> list[Statement]:
    """The key's, the alias's, the bucket's and the recordings' protection (everything but the roles')."""
    exempt = _exempt(design)
    aliases = {"ForAnyValue:StringEquals": {"kms:ResourceAliases": [design.key_alias]}}
    buckets = [design.bucket_arn]
    if design.replica_bucket_name is not None:
        buckets.append(f"arn:{design.partition}:s3:::{design.replica_bucket_name}")
    objects = [f"{bucket}/{design.prefix.strip('/')}/*" for bucket in buckets]
    return [
        _deny(SID_KEY, KEY_CHANGES, "*", {**exempt, **aliases}),
        _deny(
            SID_GRANTS,
            ["kms:CreateGrant"],
            "*",
            {**exempt, **aliases, "BoolIfExists": {"kms:GrantIsForAWSResource": "false"}},
        ),
        _deny(SID_ALIAS, ALIAS_CHANGES, [design.alias_arn], exempt),
        _deny(SID_BUCKET, BUCKET_CHANGES, buckets, exempt),
        _deny(SID_DELETES, RECORDING_DELETES, objects, exempt),
    ]


def rcp_statements(design: GuardedDesign) -> list[Statement]:
    """The RCP: the bucket and the key refuse principals outside the organization, and services acting
    for another account (the confused deputy)."""
    resources = [design.bucket_arn, f"{design.bucket_arn}/*"]
    key = {"ForAnyValue:StringEquals": {"kms:ResourceAliases": [design.key_alias]}}
    outside = {
        "StringNotEqualsIfExists": {"aws:PrincipalOrgID": design.organization_id},
        "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
    }
    foreign = {
        "StringNotEqualsIfExists": {"aws:SourceAccount": design.account},
        "Null": {"aws:SourceAccount": "false"},
        "Bool": {"aws:PrincipalIsAWSService": "true"},
    }
    return [
        {**_deny(SID_OUTSIDE_ORG, ["s3:*"], resources, outside), "Principal": "*"},
        {**_deny(SID_OUTSIDE_ORG + "Key", ["kms:*"], "*", {**outside, **key}), "Principal": "*"},
        {**_deny(SID_FOREIGN_SERVICES, ["s3:*"], resources, foreign), "Principal": "*"},
        {**_deny(SID_FOREIGN_SERVICES + "Key", ["kms:*"], "*", {**foreign, **key}), "Principal": "*"},
    ]


def size(document: Document) -> int:
    """The characters Organizations counts: the document without insignificant whitespace."""
    return len(json.dumps(document, separators=(",", ":")))


def documents(statements: Sequence[Statement], limit: int = POLICY_SIZE_LIMIT) -> list[Document]:
    """The statements packed, in order, into as few documents under ``limit`` as they fit in.

    Raises ``ValueError`` when one statement alone is too large (too many exempt principals).
    """
    packed: list[Document] = []
    current: list[Statement] = []
    for statement in statements:
        single = {"Version": "2012-10-17", "Statement": [statement]}
        if size(single) > limit:
            raise ValueError(
                f"statement {statement['Sid']} alone has {size(single)} characters, over the {limit}-character "
                "limit of an Organizations policy (too many break-glass principals?)"
            )
        candidate = {"Version": "2012-10-17", "Statement": [*current, statement]}
        if current and size(candidate) > limit:
            packed.append({"Version": "2012-10-17", "Statement": current})
            current = [statement]
        else:
            current.append(statement)
    if current:
        packed.append({"Version": "2012-10-17", "Statement": current})
    return packed
