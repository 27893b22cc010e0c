"""The verify checks as pure functions (no AWS): facts in, check lines out, and how they are worded.

``tests/cli/facts.py`` builds the facts of a correct deployment from ``constructs_lib.core.policies``.
"""

from __future__ import annotations

import json
from dataclasses import replace

import boto3
import pytest
from moto import mock_aws

from constructs_lib.core import policies
from constructs_lib.core.prover import PropertyResult, Request, Verdict
from recordings_kms import aws, render
from recordings_kms.results import CheckResult, Status, exit_ok, property_results
from recordings_kms.teleport import StorageUriError, parse_storage_uri, teleport_config_snippet
from recordings_kms.verify import readers
from recordings_kms.verify.checks import KMS_ACTIONS, check_identity_evidence
from recordings_kms.verify.configuration_checks import check_storage_uri
from recordings_kms.verify.facts import IdentityFacts
from tests.cli.facts import AUTH, BUCKET, KEY_ARN, live_facts, verdicts, verify_facts

ACCOUNT = "123456789012"


def test_a_correct_deployment_passes_every_check() -> None:
    results = verify_facts(live_facts())
    assert {r.id: r.status for r in results if r.status not in (Status.PASS, Status.INFO)} == {}
    assert [r.id for r in results if r.id.startswith("access.") and r.status is Status.PASS] == [
        f"access.P{n}" for n in range(1, 7)
    ]
    assert exit_ok(results, warnings_ok=False)


def test_an_unreadable_key_policy_is_cannot_prove_never_pass() -> None:
    facts = live_facts()
    facts = replace(facts, key=replace(facts.key, policy_text="{not json"))
    found = verdicts(verify_facts(facts))
    for check_id in [f"access.P{n}" for n in range(1, 7)] + ["deploy.put-key-policy"]:
        assert found[check_id].status is Status.CANNOT_PROVE
        assert found[check_id].not_modelled == (
            "the key policy is not JSON (Expecting property name enclosed in double quotes)",
        )
    assert not exit_ok(list(found.values()), warnings_ok=True)


def test_a_policy_the_prover_cannot_read_is_cannot_prove() -> None:
    """A statement element IAM does not have: the prover refuses the document, verify says it cannot prove."""
    document = policies.key_policy(auth_principal_arn=AUTH, deploy_role_arn=None)
    document["Statement"][0]["Principals"] = "*"
    found = verdicts(verify_facts(live_facts(document)))
    assert found["access.P1"].status is Status.CANNOT_PROVE
    assert found["access.P1"].reason.startswith("cannot prove: the live policies are not in a form the prover reads")


# --- the prover's results as check lines -----------------------------------------------------------

EXAMPLE = Request("arn:aws:iam::111122223333:role/x", "kms:Decrypt", KEY_ARN, {"kms:ViaService": "s3.amazonaws.com"})


def test_each_property_is_one_line_and_its_findings_are_info_lines() -> None:
    results = [
        PropertyResult("P1", "title one", Verdict.FAIL, "someone else: ...", EXAMPLE, findings=("admin may decrypt",)),
        PropertyResult("P2", "title two", Verdict.CANNOT_PROVE, "cannot prove: a", EXAMPLE, reasons=("a", "b")),
        PropertyResult("P3", "title three", Verdict.PASS, "fine"),
    ]
    lines = property_results(results)
    assert [(r.id, r.status) for r in lines] == [
        ("access.P1", Status.FAIL),
        ("access.P1", Status.INFO),
        ("access.P2", Status.CANNOT_PROVE),
        ("access.P3", Status.PASS),
    ]
    assert lines[0].counterexample == EXAMPLE
    assert lines[2].not_modelled == ("a", "b")
    assert lines[3].title == "title three"


