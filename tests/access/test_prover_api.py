"""The rest of the public API: ``new_access``, the action catalogue, findings, speed."""

from __future__ import annotations

import copy
from dataclasses import replace

from constructs_lib.core import policies
from constructs_lib.core.prover import CRYPTO_ACTIONS, KMS_ACTIONS, Budget, Request, Verdict, new_access, prove
from recordings_kms.verify.checks import KMS_ACTIONS as CLI_KMS_ACTIONS
from tests.access.conftest import (
    ADMIN,
    ATTACKER,
    AUTH,
    BUCKET_ARN,
    KEY_ARN,
    design,
    evidence,
    replay,
    statement,
    with_statements,
)


def test_the_kms_action_catalogue_is_the_clis_botocore_checked_list() -> None:
    """recordings_kms/verify/checks.py's list is compared with botocore's KMS model by its own test."""
    assert KMS_ACTIONS == CLI_KMS_ACTIONS
    assert set(CRYPTO_ACTIONS) <= set(KMS_ACTIONS)


def test_new_access_is_none_for_policies_that_grant_exactly_the_same() -> None:
    """Splitting a statement, reordering statements and spelling the account as a bare id change
    nothing a request can do."""
    d = design(admin_arns=(ADMIN,))
    before = evidence(d)
    key_policy = copy.deepcopy(before.key_policy)
    auth = statement(key_policy, policies.SID_AUTH)
    halves = [
        copy.deepcopy(auth) | {"Sid": f"half{i}", "Action": actions}
        for i, actions in enumerate((auth["Action"][:2], auth["Action"][2:]))
    ]
    key_policy["Statement"] = [
        *halves,
        *reversed([s for s in key_policy["Statement"] if s.get("Sid") != policies.SID_AUTH]),
    ]
    assert new_access(d, before, replace(before, key_policy=key_policy)) is None
    assert new_access(d, before, before) is None


def test_new_access_finds_what_a_change_adds_and_not_what_it_removes() -> None:
    d = design()
    before = evidence(d)
    wider = with_statements(
        before.key_policy, {"Effect": "Allow", "Principal": {"AWS": ATTACKER}, "Action": "kms:Decrypt", "Resource": "*"}
    )
    found = new_access(d, before, replace(before, key_policy=wider))
    assert isinstance(found, Request)
    assert (found.principal, found.action, found.resource) == (ATTACKER, "kms:Decrypt", KEY_ARN)
    assert replay(replace(before, key_policy=wider), found).value == "ALLOWED"
    assert new_access(d, replace(before, key_policy=wider), before) is None
    looser_bucket = copy.deepcopy(before.bucket_policy or {})
    looser_bucket["Statement"] = [
        s for s in looser_bucket["Statement"] if s["Sid"] != policies.SID_DENY_INSECURE_TRANSPORT
    ]
    found = new_access(d, before, replace(before, bucket_policy=looser_bucket))
    assert found is not None
    assert found.resource.startswith(BUCKET_ARN)
    assert found.context.get("aws:securetransport") == "false"


def test_results_name_the_property_and_summarise_in_one_line() -> None:
    results = prove(design(), evidence())
    assert [r.id for r in results] == ["P1", "P2", "P3", "P4", "P5", "P6"]
    for r in results:
        assert r.title
        assert r.summary
        assert "\n" not in r.summary
        assert r.verdict is Verdict.PASS
        assert r.counterexample is None
        assert r.reasons == ()


def test_request_describe_is_one_sorted_line() -> None:
    request = Request(
        AUTH, "kms:Decrypt", KEY_ARN, {"kms:ViaService": "s3.eu-west-1.amazonaws.com", "aws:SecureTransport": "true"}
    )
    assert request.describe() == (
        f"{AUTH} kms:Decrypt on {KEY_ARN} (aws:SecureTransport=true; kms:ViaService=s3.eu-west-1.amazonaws.com)"
    )


def test_the_default_configuration_is_proven_within_a_fixed_amount_of_work() -> None:
    """Issue 9 asked for the default configuration's proofs in <= 1 s; seconds depend on the machine
    and its load, so this bounds the work in rlimit units and checks that it is the same on every
    run (``make bench`` reports the seconds: about 0.2 s on 2 cores)."""
    d, e = design(), evidence()
    spent = []
    for _ in range(3):
        budget = Budget()
        results = prove(d, e, budget=budget)
        spent.append(budget.used)
        assert all(r.verdict is Verdict.PASS for r in results)
    assert len(set(spent)) == 1, spent
    assert spent[0] < 2_000_000


def test_the_prover_is_pure() -> None:
    """Importing the prover starts no jsii and loads neither CDK nor boto3 (a fresh interpreter:
    this test process has them loaded already)."""
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys, constructs_lib.core.prover\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'aws_cdk', 'constructs', 'jsii', 'boto3', 'botocore'}))"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_same_question_gets_the_same_counterexample() -> None:
    """Each proof runs in a fresh z3 context: what ran before cannot change the answer."""
    e = evidence()
    root = {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "kms:*", "Resource": "*"}
    e = replace(e, key_policy=with_statements(e.key_policy, root))
    first = [r.counterexample for r in prove(design(), e)]
    prove(design(), evidence())
    assert [r.counterexample for r in prove(design(), e)] == first
    assert any(c is not None for c in first)
