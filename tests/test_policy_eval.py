"""The evaluation glue of tests/policy_eval.py, checked before the access model relies on it.

Two halves: the intrinsic resolver on hand-written template fragments, and principalmapper 1.1.5's
semantics for every condition operator the recordings policies use, on examples taken from the AWS
documentation (each test names its source). Tests named ``test_quirk_*`` pin principalmapper behaviour
that differs from IAM; ``prepare_policy`` refuses or rewrites those inputs, and the pins fail if a
principalmapper upgrade changes the behaviour, so the guard can be revisited.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.policy_eval import (
    ADMINISTRATOR_ACCESS,
    Decision,
    IntrinsicResolver,
    RequestContext,
    ResourcePolicyEvalResult,
    UnresolvableIntrinsicError,
    UnsupportedPolicyError,
    evaluate_bucket_policy,
    evaluate_key_policy,
    is_authorized,
    prepare_policy,
    principal,
    resource_policy_authorization,
)

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
REGION = "us-east-2"
DOC_BUCKET = "arn:aws:s3:::amzn-s3-demo-bucket"
DOC_OBJECT = f"{DOC_BUCKET}/photos/cat.jpg"
DOC_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ExampleRole"
USER = f"arn:aws:iam::{ACCOUNT}:user/Alice"

SSE = "s3:x-amz-server-side-encryption"
HTTPS = {"aws:SecureTransport": "true", "s3:TlsVersion": "1.3"}


def deny_if(condition: dict[str, Any], action: str = "s3:*") -> dict[str, Any]:
    """A bucket policy with one Deny statement for everyone under ``condition``."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": action,
                "Resource": [DOC_BUCKET, f"{DOC_BUCKET}/*"],
                "Condition": condition,
            }
        ],
    }


def decide(condition: dict[str, Any], context: RequestContext, resource: str = DOC_OBJECT) -> Decision:
    """DENIED exactly when the condition holds: the condition's truth value through the real glue."""
    return evaluate_bucket_policy(deny_if(condition), principal(ROLE), "s3:PutObject", resource, context, owner=ACCOUNT)


def raw_deny_matches(condition: dict[str, Any], context: RequestContext, resource: str = DOC_OBJECT) -> bool:
    """principalmapper without ``prepare_policy``: for pinning its quirks."""
    result = resource_policy_authorization(
        principal(ROLE), ACCOUNT, deny_if(condition), "s3:PutObject", resource, dict(context)
    )
    return result is ResourcePolicyEvalResult.DENY_MATCH


# --- Absent keys (IAM User Guide, "Condition operators", Important box) ---------------------------
# "If the key that you specify in a policy condition is not present in the request context, the values
# do not match and the condition is false. If the policy condition requires that the key is not matched,
# such as StringNotLike or ArnNotLike, and the right key is not present, the condition is true. This
# logic applies to all condition operators except ...IfExists and Null check."


def test_negated_string_operator_is_true_when_the_key_is_absent() -> None:
    assert decide({"StringNotEquals": {SSE: "aws:kms"}}, HTTPS) is Decision.DENIED


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {SSE: "aws:kms"}},
        {"StringLike": {SSE: "aws:*"}},
        {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
        {"Bool": {"aws:SecureTransport": "false"}},
    ],
    ids=["StringEquals", "StringLike", "NumericLessThan", "Bool"],
)
def test_other_operators_are_false_when_the_key_is_absent(condition: dict[str, Any]) -> None:
    assert decide(condition, {}) is Decision.NOT_DENIED


def test_quirk_string_not_like_is_false_on_an_absent_key() -> None:
    """IAM: true (the rule above). principalmapper: false. So StringNotLike is refused."""
    assert not raw_deny_matches({"StringNotLike": {SSE: "aws:kms*"}}, HTTPS)
    with pytest.raises(UnsupportedPolicyError, match="StringNotLike"):
        decide({"StringNotLike": {SSE: "aws:kms*"}}, HTTPS)


# --- Multiple values, keys and operators (IAM User Guide, "Conditions with multiple context keys or
# values"): operators AND, keys within an operator AND, values OR, values of a negated operator NOR.


def test_values_of_one_key_are_ored() -> None:
    condition = {"StringEquals": {SSE: ["aws:kms", "aws:kms:dsse"]}}
    assert decide(condition, {SSE: "aws:kms:dsse"}) is Decision.DENIED
    assert decide(condition, {SSE: "AES256"}) is Decision.NOT_DENIED


