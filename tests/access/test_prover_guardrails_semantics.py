"""SCP and RCP semantics, each on the rule of the AWS documentation its docstring names.

Every request is decided by the concrete evaluator (``decide``) and by the z3 encoding
(``solver_decide``); the two must agree before the decision is compared with the document. Pages:
AWS Organizations User Guide, "Service control policies (SCPs)" (sections "SCP effects on
permissions", "Tasks and entities not restricted by SCPs"), "SCP evaluation", "Resource control
policies (RCPs)" (sections "RCP effects on permissions", "Resources and entities not restricted by
RCPs"), "RCP evaluation"; AWS KMS Developer Guide, "Resource control policies in AWS KMS".
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from constructs_lib.core.prover import Evidence, PolicyFormatError, Request, decide
from tests.access.test_prover_semantics import (
    ACCOUNT,
    ALLOW_ALL,
    BOB,
    BUCKET,
    KEY,
    OTHER,
    ROLE,
    ROOT,
    A,
    D,
    N,
    U,
    both,
    doc,
    kms,
    s3,
)

MANAGEMENT = "999988887777"
MANAGER = f"arn:aws:iam::{MANAGEMENT}:role/OrgAdmin"
SERVICE_LINKED = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing"
AUTH_ROLE = f"arn:aws:iam::{ACCOUNT}:role/TeleportAuth"
OBJECT = f"{BUCKET}/photos/cat.jpg"
FULL_AWS_ACCESS = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
DENY_DECRYPT = doc({"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"})
OPEN_KEY = doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"})
OPEN_BUCKET = doc({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": [BUCKET, f"{BUCKET}/*"]})


def rcp(*statements: dict[str, Any]) -> dict[str, Any]:
    return doc(*({"Principal": "*", **s} for s in statements))


def guarded(
    *,
    scps: tuple[dict[str, Any], ...] = (),
    rcps: tuple[dict[str, Any], ...] = (),
    identity: dict[str, list[dict[str, Any]]] | None = None,
    **changes: Any,
) -> Evidence:
    """Open key and bucket policies, AdministratorAccess for the principals used here, and the
    guardrails attached to ``ACCOUNT`` (and, where a test says so, to the management account)."""
    base = Evidence(
        key_policy=OPEN_KEY,
        bucket_policy=OPEN_BUCKET,
        identity_policies=identity
        if identity is not None
        else {p: [ALLOW_ALL] for p in (ROLE, BOB, MANAGER, SERVICE_LINKED, AUTH_ROLE)},
        scps=scps,
        rcps=rcps,
        scp_accounts=(ACCOUNT,) if scps else (),
        rcp_accounts=(ACCOUNT,) if rcps else (),
        management_account=MANAGEMENT if scps or rcps else None,
    )
    return replace(base, **changes)


# --- SCPs ------------------------------------------------------------------------------------------


def test_an_scp_never_grants() -> None:
    """ "SCP effects on permissions": "SCPs alone are not sufficient to granting permissions ... No
    permissions are granted by an SCP"; "Users and roles must still be granted permissions with
    appropriate IAM permission policies. A user without any IAM permission policies has no access,
    even if the applicable SCPs allow all services and all actions"."""
    e = guarded(scps=(FULL_AWS_ACCESS,), identity={ROLE: []}, key_policy=doc())
    assert both(e, kms(ROLE)) is N
    assert both(e, s3(ROLE, "s3:GetObject", OBJECT), account=ACCOUNT) is A  # the bucket policy allows it
    assert both(e, Request(ROLE, "iam:UpdateAssumeRolePolicy", AUTH_ROLE)) is N


