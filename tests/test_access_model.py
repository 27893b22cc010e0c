"""Who can and cannot read session recordings: the synthesized bucket and key policies, evaluated.

The policies come from the real templates (``synth``), with CloudFormation intrinsics resolved to test
ARNs, and are evaluated by principalmapper (see tests/policy_eval.py and the checks of its semantics in
tests/test_policy_eval.py). Every table runs for three configurations:

* ``default``: ``AppSettings()``: no key admins, no denied principals, key scoped to S3, not strict.
* ``configured``: ``FULL_CONTEXT``: two key admins in ``separated`` mode, two denied principals,
  strict mode (``requireEncryptionHeaders``), a custom deploy role, bucket name and prefix.
* ``rfd-unscoped``: the RFD's literal template: the same key admins and denied principals in ``rfd``
  mode (``kms:*``) and ``scopeKeyToS3=false``.

Test ids are ``<table>[<configuration>-<row>]``; docs/THREAT_MODEL.md cites them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

import botocore.session
import pytest

from constructs_lib.core import policies
from constructs_lib.core.settings import AppSettings
from tests.conftest import ACCOUNT, ADMIN_ROLE, ADMIN_USER, DENIED_ROLE, DENIED_USER, FULL_CONTEXT, REGION
from tests.policy_eval import (
    ADMINISTRATOR_ACCESS,
    Decision,
    Node,
    PolicyDocument,
    StackPolicies,
    evaluate_bucket_policy,
    evaluate_key_policy,
    is_authorized,
    paths_to,
    principal,
    stack_policies,
    statements_without,
)

A, NA, D, ND = Decision.ALLOWED, Decision.NOT_ALLOWED, Decision.DENIED, Decision.NOT_DENIED

OTHER_ACCOUNT = "444455556666"
DEFAULT_DEPLOY_ROLE = f"arn:aws:iam::{ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-{ACCOUNT}-{REGION}"
#: An IAM administrator of the account that no key policy statement names.
ACCOUNT_ADMIN = f"arn:aws:iam::{ACCOUNT}:role/AccountAdministrator"
OTHER_ACCOUNT_ADMIN = f"arn:aws:iam::{OTHER_ACCOUNT}:role/Administrator"
OTHER_KEY_ID = "0987dcba-09fe-87dc-65ba-ab0987654321"
OTHER_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{OTHER_KEY_ID}"
OTHER_ACCOUNT_KEY_ARN = f"arn:aws:kms:{REGION}:{OTHER_ACCOUNT}:key/{OTHER_KEY_ID}"
S3_HERE = f"s3.{REGION}.amazonaws.com"

RFD_UNSCOPED_CONTEXT: dict[str, Any] = {
    "keyAdminArns": FULL_CONTEXT["keyAdminArns"],
    "deniedPrincipalArns": FULL_CONTEXT["deniedPrincipalArns"],
    "keyAdminMode": "rfd",
    "scopeKeyToS3": "false",
}
SCENARIOS = ("default", "configured", "rfd-unscoped")
#: The default configuration synthesized without an account and region (``${AWS::Region}`` and friends).
ENV_AGNOSTIC = "env-agnostic"


# --- Configurations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    config: AppSettings
    stack: StackPolicies

    @property
    def deploy_role_arn(self) -> str:
        return self.config.deploy_role or DEFAULT_DEPLOY_ROLE

    @property
    def bucket_arn(self) -> str:
        return self.stack.bucket_arn

    def object_arn(self, name: str = "2024/05/07/9f3c.tar") -> str:
        return f"{self.bucket_arn}/{self.config.recordings_prefix}/{name}"


@pytest.fixture(scope="module")
def scenarios(synth: Callable[..., dict[str, Any]], full_config: AppSettings) -> Callable[[str], Scenario]:
    configs = {
        "default": AppSettings(),
        "configured": full_config,
        "rfd-unscoped": AppSettings.from_context(RFD_UNSCOPED_CONTEXT),
    }
    cache: dict[str, Scenario] = {}

    def get(name: str) -> Scenario:
        if name not in cache:
            if name == ENV_AGNOSTIC:
                config, template = configs["default"], synth(configs["default"], env=None)
            else:
                config, template = configs[name], synth(configs[name])
            cache[name] = Scenario(name, config, stack_policies(template, account=ACCOUNT, region=REGION))
        return cache[name]

    return get


T = TypeVar("T")


@dataclass(frozen=True)
class Expect(Generic[T]):
    """The expected outcome of a row in each configuration."""

    default: T
    configured: T
    rfd_unscoped: T

    @classmethod
    def always(cls, value: T) -> Expect[T]:
        return cls(value, value, value)

    def __getitem__(self, scenario: str) -> T:
        value: T = getattr(self, scenario.replace("-", "_"))
        return value


# --- Principals ----------------------------------------------------------------------------------


class Who(StrEnum):
    AUTH_ROLE = "auth-role"
    DEPLOY_ROLE = "deploy-role"
    KEY_ADMIN_ROLE = "key-admin-role"
    KEY_ADMIN_USER = "key-admin-user"
    DENIED_ROLE = "denied-role"
    DENIED_USER = "denied-user"
    ACCOUNT_ADMIN = "account-admin"
    OTHER_ACCOUNT = "other-account-admin"


def arn_of(who: Who, scenario: Scenario) -> str:
    return {
        Who.AUTH_ROLE: scenario.stack.auth_role_arn,
        Who.DEPLOY_ROLE: scenario.deploy_role_arn,
        Who.KEY_ADMIN_ROLE: ADMIN_ROLE,
        Who.KEY_ADMIN_USER: ADMIN_USER,
        Who.DENIED_ROLE: DENIED_ROLE,
        Who.DENIED_USER: DENIED_USER,
        Who.ACCOUNT_ADMIN: ACCOUNT_ADMIN,
        Who.OTHER_ACCOUNT: OTHER_ACCOUNT_ADMIN,
    }[who]


def node_of(who: Who, scenario: Scenario) -> Node:
    """The auth role with the identity policies of the template; everyone else with AdministratorAccess,
    the worst case: the CDK bootstrap's execution role has it, and so do IAM administrators."""
    identity = scenario.stack.auth_role_policies if who is Who.AUTH_ROLE else (ADMINISTRATOR_ACCESS,)
    return principal(arn_of(who, scenario), identity)