def test_values_of_a_negated_operator_are_nored() -> None:
    condition = {"StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": [DOC_KEY, "1234abcd-12ab"]}}
    assert decide(condition, {"s3:x-amz-server-side-encryption-aws-kms-key-id": DOC_KEY}) is Decision.NOT_DENIED
    assert decide(condition, {"s3:x-amz-server-side-encryption-aws-kms-key-id": "1234abcd-12ab"}) is Decision.NOT_DENIED
    assert decide(condition, {"s3:x-amz-server-side-encryption-aws-kms-key-id": "other"}) is Decision.DENIED


def test_operators_and_keys_are_anded() -> None:
    two_operators = {"StringNotEquals": {SSE: "aws:kms"}, "Null": {SSE: "false"}}
    assert decide(two_operators, {SSE: "AES256"}) is Decision.DENIED
    assert decide(two_operators, {}) is Decision.NOT_DENIED  # Null false fails
    assert decide(two_operators, {SSE: "aws:kms"}) is Decision.NOT_DENIED  # StringNotEquals fails
    two_keys = {"StringEquals": {SSE: "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": DOC_KEY}}
    assert decide(two_keys, {SSE: "aws:kms"}) is Decision.NOT_DENIED
    assert decide(two_keys, {SSE: "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": DOC_KEY}) is (
        Decision.DENIED
    )


# --- String operators (IAM User Guide, "String condition operators": StringEquals is an exact,
# case-sensitive match; StringLike a case-sensitive match with * and ? wildcards). Condition key
# names are not case-sensitive ("Condition" element page).


def test_string_equals_is_case_sensitive() -> None:
    assert decide({"StringEquals": {SSE: "aws:kms"}}, {SSE: "AWS:KMS"}) is Decision.NOT_DENIED


def test_condition_key_names_are_case_insensitive() -> None:
    assert decide({"StringEquals": {SSE: "aws:kms"}}, {"S3:X-Amz-Server-Side-Encryption": "aws:kms"}) is (
        Decision.DENIED
    )


@pytest.mark.parametrize(
    ("value", "matches"),
    [
        (DOC_BUCKET, True),
        (DOC_OBJECT, True),
        (f"{DOC_BUCKET}-logs", False),
        (f"{DOC_BUCKET}-logs/photos/cat.jpg", False),
        ("arn:aws:s3:::AMZN-S3-DEMO-BUCKET/photos/cat.jpg", False),
        ("arn:aws:s3:::amzn-s3-demo-bucket2", False),
    ],
)
def test_string_like_wildcards_as_in_the_s3_encryption_context_condition(value: str, matches: bool) -> None:
    """The shape of the key policy's ``kms:EncryptionContext:aws:s3:arn`` condition."""
    condition = {"StringLike": {"kms:EncryptionContext:aws:s3:arn": [DOC_BUCKET, f"{DOC_BUCKET}/*"]}}
    expected = Decision.DENIED if matches else Decision.NOT_DENIED
    assert decide(condition, {"kms:EncryptionContext:aws:s3:arn": value}) is expected


def test_string_like_question_mark_matches_one_character() -> None:
    condition = {"StringLike": {"s3:prefix": "home/?"}}
    assert decide(condition, {"s3:prefix": "home/a"}) is Decision.DENIED
    assert decide(condition, {"s3:prefix": "home/ab"}) is Decision.NOT_DENIED


# --- Null (IAM User Guide, "Condition operator to check existence of condition keys"): the example
# allows EC2 only when ``aws:TokenIssueTime`` is absent (no temporary credentials), "true" = absent.


def test_null_true_means_the_key_is_absent_as_in_the_token_issue_time_example() -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": {
            "Action": "ec2:*",
            "Effect": "Allow",
            "Resource": "*",
            "Condition": {"Null": {"aws:TokenIssueTime": "true"}},
        },
    }
    user = principal(USER, [policy])
    assert is_authorized(user, "ec2:DescribeInstances", "*", {})
    assert not is_authorized(user, "ec2:DescribeInstances", "*", {"aws:TokenIssueTime": "2024-05-07T23:47:00Z"})


def test_null_false_means_the_key_is_present() -> None:
    assert decide({"Null": {SSE: "false"}}, {SSE: "AES256"}) is Decision.DENIED
    assert decide({"Null": {SSE: "false"}}, {}) is Decision.NOT_DENIED


