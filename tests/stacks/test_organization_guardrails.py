"""The guardrails of the organization layout: one SCP over the recordings account and every workload account.

The guardrails stack (management account) names what the recordings stack and the workload stacks
create from the settings alone; these tests synthesize all of them as app.py does (with the four
cdk-nag packs and the access proofs), compare the names, and break the SCP to see G1 fail.
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
from constructs_lib.core import cluster_guardrails, guardrails
from constructs_lib.core.settings import AppSettings, InvalidSettingsError
from constructs_lib.proofs import RECORD_FILE
from stacks.guardrails_stack import GUARDRAILS_STACK_NAME, GuardrailsStack
from tests.conftest import cdk_json_context, make_app
from tests.stacks.test_organization_stacks import CONTEXT as LAYOUT_CONTEXT
from tests.stacks.test_organization_stacks import RECORDINGS, REGION, WORKLOAD_A, WORKLOAD_B

MANAGEMENT = "999988887777"
BREAK_GLASS = f"arn:aws:iam::{RECORDINGS}:role/BreakGlass"
PROD_BREAK_GLASS = f"arn:aws:iam::{WORKLOAD_A}:role/BreakGlass"


def guarded_context(**extra: Any) -> dict[str, Any]:
    """The README's three-account example with the guardrails; prod has a break-glass role of its own."""
    context: dict[str, Any] = {
        **LAYOUT_CONTEXT,
        "guardrailTargetIds": f"{RECORDINGS},{WORKLOAD_A},{WORKLOAD_B}",
        "managementAccount": MANAGEMENT,
        "organizationId": "o-a1b2c3d4e5",
        "breakGlassPrincipalArns": BREAK_GLASS,
        **extra,
    }
    context["clusters"] = [dict(c) for c in context["clusters"]]
    context["clusters"][0]["breakGlassPrincipalArns"] = [PROD_BREAK_GLASS]
    return context


