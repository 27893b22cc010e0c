"""The boto3 reads of ``recordings-kms verify``: the key, the bucket, the auth principal's identity
policies, and IAM Access Analyzer's verdicts, as the records ``verify.facts`` defines.

Read-only. The key and bucket reads raise :class:`aws.AwsError` (through ``aws.translated``) when
they cannot be made; the identity policies and Access Analyzer are best effort, and a refused or
failed read becomes a reason that ``verify`` reports as a WARN line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from botocore.exceptions import BotoCoreError, ClientError

from constructs_lib.core import arns
from recordings_kms.aws import AwsError, Clients, error_code, iam_client, is_access_denied, translated
from recordings_kms.verify.access_analyzer import AnalyzerAnswer, AnalyzerQuestion
from recordings_kms.verify.facts import BucketFacts, IdentityFacts, KeyFacts

if TYPE_CHECKING:
    from mypy_boto3_accessanalyzer.client import AccessAnalyzerClient
    from mypy_boto3_iam.client import IAMClient
    from mypy_boto3_s3.type_defs import PublicAccessBlockConfigurationTypeDef, ServerSideEncryptionRuleOutputTypeDef

#: Error codes that mean "the bucket has no such configuration", which the checks judge as FAIL.
_ABSENT = frozenset(
    {
        "NoSuchBucketPolicy",
        "ServerSideEncryptionConfigurationNotFoundError",
        "NoSuchPublicAccessBlockConfiguration",
        "OwnershipControlsNotFoundError",
        "NoSuchLifecycleConfiguration",
        "ObjectLockConfigurationNotFoundError",
        "ReplicationConfigurationNotFoundError",
    }
)


def gather_key(clients: Clients, key: str) -> KeyFacts:
    kms = clients.kms
    with translated("kms", key):
        metadata = kms.describe_key(KeyId=key)["KeyMetadata"]
        arn = metadata.get("Arn", metadata["KeyId"])
        policy = kms.get_key_policy(KeyId=arn, PolicyName="default").get("Policy")
    rotation: bool | None = None
    period: int | None = None
    rotation_error: str | None = None
    with translated("kms", key):
        try:
            status = kms.get_key_rotation_status(KeyId=arn)
            rotation = status.get("KeyRotationEnabled", False)
            period = status.get("RotationPeriodInDays")
        except ClientError as error:
            # Asymmetric keys and keys pending deletion have no rotation status: a finding, not an error.
            if is_access_denied(error):
                raise
            rotation_error = f"{error_code(error)}: {error.response.get('Error', {}).get('Message', '')}".strip()
    with translated("kms", key):
        grants: list[Mapping[str, Any]] = []
        for page in kms.get_paginator("list_grants").paginate(KeyId=arn):
            grants += page.get("Grants", [])
    return KeyFacts(
        metadata=metadata,
        rotation_enabled=rotation,
        rotation_period_days=period,
        rotation_error=rotation_error,
        policy_text=policy,
        grants=tuple(grants),
    )


def gather_bucket(clients: Clients, bucket: str) -> BucketFacts:
    s3 = clients.s3
    encryption: list[ServerSideEncryptionRuleOutputTypeDef] | None = None
    policy: str | None = None
    block: PublicAccessBlockConfigurationTypeDef | None = None
    ownership: str | None = None
    lifecycle: list[Any] | None = None
    lock: Mapping[str, Any] | None = None
    replication: Mapping[str, Any] | None = None
    with translated("s3", bucket):
        versioning = s3.get_bucket_versioning(Bucket=bucket).get("Status")
        try:
            encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        except ClientError as error:
            if error_code(error) not in _ABSENT:
                raise
        try:
            policy = s3.get_bucket_policy(Bucket=bucket)["Policy"]
        except ClientError as error:
            if error_code(error) not in _ABSENT:
                raise
        try:
            block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        except ClientError as error:
            if error_code(error) not in _ABSENT:
                raise
        try:
            rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
            ownership = rules[0]["ObjectOwnership"] if rules else None
        except ClientError as error:
            if error_code(error) not in _ABSENT:
                raise
        try:
            lifecycle = list(s3.get_bucket_lifecycle_configuration(Bucket=bucket).get("Rules", []))
        except ClientError as error:
            if error_code(error) not in _ABSENT:
                raise
        try:
            lock = s3.get_object_lock_configuration(Bucket=bucket).get("ObjectLockConfiguration")
        except ClientError as error:
            if error_code(error) not in _ABSENT:
                raise
        try:
            replication = s3.get_bucket_replication(Bucket=bucket).get("ReplicationConfiguration")
        except ClientError as error:
            if error_code(error) not in _ABSENT:
                raise
    resolved = _resolve_alias(clients, encryption)
    return BucketFacts(
        name=bucket,
        encryption_rules=encryption,
        policy_text=policy,
        public_access_block=block,
        versioning_status=versioning,
        object_ownership=ownership,
        default_key_resolved_arn=resolved,
        lifecycle_rules=lifecycle,
        object_lock=lock,
        replication=replication,
    )


def _resolve_alias(clients: Clients, rules: list[ServerSideEncryptionRuleOutputTypeDef] | None) -> str | None:
    """Default encryption may name the key by alias; find which key that is (best effort)."""
    for rule in rules or ():
        named = rule.get("ApplyServerSideEncryptionByDefault", {}).get("KMSMasterKeyID", "")
        if "alias/" in named:
            try:
                return clients.kms.describe_key(KeyId=named)["KeyMetadata"].get("Arn")
            except (ClientError, BotoCoreError):
                return None
    return None


# --- the auth principal's identity policies (best effort) ----------------------------------------


class _UnreadableError(Exception):
    """An identity policy set that cannot be read completely: the reason, in one line."""


def gather_identity(clients: Clients, principal_arn: str, *, iam: IAMClient | None = None) -> IdentityFacts:
    """Every identity policy of the auth role or user (attached, inline, and a user's groups'), or why not.

    Never raises for IAM's answers: a denied or failed read becomes ``IdentityFacts.problem``, which
    ``verify`` reports as a WARN (P5 then judges the resource policies only). ``iam``: a client with
    another account's credentials (a cluster role of a workload account); default: ``clients``'.
    """
    principal = arns.parse_iam_principal(principal_arn)
    if principal is None or principal.kind not in ("role", "user"):
        return IdentityFacts(principal_arn, problem="not an IAM role or user ARN")
    try:
        iam = iam or iam_client(clients)
        if principal.kind == "role":
            return _role_identity(iam, principal)
        return _user_identity(iam, principal)
    except ClientError as error:
        return IdentityFacts(principal_arn, problem=_identity_problem(error, principal))
    except _UnreadableError as error:
        return IdentityFacts(principal_arn, problem=str(error))
    except (AwsError, BotoCoreError) as error:
        return IdentityFacts(principal_arn, problem=" ".join(str(error).split()))


def _identity_problem(error: ClientError, principal: arns.IamPrincipalArn) -> str:
    code = error_code(error)
    if code == "NoSuchEntity":
        return f"IAM has no {principal.kind} {principal.name} in the account of these credentials"
    if is_access_denied(error):
        return f"access denied: {error.operation_name}"
    message = str(error.response.get("Error", {}).get("Message", "")).strip()
    return f"{error.operation_name}: {code}" + (f": {message}" if message else "")


def _document(value: object, what: str) -> Mapping[str, Any]:
    """A policy document: botocore decodes IAM's URL-encoded JSON; decode it here when it did not."""
    if isinstance(value, str):
        try:
            value = json.loads(unquote(value))
        except json.JSONDecodeError as error:
            raise _UnreadableError(f"{what} is not JSON ({error.msg})") from None
    if not isinstance(value, Mapping):
        raise _UnreadableError(f"{what} is not a JSON object")
    return value


