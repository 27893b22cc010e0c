"""The package's organization guardrails (``constructs_lib.core.guardrails``) against G1-G4, and
P1-P6 with them in place, for two designs: an auth role trusted by EC2 and one trusted by ECS tasks.

The other guardrail test files import the helpers defined here (``guarded_design``,
``guarded_evidence`` ...): one definition of "the package's guardrails for a design".
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pytest

from constructs_lib.core import guardrails
from constructs_lib.core.prover import (
    ALL_PROPERTIES,
    GUARDRAIL_PROPERTIES,
    Budget,
    Decision,
    Design,
    Evidence,
    PropertyResult,
    Request,
    Verdict,
    decide,
    prove,
)
from tests.access.conftest import ACCOUNT, ADMINISTRATOR_ACCESS, AUTH, DEPLOY, auth_identity, design, evidence

MANAGEMENT = "999988887777"
SIBLING = "222233334444"  # another member account of the organization
ORGANIZATION = "o-a1b2c3d4e5"
BREAK_GLASS = f"arn:aws:iam::{ACCOUNT}:role/BreakGlass"
ALIAS = "alias/teleport-recordings"
TRUSTS = {"ec2-trust": "ec2.amazonaws.com", "ecs-tasks-trust": "ecs-tasks.amazonaws.com"}
G1, G2, G3, G4 = GUARDRAIL_PROPERTIES

Document = dict[str, Any]


def guarded_design(service: str | None = "ec2.amazonaws.com", **changes: Any) -> Design:
    """The default design with the facts the guardrails need: the auth role's trusted service, a
    break-glass role, the key's alias and the organization."""
    base = design(
        auth_role_service=service,
        break_glass_arns=(BREAK_GLASS,),
        key_aliases=(ALIAS,),
        organization_id=ORGANIZATION,
        organization_accounts=(ACCOUNT, SIBLING, MANAGEMENT),
    )
    return replace(base, **changes)


def guarded(d: Design, **changes: Any) -> guardrails.GuardedDesign:
    """What the guardrails stack is built from, for the same design."""
    base = guardrails.GuardedDesign(
        partition=d.partition,
        account=d.account,
        auth_role_arn=d.auth_role_arn,
        auth_role_service=d.auth_role_service,
        key_alias=ALIAS,
        bucket_name=d.bucket_name,
        prefix=d.prefix,
        exempt_principal_arns=d.guardrail_exempt_arns,
        organization_id=ORGANIZATION,
    )
    return replace(base, **changes)


def scp_documents(d: Design, **changes: Any) -> list[Document]:
    return guardrails.documents(guardrails.scp_statements(guarded(d, **changes)))


def rcp_documents(d: Design, **changes: Any) -> list[Document]:
    return guardrails.documents(guardrails.rcp_statements(guarded(d, **changes)))


def grant_statement_with_bool(documents: Sequence[Mapping[str, Any]]) -> list[Document]:
    """The package's SCP as it first shipped: ``Bool`` instead of ``BoolIfExists`` on
    ``kms:GrantIsForAWSResource`` (AWS Control Tower's control CT.KMS.PV.1 writes ``BoolIfExists``)."""
    broken: list[Document] = json.loads(json.dumps(list(documents)))  # the statements share condition objects
    for document in broken:
        for statement in document["Statement"]:
            condition = statement.get("Condition", {})
            if "kms:GrantIsForAWSResource" in condition.get("BoolIfExists", {}):
                condition["Bool"] = condition.pop("BoolIfExists")
    return broken


def guarded_evidence(
    d: Design,
    *,
    scps: Sequence[Mapping[str, Any]] | None = None,
    rcps: Sequence[Mapping[str, Any]] | None = None,
    **changes: Any,
) -> Evidence:
    """The package's key and bucket policies, the auth role's identity policy, and the package's
    SCP and RCP attached to the recordings account."""
    chosen_scps = scp_documents(d) if scps is None else list(scps)
    base = replace(
        evidence(d),
        identity_policies={d.auth_role_arn: [auth_identity(d)]},
        scps=chosen_scps,
        rcps=rcp_documents(d) if rcps is None else list(rcps),
        scp_accounts=(ACCOUNT,),
        rcp_accounts=(ACCOUNT,),
        management_account=MANAGEMENT,
    )
    return replace(base, **changes)