def synthesized(out: Path, context: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    app = cdk.App(outdir=str(out), context={**cdk_json_context(), **context})
    code = main(app)
    return code, json.loads((out / RECORD_FILE).read_text())


def verdicts(record: dict[str, Any]) -> dict[tuple[str, str], dict[str, str]]:
    """(template, cluster) -> {property: verdict}."""
    return {
        (s["template"].removesuffix(".template.json"), s.get("cluster", "")): {
            r["id"]: r["verdict"] for r in s.get("results", [])
        }
        for s in record["storages"]
    }


def guardrail_results(record: dict[str, Any], cluster: str) -> dict[str, dict[str, Any]]:
    (entry,) = [
        s
        for s in record["storages"]
        if s["template"] == f"{GUARDRAILS_STACK_NAME}.template.json" and s.get("cluster") == cluster
    ]
    return {r["id"]: r for r in entry["results"]}


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("organization-guardrails")
    code, record = synthesized(out, guarded_context())
    assert code == 0
    return out, record


def template(out: Path, stack: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((out / f"{stack}.template.json").read_text())
    return loaded


def scp_statements(out: Path) -> list[dict[str, Any]]:
    resources = template(out, GUARDRAILS_STACK_NAME)["Resources"].values()
    return [
        s
        for r in resources
        if r["Type"] == "AWS::Organizations::Policy" and r["Properties"]["Type"] == "SERVICE_CONTROL_POLICY"
        for s in r["Properties"]["Content"]["Statement"]
    ]


def test_g1_to_g4_pass_for_every_cluster_and_p1_to_p7_still_do(assembly: tuple[Path, dict[str, Any]]) -> None:
    _, record = assembly
    found = verdicts(record)
    guarded = dict.fromkeys(("G1", "G2", "G3", "G4"), "PASS")
    assert found[(GUARDRAILS_STACK_NAME, "prod")] == guarded
    assert found[(GUARDRAILS_STACK_NAME, "staging")] == guarded
    assert found[("TeleportSessionRecordings", "prod")]["P7"] == "PASS"
    g1 = guardrail_results(record, "prod")["G1"]["summary"]
    assert f"(on the auth role: every principal of {WORKLOAD_A} but {PROD_BREAK_GLASS}, " in g1


def test_the_guardrails_stack_deploys_to_the_management_account(assembly: tuple[Path, dict[str, Any]]) -> None:
    out, _ = assembly
    manifest = json.loads((out / "manifest.json").read_text())["artifacts"]
    assert manifest[GUARDRAILS_STACK_NAME]["environment"] == f"aws://{MANAGEMENT}/{REGION}"
    for resource in template(out, GUARDRAILS_STACK_NAME)["Resources"].values():
        assert resource["Properties"]["TargetIds"] == [RECORDINGS, WORKLOAD_A, WORKLOAD_B]


def test_the_scp_protects_each_role_the_workload_stacks_create_exempting_its_accounts_deployer(
    assembly: tuple[Path, dict[str, Any]],
) -> None:
    """Each cluster role: its changes, passing it and adding it to an instance profile denied but to its break-glass
    and the role CloudFormation deploys its workload stack with (read from the manifest, as CDK will deploy)."""
    out, _ = assembly
    manifest = json.loads((out / "manifest.json").read_text())["artifacts"]
    statements = {s["Sid"]: s for s in scp_statements(out)}
    for account, cluster, break_glass in ((WORKLOAD_A, "Prod", [PROD_BREAK_GLASS]), (WORKLOAD_B, "Staging", [])):
        stack = f"TeleportSessionRecordingsAuth-{account}"
        (role,) = [r for r in template(out, stack)["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
        role_arn = f"arn:aws:iam::{account}:role/{role['Properties']['RoleName']}"
        deployer = manifest[stack]["properties"]["cloudFormationExecutionRoleArn"].replace("${AWS::Partition}", "aws")
        exempt = {"ArnNotLike": {"aws:PrincipalArn": [*break_glass, deployer]}}
        changes = statements[guardrails.SID_AUTH_ROLE + cluster]
        assert (changes["Resource"], changes["Condition"]) == ([role_arn], exempt)
        assert changes["Action"] == list(guardrails.AUTH_ROLE_CHANGES)
        passing = statements[guardrails.SID_PASS_ROLE + cluster]
        assert passing["Resource"] == [role_arn]
        profiles = statements[guardrails.SID_INSTANCE_PROFILES + cluster]
        assert profiles["Condition"]["StringEquals"] == {
            "iam:AssociatedResourceArn": f"arn:aws:ec2:*:{account}:instance/*"
        }
    # IRSA (prod): passed to no service; EC2 (staging): to EC2 only.
    assert "StringNotEquals" not in statements[guardrails.SID_PASS_ROLE + "Prod"]["Condition"]
    assert statements[guardrails.SID_PASS_ROLE + "Staging"]["Condition"]["StringNotEquals"] == {
        "iam:PassedToService": "ec2.amazonaws.com"
    }


def test_the_key_and_bucket_statements_name_the_recordings_stacks_and_exempt_its_deployer(
    assembly: tuple[Path, dict[str, Any]],
) -> None:
    out, _ = assembly
    manifest = json.loads((out / "manifest.json").read_text())["artifacts"]
    recordings = template(out, "TeleportSessionRecordings")["Resources"]
    bucket = recordings["StorageBucketE81A0E79"]["Properties"]["BucketName"]
    (alias,) = [r["Properties"]["AliasName"] for r in recordings.values() if r["Type"] == "AWS::KMS::Alias"]
    deployer = manifest["TeleportSessionRecordings"]["properties"]["cloudFormationExecutionRoleArn"]
    exempt = [BREAK_GLASS, deployer.replace("${AWS::Partition}", "aws")]
    statements = {s["Sid"]: s for s in scp_statements(out)}
    assert statements[guardrails.SID_BUCKET]["Resource"] == [f"arn:aws:s3:::{bucket}"]
    assert statements[guardrails.SID_KEY]["Condition"]["ForAnyValue:StringEquals"] == {"kms:ResourceAliases": [alias]}
    assert statements[guardrails.SID_DELETES]["Resource"] == [f"arn:aws:s3:::{bucket}/records/*"]
    for sid in (guardrails.SID_KEY, guardrails.SID_ALIAS, guardrails.SID_BUCKET, guardrails.SID_DELETES):
        assert statements[sid]["Condition"]["ArnNotLike"] == {"aws:PrincipalArn": exempt}


def test_guardrails_template_snapshot(assembly: tuple[Path, dict[str, Any]], snapshot: SnapshotAssertion) -> None:
    """A regression net (cfn-lint reads every snapshot: tests/stacks/test_compliance.py)."""
    out, _ = assembly
    assert template(out, GUARDRAILS_STACK_NAME) == snapshot.use_extension(JSONSnapshotExtension)


# --- mutations: the proofs must catch a broken SCP --------------------------------------------------


def test_an_scp_whose_role_statements_miss_the_clusters_account_fails_g1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staging's statements name its role in another account (a role of that name there): staging's real role is
    then unprotected, and G1 must find the principal of its account that changes it."""
    complete = cluster_guardrails.scp_statements

    def elsewhere(design: cluster_guardrails.ClusterGuardedDesign) -> list[dict[str, Any]]:
        statements = complete(design)
        for statement in statements:
            if statement["Sid"].endswith("Staging"):
                statement["Resource"] = [r.replace(WORKLOAD_B, WORKLOAD_A) for r in statement["Resource"]]
        return statements

    monkeypatch.setattr(cluster_guardrails, "scp_statements", elsewhere)
    code, record = synthesized(tmp_path, guarded_context())
    assert code == 1
    g1 = guardrail_results(record, "staging")["G1"]
    assert g1["verdict"] == "FAIL"
    assert f"arn:aws:iam::{WORKLOAD_B}:" in g1["counterexample"]
    assert guardrail_results(record, "prod")["G1"]["verdict"] == "PASS"


def test_a_break_glass_that_exempts_everyone_fails_g1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    complete = cluster_guardrails.scp_statements

    def everyone(design: cluster_guardrails.ClusterGuardedDesign) -> list[dict[str, Any]]:
        statements = complete(design)
        for statement in statements:
            if statement["Sid"].endswith("Prod"):
                statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"].append(f"arn:aws:iam::{WORKLOAD_A}:*")
        return statements

    monkeypatch.setattr(cluster_guardrails, "scp_statements", everyone)
    code, record = synthesized(tmp_path, guarded_context())
    assert code == 1
    assert guardrail_results(record, "prod")["G1"]["verdict"] == "FAIL"
    assert guardrail_results(record, "staging")["G1"]["verdict"] == "PASS"


def test_an_scp_that_does_not_reach_a_workload_account_fails_g1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stack records where the SCP applies; a workload account missing from it leaves its role unprotected."""
    layout = GuardrailsStack._organization_layout

    def without_b(self: GuardrailsStack, settings: AppSettings, qualifier: str, targets: list[str]) -> None:
        layout(self, settings, qualifier, [t for t in targets if t != WORKLOAD_B])

    monkeypatch.setattr(GuardrailsStack, "_organization_layout", without_b)
    code, record = synthesized(tmp_path, guarded_context())
    assert code == 1
    assert guardrail_results(record, "staging")["G1"]["verdict"] == "FAIL"


# --- the size limit ------------------------------------------------------------------------------------


def many_clusters(count: int) -> dict[str, Any]:
    context = guarded_context()
    accounts = [f"{n:012d}" for n in range(444444444444, 444444444444 + count)]
    context["clusters"] = [
        {"name": f"cluster-{n:02d}", "account": account, "breakGlassPrincipalArns": [f"arn:aws:iam::{account}:role/BG"]}
        for n, account in enumerate(accounts)
    ]
    context["guardrailTargetIds"] = ",".join([RECORDINGS, *accounts])
    return context


def test_the_scp_of_many_clusters_is_split_into_policies_that_each_fit() -> None:
    stack = GuardrailsStack(make_app(), "Guardrails", settings=AppSettings.from_context(many_clusters(6)))
    assert all(guardrails.size(stack.resolve(p.content)) <= guardrails.POLICY_SIZE_LIMIT for p in stack.policies)
    scps = [p for p in stack.policies if p.type == "SERVICE_CONTROL_POLICY"]
    assert 2 <= len(scps) <= cluster_guardrails.SCP_DOCUMENTS_LIMIT


def test_too_many_clusters_for_one_target_name_the_setting() -> None:
    settings = AppSettings.from_context(many_clusters(20))
    with pytest.raises(InvalidSettingsError, match=r"'clusters' must be .*needs \d+ policies of at most 5120"):
        GuardrailsStack(make_app(), "Guardrails", settings=settings)
