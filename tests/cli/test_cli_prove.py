"""`recordings-kms prove`: P1-P6 on saved policies, without AWS; exit 0, 1 or 2 with one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.core import policies
from recordings_kms.cli import main

ACCOUNT = "111122223333"
REGION = "eu-west-1"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"
BUCKET = "acme-teleport-recordings"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
AUTH = f"arn:aws:iam::{ACCOUNT}:role/teleport-auth"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/KeyAdmins"
READER = f"arn:aws:iam::{ACCOUNT}:role/auditor"
DEPLOY = f"arn:aws:iam::{ACCOUNT}:role/cfn-deployer"
ATTACKER = f"arn:aws:iam::{ACCOUNT}:role/Attacker"


def key_policy(**changes: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "auth_principal_arn": AUTH,
        "deploy_role_arn": DEPLOY,
        "key_admin_arns": [ADMIN],
        "bucket_arn": BUCKET_ARN,
        "region": REGION,
    }
    return policies.key_policy(**(arguments | changes))


def bucket_policy() -> dict[str, Any]:
    return policies.bucket_policy(bucket_arn=BUCKET_ARN, key_arn=KEY_ARN, key_id=KEY_ID)


def write(tmp_path: Path, name: str, content: Any) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def prove(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str, **files: Any) -> tuple[int, str, str]:
    """Run prove with the design's options and the given files (``key_policy=``, ``bucket_policy=``, ``grants=``)."""
    documents = {"key_policy": {"Policy": json.dumps(key_policy()), "PolicyName": "default"}} | files
    argv = ["prove", "--auth", AUTH, "--bucket", BUCKET, "--key-arn", KEY_ARN, "--admin", ADMIN]
    argv += ["--deploy-role", DEPLOY]
    for name, content in documents.items():
        if content is not None:
            argv += [f"--{name.replace('_', '-')}", write(tmp_path, f"{name}.json", content)]
    code = main([*argv, *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def statuses(out: str) -> dict[str, str]:
    return {c["id"]: c["status"] for c in json.loads(out)["checks"] if c["status"] != "INFO"}


def test_the_design_policies_as_aws_returns_them_prove(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """GetKeyPolicy's and GetBucketPolicy's response shapes (the policy as a JSON string) and ListGrants'."""
    code, out, err = prove(
        tmp_path,
        capsys,
        bucket_policy={"Policy": json.dumps(bucket_policy())},
        grants={"Grants": [], "Truncated": False},
    )
    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0].startswith(f"recordings-kms prove: key {KEY_ARN}, bucket {BUCKET} ({REGION}): key policy ")
    assert [line.split()[:2] for line in lines[2:] if line.startswith(("PASS", "FAIL", "CANNOT-PROVE"))] == [
        ["PASS", f"access.P{n}"] for n in range(1, 7)
    ]
    assert f"INFO  access.P1  key administrator {ADMIN} may decrypt recordings (rfd mode: kms:*)" in lines
    assert lines[-1].startswith("6 passed, 0 warnings, 0 failed (")
    assert err == ""


def test_bare_documents_are_read_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = prove(tmp_path, capsys, "--json", key_policy=key_policy(), bucket_policy=bucket_policy(), grants=[])
    document = json.loads(out)
    assert code == 0
    assert document["ok"] is True
    assert document["design"]["keyArn"] == KEY_ARN
    assert set(statuses(out).values()) == {"PASS"}


def test_a_grant_to_another_role_fails_p1_with_the_counterexample(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    grant = {"GrantId": "abc123", "KeyId": KEY_ARN, "GranteePrincipal": ATTACKER, "Operations": ["Decrypt"]}
    code, out, _ = prove(tmp_path, capsys, bucket_policy=bucket_policy(), grants={"Grants": [grant]})
    assert code == 1
    line = next(line for line in out.splitlines() if line.startswith("FAIL"))
    assert line.startswith(f"FAIL  access.P1  {ATTACKER} can call kms:Decrypt through grant abc123: {ATTACKER} kms:")
    assert out.splitlines()[-1].startswith("5 passed, 0 warnings, 1 failed")


def test_without_a_bucket_policy_p6_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = prove(tmp_path, capsys, "--json")
    assert code == 1
    assert statuses(out)["access.P6"] == "FAIL"
    p6 = next(c for c in json.loads(out)["checks"] if c["id"] == "access.P6")
    assert p6["counterexample"]["action"].startswith("s3:")


def test_what_the_prover_does_not_model_is_cannot_prove_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An IpAddress condition on an Allow to someone else: whether it matches is not modelled."""
    document = key_policy()
    document["Statement"].append(
        {
            "Effect": "Allow",
            "Principal": {"AWS": ATTACKER},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
        }
    )
    code, out, _ = prove(tmp_path, capsys, key_policy=document, bucket_policy=bucket_policy())
    assert code == 1
    lines = out.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("CANNOT-PROVE  access.P1"))
    assert "cannot prove:" in lines[first]
    assert lines[first + 1].lstrip().startswith("not modelled: ")
    assert "IpAddress" in lines[first + 1]
    assert "cannot be proven" in lines[-1]


def test_readers_admin_mode_and_prefix_come_from_the_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A separated-mode policy with a reader, proven against the same design given as options."""
    document = key_policy(key_admin_mode=policies.KeyAdminMode.SEPARATED, reader_arns=[READER], deploy_role_arn=DEPLOY)
    argv = ["--reader", READER, "--admin-mode", "separated", "--prefix", "sessions", "--region", REGION, "--json"]
    code, out, _ = prove(tmp_path, capsys, *argv, key_policy=document, bucket_policy=bucket_policy())
    design = json.loads(out)["design"]
    assert code == 0, out
    assert (design["readers"], design["adminMode"], design["prefix"]) == ([READER], "separated", "sessions")
    # Judged without the reader (and in rfd mode), P1 finds the reader's decryption.
    code, out, _ = prove(tmp_path, capsys, "--json", key_policy=document, bucket_policy=bucket_policy())
    assert code == 1
    assert statuses(out)["access.P1"] == "FAIL"


@pytest.mark.parametrize(
    ("files", "extra", "fragment"),
    [
        ({"key_policy": "{not json"}, [], "is not JSON: Expecting property name enclosed in double quotes (line 1)"),
        ({"key_policy": {"Policy": "{oops"}}, [], "its Policy string is not JSON"),
        ({"key_policy": ["a", "list"]}, [], "is neither a policy document nor a response with a Policy"),
        ({"key_policy": {"Statement": [{"Action": "kms:*"}]}}, [], "malformed input: key policy statement #1"),
        ({"grants": {"Grants": [{"GrantId": "g"}]}}, [], "malformed input: grant g has no GranteePrincipal"),
        ({"grants": {"Grants": "none"}}, [], "is neither a list of grants nor a ListGrants response"),
        ({}, ["--region", "us-east-1"], "'--region' is us-east-1 but --key-arn is a key in eu-west-1"),
        ({}, ["--admin-mode", "strict"], "'--admin-mode' must be one of"),
        ({}, ["--reader", AUTH], "'--reader' must be a principal not also given as '--auth'"),
    ],
    ids=[
        "not-json",
        "policy-string-not-json",
        "not-a-policy",
        "malformed-policy",
        "malformed-grant",
        "not-grants",
        "other-region",
        "admin-mode",
        "reader-is-auth",
    ],
)
def test_unusable_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, Any], extra: list[str], fragment: str
) -> None:
    code, out, err = prove(tmp_path, capsys, *extra, **files)
    assert code == 2, out + err
    assert out == ""
    assert err.startswith("recordings-kms: error: ")
    assert len(err.strip().splitlines()) == 1
    assert fragment in err


def test_a_missing_file_or_a_bad_key_arn_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "absent.json")
    base = ["prove", "--auth", AUTH, "--bucket", BUCKET, "--key-policy", missing]
    assert main([*base, "--key-arn", KEY_ARN]) == 2
    assert f"--key-policy {missing}: cannot read it (No such file or directory)" in capsys.readouterr().err
    assert main([*base, "--key-arn", KEY_ID, "--json"]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["ok"] is False
    assert "'--key-arn' must be a KMS key ARN" in captured.err
    assert main(["prove", "--auth", AUTH, "--bucket", "Bad_Bucket", "--key-arn", KEY_ARN, "--key-policy", missing]) == 2
    assert "'--bucket' must be a valid S3 bucket name" in capsys.readouterr().err


def test_required_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["prove", "--bucket", BUCKET, "--key-arn", KEY_ARN])
    assert exit_info.value.code == 2
    assert "the following arguments are required: --key-policy, --auth" in capsys.readouterr().err


