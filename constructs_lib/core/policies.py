"""Policy documents of the design as plain data: the one place where actions and conditions live.

The constructs turn these dictionaries into CDK policy statements (ARNs may then be CDK tokens);
the ``recordings-kms`` command prints them with concrete ARNs for teams that do not use CDK.
Nothing here imports CDK.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from constructs_lib.core.settings import KeyAdminMode

PolicyStatement = dict[str, Any]
PolicyDocument = dict[str, Any]

# --- KMS -----------------------------------------------------------------------------------------

#: Teleport's RFD 42 template for the auth principal.
AUTH_KMS_CRYPTO_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*")
AUTH_KMS_DESCRIBE_ACTIONS = ("kms:DescribeKey",)
AUTH_KMS_ACTIONS = AUTH_KMS_CRYPTO_ACTIONS + AUTH_KMS_DESCRIBE_ACTIONS

#: Key administration without cryptographic use (AWS default key policy "Allow access for Key
#: Administrators"; aws-cdk aws-kms perms.ts ADMIN_ACTIONS). ``kms:Put*`` keeps the lockout safety
#: check satisfied; ``kms:Create*`` includes CreateGrant, so an administrator can still grant itself
#: use of the key: see docs/THREAT_MODEL.md.
KEY_ADMIN_ACTIONS = (
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
)

SID_KEY_ADMIN = "Teleport CMK Admin"
SID_AUTH = "Teleport CMK Auth"
SID_AUTH_DESCRIBE = "Teleport CMK Auth DescribeKey"
SID_DENY = "Deny AdministratorAccess users."
SID_DEPLOY_ROLE = "CloudFormation deploy role key administration"
SID_READERS = "Teleport CMK Readers"
SID_READERS_DESCRIBE = "Teleport CMK Readers DescribeKey"

#: Decrypt-only readers (Teleport's read-only cluster, auditor tooling): no Encrypt, no GenerateDataKey.
READER_KMS_CRYPTO_ACTIONS = ("kms:Decrypt",)
READER_KMS_DESCRIBE_ACTIONS = ("kms:DescribeKey",)


def s3_via_service(region: str) -> str:
    """The ``kms:ViaService`` value of requests S3 makes to KMS on a caller's behalf."""
    return f"s3.{region}.amazonaws.com"


def _principal(arns: Sequence[str]) -> dict[str, Any]:
    return {"AWS": arns[0] if len(arns) == 1 else list(arns)}


#: The suffix of the Sid of a statement that matches principals created in the same deployment.
SID_CREATED_SUFFIX = " (principals created with the key)"


def statements_for(
    statement: PolicyStatement, principal_arns: Sequence[str], created: Collection[str] = ()
) -> list[PolicyStatement]:
    """``statement`` for ``principal_arns``: existing principals by name, new ones by ``aws:PrincipalArn``.

    KMS checks that every principal a key policy names exists when the policy is set; a role or user
    created moments earlier in the same deployment may not be visible to KMS yet ("invalid
    principals"), and CloudFormation does not retry. A principal in ``created`` is therefore matched
    by its ARN in a condition (``Principal: *`` with ``ArnEquals aws:PrincipalArn``), which KMS
    does not look up, and which allows exactly the same requests (``tests/access`` proves it).
    """
    named = [arn for arn in principal_arns if arn not in created]
    new = [arn for arn in principal_arns if arn in created]
    result: list[PolicyStatement] = []
    if named:
        result.append(_with_principal(statement, _principal(named)))
    if new:
        condition = {operator: dict(values) for operator, values in statement.get("Condition", {}).items()}
        condition.setdefault("ArnEquals", {})["aws:PrincipalArn"] = new[0] if len(new) == 1 else new
        sid = statement["Sid"] + (SID_CREATED_SUFFIX if named else "")
        result.append(_with_principal({**statement, "Sid": sid, "Condition": condition}, {"AWS": "*"}))
    return result


