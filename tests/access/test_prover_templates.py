"""The synthesized templates of the access-model configurations (tests/test_access_model.py):
P1-P6 on each, and one evaluator checking the other: ``decide`` agrees with principalmapper on
every sampled row of the tables. (One module, so that each template is synthesized once.)

principalmapper is wrong in a few documented places (tests/test_policy_eval.py, ``test_quirk_*``);
there the prover follows IAM, and the last tests here say so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from constructs_lib.core.prover import Decision, Design, Evidence, Request, Verdict, decide, prove
from tests.policy_eval import (
    ADMINISTRATOR_ACCESS,
    ResourcePolicyEvalResult,
    is_authorized,
    principal,
    resource_policy_authorization,
)
from tests.policy_eval import Decision as PmDecision
from tests.test_access_model import (
    ACCOUNT,
    BUCKET_ROWS,
    DEFAULT_DEPLOY_ROLE,
    KEY_ROWS,
    KMS_KEY_ACTIONS,
    REGION,
    SCENARIOS,
    SWEEP_PRINCIPALS,
    Scenario,
    Who,
    arn_of,
    bucket_decision,
    key_decision,
    node_of,
    scenarios,  # noqa: F401  (fixture)
    the_bucket,
    via_s3,
)

KEY_DECISIONS = {
    PmDecision.ALLOWED: Decision.ALLOWED,
    PmDecision.ALLOWED_VIA_IAM: Decision.ALLOWED,
    PmDecision.NOT_ALLOWED: Decision.IMPLICIT_DENY,
    PmDecision.DENIED: Decision.EXPLICIT_DENY,
}


def evidence_of(scenario: Scenario) -> Evidence:
    """The template's policies; every principal's identity policies as the tables give them."""
    identity = {
        arn_of(who, scenario): list(scenario.stack.auth_role_policies)
        if who is Who.AUTH_ROLE
        else [ADMINISTRATOR_ACCESS]
        for who in Who
    }
    return Evidence(
        key_policy=scenario.stack.key_policy, bucket_policy=scenario.stack.bucket_policy, identity_policies=identity
    )


def check_bucket_policy_rows_agree(scenario: Scenario) -> None:
    e = evidence_of(scenario)
    checked = 0
    for row in BUCKET_ROWS:
        resource = scenario.bucket_arn if row.on_bucket else scenario.object_arn()
        context = row.request(scenario)
        for who in (Who.AUTH_ROLE, Who.ACCOUNT_ADMIN, Who.OTHER_ACCOUNT):
            denied = bucket_decision(scenario, who, row) is PmDecision.DENIED
            authorized = is_authorized(
                node_of(who, scenario),
                row.action,
                resource,
                context,
                resource_policy=scenario.stack.bucket_policy,
                owner=ACCOUNT,
            )
            expected = Decision.EXPLICIT_DENY if denied else Decision.ALLOWED if authorized else Decision.IMPLICIT_DENY
            ours = decide(e, Request(arn_of(who, scenario), row.action, resource, context), account=ACCOUNT)
            assert ours is expected, (row.id, who)
            checked += 1
    assert checked == 3 * len(BUCKET_ROWS)


def check_key_policy_rows_agree(scenario: Scenario) -> None:
    e = evidence_of(scenario)
    for row in KEY_ROWS:
        request = Request(arn_of(row.who, scenario), row.action, scenario.stack.key_arn, row.request(scenario))
        expected = KEY_DECISIONS[key_decision(scenario, row.who, row.action, row.request)]
        assert decide(e, request, account=ACCOUNT) is expected, row.id


def check_every_action_sweep_agrees(scenario: Scenario) -> None:
    """test_key_policy_every_action's table: every principal against every KMS action on the key."""
    e = evidence_of(scenario)
    context = via_s3(the_bucket)(scenario)
    disagreements = [
        (who, action)
        for who in SWEEP_PRINCIPALS
        for action in KMS_KEY_ACTIONS
        if decide(e, Request(arn_of(who, scenario), action, scenario.stack.key_arn, context), account=ACCOUNT)
        is not KEY_DECISIONS[key_decision(scenario, who, action, via_s3(the_bucket))]
    ]
    assert disagreements == []


# --- P1-P6 on the templates ------------------------------------------------------------------------


def scenario_design(scenario: Scenario) -> Design:
    config, stack = scenario.config, scenario.stack
    return Design(
        account=ACCOUNT,
        region=REGION,
        key_arn=stack.key_arn,
        key_id=stack.key_id,
        bucket_name=stack.bucket_name,
        auth_role_arn=stack.auth_role_arn,
        prefix=config.recordings_prefix,
        admin_arns=tuple(config.key_admins),
        admin_mode=config.key_admin_mode.value,
        deploy_role_arn=config.deploy_role or DEFAULT_DEPLOY_ROLE,
        scope_key_to_s3=config.scope_key_to_s3,
    )


def scenario_evidence(scenario: Scenario) -> Evidence:
    stack = scenario.stack
    return Evidence(
        key_policy=stack.key_policy,
        bucket_policy=stack.bucket_policy,
        identity_policies={stack.auth_role_arn: list(stack.auth_role_policies)},
    )