# --- Requests ------------------------------------------------------------------------------------

Request = Callable[[Scenario], dict[str, str]]
Value = Callable[[Scenario], str]


def tls(version: str = "1.3") -> dict[str, str]:
    return {"aws:SecureTransport": "true", "s3:TlsVersion": version}


PLAIN_HTTP = {"aws:SecureTransport": "false"}


def this_key_arn(s: Scenario) -> str:
    return s.stack.key_arn


def this_key_id(s: Scenario) -> str:
    return s.stack.key_id


def this_key_alias_arn(s: Scenario) -> str:
    return f"arn:aws:kms:{REGION}:{ACCOUNT}:{s.config.key_alias}"


def constant(value: str) -> Value:
    return lambda _s: value


def put(
    sse: str | None = None, key: Value | None = None, *, sse_c: bool = False, transport: Mapping[str, str] | None = None
) -> Request:
    """A PutObject-authorized request (PutObject, CreateMultipartUpload, UploadPart, CopyObject...)."""

    def build(s: Scenario) -> dict[str, str]:
        context = dict(tls() if transport is None else transport)
        if sse is not None:
            context[policies.SSE_HEADER] = sse
        if key is not None:
            context[policies.SSE_KMS_KEY_HEADER] = key(s)
        if sse_c:
            context[policies.SSE_C_HEADER] = "AES256"
        return context

    return build


def plain(transport: Mapping[str, str]) -> Request:
    return lambda _s: dict(transport)


# --- Bucket policy table -------------------------------------------------------------------------


@dataclass(frozen=True)
class BucketRow:
    id: str
    action: str
    request: Request
    expect: Expect[Decision]
    #: The request is on the bucket itself (ListBucket...), not on an object.
    on_bucket: bool = False