def _with_principal(statement: PolicyStatement, principal: dict[str, Any]) -> PolicyStatement:
    """The statement with its principal, elements in the order IAM's documentation writes them."""
    order = ("Sid", "Effect", "Principal", "Action", "NotAction", "Resource", "NotResource", "Condition")
    merged = {**statement, "Principal": principal}
    return {element: merged[element] for element in order if element in merged}


def key_policy(
    *,
    auth_principal_arn: str | None,
    deploy_role_arn: str | None,
    key_admin_arns: Sequence[str] = (),
    denied_principal_arns: Sequence[str] = (),
    key_admin_mode: KeyAdminMode = KeyAdminMode.RFD,
    bucket_arn: str | None = None,
    region: str | None = None,
    reader_arns: Sequence[str] = (),
    created_principal_arns: Collection[str] = (),
) -> PolicyDocument:
    """The recordings key policy: RFD 42's templates, hardened.

    No statement names the account root, so IAM identity policies grant nothing on this key:
    only the principals named here can use or manage it. With ``bucket_arn`` and ``region`` the
    auth principal's (and readers') cryptographic actions only work through S3 for that bucket;
    without them the auth statement is the RFD's literal one. Principals in
    ``created_principal_arns`` (created in the same deployment) are matched by ARN instead of being
    named: see :func:`statements_for`. No ``auth_principal_arn``: no auth statements (the
    organization layout names each cluster's role in statements of its own, ``core/clusters.py``).
    """
    created = set(created_principal_arns)
    statements: list[PolicyStatement] = []
    if key_admin_arns:
        admin_actions: str | list[str] = "kms:*" if key_admin_mode == KeyAdminMode.RFD else list(KEY_ADMIN_ACTIONS)
        statements += statements_for(
            {"Sid": SID_KEY_ADMIN, "Effect": "Allow", "Action": admin_actions, "Resource": "*"}, key_admin_arns, created
        )
    if deploy_role_arn is not None:
        statements += statements_for(
            {"Sid": SID_DEPLOY_ROLE, "Effect": "Allow", "Action": list(KEY_ADMIN_ACTIONS), "Resource": "*"},
            [deploy_role_arn],
            created,
        )
    if auth_principal_arn is not None and bucket_arn is not None and region is not None:
        statements += use_statements(
            SID_AUTH, SID_AUTH_DESCRIBE, [auth_principal_arn], AUTH_KMS_CRYPTO_ACTIONS, bucket_arn, region, created
        )
    elif auth_principal_arn is not None:
        statements += statements_for(
            {"Sid": SID_AUTH, "Effect": "Allow", "Action": list(AUTH_KMS_ACTIONS), "Resource": "*"},
            [auth_principal_arn],
            created,
        )
    if reader_arns:
        statements += reader_statements(reader_arns, bucket_arn=bucket_arn, region=region, created=created)
    if denied_principal_arns:
        statements += statements_for(
            {"Sid": SID_DENY, "Effect": "Deny", "Action": "kms:*", "Resource": "*"}, denied_principal_arns, created
        )
    return {"Version": "2012-10-17", "Statement": statements}


def use_statements(
    sid: str,
    describe_sid: str,
    principal_arns: Sequence[str],
    crypto_actions: Sequence[str],
    bucket_arn: str | None,
    region: str | None,
    created: Collection[str] = (),
) -> list[PolicyStatement]:
    """Cryptographic use of the key for ``principal_arns``, and ``DescribeKey`` in its own statement.

    With a bucket and region, the cryptographic actions only work when S3 calls KMS for this bucket
    (``kms:ViaService`` and the ``aws:s3:arn`` encryption context); ``DescribeKey`` carries no
    encryption context, so it cannot share those conditions.
    """
    crypto: PolicyStatement = {"Sid": sid, "Effect": "Allow", "Action": list(crypto_actions), "Resource": "*"}
    if bucket_arn is not None and region is not None:
        crypto["Condition"] = {
            "StringEquals": {"kms:ViaService": s3_via_service(region)},
            # S3 Bucket Keys use the bucket ARN as encryption context, per-object keys the object ARN.
            "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/*"]},
        }
    describe: PolicyStatement = {
        "Sid": describe_sid,
        "Effect": "Allow",
        "Action": list(AUTH_KMS_DESCRIBE_ACTIONS),
        "Resource": "*",
    }
    return statements_for(crypto, principal_arns, created) + statements_for(describe, principal_arns, created)


