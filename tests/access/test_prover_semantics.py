"""IAM, KMS and S3 semantics, each on an example from the AWS documentation (named in the docstring).

Every request is decided twice, by the concrete evaluator (``decide``) and by the z3 encoding
(``solver_decide``), and the two must agree before the decision is compared with the document.
"""

from __future__ import annotations

from typing import Any

import pytest

from constructs_lib.core.prover import Decision, Evidence, Request, decide
from constructs_lib.core.prover.properties import solver_decide

ACCOUNT = "111122223333"
OTHER = "444455556666"
KEY = f"arn:aws:kms:us-west-2:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = f"arn:aws:kms:us-west-2:{OTHER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BUCKET = "arn:aws:s3:::amzn-s3-demo-bucket"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/Alice"
BOB = f"arn:aws:iam::{OTHER}:user/Bob"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ExampleRole"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
ALLOW_ALL: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
A, D, N, U = Decision.ALLOWED, Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY, Decision.UNKNOWN


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def both(e: Evidence, request: Request, account: str = ACCOUNT) -> Decision:
    concrete = decide(e, request, account=account)
    symbolic = solver_decide(e, request, account=account)
    assert concrete is symbolic, (concrete, symbolic)
    return concrete


def kms(principal: str, action: str = "kms:Decrypt", key: str = KEY, **context: Any) -> Request:
    return Request(principal, action, key, {k.replace("__", ":"): v for k, v in context.items()})


def s3(
    principal: str, action: str = "s3:GetObject", resource: str = f"{BUCKET}/photos/cat.jpg", **context: Any
) -> Request:
    return Request(principal, action, resource, {k.replace("__", ":"): v for k, v in context.items()})


# --- policy evaluation logic -----------------------------------------------------------------------


def test_explicit_deny_wins_then_allow_then_implicit_deny() -> None:
    """IAM User Guide, "Policy evaluation logic": an explicit deny in any policy overrides any
    allow; without an allow the request is implicitly denied."""
    allow = {"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "kms:*", "Resource": "*"}
    deny = {"Effect": "Deny", "Principal": {"AWS": ROLE}, "Action": "kms:Decrypt", "Resource": "*"}
    e = Evidence(key_policy=doc(allow, deny), identity_policies={ROLE: [ALLOW_ALL]})
    assert both(e, kms(ROLE)) is D
    assert both(e, kms(ROLE, "kms:Encrypt")) is A
    assert both(Evidence(key_policy=doc(deny)), kms(ROLE, "kms:Encrypt")) is N


# --- KMS key policies ------------------------------------------------------------------------------


def test_identity_policies_count_only_when_the_key_policy_allows_the_account() -> None:
    """KMS Developer Guide, "Key policies in AWS KMS": "Unless the key policy explicitly allows it,
    you cannot use IAM policies to allow access to a KMS key". "Troubleshooting key access",
    example 1: Alice, with the default key policy ("Delegate to IAM policies") and no IAM policy,
    is denied; with an IAM policy she is allowed."""
    delegate = {
        "Sid": "Delegate to IAM policies",
        "Effect": "Allow",
        "Principal": {"AWS": ROOT},
        "Action": "kms:*",
        "Resource": "*",
    }
    assert both(Evidence(key_policy=doc(delegate), identity_policies={ALICE: []}), kms(ALICE)) is N
    assert both(Evidence(key_policy=doc(delegate), identity_policies={ALICE: [ALLOW_ALL]}), kms(ALICE)) is A
    bare_account = {**delegate, "Principal": {"AWS": ACCOUNT}}
    assert both(Evidence(key_policy=doc(bare_account), identity_policies={ALICE: [ALLOW_ALL]}), kms(ALICE)) is A
    someone_else = {**delegate, "Principal": {"AWS": ROLE}}
    assert both(Evidence(key_policy=doc(someone_else), identity_policies={ALICE: [ALLOW_ALL]}), kms(ALICE)) is N


def test_a_statement_naming_a_same_account_principal_needs_no_identity_policy() -> None:
    """KMS Developer Guide, "Key policies": the key users statement of the default console key
    policy names the role; the role then needs no IAM permission."""
    named = {"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "kms:Decrypt", "Resource": "*"}
    assert both(Evidence(key_policy=doc(named), identity_policies={ROLE: []}), kms(ROLE)) is A


def test_another_account_needs_the_key_policy_and_its_own_identity_policy() -> None:
    """KMS Developer Guide, "Allowing users in other accounts to use a KMS key": the key policy
    gives the external account permission, and the external account's IAM policies delegate it."""
    external = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
        "Action": "kms:Decrypt",
        "Resource": "*",
    }
    assert both(Evidence(key_policy=doc(external), identity_policies={BOB: []}), kms(BOB)) is N
    assert both(Evidence(key_policy=doc(external), identity_policies={BOB: [ALLOW_ALL]}), kms(BOB)) is A
    bob_named = {**external, "Principal": {"AWS": BOB}}
    assert both(Evidence(key_policy=doc(bob_named), identity_policies={BOB: []}), kms(BOB)) is N
    assert both(Evidence(key_policy=doc(), identity_policies={BOB: [ALLOW_ALL]}), kms(BOB)) is N


def test_a_deny_naming_the_account_applies_to_every_principal_of_the_account() -> None:
    """IAM User Guide, "AWS account principals": the account ARN "delegates authority to the
    account" and "does not limit permissions to only the root user"; a Deny with it therefore
    covers the account's roles and users too."""
    allow = {"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "kms:*", "Resource": "*"}
    deny = {"Effect": "Deny", "Principal": {"AWS": ROOT}, "Action": "kms:Decrypt", "Resource": "*"}
    assert both(Evidence(key_policy=doc(allow, deny)), kms(ROLE)) is D
    bucket = doc({"Effect": "Deny", "Principal": {"AWS": ACCOUNT}, "Action": "s3:*", "Resource": f"{BUCKET}/*"})
    assert both(Evidence(key_policy=doc(), bucket_policy=bucket, identity_policies={ROLE: [ALLOW_ALL]}), s3(ROLE)) is D


def test_the_root_user_is_allowed_only_through_the_account_principal() -> None:
    """KMS Developer Guide, "Key policies": "No AWS principal, including the account root user
    ... has any permissions to a KMS key unless they are explicitly allowed ... in a key policy";
    "Default key policy": the account principal statement includes the account root user."""
    delegate = {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"}
    named = {"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "kms:*", "Resource": "*"}
    assert both(Evidence(key_policy=doc(named)), kms(ROOT)) is N
    assert both(Evidence(key_policy=doc(delegate)), kms(ROOT)) is A


def test_wildcard_principal_in_a_key_policy_allows_same_account_principals_directly() -> None:
    """IAM User Guide, "All principals": with "*" "For IAM users and role principals within your
    account, no other permissions are required. For principals in other accounts, they must also
    have identity-based permissions"."""
    everyone = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}
    e = Evidence(key_policy=doc(everyone), identity_policies={ROLE: [], BOB: []})
    assert both(e, kms(ROLE)) is A
    assert both(e, kms(BOB)) is N


# --- grants ----------------------------------------------------------------------------------------


def _grant(**changes: Any) -> dict[str, Any]:
    return {"GrantId": "abc", "KeyId": KEY, "GranteePrincipal": ALICE, "Operations": ["Decrypt"]} | changes


def test_a_grant_allows_its_operations_to_its_grantee_but_a_deny_still_wins() -> None:
    """KMS Developer Guide, "Grants in AWS KMS": grants are considered along with key policies and
    IAM policies; "Troubleshooting key access": an explicit DENY in any of them denies."""
    e = Evidence(key_policy=doc(), grants=[_grant()], identity_policies={ALICE: []})
    assert both(e, kms(ALICE)) is A
    assert both(e, kms(ALICE, "kms:Encrypt")) is N
    assert both(e, kms(ROLE)) is N
    deny = {"Effect": "Deny", "Principal": {"AWS": ALICE}, "Action": "kms:*", "Resource": "*"}
    assert both(Evidence(key_policy=doc(deny), grants=[_grant()], identity_policies={ALICE: []}), kms(ALICE)) is D


def test_grant_encryption_context_constraints() -> None:
    """KMS Developer Guide, "Using grant constraints": EncryptionContextEquals={Department=IT}
    allows only exactly that context; EncryptionContextSubset also with other pairs; the
    constraint is ignored for DescribeKey."""
    equals = Evidence(
        key_policy=doc(),
        grants=[
            _grant(Operations=["Decrypt", "DescribeKey"], Constraints={"EncryptionContextEquals": {"Department": "IT"}})
        ],
        identity_policies={ALICE: []},
    )
    subset = Evidence(
        key_policy=doc(),
        grants=[_grant(Constraints={"EncryptionContextSubset": {"Department": "IT"}})],
        identity_policies={ALICE: []},
    )
    it = {"kms__EncryptionContext__Department": "IT"}
    more = it | {"kms__EncryptionContext__Purpose": "Test"}
    assert both(equals, kms(ALICE, **it)) is A
    assert both(equals, kms(ALICE, **more)) is N
    assert both(equals, kms(ALICE)) is N
    assert both(equals, kms(ALICE, "kms:DescribeKey")) is A
    assert both(subset, kms(ALICE, **more)) is A
    assert both(subset, kms(ALICE, kms__EncryptionContext__Department="Sales")) is N


def test_a_grant_with_create_grant_can_only_grant_its_own_operations() -> None:
    """KMS Developer Guide, "Grants": a grantee with CreateGrant permission from a grant can only
    create grants for the operations of that grant."""
    e = Evidence(
        key_policy=doc(), grants=[_grant(Operations=["CreateGrant", "Encrypt"])], identity_policies={ALICE: []}
    )
    assert both(e, kms(ALICE, "kms:CreateGrant", kms__GrantOperations=("Encrypt",))) is A
    assert both(e, kms(ALICE, "kms:CreateGrant", kms__GrantOperations=("Encrypt", "Decrypt"))) is N


# --- S3 bucket policies ----------------------------------------------------------------------------


def test_s3_same_account_needs_bucket_policy_or_identity_policy_cross_account_needs_both() -> None:
    """IAM User Guide, "Cross-account policy evaluation logic": within an account an allow in the
    identity-based or the resource-based policy suffices; across accounts both must allow."""
    bucket_allows_bob_and_role = doc(
        {"Effect": "Allow", "Principal": {"AWS": [BOB, ROLE]}, "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"}
    )
    e = Evidence(
        key_policy=doc(),
        bucket_policy=bucket_allows_bob_and_role,
        identity_policies={ROLE: [], ALICE: [ALLOW_ALL], BOB: []},
    )
    assert both(e, s3(ROLE)) is A
    assert both(e, s3(ALICE)) is A
    assert both(e, s3(BOB)) is N
    assert (
        both(
            Evidence(key_policy=doc(), bucket_policy=bucket_allows_bob_and_role, identity_policies={BOB: [ALLOW_ALL]}),
            s3(BOB),
        )
        is A
    )
    assert both(Evidence(key_policy=doc(), bucket_policy=None, identity_policies={BOB: [ALLOW_ALL]}), s3(BOB)) is N


def test_wildcard_principal_in_a_bucket_policy_includes_anonymous_users() -> None:
    """IAM User Guide, "All principals": "using a wildcard (*) with an Allow effect grants access to
    all users, including anonymous users (public access)"."""
    public = doc({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"})
    assert both(Evidence(key_policy=doc(), bucket_policy=public), s3("anonymous")) is A
    assert both(Evidence(key_policy=doc(), bucket_policy=doc()), s3("anonymous")) is N


def test_the_bucket_owner_root_user_can_always_manage_the_bucket_policy() -> None:
    """S3 User Guide, "Bucket policies": the root user of the account that owns the bucket can
    always GetBucketPolicy, PutBucketPolicy and DeleteBucketPolicy, even when explicitly denied."""
    deny_all = doc({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [BUCKET, f"{BUCKET}/*"]})
    e = Evidence(key_policy=doc(), bucket_policy=deny_all)
    assert both(e, s3(ROOT, "s3:PutBucketPolicy", BUCKET)) is A
    assert both(e, s3(ROOT, "s3:GetObject")) is D


# --- Principal, NotPrincipal, NotAction, NotResource ----------------------------------------------


def test_not_principal_deny_exempts_a_user_listed_with_its_account() -> None:
    """IAM User Guide, "NotPrincipal", example "IAM user in the same or a different account":
    Bob and his account are listed, so Bob is not denied; everyone else is."""
    deny = doc(
        {
            "Effect": "Deny",
            "NotPrincipal": {"AWS": [BOB, f"arn:aws:iam::{OTHER}:root"]},
            "Action": "s3:*",
            "Resource": [BUCKET, f"{BUCKET}/*"],
        }
    )
    e = Evidence(key_policy=doc(), bucket_policy=deny, identity_policies={BOB: [ALLOW_ALL], ALICE: [ALLOW_ALL]})
    assert both(e, s3(ALICE)) is D
    assert both(e, s3(BOB)) is N  # not denied; nothing in the bucket policy allows Bob's account
    only_bob = doc({**deny["Statement"][0], "NotPrincipal": {"AWS": [BOB]}})
    assert both(Evidence(key_policy=doc(), bucket_policy=only_bob, identity_policies={BOB: [ALLOW_ALL]}), s3(BOB)) is U


def test_not_principal_with_a_role_arn_does_not_exempt_the_roles_sessions() -> None:
    """IAM User Guide, "NotPrincipal", example "IAM role in the same or different account": the
    exemption names the assumed-role session, the role and the account; requests come from role
    sessions, so the role ARN alone exempts nothing, and a listed session exempts only that
    session (which session makes a request is not modelled: UNKNOWN)."""
    role_only = doc(
        {"Effect": "Deny", "NotPrincipal": {"AWS": [ROLE, ROOT]}, "Action": "s3:*", "Resource": f"{BUCKET}/*"}
    )
    e = Evidence(key_policy=doc(), bucket_policy=role_only, identity_policies={ROLE: [ALLOW_ALL]})
    assert both(e, s3(ROLE)) is D
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/ExampleRole/cross-account-audit-app"
    with_session = doc({**role_only["Statement"][0], "NotPrincipal": {"AWS": [session, ROLE, ROOT]}})
    assert (
        both(Evidence(key_policy=doc(), bucket_policy=with_session, identity_policies={ROLE: [ALLOW_ALL]}), s3(ROLE))
        is U
    )


def test_not_action_and_not_resource() -> None:
    """IAM User Guide, "NotAction" (a Deny with NotAction iam:* denies everything else) and
    "NotResource" (everything but the named resource)."""
    e = Evidence(
        key_policy=doc(),
        bucket_policy=doc(
            {"Effect": "Deny", "Principal": "*", "NotAction": "s3:Get*", "Resource": f"{BUCKET}/*"},
            {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "NotResource": [f"{BUCKET}/photos/*", BUCKET]},
        ),
        identity_policies={ROLE: [ALLOW_ALL]},
    )
    assert both(e, s3(ROLE)) is A
    assert both(e, s3(ROLE, "s3:PutObject")) is D
    assert both(e, s3(ROLE, "s3:GetObject", f"{BUCKET}/documents/a.pdf")) is D


# --- wildcards -------------------------------------------------------------------------------------


def test_action_names_are_case_insensitive_and_take_wildcards() -> None:
    """IAM User Guide, "Action": action names are not case-sensitive ("iam:listaccesskeys" is
    the same as "IAM:ListAccessKeys"); wildcards match several actions."""
    allow = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": ROLE},
            "Action": ["KMS:generatedatakey*", "kms:?ecrypt"],
            "Resource": "*",
        }
    )
    e = Evidence(key_policy=allow)
    assert both(e, kms(ROLE, "kms:GenerateDataKeyWithoutPlaintext")) is A
    assert both(e, kms(ROLE, "kms:Decrypt")) is A
    assert both(e, kms(ROLE, "kms:ReEncryptFrom")) is N


@pytest.mark.parametrize(
    ("key", "matches"),
    [
        ("1/test/object.jpg", True),
        ("1/2/test/3/object.jpg", True),
        ("1///test///object.jpg", True),
        ("/test/object.jpg", True),
        ("1/test/", True),
        ("1/tests/object.jpg", False),
        ("test/object.jpg", False),
    ],
)
def test_resource_wildcards_span_slashes(key: str, matches: bool) -> None:
    """IAM User Guide, "Resource", "Using wildcards in resource ARNs": arn:aws:s3:::DOC-EXAMPLE-BUCKET/*/test/*
    applies to DOC-EXAMPLE-BUCKET/1/test/object.jpg, .../1/2/test/3/object.jpg, .../1///test///object.jpg,
    .../1/test/ and DOC-EXAMPLE-BUCKET//test/object.jpg."""
    deny = doc({"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*/test/*"})
    e = Evidence(key_policy=doc(), bucket_policy=deny, identity_policies={ROLE: [ALLOW_ALL]})
    assert both(e, s3(ROLE, resource=f"{BUCKET}/{key}")) is (D if matches else A)


# --- condition operators ---------------------------------------------------------------------------


def _when(condition: dict[str, Any]) -> Evidence:
    """Allowed exactly when the condition holds."""
    return Evidence(
        key_policy=doc(
            {"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "kms:*", "Resource": "*", "Condition": condition}
        )
    )


def holds(condition: dict[str, Any], **context: Any) -> bool:
    return both(_when(condition), kms(ROLE, **context)) is A


def test_absent_keys_negated_operators_true_others_false() -> None:
    """IAM User Guide, "Condition operators": a missing key makes a condition false, except that
    a negated operator (StringNotLike, ArnNotLike...) is then true; "...IfExists" is true."""
    key = "kms:ViaService"
    assert not holds({"StringEquals": {key: "s3.us-west-2.amazonaws.com"}})
    assert not holds({"StringLike": {key: "*"}})
    assert holds({"StringNotEquals": {key: "s3.us-west-2.amazonaws.com"}})
    assert holds({"StringNotLike": {key: "s3.*"}})
    assert holds({"ArnNotLike": {"kms:GranteePrincipal": "arn:aws:iam::*:role/*"}})
    assert holds({"StringEqualsIfExists": {key: "s3.us-west-2.amazonaws.com"}})
    assert not holds(
        {"StringEqualsIfExists": {key: "s3.us-west-2.amazonaws.com"}}, kms__ViaService="ec2.us-west-2.amazonaws.com"
    )


def test_string_like_if_exists_as_in_the_instance_type_example() -> None:
    """IAM User Guide, "...IfExists condition operators": StringLikeIfExists ec2:InstanceType
    ["t1.*", "t2.*", "m3.*"]: checked when the key is there, true when it is not. (Modelled here
    with kms:ViaService, a key the solver models.)"""
    condition = {"StringLikeIfExists": {"kms:ViaService": ["t1.*", "t2.*", "m3.*"]}}
    assert holds(condition)
    assert holds(condition, kms__ViaService="t2.micro")
    assert not holds(condition, kms__ViaService="c5.large")


def test_values_or_negated_values_nor_keys_and_operators_and() -> None:
    """IAM User Guide, "Creating a condition with multiple keys or values": values of one key are
    ORed (a negated operator must match none), keys and operators are ANDed."""
    assert holds({"StringEquals": {"kms:ViaService": ["a", "b"]}}, kms__ViaService="b")
    assert not holds({"StringNotEquals": {"kms:ViaService": ["a", "b"]}}, kms__ViaService="b")
    assert holds({"StringNotEquals": {"kms:ViaService": ["a", "b"]}}, kms__ViaService="c")
    both_keys = {"StringEquals": {"kms:ViaService": "a", "kms:EncryptionContext:x": "1"}}
    assert holds(both_keys, kms__ViaService="a", kms__EncryptionContext__x="1")
    assert not holds(both_keys, kms__ViaService="a")
    two_operators = {"StringEquals": {"kms:ViaService": "a"}, "Null": {"kms:EncryptionContext:x": "false"}}
    assert not holds(two_operators, kms__ViaService="a")


def test_case_rules_key_names_insensitive_values_sensitive_unless_ignore_case() -> None:
    """IAM User Guide, "Condition": "Condition key names are not case-sensitive"; "String
    condition operators": StringEquals is case-sensitive, StringEqualsIgnoreCase is not. KMS
    Developer Guide, "kms:EncryptionContext:context-key": the context key is not case sensitive."""
    assert holds({"StringEquals": {"KMS:VIASERVICE": "a"}}, kms__ViaService="a")
    assert not holds({"StringEquals": {"kms:ViaService": "a"}}, kms__ViaService="A")
    assert holds({"StringEqualsIgnoreCase": {"kms:ViaService": "a"}}, kms__ViaService="A")
    assert not holds({"StringNotEqualsIgnoreCase": {"kms:ViaService": "a"}}, kms__ViaService="A")
    assert holds(
        {"StringEquals": {"kms:EncryptionContext:AppName": "ExampleApp"}}, kms__EncryptionContext__appname="ExampleApp"
    )
    assert not holds(
        {"StringEquals": {"kms:EncryptionContext:AppName": "ExampleApp"}}, kms__EncryptionContext__AppName="exampleapp"
    )


def test_string_like_wildcards_in_condition_values() -> None:
    """IAM User Guide, "String condition operators": StringLike with * (any run) and ? (one character)."""
    condition = {"StringLike": {"kms:EncryptionContext:aws:s3:arn": [BUCKET, f"{BUCKET}/*"]}}
    assert holds(condition, kms__EncryptionContext__aws__s3__arn=BUCKET)
    assert holds(condition, kms__EncryptionContext__aws__s3__arn=f"{BUCKET}/photos/cat.jpg")
    assert not holds(condition, kms__EncryptionContext__aws__s3__arn=f"{BUCKET}-logs")
    assert holds({"StringLike": {"kms:ViaService": "s3.?s-west-2.*"}}, kms__ViaService="s3.us-west-2.amazonaws.com")
    assert not holds({"StringLike": {"kms:ViaService": "s3.?-west-2.*"}}, kms__ViaService="s3.us-west-2.amazonaws.com")


def test_arn_like_matches_each_of_the_six_components_separately() -> None:
    """IAM User Guide, "Amazon Resource Name (ARN) condition operators": with the pattern
    arn:aws:someservice:*:111122223333:finance/* and the value
    arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt,
    StringLike matches and ArnLike does not."""
    pattern = "arn:aws:someservice:*:111122223333:finance/*"
    value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
    assert holds({"StringLike": {"kms:GranteePrincipal": pattern}}, kms__GranteePrincipal=value)
    assert not holds({"ArnLike": {"kms:GranteePrincipal": pattern}}, kms__GranteePrincipal=value)
    assert holds(
        {"ArnLike": {"kms:GranteePrincipal": pattern}},
        kms__GranteePrincipal="arn:aws:someservice:us-east-2:111122223333:finance/doc",
    )
    assert holds({"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/Example*"}})
    assert not holds({"ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/Example*"}})


def test_bool_secure_transport_with_json_booleans() -> None:
    """S3 User Guide, "Security best practices" (deny aws:SecureTransport false); IAM reads a JSON
    false as the string "false". (On S3: no KMS request is ever without TLS.)"""
    for condition in ({"Bool": {"aws:SecureTransport": False}}, {"Bool": {"aws:SecureTransport": "false"}}):
        e = Evidence(
            key_policy=doc(),
            bucket_policy=doc(
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": f"{BUCKET}/*",
                    "Condition": condition,
                }
            ),
            identity_policies={ROLE: [ALLOW_ALL]},
        )
        assert both(e, s3(ROLE, aws__SecureTransport="false")) is D
        assert both(e, s3(ROLE, aws__SecureTransport="true")) is A


def test_null_true_means_absent_as_in_the_token_issue_time_example() -> None:
    """IAM User Guide, "Condition operator to check existence of condition keys": Null true = the
    key is absent, false = present. (kms:ViaService stands for aws:TokenIssueTime.)"""
    assert holds({"Null": {"kms:ViaService": "true"}})
    assert not holds({"Null": {"kms:ViaService": "true"}}, kms__ViaService="x")
    assert holds({"Null": {"kms:ViaService": "false"}}, kms__ViaService="x")


@pytest.mark.parametrize(("tls", "denied"), [("1.0", True), ("1.1", True), ("1.2", False), ("1.3", False)])
def test_numeric_less_than_tls_version_as_in_the_knowledge_center_example(tls: str, denied: bool) -> None:
    """AWS Knowledge Center, "How can I enforce TLS 1.2 or later for my Amazon S3 buckets?":
    Deny NumericLessThan s3:TlsVersion 1.2 (the JSON number)."""
    deny = doc(
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": f"{BUCKET}/*",
            "Condition": {"NumericLessThan": {"s3:TlsVersion": 1.2}},
        }
    )
    e = Evidence(key_policy=doc(), bucket_policy=deny, identity_policies={ROLE: [ALLOW_ALL]})
    assert both(e, s3(ROLE, aws__SecureTransport="true", s3__TlsVersion=tls)) is (D if denied else A)
    assert both(e, s3(ROLE, aws__SecureTransport="false")) is A  # no TLS, no s3:TlsVersion


def test_for_all_values_grant_operations_as_in_the_kms_example() -> None:
    """KMS Developer Guide, "kms:GrantOperations": ForAllValues:StringEquals [Encrypt, ReEncryptTo]
    allows grants for those operations only; ForAnyValue requires one of them and allows others.
    IAM User Guide, "Multivalued context keys": ForAllValues is true without the key, ForAnyValue false."""
    all_values = {"ForAllValues:StringEquals": {"kms:GrantOperations": ["Encrypt", "ReEncryptTo"]}}
    any_value = {"ForAnyValue:StringEquals": {"kms:GrantOperations": ["Encrypt", "ReEncryptTo"]}}
    assert holds(all_values, kms__GrantOperations=("Encrypt",))
    assert holds(all_values, kms__GrantOperations=("Encrypt", "ReEncryptTo"))
    assert not holds(all_values, kms__GrantOperations=("Encrypt", "Decrypt"))
    assert holds(any_value, kms__GrantOperations=("Encrypt", "Decrypt"))
    assert not holds(any_value, kms__GrantOperations=("Decrypt",))
    assert holds(all_values)
    assert not holds(any_value)


def test_resource_aliases_and_org_paths_with_set_operators() -> None:
    """KMS Developer Guide, "kms:ResourceAliases": ForAllValues:StringLike and ForAnyValue:StringLike
    alias/*Test* together require at least one alias, all with "Test". IAM User Guide,
    "aws:PrincipalOrgPaths": ForAnyValue:StringLike o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*."""
    aliases = {
        "ForAllValues:StringLike": {"kms:ResourceAliases": ["alias/*Test*"]},
        "ForAnyValue:StringLike": {"kms:ResourceAliases": ["alias/*Test*"]},
    }
    assert holds(aliases, kms__ResourceAliases=("alias/Test1", "alias/MyTestKey"))
    assert not holds(aliases, kms__ResourceAliases=("alias/Test1", "alias/prod"))
    assert not holds(aliases)
    org = {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"]}}
    assert holds(org, aws__PrincipalOrgPaths=("o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/ou-ab12-22222222/",))
    assert not holds(org, aws__PrincipalOrgPaths=("o-a1b2c3d4e5/r-ab12/ou-ab12-33333333/",))


def test_principal_arn_condition_on_the_principal() -> None:
    """IAM User Guide, "aws:PrincipalArn": the ARN of the role, not of its session."""
    condition = {"StringNotEquals": {"aws:PrincipalArn": [ROLE]}}
    deny = {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": condition}
    allow = {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}
    e = Evidence(key_policy=doc(allow, deny), identity_policies={ALICE: []})
    assert both(e, kms(ROLE)) is A
    assert both(e, kms(ALICE)) is D