def test_a_spent_prover_budget_prints_every_property_cannot_prove_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The budget bounds the command (issue 14): nothing runs on after it, and nothing is PASS."""
    code, out, err = prove(tmp_path, capsys, "--json", "--prover-budget", "1", bucket_policy=bucket_policy())
    assert code == 1, err
    found = statuses(out)
    assert {f"access.P{n}" for n in range(1, 7)} <= set(found)
    assert {found[f"access.P{n}"] for n in range(1, 7)} == {"CANNOT-PROVE"}
    reasons = next(c for c in json.loads(out)["checks"] if c["id"] == "access.P6")
    assert "budget" in json.dumps(reasons)


@pytest.mark.parametrize("bad", ["0", "-1", "1e6", "lots"])
def test_a_prover_budget_that_is_not_a_positive_number_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    code, out, err = prove(tmp_path, capsys, "--prover-budget", bad)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "'--prover-budget' must be a positive whole number of rlimit units" in err


def _twice(document: dict[str, Any]) -> str:
    """The policy as JSON text whose first statement says ``Effect`` twice (the other one first)."""
    text = json.dumps(document)
    effect = document["Statement"][0]["Effect"]
    other = "Deny" if effect == "Allow" else "Allow"
    return text.replace(f'"Effect": "{effect}"', f'"Effect": "{other}", "Effect": "{effect}"', 1)


def _cased() -> dict[str, Any]:
    document = key_policy()
    document["Statement"].append(
        {
            "Sid": "Cased",
            "Effect": "Allow",
            "Principal": {"AWS": ATTACKER},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": "a", "kms:viaservice": "b"}},
        }
    )
    return document


@pytest.mark.parametrize(
    ("files", "fragment"),
    [
        ({"key_policy": _twice(key_policy())}, "has the key 'Effect' more than once"),
        ({"key_policy": {"Policy": _twice(key_policy())}}, "has the key 'Effect' more than once"),
        ({"bucket_policy": _twice(bucket_policy())}, "malformed input: bucket policy statement"),
        ({"key_policy": _cased()}, "key policy statement 'Cased': the condition key kms:viaservice appears as"),
        (
            {"grants": {"Grants": [], "Truncated": True, "NextMarker": "next"}},
            "is one page of ListGrants (Truncated: true)",
        ),
    ],
    ids=["duplicate-key", "duplicate-key-in-policy-string", "duplicate-key-bucket", "cased-keys", "truncated-grants"],
)
def test_input_aws_would_read_otherwise_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, Any], fragment: str
) -> None:
    """Issue 18, item 4: Python's json keeps the last of duplicate keys where AWS may keep the first;
    IAM Access Analyzer calls condition keys differing only in case an error; one page of grants
    proven as if complete would miss the others. Each was proven (a PASS where the Deny came last)."""
    code, out, err = prove(tmp_path, capsys, **files)
    assert code == 2, out + err
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert fragment in err


def test_not_action_in_a_key_policy_deny_is_cannot_prove_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """KMS documents Action and Resource as key-policy elements: a Deny with NotAction may not apply."""
    document = key_policy()
    document["Statement"] += [
        {"Effect": "Allow", "Principal": {"AWS": ATTACKER}, "Action": "kms:Decrypt", "Resource": "*"},
        {"Sid": "Not", "Effect": "Deny", "Principal": {"AWS": ATTACKER}, "NotAction": "kms:Encrypt", "Resource": "*"},
    ]
    code, out, _ = prove(tmp_path, capsys, "--json", key_policy=document, bucket_policy=bucket_policy())
    assert code == 1
    assert statuses(out)["access.P1"] == "CANNOT-PROVE"
    assert "key policy statement 'Not': NotAction in a key policy" in out