def reader_statements(
    reader_arns: Sequence[str], *, bucket_arn: str | None, region: str | None, created: Collection[str] = ()
) -> list[PolicyStatement]:
    """Decrypt-only readers: ``kms:Decrypt`` through S3 for this bucket, and ``DescribeKey``."""
    return use_statements(
        SID_READERS, SID_READERS_DESCRIBE, reader_arns, READER_KMS_CRYPTO_ACTIONS, bucket_arn, region, created
    )


# --- S3 bucket policy ----------------------------------------------------------------------------

SSE_HEADER = "s3:x-amz-server-side-encryption"
SSE_KMS_KEY_HEADER = "s3:x-amz-server-side-encryption-aws-kms-key-id"
SSE_C_HEADER = "s3:x-amz-server-side-encryption-customer-algorithm"

SID_DENY_INSECURE_TRANSPORT = "DenyInsecureTransport"
SID_DENY_OUTDATED_TLS = "DenyTlsBelow1dot2"
SID_DENY_NON_KMS_ENCRYPTION = "DenyPutWithNonKmsEncryptionHeader"
SID_DENY_WRONG_KEY = "DenyPutWithOtherKmsKey"
SID_DENY_KMS_WITHOUT_KEY = "DenyPutAwsKmsWithoutKeyId"
SID_DENY_SSE_C = "DenyPutWithCustomerProvidedKey"
SID_DENY_MISSING_ENCRYPTION = "DenyPutWithoutEncryptionHeader"


def _deny(sid: str, action: str, resource: str | list[str], condition: dict[str, Any]) -> PolicyStatement:
    return {
        "Sid": sid,
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": action,
        "Resource": resource,
        "Condition": condition,
    }


def _deny_put(sid: str, objects_arn: str, condition: dict[str, Any]) -> PolicyStatement:
    return _deny(sid, "s3:PutObject", objects_arn, condition)


def bucket_policy_statements(
    *,
    bucket_arn: str,
    key_arn: str,
    key_id: str,
    require_encryption_headers: bool = False,
    also_accepted_keys: Sequence[tuple[str, str]] = (),
) -> list[PolicyStatement]:
    """Deny every request that would not store recordings under this key, and any plain-text transport.

    A PutObject without encryption headers is not denied unless ``require_encryption_headers``:
    default encryption stores it under the key, and Teleport's multipart ``UploadPart`` and
    ``CompleteMultipartUpload`` requests (authorized as ``s3:PutObject``) never carry the headers.
    ``also_accepted_keys`` (ARN, id): further keys a put may name (``clusterIsolation=key``: each
    cluster's, which ``core/clusters.py`` confines to the cluster's prefix).
    """
    accepted = [key_arn, key_id, *(spelling for key in also_accepted_keys for spelling in key)]
    objects = f"{bucket_arn}/*"
    statements: list[PolicyStatement] = [
        _deny(SID_DENY_INSECURE_TRANSPORT, "s3:*", [bucket_arn, objects], {"Bool": {"aws:SecureTransport": "false"}}),
        _deny(SID_DENY_OUTDATED_TLS, "s3:*", [bucket_arn, objects], {"NumericLessThan": {"s3:TlsVersion": "1.2"}}),
        _deny_put(
            SID_DENY_NON_KMS_ENCRYPTION,
            objects,
            {"StringNotEquals": {SSE_HEADER: "aws:kms"}, "Null": {SSE_HEADER: "false"}},
        ),
        _deny_put(
            SID_DENY_WRONG_KEY,
            objects,
            {"StringNotEquals": {SSE_KMS_KEY_HEADER: accepted}, "Null": {SSE_KMS_KEY_HEADER: "false"}},
        ),
        _deny_put(
            SID_DENY_KMS_WITHOUT_KEY,
            objects,
            {"StringEquals": {SSE_HEADER: "aws:kms"}, "Null": {SSE_KMS_KEY_HEADER: "true"}},
        ),
        _deny_put(SID_DENY_SSE_C, objects, {"Null": {SSE_C_HEADER: "false"}}),
    ]
    if require_encryption_headers:
        statements.append(_deny_put(SID_DENY_MISSING_ENCRYPTION, objects, {"Null": {SSE_HEADER: "true"}}))
    return statements