def test_an_scp_deny_limits_administrator_access_and_the_root_user_and_nothing_else() -> None:
    """ "SCP effects on permissions": "If a user or role has an IAM permission policy that grants
    access to an action that is ... explicitly denied by the applicable SCPs, the user or role can't
    perform that action"; "SCPs affect all users and roles in attached accounts, including the root
    user". "SCP evaluation": with FullAWSAccess attached, a Deny-list SCP leaves every other action
    as the other policies decide."""
    e = guarded(scps=(DENY_DECRYPT,))
    assert both(e, kms(ROLE)) is D
    assert both(e, kms(ROOT)) is D
    assert both(e, kms(ROLE, "kms:Encrypt")) is A
    assert both(e, s3(ROLE, "s3:GetObject", OBJECT)) is A


def test_scps_do_not_apply_to_the_management_account() -> None:
    """ "SCP effects on permissions": "SCPs affect only member accounts in the organization. They
    have no effect on users or roles in the management account" - even when the SCP is attached to
    the root, above the management account."""
    e = guarded(scps=(DENY_DECRYPT,), scp_accounts=(ACCOUNT, MANAGEMENT))
    assert both(e, kms(MANAGER)) is A
    assert both(e, kms(f"arn:aws:iam::{MANAGEMENT}:root")) is A  # the open key policy names "*"
    assert both(e, kms(ROLE)) is D


def test_scps_do_not_apply_to_service_linked_roles() -> None:
    """ "SCP effects on permissions": "SCPs do not affect any service-linked role. Service-linked roles
    enable other AWS services to integrate with AWS Organizations and can't be restricted by SCPs"
    (a service-linked role's path is /aws-service-role/: IAM User Guide, "Service-linked role")."""
    e = guarded(scps=(DENY_DECRYPT,))
    assert both(e, kms(SERVICE_LINKED)) is A
    assert both(e, kms(ROLE)) is D


