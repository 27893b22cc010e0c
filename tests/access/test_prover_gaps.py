"""Issue 18: the classes of false PASS an adversarial review found, each closed and tested here.

1. callers the prover never considered (AWS STS federated user sessions);
2. the case of principal names, the unsafe way round;
3. the indirect paths to decryption, now derived from the classified action catalogue;
4. input AWS would reject or read differently (duplicate keys, condition keys differing in case,
   NotAction/NotResource in a key policy) - the CLI's own rules are in tests/cli;
5. ``aws:PrincipalArn`` wildcards: realistic patterns answered within a small number of rlimit units;
6. smaller gaps: ``aws:SecureTransport`` on KMS, the case of the key id in the wrong-key Deny, a
   readable ``kms:ViaService``.

Each test failed on the code before the fix (see the report of the change); each counterexample
the solver finds is replayed through the concrete evaluator where that evaluator can decide it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from constructs_lib.core import policies
from constructs_lib.core.prover import (
    Budget,
    Decision,
    Evidence,
    PolicyFormatError,
    Request,
    Verdict,
    decide,
    new_access,
    prove,
)
from constructs_lib.core.prover.catalog import CRYPTO_ACTIONS, DECRYPTION_PATHS, KMS_ACTIONS, NO_DECRYPTION_PATH
from constructs_lib.core.prover.match import action_match
from constructs_lib.core.prover.parse import parse_evidence, parse_policy
from constructs_lib.core.prover.properties import decryption_paths, solver_decide
from tests.access.conftest import (
    ACCOUNT,
    ADMINISTRATOR_ACCESS,
    ATTACKER,
    AUTH,
    BUCKET_ARN,
    KEY_ARN,
    KEY_ID,
    OTHER_ACCOUNT,
    REGION,
    ROOT,
    assert_fails,
    assert_passes,
    bucket_policy,
    design,
    evidence,
    key_policy,
    replay,
    result,
    statement,
    with_statements,
)

FEDERATED = f"arn:aws:sts::{ACCOUNT}:federated-user/"


def _with_key_statements(*statements: dict[str, Any], d: Any = None) -> Evidence:
    d = d or design()
    base = evidence(d)
    return replace(base, key_policy=with_statements(base.key_policy, *statements))


def _allow(principal: Any, action: Any = "kms:Decrypt", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*", **extra}


# --- 1. federated user sessions --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "pattern"),
    [
        ("ArnLike", f"arn:aws:sts::{ACCOUNT}:federated-user/*"),
        ("StringLike", "arn:aws:sts::*:federated-user/*"),
        ("ArnLike", f"arn:aws:sts::{ACCOUNT}:federated-user/ops-*"),
    ],
)
def test_a_statement_selecting_federated_user_sessions_lets_them_decrypt(operator: str, pattern: str) -> None:
    """IAM User Guide, "AWS global condition context keys", aws:PrincipalArn: for an AWS STS federated
    user session the request carries arn:aws:sts::ACCOUNT:federated-user/NAME; any IAM user or the
    root user can make one (GetFederationToken). Proven to match nobody before."""
    e = _with_key_statements(_allow("*", Condition={operator: {"aws:PrincipalArn": pattern}}))
    example = assert_fails(design(), e, "P1")
    assert ":federated-user/" in example.principal
    assert replay(e, example) is Decision.ALLOWED


def test_a_deny_naming_only_role_user_and_root_patterns_does_not_cover_federated_sessions() -> None:
    """A Deny on aws:PrincipalArn patterns for roles, users and root users leaves federated user
    sessions out (their ARN is an sts one): it was proven to cover everyone."""
    everyone = _allow("*", ["kms:Decrypt", "kms:PutKeyPolicy"])
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "kms:*",
        "Resource": "*",
        "Condition": {
            "ArnLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/*", "arn:aws:iam::*:user/*", "arn:aws:iam::*:root"]}
        },
    }
    no_service = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "kms:*",
        "Resource": "*",
        "Condition": {"Bool": {"aws:PrincipalIsAWSService": "true"}},
    }
    e = _with_key_statements(everyone, deny, no_service)
    for prop in ("P1", "P3"):
        example = assert_fails(design(), e, prop)
        assert example.principal.startswith("arn:aws:sts::")
        assert ":federated-user/" in example.principal
        assert replay(e, example) is Decision.ALLOWED


def test_a_federated_user_session_named_in_the_key_policy_fails_p1_and_a_deny_on_one_spares_teleport() -> None:
    """IAM User Guide, "Principal": federated user sessions can be named in a resource policy's
    Principal element. An Allow to one was CANNOT-PROVE, a Deny on one made P5 CANNOT-PROVE."""
    bob = FEDERATED + "bob"
    e = _with_key_statements(_allow({"AWS": bob}))
    example = assert_fails(design(), e, "P1")
    assert example.principal == bob
    assert decide(e, example, account=ACCOUNT) is Decision.ALLOWED
    deny = {"Effect": "Deny", "Principal": {"AWS": bob}, "Action": "kms:*", "Resource": "*"}
    assert result(design(), _with_key_statements(deny), "P5").verdict is Verdict.PASS


def test_a_federated_session_of_an_outsider_user_carries_the_users_key_policy_grant() -> None:
    """IAM User Guide, "Policy evaluation logic" (session policies): a resource policy naming an IAM
    user adds its permissions to the user's before the federated session is made. A Deny that spares
    federated sessions leaves the user's own Allow to its sessions: was a PASS."""
    outsider = f"arn:aws:iam::{ACCOUNT}:user/contractor"
    spare_sessions = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "kms:*",
        "Resource": "*",
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": [f"arn:aws:sts::{ACCOUNT}:federated-user/*", AUTH]}},
    }
    e = _with_key_statements(_allow({"AWS": outsider}), spare_sessions)
    example = assert_fails(design(), e, "P1")
    assert ":federated-user/" in example.principal
    # Which user made the session is not in its ARN: the concrete evaluator cannot tell.
    assert decide(e, example, account=ACCOUNT) is Decision.UNKNOWN


def test_a_user_readers_own_federated_sessions_are_the_reader() -> None:
    """A session a reader makes acts with the reader's credentials (and at most its permissions):
    not "someone else" for P1, so a design with an IAM user as reader still passes."""
    reader = f"arn:aws:iam::{ACCOUNT}:user/auditor"
    d = design(reader_arns=(reader,))
    reader_statement = {
        "Effect": "Allow",
        "Principal": {"AWS": reader},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": statement(key_policy(d), policies.SID_AUTH)["Condition"],
    }
    assert_passes(d, _with_key_statements(reader_statement, d=d), ["P1", "P2"])


def test_the_concrete_evaluator_and_the_solver_decide_federated_requests() -> None:
    """Both evaluators read a federated user session's request: aws:PrincipalArn is its sts ARN, the
    account's root statement delegates to its identity policies, and a Principal naming one IAM user
    may or may not cover it (which user federated is not in the ARN)."""
    session = FEDERATED + "alice"
    delegate = _allow({"AWS": ROOT}, "kms:*")
    by_arn = _allow("*", Condition={"StringEquals": {"aws:PrincipalArn": session}})
    named_user = _allow({"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"})
    decrypt = Request(session, "kms:Decrypt", KEY_ARN)
    cases = [
        (Evidence(key_policy={"Statement": [by_arn]}), Decision.ALLOWED),
        (
            Evidence(key_policy={"Statement": [delegate]}, identity_policies={session: [ADMINISTRATOR_ACCESS]}),
            Decision.ALLOWED,
        ),
        (
            Evidence(
                key_policy={"Statement": [delegate]},
                identity_policies={session: [{"Statement": [{"Effect": "Deny", "Action": "kms:*", "Resource": "*"}]}]},
            ),
            Decision.EXPLICIT_DENY,
        ),
        (Evidence(key_policy={"Statement": [named_user]}), Decision.UNKNOWN),
        (Evidence(key_policy={"Statement": [_allow({"AWS": OTHER_ACCOUNT})]}), Decision.IMPLICIT_DENY),
    ]
    for e, expected in cases:
        assert decide(e, decrypt, account=ACCOUNT) is expected, e
        assert solver_decide(e, decrypt, account=ACCOUNT) is expected, e


def test_new_access_sees_a_statement_for_federated_sessions() -> None:
    before = evidence()
    after = _with_key_statements(
        _allow("*", Condition={"ArnLike": {"aws:PrincipalArn": f"arn:aws:sts::{ACCOUNT}:federated-user/*"}})
    )
    found = new_access(design(), before, after)
    assert found is not None
    assert ":federated-user/" in found.principal


# --- 2. the case of principal names ----------------------------------------------------------------


def test_a_deny_naming_a_user_in_another_case_does_not_cover_the_user() -> None:
    """IAM User Guide, "IAM JSON policy elements: Principal": "the user name part of the ARN is case
    sensitive". A Deny naming user/ATTACKER was taken to cover user/Attacker."""
    attacker = f"arn:aws:iam::{ACCOUNT}:user/Attacker"
    deny = {"Effect": "Deny", "Principal": {"AWS": attacker.replace("Attacker", "ATTACKER")}, "Action": "kms:*"}
    e = _with_key_statements(_allow({"AWS": attacker}), deny | {"Resource": "*"})
    example = assert_fails(design(), e, "P1")
    assert example.principal == attacker
    assert replay(e, example) is Decision.ALLOWED


def test_a_not_principal_exemption_spelt_in_another_case_does_not_exempt_teleport() -> None:
    """The issue's example: the bucket policy exempts user/Teleport-Auth, the auth principal is
    user/teleport-auth: every Teleport call is refused. Was a P5 PASS."""
    auth = f"arn:aws:iam::{ACCOUNT}:user/teleport-auth"
    d = design(auth_role_arn=auth)
    deny = {
        "Effect": "Deny",
        "NotPrincipal": {"AWS": [f"arn:aws:iam::{ACCOUNT}:user/Teleport-Auth", ROOT]},
        "Action": "s3:*",
        "Resource": [BUCKET_ARN, f"{BUCKET_ARN}/*"],
    }
    e = replace(evidence(d), bucket_policy=with_statements(bucket_policy(d), deny))
    example = assert_fails(d, e, "P5")
    assert example.principal == auth
    assert replay(e, example) is Decision.EXPLICIT_DENY


def test_a_role_named_in_another_case_is_neither_proven_to_match_nor_not_to() -> None:
    """For roles the guide says nothing about case in a Principal, and role names are unique
    whatever their case ("IAM and AWS STS quotas"): an Allow for Teleport spelt otherwise cannot
    prove P5 (was a PASS), a Deny so spelt cannot prove it either (was a FAIL)."""
    spelt = AUTH.replace("TeleportAuth", "teleportauth")
    allowed = key_policy()
    statement(allowed, policies.SID_AUTH)["Principal"] = {"AWS": spelt}
    found = result(design(), replace(evidence(), key_policy=allowed), "P5")
    assert found.verdict is Verdict.CANNOT_PROVE, found
    assert "another case" in " ".join(found.reasons)
    deny = {"Effect": "Deny", "Principal": {"AWS": spelt.upper().replace("ARN:AWS:IAM", "arn:aws:iam")}}
    denied = _with_key_statements(deny | {"Action": "kms:GenerateDataKey", "Resource": "*"})
    assert result(design(), denied, "P5").verdict is Verdict.CANNOT_PROVE
    request = Request(AUTH, "kms:GenerateDataKey", KEY_ARN, {"kms:ViaService": f"s3.{REGION}.amazonaws.com"})
    assert decide(denied, request, account=ACCOUNT) is Decision.UNKNOWN
    assert solver_decide(denied, request, account=ACCOUNT) is Decision.UNKNOWN


# --- 3. indirect paths to decryption, from the catalogue -------------------------------------------

MRK_ID = "mrk-1234abcd12ab34cd56ef1234567890ab"
MRK_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{MRK_ID}"


def _every_path_design() -> Any:
    """A multi-Region key whose writers name it by an alias: every conditional path applies."""
    return design(key_id=MRK_ID, key_arn=MRK_ARN, sse_kms_key="alias/teleport-recordings")


def test_every_catalogue_action_is_classified_once() -> None:
    """The list of actions that can hand out decryption is derived from the catalogue (botocore's KMS
    model, tests/cli): every action is either a path or has a reason not to be, never both."""
    assert set(DECRYPTION_PATHS) | set(NO_DECRYPTION_PATH) == set(KMS_ACTIONS)
    assert not set(DECRYPTION_PATHS) & set(NO_DECRYPTION_PATH)
    assert all(DECRYPTION_PATHS.values())
    assert all(NO_DECRYPTION_PATH.values())
    every_path = decryption_paths(_every_path_design(), parse_evidence(evidence()))
    assert set(every_path) == set(DECRYPTION_PATHS) - set(CRYPTO_ACTIONS)
    assert set(decryption_paths(design(), parse_evidence(evidence()))) == {
        "kms:PutKeyPolicy",
        "kms:CreateGrant",
        "kms:ImportKeyMaterial",
    }


INDIRECT = ("kms:ReplicateKey", "kms:ImportKeyMaterial", "kms:UpdateAlias", "kms:DeleteAlias")


def _covering(action: str) -> str:
    """A wildcard pattern that covers ``action`` (and maybe others), of a shape that varies with it."""
    name = action.removeprefix("kms:")
    shapes = [f"kms:{name[:3]}*", f"kms:*{name[-4:]}", f"kms:{name[0]}?{name[2:]}", "kms:*"]
    return shapes[sum(map(ord, name)) % len(shapes)]


@pytest.mark.parametrize("action", INDIRECT)
def test_an_indirect_path_in_another_principals_hands_fails_p1(action: str) -> None:
    """KMS Developer Guide, "Control access to multi-Region keys" (a replica shares the key material,
    and its creator writes its key policy); ImportKeyMaterial; UpdateAlias and DeleteAlias where an
    alias names the key for encryption. Each was a P1 PASS."""
    d = _every_path_design()
    e = _with_key_statements(_allow({"AWS": ATTACKER}, action), d=d)
    example = assert_fails(d, e, "P1")
    assert (example.principal, example.action) == (ATTACKER, action)
    assert replay(e, example) is Decision.ALLOWED


@pytest.mark.parametrize("action", sorted(DECRYPTION_PATHS))
def test_a_wildcard_covering_a_path_in_another_principals_hands_fails_p1(action: str) -> None:
    d = _every_path_design()
    pattern = _covering(action)
    e = _with_key_statements(_allow({"AWS": ATTACKER}, pattern), d=d)
    example = assert_fails(d, e, "P1")
    assert example.principal == ATTACKER
    assert action_match(pattern, example.action)
    assert example.action in DECRYPTION_PATHS
    assert replay(e, example) is Decision.ALLOWED


def test_a_multi_region_key_cannot_be_proven_without_its_replicas_policies() -> None:
    d = design(key_id=MRK_ID, key_arn=MRK_ARN)
    found = result(d, evidence(d), "P1")
    assert found.verdict is Verdict.CANNOT_PROVE
    assert "multi-Region key" in found.reasons[0]


def test_replicate_key_on_a_single_region_key_is_no_path_but_still_p3() -> None:
    """A single-Region key can never be replicated (KMS Developer Guide, "Multi-Region keys")."""
    e = _with_key_statements(_allow({"AWS": ATTACKER}, "kms:ReplicateKey"))
    assert result(design(), e, "P1").verdict is Verdict.PASS
    assert assert_fails(design(), e, "P3").action == "kms:ReplicateKey"


def test_alias_changes_are_a_path_when_a_policy_reads_the_stated_aliases() -> None:
    """KMS Developer Guide, "ABAC for AWS KMS": who can change a key's aliases changes what a
    kms:ResourceAliases condition allows; the proof takes Design.key_aliases as they are."""
    d = design(key_aliases=("alias/teleport-recordings",))
    by_alias = _allow(
        {"AWS": ROOT}, "kms:Decrypt", Condition={"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/shared"}}
    )
    e = _with_key_statements(by_alias, _allow({"AWS": ATTACKER}, "kms:CreateAlias"), d=d)
    example = assert_fails(d, e, "P1")
    assert (example.principal, example.action) == (ATTACKER, "kms:CreateAlias")


# --- 4. input AWS would reject or read differently -------------------------------------------------

POLICY_WITH_TWICE_EFFECT = (
    '{"Version": "2012-10-17", "Statement": [{"Sid": "Twice", "Effect": "Deny", "Effect": "Allow",'
    ' "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}]}'
)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (POLICY_WITH_TWICE_EFFECT, "statement 'Twice' has the key 'Effect' more than once"),
        (
            '{"Statement": [{"Effect": "Deny", "Principal": {"AWS": "1", "AWS": "*"}, "Action": "kms:*",'
            ' "Resource": "*"}]}',
            "'AWS' more than once",
        ),
        (
            '{"Statement": [{"Sid": "C", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",'
            ' "Condition": {"StringEquals": {"kms:ViaService": "a", "kms:ViaService": "b"}}}]}',
            "statement 'C' Condition StringEquals has the key 'kms:ViaService' more than once",
        ),
        ('{"Statement": [], "Statement": [{"Effect": "Allow"}]}', "key policy has the key 'Statement'"),
    ],
)
def test_duplicate_json_keys_are_refused_naming_where(text: str, named: str) -> None:
    """Python's json keeps the last of duplicate keys; AWS may keep the first: no single reading."""
    with pytest.raises(PolicyFormatError, match=re.escape(named)):
        parse_policy(text, "key policy", resource_policy=True)
    with pytest.raises(PolicyFormatError, match=re.escape(named)):
        prove(design(), Evidence(key_policy=text), ["P1"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"kms:ViaService": "a", "kms:viaservice": "b"}},
        {"StringEquals": {"kms:ViaService": "a"}, "StringLike": {"KMS:ViaService": "*"}},
    ],
)
def test_condition_keys_differing_only_in_case_in_one_block_are_refused(condition: dict[str, Any]) -> None:
    """IAM Access Analyzer, "Error - Duplicate keys with different case"."""
    e = _with_key_statements({"Sid": "Cased", **_allow({"AWS": ATTACKER}, Condition=condition)})
    with pytest.raises(PolicyFormatError, match=r"statement 'Cased': the condition key .*different capitalization"):
        prove(design(), e, ["P1"])


@pytest.mark.parametrize(
    "deny",
    [
        {"NotAction": "kms:Encrypt", "Resource": "*"},
        {"Action": "kms:*", "NotResource": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/another"},
    ],
)
def test_not_action_or_not_resource_in_a_key_policy_deny_cannot_prove(deny: dict[str, Any]) -> None:
    """KMS Developer Guide, "Creating a key policy" (elements: Action and Resource), PutKeyPolicy API
    reference (a statement missing Action or Resource "has no effect"): whether KMS reads NotAction or
    NotResource is not documented. The Deny was taken to cover the attacker: a PASS."""
    e = _with_key_statements(
        _allow({"AWS": ATTACKER}), {"Sid": "Not", "Effect": "Deny", "Principal": {"AWS": ATTACKER}, **deny}
    )
    found = result(design(), e, "P1")
    assert found.verdict is Verdict.CANNOT_PROVE, found
    assert "key policy statement 'Not'" in found.reasons[0]


# --- 5. aws:PrincipalArn wildcards, within a few rlimit units --------------------------------------


@pytest.mark.parametrize(
    ("operator", "pattern", "verdict"),
    [
        ("ArnLike", f"arn:aws:iam::{ACCOUNT}:role/TeleportSessionRecordings-*", Verdict.FAIL),
        ("ArnLike", "arn:aws:iam::*:role/teleport-*", Verdict.FAIL),
        (
            "StringLike",
            f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_Audit*",
            Verdict.FAIL,
        ),
        ("ArnLike", f"arn:aws:iam::{ACCOUNT}:user/ops-?-*", Verdict.FAIL),
        ("StringLike", "arn:aws:*:*:*:federated-user/*", Verdict.FAIL),
        ("ArnEquals", AUTH, Verdict.PASS),
    ],
)
def test_principal_arn_wildcards_are_answered_within_a_small_budget(
    operator: str, pattern: str, verdict: Verdict
) -> None:
    """Issue 18, item 5: a realistic role-name pattern made the solver give up after 35-80 s. Each of
    these is decided in under 2 million rlimit units (z3's own work count, the same on every
    machine; make bench prints the first one's seconds)."""
    e = _with_key_statements(_allow("*", Condition={operator: {"aws:PrincipalArn": pattern}}))
    budget = Budget()
    (found,) = prove(design(), e, ["P1"], budget=budget)
    assert found.verdict is verdict, found
    assert budget.used < 2_000_000, budget.describe()
    if verdict is Verdict.FAIL:
        assert found.counterexample is not None
        assert replay(e, found.counterexample) is Decision.ALLOWED


# --- 6. smaller gaps --------------------------------------------------------------------------------


def test_an_allow_that_needs_plain_http_on_the_key_never_matches() -> None:
    """KMS endpoints accept HTTPS only ("Infrastructure security in AWS KMS"), and S3 refuses SSE-KMS
    requests without TLS (S3 User Guide, "Using server-side encryption with AWS KMS keys"). Was a
    P1 FAIL with aws:SecureTransport=false."""
    e = _with_key_statements(_allow({"AWS": ATTACKER}, Condition={"Bool": {"aws:SecureTransport": "false"}}))
    assert result(design(), e, "P1").verdict is Verdict.PASS
    with pytest.raises(PolicyFormatError, match="always over TLS"):
        decide(e, Request(ATTACKER, "kms:Decrypt", KEY_ARN, {"aws:SecureTransport": "false"}), account=ACCOUNT)


@pytest.mark.parametrize("spelling", ["upper", "upper-id-only"])
def test_this_keys_id_in_another_case_cannot_store_under_another_key(spelling: str) -> None:
    """A key id is a UUID KMS makes: this key's ARN or id spelt in another case names this key or no
    key, so a put that carries it is stored under this key or refused. The wrong-key Deny listing
    them in upper case failed P6 on such a put."""
    d = design()
    document = bucket_policy(d)
    wrong_key = statement(document, policies.SID_DENY_WRONG_KEY)["Condition"]["StringNotEquals"]
    upper_arn = KEY_ARN.replace(KEY_ID, KEY_ID.upper())
    listed = [upper_arn, KEY_ID.upper()] if spelling == "upper" else [KEY_ARN, KEY_ID.upper()]
    wrong_key[policies.SSE_KMS_KEY_HEADER] = listed
    found = result(d, replace(evidence(d), bucket_policy=document), "P6")
    assert found.verdict is Verdict.PASS, found


def test_a_via_service_in_a_counterexample_is_a_service_name() -> None:
    """kms:ViaService is an AWS service endpoint such as s3.eu-west-1.amazonaws.com (KMS Developer
    Guide, "kms:ViaService"); counterexamples showed kms:viaservice=""."""
    e = _with_key_statements(_allow({"AWS": ATTACKER}, Condition={"Null": {"kms:ViaService": "false"}}))
    example = assert_fails(design(), e, "P1")
    via = str(example.context["kms:viaservice"])
    assert re.fullmatch(r"[a-z][a-z0-9.-]*\.amazonaws\.com", via), via
