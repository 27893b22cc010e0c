"""``clusterIsolation=key`` (a key per cluster) and the key ARNs that narrow the clusters' identity policies.

Synthesized through ``app.main`` (the four cdk-nag packs, P1-P7 per cluster, the gate); the settings'
refusals are judged without CDK.
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
from constructs_lib.core.settings.model import check
from constructs_lib.proofs import RECORD_FILE
from tests.conftest import cdk_json_context
from tests.stacks.test_organization_stacks import CONTEXT, RECORDINGS, REGION, WORKLOAD_A, WORKLOAD_B, of_type

ADMIN = f"arn:aws:iam::{RECORDINGS}:role/security-break-glass"
DENIED = f"arn:aws:iam::{RECORDINGS}:role/AdministratorAccess"
AUDITOR = f"arn:aws:iam::{RECORDINGS}:role/recordings-auditor"
STAGING_READER = f"arn:aws:iam::{WORKLOAD_B}:role/staging-playback"
#: prod's key ARN, as copied from the first deploy's ``KeyArnProd`` output.
PROD_KEY_ARN = f"arn:aws:kms:{REGION}:{RECORDINGS}:key/0b7a4c3e-0000-4000-8000-0000000000aa"
prod, staging = CONTEXT["clusters"]
KEY_CONTEXT: dict[str, Any] = {
    **CONTEXT,
    "clusterIsolation": "key",
    "keyAdminArns": [ADMIN],
    "deniedPrincipalArns": [DENIED],
    "readerArns": [AUDITOR],
    "clusters": [{**prod, "recordingsKeyArn": PROD_KEY_ARN}, {**staging, "readerArns": [STAGING_READER]}],
}
LAYOUT = clusters.plan(AppSettings.from_context(KEY_CONTEXT))
SHARED_KEY = "StorageKey7CE16CA6"


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("organization-key")
    app = cdk.App(outdir=str(out), context={**cdk_json_context(), **KEY_CONTEXT})
    assert main(app) == 0
    return out


def template(assembly: Path, stack: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((assembly / f"{stack}.template.json").read_text())
    return loaded


def key_ids(assembly: Path) -> dict[str, str]:
    """Each cluster's key's logical id by cluster name (found through its alias ``KEYALIAS/NAME``)."""
    found = {}
    for alias in of_type(template(assembly, "TeleportSessionRecordings"), "AWS::KMS::Alias"):
        name = alias["Properties"]["AliasName"]
        if name.startswith(f"{LAYOUT.key_alias}/"):
            found[name.removeprefix(f"{LAYOUT.key_alias}/")] = alias["Properties"]["TargetKeyId"]["Fn::GetAtt"][0]
    return found


def keys(assembly: Path) -> dict[str, dict[str, Any]]:
    """Each cluster's key resource by cluster name, and the shared key as ``""``."""
    resources = template(assembly, "TeleportSessionRecordings")["Resources"]
    return {"": resources[SHARED_KEY], **{name: resources[i] for name, i in key_ids(assembly).items()}}


def key_logical_id(assembly: Path, cluster: str) -> str:
    return key_ids(assembly)[cluster]