def test_scps_do_not_apply_to_other_accounts_nor_to_service_principals() -> None:
    """ "SCP effects on permissions": SCPs "affect only IAM users and roles that are managed by accounts
    that are part of the organization" (and, here, under the SCP's targets) and "don't affect
    resource-based policies directly": another account's principal and an AWS service principal
    that the key policy allows are not limited by this account's SCP."""
    e = guarded(scps=(DENY_DECRYPT,))
    assert both(e, kms(BOB)) is A
    service = Evidence(
        key_policy=doc(
            {"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "kms:*", "Resource": "*"}
        ),
        scps=(DENY_DECRYPT,),
        scp_accounts=(ACCOUNT,),
        management_account=MANAGEMENT,
    )
    assert both(service, kms("logs.amazonaws.com")) is A


def test_an_scp_limits_its_principals_on_other_accounts_resources_too() -> None:
    """ "SCP effects on permissions": an SCP sets "the maximum available permissions" of the IAM
    users and roles of the accounts it applies to - whatever resource they act on: a role of the
    SCP's account is denied a bucket another account owns, though its bucket policy allows it."""
    deny_get = doc({"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"})
    e = guarded(scps=(deny_get,))
    assert both(e, s3(ROLE, "s3:GetObject", OBJECT), account=OTHER) is D
    assert both(e, s3(BOB, "s3:GetObject", OBJECT), account=OTHER) is A


def test_an_scp_allow_list_is_not_modelled() -> None:
    """ "SCP evaluation": to allow a permission, every level from the root to the account needs an
    Allow; without FullAWSAccess the SCPs are an allow list, and the levels are not modelled: what
    the allow list does not allow is UNKNOWN, what it allows is decided as usual."""
    s3_only = doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    e = guarded(scps=(s3_only,))
    assert both(e, kms(ROLE)) is U
    assert both(e, s3(ROLE, "s3:GetObject", OBJECT)) is A
    with_full = guarded(scps=(s3_only, FULL_AWS_ACCESS))
    assert both(with_full, kms(ROLE)) is A


# --- RCPs ------------------------------------------------------------------------------------------


def test_an_rcp_never_grants() -> None:
    """ "RCP effects on permissions": "an RCP never grants permissions"; "RCP evaluation":
    RCPFullAWSAccess "does not grant access". Another account's role needs the key policy and its
    own identity policy whatever the RCP allows."""
    allow_all = rcp({"Effect": "Allow", "Action": "*", "Resource": "*"})
    e = guarded(rcps=(allow_all,), key_policy=doc(), identity_policies={BOB: [ALLOW_ALL], ROLE: []})
    assert both(e, kms(BOB)) is N
    assert both(e, kms(ROLE)) is N


def test_an_rcp_applies_to_principals_inside_and_outside_the_organization() -> None:
    """ "RCP effects on permissions": "RCPs impact the effective permissions of principals trying to
    access resources in a member account with an applicable RCP, regardless of whether the principals
    belong to the same organizations or not. This includes root users"; the example: a bucket
    policy granting access to users of an account outside the organization does not escape the
    bucket owner's RCP. Anonymous requests and AWS services are requests on the resource too."""
    deny_get = rcp({"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"})
    e = guarded(rcps=(deny_get,))
    for principal in (ROLE, ROOT, BOB, "anonymous", "cloudtrail.amazonaws.com"):
        assert both(e, s3(principal, "s3:GetObject", OBJECT)) is D, principal
    assert both(e, s3(BOB, "s3:PutObject", OBJECT)) is A


def test_an_rcp_applies_only_to_resources_of_its_accounts_and_never_to_the_management_account() -> None:
    """ "RCP effects on permissions": "RCPs affect only resources that are managed by accounts that are
    part of the organization which has attached the RCPs ... that RCP does not apply to resources in
    Account B when accessed by users in Account A"; "They have no effect on resources in the
    management account"."""
    deny_get = rcp({"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"})
    e = guarded(rcps=(deny_get,))
    assert both(e, s3(ROLE, "s3:GetObject", OBJECT), account=OTHER) is A
    attached_above = replace(e, rcp_accounts=(ACCOUNT, MANAGEMENT))
    assert both(attached_above, s3(ROLE, "s3:GetObject", OBJECT), account=MANAGEMENT) is A
    assert both(attached_above, s3(ROLE, "s3:GetObject", OBJECT), account=ACCOUNT) is D


def test_rcps_do_not_apply_to_aws_managed_keys() -> None:
    """KMS Developer Guide, "Resource control policies in AWS KMS": "Resource control policies in
    your organization do not apply to AWS managed keys"."""
    deny_kms = rcp({"Effect": "Deny", "Action": "kms:*", "Resource": "*"})
    assert both(guarded(rcps=(deny_kms,)), kms(ROLE)) is D
    assert both(guarded(rcps=(deny_kms,), key_manager="AWS"), kms(ROLE)) is A


def test_rcps_do_not_apply_to_service_linked_roles_nor_to_kms_retire_grant() -> None:
    """ "Resources and entities not restricted by RCPs": "RCPs do not impact the effective permissions
    of any service-linked role"; "RCPs do not impact the kms:RetireGrant permission"."""
    deny_kms = rcp({"Effect": "Deny", "Action": "kms:*", "Resource": "*"})
    e = guarded(rcps=(deny_kms,))
    assert both(e, kms(SERVICE_LINKED)) is A
    assert both(e, kms(ROLE, "kms:RetireGrant")) is A
    assert both(e, kms(ROLE, "kms:RevokeGrant")) is D


def test_rcps_do_not_apply_to_iam() -> None:
    """ "List of AWS services that support RCPs": S3 and KMS are listed, IAM is not; an RCP deny of
    everything leaves an administrator's change to a role to its identity policies."""
    deny_all = rcp({"Effect": "Deny", "Action": "*", "Resource": "*"})
    e = guarded(rcps=(deny_all,))
    assert both(e, Request(ROLE, "iam:UpdateAssumeRolePolicy", AUTH_ROLE)) is A
    assert both(e, kms(ROLE)) is D


# --- IAM actions -----------------------------------------------------------------------------------


def test_iam_actions_are_decided_by_identity_policies_and_the_scps() -> None:
    """IAM User Guide, "Policy evaluation logic": with no resource-based policy, a request within an
    account is allowed by an identity policy and denied by an explicit deny (here an SCP's); IAM
    roles have no resource policy for their management, so only principals of the role's own
    account can act on it; the root user needs no policy."""
    deny_trust = doc({"Effect": "Deny", "Action": "iam:UpdateAssumeRolePolicy", "Resource": AUTH_ROLE})
    update = Request(ROLE, "iam:UpdateAssumeRolePolicy", AUTH_ROLE)
    assert both(guarded(), update) is A
    assert both(guarded(identity={ROLE: []}), update) is N
    assert both(guarded(), replace(update, principal=BOB)) is N
    assert both(guarded(), replace(update, principal=ROOT)) is A
    assert both(guarded(scps=(deny_trust,)), update) is D
    assert both(guarded(scps=(deny_trust,)), replace(update, principal=ROOT)) is D
    assert both(guarded(scps=(deny_trust,)), replace(update, action="iam:TagRole")) is A
    assert decide(guarded(identity={}), update, account=ACCOUNT) is U


# --- the condition keys the guardrails use ---------------------------------------------------------


def test_pass_role_with_string_not_equals_on_iam_passed_to_service() -> None:
    """IAM User Guide, "Grant a user permissions to pass a role to an AWS service" and "IAM and AWS
    STS condition context keys" (iam:PassedToService); "Condition operators": a negated operator is
    true when the key is absent, so the Deny applies to a PassRole that names no service."""
    deny = doc(
        {
            "Effect": "Deny",
            "Action": "iam:PassRole",
            "Resource": AUTH_ROLE,
            "Condition": {"StringNotEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
        }
    )
    e = guarded(scps=(deny,))
    pass_role = Request(ROLE, "iam:PassRole", AUTH_ROLE)
    assert both(e, replace(pass_role, context={"iam:PassedToService": "ec2.amazonaws.com"})) is A
    assert both(e, replace(pass_role, context={"iam:PassedToService": "lambda.amazonaws.com"})) is D
    assert both(e, pass_role) is D


def test_arn_not_like_on_principal_arn_exempts_exactly_the_listed_roles() -> None:
    """IAM User Guide, "aws:PrincipalArn" (the role ARN, for every session of the role) and "ARN
    condition operators" (case-sensitive): AWS's SCP examples exempt privileged roles this way."""
    deny = doc(
        {
            "Effect": "Deny",
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": [ROLE]}},
        }
    )
    e = guarded(scps=(deny,), identity_policies={ROLE: [ALLOW_ALL], AUTH_ROLE: [ALLOW_ALL]})
    assert both(e, kms(ROLE)) is A
    assert both(e, kms(AUTH_ROLE)) is D
    assert both(e, kms(ROOT)) is D


def test_resource_aliases_with_for_any_value() -> None:
    """KMS Developer Guide, "AWS KMS condition keys", kms:ResourceAliases: a multi-valued key, the
    aliases associated with the key; ForAnyValue:StringEquals matches when one of them is listed
    and is false without the key (IAM User Guide, "Multivalued context keys")."""
    deny = doc(
        {
            "Effect": "Deny",
            "Action": "kms:PutKeyPolicy",
            "Resource": "*",
            "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": ["alias/recordings"]}},
        }
    )
    e = guarded(scps=(deny,))
    put = kms(ROLE, "kms:PutKeyPolicy")
    assert both(e, replace(put, context={"kms:ResourceAliases": ["alias/other", "alias/recordings"]})) is D
    assert both(e, replace(put, context={"kms:ResourceAliases": ["alias/other"]})) is A
    assert both(e, put) is A