def _same_principal(reported: str, principal: arns.IamPrincipalArn) -> None:
    # IAM names ignore case; the account and path must be the design's, or this is another principal.
    if reported.lower() != principal.arn.lower():
        raise _UnreadableError(
            f"IAM reports {reported} for the name {principal.name}: these credentials read another account's IAM"
        )


def _managed(iam: IAMClient, policy_arn: str) -> Mapping[str, Any]:
    version = iam.get_policy(PolicyArn=policy_arn)["Policy"].get("DefaultVersionId")
    if not version:
        raise _UnreadableError(f"IAM reports no default version of {policy_arn}")
    document = iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)["PolicyVersion"].get("Document")
    return _document(document, f"policy {policy_arn}")


def _role_identity(iam: IAMClient, principal: arns.IamPrincipalArn) -> IdentityFacts:
    role = iam.get_role(RoleName=principal.name)["Role"]
    _same_principal(role["Arn"], principal)
    attached = [
        _managed(iam, p["PolicyArn"])
        for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=principal.name)
        for p in page.get("AttachedPolicies", [])
        if "PolicyArn" in p
    ]
    inline = [
        _document(
            iam.get_role_policy(RoleName=principal.name, PolicyName=name)["PolicyDocument"],
            f"inline policy {name} of {principal.arn}",
        )
        for page in iam.get_paginator("list_role_policies").paginate(RoleName=principal.name)
        for name in page.get("PolicyNames", [])
    ]
    boundary = role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
    trust = role.get("AssumeRolePolicyDocument")
    return IdentityFacts(
        principal.arn,
        documents=(*attached, *inline),
        attached=len(attached),
        inline=len(inline),
        boundary=boundary,
        trust_policy=_document(trust, f"the trust policy of {principal.arn}") if trust is not None else None,
    )


