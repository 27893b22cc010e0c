"""The actions the prover quantifies over.

``KMS_ACTIONS`` is every KMS IAM action (the same list as ``recordings_kms.verify.checks.KMS_ACTIONS``,
which a test there compares with botocore's KMS model; ``tests/access`` checks that the two lists
agree). KMS requests are only ever drawn from this list. S3 requests may use any action name
``s3:...``: ``S3_ACTIONS`` only lists well-known ones, so that counterexamples name real actions
when one exists. IAM requests (the guardrail properties) are drawn from the actions
``constructs_lib.core.guardrails`` protects.
"""

from __future__ import annotations

from constructs_lib.core import guardrails

KMS_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:ConnectCustomKeyStore",
    "kms:CreateAlias",
    "kms:CreateCustomKeyStore",
    "kms:CreateGrant",
    "kms:CreateKey",
    "kms:Decapsulate",
    "kms:Decrypt",
    "kms:DeleteAlias",
    "kms:DeleteCustomKeyStore",
    "kms:DeleteImportedKeyMaterial",
    "kms:DeriveSharedSecret",
    "kms:DescribeCustomKeyStores",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:DisconnectCustomKeyStore",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:Encapsulate",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateMac",
    "kms:GenerateRandom",
    "kms:GetKeyLastUsage",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:GetParametersForImport",
    "kms:GetPublicKey",
    "kms:ImportKeyMaterial",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListKeys",
    "kms:ListResourceTags",
    "kms:ListRetirableGrants",
    "kms:PutKeyPolicy",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:ReplicateKey",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:Sign",
    "kms:SynchronizeMultiRegionKey",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateCustomKeyStore",
    "kms:UpdateKeyDescription",
    "kms:UpdatePrimaryRegion",
    "kms:Verify",
    "kms:VerifyMac",
)

#: Use of the (symmetric) key material to protect data: what P1 and P2 are about.
CRYPTO_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
)

#: Actions that change who can decrypt, or destroy the key (P3).
CONTROL_ACTIONS = (
    "kms:PutKeyPolicy",
    "kms:CreateGrant",
    "kms:ReplicateKey",
    "kms:UpdatePrimaryRegion",
    "kms:DisableKey",
    "kms:ScheduleKeyDeletion",
)

#: The operations a grant can allow (CreateGrant API reference, ``Operations``).
GRANT_OPERATIONS = (
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "Sign",
    "Verify",
    "GetPublicKey",
    "CreateGrant",
    "RetireGrant",
    "DescribeKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
)

#: Grant operations that take an encryption context with a symmetric key: grant constraints
#: apply to these only ("Grant constraints are not applied to operations that do not support an
#: encryption context", GrantConstraints API reference).
ENCRYPTION_CONTEXT_OPERATIONS = frozenset(
    {
        "Decrypt",
        "Encrypt",
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "ReEncryptFrom",
        "ReEncryptTo",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
    }
)

#: Well-known S3 actions on a bucket or its objects (for readable counterexamples only).
S3_ACTIONS = (
    "s3:AbortMultipartUpload",
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:GetBucketPolicy",
    "s3:GetBucketVersioning",
    "s3:GetEncryptionConfiguration",
    "s3:GetObject",
    "s3:GetObjectAcl",
    "s3:GetObjectRetention",
    "s3:GetObjectVersion",
    "s3:ListBucket",
    "s3:ListBucketMultipartUploads",
    "s3:ListBucketVersions",
    "s3:ListMultipartUploadParts",
    "s3:PutBucketPolicy",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutObject",
    "s3:PutObjectAcl",
    "s3:PutObjectRetention",
    "s3:ReplicateObject",
    "s3:RestoreObject",
)

#: IAM actions on a role that the guardrails protect (for readable counterexamples only).
IAM_ROLE_ACTIONS = (*guardrails.AUTH_ROLE_CHANGES, "iam:PassRole")

_CANONICAL = {
    a.lower(): a
    for a in (*KMS_ACTIONS, *S3_ACTIONS, *guardrails.BUCKET_CHANGES, *guardrails.RECORDING_DELETES, *IAM_ROLE_ACTIONS)
}


def canonical_action(action: str) -> str:
    """``kms:decrypt`` -> ``kms:Decrypt`` for catalogue actions; others unchanged."""
    return _CANONICAL.get(action.lower(), action)


def grant_operation_action(operation: str) -> str:
    return f"kms:{operation}"
