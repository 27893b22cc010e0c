"""The organization layout's stacks, synthesized together as app.py does, through the whole compliance gate.

The recordings stack and the workload stacks cannot reference each other across accounts, so each names
the other from the settings: these tests compare what one stack names with what the other creates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from app import main
from constructs_lib.core import clusters
from constructs_lib.core.settings import AppSettings
from constructs_lib.proofs import RECORD_FILE
from tests.conftest import cdk_json_context

RECORDINGS, WORKLOAD_A, WORKLOAD_B = "111111111111", "222222222222", "333333333333"
REGION = "eu-west-1"
PROVIDER = (
    f"arn:aws:iam::{WORKLOAD_A}:oidc-provider/oidc.eks.{REGION}.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
)
#: The README's three-account example.
CONTEXT: dict[str, Any] = {
    "account": RECORDINGS,
    "region": REGION,
    "clusters": [
        {"name": "prod", "account": WORKLOAD_A, "authTrust": "irsa", "oidcProviderArn": PROVIDER},
        {"name": "staging", "account": WORKLOAD_B},
    ],
}


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example through ``app.main``: the four cdk-nag packs, the proofs (P1-P7 per cluster) and the gate."""
    out = tmp_path_factory.mktemp("organization")
    app = cdk.App(outdir=str(out), context={**cdk_json_context(), **CONTEXT})
    assert main(app) == 0
    return out


