"""What ``verify`` read from AWS, as plain records: ``verify.readers`` fills them, the checks judge them.

Nothing here calls AWS; the checks (``verify.checks``, ``verify.configuration_checks``,
``verify.retention_checks``) read these records and never call it either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from constructs_lib.core.settings import RetentionSettings

if TYPE_CHECKING:
    from mypy_boto3_kms.type_defs import KeyMetadataTypeDef
    from mypy_boto3_s3.type_defs import PublicAccessBlockConfigurationTypeDef, ServerSideEncryptionRuleOutputTypeDef


@dataclass(frozen=True)
class KeyFacts:
    """What KMS reported about the key."""

    metadata: KeyMetadataTypeDef
    #: ``None`` when KMS would not say (asymmetric keys, keys pending deletion).
    rotation_enabled: bool | None
    rotation_period_days: int | None = None
    rotation_error: str | None = None
    #: The key policy as text (``GetKeyPolicy`` returns a JSON string).
    policy_text: str | None = None
    #: Every grant on the key, as ``ListGrants`` returns them (all pages).
    grants: tuple[Mapping[str, Any], ...] = ()

    @property
    def arn(self) -> str:
        return self.metadata.get("Arn", "")

    @property
    def key_id(self) -> str:
        return self.metadata["KeyId"]

    @property
    def partition(self) -> str:
        return self.arn.split(":")[1] if self.arn.count(":") >= 5 else "aws"

    @property
    def region(self) -> str:
        return self.arn.split(":")[3] if self.arn.count(":") >= 5 else ""

    @property
    def account(self) -> str:
        return self.metadata.get("AWSAccountId") or (self.arn.split(":")[4] if self.arn.count(":") >= 5 else "")


@dataclass(frozen=True)
class BucketFacts:
    """What S3 reported about the bucket; ``None`` where the bucket has no such configuration."""

    name: str
    encryption_rules: Sequence[ServerSideEncryptionRuleOutputTypeDef] | None
    policy_text: str | None
    public_access_block: PublicAccessBlockConfigurationTypeDef | None
    #: ``Enabled``, ``Suspended``, or ``None`` when versioning was never turned on.
    versioning_status: str | None
    object_ownership: str | None
    #: The key ARN default encryption names, when it names the key through an alias.
    default_key_resolved_arn: str | None = None
    #: ``GetBucketLifecycleConfiguration``'s rules (``None``: the bucket has no lifecycle configuration).
    lifecycle_rules: Sequence[Mapping[str, Any]] | None = None
    #: ``GetObjectLockConfiguration``'s ``ObjectLockConfiguration`` (``None``: Object Lock was never enabled).
    object_lock: Mapping[str, Any] | None = None
    #: ``GetBucketReplication``'s ``ReplicationConfiguration`` (``None``: the bucket replicates nowhere).
    replication: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class IdentityFacts:
    """The auth principal's identity policies as IAM reported them, or why they could not be read.

    All or nothing: a partial set would let P5 miss a Deny (or an Allow), so a principal whose
    policies could not all be read has ``documents`` ``None`` and the prover treats its identity
    side as unknown.
    """

    principal: str
    documents: tuple[Mapping[str, Any], ...] | None = None
    #: How many of ``documents`` are attached managed policies, inline policies, and group policies (users).
    attached: int = 0
    inline: int = 0
    from_groups: int = 0
    #: The permissions boundary, which the prover does not model.
    boundary: str | None = None
    #: Why ``documents`` is ``None``.
    problem: str = ""
    #: A role's trust policy (``GetRole``'s ``AssumeRolePolicyDocument``), when it was read.
    trust_policy: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class LiveFacts:
    """Everything ``verify`` read from AWS."""

    key: KeyFacts
    bucket: BucketFacts
    identity: IdentityFacts
    #: The stack's ``StorageUri`` output (``--stack-name`` only).
    storage_uri: str | None = None
    #: The retention settings of the stack's ``RetentionDesign`` output (``--stack-name`` only).
    retention: RetentionSettings | None = None