def test_grant_is_for_aws_resource_with_bool_and_bool_if_exists() -> None:
    """KMS Developer Guide, "AWS KMS condition keys", kms:GrantIsForAWSResource; IAM User Guide,
    "Condition operators": Bool does not match an absent key, BoolIfExists does (the form AWS
    Control Tower's CT.KMS.PV.1 uses)."""
    create = kms(ROLE, "kms:CreateGrant")
    for operator, absent in (("Bool", A), ("BoolIfExists", D)):
        deny = doc(
            {
                "Effect": "Deny",
                "Action": "kms:CreateGrant",
                "Resource": "*",
                "Condition": {operator: {"kms:GrantIsForAWSResource": "false"}},
            }
        )
        e = guarded(scps=(deny,))
        assert both(e, replace(create, context={"kms:GrantIsForAWSResource": "false"})) is D
        assert both(e, replace(create, context={"kms:GrantIsForAWSResource": "true"})) is A
        assert both(e, create) is absent, operator


def test_the_organization_and_source_account_keys_of_aws_rcp_examples() -> None:
    """Organizations "Resource control policy examples" / KMS "Resource control policies in AWS KMS":
    StringNotEqualsIfExists aws:PrincipalOrgID with BoolIfExists aws:PrincipalIsAWSService false keeps
    principals of other organizations, of none and anonymous requests out and lets AWS services
    through; Null aws:SourceAccount false with StringNotEqualsIfExists keeps services acting for
    another account out (IAM User Guide, "AWS global condition context keys")."""
    perimeter = rcp(
        {
            "Effect": "Deny",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {
                "StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-mine"},
                "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
            },
        },
        {
            "Effect": "Deny",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {
                "StringNotEqualsIfExists": {"aws:SourceAccount": ACCOUNT},
                "Null": {"aws:SourceAccount": "false"},
                "Bool": {"aws:PrincipalIsAWSService": "true"},
            },
        },
    )
    e = guarded(rcps=(perimeter,))
    get = s3(BOB, "s3:GetObject", OBJECT)
    assert both(e, replace(get, context={"aws:PrincipalOrgID": "o-mine"})) is A
    assert both(e, replace(get, context={"aws:PrincipalOrgID": "o-theirs"})) is D
    assert both(e, get) is D
    assert both(e, s3("anonymous", "s3:GetObject", OBJECT)) is D
    service = s3("cloudtrail.amazonaws.com", "s3:PutObject", OBJECT)
    assert both(e, service) is A
    assert both(e, replace(service, context={"aws:SourceAccount": ACCOUNT})) is A
    assert both(e, replace(service, context={"aws:SourceAccount": OTHER})) is D


