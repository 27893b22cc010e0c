"""EKS Pod Identity role chaining (``podIdentityRoleArn``, the association's ``targetRoleArn``) in the organization
layout, through the whole gate: the cluster role trusts the Pod Identity role of the EKS cluster's account, and T1
proves that exactly that role can assume it; a trust naming anyone else fails the gate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from app import main
from constructs_lib import auth_role
from constructs_lib.proofs import RECORD_FILE
from tests.conftest import cdk_json_context

RECORDINGS, WORKLOAD, EKS = "111111111111", "222222222222", "444444444444"
POD_IDENTITY_ROLE = f"arn:aws:iam::{EKS}:role/eks-pod-identity-teleport"
CONTEXT: dict[str, Any] = {
    "account": RECORDINGS,
    "region": "eu-west-1",
    "clusters": [
        {
            "name": "prod",
            "account": WORKLOAD,
            "authTrust": "pod-identity",
            "podIdentityRoleArn": POD_IDENTITY_ROLE,
        },
        {"name": "staging", "account": WORKLOAD},
    ],
}


def _synth(out: Path) -> tuple[int, dict[str, dict[str, str]]]:
    app = cdk.App(outdir=str(out), context={**cdk_json_context(), **CONTEXT})
    code = main(app)
    record = json.loads((out / RECORD_FILE).read_text())
    return code, {s["cluster"]: {r["id"]: r["verdict"] for r in s["results"]} for s in record["storages"]}


def test_a_chained_pod_identity_cluster_passes_every_proof_and_t1(tmp_path: Path) -> None:
    code, verdicts = _synth(tmp_path)
    assert code == 0
    expected = dict.fromkeys(("P1", "P2", "P3", "P4", "P5", "P6", "P7", "T1"), "PASS")
    assert verdicts == {"prod": expected, "staging": expected}
    workload = json.loads((tmp_path / f"TeleportSessionRecordingsAuth-{WORKLOAD}.template.json").read_text())
    roles = [r for r in workload["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    trusts = [json.dumps(r["Properties"]["AssumeRolePolicyDocument"]) for r in roles]
    assert sum(POD_IDENTITY_ROLE in t for t in trusts) == 1
    assert not any("pods.eks.amazonaws.com" in t for t in trusts)


def test_the_gate_fails_t1_when_the_chained_role_trusts_pod_identity_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mutation at synthesis: the chained role's trust built as plain Pod Identity (any association of the
    account's clusters could then use it)."""

    def plain(service_account: str, pod_identity_role_arn: str | None) -> iam.IPrincipal:
        return iam.SessionTagsPrincipal(iam.ServicePrincipal("pods.eks.amazonaws.com"))

    monkeypatch.setattr(auth_role, "_pod_identity_principal", plain)
    code, verdicts = _synth(tmp_path)
    assert code == 1
    assert verdicts["prod"]["T1"] == "FAIL"
    assert verdicts["staging"]["T1"] == "PASS"
    assert "T1" in capsys.readouterr().err