def bucket_policy(
    *, bucket_arn: str, key_arn: str, key_id: str, require_encryption_headers: bool = False
) -> PolicyDocument:
    return {
        "Version": "2012-10-17",
        "Statement": bucket_policy_statements(
            bucket_arn=bucket_arn, key_arn=key_arn, key_id=key_id, require_encryption_headers=require_encryption_headers
        ),
    }


# --- Auth role S3 permissions ---------------------------------------------------------------------

#: Teleport's documented permissions for a bucket it does not manage. Nothing deletes objects.
AUTH_S3_BUCKET_ACTIONS = (
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:ListBucketMultipartUploads",
    "s3:GetEncryptionConfiguration",
    "s3:GetBucketVersioning",
)
AUTH_S3_OBJECT_ACTIONS = (
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:GetObjectRetention",
    "s3:PutObject",
    "s3:ListMultipartUploadParts",
    "s3:AbortMultipartUpload",
)
#: Decrypt-only readers: list and read recordings (Teleport's read-only playback path), nothing else.
READER_S3_BUCKET_ACTIONS = ("s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketVersioning")
READER_S3_OBJECT_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectRetention")
SID_AUTH_S3_BUCKET = "TeleportRecordingsBucket"
SID_AUTH_S3_OBJECTS = "TeleportRecordingsObjects"
SID_READER_S3_BUCKET = "TeleportRecordingsReadBucket"
SID_READER_S3_OBJECTS = "TeleportRecordingsReadObjects"


def recordings_objects_arn(bucket_arn: str, prefix: str) -> str:
    return f"{bucket_arn}/{prefix}/*"


def auth_s3_policy_statements(*, bucket_arn: str, prefix: str) -> list[PolicyStatement]:
    return s3_policy_statements(
        bucket_arn=bucket_arn,
        prefix=prefix,
        bucket_actions=AUTH_S3_BUCKET_ACTIONS,
        object_actions=AUTH_S3_OBJECT_ACTIONS,
    )


def reader_s3_policy_statements(*, bucket_arn: str, prefix: str) -> list[PolicyStatement]:
    return s3_policy_statements(
        bucket_arn=bucket_arn,
        prefix=prefix,
        bucket_actions=READER_S3_BUCKET_ACTIONS,
        object_actions=READER_S3_OBJECT_ACTIONS,
        sids=(SID_READER_S3_BUCKET, SID_READER_S3_OBJECTS),
    )


def s3_policy_statements(
    *,
    bucket_arn: str,
    prefix: str,
    bucket_actions: Sequence[str],
    object_actions: Sequence[str],
    sids: tuple[str, str] = (SID_AUTH_S3_BUCKET, SID_AUTH_S3_OBJECTS),
) -> list[PolicyStatement]:
    """Bucket-level actions on the bucket, object actions on ``PREFIX/*`` only."""
    return [
        {"Sid": sids[0], "Effect": "Allow", "Action": list(bucket_actions), "Resource": bucket_arn},
        {
            "Sid": sids[1],
            "Effect": "Allow",
            "Action": list(object_actions),
            "Resource": recordings_objects_arn(bucket_arn, prefix),
        },
    ]


# --- Teleport configuration -----------------------------------------------------------------------


def storage_uri(*, bucket_name: str, prefix: str, region: str, key_arn: str) -> str:
    """The ``audit_sessions_uri`` value for ``teleport.yaml`` (RFD 42's ``sse_kms_key``)."""
    return f"s3://{bucket_name}/{prefix}?region={region}&sse_kms_key={key_arn}"