def results_of(d: Design, e: Evidence, props: Sequence[str] = GUARDRAIL_PROPERTIES) -> dict[str, PropertyResult]:
    return {r.id: r for r in prove(d, e, props)}


def wide_open(e: Evidence, principal: str) -> Evidence:
    """The same guardrails with everything else allowing everything: the principal has
    AdministratorAccess and the key and bucket policies allow anyone anything."""
    everyone = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}
    identity = {principal: [ADMINISTRATOR_ACCESS]} if ":role/" in principal or ":user/" in principal else {}
    return replace(
        e,
        key_policy={"Version": "2012-10-17", "Statement": [everyone]},
        bucket_policy={"Version": "2012-10-17", "Statement": [everyone]},
        grants=(),
        identity_policies=identity,
    )


def replay_past_guardrails(e: Evidence, request: Request) -> Decision:
    """What AWS decides for a guardrail counterexample when nothing but the guardrails could refuse:
    ALLOWED means the guardrails let it through."""
    return decide(wide_open(e, request.principal), request, account=ACCOUNT)


# --- the package's guardrails ----------------------------------------------------------------------


@pytest.mark.parametrize("service", TRUSTS.values(), ids=TRUSTS.keys())
def test_the_packages_guardrails_pass_g1_to_g4(service: str) -> None:
    d = guarded_design(service)
    results = results_of(d, guarded_evidence(d))
    assert {p: r.verdict for p, r in results.items()} == dict.fromkeys(GUARDRAIL_PROPERTIES, Verdict.PASS), results
    assert service in results[G1].summary
    assert any("service-linked" in f for f in results[G1].findings)
    assert any(service in f for f in results[G1].findings)


@pytest.mark.parametrize("service", TRUSTS.values(), ids=TRUSTS.keys())
def test_bool_on_kms_grant_is_for_aws_resource_leaves_a_grant_undenied(service: str) -> None:
    """The finding that changed core/guardrails.py: with ``Bool`` the grant statement matches only
    when ``kms:GrantIsForAWSResource`` is present and false. AWS does not document that the key is
    present on a CreateGrant that no AWS service makes (the KMS Developer Guide, "AWS KMS condition
    keys", describes only when it is true), so any principal of the account could create a grant on
    the recordings key, for itself, with Decrypt: G1 FAILs. G2-G4 are unaffected."""
    d = guarded_design(service)
    e = guarded_evidence(d, scps=grant_statement_with_bool(scp_documents(d)))
    results = results_of(d, e)
    assert {p: r.verdict for p, r in results.items()} == {
        G1: Verdict.FAIL,
        G2: Verdict.PASS,
        G3: Verdict.PASS,
        G4: Verdict.PASS,
    }
    example = results[G1].counterexample
    assert example is not None
    assert (example.action, example.resource) == ("kms:CreateGrant", d.key_arn)
    assert "kms:grantisforawsresource" not in {k.lower() for k in example.context}
    assert "without" in results[G1].summary
    assert "kms:GrantIsForAWSResource" in results[G1].summary
    assert "aws:SourceAccount" not in results[G1].summary  # only AWS services carry it: no news
    assert replay_past_guardrails(e, example) is Decision.ALLOWED
    marked = replace(example, context={**example.context, "kms:GrantIsForAWSResource": "false"})
    assert replay_past_guardrails(e, marked) is Decision.EXPLICIT_DENY


@pytest.mark.parametrize("service", TRUSTS.values(), ids=TRUSTS.keys())
def test_p1_to_p6_still_pass_with_the_packages_guardrails_in_place(service: str) -> None:
    """With the package's own SCP and RCP, P1-P6
    answer PASS, not CANNOT-PROVE, and ``prove`` adds G1-G4 by default."""
    d = guarded_design(service)
    results = prove(d, guarded_evidence(d))
    assert [r.id for r in results] == [*ALL_PROPERTIES, *GUARDRAIL_PROPERTIES]
    assert [r.verdict for r in results[:6]] == [Verdict.PASS] * 6, results[:6]


