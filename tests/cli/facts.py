"""A correct deployment as the facts `verify` would read from AWS, for the pure checks (no moto).

Used where moto cannot stand in: a key policy with a Deny statement makes moto 5.2.5 refuse
DescribeKey to every caller.
"""

from __future__ import annotations

import json
from typing import Any

from constructs_lib.core import policies
from constructs_lib.core.retention import recording_rules
from constructs_lib.core.settings import RetentionSettings
from recordings_kms.access import DesignParameters
from recordings_kms.results import CheckResult, Status
from recordings_kms.verify.checks import design_for, verify
from recordings_kms.verify.facts import BucketFacts, IdentityFacts, KeyFacts, LiveFacts
from tests.cli.deployment import ACCOUNT, ADMIN_ROLE, DEPLOY_ROLE, PREFIX, REGION, auth_s3_policy

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"
BUCKET = "acme-teleport-recordings"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
AUTH = f"arn:aws:iam::{ACCOUNT}:role/teleport-auth"
PARAMETERS = DesignParameters(auth_role_arn=AUTH, admin_arns=(ADMIN_ROLE,), deploy_role_arn=DEPLOY_ROLE, prefix=PREFIX)


def live_facts(key_policy: dict[str, Any] | None = None) -> LiveFacts:
    """What verify reads from a correct deployment, with ``key_policy`` as the key's policy (default: the design's).

    Vary the rest with ``dataclasses.replace``.
    """
    key_policy = key_policy if key_policy is not None else design_key_policy()
    metadata: Any = {
        "KeyId": KEY_ID,
        "Arn": KEY_ARN,
        "AWSAccountId": ACCOUNT,
        "Enabled": True,
        "KeyState": "Enabled",
        "KeySpec": "SYMMETRIC_DEFAULT",
        "KeyUsage": "ENCRYPT_DECRYPT",
        "KeyManager": "CUSTOMER",
    }
    key = KeyFacts(metadata, rotation_enabled=True, rotation_period_days=365, policy_text=json.dumps(key_policy))
    bucket_policy = policies.bucket_policy(bucket_arn=BUCKET_ARN, key_arn=KEY_ARN, key_id=KEY_ID)
    bucket = BucketFacts(
        name=BUCKET,
        encryption_rules=[
            {
                "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY_ARN},
                "BucketKeyEnabled": True,
            }
        ],
        policy_text=json.dumps(bucket_policy),
        public_access_block={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
        versioning_status="Enabled",
        object_ownership="BucketOwnerEnforced",
        lifecycle_rules=recording_rules(RetentionSettings(), PREFIX),
    )
    identity = IdentityFacts(AUTH, documents=(auth_s3_policy(BUCKET_ARN),), attached=1)
    return LiveFacts(key, bucket, identity)


def design_key_policy() -> dict[str, Any]:
    return policies.key_policy(
        auth_principal_arn=AUTH,
        deploy_role_arn=DEPLOY_ROLE,
        key_admin_arns=[ADMIN_ROLE],
        bucket_arn=BUCKET_ARN,
        region=REGION,
    )


def verify_facts(facts: LiveFacts) -> list[CheckResult]:
    return verify(facts, design_for(PARAMETERS, facts), deploy_role=DEPLOY_ROLE, deploy_role_source="--deploy-role")


def verdicts(results: list[CheckResult]) -> dict[str, CheckResult]:
    """The verdict lines by id (INFO lines left out)."""
    return {r.id: r for r in results if r.status is not Status.INFO}