def kebab(action: str) -> str:
    """``s3:GetObjectVersion`` -> ``get-object-version``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", action.split(":", 1)[1]).lower()


STRICT_ONLY = Expect(default=ND, configured=D, rfd_unscoped=ND)

BUCKET_ROWS = [
    BucketRow("put-aws-kms-this-key-arn", "s3:PutObject", put("aws:kms", this_key_arn), Expect.always(ND)),
    BucketRow("put-aws-kms-this-key-id", "s3:PutObject", put("aws:kms", this_key_id), Expect.always(ND)),
    BucketRow("put-no-encryption-headers", "s3:PutObject", put(), STRICT_ONLY),
    BucketRow("put-aes256", "s3:PutObject", put("AES256"), Expect.always(D)),
    BucketRow("put-aws-kms-other-key-arn", "s3:PutObject", put("aws:kms", constant(OTHER_KEY_ARN)), Expect.always(D)),
    BucketRow("put-aws-kms-other-key-id", "s3:PutObject", put("aws:kms", constant(OTHER_KEY_ID)), Expect.always(D)),
    BucketRow(
        "put-aws-kms-other-account-key-arn",
        "s3:PutObject",
        put("aws:kms", constant(OTHER_ACCOUNT_KEY_ARN)),
        Expect.always(D),
    ),
    BucketRow(
        "put-aws-kms-aws-managed-key-alias", "s3:PutObject", put("aws:kms", constant("alias/aws/s3")), Expect.always(D)
    ),
    # The condition compares the header text: this key's alias is not one of the accepted spellings.
    BucketRow("put-aws-kms-this-key-alias-arn", "s3:PutObject", put("aws:kms", this_key_alias_arn), Expect.always(D)),
    BucketRow("put-aws-kms-without-key-id", "s3:PutObject", put("aws:kms"), Expect.always(D)),
    BucketRow("put-aws-kms-dsse-this-key-arn", "s3:PutObject", put("aws:kms:dsse", this_key_arn), Expect.always(D)),
    BucketRow("put-aws-kms-dsse-without-key-id", "s3:PutObject", put("aws:kms:dsse"), Expect.always(D)),
    BucketRow("put-sse-c", "s3:PutObject", put(sse_c=True), Expect.always(D)),
    # S3 itself rejects SSE-C combined with SSE-KMS headers; the SSE-C deny holds on its own regardless
    # (and is the only statement denying it in strict mode, where "put-sse-c" is also missing a header).
    BucketRow(
        "put-sse-c-with-aws-kms-this-key-arn",
        "s3:PutObject",
        put("aws:kms", this_key_arn, sse_c=True),
        Expect.always(D),
    ),
    BucketRow(
        "put-key-id-header-alone-other-key", "s3:PutObject", put(None, constant(OTHER_KEY_ARN)), Expect.always(D)
    ),
    # Teleport's multipart streaming: CreateMultipartUpload carries the headers, UploadPart and
    # CompleteMultipartUpload carry none; all three are authorized as s3:PutObject.
    BucketRow(
        "create-multipart-upload-aws-kms-this-key-arn", "s3:PutObject", put("aws:kms", this_key_arn), Expect.always(ND)
    ),
    BucketRow("upload-part-no-encryption-headers", "s3:PutObject", put(), STRICT_ONLY),
    BucketRow("complete-multipart-upload-no-encryption-headers", "s3:PutObject", put(), STRICT_ONLY),
    BucketRow("get-object-tls1.3", "s3:GetObject", plain(tls("1.3")), Expect.always(ND)),
    BucketRow("get-object-version-tls1.2", "s3:GetObjectVersion", plain(tls("1.2")), Expect.always(ND)),
    BucketRow(
        "list-bucket-versions-tls1.3", "s3:ListBucketVersions", plain(tls("1.3")), Expect.always(ND), on_bucket=True
    ),
    # Integrity is not the bucket policy's job: over TLS it denies no delete or policy change (R5).
    BucketRow("delete-object-tls1.3", "s3:DeleteObject", plain(tls("1.3")), Expect.always(ND)),
    BucketRow("delete-object-version-tls1.3", "s3:DeleteObjectVersion", plain(tls("1.3")), Expect.always(ND)),
    BucketRow("put-bucket-policy-tls1.3", "s3:PutBucketPolicy", plain(tls("1.3")), Expect.always(ND), on_bucket=True),
    BucketRow(
        "put-bucket-versioning-tls1.3", "s3:PutBucketVersioning", plain(tls("1.3")), Expect.always(ND), on_bucket=True
    ),
    BucketRow(
        "put-aws-kms-this-key-arn-tls1.1",
        "s3:PutObject",
        put("aws:kms", this_key_arn, transport=tls("1.1")),
        Expect.always(D),
    ),
    BucketRow("get-object-tls1.1", "s3:GetObject", plain(tls("1.1")), Expect.always(D)),
    BucketRow("get-object-tls1.0", "s3:GetObject", plain(tls("1.0")), Expect.always(D)),
    BucketRow("list-bucket-tls1.1", "s3:ListBucket", plain(tls("1.1")), Expect.always(D), on_bucket=True),
    BucketRow(
        "put-aws-kms-this-key-arn-http",
        "s3:PutObject",
        put("aws:kms", this_key_arn, transport=PLAIN_HTTP),
        Expect.always(D),
    ),
    *[
        BucketRow(f"{kebab(action)}-http", action, plain(PLAIN_HTTP), Expect.always(D), on_bucket=on_bucket)
        for action, on_bucket in [
            ("s3:GetObject", False),
            ("s3:GetObjectVersion", False),
            ("s3:DeleteObject", False),
            ("s3:ListBucket", True),
            ("s3:ListBucketVersions", True),
            ("s3:GetBucketPolicy", True),
            ("s3:PutBucketPolicy", True),
        ]
    ],
]


def bucket_decision(
    scenario: Scenario, who: Who, row: BucketRow, bucket_policy: PolicyDocument | None = None
) -> Decision:
    resource = scenario.bucket_arn if row.on_bucket else scenario.object_arn()
    document = scenario.stack.bucket_policy if bucket_policy is None else bucket_policy
    return evaluate_bucket_policy(
        document, node_of(who, scenario), row.action, resource, row.request(scenario), owner=ACCOUNT
    )


@pytest.mark.parametrize("row", BUCKET_ROWS, ids=lambda r: r.id)
@pytest.mark.parametrize("scenario_name", SCENARIOS)
def test_bucket_policy(scenarios: Callable[[str], Scenario], scenario_name: str, row: BucketRow) -> None:
    """Statements name every principal (``{"AWS": "*"}``): the auth role and an IAM administrator alike."""
    scenario = scenarios(scenario_name)
    for who in (Who.AUTH_ROLE, Who.ACCOUNT_ADMIN, Who.OTHER_ACCOUNT):
        assert bucket_decision(scenario, who, row) is row.expect[scenario_name], who


# --- Key policy table ----------------------------------------------------------------------------


def via_s3(arn: Value | None, service: str = S3_HERE) -> Request:
    """A request S3 makes to KMS for the caller; with Bucket Keys the context is the bucket ARN."""

    def build(s: Scenario) -> dict[str, str]:
        context = {"aws:SecureTransport": "true", "kms:ViaService": service}
        if arn is not None:
            context["kms:EncryptionContext:aws:s3:arn"] = arn(s)
        return context

    return build


def direct(arn: Value | None = None) -> Request:
    """A request made to KMS directly (no kms:ViaService), e.g. with the ciphertext of a data key."""

    def build(s: Scenario) -> dict[str, str]:
        context = {"aws:SecureTransport": "true"}
        if arn is not None:
            context["kms:EncryptionContext:aws:s3:arn"] = arn(s)
        return context

    return build


def the_bucket(s: Scenario) -> str:
    return s.bucket_arn


def a_recording(s: Scenario) -> str:
    return s.object_arn()


OTHER_BUCKET = constant("arn:aws:s3:::someone-elses-bucket")
OTHER_BUCKET_OBJECT = constant("arn:aws:s3:::someone-elses-bucket/records/9f3c.tar")


def bucket_sharing_the_name_prefix(s: Scenario) -> str:
    return f"{s.bucket_arn}-copy"


@dataclass(frozen=True)
class KeyRow:
    id: str
    who: Who
    action: str
    request: Request
    expect: Expect[Decision]


SCOPED_ONLY = Expect(default=NA, configured=NA, rfd_unscoped=A)  # not allowed while scoping is on
RFD_ADMINS = Expect(default=NA, configured=NA, rfd_unscoped=A)  # key admins decrypt only with kms:*
ADMINS = Expect(default=NA, configured=A, rfd_unscoped=A)  # key administration, both modes
DENIED = Expect(default=NA, configured=D, rfd_unscoped=D)  # no deny statement without denied principals

KEY_ROWS = [
    KeyRow("auth-decrypt-via-s3-bucket-context", Who.AUTH_ROLE, "kms:Decrypt", via_s3(the_bucket), Expect.always(A)),
    KeyRow("auth-decrypt-via-s3-object-context", Who.AUTH_ROLE, "kms:Decrypt", via_s3(a_recording), Expect.always(A)),
    KeyRow(
        "auth-generate-data-key-via-s3-bucket-context",
        Who.AUTH_ROLE,
        "kms:GenerateDataKey",
        via_s3(the_bucket),
        Expect.always(A),
    ),
    KeyRow(
        "auth-generate-data-key-via-s3-object-context",
        Who.AUTH_ROLE,
        "kms:GenerateDataKey",
        via_s3(a_recording),
        Expect.always(A),
    ),
    KeyRow("auth-decrypt-without-via-service", Who.AUTH_ROLE, "kms:Decrypt", direct(the_bucket), SCOPED_ONLY),
    KeyRow(
        "auth-generate-data-key-without-via-service",
        Who.AUTH_ROLE,
        "kms:GenerateDataKey",
        direct(a_recording),
        SCOPED_ONLY,
    ),
    KeyRow("auth-decrypt-without-encryption-context", Who.AUTH_ROLE, "kms:Decrypt", direct(), SCOPED_ONLY),
    KeyRow("auth-decrypt-via-s3-without-encryption-context", Who.AUTH_ROLE, "kms:Decrypt", via_s3(None), SCOPED_ONLY),
    KeyRow("auth-decrypt-via-s3-other-bucket-context", Who.AUTH_ROLE, "kms:Decrypt", via_s3(OTHER_BUCKET), SCOPED_ONLY),
    KeyRow(
        "auth-decrypt-via-s3-other-bucket-object-context",
        Who.AUTH_ROLE,
        "kms:Decrypt",
        via_s3(OTHER_BUCKET_OBJECT),
        SCOPED_ONLY,
    ),
    KeyRow(
        "auth-decrypt-via-s3-name-prefix-bucket-context",
        Who.AUTH_ROLE,
        "kms:Decrypt",
        via_s3(bucket_sharing_the_name_prefix),
        SCOPED_ONLY,
    ),
    KeyRow(
        "auth-generate-data-key-via-s3-other-bucket-context",
        Who.AUTH_ROLE,
        "kms:GenerateDataKey",
        via_s3(OTHER_BUCKET),
        SCOPED_ONLY,
    ),
    KeyRow(
        "auth-decrypt-via-s3-other-region",
        Who.AUTH_ROLE,
        "kms:Decrypt",
        via_s3(the_bucket, "s3.us-east-1.amazonaws.com"),
        SCOPED_ONLY,
    ),
    KeyRow(
        "auth-decrypt-via-other-service",
        Who.AUTH_ROLE,
        "kms:Decrypt",
        via_s3(the_bucket, f"secretsmanager.{REGION}.amazonaws.com"),
        SCOPED_ONLY,
    ),
    KeyRow("auth-describe-key", Who.AUTH_ROLE, "kms:DescribeKey", direct(), Expect.always(A)),
    KeyRow("auth-put-key-policy", Who.AUTH_ROLE, "kms:PutKeyPolicy", direct(), Expect.always(NA)),
    KeyRow("auth-create-grant", Who.AUTH_ROLE, "kms:CreateGrant", direct(), Expect.always(NA)),
    KeyRow("auth-schedule-key-deletion", Who.AUTH_ROLE, "kms:ScheduleKeyDeletion", direct(), Expect.always(NA)),
    KeyRow("deploy-role-put-key-policy", Who.DEPLOY_ROLE, "kms:PutKeyPolicy", direct(), Expect.always(A)),
    KeyRow("deploy-role-decrypt-via-s3", Who.DEPLOY_ROLE, "kms:Decrypt", via_s3(the_bucket), Expect.always(NA)),
    KeyRow("deploy-role-decrypt-direct", Who.DEPLOY_ROLE, "kms:Decrypt", direct(), Expect.always(NA)),
    KeyRow(
        "deploy-role-generate-data-key-via-s3",
        Who.DEPLOY_ROLE,
        "kms:GenerateDataKey",
        via_s3(the_bucket),
        Expect.always(NA),
    ),
    KeyRow("deploy-role-create-grant", Who.DEPLOY_ROLE, "kms:CreateGrant", direct(), Expect.always(A)),
    KeyRow("key-admin-role-decrypt-via-s3", Who.KEY_ADMIN_ROLE, "kms:Decrypt", via_s3(the_bucket), RFD_ADMINS),
    KeyRow("key-admin-user-decrypt-via-s3", Who.KEY_ADMIN_USER, "kms:Decrypt", via_s3(the_bucket), RFD_ADMINS),
    KeyRow("key-admin-user-decrypt-direct", Who.KEY_ADMIN_USER, "kms:Decrypt", direct(), RFD_ADMINS),
    KeyRow("key-admin-role-generate-data-key", Who.KEY_ADMIN_ROLE, "kms:GenerateDataKey", direct(), RFD_ADMINS),
    KeyRow("key-admin-role-put-key-policy", Who.KEY_ADMIN_ROLE, "kms:PutKeyPolicy", direct(), ADMINS),
    KeyRow("key-admin-user-put-key-policy", Who.KEY_ADMIN_USER, "kms:PutKeyPolicy", direct(), ADMINS),
    KeyRow("key-admin-role-create-grant", Who.KEY_ADMIN_ROLE, "kms:CreateGrant", direct(), ADMINS),
    KeyRow("key-admin-role-schedule-key-deletion", Who.KEY_ADMIN_ROLE, "kms:ScheduleKeyDeletion", direct(), ADMINS),
    KeyRow("denied-role-decrypt-via-s3", Who.DENIED_ROLE, "kms:Decrypt", via_s3(the_bucket), DENIED),
    KeyRow("denied-user-decrypt-via-s3", Who.DENIED_USER, "kms:Decrypt", via_s3(the_bucket), DENIED),
    KeyRow("denied-user-put-key-policy", Who.DENIED_USER, "kms:PutKeyPolicy", direct(), DENIED),
    KeyRow("account-admin-decrypt-via-s3", Who.ACCOUNT_ADMIN, "kms:Decrypt", via_s3(the_bucket), Expect.always(NA)),
    KeyRow("account-admin-decrypt-direct", Who.ACCOUNT_ADMIN, "kms:Decrypt", direct(), Expect.always(NA)),
    KeyRow("account-admin-put-key-policy", Who.ACCOUNT_ADMIN, "kms:PutKeyPolicy", direct(), Expect.always(NA)),
    KeyRow("account-admin-create-grant", Who.ACCOUNT_ADMIN, "kms:CreateGrant", direct(), Expect.always(NA)),
    KeyRow(
        "other-account-admin-decrypt-via-s3", Who.OTHER_ACCOUNT, "kms:Decrypt", via_s3(the_bucket), Expect.always(NA)
    ),
    KeyRow("other-account-admin-put-key-policy", Who.OTHER_ACCOUNT, "kms:PutKeyPolicy", direct(), Expect.always(NA)),
]


def key_decision(
    scenario: Scenario, who: Who, action: str, request: Request, key_policy: PolicyDocument | None = None
) -> Decision:
    document = scenario.stack.key_policy if key_policy is None else key_policy
    return evaluate_key_policy(document, node_of(who, scenario), action, scenario.stack.key_arn, request(scenario))


@pytest.mark.parametrize("row", KEY_ROWS, ids=lambda r: r.id)
@pytest.mark.parametrize("scenario_name", SCENARIOS)
def test_key_policy(scenarios: Callable[[str], Scenario], scenario_name: str, row: KeyRow) -> None:
    scenario = scenarios(scenario_name)
    assert key_decision(scenario, row.who, row.action, row.request) is row.expect[scenario_name]


# --- Every KMS action on the key -----------------------------------------------------------------


def _kms_key_actions() -> tuple[str, ...]:
    """Every KMS operation that takes a key (botocore's service model), as IAM actions."""
    model = botocore.session.get_session().get_service_model("kms")
    actions: list[str] = []
    for operation in model.operation_names:
        shape = model.operation_model(operation).input_shape
        if shape is None or operation == "CreateKey" or not any(m.endswith("KeyId") for m in shape.members):
            continue
        actions += ["kms:ReEncryptFrom", "kms:ReEncryptTo"] if operation == "ReEncrypt" else [f"kms:{operation}"]
    # DeleteAlias names only the alias, but KMS authorizes it on the key the alias points at as well.
    return tuple(sorted([*actions, "kms:DeleteAlias"]))


KMS_KEY_ACTIONS = _kms_key_actions()

#: Use of key material: what "no cryptographic action" means.
CRYPTOGRAPHIC = frozenset(
    f"kms:{a}"
    for a in (
        "Encrypt",
        "Decrypt",
        "ReEncryptFrom",
        "ReEncryptTo",
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
        "GenerateMac",
        "VerifyMac",
        "Sign",
        "Verify",
        "DeriveSharedSecret",
        "Encapsulate",
        "Decapsulate",
    )
)
#: Administration that key admins in ``separated`` mode and the deploy role may perform.
ADMINISTRATION_GRANTED = frozenset(
    f"kms:{a}"
    for a in (
        "CancelKeyDeletion",
        "CreateAlias",
        "CreateGrant",
        "DeleteAlias",
        "DeleteImportedKeyMaterial",
        "DescribeKey",
        "DisableKey",
        "DisableKeyRotation",
        "EnableKey",
        "EnableKeyRotation",
        "GetKeyLastUsage",
        "GetKeyPolicy",
        "GetKeyRotationStatus",
        "GetParametersForImport",
        "GetPublicKey",
        "ListAliases",
        "ListGrants",
        "ListKeyPolicies",
        "ListKeyRotations",
        "ListResourceTags",
        "PutKeyPolicy",
        "RevokeGrant",
        "ScheduleKeyDeletion",
        "TagResource",
        "UntagResource",
        "UpdateAlias",
        "UpdateKeyDescription",
        "UpdatePrimaryRegion",
    )
)
#: Administration outside the AWS default key-administrator list (so also outside ``separated``).
ADMINISTRATION_NOT_GRANTED = frozenset(
    f"kms:{a}" for a in ("ImportKeyMaterial", "ReplicateKey", "RetireGrant", "RotateKeyOnDemand")
)
#: What the auth role may do through S3 (RFD 42's auth statement, ``kms:GenerateDataKey*`` included).
AUTH_VIA_S3 = frozenset(
    f"kms:{a}"
    for a in (
        "Encrypt",
        "Decrypt",
        "ReEncryptFrom",
        "ReEncryptTo",
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
        "DescribeKey",
    )
)


def test_every_kms_key_action_is_classified() -> None:
    """A KMS operation new to botocore must be classified before the sweep below can judge it."""
    classified = CRYPTOGRAPHIC | ADMINISTRATION_GRANTED | ADMINISTRATION_NOT_GRANTED
    assert not (CRYPTOGRAPHIC & ADMINISTRATION_GRANTED)
    assert set(KMS_KEY_ACTIONS) == classified, set(KMS_KEY_ACTIONS) ^ classified


def sweep_expectation(who: Who, action: str) -> Expect[Decision]:
    granted_to_admins = A if action in ADMINISTRATION_GRANTED else NA
    if who is Who.AUTH_ROLE:
        return Expect.always(A if action in AUTH_VIA_S3 else NA)
    if who is Who.DEPLOY_ROLE:
        return Expect.always(granted_to_admins)
    if who in (Who.KEY_ADMIN_ROLE, Who.KEY_ADMIN_USER):
        return Expect(default=NA, configured=granted_to_admins, rfd_unscoped=A)
    if who in (Who.DENIED_ROLE, Who.DENIED_USER):
        return DENIED
    return Expect.always(NA)


SWEEP_PRINCIPALS = tuple(Who)


@pytest.mark.parametrize("action", KMS_KEY_ACTIONS)
@pytest.mark.parametrize("who", SWEEP_PRINCIPALS, ids=str)
@pytest.mark.parametrize("scenario_name", SCENARIOS)
def test_key_policy_every_action(
    scenarios: Callable[[str], Scenario], scenario_name: str, who: Who, action: str
) -> None:
    """Each principal against every KMS action on the key, in the context most favourable to the auth
    statement (through S3 for this bucket)."""
    scenario = scenarios(scenario_name)
    expected = sweep_expectation(who, action)[scenario_name]
    assert key_decision(scenario, who, action, via_s3(the_bucket)) is expected


# --- Reading and writing recordings end to end ---------------------------------------------------


def can_read(scenario: Scenario, who: Who) -> tuple[bool, bool]:
    """(S3 GetObject authorized, KMS Decrypt through S3 authorized): both are needed to read a recording."""
    node = node_of(who, scenario)
    s3 = is_authorized(
        node, "s3:GetObject", scenario.object_arn(), tls(), resource_policy=scenario.stack.bucket_policy, owner=ACCOUNT
    )
    kms = is_authorized(
        node,
        "kms:Decrypt",
        scenario.stack.key_arn,
        via_s3(the_bucket)(scenario),
        resource_policy=scenario.stack.key_policy,
        owner=ACCOUNT,
    )
    return s3, kms


def can_write(scenario: Scenario, who: Who) -> tuple[bool, bool]:
    node = node_of(who, scenario)
    s3 = is_authorized(
        node,
        "s3:PutObject",
        scenario.object_arn(),
        put("aws:kms", this_key_arn)(scenario),
        resource_policy=scenario.stack.bucket_policy,
        owner=ACCOUNT,
    )
    kms = is_authorized(
        node,
        "kms:GenerateDataKey",
        scenario.stack.key_arn,
        via_s3(the_bucket)(scenario),
        resource_policy=scenario.stack.key_policy,
        owner=ACCOUNT,
    )
    return s3, kms


NEVER, ALWAYS = Expect.always(False), Expect.always(True)
RECORDING_ACCESS = [
    (Who.AUTH_ROLE, ALWAYS),
    (Who.KEY_ADMIN_ROLE, Expect(default=False, configured=False, rfd_unscoped=True)),
    (Who.KEY_ADMIN_USER, Expect(default=False, configured=False, rfd_unscoped=True)),
    (Who.DEPLOY_ROLE, NEVER),
    (Who.ACCOUNT_ADMIN, NEVER),
    (Who.DENIED_ROLE, NEVER),
    (Who.DENIED_USER, NEVER),
    (Who.OTHER_ACCOUNT, NEVER),
]


@pytest.mark.parametrize(("who", "expect"), RECORDING_ACCESS, ids=[str(w) for w, _ in RECORDING_ACCESS])
@pytest.mark.parametrize("scenario_name", SCENARIOS)
def test_who_can_read_and_write_recordings(
    scenarios: Callable[[str], Scenario], scenario_name: str, who: Who, expect: Expect[bool]
) -> None:
    """Identity policies (AdministratorAccess for all but the auth role), bucket policy and key policy
    together. Everyone in the account with AdministratorAccess passes S3's check; the key decides."""
    scenario = scenarios(scenario_name)
    read, write = can_read(scenario, who), can_write(scenario, who)
    assert all(read) is expect[scenario_name], read
    assert all(write) is expect[scenario_name], write
    if who is not Who.OTHER_ACCOUNT:
        assert read[0], "S3 alone does not keep account principals with AdministratorAccess out: the key must"


@pytest.mark.parametrize(
    ("action", "where", "allowed"),
    [
        ("s3:GetObject", "recording", True),
        ("s3:GetObjectVersion", "recording", True),
        ("s3:PutObject", "recording", True),
        ("s3:ListBucketVersions", "bucket", True),
        ("s3:DeleteObject", "recording", False),
        ("s3:DeleteObjectVersion", "recording", False),
        ("s3:GetObject", "outside-prefix", False),
        ("s3:PutBucketPolicy", "bucket", False),
    ],
    ids=lambda v: str(v),
)
@pytest.mark.parametrize("scenario_name", SCENARIOS)
def test_auth_role_s3_scope(
    scenarios: Callable[[str], Scenario], scenario_name: str, action: str, where: str, allowed: bool
) -> None:
    """The auth role reads and writes under its prefix and cannot delete recordings."""
    scenario = scenarios(scenario_name)
    resource = {
        "recording": scenario.object_arn(),
        "bucket": scenario.bucket_arn,
        "outside-prefix": f"{scenario.bucket_arn}/elsewhere/9f3c.tar",
    }[where]
    context = put("aws:kms", this_key_arn)(scenario) if action == "s3:PutObject" else tls()
    node = node_of(Who.AUTH_ROLE, scenario)
    decision = is_authorized(
        node, action, resource, context, resource_policy=scenario.stack.bucket_policy, owner=ACCOUNT
    )
    assert decision is allowed


# --- Becoming the auth role ----------------------------------------------------------------------

UPDATE_TRUST = "can update the trust document to access"
RUN_INSTANCE = "can use EC2 to run an instance with an existing instance profile to access"


def auth_role_node(scenario: Scenario) -> Node:
    return principal(
        scenario.stack.auth_role_arn,
        scenario.stack.auth_role_policies,
        trust_policy=scenario.stack.auth_role_trust_policy,
        instance_profile_arn=scenario.stack.auth_instance_profile_arn,
    )


@pytest.mark.parametrize("who", [Who.ACCOUNT_ADMIN, Who.DENIED_ROLE, Who.DEPLOY_ROLE, Who.KEY_ADMIN_ROLE], ids=str)
@pytest.mark.parametrize("scenario_name", SCENARIOS)
def test_iam_administrators_can_become_the_auth_role(
    scenarios: Callable[[str], Scenario], scenario_name: str, who: Who
) -> None:
    """Residual path: with AdministratorAccess a principal can act as the auth role (rewrite its trust
    policy; with EC2 trust, also launch an instance with its instance profile), and the auth role
    decrypts. A key-policy Deny names the principal's own ARN, not the role session it moves into."""
    scenario = scenarios(scenario_name)
    paths = paths_to(auth_role_node(scenario), [node_of(who, scenario)])[arn_of(who, scenario)]
    assert UPDATE_TRUST in paths
    assert (RUN_INSTANCE in paths) is (scenario.config.auth_trust == "ec2")
    assert all(can_read(scenario, Who.AUTH_ROLE))


@pytest.mark.parametrize("scenario_name", SCENARIOS)
def test_a_principal_without_iam_permissions_cannot_become_the_auth_role(
    scenarios: Callable[[str], Scenario], scenario_name: str
) -> None:
    scenario = scenarios(scenario_name)
    reader = f"arn:aws:iam::{ACCOUNT}:role/RecordingsAuditor"
    read_only = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}
    assert paths_to(auth_role_node(scenario), [principal(reader, [read_only])]) == {reader: []}