def check_the_synthesized_template_passes(scenario: Scenario) -> None:
    """``configured`` uses strict mode (requireEncryptionHeaders): its bucket policy denies any
    PutObject without encryption headers, which is how UploadPart and CompleteMultipartUpload
    reach S3 (DOMAIN.md). P5 therefore FAILs there, with UploadPart as the counterexample: the
    prover states the risk that the access-model tables only describe (docs/THREAT_MODEL.md)."""
    d, e = scenario_design(scenario), scenario_evidence(scenario)
    results = {r.id: r for r in prove(d, e)}
    strict = scenario.config.require_encryption_headers
    for prop, found in results.items():
        if prop == "P5" and strict:
            assert found.verdict is Verdict.FAIL, found
            assert found.counterexample is not None
            assert found.counterexample.action == "s3:PutObject"
            assert "UploadPart" in found.summary or "CompleteMultipartUpload" in found.summary
        else:
            assert found.verdict is Verdict.PASS, found
    assert scenario.name != "configured" or strict


@pytest.mark.parametrize("scenario_name", SCENARIOS)
def test_template(scenarios: Callable[[str], Scenario], scenario_name: str) -> None:  # noqa: F811
    """One test per template, so that parallel runs (pytest -n) synthesize each template once."""
    scenario = scenarios(scenario_name)
    check_the_synthesized_template_passes(scenario)
    check_bucket_policy_rows_agree(scenario)
    check_key_policy_rows_agree(scenario)
    check_every_action_sweep_agrees(scenario)


# --- where principalmapper is wrong, the prover follows IAM ----------------------------------------

BUCKET = "arn:aws:s3:::amzn-s3-demo-bucket"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ExampleRole"
SSE = "s3:x-amz-server-side-encryption"


def _deny(condition: dict[str, Any], resource: str = f"{BUCKET}/*") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "s3:*",
                "Resource": resource,
                "Condition": condition,
            }
        ],
    }


def _principalmapper_denies(policy: dict[str, Any], context: dict[str, str], resource: str = f"{BUCKET}/x") -> bool:
    result = resource_policy_authorization(principal(ROLE), ACCOUNT, policy, "s3:PutObject", resource, context)
    return result is ResourcePolicyEvalResult.DENY_MATCH


def _prover_denies(policy: dict[str, Any], context: dict[str, str], resource: str = f"{BUCKET}/x") -> Decision:
    e = Evidence(key_policy={"Statement": []}, bucket_policy=policy, identity_policies={ROLE: [ADMINISTRATOR_ACCESS]})
    return decide(e, Request(ROLE, "s3:PutObject", resource, context), account=ACCOUNT)


def test_quirk_string_not_like_on_an_absent_key_is_true_in_iam() -> None:
    """IAM User Guide, "Condition operators": a negated operator on a missing key is true.
    principalmapper reads it as false (test_quirk_string_not_like_is_false_on_an_absent_key)."""
    policy = _deny({"StringNotLike": {SSE: "aws:kms*"}})
    assert not _principalmapper_denies(policy, {})
    assert _prover_denies(policy, {}) is Decision.EXPLICIT_DENY


def test_quirk_numeric_if_exists_compares_in_iam() -> None:
    """principalmapper never compares Numeric*IfExists (test_quirk_numeric_if_exists_never_compares_so_it_is_refused)."""
    policy = _deny({"NumericLessThanIfExists": {"s3:TlsVersion": "1.2"}})
    assert not _principalmapper_denies(policy, {"s3:TlsVersion": "1.1"})
    assert _prover_denies(policy, {"s3:TlsVersion": "1.1"}) is Decision.EXPLICIT_DENY
    assert _prover_denies(policy, {}) is Decision.EXPLICIT_DENY


def test_quirk_json_booleans_match_in_iam() -> None:
    """principalmapper compares the JSON false with the string only (test_quirk_json_booleans_never_match_so_they_are_rewritten)."""
    policy = _deny({"Bool": {"aws:SecureTransport": False}})
    assert not _principalmapper_denies(policy, {"aws:SecureTransport": "false"})
    assert _prover_denies(policy, {"aws:SecureTransport": "false"}) is Decision.EXPLICIT_DENY


def test_quirk_unknown_operators_are_not_silently_matched() -> None:
    """principalmapper ignores unknown operators, so the Deny matches (test_quirk_unknown_operators_are_ignored_so_they_are_refused);
    the prover cannot tell and says so."""
    policy = _deny({"Equals": {SSE: "never"}})
    assert _principalmapper_denies(policy, {SSE: "aws:kms"})
    assert _prover_denies(policy, {SSE: "aws:kms"}) is Decision.UNKNOWN


def test_quirk_resource_arns_are_case_sensitive_in_iam() -> None:
    """principalmapper matches Resource ignoring case (test_quirk_resource_arns_match_case_insensitively)."""
    policy = _deny({"Null": {SSE: "false"}})
    upper = "arn:aws:s3:::AMZN-S3-DEMO-BUCKET/x"
    assert _principalmapper_denies(policy, {SSE: "AES256"}, upper)
    assert _prover_denies(policy, {SSE: "AES256"}, upper) is Decision.ALLOWED