# --- Bool: the S3 "deny HTTP" example (S3 User Guide, "Security best practices"; CIS AWS 3.1.1).


def test_bool_secure_transport_false_denies_plain_http_only() -> None:
    condition = {"Bool": {"aws:SecureTransport": "false"}}
    assert decide(condition, {"aws:SecureTransport": "false"}) is Decision.DENIED
    assert decide(condition, {"aws:SecureTransport": "true"}) is Decision.NOT_DENIED


def test_quirk_json_booleans_never_match_so_they_are_rewritten() -> None:
    """IAM accepts ``"aws:SecureTransport": false``; principalmapper compares it to the string 'false'."""
    condition = {"Bool": {"aws:SecureTransport": False}}
    assert not raw_deny_matches(condition, {"aws:SecureTransport": "false"})
    assert decide(condition, {"aws:SecureTransport": "false"}) is Decision.DENIED
    assert prepare_policy(deny_if({"Null": {SSE: True}}), resource_policy=True)["Statement"][0]["Condition"] == {
        "Null": {SSE: "true"}
    }


# --- NumericLessThan on s3:TlsVersion: AWS Knowledge Center "How can I enforce TLS 1.2 or later for
# my Amazon S3 buckets?" (two examples: the number 1.2, and "1.2" with Bool aws:SecureTransport true).


@pytest.mark.parametrize(("tls", "denied"), [("1.0", True), ("1.1", True), ("1.2", False), ("1.3", False)])
def test_numeric_less_than_tls_version_as_in_the_knowledge_center_example(tls: str, denied: bool) -> None:
    condition = {"NumericLessThan": {"s3:TlsVersion": 1.2}}
    expected = Decision.DENIED if denied else Decision.NOT_DENIED
    assert decide(condition, {"aws:SecureTransport": "true", "s3:TlsVersion": tls}) is expected
    assert decide({"NumericLessThan": {"s3:TlsVersion": "1.2"}}, {"s3:TlsVersion": tls}) is expected


def test_numeric_less_than_tls_version_is_false_without_tls() -> None:
    """Plain HTTP has no s3:TlsVersion: the TLS statement does not apply; the SecureTransport one must."""
    condition = {"Bool": {"aws:SecureTransport": "true"}, "NumericLessThan": {"s3:TlsVersion": "1.2"}}
    assert decide(condition, {"aws:SecureTransport": "false"}) is Decision.NOT_DENIED
    assert decide(condition, {"aws:SecureTransport": "true", "s3:TlsVersion": "1.1"}) is Decision.DENIED


def test_quirk_json_numbers_raise_so_they_are_rewritten() -> None:
    with pytest.raises(ValueError, match="malformed"):
        raw_deny_matches({"NumericLessThan": {"s3:TlsVersion": 1.2}}, {"s3:TlsVersion": "1.1"})


def test_quirk_numeric_if_exists_never_compares_so_it_is_refused() -> None:
    condition = {"NumericLessThanIfExists": {"s3:TlsVersion": "1.2"}}
    assert not raw_deny_matches(condition, {"s3:TlsVersion": "1.1"})  # IAM: true
    with pytest.raises(UnsupportedPolicyError, match="NumericLessThanIfExists"):
        decide(condition, {"s3:TlsVersion": "1.1"})


def test_quirk_unknown_operators_are_ignored_so_they_are_refused() -> None:
    """principalmapper dispatches on substrings of the operator name and skips what matches none."""
    unknown = {"Equals": {SSE: "never"}}
    assert raw_deny_matches(unknown, {SSE: "aws:kms"})  # the condition silently matched
    misspelt = {"StringEqualsTypo": {SSE: "aws:kms"}}
    assert raw_deny_matches(misspelt, {SSE: "aws:kms"})  # read as StringEquals; IAM rejects the policy
    for condition in (unknown, misspelt):
        with pytest.raises(UnsupportedPolicyError, match="not proven"):
            decide(condition, {SSE: "aws:kms"})


def test_quirk_resource_arns_match_case_insensitively() -> None:
    """IAM ARNs are case-sensitive; principalmapper matches Resource ignoring case. The access-model
    tables use lower-case ARNs only, so this can only widen a Deny on a name differing in case."""
    assert decide({"Null": {SSE: "false"}}, {SSE: "AES256"}, "arn:aws:s3:::AMZN-S3-DEMO-BUCKET/x") is Decision.DENIED