def test_text_shows_what_was_not_modelled_and_a_counterexample_the_reason_lacks() -> None:
    results = [
        CheckResult("access.P1", Status.FAIL, "someone else can use the key", EXAMPLE),
        CheckResult("access.P2", Status.CANNOT_PROVE, "cannot prove: a (and 1 more)", EXAMPLE, ("a", "b")),
        CheckResult("access.P3", Status.FAIL, f"shown: {EXAMPLE.describe()}", EXAMPLE),
        CheckResult("access.P3", Status.INFO, "a finding"),
    ]
    text = render.text(results, "header")
    indent = " " * len("CANNOT-PROVE  access.P1  ")
    assert text.splitlines() == [
        "header",
        "FAIL          access.P1  someone else can use the key",
        f"{indent}counterexample: {EXAMPLE.describe()}",
        "CANNOT-PROVE  access.P2  cannot prove: a (and 1 more)",
        f"{indent}not modelled: a",
        f"{indent}not modelled: b",
        f"{indent}would violate it if those went against it: {EXAMPLE.describe()}",
        f"FAIL          access.P3  shown: {EXAMPLE.describe()}",
        "INFO          access.P3  a finding",
        "0 passed, 0 warnings, 2 failed, 1 cannot be proven (1 informational)",
    ]
    document = json.loads(render.document(results, ok=False, about={}))
    assert document["checks"][0]["counterexample"] == {
        "principal": EXAMPLE.principal,
        "action": "kms:Decrypt",
        "resource": KEY_ARN,
        "context": {"kms:ViaService": "s3.amazonaws.com"},
    }
    assert document["checks"][1]["not_modelled"] == ["a", "b"]
    assert document["summary"] == {"PASS": 0, "WARN": 0, "FAIL": 2, "CANNOT-PROVE": 1, "INFO": 1}


@pytest.mark.parametrize(
    ("statuses", "warnings_ok", "ok"),
    [
        ([Status.PASS, Status.INFO], False, True),
        ([Status.PASS, Status.WARN], False, False),
        ([Status.PASS, Status.WARN], True, True),
        ([Status.PASS, Status.CANNOT_PROVE], True, False),
        ([Status.FAIL], True, False),
    ],
)
def test_what_counts(statuses: list[Status], warnings_ok: bool, ok: bool) -> None:
    assert exit_ok([CheckResult("x", s, "") for s in statuses], warnings_ok=warnings_ok) is ok


# --- identity policies -----------------------------------------------------------------------------


def test_identity_evidence_names_the_permissions_boundary_it_cannot_model() -> None:
    identity = IdentityFacts(AUTH, documents=({"Statement": []},), inline=1, boundary="arn:aws:iam::1:policy/b")
    found = {r.id: r for r in check_identity_evidence(identity)}
    assert found["evidence.identity-policies"].status is Status.PASS
    assert found["evidence.permissions-boundary"].status is Status.WARN
    assert "which the prover does not model" in found["evidence.permissions-boundary"].reason


