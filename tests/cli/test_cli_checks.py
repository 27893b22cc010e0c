"""The verify checks as pure functions: the policy builders' output passes, each removal or breakage fails.

No AWS here: ``KeyFacts`` and ``BucketFacts`` are built by hand from ``constructs_lib.core.policies``.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from constructs_lib.core import policies
from recordings_kms import statements as st
from recordings_kms.checks import (
    KMS_ACTIONS,
    BucketFacts,
    CheckResult,
    Expectations,
    KeyFacts,
    Status,
    check_bucket_policy,
    check_key_policy,
    verify,
)
from recordings_kms.teleport import StorageUriError, parse_storage_uri, teleport_config_snippet

ACCOUNT = "111122223333"
REGION = "eu-west-1"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"
BUCKET = "acme-teleport-recordings"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
AUTH = f"arn:aws:iam::{ACCOUNT}:role/teleport-auth"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/KeyAdmins"
DENIED = f"arn:aws:iam::{ACCOUNT}:role/Administrator"
DEPLOY = f"arn:aws:iam::{ACCOUNT}:role/cfn-deployer"

DENY_CHECKS = {
    policies.SID_DENY_INSECURE_TRANSPORT: "bucket.policy.deny-insecure-transport",
    policies.SID_DENY_OUTDATED_TLS: "bucket.policy.deny-outdated-tls",
    policies.SID_DENY_NON_KMS_ENCRYPTION: "bucket.policy.deny-non-kms-encryption",
    policies.SID_DENY_WRONG_KEY: "bucket.policy.deny-other-key",
    policies.SID_DENY_KMS_WITHOUT_KEY: "bucket.policy.deny-kms-without-key",
    policies.SID_DENY_SSE_C: "bucket.policy.deny-sse-c",
}


def key_facts(document: dict[str, Any] | None = None, **metadata: Any) -> KeyFacts:
    if document is None:
        document = policies.key_policy(
            auth_principal_arn=AUTH,
            deploy_role_arn=DEPLOY,
            key_admin_arns=[ADMIN],
            denied_principal_arns=[DENIED],
            bucket_arn=BUCKET_ARN,
            region=REGION,
        )
    base = {
        "KeyId": KEY_ID,
        "Arn": KEY_ARN,
        "AWSAccountId": ACCOUNT,
        "Enabled": True,
        "KeyState": "Enabled",
        "KeySpec": "SYMMETRIC_DEFAULT",
        "KeyUsage": "ENCRYPT_DECRYPT",
        "KeyManager": "CUSTOMER",
    }
    base.update(metadata)
    return KeyFacts(metadata=base, rotation_enabled=True, rotation_period_days=365, policy_text=json.dumps(document))  # type: ignore[arg-type]


def bucket_facts(statements: list[dict[str, Any]] | None = None) -> BucketFacts:
    if statements is None:
        statements = policies.bucket_policy_statements(bucket_arn=BUCKET_ARN, key_arn=KEY_ARN, key_id=KEY_ID)
    return BucketFacts(
        name=BUCKET,
        encryption_rules=[
            {
                "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY_ARN},
                "BucketKeyEnabled": True,
            }
        ],
        policy_text=json.dumps({"Version": "2012-10-17", "Statement": statements}),
        public_access_block={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
        versioning_status="Enabled",
        object_ownership="BucketOwnerEnforced",
    )


def by_id(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.id: r for r in results}


def builder_statements(**kwargs: Any) -> list[dict[str, Any]]:
    return policies.bucket_policy_statements(bucket_arn=BUCKET_ARN, key_arn=KEY_ARN, key_id=KEY_ID, **kwargs)


# --- everything together -------------------------------------------------------------------------


def test_the_design_passes_every_check() -> None:
    results = verify(key_facts(), bucket_facts(), Expectations(auth_principal_arn=AUTH))
    assert [r for r in results if r.status != Status.PASS] == []


# --- bucket policy: judged by effect -------------------------------------------------------------


@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
def test_builder_bucket_policy_meets_every_deny(strict: bool) -> None:
    results = by_id(
        check_bucket_policy(bucket_facts(builder_statements(require_encryption_headers=strict)), key_facts())
    )
    for check_id in DENY_CHECKS.values():
        assert results[check_id].status == Status.PASS, results[check_id]
    assert results["bucket.policy.teleport-access"].status == Status.PASS
    assert results["bucket.policy.header-less-puts"].status == (Status.WARN if strict else Status.PASS)


@pytest.mark.parametrize(("sid", "check_id"), DENY_CHECKS.items())
def test_each_removed_statement_fails_its_check(sid: str, check_id: str) -> None:
    statements = [s for s in builder_statements() if s["Sid"] != sid]
    results = by_id(check_bucket_policy(bucket_facts(statements), key_facts()))
    failed = {r.id for r in results.values() if r.status == Status.FAIL}
    assert failed == {check_id}
    assert "is not denied" in results[check_id].reason


def _variant(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Harmless rewrites: no Sids, Principal "*", actions as lists, resources reordered, bool as JSON."""
    rewritten = []
    for statement in copy.deepcopy(statements):
        statement.pop("Sid")
        statement["Principal"] = "*"
        statement["Action"] = [statement["Action"]]
        if isinstance(statement["Resource"], list):
            statement["Resource"] = list(reversed(statement["Resource"]))
        condition = statement["Condition"]
        if "Bool" in condition:
            condition["Bool"]["aws:SecureTransport"] = False
        rewritten.append(statement)
    return rewritten


