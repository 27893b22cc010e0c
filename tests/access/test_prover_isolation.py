"""P7 on the organization layout's policies (built by ``core/clusters.py``, no CDK), and mutations that break it.

A peer's identity policies are never supplied: its account's administrators can write them, so the
prover takes them to allow anything, and P7 must hold on the recordings account's policies alone.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from constructs_lib.core import clusters, policies
from constructs_lib.core.prover import Design, Evidence, Verdict, new_access, prove
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