def test_without_guardrails_prove_answers_p1_to_p6_only_as_before() -> None:
    assert [r.id for r in prove(guarded_design(), evidence(guarded_design()))] == list(ALL_PROPERTIES)


def test_g1_without_any_scp_fails_with_an_administrators_change() -> None:
    """Asked explicitly, G1 without guardrails is simply false: an administrator can rewrite the auth
    role's trust (what docs/THREAT_MODEL.md calls R3)."""
    d = guarded_design()
    found = results_of(d, evidence(d), [G1])[G1]
    assert found.verdict is Verdict.FAIL
    assert found.counterexample is not None
    assert replay_past_guardrails(evidence(d), found.counterexample) is Decision.ALLOWED


def test_the_guardrails_decide_concrete_requests_as_g1_and_g2_say() -> None:
    """Spot checks of what the proofs quantify over, through the concrete evaluator: an
    administrator is denied each kind of protected change, the exempt principals are not, and the
    auth role may still be passed to its own service."""
    d = guarded_design()
    e = guarded_evidence(d)
    admin = f"arn:aws:iam::{ACCOUNT}:role/Admin"
    objects = f"{d.bucket_arn}/{d.prefix}/2024/05/07/x.tar"
    aliases = {"kms:ResourceAliases": [ALIAS], "aws:PrincipalOrgID": ORGANIZATION}
    protected = [
        Request(admin, "iam:UpdateAssumeRolePolicy", AUTH),
        Request(admin, "iam:PassRole", AUTH, {"iam:PassedToService": "lambda.amazonaws.com"}),
        Request(admin, "kms:PutKeyPolicy", d.key_arn, aliases),
        Request(admin, "kms:CreateGrant", d.key_arn, {**aliases, "kms:GrantIsForAWSResource": "false"}),
        Request(admin, "s3:PutBucketPolicy", d.bucket_arn, {"aws:PrincipalOrgID": ORGANIZATION}),
        Request(admin, "s3:DeleteObjectVersion", objects, {"aws:PrincipalOrgID": ORGANIZATION}),
        Request(f"arn:aws:iam::{ACCOUNT}:root", "s3:DeleteBucket", d.bucket_arn, {"aws:PrincipalOrgID": ORGANIZATION}),
    ]
    for request in protected:
        assert replay_past_guardrails(e, request) is Decision.EXPLICIT_DENY, request.describe()
        for exempt in (BREAK_GLASS, DEPLOY):
            as_exempt = replace(request, principal=exempt)
            assert replay_past_guardrails(e, as_exempt) is Decision.ALLOWED, as_exempt.describe()
    to_ec2 = Request(admin, "iam:PassRole", AUTH, {"iam:PassedToService": "ec2.amazonaws.com"})
    assert replay_past_guardrails(e, to_ec2) is Decision.ALLOWED


def test_g4_needs_the_organization() -> None:
    d = guarded_design(organization_id=None, organization_accounts=())
    found = results_of(d, guarded_evidence(d), [G4])[G4]
    assert found.verdict is Verdict.CANNOT_PROVE
    assert "organization_id" in found.reasons[0]


def test_unknown_aliases_leave_g1_cannot_prove_never_pass() -> None:
    """The SCP selects the key by alias: without ``Design.key_aliases`` whether it applies to the
    key is unknown, so G1 cannot be proven (and is not failed on a guess either)."""
    d = guarded_design(key_aliases=None)
    found = results_of(d, guarded_evidence(guarded_design()), [G1])[G1]
    assert found.verdict is Verdict.CANNOT_PROVE
    assert any("kms:ResourceAliases" in reason for reason in found.reasons)


def test_the_packages_g1_to_g4_take_a_fixed_small_amount_of_work() -> None:
    """The work in rlimit units, the same on every run (``make bench`` reports the seconds: about
    0.2 s for G1-G4 on 2 cores); a wall-time bound would fail on a loaded machine."""
    d = guarded_design()
    e = guarded_evidence(d)
    spent = []
    for _ in range(2):
        budget = Budget()
        results = prove(d, e, GUARDRAIL_PROPERTIES, budget=budget)
        spent.append(budget.used)
        assert all(r.verdict is Verdict.PASS for r in results)
    assert len(set(spent)) == 1, spent
    assert spent[0] < 2_000_000