@mock_aws
def test_gather_identity_reads_a_users_groups_and_refuses_another_accounts_namesake(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A user's effective identity policies include its groups'; a role of the same name in the caller's account
    is not the design's role when the design names another account."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    iam = boto3.client("iam", region_name="eu-west-1")
    allow = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    iam.create_user(UserName="teleport")
    iam.create_group(GroupName="recorders")
    iam.add_user_to_group(GroupName="recorders", UserName="teleport")
    iam.put_group_policy(GroupName="recorders", PolicyName="inline", PolicyDocument=allow)
    arn = iam.create_policy(PolicyName="managed", PolicyDocument=allow)["Policy"]["Arn"]
    iam.attach_group_policy(GroupName="recorders", PolicyArn=arn)
    iam.put_user_policy(UserName="teleport", PolicyName="own", PolicyDocument=allow)
    clients = aws.make_clients(region="eu-west-1", endpoint_url=None)
    user = readers.gather_identity(clients, f"arn:aws:iam::{ACCOUNT}:user/teleport")
    assert (user.attached, user.inline, user.from_groups, user.problem) == (0, 1, 2, "")
    assert user.documents is not None
    assert user.documents[0]["Statement"][0]["Action"] == "s3:*"
    elsewhere = readers.gather_identity(clients, "arn:aws:iam::444455556666:user/teleport")
    assert elsewhere.documents is None
    assert elsewhere.problem == (
        f"IAM reports arn:aws:iam::{ACCOUNT}:user/teleport for the name teleport: these credentials read another "
        "account's IAM"
    )


# --- stack and storage URI -------------------------------------------------------------------------


def test_storage_uri_must_name_this_bucket_key_and_the_designs_prefix() -> None:
    facts = live_facts()
    uri = policies.storage_uri(bucket_name=BUCKET, prefix="records", region="eu-west-1", key_arn=KEY_ARN)
    assert check_storage_uri(uri, facts.bucket, facts.key, "records").status is Status.PASS
    wrong = check_storage_uri(uri.replace("/records?", "/other?"), facts.bucket, facts.key, "records")
    assert wrong.status is Status.FAIL
    assert wrong.reason == "StorageUri names prefix other, not the design's records"


def test_kms_actions_are_the_kms_permissions() -> None:
    """The prover's action catalogue (which verify uses) is every permission of botocore's KMS model: ReEncrypt is
    authorized as ReEncryptFrom and ReEncryptTo, and SynchronizeMultiRegionKey is a permission without an API."""
    import botocore.session

    operations = botocore.session.get_session().get_service_model("kms").operation_names
    expected = {f"kms:{op}" for op in operations if op != "ReEncrypt"}
    expected |= {"kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:SynchronizeMultiRegionKey"}
    assert sorted(KMS_ACTIONS) == sorted(expected)
    assert len(set(KMS_ACTIONS)) == len(KMS_ACTIONS)


def test_storage_uri_from_the_builder_parses() -> None:
    uri = policies.storage_uri(bucket_name=BUCKET, prefix="records", region="eu-west-1", key_arn=KEY_ARN)
    storage = parse_storage_uri(uri)
    assert (storage.bucket, storage.prefix, storage.region, storage.sse_kms_key) == (
        BUCKET,
        "records",
        "eu-west-1",
        KEY_ARN,
    )
    assert storage.names_key_by_arn
    snippet = teleport_config_snippet(storage)
    assert snippet.endswith(f'teleport:\n  storage:\n    audit_sessions_uri: "{uri}"\n')
    assert "audit_events_uri" in snippet


def test_rfd_example_uri_with_a_key_id_parses() -> None:
    storage = parse_storage_uri("s3://teleport-demo-bucket/records?sse_kms_key=1234abcd-12ab-34cd-56ef-1234567890ab")
    assert not storage.names_key_by_arn
    assert storage.region is None


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        (f"https://{BUCKET}/records?sse_kms_key={KEY_ARN}", "must start with s3://"),
        (f"s3://{BUCKET}/records?region=eu-west-1", "has no sse_kms_key"),
        (f"s3://{BUCKET}/records?sse_kms_key=", "has no sse_kms_key"),
        (f"s3://{BUCKET}/records?sse_kms_key=alias/teleport", "must be the key ARN"),
        (f"s3://Bad_Bucket/records?sse_kms_key={KEY_ARN}", "valid S3 bucket name"),
        (f"s3://{BUCKET}/records?sse_kms_key={KEY_ARN}&disablesse=true", "disablesse"),
    ],
)
def test_bad_storage_uris_are_refused(uri: str, message: str) -> None:
    with pytest.raises(StorageUriError, match=message):
        parse_storage_uri(uri)


@pytest.mark.usefixtures("aws_env")
def test_gather_key_reads_every_page_of_list_grants() -> None:
    """The grants count (false PASS 1 was a grant): a second page of ListGrants must not be missed."""
    from botocore.stub import Stubber

    clients = aws.make_clients(region="eu-west-1", endpoint_url=None)
    grant = {"KeyId": KEY_ARN, "GranteePrincipal": AUTH, "Operations": ["Decrypt"]}
    metadata = {"KeyId": KEY_ARN.rsplit("/", 1)[1], "Arn": KEY_ARN}
    with Stubber(clients.kms) as kms:
        kms.add_response("describe_key", {"KeyMetadata": metadata}, {"KeyId": KEY_ARN})
        kms.add_response("get_key_policy", {"Policy": "{}"}, {"KeyId": KEY_ARN, "PolicyName": "default"})
        kms.add_response("get_key_rotation_status", {"KeyRotationEnabled": True}, {"KeyId": KEY_ARN})
        first = {"Grants": [grant | {"GrantId": "one"}], "Truncated": True, "NextMarker": "page-2"}
        kms.add_response("list_grants", first, {"KeyId": KEY_ARN})
        second = {"Grants": [grant | {"GrantId": "two"}], "Truncated": False}
        kms.add_response("list_grants", second, {"KeyId": KEY_ARN, "Marker": "page-2"})
        facts = readers.gather_key(clients, KEY_ARN)
        kms.assert_no_pending_responses()
    assert [g["GrantId"] for g in facts.grants] == ["one", "two"]
