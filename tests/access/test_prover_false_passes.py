"""The six false PASSes of the hand-written checker (issue 9), each now a FAIL with a counterexample.

Every counterexample is replayed through the concrete evaluator (``decide``), so the solver's
answer is checked by an independent reading of the same rules.
"""

from __future__ import annotations

import copy
from dataclasses import replace

from constructs_lib.core import policies
from constructs_lib.core.prover import Decision
from tests.access.conftest import (
    ADMIN,
    ATTACKER,
    AUTH,
    BUCKET_ARN,
    DEPLOY,
    KEY_ARN,
    OTHER_KEY_ARN,
    ROOT,
    VIA_S3,
    assert_fails,
    assert_passes,
    design,
    evidence,
    replay,
    statement,
    with_statements,
)

CRYPTO = {
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
}


def test_the_package_policies_pass_everything() -> None:
    """The baseline the mutations below start from."""
    assert_passes(design(), evidence())


# --- 1. grants -------------------------------------------------------------------------------------


def test_1_a_grant_giving_another_role_decrypt_fails_p1() -> None:
    grant = {
        "GrantId": "0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60",
        "KeyId": KEY_ARN,
        "GranteePrincipal": ATTACKER,
        "Operations": ["Decrypt", "GenerateDataKey"],
        "IssuingAccount": "arn:aws:iam::111122223333:root",
    }
    e = replace(evidence(), grants=[grant])
    example = assert_fails(design(), e, "P1")
    assert example.principal == ATTACKER
    assert example.action in {"kms:Decrypt", "kms:GenerateDataKey"}
    assert replay(e, example) is Decision.ALLOWED


# --- 2. CreateGrant and PutKeyPolicy ---------------------------------------------------------------


def test_2_another_role_allowed_create_grant_fails_p1_and_p3() -> None:
    e = evidence()
    e = replace(
        e,
        key_policy=with_statements(
            e.key_policy,
            {"Effect": "Allow", "Principal": {"AWS": ATTACKER}, "Action": "kms:CreateGrant", "Resource": "*"},
        ),
    )
    p1 = assert_fails(design(), e, "P1")
    assert (p1.principal, p1.action) == (ATTACKER, "kms:CreateGrant")
    granted = p1.context["kms:grantoperations"]
    assert isinstance(granted, tuple)
    assert {f"kms:{o}" for o in granted} & CRYPTO
    assert replay(e, p1) is Decision.ALLOWED
    p3 = assert_fails(design(), e, "P3")
    assert (p3.principal, p3.action) == (ATTACKER, "kms:CreateGrant")


def test_2_an_attacker_allowed_only_put_key_policy_fails_p1_and_p3() -> None:
    """Not "administration without decryption": PutKeyPolicy can grant itself kms:Decrypt."""
    e = evidence()
    e = replace(
        e,
        key_policy=with_statements(
            e.key_policy,
            {"Effect": "Allow", "Principal": {"AWS": ATTACKER}, "Action": "kms:PutKeyPolicy", "Resource": "*"},
        ),
    )
    for prop in ("P1", "P3"):
        example = assert_fails(design(), e, prop)
        assert (example.principal, example.action) == (ATTACKER, "kms:PutKeyPolicy")
        assert replay(e, example) is Decision.ALLOWED


# --- 3. the auth statement's scope -----------------------------------------------------------------


def _auth_statement_changed(change: str) -> dict[str, object]:
    key_policy = copy.deepcopy(evidence().key_policy)
    conditions = statement(key_policy, policies.SID_AUTH)["Condition"]
    if change == "other-bucket":
        conditions["StringLike"]["kms:EncryptionContext:aws:s3:arn"] = ["arn:aws:s3:::other", "arn:aws:s3:::other/*"]
    elif change == "other-region":
        conditions["StringEquals"]["kms:ViaService"] = "s3.us-east-1.amazonaws.com"
    elif change == "if-exists":
        conditions["StringEqualsIfExists"] = conditions.pop("StringEquals")
    elif change == "like-star":
        del conditions["StringEquals"]
        conditions["StringLike"]["kms:ViaService"] = "*"
    return key_policy


def test_3_auth_statement_scoped_to_another_bucket_fails_p2_and_p5() -> None:
    e = replace(evidence(), key_policy=_auth_statement_changed("other-bucket"))
    p2 = assert_fails(design(), e, "P2")
    assert p2.principal == AUTH
    assert replay(e, p2) is Decision.ALLOWED
    assert str(p2.context["kms:encryptioncontext:aws:s3:arn"]).startswith("arn:aws:s3:::other")
    p5 = assert_fails(design(), e, "P5")
    assert p5.principal == AUTH
    assert replay(e, p5) is Decision.IMPLICIT_DENY
    assert str(p5.context["kms:encryptioncontext:aws:s3:arn"]).startswith(BUCKET_ARN)


def test_3_auth_statement_scoped_to_another_region_fails_p2_and_p5() -> None:
    e = replace(evidence(), key_policy=_auth_statement_changed("other-region"))
    p2 = assert_fails(design(), e, "P2")
    assert p2.context["kms:viaservice"] == "s3.us-east-1.amazonaws.com"
    assert replay(e, p2) is Decision.ALLOWED
    p5 = assert_fails(design(), e, "P5")
    assert p5.context["kms:viaservice"] == VIA_S3
    assert replay(e, p5) is Decision.IMPLICIT_DENY


