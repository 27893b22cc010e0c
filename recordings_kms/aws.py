"""The boto3 adapter every AWS command shares: clients for one region, stack outputs, readable errors.

Every AWS error a user can cause (no credentials, a missing bucket, key or stack, AccessDenied,
an unreachable endpoint) becomes an :class:`AwsError` with one line that says what to do. What a
command reads with these clients is the command's own (``verify.readers``, ``migrate.s3``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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
from botocore.parsers import ResponseParserError

from constructs_lib.core import arns

if TYPE_CHECKING:
    from mypy_boto3_accessanalyzer.client import AccessAnalyzerClient
    from mypy_boto3_cloudformation.client import CloudFormationClient
    from mypy_boto3_iam.client import IAMClient
    from mypy_boto3_kms.client import KMSClient
    from mypy_boto3_s3.client import S3Client


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
    default = os.environ.get("AWS_DEFAULT_REGION")
    candidates = (
        ("--region", region),
        (f"--key {key}", region_of_key(key) if key else None),
        ("AWS_REGION", os.environ.get("AWS_REGION")),
        ("AWS_DEFAULT_REGION" if default and default == configured else "the AWS config profile's region", configured),
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
    if source != "--region":  # --region was judged with the other options; the rest is judged here, by its name
        from recordings_kms.options import region_problem, warn_if_region_unknown

        if problem := region_problem(name, source):
            raise AwsError(problem)
        warn_if_region_unknown(name, source)
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
