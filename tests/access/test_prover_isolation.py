"""P7 on the organization layout's policies (built by ``core/clusters.py``, no CDK), and mutations that break it.

A peer's identity policies are never supplied: its account's administrators can write them, so the
prover takes them to allow anything, and P7 must hold on the recordings account's policies alone.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from constructs_lib.core import clusters, policies
from constructs_lib.core.prover import Design, Evidence, Verdict, new_access, prove
from constructs_lib.core.prover.isolation import peer_key_use
from constructs_lib.core.prover.parse import Parsed, parse_evidence
from constructs_lib.core.prover.queries import P7
from constructs_lib.core.settings import AppSettings

RECORDINGS, WORKLOAD_A, WORKLOAD_B = "111111111111", "222222222222", "333333333333"
REGION = "eu-west-1"
KEY_ID = "0b7a4c3e-0000-4000-8000-000000000001"
KEY_ARN = f"arn:aws:kms:{REGION}:{RECORDINGS}:key/{KEY_ID}"
DEPLOY = f"arn:aws:iam::{RECORDINGS}:role/cdk-hnb659fds-cfn-exec-role-{RECORDINGS}-{REGION}"


def layout_of(staging_account: str = WORKLOAD_B) -> clusters.OrganizationPlan:
    settings = AppSettings.from_context(
        {
            "account": RECORDINGS,
            "region": REGION,
            "clusters": [{"name": "prod", "account": WORKLOAD_A}, {"name": "staging", "account": staging_account}],
        }
    )
    return clusters.plan(settings)


def bucket_policy(layout: clusters.OrganizationPlan) -> dict[str, Any]:
    statements = policies.bucket_policy_statements(bucket_arn=layout.bucket_arn, key_arn=KEY_ARN, key_id=KEY_ID)
    return {"Version": "2012-10-17", "Statement": statements + clusters.bucket_statements(layout)}


def key_policy(layout: clusters.OrganizationPlan) -> dict[str, Any]:
    document = policies.key_policy(
        auth_principal_arn=None, deploy_role_arn=DEPLOY, bucket_arn=layout.bucket_arn, region=REGION
    )
    document["Statement"] += clusters.key_statements(layout)
    return document


def identity(layout: clusters.OrganizationPlan, cluster: clusters.ClusterPlan) -> dict[str, Any]:
    statements = policies.auth_s3_policy_statements(bucket_arn=layout.bucket_arn, prefix=cluster.prefix)
    return {"Version": "2012-10-17", "Statement": statements + clusters.identity_kms_statements(layout)}


def inputs(layout: clusters.OrganizationPlan, bucket: dict[str, Any] | None = None) -> tuple[Design, Evidence]:
    prod = layout.clusters[0]
    design = Design(
        account=RECORDINGS,
        region=REGION,
        key_arn=KEY_ARN,
        key_id=KEY_ID,
        bucket_name=layout.bucket_name,
        auth_role_arn=prod.role_arn,
        prefix=prod.prefix,
        deploy_role_arn=DEPLOY,
        peer_arns=layout.peers_of(prod),
    )
    evidence = Evidence(
        key_policy=key_policy(layout),
        bucket_policy=bucket if bucket is not None else bucket_policy(layout),
        identity_policies={prod.role_arn: [identity(layout, prod)]},
    )
    return design, evidence


def by_sid(document: dict[str, Any], sid: str) -> dict[str, Any]:
    return next(s for s in document["Statement"] if s["Sid"].startswith(sid))


@pytest.mark.parametrize("staging_account", [WORKLOAD_B, RECORDINGS], ids=["other-account", "recordings-account"])
def test_every_property_holds_for_a_cluster_and_p7_whatever_the_peers_identity_policies(staging_account: str) -> None:
    results = prove(*inputs(layout_of(staging_account)), ["P1", "P2", "P5", "P6", P7])
    assert [(r.id, r.verdict) for r in results] == [(p, Verdict.PASS) for p in ("P1", "P2", "P5", "P6", P7)], [
        r.summary for r in results
    ]
    # P1's PASS names who may use the key as one list, the peers last.
    assert "the key administrators and the other clusters' auth roles and readers can use the key" in results[0].summary


def test_p7_fails_when_a_peers_object_allow_reaches_the_whole_bucket() -> None:
    layout = layout_of()
    bucket = bucket_policy(layout)
    by_sid(bucket, "ClusterStagingObjects")["Resource"] = f"{layout.bucket_arn}/*"
    by_sid(bucket, "ClusterStagingOnlyItsPrefix")["NotResource"] = [layout.bucket_arn, f"{layout.bucket_arn}/*"]
    (result,) = prove(*inputs(layout, bucket), [P7])
    assert result.verdict is Verdict.FAIL
    assert result.counterexample is not None
    assert result.counterexample.principal == layout.clusters[1].role_arn
    assert result.counterexample.resource.startswith(f"{layout.bucket_arn}/records/prod/")


def test_p7_fails_without_the_prefix_deny_for_a_peer_in_the_recordings_account() -> None:
    """In the bucket's own account an identity policy alone reaches every prefix: the deny is what stops it."""
    layout = layout_of(RECORDINGS)
    bucket = bucket_policy(layout)
    bucket["Statement"].remove(by_sid(bucket, "ClusterStagingOnlyItsPrefix"))
    (result,) = prove(*inputs(layout, bucket), [P7])
    assert result.verdict is Verdict.FAIL
    assert result.counterexample is not None
    assert result.counterexample.resource.startswith(f"{layout.bucket_arn}/records/prod/")


