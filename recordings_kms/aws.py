"""The boto3 side of ``recordings-kms``: read-only calls that gather facts, and readable errors.

Every AWS error a user can cause (no credentials, a missing bucket, key or stack, AccessDenied,
an unreachable endpoint) becomes an :class:`AwsError` with one line that says what to do.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

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

from constructs_lib.core import arns
from recordings_kms.checks import BucketFacts, KeyFacts

if TYPE_CHECKING:
    from mypy_boto3_cloudformation.client import CloudFormationClient
    from mypy_boto3_kms.client import KMSClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import PublicAccessBlockConfigurationTypeDef, ServerSideEncryptionRuleOutputTypeDef


class AwsError(Exception):
    """An error to report in one line, without a traceback (exit code 2)."""


#: Error codes that mean "the bucket has no such configuration", which the checks judge as FAIL.
_ABSENT = frozenset(
    {
        "NoSuchBucketPolicy",
        "ServerSideEncryptionConfigurationNotFoundError",
        "NoSuchPublicAccessBlockConfiguration",
        "OwnershipControlsNotFoundError",
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
    ("s3", "GetBucketVersioning"): "s3:GetBucketVersioning",
    ("s3", "GetBucketEncryption"): "s3:GetEncryptionConfiguration",
    ("s3", "GetBucketPolicy"): "s3:GetBucketPolicy",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3", "GetBucketOwnershipControls"): "s3:GetBucketOwnershipControls",
    ("cloudformation", "DescribeStacks"): "cloudformation:DescribeStacks",
}
#: Who has the KMS reads in this design's key policy (``constructs_lib.core.policies.key_policy``).
_KMS_WHO = (
    "in this design the key policy has no account-root statement, so IAM policies cannot grant it: of the "
    "principals it names, "
    "only the key administrators (keyAdminArns) and the CloudFormation execution role have "
    "kms:DescribeKey, kms:GetKeyPolicy and kms:GetKeyRotationStatus (the auth role has only kms:DescribeKey and "
    "encryption); run verify as a key administrator or the CloudFormation execution role, or add a key administrator"
)
_READ_HINTS = {
    "kms": _KMS_WHO,
    "s3": "verify reads the bucket with s3:GetBucketVersioning, s3:GetEncryptionConfiguration, s3:GetBucketPolicy, "
    "s3:GetBucketPublicAccessBlock and s3:GetBucketOwnershipControls (IAM permissions of the caller)",
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


@dataclass(frozen=True)
class Clients:
    s3: S3Client
    kms: KMSClient
    cloudformation: CloudFormationClient
    region: str
    endpoint_url: str | None

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
    return Clients(s3=s3, kms=kms, cloudformation=cloudformation, region=name, endpoint_url=endpoint_url)


def stack_outputs(clients: Clients, stack_name: str) -> dict[str, str]:
    with translated("cloudformation", stack_name):
        stacks = clients.cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    if not stacks:
        raise AwsError(f"stack {stack_name} not found in {clients.region}")
    return {
        o["OutputKey"]: o["OutputValue"]
        for o in stacks[0].get("Outputs", [])
        if "OutputKey" in o and "OutputValue" in o
    }


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
    return KeyFacts(
        metadata=metadata,
        rotation_enabled=rotation,
        rotation_period_days=period,
        rotation_error=rotation_error,
        policy_text=policy,
    )


def gather_bucket(clients: Clients, bucket: str) -> BucketFacts:
    s3 = clients.s3
    encryption: list[ServerSideEncryptionRuleOutputTypeDef] | None = None
    policy: str | None = None
    block: PublicAccessBlockConfigurationTypeDef | None = None
    ownership: str | None = None
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
    resolved = _resolve_alias(clients, encryption)
    return BucketFacts(
        name=bucket,
        encryption_rules=encryption,
        policy_text=policy,
        public_access_block=block,
        versioning_status=versioning,
        object_ownership=ownership,
        default_key_resolved_arn=resolved,
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