def principal_arns(document: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for statement in document["Statement"]:
        for operator in ("StringEquals", "ArnEquals"):
            value = statement.get("Condition", {}).get(operator, {}).get("aws:PrincipalArn", [])
            found |= {value} if isinstance(value, str) else set(value)
        aws = statement.get("Principal", {}).get("AWS", [])
        found |= {aws} if isinstance(aws, str) else set(aws)
    return found


def test_every_proof_passes_for_every_cluster_on_its_own_key(assembly: Path) -> None:
    record = json.loads((assembly / RECORD_FILE).read_text())
    verdicts = {s["cluster"]: {r["id"]: r["verdict"] for r in s["results"]} for s in record["storages"]}
    expected = dict.fromkeys(("P1", "P2", "P3", "P4", "P5", "P6", "P7", "T1"), "PASS")  # T1: the trusts
    assert verdicts == {"prod": expected, "staging": expected}
    p7 = [r["summary"] for s in record["storages"] for r in s["results"] if r["id"] == "P7"]
    assert all("or use this cluster's own key" in summary for summary in p7)


def test_one_key_per_cluster_with_its_alias_and_the_shared_key_keeps_its_logical_id(assembly: Path) -> None:
    found = keys(assembly)
    assert sorted(found) == ["", "prod", "staging"]
    for name in ("prod", "staging"):
        assert found[name]["Type"] == "AWS::KMS::Key"
        assert found[name]["DeletionPolicy"] == "Retain"
        assert found[name]["Properties"]["EnableKeyRotation"] is True
    resources = template(assembly, "TeleportSessionRecordings")["Resources"]
    assert resources["StorageKeyAlias69F09140"]["Properties"]["AliasName"] == LAYOUT.key_alias
    assert resources["StorageBucketE81A0E79"]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ]["KMSMasterKeyID"] == {"Fn::GetAtt": [SHARED_KEY, "Arn"]}


def test_each_cluster_key_policy_is_hardened_and_names_only_its_own_cluster(assembly: Path) -> None:
    """Admins, the deny list, the top-level readers; no account root; the cluster's role through S3 for this
    bucket only, and its readers; no other cluster's role or reader."""
    found = keys(assembly)
    roles = {c.name: c.role_arn for c in LAYOUT.clusters}
    readers = {"prod": set(), "staging": {STAGING_READER}}
    deploy = f"arn:aws:iam::{RECORDINGS}:role/cdk-hnb659fds-cfn-exec-role-{RECORDINGS}-{REGION}"
    for name in ("prod", "staging"):
        document = found[name]["Properties"]["KeyPolicy"]
        text = json.dumps(document)
        assert ":root" not in text.replace(f"arn:aws:iam::{WORKLOAD_A}:root", "").replace(
            f"arn:aws:iam::{WORKLOAD_B}:root", ""
        )
        named = principal_arns(document) - {f"arn:aws:iam::{WORKLOAD_A}:root", f"arn:aws:iam::{WORKLOAD_B}:root"}
        assert {ADMIN, DENIED, AUDITOR, roles[name], *readers[name]} <= named
        other = "staging" if name == "prod" else "prod"
        assert roles[other] not in named
        assert not readers[other] & named
        statements = {s["Sid"]: s for s in document["Statement"]}
        (auth,) = [s for sid, s in statements.items() if sid.startswith(f"Teleport CMK Auth cluster {name}")]
        assert auth["Condition"]["StringEquals"]["kms:ViaService"] == f"s3.{REGION}.amazonaws.com"
        assert auth["Condition"]["StringLike"]["kms:EncryptionContext:aws:s3:arn"] == [
            LAYOUT.bucket_arn,
            f"{LAYOUT.bucket_arn}/*",
        ]
        assert any(s["Effect"] == "Deny" and s["Action"] == "kms:*" for s in document["Statement"])
        deploy_statement = statements["CloudFormation deploy role key administration"]
        assert deploy_statement["Principal"]["AWS"]["Fn::Sub"].endswith(deploy.split("::", 1)[1].split(":", 1)[1])
        assert "kms:Decrypt" not in deploy_statement["Action"]
    assert not {c.role_arn for c in LAYOUT.clusters} & principal_arns(found[""]["Properties"]["KeyPolicy"])


def test_under_each_prefix_the_bucket_policy_accepts_that_clusters_key_only(assembly: Path) -> None:
    recordings = template(assembly, "TeleportSessionRecordings")
    (policy,) = [
        p
        for p in of_type(recordings, "AWS::S3::BucketPolicy")
        if p["Properties"]["Bucket"] == {"Ref": "StorageBucketE81A0E79"}
    ]
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    for cluster in LAYOUT.clusters:
        logical_id = key_logical_id(assembly, cluster.name)
        deny = statements[f"Cluster{cluster.construct_id.removeprefix('Cluster')}OnlyItsKey"]
        assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", {"AWS": "*"}, "s3:PutObject")
        assert deny["Resource"] == f"{LAYOUT.bucket_arn}/{cluster.prefix}/*"
        header = "s3:x-amz-server-side-encryption-aws-kms-key-id"
        assert deny["Condition"]["StringNotEquals"][header] == [
            {"Fn::GetAtt": [logical_id, "Arn"]},
            {"Ref": logical_id},
        ]
        assert {"Fn::GetAtt": [logical_id, "Arn"]} in statements["DenyPutWithOtherKmsKey"]["Condition"][
            "StringNotEquals"
        ][header]