def test_p7_fails_when_a_peer_in_the_recordings_account_may_change_the_bucket() -> None:
    layout = layout_of(RECORDINGS)
    bucket = bucket_policy(layout)
    bucket["Statement"].remove(by_sid(bucket, "ClusterStagingNoBucketChanges"))
    (result,) = prove(*inputs(layout, bucket), [P7])
    assert result.verdict is Verdict.FAIL
    assert result.counterexample is not None
    assert result.counterexample.resource == layout.bucket_arn
    assert result.counterexample.action not in clusters.policies.AUTH_S3_BUCKET_ACTIONS


def test_p7_fails_when_a_peer_of_another_account_is_allowed_a_bucket_change() -> None:
    layout = layout_of()
    bucket = bucket_policy(layout)
    by_sid(bucket, "ClusterStagingBucket")["Action"] = "s3:*"
    by_sid(bucket, "ClusterStagingNoBucketChanges")["NotAction"] = ["s3:*"]
    (result,) = prove(*inputs(layout, bucket), [P7])
    assert result.verdict is Verdict.FAIL


def test_naming_another_accounts_role_by_aws_principal_arn_under_its_root_allows_what_naming_it_would() -> None:
    """The deploy-first form (``Principal: ACCOUNT:root`` + ``StringEquals aws:PrincipalArn``) against the role
    named as the principal (which KMS and S3 refuse before the role exists): no request either allows alone."""
    layout = layout_of()
    design, evidence = inputs(layout)
    named = copy.deepcopy(evidence.bucket_policy)
    assert named is not None
    for statement in named["Statement"]:
        arn = statement.get("Condition", {}).get("StringEquals", {}).get("aws:PrincipalArn")
        if isinstance(arn, str) and statement["Principal"] != {"AWS": "*"}:
            statement["Principal"] = {"AWS": arn}
            del statement["Condition"]["StringEquals"]["aws:PrincipalArn"]
            if not statement["Condition"]["StringEquals"]:
                del statement["Condition"]["StringEquals"]
            if not statement["Condition"]:
                del statement["Condition"]
    as_named = Evidence(
        key_policy=evidence.key_policy, bucket_policy=named, identity_policies=evidence.identity_policies
    )
    assert new_access(design, evidence, as_named) is None
    assert new_access(design, as_named, evidence) is None


def test_every_cluster_role_is_named_in_both_resource_policies_under_its_accounts_root() -> None:
    layout = layout_of()
    for cluster in layout.clusters:
        for document in (key_policy(layout), bucket_policy(layout)):
            named = [
                s
                for s in document["Statement"]
                if s.get("Condition", {}).get("StringEquals", {}).get("aws:PrincipalArn") == cluster.role_arn
            ]
            assert named, cluster.name
            assert all(s["Principal"] == {"AWS": f"arn:aws:iam::{cluster.account}:root"} for s in named)


# --- clusterIsolation=key: one key per cluster -------------------------------------------------------

CLUSTER_KEY_IDS = {"prod": "0b7a4c3e-0000-4000-8000-000000000002", "staging": "0b7a4c3e-0000-4000-8000-000000000003"}


def cluster_key_arn(name: str) -> str:
    return f"arn:aws:kms:{REGION}:{RECORDINGS}:key/{CLUSTER_KEY_IDS[name]}"


def key_layout(staging_account: str = WORKLOAD_B) -> clusters.OrganizationPlan:
    settings = AppSettings.from_context(
        {
            "account": RECORDINGS,
            "region": REGION,
            "clusterIsolation": "key",
            "clusters": [{"name": "prod", "account": WORKLOAD_A}, {"name": "staging", "account": staging_account}],
        }
    )
    return clusters.plan(settings)