# --- input -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"scps": (doc({"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}),)}, "no Principal"),
        ({"rcps": (doc({"Effect": "Deny", "Action": "*", "Resource": "*"}),)}, "Principal"),
        (
            {
                "rcps": (
                    rcp({"Effect": "Deny", "Action": "*", "Resource": "*"})
                    | {"Statement": [{"Effect": "Deny", "Principal": {"AWS": ROLE}, "Action": "*", "Resource": "*"}]},
                )
            },
            'must be "\\*"',
        ),
        ({"scp_accounts": ("1234",)}, "12-digit"),
        ({"management_account": None}, "management_account"),
        ({"key_manager": "aws"}, "key_manager"),
        ({"scps": DENY_DECRYPT}, "list of policy documents"),
    ],
)
def test_malformed_guardrail_input_raises_a_one_line_error(changes: dict[str, Any], message: str) -> None:
    """RCP syntax (Organizations, "RCP syntax"): Principal is always "*"; SCP syntax: no Principal."""
    e = replace(
        guarded(scps=(DENY_DECRYPT,), rcps=(rcp({"Effect": "Deny", "Action": "s3:*", "Resource": "*"}),)), **changes
    )
    with pytest.raises(PolicyFormatError, match=message) as raised:
        decide(e, kms(ROLE), account=ACCOUNT)
    assert "\n" not in str(raised.value)


def test_a_request_on_a_key_of_another_account_uses_that_accounts_rcps() -> None:
    """ "RCP effects on permissions": "the RCPs of the resource owner's account are applied"."""
    deny_kms = rcp({"Effect": "Deny", "Action": "kms:*", "Resource": "*"})
    e = guarded(rcps=(deny_kms,))
    other_key = KEY.replace(ACCOUNT, OTHER)
    assert both(e, kms(ROLE, key=other_key)) is A
    assert both(e, kms(ROLE)) is D