def test_3_string_equals_if_exists_on_via_service_fails_p2() -> None:
    """Without kms:ViaService (a direct KMS call) ...IfExists is true: the scope is gone."""
    e = replace(evidence(), key_policy=_auth_statement_changed("if-exists"))
    p2 = assert_fails(design(), e, "P2")
    assert p2.principal == AUTH
    assert "kms:viaservice" not in p2.context
    assert p2.action in CRYPTO
    assert replay(e, p2) is Decision.ALLOWED
    assert_passes(design(), e, ["P1", "P3", "P4", "P5", "P6"])


def test_3_string_like_via_service_star_fails_p2() -> None:
    e = replace(evidence(), key_policy=_auth_statement_changed("like-star"))
    p2 = assert_fails(design(), e, "P2")
    assert p2.principal == AUTH
    assert p2.context.get("kms:viaservice") != VIA_S3
    assert replay(e, p2) is Decision.ALLOWED


# --- 4. Denies that break Teleport -----------------------------------------------------------------


def test_4_deny_on_the_auth_role_for_generate_data_key_fails_p5() -> None:
    e = evidence()
    deny = {
        "Effect": "Deny",
        "Principal": {"AWS": AUTH},
        "Action": ["kms:GenerateDataKey*", "kms:Encrypt"],
        "Resource": "*",
    }
    e = replace(e, key_policy=with_statements(e.key_policy, deny))
    example = assert_fails(design(), e, "P5")
    assert (example.principal, example.action) == (AUTH, "kms:GenerateDataKey")
    assert replay(e, example) is Decision.EXPLICIT_DENY


def test_4_conditional_deny_everyone_but_admin_and_deploy_fails_p5() -> None:
    e = evidence()
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "kms:*",
        "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:PrincipalArn": [ADMIN, DEPLOY]}},
    }
    e = replace(e, key_policy=with_statements(e.key_policy, deny))
    example = assert_fails(design(admin_arns=(ADMIN,)), e, "P5")
    assert example.principal == AUTH
    assert replay(e, example) is Decision.EXPLICIT_DENY
    # The same statement is harmless to the properties about who else can decrypt.
    assert_passes(design(), e, ["P1", "P2", "P3", "P4"])


# --- 5. bucket policy Denies -----------------------------------------------------------------------


def test_5_deny_put_object_under_the_prefix_fails_p5() -> None:
    """The old check tried one sample object outside the prefix; the prover tries every object."""
    e = evidence()
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"{BUCKET_ARN}/records/*"}
    e = replace(e, bucket_policy=with_statements(e.bucket_policy or {}, deny))
    example = assert_fails(design(), e, "P5")
    assert example.action == "s3:PutObject"
    assert example.resource.startswith(f"{BUCKET_ARN}/records/")
    assert replay(e, example) is Decision.EXPLICIT_DENY


def test_5_not_principal_deny_listing_the_role_arn_fails_p5() -> None:
    """IAM User Guide, "NotPrincipal": a role ARN alone does not exempt the role's sessions."""
    e = evidence()
    deny = {
        "Effect": "Deny",
        "NotPrincipal": {"AWS": [AUTH, ROOT]},
        "Action": "s3:*",
        "Resource": [BUCKET_ARN, f"{BUCKET_ARN}/*"],
    }
    e = replace(e, bucket_policy=with_statements(e.bucket_policy or {}, deny))
    example = assert_fails(design(), e, "P5")
    assert example.principal == AUTH
    assert replay(e, example) is Decision.EXPLICIT_DENY


def test_5_deny_naming_the_account_root_fails_p5() -> None:
    """A Deny naming the account applies to every principal of the account, the auth role included."""
    e = evidence()
    deny = {
        "Effect": "Deny",
        "Principal": {"AWS": ROOT},
        "Action": "s3:GetObjectVersion",
        "Resource": f"{BUCKET_ARN}/*",
    }
    e = replace(e, bucket_policy=with_statements(e.bucket_policy or {}, deny))
    example = assert_fails(design(), e, "P5")
    assert (example.principal, example.action) == (AUTH, "s3:GetObjectVersion")
    assert replay(e, example) is Decision.EXPLICIT_DENY


# --- 6. the wrong-key Deny -------------------------------------------------------------------------


def test_6_a_foreign_key_in_the_wrong_key_deny_fails_p6() -> None:
    e = evidence()
    bucket_policy = copy.deepcopy(e.bucket_policy or {})
    condition = statement(bucket_policy, policies.SID_DENY_WRONG_KEY)["Condition"]["StringNotEquals"]
    condition[policies.SSE_KMS_KEY_HEADER].append(OTHER_KEY_ARN)
    e = replace(e, bucket_policy=bucket_policy)
    example = assert_fails(design(), e, "P6")
    assert example.action == "s3:PutObject"
    assert example.context["s3:x-amz-server-side-encryption-aws-kms-key-id"] == OTHER_KEY_ARN
    assert replay(e, example) is not Decision.EXPLICIT_DENY