def _user_identity(iam: IAMClient, principal: arns.IamPrincipalArn) -> IdentityFacts:
    user = iam.get_user(UserName=principal.name)["User"]
    _same_principal(user["Arn"], principal)
    attached = [
        _managed(iam, p["PolicyArn"])
        for page in iam.get_paginator("list_attached_user_policies").paginate(UserName=principal.name)
        for p in page.get("AttachedPolicies", [])
        if "PolicyArn" in p
    ]
    inline = [
        _document(
            iam.get_user_policy(UserName=principal.name, PolicyName=name)["PolicyDocument"],
            f"inline policy {name} of {principal.arn}",
        )
        for page in iam.get_paginator("list_user_policies").paginate(UserName=principal.name)
        for name in page.get("PolicyNames", [])
    ]
    groups = [
        g["GroupName"]
        for page in iam.get_paginator("list_groups_for_user").paginate(UserName=principal.name)
        for g in page.get("Groups", [])
    ]
    from_groups = [
        _managed(iam, p["PolicyArn"])
        for group in groups
        for page in iam.get_paginator("list_attached_group_policies").paginate(GroupName=group)
        for p in page.get("AttachedPolicies", [])
        if "PolicyArn" in p
    ]
    from_groups += [
        _document(
            iam.get_group_policy(GroupName=group, PolicyName=name)["PolicyDocument"],
            f"inline policy {name} of group {group}",
        )
        for group in groups
        for page in iam.get_paginator("list_group_policies").paginate(GroupName=group)
        for name in page.get("PolicyNames", [])
    ]
    boundary = user.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
    return IdentityFacts(
        principal.arn,
        documents=(*attached, *inline, *from_groups),
        attached=len(attached),
        inline=len(inline),
        from_groups=len(from_groups),
        boundary=boundary,
    )


# --- IAM Access Analyzer ----------------------------------------------------------------------------


def ask_access_analyzer(client: AccessAnalyzerClient, question: AnalyzerQuestion) -> AnalyzerAnswer:
    """AWS's own verdict on one question; a refused or failed call is an answer with ``error`` set."""
    try:
        if question.resource_type is not None:
            response = client.check_no_public_access(
                policyDocument=question.policy_document, resourceType=question.resource_type
            )
        else:
            response = client.check_access_not_granted(
                policyDocument=question.policy_document,
                access=[{"actions": list(question.actions)}],
                policyType="RESOURCE_POLICY",
            )
    except ClientError as error:
        code = error_code(error)
        message = " ".join(str(error.response.get("Error", {}).get("Message", "")).split())
        needs = f"; needs access-analyzer:{error.operation_name}" if is_access_denied(error) else ""
        return AnalyzerAnswer(question, error=f"{error.operation_name}: {code}: {message}{needs}")
    except BotoCoreError as error:
        return AnalyzerAnswer(question, error=" ".join(str(error).split()))
    reasons = tuple(
        _reason_line(r.get("description", ""), r.get("statementIndex"), r.get("statementId"))
        for r in response.get("reasons", [])
    )
    return AnalyzerAnswer(question, result=response["result"], message=response.get("message", ""), reasons=reasons)


def _reason_line(description: str, index: int | None, sid: str | None) -> str:
    where = f"statement {sid!r}" if sid else (f"statement #{index + 1}" if index is not None else "")
    return f"{where}: {description}" if where else description