# --- The templates behind the tables -------------------------------------------------------------


def _intrinsics_left(value: Any) -> list[str]:
    text = json.dumps(value)
    return [marker for marker in ('"Ref"', '"Fn::', "${") if marker in text]


@pytest.mark.parametrize("scenario_name", SCENARIOS)
def test_policies_resolve_to_the_expected_concrete_values(
    scenarios: Callable[[str], Scenario], scenario_name: str
) -> None:
    scenario = scenarios(scenario_name)
    stack = scenario.stack
    expected_bucket = scenario.config.bucket_name or f"teleport-recordings-{ACCOUNT}-{REGION}"
    assert stack.bucket_name == expected_bucket
    assert stack.key_arn == f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{stack.key_id}"
    assert stack.auth_role_arn.startswith(f"arn:aws:iam::{ACCOUNT}:role/")
    for document in (stack.bucket_policy, stack.key_policy, *stack.auth_role_policies):
        assert _intrinsics_left(document) == []
    named = json.dumps(stack.key_policy)
    assert scenario.deploy_role_arn in named
    assert stack.auth_role_arn in named
    assert stack.key_arn in json.dumps(stack.bucket_policy)


@pytest.mark.parametrize("scenario_name", SCENARIOS)
def test_no_key_policy_statement_trusts_the_account_or_everyone(
    scenarios: Callable[[str], Scenario], scenario_name: str
) -> None:
    """The account root (and so the root user and every IAM policy) is never named, and ``*`` only with a
    condition that confines it to named role ARNs (a role created in the same deployment is matched by
    ``aws:PrincipalArn``: KMS cannot look it up yet). tests/access proves P1 over every request."""
    for statement in scenarios(scenario_name).stack.key_policy["Statement"]:
        named = statement["Principal"]["AWS"]
        if named == "*":
            confined = statement["Condition"]["ArnEquals"]["aws:PrincipalArn"]
            named = confined
            assert statement["Effect"] == "Allow", statement["Sid"]
        for arn in [named] if isinstance(named, str) else named:
            assert arn not in ("*", ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root"), statement["Sid"]
            assert ":role/" in arn or ":user/" in arn, arn


# --- The tables can fail -------------------------------------------------------------------------


def bucket_table(scenario: Scenario, bucket_policy: PolicyDocument) -> dict[str, Decision]:
    return {row.id: bucket_decision(scenario, Who.AUTH_ROLE, row, bucket_policy) for row in BUCKET_ROWS}


def key_table(scenario: Scenario, key_policy: PolicyDocument) -> dict[str, Decision]:
    table = {row.id: key_decision(scenario, row.who, row.action, row.request, key_policy) for row in KEY_ROWS}
    for who in SWEEP_PRINCIPALS:
        for action in KMS_KEY_ACTIONS:
            table[f"{who}-{action}"] = key_decision(scenario, who, action, via_s3(the_bucket), key_policy)
    return table


@pytest.mark.parametrize("scenario_name", SCENARIOS)
def test_every_bucket_policy_statement_decides_some_row(
    scenarios: Callable[[str], Scenario], scenario_name: str
) -> None:
    """Dropping any one statement of the bucket policy changes at least one row of the bucket table."""
    scenario = scenarios(scenario_name)
    baseline = bucket_table(scenario, scenario.stack.bucket_policy)
    untested = [
        statement["Sid"]
        for statement in scenario.stack.bucket_policy["Statement"]
        if bucket_table(scenario, statements_without(scenario.stack.bucket_policy, [statement["Sid"]])) == baseline
    ]
    assert untested == []


@pytest.mark.parametrize("scenario_name", SCENARIOS)
def test_every_key_policy_statement_decides_some_row(scenarios: Callable[[str], Scenario], scenario_name: str) -> None:
    """Dropping any one statement of the key policy changes at least one row of the key tables."""
    scenario = scenarios(scenario_name)
    baseline = key_table(scenario, scenario.stack.key_policy)
    untested = [
        statement["Sid"]
        for statement in scenario.stack.key_policy["Statement"]
        if key_table(scenario, statements_without(scenario.stack.key_policy, [statement["Sid"]])) == baseline
    ]
    assert untested == []


def test_an_env_agnostic_template_evaluates_like_the_default(scenarios: Callable[[str], Scenario]) -> None:
    """Pseudo-parameters in names, ARNs and kms:ViaService resolve to the same decisions."""
    default, agnostic = scenarios("default"), scenarios(ENV_AGNOSTIC)
    assert bucket_table(agnostic, agnostic.stack.bucket_policy) == bucket_table(default, default.stack.bucket_policy)
    assert key_table(agnostic, agnostic.stack.key_policy) == key_table(default, default.stack.key_policy)


def test_dropping_the_other_key_deny_lets_another_key_through(scenarios: Callable[[str], Scenario]) -> None:
    scenario = scenarios("default")
    row = next(r for r in BUCKET_ROWS if r.id == "put-aws-kms-other-key-arn")
    mutated = statements_without(scenario.stack.bucket_policy, [policies.SID_DENY_WRONG_KEY])
    assert bucket_decision(scenario, Who.AUTH_ROLE, row) is D
    assert bucket_decision(scenario, Who.AUTH_ROLE, row, mutated) is ND


def test_an_account_root_statement_would_let_iam_administrators_decrypt(scenarios: Callable[[str], Scenario]) -> None:
    """CDK's default key policy statement: with it, AdministratorAccess alone reads the recordings."""
    scenario = scenarios("default")
    root = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}
    mutated = {**scenario.stack.key_policy, "Statement": [*scenario.stack.key_policy["Statement"], root]}
    request = via_s3(the_bucket)
    assert key_decision(scenario, Who.ACCOUNT_ADMIN, "kms:Decrypt", request) is NA
    assert key_decision(scenario, Who.ACCOUNT_ADMIN, "kms:Decrypt", request, mutated) is Decision.ALLOWED_VIA_IAM


def test_without_its_conditions_the_auth_statement_allows_direct_decryption(
    scenarios: Callable[[str], Scenario],
) -> None:
    scenario = scenarios("default")
    mutated = json.loads(json.dumps(scenario.stack.key_policy))
    auth = next(s for s in mutated["Statement"] if s["Sid"] == policies.SID_AUTH)
    del auth["Condition"]
    assert key_decision(scenario, Who.AUTH_ROLE, "kms:Decrypt", direct()) is NA
    assert key_decision(scenario, Who.AUTH_ROLE, "kms:Decrypt", direct(), mutated) is A
