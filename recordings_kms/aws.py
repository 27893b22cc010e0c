"""The boto3 side of ``recordings-kms``: read-only calls that gather facts, and readable errors.

Every AWS error a user can cause (no credentials, a missing bucket, key or stack, AccessDenied,
an unreachable endpoint) becomes an :class:`AwsError` with one line that says what to do.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    InvalidRegionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError

from constructs_lib.core import arns
from recordings_kms.access_analyzer import AnalyzerAnswer, AnalyzerQuestion
from recordings_kms.checks import BucketFacts, IdentityFacts, KeyFacts

if TYPE_CHECKING:
    from mypy_boto3_accessanalyzer.client import AccessAnalyzerClient
    from mypy_boto3_cloudformation.client import CloudFormationClient
    from mypy_boto3_iam.client import IAMClient
    from mypy_boto3_kms.client import KMSClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import PublicAccessBlockConfigurationTypeDef, ServerSideEncryptionRuleOutputTypeDef


class AwsError(Exception):
    """An error to report in one line, without a traceback (exit code 2)."""


#: What a botocore call can raise about the call itself. ``ResponseParserError`` (an answer that is
#: not the service's XML or JSON, such as a proxy's HTML error page) derives from neither of the others.
CALL_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError, ResponseParserError)
#: How much of an unparsable answer an error line quotes.
_QUOTED_ANSWER = 120
#: How much of an error message an error line quotes (an endpoint's whole HTML page is not a message).
_QUOTED_MESSAGE = 400


def unparsable_line(error: ResponseParserError) -> str:
    """An answer botocore could not parse, as one bounded line: botocore's reason and the answer's start."""
    text = " ".join(str(error).split())
    reason, _, answer = text.partition(" Further retries may succeed: ")
    # botocore quotes the body as a bytes literal: drop the b'...' and its escaped line breaks.
    answer = answer.removeprefix("b'").removeprefix('b"').rstrip("'\"")
    answer = " ".join(answer.replace("\\r", " ").replace("\\n", " ").split())
    quoted = answer[:_QUOTED_ANSWER] + ("..." if len(answer) > _QUOTED_ANSWER else "")
    return reason.rstrip(".") + (f"; the answer starts: {quoted}" if quoted else "")


#: Error codes that mean "the bucket has no such configuration", which the checks judge as FAIL.
_ABSENT = frozenset(
    {
        "NoSuchBucketPolicy",
        "ServerSideEncryptionConfigurationNotFoundError",
        "NoSuchPublicAccessBlockConfiguration",
        "OwnershipControlsNotFoundError",
        "NoSuchLifecycleConfiguration",
        "ObjectLockConfigurationNotFoundError",
    }
)
_BAD_CREDENTIALS = frozenset(
    {
        "InvalidClientTokenId",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
    }
)
#: The reads verify makes, by (service, operation): the IAM action each needs.
READ_ACTIONS = {
    ("kms", "DescribeKey"): "kms:DescribeKey",
    ("kms", "GetKeyPolicy"): "kms:GetKeyPolicy",
    ("kms", "GetKeyRotationStatus"): "kms:GetKeyRotationStatus",
    ("kms", "ListGrants"): "kms:ListGrants",
    ("s3", "GetBucketVersioning"): "s3:GetBucketVersioning",
    ("s3", "GetBucketEncryption"): "s3:GetEncryptionConfiguration",
    ("s3", "GetBucketPolicy"): "s3:GetBucketPolicy",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3", "GetBucketOwnershipControls"): "s3:GetBucketOwnershipControls",
    ("s3", "GetBucketLifecycleConfiguration"): "s3:GetLifecycleConfiguration",
    ("s3", "GetObjectLockConfiguration"): "s3:GetBucketObjectLockConfiguration",
    ("cloudformation", "DescribeStacks"): "cloudformation:DescribeStacks",
}
#: Who has the KMS reads in this design's key policy (``constructs_lib.core.policies.key_policy``).
_KMS_WHO = (
    "in this design the key policy has no account-root statement, so IAM policies cannot grant it: of the "
    "principals it names, "
    "only the key administrators (keyAdminArns) and the CloudFormation execution role have "
    "kms:DescribeKey, kms:GetKeyPolicy, kms:GetKeyRotationStatus and kms:ListGrants (the auth role has only "
    "kms:DescribeKey and encryption); run verify as a key administrator or the CloudFormation execution role, "
    "or add a key administrator"
)
_READ_HINTS = {
    "kms": _KMS_WHO,
    "s3": "verify reads the bucket with s3:GetBucketVersioning, s3:GetEncryptionConfiguration, s3:GetBucketPolicy, "
    "s3:GetBucketPublicAccessBlock, s3:GetBucketOwnershipControls, s3:GetLifecycleConfiguration and "
    "s3:GetBucketObjectLockConfiguration (IAM permissions of the caller)",
    "cloudformation": "verify --stack-name and teleport-config --stack-name need cloudformation:DescribeStacks",
}


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def is_access_denied(error: ClientError) -> bool:
    code = error_code(error)
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in ("AccessDenied", "AccessDeniedException", "Forbidden", "403") or (
        status == 403 and code not in _BAD_CREDENTIALS
    )


def describe_client_error(error: ClientError, service: str, resource: str) -> str:
    code = error_code(error)
    message = str(error.response.get("Error", {}).get("Message", "")).strip()
    operation = error.operation_name
    if code in ("NoSuchBucket", "404") and service == "s3":
        return f"bucket {resource} does not exist (S3 {operation}: {code})"
    if code == "NotFoundException" and service == "kms":
        return f"KMS key {resource} not found in this region ({message or code})"
    if code == "ValidationError" and service == "cloudformation" and "does not exist" in message:
        return f"stack {resource} not found in this region ({message})"
    if code in _BAD_CREDENTIALS:
        return f"the AWS credentials were rejected ({code}): check the profile or the access key"
    if is_access_denied(error):
        # moto and some endpoints wrap the real message in XML: keep the readable part.
        readable = message.split("<Message>")[-1].split("</Message>")[0] if "<Message>" in message else message
        action = READ_ACTIONS.get((service, operation))
        needs = f"; needs {action}" if action else ""
        hint = _READ_HINTS.get(service, "")
        return f"access denied: {operation} on {resource}: {readable or code}{needs}" + (f"; {hint}" if hint else "")
    if len(message) > _QUOTED_MESSAGE:
        message = " ".join(message.split())[:_QUOTED_MESSAGE] + "..."
    return f"{service} {operation} on {resource} failed: {code}: {message}"


@contextmanager
def translated(service: str, resource: str) -> Iterator[None]:
    """Turn the errors of the calls inside into :class:`AwsError` with a readable line."""
    try:
        yield
    except ClientError as error:
        raise AwsError(describe_client_error(error, service, resource)) from error
    except (NoCredentialsError, PartialCredentialsError) as error:
        raise AwsError(
            "no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "or run where an instance or task role is available"
        ) from error
    except NoRegionError as error:
        raise AwsError(no_region_message()) from error
    except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError) as error:
        raise AwsError(f"cannot reach the {service} endpoint: {error}") from error
    except BotoCoreError as error:
        raise AwsError(f"{service} call for {resource} failed: {error}") from error
    except ResponseParserError as error:
        raise AwsError(
            f"{service} call for {resource} failed: the endpoint's answer is not an AWS response "
            f"({unparsable_line(error)}); check --endpoint-url and any proxy in between"
        ) from error


@dataclass(frozen=True)
class Clients:
    s3: S3Client
    kms: KMSClient
    cloudformation: CloudFormationClient
    region: str
    endpoint_url: str | None
    #: Where ``iam_client`` and ``access_analyzer_client`` make their clients, only when a command needs them.
    session: boto3.session.Session | None = field(default=None, compare=False, repr=False)
    config: Config | None = field(default=None, compare=False, repr=False)

    @property
    def enforces_policies(self) -> bool:
        """Whether a put the bucket policy should deny must have been denied: true for AWS itself.

        Any other endpoint (moto, LocalStack, MinIO) may not evaluate bucket policies at all.
        """
        if self.endpoint_url is None:
            return True
        host = urlsplit(self.endpoint_url).hostname or ""
        return host.endswith((".amazonaws.com", ".amazonaws.com.cn", ".api.aws"))


def region_of_key(key: str) -> str | None:
    parsed = arns.parse_key_arn(key)
    return parsed[0].region if parsed is not None else None


#: Where ``make_clients`` looks for the region, in order (boto3 itself ignores AWS_REGION).
REGION_SOURCES = (
    "--region, the region of a key ARN given to --key, AWS_REGION, AWS_DEFAULT_REGION, "
    "then the region of the AWS config profile"
)


def no_region_message(key: str | None = None) -> str:
    note = f" (--key {key} is not a key ARN, so it names no region)" if key and region_of_key(key) is None else ""
    return (
        "no AWS region: pass --region, or set AWS_REGION or AWS_DEFAULT_REGION, "
        f"or set region in the AWS config profile{note}"
    )


def resolve_region(*, region: str | None, key: str | None, configured: str | None) -> tuple[str, str] | None:
    """The region to use and where it came from: ``REGION_SOURCES``, in that order.

    ``configured`` is what a boto3 session found (AWS_DEFAULT_REGION, then the config profile).
    """
    candidates = (
        ("--region", region),
        ("the key ARN", region_of_key(key) if key else None),
        ("AWS_REGION", os.environ.get("AWS_REGION")),
        ("AWS_DEFAULT_REGION or the AWS config profile", configured),
    )
    return next(((value, source) for source, value in candidates if value), None)


def make_clients(*, region: str | None, endpoint_url: str | None, key: str | None = None) -> Clients:
    """Clients for the region of ``REGION_SOURCES``; every setup error is an :class:`AwsError`."""
    try:
        session = boto3.session.Session()
        resolved = resolve_region(region=region, key=key, configured=session.region_name)
    except BotoCoreError as error:
        # For example AWS_PROFILE naming a missing profile, or an unreadable AWS config file.
        raise AwsError(f"cannot read the AWS configuration: {error}") from error
    if resolved is None:
        raise AwsError(no_region_message(key))
    name, source = resolved
    config = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=10, read_timeout=30)
    try:
        s3 = session.client("s3", region_name=name, endpoint_url=endpoint_url, config=config)
        kms = session.client("kms", region_name=name, endpoint_url=endpoint_url, config=config)
        cloudformation = session.client("cloudformation", region_name=name, endpoint_url=endpoint_url, config=config)
    except InvalidRegionError as error:
        raise AwsError(f"region {name!r} (from {source}) is not a valid AWS region name") from error
    except ValueError as error:
        # botocore refuses a malformed endpoint with a bare ValueError ("Invalid endpoint: ...").
        raise AwsError(f"--endpoint-url {endpoint_url!r} is not usable: {error}") from error
    except BotoCoreError as error:
        raise AwsError(f"cannot set up the AWS clients: {error}") from error
    return Clients(
        s3=s3,
        kms=kms,
        cloudformation=cloudformation,
        region=name,
        endpoint_url=endpoint_url,
        session=session,
        config=config,
    )


def iam_client(clients: Clients) -> IAMClient:
    """IAM, for the auth principal's identity policies (``verify`` only; IAM is global)."""
    session = clients.session or boto3.session.Session()
    with translated("iam", clients.endpoint_url or clients.region):
        return session.client(
            "iam", region_name=clients.region, endpoint_url=clients.endpoint_url, config=clients.config
        )


