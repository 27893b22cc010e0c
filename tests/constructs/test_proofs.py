"""The access proofs at synthesis: the gate passes the design, bites on a broken policy, records its work."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from constructs_lib import SessionRecordingsStorage, StorageSettings
from constructs_lib.proofs import RECORD_FILE, enable_access_proofs
from tests.conftest import ACCOUNT, TEST_ENV, cdk_json_context

ATTACKER = f"arn:aws:iam::{ACCOUNT}:role/Attacker"


def synthesize(tmp_path: Path, build: Callable[[cdk.Stack], None], **stack: Any) -> dict[str, Any]:
    """Synthesize with the proofs on; the proof record, or the validation error's text."""
    app = cdk.App(context=cdk_json_context(), outdir=str(tmp_path))
    enable_access_proofs(app)
    build(cdk.Stack(app, "Proved", **({"env": TEST_ENV} | stack)))
    try:
        app.synth()
    except RuntimeError as error:
        return {"error": str(error), "record": json.loads((tmp_path / RECORD_FILE).read_text())}
    record: dict[str, Any] = json.loads((tmp_path / RECORD_FILE).read_text())
    return record


def verdicts(record: dict[str, Any]) -> dict[str, str]:
    (storage,) = record["storages"]
    return {r["id"]: r["verdict"] for r in storage["results"]}


def test_the_design_passes_every_property(tmp_path: Path) -> None:
    """What the proofs cost is measured in rlimit units (tests/access/test_prover_budget.py) and
    timed by ``make bench``; a wall-time bound here would fail on a loaded machine."""
    record = synthesize(tmp_path, lambda stack: SessionRecordingsStorage(stack, "Storage"))
    assert verdicts(record) == {f"P{n}": "PASS" for n in range(1, 7)}


def test_readers_and_admins_are_proven_with_their_roles(tmp_path: Path) -> None:
    def build(stack: cdk.Stack) -> None:
        auditor = iam.Role(stack, "Auditor", assumed_by=iam.AccountRootPrincipal())
        settings = StorageSettings(key_admins=[f"arn:aws:iam::{ACCOUNT}:role/KeyAdmins"], key_admin_mode="separated")
        SessionRecordingsStorage(stack, "Storage", settings=settings).grant_read_recordings(auditor)

    record = synthesize(tmp_path, build)
    assert set(verdicts(record).values()) == {"PASS"}


def test_a_statement_giving_another_role_decryption_fails_synthesis_with_a_counterexample(tmp_path: Path) -> None:
    def build(stack: cdk.Stack) -> None:
        storage = SessionRecordingsStorage(stack, "Storage")
        storage.key.add_to_resource_policy(
            iam.PolicyStatement(actions=["kms:Decrypt"], resources=["*"], principals=[iam.ArnPrincipal(ATTACKER)])
        )

    outcome = synthesize(tmp_path, build)
    assert "ValidationFailed" in outcome["error"]
    assert "FAIL" in outcome["error"]
    assert ATTACKER in outcome["error"]
    assert verdicts(outcome["record"])["P1"] == "FAIL"


def test_a_bucket_policy_deny_on_the_prefix_fails_p5(tmp_path: Path) -> None:
    def build(stack: cdk.Stack) -> None:
        storage = SessionRecordingsStorage(stack, "Storage")
        storage.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY,
                actions=["s3:PutObject"],
                resources=[storage.bucket.arn_for_objects("records/*")],
                principals=[iam.AnyPrincipal()],
            )
        )

    outcome = synthesize(tmp_path, build)
    assert verdicts(outcome["record"])["P5"] == "FAIL"
    assert "Acknowledge with 'TeleportRecordingsAccessProofs::P5'" in outcome["error"]


def test_strict_mode_is_acknowledged_with_its_reason(tmp_path: Path) -> None:
    build: Callable[[cdk.Stack], None] = lambda stack: SessionRecordingsStorage(  # noqa: E731
        stack, "Storage", settings=StorageSettings(require_encryption_headers=True)
    )
    record = synthesize(tmp_path, build)
    assert verdicts(record)["P5"] == "FAIL", "the proof still says so"
    report = json.loads((tmp_path / "validation-report.json").read_text())
    (proofs,) = [p for p in report["pluginReports"] if p["pluginName"] == "TeleportRecordingsAccessProofs"]
    suppressed = proofs["suppressedViolations"]
    assert [v["ruleName"] for v in suppressed] == ["P5"]
    assert "strict mode" in json.dumps(suppressed)


def test_a_python_synthesizer_with_its_own_execution_role_is_caught(tmp_path: Path) -> None:
    """The construct cannot read a custom execution role from a synthesizer made in Python; the proof can."""
    synthesizer = cdk.DefaultStackSynthesizer(cloud_formation_execution_role=f"arn:aws:iam::{ACCOUNT}:role/custom")
    outcome = synthesize(tmp_path, lambda stack: SessionRecordingsStorage(stack, "Storage"), synthesizer=synthesizer)
    assert "CloudFormation deploys the stack as arn:aws:iam::111122223333:role/custom" in outcome["error"]
    assert "Pass the execution role as deploy_role" in outcome["error"]


@pytest.mark.parametrize("env", [None, TEST_ENV], ids=["env-agnostic", "concrete"])
def test_the_record_names_the_template_and_the_key(tmp_path: Path, env: cdk.Environment | None) -> None:
    record = synthesize(tmp_path, lambda stack: SessionRecordingsStorage(stack, "Storage"), env=env)
    (storage,) = record["storages"]
    assert storage["template"] == "Proved.template.json"
    assert storage["key"].startswith("StorageKey")