# --- Key policies (KMS Developer Guide, "Key policies in AWS KMS"): "Unless the key policy explicitly
# allows it, you cannot use IAM policies to allow access to a KMS key." The default key policy's
# "Enable IAM User Permissions" statement (account root, kms:*) is what delegates to IAM.

ENABLE_IAM_USER_PERMISSIONS = {
    "Sid": "Enable IAM User Permissions",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    "Action": "kms:*",
    "Resource": "*",
}
ALLOW_ROLE_DECRYPT = {"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "kms:Decrypt", "Resource": "*"}


def key_policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_without_a_root_statement_identity_policies_grant_nothing() -> None:
    admin = principal(USER, [ADMINISTRATOR_ACCESS])
    assert evaluate_key_policy(key_policy(ALLOW_ROLE_DECRYPT), admin, "kms:Decrypt", DOC_KEY, {}) is (
        Decision.NOT_ALLOWED
    )


def test_the_root_statement_delegates_to_identity_policies() -> None:
    policy = key_policy(ENABLE_IAM_USER_PERMISSIONS)
    assert evaluate_key_policy(policy, principal(USER, [ADMINISTRATOR_ACCESS]), "kms:Decrypt", DOC_KEY, {}) is (
        Decision.ALLOWED_VIA_IAM
    )
    assert evaluate_key_policy(policy, principal(USER), "kms:Decrypt", DOC_KEY, {}) is Decision.NOT_ALLOWED


def test_a_named_principal_needs_no_identity_policy() -> None:
    policy = key_policy(ALLOW_ROLE_DECRYPT)
    assert evaluate_key_policy(policy, principal(ROLE), "kms:Decrypt", DOC_KEY, {}) is Decision.ALLOWED
    assert evaluate_key_policy(policy, principal(ROLE), "kms:Encrypt", DOC_KEY, {}) is Decision.NOT_ALLOWED


def test_an_explicit_deny_in_the_key_policy_overrides_every_allow() -> None:
    deny = {"Effect": "Deny", "Principal": {"AWS": ROLE}, "Action": "kms:*", "Resource": "*"}
    policy = key_policy(ENABLE_IAM_USER_PERMISSIONS, ALLOW_ROLE_DECRYPT, deny)
    assert evaluate_key_policy(policy, principal(ROLE, [ADMINISTRATOR_ACCESS]), "kms:Decrypt", DOC_KEY, {}) is (
        Decision.DENIED
    )


def test_another_account_needs_the_key_policy_and_its_own_identity_policy() -> None:
    """KMS Developer Guide, "Allowing users in other accounts to use a KMS key"."""
    other_user = f"arn:aws:iam::{OTHER_ACCOUNT}:user/Bob"
    policy = key_policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
            "Action": "kms:Decrypt",
            "Resource": "*",
        }
    )
    assert evaluate_key_policy(policy, principal(other_user, [ADMINISTRATOR_ACCESS]), "kms:Decrypt", DOC_KEY, {}) is (
        Decision.ALLOWED_VIA_IAM
    )
    assert evaluate_key_policy(policy, principal(other_user), "kms:Decrypt", DOC_KEY, {}) is Decision.NOT_ALLOWED
    assert evaluate_key_policy(
        key_policy(ALLOW_ROLE_DECRYPT), principal(other_user, [ADMINISTRATOR_ACCESS]), "kms:Decrypt", DOC_KEY, {}
    ) is (Decision.NOT_ALLOWED)


# --- prepare_policy's refusals ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ({"Effect": "Deny", "NotPrincipal": {"AWS": ROLE}, "Action": "s3:*", "Resource": "*"}, "NotPrincipal"),
        ({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}, "principals"),
        (
            {"Effect": "Deny", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "s3:*", "Resource": "*"},
            "principals",
        ),
        ({"Effect": "Deny", "Principal": {"AWS": "*"}, "NotAction": "s3:GetObject", "Resource": "*"}, "NotAction"),
        ({"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*", "NotResource": "*"}, "NotResource"),
        (
            {
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "s3:*",
                "Resource": "*",
                "Condition": {"ArnLike": {}},
            },
            "ArnLike",
        ),
        (
            {
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "s3:*",
                "Resource": "*",
                "Condition": {"Null": {SSE: None}},
            },
            "None",
        ),
    ],
    ids=["NotPrincipal", "principal-star", "service-principal", "NotAction", "NotResource", "ArnLike", "null-value"],
)
def test_prepare_policy_refuses_what_is_not_proven(statement: dict[str, Any], message: str) -> None:
    with pytest.raises(UnsupportedPolicyError, match=message):
        prepare_policy({"Statement": [statement]}, resource_policy=True)


