"""What the prover does not model never yields PASS: CANNOT-PROVE, with the reason named.

Each unsupported element is put where it decides the property: in an Allow for another role
(P1 would otherwise FAIL or PASS depending on it) and in a Deny on the auth role (P5).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from constructs_lib.core.prover import (
    Decision,
    Evidence,
    PolicyFormatError,
    Request,
    Verdict,
    decide,
    new_access,
    prove,
)
from constructs_lib.core.prover.properties import CannotProveError
from tests.access.conftest import ACCOUNT, ATTACKER, AUTH, KEY_ARN, design, evidence, result, with_statements

#: An allow whose outcome depends on an operator the prover does not model (IpAddress).
ATTACKER_DECRYPTS_FROM_AN_IP_RANGE = {
    "Effect": "Allow",
    "Principal": {"AWS": ATTACKER},
    "Action": "kms:Decrypt",
    "Resource": "*",
    "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
}

UNSUPPORTED_CONDITIONS: dict[str, tuple[dict[str, Any], str]] = {
    "unknown-operator": ({"StringEqualsTypo": {"kms:ViaService": "x"}}, "StringEqualsTypo"),
    "date-operator": ({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}, "DateLessThan"),
    "ip-operator": ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, "IpAddress"),
    "unmodelled-key": ({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}, "aws:SourceVpce"),
    "policy-variable": ({"StringEquals": {"kms:ViaService": "${aws:username}"}}, "policy variable"),
    "single-valued-operator-on-a-set": ({"StringEquals": {"kms:GrantOperations": "Decrypt"}}, "multi-valued"),
    "numeric-on-a-string-key": ({"NumericLessThan": {"kms:ViaService": "3"}}, "type"),
    "null-if-exists": ({"NullIfExists": {"kms:ViaService": "true"}}, "NullIfExists"),
}
UNSUPPORTED_PRINCIPALS: dict[str, tuple[dict[str, Any], str]] = {
    "federated": ({"Federated": "cognito-identity.amazonaws.com"}, "Federated"),
    "wildcard-in-arn": ({"AWS": "arn:aws:iam::111122223333:role/team-*"}, "wildcard"),
    "unique-id": ({"AWS": "AROAEXAMPLEID1234567"}, "unique id"),
    "session": ({"AWS": "arn:aws:sts::111122223333:assumed-role/Attacker/s1"}, "session"),
}
#: In the Deny, the principal must be one that could be Teleport's.
DENIED_INSTEAD = {"session": {"AWS": "arn:aws:sts::111122223333:assumed-role/TeleportAuth/auth-1"}}


def _reasons(found: Any) -> str:
    return " | ".join(found.reasons)


@pytest.mark.parametrize("case", UNSUPPORTED_CONDITIONS)
def test_an_unsupported_condition_in_an_allow_makes_p1_cannot_prove(case: str) -> None:
    condition, named = UNSUPPORTED_CONDITIONS[case]
    e = evidence()
    allow = {
        "Effect": "Allow",
        "Principal": {"AWS": ATTACKER},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": condition,
    }
    found = result(design(), replace(e, key_policy=with_statements(e.key_policy, allow)), "P1")
    assert found.verdict is Verdict.CANNOT_PROVE, found
    assert named.lower() in _reasons(found).lower()


@pytest.mark.parametrize("case", UNSUPPORTED_CONDITIONS)
def test_an_unsupported_condition_in_a_deny_makes_p5_cannot_prove(case: str) -> None:
    condition, named = UNSUPPORTED_CONDITIONS[case]
    e = evidence()
    deny = {"Effect": "Deny", "Principal": {"AWS": AUTH}, "Action": "kms:*", "Resource": "*", "Condition": condition}
    found = result(design(), replace(e, key_policy=with_statements(e.key_policy, deny)), "P5")
    assert found.verdict is Verdict.CANNOT_PROVE, found
    assert named.lower() in _reasons(found).lower()


@pytest.mark.parametrize("case", UNSUPPORTED_PRINCIPALS)
def test_an_unsupported_principal_in_an_allow_makes_p1_cannot_prove_and_in_a_deny_p5(case: str) -> None:
    principal, named = UNSUPPORTED_PRINCIPALS[case]
    e = evidence()
    allow = {"Effect": "Allow", "Principal": principal, "Action": "kms:Decrypt", "Resource": "*"}
    p1 = result(design(), replace(e, key_policy=with_statements(e.key_policy, allow)), "P1")
    deny = {"Effect": "Deny", "Principal": DENIED_INSTEAD.get(case, principal), "Action": "kms:*", "Resource": "*"}
    p5 = result(design(), replace(e, key_policy=with_statements(e.key_policy, deny)), "P5")
    for found in (p1, p5):
        assert found.verdict is Verdict.CANNOT_PROVE, found
        assert named.lower() in _reasons(found).lower()


def test_not_principal_with_allow_is_not_modelled() -> None:
    e = evidence()
    allow = {"Effect": "Allow", "NotPrincipal": {"AWS": AUTH}, "Action": "kms:Decrypt", "Resource": "*"}
    found = result(design(), replace(e, key_policy=with_statements(e.key_policy, allow)), "P1")
    assert found.verdict is Verdict.CANNOT_PROVE
    assert "NotPrincipal with Allow" in _reasons(found)


def test_resource_wildcards_before_the_resource_segment_are_doubtful() -> None:
    """The IAM guide says wildcards stay within ARN segments; where that and plain globbing
    differ on the request, the prover does not guess."""
    e = evidence()
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:*:teleport-*"}
    found = result(design(), replace(e, bucket_policy=with_statements(e.bucket_policy or {}, deny)), "P5")
    assert found.verdict is Verdict.CANNOT_PROVE
    assert "Resource 'arn:aws:s3:*:teleport-*'" in _reasons(found)


@pytest.mark.parametrize(
    ("grant", "named"),
    [
        ({"Constraints": {"SomeFutureConstraint": {}}}, "SomeFutureConstraint"),
        ({"GranteePrincipal": "arn:aws:iam::111122223333:root"}, "account principal"),
        ({"GranteePrincipal": "arn:aws:sts::111122223333:assumed-role/Attacker/s1"}, "session"),
    ],
)
def test_unsupported_grant_shapes_make_p1_cannot_prove(grant: dict[str, Any], named: str) -> None:
    base = {"GrantId": "g", "KeyId": KEY_ARN, "GranteePrincipal": ATTACKER, "Operations": ["Decrypt"]}
    found = result(design(), replace(evidence(), grants=[base | grant]), "P1")
    assert found.verdict is Verdict.CANNOT_PROVE, found
    assert named.lower() in _reasons(found).lower()


def test_an_unsupported_element_that_cannot_matter_does_not_block_a_pass() -> None:
    """An unknown condition in a Deny only narrows access: P1 still holds whatever it is."""
    e = evidence()
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "kms:*",
        "Resource": "*",
        "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
    }
    found = result(design(), replace(e, key_policy=with_statements(e.key_policy, deny)), "P1")
    assert found.verdict is Verdict.PASS


def test_decide_answers_unknown_where_the_outcome_depends_on_an_unsupported_element() -> None:
    e = evidence()
    allow = ATTACKER_DECRYPTS_FROM_AN_IP_RANGE
    e = replace(e, key_policy=with_statements(e.key_policy, allow))
    assert (
        decide(e, Request(ATTACKER, "kms:Decrypt", KEY_ARN, {"aws:SourceIp": "203.0.113.9"}), account=ACCOUNT)
        is Decision.UNKNOWN
    )
    assert decide(e, Request(ATTACKER, "kms:Encrypt", KEY_ARN), account=ACCOUNT) is Decision.IMPLICIT_DENY


def test_new_access_raises_when_it_cannot_decide() -> None:
    before = evidence()
    allow = ATTACKER_DECRYPTS_FROM_AN_IP_RANGE
    after = replace(before, key_policy=with_statements(before.key_policy, allow))
    with pytest.raises(CannotProveError, match="IpAddress"):
        new_access(design(), before, after)


def test_an_scp_is_evaluated_where_it_applies_and_needs_its_accounts() -> None:
    """SCPs used to turn P4/P5 into CANNOT-PROVE; now they are evaluated (docs/PROVER.md,
    "Organizations guardrails"). A Deny of kms:* applied to the recordings account refuses the
    deploy role's PutKeyPolicy and Teleport's KMS calls: P4 and P5 FAIL with counterexamples; the
    "nobody else can" properties keep their PASS. Where SCPs apply must be said, never guessed."""
    scp = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "kms:*", "Resource": "*"}]}
    applied = replace(evidence(), scps=[scp], scp_accounts=[ACCOUNT], management_account="999988887777")
    results = {r.id: r for r in prove(design(), applied)}
    verdicts = {p: r.verdict for p, r in results.items() if p.startswith("P")}
    assert verdicts == {
        "P1": Verdict.PASS,
        "P2": Verdict.PASS,
        "P3": Verdict.PASS,
        "P4": Verdict.FAIL,
        "P5": Verdict.FAIL,
        "P6": Verdict.PASS,
    }
    example = results["P5"].counterexample
    assert example is not None
    assert example.action.startswith("kms:")
    with pytest.raises(PolicyFormatError, match="scp_accounts"):
        prove(design(), replace(evidence(), scps=[scp], management_account="999988887777"))
    with pytest.raises(PolicyFormatError, match="management_account"):
        prove(design(), replace(evidence(), scps=[scp], scp_accounts=[ACCOUNT]))


# --- malformed input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key_policy", "message"),
    [
        ("{not json", "not JSON"),
        ([], "not a JSON object"),
        ({"Statement": [{"Principal": "*", "Action": "kms:*", "Resource": "*"}]}, "Effect"),
        (
            {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", "Extra": 1}]},
            "Extra",
        ),
        (
            {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "a", "NotAction": "b", "Resource": "*"}]},
            "NotAction",
        ),
        ({"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}, "Principal"),
        (
            {"Statement": [{"Effect": "Allow", "Principal": {"Alien": "x"}, "Action": "kms:*", "Resource": "*"}]},
            "Alien",
        ),
        (
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "kms:*",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"k": {"a": 1}}},
                    }
                ]
            },
            "expected a value or a list",
        ),
        ({"Version": "2020-01-01", "Statement": []}, "Version"),
    ],
)
def test_malformed_policies_raise_a_one_line_policy_format_error(key_policy: Any, message: str) -> None:
    with pytest.raises(PolicyFormatError, match=message) as raised:
        prove(design(), Evidence(key_policy=key_policy))
    assert "\n" not in str(raised.value)


def test_malformed_grants_and_identity_policies_raise() -> None:
    with pytest.raises(PolicyFormatError, match="GranteePrincipal"):
        prove(design(), replace(evidence(), grants=[{"Operations": ["Decrypt"]}]))
    bad = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}
    with pytest.raises(PolicyFormatError, match="no Principal"):
        prove(design(), replace(evidence(), identity_policies={AUTH: [bad]}))
    with pytest.raises(PolicyFormatError, match="request principal"):
        decide(evidence(), Request("someone", "kms:Decrypt", KEY_ARN), account=ACCOUNT)
