"""T1 (prover/trust.py): exactly the design's trusted principal can assume the auth role; each mutation of the
trust FAILs (or, where it is not modelled, is CANNOT-PROVE), never PASS.

The chained trust is EKS Pod Identity role chaining (``targetRoleArn``): AWS's example trust for the target role
names the Pod Identity role's account root with ``aws:PrincipalARN`` equal to the Pod Identity role, and allows
``sts:AssumeRole`` and ``sts:TagSession`` (EKS User Guide, "Access AWS Resources using EKS Pod Identity Target
IAM Roles", https://docs.aws.amazon.com/eks/latest/userguide/pod-id-assign-target-role.html). The Pod Identity
role's own trust is ``pods.eks.amazonaws.com`` with the same two actions (EKS User Guide, "Create IAM role with
trust policy required by EKS Pod Identity", https://docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from constructs_lib.core.prover.model import Evidence, Verdict
from constructs_lib.core.prover.trust import prove_t1, trusted_principal
from tests.access.conftest import ACCOUNT, OTHER_ACCOUNT, design

POD_ROLE = f"arn:aws:iam::{OTHER_ACCOUNT}:role/eks-pod-identity-teleport"
TAGS = {"aws:RequestTag/kubernetes-namespace": "teleport", "aws:RequestTag/kubernetes-service-account": "teleport"}
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE"


def chained_trust() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {"StringEquals": TAGS, "ArnEquals": {"aws:PrincipalArn": POD_ROLE}},
            }
        ],
    }


def t1(trust: dict[str, Any] | None, expected: Any = None) -> Any:
    chosen = expected or trusted_principal("pod-identity", pod_identity_role_arn=POD_ROLE)
    return prove_t1(design(auth_trusted=chosen), Evidence(key_policy={}, auth_trust_policy=trust))


def test_the_chained_trust_admits_exactly_the_pod_identity_role() -> None:
    result = t1(chained_trust())
    assert result.verdict is Verdict.PASS, result
    assert POD_ROLE in result.summary


def test_naming_the_pod_identity_role_itself_is_the_same_principal() -> None:
    trust = chained_trust()
    statement = trust["Statement"][0]
    statement["Principal"] = {"AWS": POD_ROLE}
    del statement["Condition"]["ArnEquals"]
    assert t1(trust).verdict is Verdict.PASS


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda s: s["Condition"].pop("ArnEquals"), id="account-root-without-principal-arn"),
        pytest.param(lambda s: s["Condition"].update(ArnEquals={"aws:PrincipalArn": "*"}), id="principal-arn-star"),
        pytest.param(
            lambda s: s["Condition"].update(ArnEquals={"aws:PrincipalArn": [POD_ROLE, f"{POD_ROLE}-other"]}),
            id="principal-arn-two-roles",
        ),
        pytest.param(
            lambda s: s["Condition"].update(ArnLike={"aws:PrincipalArn": POD_ROLE}) or s["Condition"].pop("ArnEquals"),
            id="arn-like-only",
        ),
        pytest.param(lambda s: s.update(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}), id="another-accounts-root"),
        pytest.param(lambda s: s.update(Principal={"Service": "pods.eks.amazonaws.com"}), id="plain-pod-identity"),
        pytest.param(lambda s: s.update(Principal="*"), id="anyone"),
        pytest.param(lambda s: s.update(Action=["sts:AssumeRole"]), id="no-tag-session"),
    ],
)
def test_each_mutation_of_the_chained_trust_fails(mutate: Any) -> None:
    trust = chained_trust()
    mutate(trust["Statement"][0])
    result = t1(trust)
    assert result.verdict is Verdict.FAIL, result
    assert result.counterexample is not None


def test_a_second_statement_for_another_principal_fails_naming_it() -> None:
    trust = chained_trust()
    trust["Statement"].append(
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    )
    result = t1(trust)
    assert result.verdict is Verdict.FAIL
    assert result.counterexample is not None
    assert result.counterexample.principal == "ec2.amazonaws.com"


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda t: t["Statement"].append(
                {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole", "Condition": {"Bool": {"x": "y"}}}
            ),
            id="deny",
        ),
        pytest.param(
            lambda t: t["Statement"][0].update(NotPrincipal=t["Statement"][0].pop("Principal")), id="not-principal"
        ),
        pytest.param(lambda t: t["Statement"][0].update(NotAction=t["Statement"][0].pop("Action")), id="not-action"),
    ],
)
def test_what_t1_does_not_model_is_cannot_prove(change: Any) -> None:
    trust = chained_trust()
    change(trust)
    assert t1(trust).verdict is Verdict.CANNOT_PROVE


def test_no_trust_policy_is_cannot_prove() -> None:
    assert t1(None).verdict is Verdict.CANNOT_PROVE
    no_design = prove_t1(design(), Evidence(key_policy={}, auth_trust_policy=chained_trust()))
    assert no_design.verdict is Verdict.CANNOT_PROVE


def test_plain_pod_identity_rejects_the_chained_trust_and_accepts_its_own() -> None:
    plain = trusted_principal("pod-identity")
    assert t1(chained_trust(), plain).verdict is Verdict.FAIL
    own = copy.deepcopy(chained_trust())
    own["Statement"][0]["Principal"] = {"Service": "pods.eks.amazonaws.com"}
    own["Statement"][0]["Condition"] = {"StringEquals": TAGS}
    assert t1(own, plain).verdict is Verdict.PASS


def test_irsa_needs_assume_role_with_web_identity_from_its_provider() -> None:
    expected = trusted_principal("irsa", oidc_provider_arn=PROVIDER)
    trust = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"Federated": PROVIDER}, "Action": "sts:AssumeRoleWithWebIdentity"}
        ]
    }
    assert t1(trust, expected).verdict is Verdict.PASS
    wrong_action = copy.deepcopy(trust)
    wrong_action["Statement"][0]["Action"] = "sts:AssumeRole"
    assert t1(wrong_action, expected).verdict is Verdict.FAIL
    other = copy.deepcopy(trust)
    other["Statement"][0]["Principal"] = {"Federated": PROVIDER.replace("EXAMPLE", "OTHER")}
    assert t1(other, expected).verdict is Verdict.FAIL


def test_ec2_and_principal_trusts() -> None:
    ec2 = {
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    }
    assert t1(ec2, trusted_principal("ec2")).verdict is Verdict.PASS
    user = f"arn:aws:iam::{ACCOUNT}:user/teleport"
    named = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": user}, "Action": "sts:AssumeRole"}]}
    assert t1(named, trusted_principal("principal", auth_principal=user)).verdict is Verdict.PASS
    root = replace_principal(named, f"arn:aws:iam::{ACCOUNT}:root")
    assert t1(root, trusted_principal("principal", auth_principal=user)).verdict is Verdict.FAIL


def replace_principal(trust: dict[str, Any], arn: str) -> dict[str, Any]:
    changed = copy.deepcopy(trust)
    changed["Statement"][0]["Principal"] = {"AWS": arn}
    return changed