def template(assembly: Path, stack: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((assembly / f"{stack}.template.json").read_text())
    return loaded


def of_type(document: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in document["Resources"].values() if r["Type"] == kind]


LAYOUT = clusters.plan(AppSettings.from_context(CONTEXT))


def test_every_proof_passes_for_every_cluster(assembly: Path) -> None:
    record = json.loads((assembly / RECORD_FILE).read_text())
    verdicts = {s["cluster"]: {r["id"]: r["verdict"] for r in s["results"]} for s in record["storages"]}
    expected = dict.fromkeys(("P1", "P2", "P3", "P4", "P5", "P6", "P7", "T1"), "PASS")
    assert verdicts == {"prod": expected, "staging": expected}
    p5 = next(r for s in record["storages"] for r in s["results"] if r["id"] == "P5")
    assert "not supplied" not in p5["summary"]  # the role's identity policy was read from its workload stack


def test_each_stack_deploys_to_its_account(assembly: Path) -> None:
    manifest = json.loads((assembly / "manifest.json").read_text())["artifacts"]
    environments = {k: v["environment"] for k, v in manifest.items() if v["type"] == "aws:cloudformation:stack"}
    assert environments == {
        "TeleportSessionRecordings": f"aws://{RECORDINGS}/{REGION}",
        f"TeleportSessionRecordingsAuth-{WORKLOAD_A}": f"aws://{WORKLOAD_A}/{REGION}",
        f"TeleportSessionRecordingsAuth-{WORKLOAD_B}": f"aws://{WORKLOAD_B}/{REGION}",
        # The tamper alarms on each account's cluster roles (IAM's events arrive in us-east-1).
        f"TeleportSessionRecordingsIamEvents-{WORKLOAD_A}": f"aws://{WORKLOAD_A}/us-east-1",
        f"TeleportSessionRecordingsIamEvents-{WORKLOAD_B}": f"aws://{WORKLOAD_B}/us-east-1",
    }


def test_the_key_and_bucket_keep_their_logical_ids(assembly: Path) -> None:
    resources = template(assembly, "TeleportSessionRecordings")["Resources"]
    assert resources["StorageKey7CE16CA6"]["Type"] == "AWS::KMS::Key"
    assert resources["StorageBucketE81A0E79"]["Type"] == "AWS::S3::Bucket"
    assert not of_type(template(assembly, "TeleportSessionRecordings"), "AWS::IAM::Role")


def _principal_arns(document: dict[str, Any]) -> set[str]:
    found = set()
    for statement in document["Statement"]:
        for operator in ("StringEquals", "ArnEquals"):
            value = statement.get("Condition", {}).get(operator, {}).get("aws:PrincipalArn")
            if isinstance(value, str):
                found.add(value)
    return found


def test_the_roles_the_recordings_policies_name_are_the_roles_the_workload_stacks_create(assembly: Path) -> None:
    recordings = template(assembly, "TeleportSessionRecordings")
    key = recordings["Resources"]["StorageKey7CE16CA6"]
    (bucket_policy,) = [
        p
        for p in of_type(recordings, "AWS::S3::BucketPolicy")
        if p["Properties"]["Bucket"] == {"Ref": "StorageBucketE81A0E79"}
    ]
    created = set()
    for account in (WORKLOAD_A, WORKLOAD_B):
        for role in of_type(template(assembly, f"TeleportSessionRecordingsAuth-{account}"), "AWS::IAM::Role"):
            created.add(f"arn:aws:iam::{account}:role/{role['Properties']['RoleName']}")
    assert created == {c.role_arn for c in LAYOUT.clusters}
    assert _principal_arns(key["Properties"]["KeyPolicy"]) == created
    assert _principal_arns(bucket_policy["Properties"]["PolicyDocument"]) == created


def test_the_workload_policies_name_the_bucket_and_key_the_recordings_stack_creates(assembly: Path) -> None:
    recordings = template(assembly, "TeleportSessionRecordings")
    bucket = recordings["Resources"]["StorageBucketE81A0E79"]
    assert bucket["Properties"]["BucketName"] == LAYOUT.bucket_name
    for cluster in LAYOUT.clusters:
        workload = template(assembly, cluster.stack_name)
        (policy,) = of_type(workload, "AWS::IAM::ManagedPolicy")
        text = json.dumps(policy["Properties"]["PolicyDocument"])
        assert f"arn:aws:s3:::{LAYOUT.bucket_name}/{cluster.prefix}/*" in text
        assert f"arn:aws:kms:{REGION}:{RECORDINGS}:key/*" in text
        assert f"s3.{REGION}.amazonaws.com" in text
        assert '"kms:Decrypt", "kms:GenerateDataKey"' in text  # CDK sorts actions


def test_a_storage_uri_per_cluster_with_its_prefix_and_the_keys_full_arn(assembly: Path) -> None:
    outputs = template(assembly, "TeleportSessionRecordings")["Outputs"]
    for cluster in LAYOUT.clusters:
        value = json.dumps(outputs[cluster.output_id]["Value"])
        assert f"s3://{LAYOUT.bucket_name}/{cluster.prefix}?region={REGION}&sse_kms_key=" in value
        assert '"Fn::GetAtt": ["StorageKey7CE16CA6", "Arn"]' in value


def test_the_irsa_and_ec2_trusts(assembly: Path) -> None:
    (prod,) = of_type(template(assembly, f"TeleportSessionRecordingsAuth-{WORKLOAD_A}"), "AWS::IAM::Role")
    (staging,) = of_type(template(assembly, f"TeleportSessionRecordingsAuth-{WORKLOAD_B}"), "AWS::IAM::Role")
    assert prod["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Federated": PROVIDER}
    assert staging["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "ec2.amazonaws.com"
    }
    assert of_type(template(assembly, f"TeleportSessionRecordingsAuth-{WORKLOAD_B}"), "AWS::IAM::InstanceProfile")


def test_the_gate_fails_p7_when_a_clusters_bucket_allow_reaches_another_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mutation at synthesis: staging's object allow and its prefix deny widened to the whole bucket."""
    built = clusters.bucket_statements

    def widened(layout: clusters.OrganizationPlan) -> list[dict[str, Any]]:
        statements = built(layout)
        everything = f"{layout.bucket_arn}/*"
        for statement in statements:
            if statement["Sid"].startswith("ClusterStagingObjects"):
                statement["Resource"] = everything
            if statement["Sid"].startswith("ClusterStagingOnlyItsPrefix"):
                statement["NotResource"] = [layout.bucket_arn, everything]
        return statements

    monkeypatch.setattr(clusters, "bucket_statements", widened)
    app = cdk.App(outdir=str(tmp_path), context={**cdk_json_context(), **CONTEXT})
    assert main(app) == 1
    record = json.loads((tmp_path / RECORD_FILE).read_text())
    verdicts = {s["cluster"]: {r["id"]: r["verdict"] for r in s["results"]} for s in record["storages"]}
    assert verdicts["prod"]["P7"] == "FAIL"
    assert verdicts["staging"]["P7"] == "PASS"
    assert "P7" in capsys.readouterr().err


@pytest.mark.parametrize(
    "stack", ["TeleportSessionRecordings", *(f"TeleportSessionRecordingsAuth-{a}" for a in (WORKLOAD_A, WORKLOAD_B))]
)
def test_organization_template_snapshot(assembly: Path, stack: str, snapshot: SnapshotAssertion) -> None:
    """A regression net over the targeted tests above: each template of the README's example (cfn-lint reads
    every snapshot as a template: tests/stacks/test_compliance.py)."""
    assert template(assembly, stack) == snapshot.use_extension(JSONSnapshotExtension)


def test_a_cluster_whose_workload_stack_went_unseen_fails_the_gate_closed(tmp_path: Path) -> None:
    """No identity policies seen: CANNOT-PROVE, which fails the gate, never a PASS on evidence not read."""
    from constructs_lib import compliance
    from stacks.organization_stacks import build_organization

    app = cdk.App(outdir=str(tmp_path), context=cdk_json_context())
    compliance.enable_compliance_packs(app)
    recordings = build_organization(app, AppSettings.from_context(CONTEXT))[0]
    recordings.storage.identities.clear()  # type: ignore[attr-defined]
    with pytest.raises(compliance.GateFailed) as failed:
        compliance.synth(app)
    assert "recorded no workload stack" in str(failed.value)
    record = json.loads((tmp_path / RECORD_FILE).read_text())
    assert all(s["error"].startswith("CANNOT-PROVE") for s in record["storages"])
