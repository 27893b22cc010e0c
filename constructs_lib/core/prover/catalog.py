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

#: Every catalogue action, by what it can do for someone else holding it on this key: the actions that
#: can hand out decryption of the key's ciphertexts (``DecryptionPath``), and why each other one cannot.
#: A test checks that this classifies exactly ``KMS_ACTIONS`` (the catalogue botocore's KMS model
#: pins), so an action AWS adds is classified before the prover quantifies over it. The sources are
#: the KMS API reference of each operation and the KMS Developer Guide pages named below.
DECRYPTION_PATHS: dict[str, str] = {
    **dict.fromkeys(CRYPTO_ACTIONS, "uses the key material (direct use)"),
    "kms:PutKeyPolicy": "rewrites the key policy: its author can allow itself kms:Decrypt",
    "kms:CreateGrant": "a grant with a cryptographic operation allows its grantee to use the key (Grants in AWS KMS)",
    "kms:ReplicateKey": "on a multi-Region key (mrk- id): the replica shares the key material and gets a key policy "
    "its creator writes (KMS Developer Guide, 'Control access to multi-Region keys'; ReplicateKey API reference)",
    "kms:ImportKeyMaterial": "on a key with imported key material (Origin EXTERNAL) the importer chooses material it "
    "knows; the prover does not know the key's origin, so it counts always (ImportKeyMaterial API reference)",
    "kms:UpdateAlias": "where an alias names the key for encryption (sse_kms_key), points it at another key: new "
    "recordings are encrypted under a key of the caller's choosing (UpdateAlias API reference)",
    "kms:DeleteAlias": "where an alias names the key for encryption, frees the alias for CreateAlias on another key",
}
#: The other actions, and why they hand out no decryption of this key's ciphertexts.
NO_DECRYPTION_PATH: dict[str, str] = {
    "kms:CancelKeyDeletion": "availability only",
    "kms:ConnectCustomKeyStore": "acts on a custom key store, not on this key",
    "kms:CreateAlias": "adds an alias to the key: decryption by alias still needs the key's own policy or grants "
    "(aliases as conditions: see kms:ResourceAliases below)",
    "kms:CreateCustomKeyStore": "acts on a custom key store, not on this key",
    "kms:CreateKey": "creates another key (its policy is that key's, not this one's)",
    "kms:Decapsulate": "asymmetric (ML-KEM) keys only; this key is symmetric",
    "kms:DeleteCustomKeyStore": "acts on a custom key store",
    "kms:DeleteImportedKeyMaterial": "destroys material: availability only",
    "kms:DeriveSharedSecret": "asymmetric (ECC key agreement) keys only",
    "kms:DescribeCustomKeyStores": "read-only",
    "kms:DescribeKey": "read-only metadata",
    "kms:DisableKey": "availability only",
    "kms:DisableKeyRotation": "rotation only: old material stays for old ciphertexts",
    "kms:DisconnectCustomKeyStore": "acts on a custom key store",
    "kms:EnableKey": "availability only",
    "kms:EnableKeyRotation": "rotation only",
    "kms:Encapsulate": "asymmetric (ML-KEM) keys only",
    "kms:GenerateMac": "HMAC keys only",
    "kms:GenerateRandom": "not on a key",
    "kms:GetKeyLastUsage": "read-only",
    "kms:GetKeyPolicy": "read-only",
    "kms:GetKeyRotationStatus": "read-only",
    "kms:GetParametersForImport": "a wrapping key for ImportKeyMaterial, which is counted itself",
    "kms:GetPublicKey": "asymmetric keys only",
    "kms:ListAliases": "read-only",
    "kms:ListGrants": "read-only",
    "kms:ListKeyPolicies": "read-only",
    "kms:ListKeyRotations": "read-only",
    "kms:ListKeys": "read-only",
    "kms:ListResourceTags": "read-only",
    "kms:ListRetirableGrants": "read-only",
    "kms:RetireGrant": "removes access",
    "kms:RevokeGrant": "removes access",
    "kms:RotateKeyOnDemand": "new material KMS generates (for imported material, ImportKeyMaterial is counted)",
    "kms:ScheduleKeyDeletion": "availability only",
    "kms:Sign": "asymmetric keys only",
    "kms:SynchronizeMultiRegionKey": "KMS's own synchronization of shared properties; no key policy of its own",
    "kms:TagResource": "tags: a condition on aws:ResourceTag is unknown to the prover, so no proof relies on them",
    "kms:UntagResource": "as TagResource",
    "kms:UpdateCustomKeyStore": "acts on a custom key store",
    "kms:UpdateKeyDescription": "metadata only",
    "kms:UpdatePrimaryRegion": "changes which related multi-Region key is primary; every one of them already shares "
    "the material, and the caller needs the replica's own policy too",
    "kms:Verify": "asymmetric keys only",
    "kms:VerifyMac": "HMAC keys only",
}
#: Alias actions that hand out decryption when a proof relies on the key's stated aliases
#: (``Design.key_aliases``) and a policy reads ``kms:ResourceAliases``: changing the aliases changes
#: which statements match (KMS Developer Guide, "ABAC for AWS KMS").
ALIAS_ACTIONS = ("kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias")

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