def access_analyzer_client(clients: Clients) -> AccessAnalyzerClient:
    """IAM Access Analyzer in the verified region (``verify --access-analyzer`` only)."""
    session = clients.session or boto3.session.Session()
    with translated("accessanalyzer", clients.endpoint_url or clients.region):
        return session.client(
            "accessanalyzer", region_name=clients.region, endpoint_url=clients.endpoint_url, config=clients.config
        )


@dataclass(frozen=True)
class StackFacts:
    outputs: dict[str, str]
    #: ``RoleARN``: the role CloudFormation last deployed the stack with; ``None`` when it used the caller's.
    role_arn: str | None


def describe_stack(clients: Clients, stack_name: str) -> StackFacts:
    with translated("cloudformation", stack_name):
        stacks = clients.cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    if not stacks:
        raise AwsError(f"stack {stack_name} not found in {clients.region}")
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in stacks[0].get("Outputs", [])
        if "OutputKey" in o and "OutputValue" in o
    }
    return StackFacts(outputs=outputs, role_arn=stacks[0].get("RoleARN") or None)


def stack_outputs(clients: Clients, stack_name: str) -> dict[str, str]:
    return describe_stack(clients, stack_name).outputs


def require_outputs(outputs: dict[str, str], stack_name: str, *names: str) -> list[str]:
    missing = [name for name in names if not outputs.get(name)]
    if missing:
        raise AwsError(
            f"stack {stack_name} has no output {', '.join(missing)}: is it a session recordings stack? "
            f"(outputs: {', '.join(sorted(outputs)) or 'none'})"
        )
    return [outputs[name] for name in names]


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


def gather_identity(clients: Clients, principal_arn: str) -> IdentityFacts:
    """Every identity policy of the auth role or user (attached, inline, and a user's groups'), or why not.

    Never raises for IAM's answers: a denied or failed read becomes ``IdentityFacts.problem``, which
    ``verify`` reports as a WARN (P5 then judges the resource policies only).
    """
    principal = arns.parse_iam_principal(principal_arn)
    if principal is None or principal.kind not in ("role", "user"):
        return IdentityFacts(principal_arn, problem="not an IAM role or user ARN")
    try:
        iam = iam_client(clients)
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
    return IdentityFacts(
        principal.arn,
        documents=(*attached, *inline),
        attached=len(attached),
        inline=len(inline),
        boundary=boundary,
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
