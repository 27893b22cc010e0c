"""Guardrails that do not keep their promise FAIL the property they break, with a counterexample
that the concrete evaluator replays (the guardrails let it through even when nothing else refuses).

Each mutation starts from the package's guardrails (which pass
G1-G4, test_prover_guardrails.py) and changes one thing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from constructs_lib.core import guardrails
from constructs_lib.core.prover import Decision, Design, Evidence, Request, Verdict
from tests.access.conftest import ACCOUNT, AUTH, DEPLOY, OTHER_ACCOUNT
from tests.access.test_prover_guardrails import (
    ALIAS,
    BREAK_GLASS,
    G1,
    G2,
    G3,
    G4,
    ORGANIZATION,
    guarded_design,
    guarded_evidence,
    rcp_documents,
    replay_past_guardrails,
    results_of,
    scp_documents,
)

Document = dict[str, Any]
Mutation = Callable[[list[Document]], None]


def mutated(documents: list[Document], change: Mutation) -> list[Document]:
    """A changed copy. Through JSON, not deepcopy: the generated statements share their exemption
    condition object, and a deep copy would keep it shared (one change would touch them all)."""
    copied: list[Document] = json.loads(json.dumps(documents))
    change(copied)
    return copied


def statement(documents: list[Document], sid: str) -> Document:
    found: Document = next(s for d in documents for s in d["Statement"] if s["Sid"] == sid)
    return found


def drop(sid: str) -> Mutation:
    def change(documents: list[Document]) -> None:
        for document in documents:
            document["Statement"] = [s for s in document["Statement"] if s["Sid"] != sid]

    return change


def drop_action(sid: str, action: str) -> Mutation:
    def change(documents: list[Document]) -> None:
        found = statement(documents, sid)
        found["Action"] = [a for a in found["Action"] if a != action]

    return change


def set_condition(sid: str, operator: str, key: str, value: Any, *, remove: str | None = None) -> Mutation:
    def change(documents: list[Document]) -> None:
        condition = statement(documents, sid)["Condition"]
        if remove is not None:
            condition.pop(remove)
        condition.setdefault(operator, {})[key] = value

    return change


def failing(prop: str, d: Design, e: Evidence) -> Request:
    found = results_of(d, e, [prop])[prop]
    assert found.verdict is Verdict.FAIL, found
    assert found.counterexample is not None
    return found.counterexample


# --- G1 --------------------------------------------------------------------------------------------

SCP_MUTATIONS_BREAKING_G1: dict[str, tuple[Mutation, str]] = {
    "drop-the-auth-role-statement": (drop(guardrails.SID_AUTH_ROLE), "iam:"),
    "drop-update-assume-role-policy": (
        drop_action(guardrails.SID_AUTH_ROLE, "iam:UpdateAssumeRolePolicy"),
        "iam:UpdateAssumeRolePolicy",
    ),
    "drop-the-pass-role-statement": (drop(guardrails.SID_PASS_ROLE), "iam:PassRole"),
    "drop-the-instance-profile-statement": (drop(guardrails.SID_INSTANCE_PROFILES), "iam:PassRole"),
    "drop-put-key-policy": (drop_action(guardrails.SID_KEY, "kms:PutKeyPolicy"), "kms:PutKeyPolicy"),
    "drop-the-grant-statement": (drop(guardrails.SID_GRANTS), "kms:CreateGrant"),
    "drop-put-bucket-policy": (drop_action(guardrails.SID_BUCKET, "s3:PutBucketPolicy"), "s3:PutBucketPolicy"),
    "drop-the-recording-deletes": (drop(guardrails.SID_DELETES), "s3:"),
    "drop-bypass-governance-retention": (
        drop_action(guardrails.SID_DELETES, "s3:BypassGovernanceRetention"),
        "s3:BypassGovernanceRetention",
    ),
    "the-key-selected-by-another-alias": (
        set_condition(guardrails.SID_KEY, "ForAnyValue:StringEquals", "kms:ResourceAliases", ["alias/other"]),
        "kms:",
    ),
    "exempt-every-role-with-a-wildcard": (
        set_condition(guardrails.SID_AUTH_ROLE, "ArnNotLike", "aws:PrincipalArn", [f"arn:aws:iam::{ACCOUNT}:role/*"]),
        "iam:",
    ),
    "pass-role-allowed-to-another-service": (
        set_condition(guardrails.SID_PASS_ROLE, "StringNotEquals", "iam:PassedToService", "lambda.amazonaws.com"),
        "iam:PassRole",
    ),
}


@pytest.mark.parametrize("name", SCP_MUTATIONS_BREAKING_G1)
def test_scp_mutations_fail_g1_with_a_replayed_counterexample(name: str) -> None:
    change, action = SCP_MUTATIONS_BREAKING_G1[name]
    d = guarded_design()
    e = guarded_evidence(d, scps=mutated(scp_documents(d), change))
    example = failing(G1, d, e)
    assert example.action.startswith(action), example
    assert example.principal not in (BREAK_GLASS, DEPLOY)
    assert example.principal.split(":")[4] == ACCOUNT
    assert replay_past_guardrails(e, example) is Decision.ALLOWED, example.describe()


def test_the_wildcard_exemption_counterexample_is_a_role_it_exempts_by_accident() -> None:
    d = guarded_design()
    change = set_condition(
        guardrails.SID_AUTH_ROLE, "ArnNotLike", "aws:PrincipalArn", [f"arn:aws:iam::{ACCOUNT}:role/*"]
    )
    e = guarded_evidence(d, scps=mutated(scp_documents(d), change))
    example = failing(G1, d, e)
    assert example.principal.startswith(f"arn:aws:iam::{ACCOUNT}:role/")
    assert example.principal not in (BREAK_GLASS, DEPLOY)


def test_an_scp_built_for_another_trusted_service_fails_g1_on_pass_role() -> None:
    """The guardrails were built for an ECS-trusted auth role; the design's trust names EC2: passing
    the role to ECS tasks is not denied, and G1 names that request."""
    d = guarded_design("ec2.amazonaws.com")
    scps = scp_documents(d, auth_role_service="ecs-tasks.amazonaws.com")
    example = failing(G1, d, guarded_evidence(d, scps=scps))
    assert example.action == "iam:PassRole"
    assert example.context.get("iam:passedtoservice") == "ecs-tasks.amazonaws.com"


@pytest.mark.parametrize(
    ("name", "changes"),
    [
        ("scp-attached-to-another-account", {"scp_accounts": (OTHER_ACCOUNT,)}),
        ("recordings-account-is-the-management-account", {"management_account": ACCOUNT}),
        ("no-scp", {"scps": ()}),
    ],
)
def test_an_scp_that_does_not_apply_to_the_account_fails_g1(name: str, changes: dict[str, Any]) -> None:
    """SCPs restrict only member accounts they are attached to (Organizations, "SCP effects on
    permissions"): attached elsewhere, or when the recordings account is the management account,
    they protect nothing."""
    d = guarded_design()
    e = replace(guarded_evidence(d), **changes)
    example = failing(G1, d, e)
    assert replay_past_guardrails(e, example) is Decision.ALLOWED


def test_a_misspelt_condition_key_makes_g1_cannot_prove_never_pass() -> None:
    """``iam:PassedToServices`` is no key the prover models: whether the statement applies is
    unknown, so G1 is CANNOT-PROVE naming it (a real SCP with this typo would deny every PassRole,
    since the absent key makes StringNotEquals true, but the prover does not guess)."""
    d = guarded_design()
    change = set_condition(
        guardrails.SID_PASS_ROLE,
        "StringNotEquals",
        "iam:PassedToServices",
        "ec2.amazonaws.com",
        remove="StringNotEquals",
    )
    e = guarded_evidence(d, scps=mutated(scp_documents(d), change))
    found = results_of(d, e, [G1])[G1]
    assert found.verdict is Verdict.CANNOT_PROVE
    assert any("iam:PassedToServices" in reason for reason in found.reasons)


# --- G2 --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "exempt", "denied"),
    [
        ("deploy-role-not-exempt", (BREAK_GLASS,), DEPLOY),
        ("break-glass-spelt-in-another-case", (BREAK_GLASS.lower(), DEPLOY), BREAK_GLASS),
    ],
)
def test_guardrails_that_deny_an_exempt_principal_fail_g2(name: str, exempt: tuple[str, ...], denied: str) -> None:
    """``ArnNotLike`` compares ``aws:PrincipalArn`` case-sensitively (IAM User Guide, "ARN condition
    operators"): an exemption spelt differently from the role's ARN exempts nobody."""
    d = guarded_design()
    e = guarded_evidence(d, scps=scp_documents(d, exempt_principal_arns=exempt))
    example = failing(G2, d, e)
    assert example.principal == denied
    assert replay_past_guardrails(e, example) is Decision.EXPLICIT_DENY


def test_a_statement_without_the_exemption_fails_g2() -> None:
    d = guarded_design()
    change = set_condition(guardrails.SID_BUCKET, "ArnNotLike", "aws:PrincipalArn", [BREAK_GLASS])
    e = guarded_evidence(d, scps=mutated(scp_documents(d), change))
    example = failing(G2, d, e)
    assert example.principal == DEPLOY
    assert example.resource == d.bucket_arn


def test_a_design_without_exempt_principals_fails_g2_as_a_lockout() -> None:
    d = guarded_design(break_glass_arns=(), deploy_role_arn=None)
    found = results_of(d, guarded_evidence(guarded_design()), [G2])[G2]
    assert found.verdict is Verdict.FAIL
    assert "lockout" in found.summary


# --- G3 --------------------------------------------------------------------------------------------


def test_an_scp_that_also_denies_put_object_fails_g3() -> None:
    d = guarded_design()

    def change(documents: list[Document]) -> None:
        statement(documents, guardrails.SID_DELETES)["Action"].append("s3:PutObject")

    e = guarded_evidence(d, scps=mutated(scp_documents(d), change))
    example = failing(G3, d, e)
    assert (example.principal, example.action) == (AUTH, "s3:PutObject")
    assert example.resource.startswith(d.objects_arn_prefix)


def test_an_rcp_without_the_organization_condition_fails_g3() -> None:
    """Without ``aws:PrincipalOrgID`` the RCP refuses everyone who is not an AWS service, the auth
    role included: Teleport's first call is refused."""
    d = guarded_design()

    def change(documents: list[Document]) -> None:
        for document in documents:
            for s in document["Statement"]:
                s["Condition"].pop("StringNotEqualsIfExists", None)

    e = guarded_evidence(d, rcps=mutated(rcp_documents(d), change))
    example = failing(G3, d, e)
    assert example.principal == AUTH


def test_an_auth_role_outside_the_organization_fails_g3() -> None:
    """The RCP keeps everyone outside the organization away, so a design whose account is not in it
    (the facts say so) has Teleport refused."""
    d = guarded_design(organization_accounts=(OTHER_ACCOUNT,))
    example = failing(G3, d, guarded_evidence(guarded_design()))
    assert example.principal == AUTH
    assert "aws:principalorgid" not in example.context or example.context["aws:principalorgid"] != ORGANIZATION


# --- G4 --------------------------------------------------------------------------------------------

RCP_MUTATIONS_BREAKING_G4: dict[str, Mutation] = {
    "drop-the-bucket-statement": drop(guardrails.SID_OUTSIDE_ORG),
    "drop-the-key-statement": drop(guardrails.SID_OUTSIDE_ORG + "Key"),
    "drop-the-foreign-services-statement": drop(guardrails.SID_FOREIGN_SERVICES),
    "bool-instead-of-bool-if-exists": set_condition(
        guardrails.SID_OUTSIDE_ORG, "Bool", "aws:PrincipalIsAWSService", "false", remove="BoolIfExists"
    ),
    "the-key-selected-by-another-alias": set_condition(
        guardrails.SID_OUTSIDE_ORG + "Key", "ForAnyValue:StringEquals", "kms:ResourceAliases", ["alias/other"]
    ),
}


@pytest.mark.parametrize("name", RCP_MUTATIONS_BREAKING_G4)
def test_rcp_mutations_fail_g4_with_a_replayed_counterexample(name: str) -> None:
    d = guarded_design()
    e = guarded_evidence(d, rcps=mutated(rcp_documents(d), RCP_MUTATIONS_BREAKING_G4[name]))
    example = failing(G4, d, e)
    assert example.principal.split(":")[4:5] != [ACCOUNT]
    assert replay_past_guardrails(e, example) is Decision.ALLOWED, example.describe()


def test_bool_instead_of_bool_if_exists_lets_anonymous_requests_through() -> None:
    """Anonymous requests carry no ``aws:PrincipalIsAWSService``: ``Bool`` does not match them, the
    ``BoolIfExists`` of AWS's own RCP example does (IAM User Guide, "...IfExists condition operators")."""
    d = guarded_design()
    change = RCP_MUTATIONS_BREAKING_G4["bool-instead-of-bool-if-exists"]
    example = failing(G4, d, guarded_evidence(d, rcps=mutated(rcp_documents(d), change)))
    assert example.principal == "anonymous"
    assert example.resource.startswith(d.bucket_arn)


def test_a_foreign_service_counterexample_names_its_source_account() -> None:
    d = guarded_design()
    change = RCP_MUTATIONS_BREAKING_G4["drop-the-foreign-services-statement"]
    example = failing(G4, d, guarded_evidence(d, rcps=mutated(rcp_documents(d), change)))
    assert example.principal.endswith(".amazonaws.com")
    assert example.context["aws:sourceaccount"] != ACCOUNT


@pytest.mark.parametrize(
    ("name", "changes"),
    [
        ("rcp-attached-to-another-account", {"rcp_accounts": (OTHER_ACCOUNT,)}),
        ("recordings-account-is-the-management-account", {"management_account": ACCOUNT}),
        ("aws-managed-key", {"key_manager": "AWS"}),
    ],
)
def test_an_rcp_that_does_not_apply_fails_g4(name: str, changes: dict[str, Any]) -> None:
    d = guarded_design()
    e = replace(guarded_evidence(d), **changes)
    example = failing(G4, d, e)
    assert replay_past_guardrails(e, example) is Decision.ALLOWED
    if name == "aws-managed-key":
        assert example.resource == d.key_arn


def test_g4_counterexamples_are_outside_the_organization() -> None:
    """An outsider replayed as a member of the organization is denied nothing more: the
    counterexample is outside by the design's facts, not by the solver's choice of org id."""
    d = guarded_design()
    e = guarded_evidence(d, rcps=mutated(rcp_documents(d), drop(guardrails.SID_OUTSIDE_ORG + "Key")))
    example = failing(G4, d, e)
    assert example.context.get("aws:principalorgid") != ORGANIZATION
    inside = replace(example, context={**example.context, "aws:principalorgid": ORGANIZATION})
    assert replay_past_guardrails(e, inside) is Decision.ALLOWED
    assert ALIAS in example.context.get("kms:resourcealiases", ())


def test_without_the_instance_profile_statement_adding_the_role_to_a_profile_gets_through() -> None:
    """AddRoleToInstanceProfile passes the role for the literal ``arn:aws:ec2:*:ACCOUNT:instance/*``
    (IAM API reference): to EC2, its own service, so only the instance-profile statement denies it."""
    d = guarded_design()
    e = guarded_evidence(d, scps=mutated(scp_documents(d), drop(guardrails.SID_INSTANCE_PROFILES)))
    example = failing(G1, d, e)
    assert example.action == "iam:PassRole"
    assert example.context.get("iam:associatedresourcearn") == f"arn:aws:ec2:*:{ACCOUNT}:instance/*"
    assert replay_past_guardrails(e, example) is Decision.ALLOWED
    # Launching an instance passes the role for a concrete instance: the complete guardrails allow
    # that (auth nodes must start; THREAT_MODEL R3 keeps it as the open EC2 path).
    launch = replace(
        example,
        context={
            "iam:PassedToService": "ec2.amazonaws.com",
            "iam:AssociatedResourceArn": f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-0123456789abcdef0",
        },
    )
    assert replay_past_guardrails(guarded_evidence(d), launch) is Decision.ALLOWED
    added = replace(
        launch, context={**launch.context, "iam:AssociatedResourceArn": f"arn:aws:ec2:*:{ACCOUNT}:instance/*"}
    )
    assert replay_past_guardrails(guarded_evidence(d), added) is Decision.EXPLICIT_DENY