def test_prepare_policy_refuses_a_principal_in_an_identity_policy() -> None:
    with pytest.raises(UnsupportedPolicyError, match="Principal"):
        prepare_policy(key_policy(ALLOW_ROLE_DECRYPT), resource_policy=False)


# --- The intrinsic resolver ----------------------------------------------------------------------

TEMPLATE: dict[str, Any] = {
    "Parameters": {"BootstrapVersion": {"Type": "String"}, "Count": {"Type": "Number"}},
    "Resources": {
        "Key1": {"Type": "AWS::KMS::Key", "Properties": {}},
        "Role1": {"Type": "AWS::IAM::Role", "Properties": {}},
        "NamedRole": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "teleport-auth", "Path": "/svc/"}},
        "Bucket1": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "NamedBucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {"BucketName": {"Fn::Join": ["-", ["rec", {"Ref": "AWS::AccountId"}]]}},
        },
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
    },
}


@pytest.fixture
def resolver() -> IntrinsicResolver:
    return IntrinsicResolver(TEMPLATE, account=ACCOUNT, region=REGION)


def test_pseudo_parameters(resolver: IntrinsicResolver) -> None:
    assert resolver.resolve({"Ref": "AWS::Partition"}) == "aws"
    assert resolver.resolve({"Ref": "AWS::AccountId"}) == ACCOUNT
    assert resolver.resolve({"Ref": "AWS::Region"}) == REGION
    assert resolver.resolve({"Ref": "AWS::URLSuffix"}) == "amazonaws.com"


def test_key_ref_is_its_id_and_arn_embeds_it(resolver: IntrinsicResolver) -> None:
    key_id = resolver.resolve({"Ref": "Key1"})
    assert len(key_id) == 36
    assert resolver.resolve({"Fn::GetAtt": ["Key1", "Arn"]}) == f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}"
    assert resolver.resolve({"Fn::GetAtt": "Key1.Arn"}) == resolver.resolve({"Fn::GetAtt": ["Key1", "Arn"]})


def test_role_and_bucket_names_and_arns(resolver: IntrinsicResolver) -> None:
    assert resolver.resolve({"Fn::GetAtt": ["Role1", "Arn"]}) == f"arn:aws:iam::{ACCOUNT}:role/Role1"
    assert resolver.resolve({"Fn::GetAtt": ["NamedRole", "Arn"]}) == f"arn:aws:iam::{ACCOUNT}:role/svc/teleport-auth"
    assert resolver.resolve({"Ref": "Bucket1"}) == "bucket1"
    assert resolver.resolve({"Ref": "NamedBucket"}) == f"rec-{ACCOUNT}"
    assert resolver.resolve({"Fn::GetAtt": ["NamedBucket", "Arn"]}) == f"arn:aws:s3:::rec-{ACCOUNT}"


def test_join_and_sub_nest(resolver: IntrinsicResolver) -> None:
    joined = {"Fn::Join": ["", [{"Fn::GetAtt": ["NamedBucket", "Arn"]}, "/*"]]}
    assert resolver.resolve({"a": [joined]}) == {"a": [f"arn:aws:s3:::rec-{ACCOUNT}/*"]}
    sub = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/x-${AWS::Region} ${Bucket1} ${Key1.Arn} ${!Literal}"
    key_arn = resolver.resolve({"Fn::GetAtt": ["Key1", "Arn"]})
    assert resolver.resolve({"Fn::Sub": sub}) == (
        f"arn:aws:iam::{ACCOUNT}:role/x-{REGION} bucket1 {key_arn} ${{Literal}}"
    )
    assert (
        resolver.resolve({"Fn::Sub": ["${Name}/${AWS::Region}", {"Name": {"Ref": "Bucket1"}}]}) == f"bucket1/{REGION}"
    )