def key_mode_bucket_policy(layout: clusters.OrganizationPlan) -> dict[str, Any]:
    """As ``central_storage.py`` builds it: the shared key's denies accept every cluster key, and each cluster's
    prefix accepts its own key only."""
    keys = {c.name: (cluster_key_arn(c.name), CLUSTER_KEY_IDS[c.name]) for c in layout.clusters}
    statements = policies.bucket_policy_statements(
        bucket_arn=layout.bucket_arn, key_arn=KEY_ARN, key_id=KEY_ID, also_accepted_keys=list(keys.values())
    )
    statements += clusters.bucket_statements(layout) + clusters.bucket_key_statements(layout, keys)
    return {"Version": "2012-10-17", "Statement": statements}


def cluster_key_policy(layout: clusters.OrganizationPlan, cluster: clusters.ClusterPlan) -> dict[str, Any]:
    document = policies.key_policy(
        auth_principal_arn=None, deploy_role_arn=DEPLOY, bucket_arn=layout.bucket_arn, region=REGION
    )
    document["Statement"] += clusters.key_statements(layout, cluster)
    return document


def key_inputs(
    layout: clusters.OrganizationPlan, *, bucket: dict[str, Any] | None = None, key: dict[str, Any] | None = None
) -> tuple[Design, Evidence]:
    prod = layout.clusters[0]
    design = Design(
        account=RECORDINGS,
        region=REGION,
        key_arn=cluster_key_arn("prod"),
        key_id=CLUSTER_KEY_IDS["prod"],
        bucket_name=layout.bucket_name,
        auth_role_arn=prod.role_arn,
        prefix=prod.prefix,
        deploy_role_arn=DEPLOY,
        peer_arns=layout.peers_of(prod),
        key_per_cluster=True,
    )
    evidence = Evidence(
        key_policy=key if key is not None else cluster_key_policy(layout, prod),
        bucket_policy=bucket if bucket is not None else key_mode_bucket_policy(layout),
        identity_policies={prod.role_arn: [identity(layout, prod)]},
    )
    return design, evidence


def parsed_of(design: Design, evidence: Evidence) -> Parsed:
    return parse_evidence(evidence)


@pytest.mark.parametrize("staging_account", [WORKLOAD_B, RECORDINGS], ids=["other-account", "recordings-account"])
def test_with_a_key_per_cluster_every_property_holds_on_the_clusters_own_key(staging_account: str) -> None:
    layout = key_layout(staging_account)
    assert [c.key_alias for c in layout.clusters] == [
        "alias/teleport-session-recordings/prod",
        "alias/teleport-session-recordings/staging",
    ]
    results = prove(*key_inputs(layout), ["P1", "P2", "P5", "P6", P7])
    assert [(r.id, r.verdict) for r in results] == [(p, Verdict.PASS) for p in ("P1", "P2", "P5", "P6", P7)], [
        r.summary for r in results
    ]
    assert "other clusters" not in results[0].summary  # P1: no peer is among this key's users
    assert "or use this cluster's own key" in results[-1].summary


def test_a_cluster_key_policy_that_admits_another_clusters_role_fails_p1_and_p7() -> None:
    """The mutation: staging's key statements (its role through S3 for this bucket) land in prod's key policy."""
    layout = key_layout()
    prod, staging = layout.clusters
    key = cluster_key_policy(layout, prod)
    key["Statement"] += clusters.key_statements(layout, staging)
    p1, p7 = prove(*key_inputs(layout, key=key), ["P1", P7])
    assert p1.verdict is Verdict.FAIL, p1.summary
    assert p7.verdict is Verdict.FAIL, p7.summary
    assert p7.counterexample is not None
    assert p7.counterexample.principal == staging.role_arn
    assert p7.counterexample.action.startswith("kms:")


def _bucket_mistake(bucket: dict[str, Any], layout: clusters.OrganizationPlan) -> dict[str, Any]:
    """Staging's object allow and its prefix deny widened to the whole bucket: it may read prod's objects."""
    everything = f"{layout.bucket_arn}/*"
    by_sid(bucket, "ClusterStagingObjects")["Resource"] = everything
    by_sid(bucket, "ClusterStagingOnlyItsPrefix")["NotResource"] = [layout.bucket_arn, everything]
    return bucket