def test_each_storage_uri_and_key_output_names_the_clusters_own_key(assembly: Path) -> None:
    outputs = template(assembly, "TeleportSessionRecordings")["Outputs"]
    for cluster in LAYOUT.clusters:
        own = {"Fn::GetAtt": [key_logical_id(assembly, cluster.name), "Arn"]}
        assert outputs[cluster.output_id]["Value"]["Fn::Join"][1][1] == own
        assert outputs["KeyArn" + cluster.construct_id.removeprefix("Cluster")]["Value"] == own


def test_a_clusters_key_arn_narrows_its_identity_policy_and_without_one_it_stays_key_star(assembly: Path) -> None:
    resources_of = {}
    for cluster in LAYOUT.clusters:
        (policy,) = of_type(template(assembly, cluster.stack_name), "AWS::IAM::ManagedPolicy")
        kms = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if "kms:Decrypt" in json.dumps(s)]
        resources_of[cluster.name] = kms[0]["Resource"]
    assert resources_of == {"prod": PROD_KEY_ARN, "staging": LAYOUT.keys_arn}


def test_the_gate_fails_p1_and_p7_when_a_clusters_key_policy_admits_another_clusters_role(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mutation at synthesis: prod's own key policy also gets staging's role statements."""
    built = clusters.key_statements

    def admitting(layout: clusters.OrganizationPlan, only: clusters.ClusterPlan | None = None) -> list[dict[str, Any]]:
        statements = built(layout, only)
        if only is not None and only.name == "prod":
            statements += built(layout, layout.clusters[1])
        return statements

    monkeypatch.setattr(clusters, "key_statements", admitting)
    app = cdk.App(outdir=str(tmp_path), context={**cdk_json_context(), **KEY_CONTEXT})
    assert main(app) == 1
    record = json.loads((tmp_path / RECORD_FILE).read_text())
    verdicts = {s["cluster"]: {r["id"]: r["verdict"] for r in s["results"]} for s in record["storages"]}
    assert (verdicts["prod"]["P1"], verdicts["prod"]["P7"]) == ("FAIL", "FAIL")
    assert (verdicts["staging"]["P1"], verdicts["staging"]["P7"]) == ("PASS", "PASS")


@pytest.mark.parametrize(
    "stack", ["TeleportSessionRecordings", *(f"TeleportSessionRecordingsAuth-{a}" for a in (WORKLOAD_A, WORKLOAD_B))]
)
def test_key_isolation_template_snapshot(assembly: Path, stack: str, snapshot: SnapshotAssertion) -> None:
    assert template(assembly, stack) == snapshot.use_extension(JSONSnapshotExtension)


# --- recordingsKeyArn with one shared key, without CDK -----------------------------------------------

SHARED_ARN = f"arn:aws:kms:{REGION}:{RECORDINGS}:key/0b7a4c3e-0000-4000-8000-0000000000bb"


def test_recordings_key_arn_narrows_every_clusters_identity_policy_to_the_shared_key() -> None:
    layout = clusters.plan(AppSettings.from_context({**CONTEXT, "recordingsKeyArn": SHARED_ARN}))
    for cluster in layout.clusters:
        assert {s["Resource"] for s in clusters.identity_kms_statements(layout, cluster)} == {SHARED_ARN}
    default = clusters.plan(AppSettings.from_context(CONTEXT))
    for cluster in default.clusters:
        assert {s["Resource"] for s in clusters.identity_kms_statements(default, cluster)} == {default.keys_arn}


def problems(context: dict[str, Any]) -> list[tuple[str, Any, str]]:
    settings = AppSettings.from_context(context)
    found = [p for p in check(settings, settings.environment()) if p.severity.value == "error"]
    label = settings.label()
    return [(p.setting if p.verbatim else label(p.setting), p.value, p.render(label)) for p in found]


OTHER_ACCOUNT_KEY = f"arn:aws:kms:{REGION}:{WORKLOAD_A}:key/0b7a4c3e-0000-4000-8000-0000000000cc"
OTHER_REGION_KEY = f"arn:aws:kms:us-east-1:{RECORDINGS}:key/0b7a4c3e-0000-4000-8000-0000000000cc"


@pytest.mark.parametrize(
    ("extra", "setting", "words"),
    [
        ({"recordingsKeyArn": OTHER_ACCOUNT_KEY}, "recordingsKeyArn", f"not one of account {WORKLOAD_A} in {REGION}"),
        ({"recordingsKeyArn": OTHER_REGION_KEY}, "recordingsKeyArn", f"not one of account {RECORDINGS} in us-east-1"),
        ({"recordingsKeyArn": f"arn:aws:kms:{REGION}:{RECORDINGS}:alias/x"}, "recordingsKeyArn", "a KMS key ARN"),
        ({"recordingsKeyArn": "0b7a4c3e-0000-4000-8000-0000000000cc"}, "recordingsKeyArn", "a KMS key ARN"),
        ({"clusterIsolation": "keys"}, "clusterIsolation", "did you mean 'key'"),
        (
            {"clusterIsolation": "key", "recordingsKeyArn": SHARED_ARN},
            "recordingsKeyArn",
            "clusters[N].recordingsKeyArn",
        ),
    ],
    ids=[
        "key-of-another-account",
        "key-of-another-region",
        "alias-arn",
        "bare-key-id",
        "isolation-typo",
        "shared-with-key",
    ],
)
def test_a_wrong_key_setting_is_refused_by_name(extra: dict[str, Any], setting: str, words: str) -> None:
    found = problems({**CONTEXT, **extra})
    assert [(s, a) for s, _, a in found if s == setting and words in a], found


@pytest.mark.parametrize(
    ("index_value", "words"),
    [
        (OTHER_ACCOUNT_KEY, f"not one of account {WORKLOAD_A}"),
        (OTHER_REGION_KEY, "in us-east-1"),
        ("arn:aws:kms:eu-west-1:111111111111:alias/teleport-session-recordings/prod", "a KMS key ARN"),
    ],
    ids=["key-of-another-account", "key-of-another-region", "alias-arn"],
)
def test_a_wrong_cluster_key_arn_is_refused_by_its_clusters_name(index_value: str, words: str) -> None:
    context = {**CONTEXT, "clusterIsolation": "key", "clusters": [{**prod, "recordingsKeyArn": index_value}, staging]}
    found = problems(context)
    assert [s for s, _, a in found if s == "clusters[0].recordingsKeyArn" and words in a], found


def test_two_clusters_naming_one_key_and_a_cluster_key_with_prefix_isolation_are_refused() -> None:
    shared = [{**prod, "recordingsKeyArn": SHARED_ARN}, {**staging, "recordingsKeyArn": SHARED_ARN}]
    found = problems({**CONTEXT, "clusterIsolation": "key", "clusters": shared})
    assert [s for s, _, a in found if s == "clusters[1].recordingsKeyArn" and "a key of its own" in a], found
    found = problems({**CONTEXT, "clusters": [{**prod, "recordingsKeyArn": SHARED_ARN}, staging]})
    assert [s for s, _, a in found if s == "clusters[0].recordingsKeyArn" and "clusterIsolation=prefix" in a], found


def test_isolation_and_key_arn_without_clusters_are_refused() -> None:
    single = {"account": RECORDINGS, "region": REGION}
    found = problems({**single, "clusterIsolation": "key", "recordingsKeyArn": SHARED_ARN})
    assert {s for s, _, _ in found} >= {"clusterIsolation", "recordingsKeyArn"}, found