def test_a_string_parameter_stands_for_one_consistent_value(resolver: IntrinsicResolver) -> None:
    """Proofs hold for every value of a parameter only if no property depends on it: one stand-in per name."""
    assert resolver.resolve({"Ref": "BootstrapVersion"}) == "param-bootstrapversion"
    assert resolver.resolve({"Fn::Join": ["", [{"Ref": "BootstrapVersion"}, "-x"]]}) == "param-bootstrapversion-x"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Fn::Select": [0, ["a"]]}, "Fn::Select"),
        ({"Fn::ImportValue": "x"}, "Fn::ImportValue"),
        ({"Ref": "AWS::StackName"}, "AWS::StackName"),
        ({"Ref": "AWS::NoValue"}, "AWS::NoValue"),
        ({"Ref": "Count"}, "parameter Count of type Number"),
        ({"Ref": "Missing"}, "Missing"),
        ({"Ref": "Queue"}, "AWS::SQS::Queue"),
        ({"Fn::GetAtt": ["Key1", "KeyId"]}, "Key1.KeyId"),
        ({"Fn::GetAtt": ["Queue", "Arn"]}, "AWS::SQS::Queue"),
        ({"Fn::Sub": "${AWS::StackId}"}, "AWS::StackId"),
        ({"Ref": "Key1", "Extra": 1}, "only key"),
        ({"Fn::If": ["c", "a", "b"]}, "Fn::If"),
    ],
    ids=lambda v: str(v)[:40] if isinstance(v, dict) else None,
)
def test_anything_else_fails_loudly(resolver: IntrinsicResolver, value: dict[str, Any], message: str) -> None:
    with pytest.raises(UnresolvableIntrinsicError, match=message):
        resolver.resolve(value)


# --- ArnEquals on aws:PrincipalArn (IAM User Guide, "Condition operators", ARN condition operators:
# "ArnEquals, ArnLike: Case-sensitive matching of the ARN. Each of the six colon-delimited components
# of the ARN is checked separately"; "aws:PrincipalArn ... the ARN of the role, not the role session").
# The key policy names roles created in the same deployment this way.


@pytest.mark.parametrize(
    ("caller", "expected"),
    [(ROLE, Decision.DENIED), (USER, Decision.NOT_DENIED)],
    ids=["the-role", "another-principal"],
)
def test_arn_equals_on_the_principal_arn_matches_that_principal_only(caller: str, expected: Decision) -> None:
    policy = {
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "s3:PutObject",
                "Resource": "*",
                "Condition": {"ArnEquals": {"aws:PrincipalArn": ROLE}},
            }
        ]
    }
    decision = evaluate_bucket_policy(policy, principal(caller), "s3:PutObject", DOC_OBJECT, {}, owner=ACCOUNT)
    assert decision is expected


def test_quirk_arn_equals_ignores_case() -> None:
    """IAM compares ARNs case-sensitively; principalmapper does not. The tables never compare case
    variants (the prover, which follows IAM, is tested on them in tests/access)."""
    condition = {"ArnEquals": {"aws:PrincipalArn": ROLE}}
    assert raw_deny_matches(condition, {"aws:PrincipalArn": ROLE.replace("ExampleRole", "examplerole")})


def test_arn_equals_is_false_when_the_key_is_absent() -> None:
    assert decide({"ArnEquals": {"aws:SourceArn": ROLE}}, {}) is Decision.NOT_DENIED


def test_quirk_aws_wildcard_principal_is_read_as_a_delegation_to_the_account() -> None:
    """IAM User Guide, "AWS JSON policy elements: Principal", All principals: "Principal": "*" and
    "Principal": {"AWS": "*"} are equivalent. principalmapper matches the first as the principal itself
    and the second as the account root (so an identity policy would be needed); prepare_policy
    rewrites the second as the first."""
    allow = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}
    raw = resource_policy_authorization(
        principal(ROLE), ACCOUNT, {"Statement": [{**allow, "Principal": {"AWS": "*"}}]}, "kms:Decrypt", "*", {}
    )
    assert raw is ResourcePolicyEvalResult.ROOT_MATCH
    prepared = prepare_policy({"Statement": [{**allow, "Principal": {"AWS": "*"}}]}, resource_policy=True)
    assert prepared["Statement"][0]["Principal"] == "*"
    fixed = resource_policy_authorization(principal(ROLE), ACCOUNT, prepared, "kms:Decrypt", "*", {})
    assert fixed is ResourcePolicyEvalResult.NODE_MATCH