def test_harmless_variations_still_pass() -> None:
    results = by_id(check_bucket_policy(bucket_facts(_variant(builder_statements())), key_facts()))
    assert {r.id: r.status for r in results.values() if r.status != Status.PASS} == {}
    assert "statement #1" in results["bucket.policy.deny-insecure-transport"].reason


def test_one_broad_statement_covers_several_denies_and_is_reported_as_strict() -> None:
    """One Deny for any put whose header is not aws:kms (header-less ones included), one for a missing key id."""
    statements = [
        s
        for s in builder_statements()
        if s["Sid"]
        in (
            policies.SID_DENY_INSECURE_TRANSPORT,
            policies.SID_DENY_OUTDATED_TLS,
            policies.SID_DENY_WRONG_KEY,
            policies.SID_DENY_SSE_C,
        )
    ]
    statements.append(
        {
            "Effect": "Deny",
            "Principal": {"AWS": ["*"]},
            "Action": "s3:Put*",
            "Resource": f"{BUCKET_ARN}/*",
            "Condition": {"StringNotEqualsIfExists": {policies.SSE_HEADER: "aws:kms"}},
        }
    )
    statements.append(
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": f"{BUCKET_ARN}/*",
            "Condition": {"Null": {policies.SSE_KMS_KEY_HEADER: "true"}},
        }
    )
    results = by_id(check_bucket_policy(bucket_facts(statements), key_facts()))
    for check_id in DENY_CHECKS.values():
        assert results[check_id].status == Status.PASS, results[check_id]
    assert results["bucket.policy.header-less-puts"].status == Status.WARN


@pytest.mark.parametrize(
    ("change", "check_id"),
    [
        (lambda s: s.update(Principal={"AWS": AUTH}), "bucket.policy.deny-insecure-transport"),
        (lambda s: s.update(Action="s3:GetObject"), "bucket.policy.deny-insecure-transport"),
        (lambda s: s.update(Resource=f"{BUCKET_ARN}/records/*"), "bucket.policy.deny-insecure-transport"),
        (lambda s: s.update(Effect="Allow"), "bucket.policy.deny-insecure-transport"),
        (
            lambda s: s.update(Condition={"Bool": {"aws:SecureTransport": "true"}}),
            "bucket.policy.deny-insecure-transport",
        ),
        (
            lambda s: s.update(Condition={"Bool": {"aws:PrincipalIsAWSService": "false"}}),
            "bucket.policy.deny-insecure-transport",
        ),
    ],
    ids=["one-principal", "one-action", "one-prefix", "allow", "inverted", "unmodelled-key"],
)
def test_statements_that_do_less_do_not_count(change: Any, check_id: str) -> None:
    statements = builder_statements()
    change(statements[0])
    results = by_id(check_bucket_policy(bucket_facts(statements), key_facts()))
    assert results[check_id].status == Status.FAIL


def test_wrong_key_deny_naming_only_the_arn_warns_about_key_ids() -> None:
    statements = builder_statements()
    for statement in statements:
        if statement["Sid"] == policies.SID_DENY_WRONG_KEY:
            statement["Condition"]["StringNotEquals"][policies.SSE_KMS_KEY_HEADER] = KEY_ARN
    results = by_id(check_bucket_policy(bucket_facts(statements), key_facts()))
    assert results["bucket.policy.deny-other-key"].status == Status.PASS
    assert results["bucket.policy.teleport-access"].status == Status.WARN
    assert "sse_kms_key must be the key ARN" in results["bucket.policy.teleport-access"].reason


def test_a_deny_that_blocks_teleport_fails() -> None:
    statements = [
        *builder_statements(),
        {"Effect": "Deny", "Principal": {"AWS": AUTH}, "Action": "s3:GetObject*", "Resource": f"{BUCKET_ARN}/*"},
    ]
    results = by_id(check_bucket_policy(bucket_facts(statements), key_facts(), Expectations(auth_principal_arn=AUTH)))
    assert results["bucket.policy.teleport-access"].status == Status.FAIL
    assert "GetObject over TLS 1.2 is denied by statement #7" in results["bucket.policy.teleport-access"].reason


# --- key policy ----------------------------------------------------------------------------------


def key_policy_results(document: dict[str, Any], expect: Expectations | None = None) -> dict[str, CheckResult]:
    return by_id(check_key_policy(key_facts(document), expect or Expectations()))


def builder_key_policy(**kwargs: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "auth_principal_arn": AUTH,
        "deploy_role_arn": DEPLOY,
        "key_admin_arns": [ADMIN],
        "bucket_arn": BUCKET_ARN,
        "region": REGION,
    }
    arguments.update(kwargs)
    return policies.key_policy(**arguments)


def test_key_policy_modes_and_deny_are_reported() -> None:
    rfd = key_policy_results(builder_key_policy(denied_principal_arns=[DENIED]))
    assert rfd["key.policy.admin"].reason.startswith(f"mode rfd: {ADMIN} have kms:*")
    assert rfd["key.policy.deny"].status == Status.PASS
    assert DENIED in rfd["key.policy.deny"].reason
    separated = key_policy_results(builder_key_policy(key_admin_mode=policies.KeyAdminMode.SEPARATED))
    assert (
        separated["key.policy.admin"].reason
        == f"mode separated: administration without decryption for {ADMIN}, {DEPLOY}"
    )
    assert separated["key.policy.deny"].status == Status.PASS
    assert "no Deny statement" in separated["key.policy.deny"].reason


def test_rfd_literal_auth_statement_passes_unscoped() -> None:
    results = key_policy_results(builder_key_policy(bucket_arn=None, region=None))
    assert results["key.policy.auth"].status == Status.PASS
    assert "not scoped to S3" in results["key.policy.auth"].reason


@pytest.mark.parametrize(
    "principal",
    [
        {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        {"AWS": ACCOUNT},
        "*",
        {"AWS": [ADMIN, f"arn:aws-cn:iam::{ACCOUNT}:root"]},
    ],
    ids=["root-arn", "account-id", "everyone", "root-in-a-list"],
)
def test_any_grant_to_the_account_fails(principal: Any) -> None:
    document = builder_key_policy()
    document["Statement"].append({"Effect": "Allow", "Principal": principal, "Action": "kms:Decrypt", "Resource": "*"})
    results = key_policy_results(document)
    assert results["key.policy.no-account-root"].status == Status.FAIL


def test_auth_statement_must_be_exactly_the_rfds() -> None:
    document = builder_key_policy()
    for statement in document["Statement"]:
        if statement["Sid"] == policies.SID_AUTH:
            statement["Action"] = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]
    reason = key_policy_results(document)["key.policy.auth"].reason
    assert "missing kms:GenerateDataKeyPair" in reason
    assert "kms:ReEncryptFrom" in reason


def test_auth_statement_for_two_principals_fails() -> None:
    document = builder_key_policy()
    for statement in document["Statement"]:
        if statement["Sid"] == policies.SID_AUTH:
            statement["Principal"] = {"AWS": [AUTH, DENIED]}
    assert "granted to 2 principals" in key_policy_results(document)["key.policy.auth"].reason


def test_auth_principal_is_compared_with_the_stack() -> None:
    other = f"arn:aws:iam::{ACCOUNT}:role/other"
    result = key_policy_results(builder_key_policy(), Expectations(auth_principal_arn=other))["key.policy.auth"]
    assert result.status == Status.FAIL


def test_deny_of_the_auth_principal_fails() -> None:
    document = builder_key_policy(denied_principal_arns=[AUTH])
    result = key_policy_results(document, Expectations(auth_principal_arn=AUTH))["key.policy.deny"]
    assert result.status == Status.FAIL
    assert "denies the auth principal" in result.reason


def test_no_administrator_fails() -> None:
    document = builder_key_policy(deploy_role_arn=None, key_admin_arns=[])
    assert key_policy_results(document)["key.policy.admin"].status == Status.FAIL


@pytest.mark.parametrize(
    "principal",
    [f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT, "*"],
    ids=["root-arn", "account-id", "everyone"],
)
def test_account_root_is_not_a_named_administrator(principal: str) -> None:
    """A kms:* grant to the account (moto's and AWS's default key policy) is not an administrator."""
    root = {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Action": "kms:*", "Resource": "*"}
    only_root = builder_key_policy(deploy_role_arn=None, key_admin_arns=[])
    only_root["Statement"].append({**root, "Principal": {"AWS": principal}})
    result = key_policy_results(only_root)["key.policy.admin"]
    assert result.status == Status.FAIL
    assert result.reason.startswith(f"no named key administrator: only {principal} may administer the key")
    assert "have kms:*" not in result.reason

    with_admin = builder_key_policy()
    with_admin["Statement"].append({**root, "Principal": {"AWS": [principal, f"arn:aws:iam::{ACCOUNT}:role/Extra"]}})
    result = key_policy_results(with_admin)["key.policy.admin"]
    assert result.status == Status.PASS
    assert result.reason == (
        f"mode rfd: {ADMIN}, arn:aws:iam::{ACCOUNT}:role/Extra have kms:* and can also decrypt recordings; "
        f"administration only: {DEPLOY}"
    )


def test_kms_actions_are_the_kms_permissions() -> None:
    """KMS_ACTIONS is every permission of botocore's KMS model: ReEncrypt is authorized as ReEncryptFrom
    and ReEncryptTo, and SynchronizeMultiRegionKey is a permission without an API operation."""
    import botocore.session

    operations = botocore.session.get_session().get_service_model("kms").operation_names
    expected = {f"kms:{op}" for op in operations if op != "ReEncrypt"}
    expected |= {"kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:SynchronizeMultiRegionKey"}
    assert sorted(KMS_ACTIONS) == sorted(expected)
    assert len(set(KMS_ACTIONS)) == len(KMS_ACTIONS)


def test_extra_actions_are_real_kms_actions() -> None:
    """Everything but key policy changes (NotAction): the extras reported are real actions only."""
    document = builder_key_policy()
    for statement in document["Statement"]:
        if statement["Sid"] == policies.SID_AUTH:
            del statement["Action"]
            statement["NotAction"] = "kms:Put*"
    reason = key_policy_results(document)["key.policy.auth"].reason
    extra = reason.split("extra ")[1].split(")")[0].split("; ")[0].split(", ")
    assert extra[0] == "kms:CancelKeyDeletion"
    assert set(extra) <= set(KMS_ACTIONS)
    assert "kms:kms:" not in reason


def test_unreadable_key_policy_fails() -> None:
    facts = KeyFacts(metadata=key_facts().metadata, rotation_enabled=True, policy_text="{not json")
    assert check_key_policy(facts, Expectations())[0].status == Status.FAIL


# --- the statement evaluator ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "values", "context", "expected"),
    [
        ("StringNotEquals", "aws:kms", {}, True),
        ("StringEquals", "aws:kms", {}, False),
        ("StringNotEqualsIfExists", "aws:kms", {}, True),
        ("StringEqualsIfExists", "aws:kms", {}, True),
        ("ForAllValues:StringEquals", "aws:kms", {}, True),
        ("ForAnyValue:StringEquals", "aws:kms", {}, False),
        ("StringNotEquals", ["a", "b"], {"k": "b"}, False),
        ("StringLike", "arn:*:key/*", {"k": "arn:aws:kms:r:a:key/x"}, True),
        ("NumericLessThan", "1.2", {"k": "1.1"}, True),
        ("NumericLessThan", "1.2", {"k": "1.2"}, False),
        ("Bool", False, {"k": "false"}, True),
        ("Null", "true", {}, True),
        ("Null", "false", {}, False),
        ("DateGreaterThan", "2020-01-01T00:00:00Z", {"k": "x"}, None),
    ],
)
def test_condition_entries(operator: str, values: Any, context: dict[str, str], expected: bool | None) -> None:
    assert st.evaluate_condition_entry(operator, "K", values, context) is expected


def test_action_and_resource_wildcards() -> None:
    statement = {"Action": ["S3:Put*"], "NotResource": "arn:aws:s3:::b/public/*"}
    assert st.covers_action(statement, "s3:PutObject")
    assert not st.covers_action(statement, "s3:GetObject")
    assert st.covers_resource(statement, "arn:aws:s3:::b/private/x")
    assert not st.covers_resource(statement, "arn:aws:s3:::b/public/x")


# --- the storage URI -----------------------------------------------------------------------------


def test_storage_uri_from_the_builder_parses() -> None:
    uri = policies.storage_uri(bucket_name=BUCKET, prefix="records", region=REGION, key_arn=KEY_ARN)
    storage = parse_storage_uri(uri)
    assert (storage.bucket, storage.prefix, storage.region, storage.sse_kms_key) == (BUCKET, "records", REGION, KEY_ARN)
    assert storage.names_key_by_arn
    snippet = teleport_config_snippet(storage)
    assert snippet.endswith(f'teleport:\n  storage:\n    audit_sessions_uri: "{uri}"\n')
    assert "audit_events_uri" in snippet


def test_rfd_example_uri_with_a_key_id_parses() -> None:
    storage = parse_storage_uri("s3://teleport-demo-bucket/records?sse_kms_key=1234abcd-12ab-34cd-56ef-1234567890ab")
    assert not storage.names_key_by_arn
    assert storage.region is None


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        (f"https://{BUCKET}/records?sse_kms_key={KEY_ARN}", "must start with s3://"),
        (f"s3://{BUCKET}/records?region={REGION}", "has no sse_kms_key"),
        (f"s3://{BUCKET}/records?sse_kms_key=", "has no sse_kms_key"),
        (f"s3://{BUCKET}/records?sse_kms_key=alias/teleport", "must be the key ARN"),
        (f"s3://Bad_Bucket/records?sse_kms_key={KEY_ARN}", "valid S3 bucket name"),
        (f"s3://{BUCKET}/records?sse_kms_key={KEY_ARN}&disablesse=true", "disablesse"),
    ],
)
def test_bad_storage_uris_are_refused(uri: str, message: str) -> None:
    with pytest.raises(StorageUriError, match=message):
        parse_storage_uri(uri)