def test_a_bucket_policy_mistake_fails_p7_but_with_a_key_per_cluster_the_peer_still_cannot_decrypt() -> None:
    """What is true, with the mistake: S3 lets staging read prod's objects (P7 FAILs on an s3: action), and
    KMS still refuses staging prod's key (``peer_key_use`` PASS): prod's recordings stay ciphertext to it."""
    layout = key_layout()
    design, evidence = key_inputs(layout, bucket=_bucket_mistake(key_mode_bucket_policy(layout), layout))
    (p7,) = prove(design, evidence, [P7])
    assert p7.verdict is Verdict.FAIL
    assert p7.counterexample is not None
    assert p7.counterexample.action.startswith("s3:")
    assert p7.counterexample.resource.startswith(f"{layout.bucket_arn}/records/prod/")
    found, _ = peer_key_use(design, parsed_of(design, evidence))
    assert found.verdict is Verdict.PASS


def test_with_one_shared_key_the_same_bucket_mistake_lets_the_peer_decrypt() -> None:
    """The trade-off, proven: with ``prefix`` isolation KMS cannot tell the clusters apart (the context is the
    bucket), so the peer that S3 lets read prod's objects may also decrypt them."""
    layout = layout_of()
    design, evidence = inputs(layout, _bucket_mistake(bucket_policy(layout), layout))
    found, _ = peer_key_use(design, parsed_of(design, evidence))
    assert found.verdict is Verdict.FAIL


def test_a_write_under_a_clusters_prefix_with_another_clusters_key_is_refused_only_by_its_key_deny() -> None:
    """Without ``ClusterProdOnlyItsKey`` a put under prod's prefix may name staging's key (the shared denies
    accept every cluster key): P6 on prod's key FAILs there; staging's own prefix is not prod's concern."""
    layout = key_layout()
    bucket = key_mode_bucket_policy(layout)
    (p6,) = prove(*key_inputs(layout, bucket=bucket), ["P6"])
    assert p6.verdict is Verdict.PASS, p6.summary
    bucket["Statement"].remove(by_sid(bucket, "ClusterProdOnlyItsKey"))
    (p6,) = prove(*key_inputs(layout, bucket=bucket), ["P6"])
    assert p6.verdict is Verdict.FAIL
    assert p6.counterexample is not None
    assert p6.counterexample.resource.startswith(f"{layout.bucket_arn}/records/prod/")
    assert p6.counterexample.action == "s3:PutObject"


def test_p6_on_a_shared_key_still_judges_every_prefix() -> None:
    """``key_per_cluster`` False (the default): a put naming another key anywhere in the bucket is a P6 FAIL, as
    before (here the other cluster's key, which the key-per-cluster bucket policy accepts outside prod's prefix)."""
    layout = key_layout()
    design, evidence = key_inputs(layout)
    shared = dataclasses.replace(design, key_per_cluster=False)
    (p6,) = prove(shared, evidence, ["P6"])
    assert p6.verdict is Verdict.FAIL
    assert p6.counterexample is not None
    assert not p6.counterexample.resource.startswith(f"{layout.bucket_arn}/records/prod/")
    header = p6.counterexample.context[policies.SSE_KMS_KEY_HEADER]
    assert header in (cluster_key_arn("staging"), CLUSTER_KEY_IDS["staging"])


@pytest.mark.parametrize(
    ("named", "verdict"),
    [(KEY_ARN, Verdict.PASS), (KEY_ARN.replace("0001", "0099"), Verdict.FAIL)],
    ids=["this", "other"],
)
def test_an_identity_policy_narrowed_by_recordings_key_arn_works_only_for_the_key_it_names(
    named: str, verdict: Verdict
) -> None:
    """``recordingsKeyArn`` narrows the identity policy's ``key/*`` to one key: Teleport's requests (P5) are
    allowed when that is the design's key, and not when it names another (a mistyped ARN takes access away)."""
    settings = AppSettings.from_context(
        {
            "account": RECORDINGS,
            "region": REGION,
            "recordingsKeyArn": named,
            "clusters": [{"name": "prod", "account": WORKLOAD_A}, {"name": "staging", "account": WORKLOAD_B}],
        }
    )
    layout = clusters.plan(settings)
    prod = layout.clusters[0]
    narrowed = {
        "Version": "2012-10-17",
        "Statement": policies.auth_s3_policy_statements(bucket_arn=layout.bucket_arn, prefix=prod.prefix)
        + clusters.identity_kms_statements(layout, prod),
    }
    assert {s["Resource"] for s in clusters.identity_kms_statements(layout, prod)} == {named}
    design, evidence = inputs(layout)
    (p5,) = prove(design, dataclasses.replace(evidence, identity_policies={prod.role_arn: [narrowed]}), ["P5"])
    assert p5.verdict is verdict, p5.summary
