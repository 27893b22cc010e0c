"""`recordings-kms verify` on a replicated primary: the live replication configuration (``bucket.replication``).

Through the CLI against a moto server where moto keeps what is judged; moto 5.2.5 stores the configuration
without its ``Filter`` prefix and ``SourceSelectionCriteria`` (measured: GetBucketReplication returns
``Prefix: ""`` and no selection, and does not keep an enabled delete-marker replication), so the package's complete rule, and those two elements, are judged on the
check itself with GetBucketReplication's shape."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from constructs_lib.core import replication
from constructs_lib.core.prover import Design
from recordings_kms.results import Status
from recordings_kms.verify.facts import BucketFacts
from recordings_kms.verify.replication_checks import check_replication
from tests.access.conftest import design
from tests.access.test_prover_replication import NAMES
from tests.cli.conftest import VERIFY_FIXTURES
from tests.cli.deployment import ACCOUNT, PREFIX, Deployment, checks_of, harness_client, run

pytestmark = pytest.mark.usefixtures(*VERIFY_FIXTURES)
Deploy = Callable[..., Deployment]
ROLE = f"arn:aws:iam::{ACCOUNT}:role/teleport-recordings-replication-eu-west-1"
REPLICA = "teleport-recordings-replica"


def configuration() -> dict[str, Any]:
    """The package's rule as GetBucketReplication returns it (``ID``, not CloudFormation's ``Id``)."""
    names = replace(NAMES, source_account=ACCOUNT, replica_account=ACCOUNT, prefix=PREFIX, replica_bucket=REPLICA)
    config = replication.replication_configuration(ROLE, names, names.replica_alias_arn)
    for rule in config["Rules"]:
        rule["ID"] = rule.pop("Id")
    return config


def verify_replicated(deployment: Deployment, capsys: pytest.CaptureFixture[str], config: Any) -> dict[str, Any]:
    if config is not None:
        s3 = harness_client("s3", deployment.endpoint)
        s3.put_bucket_replication(Bucket=deployment.bucket, ReplicationConfiguration=config)
    design = deployment.access_design(replicationRoleArn=ROLE, replicationKeyActions=["kms:Decrypt"])
    stack = deployment.create_stack(AccessDesign=json.dumps(design))
    _, out, _ = run(["verify", "--stack-name", stack, "--endpoint-url", deployment.endpoint, "--json"], capsys)
    found: dict[str, Any] = checks_of(out)["bucket.replication"]
    return found


def facts(config: dict[str, Any] | None) -> BucketFacts:
    return BucketFacts(
        name="recordings",
        encryption_rules=None,
        policy_text=None,
        public_access_block=None,
        versioning_status="Enabled",
        object_ownership=None,
        replication=config,
    )


def replicated_design() -> Design:
    return replace(design(prefix=PREFIX), replication_role_arn=ROLE, replication_key_actions=("kms:Decrypt",))


def test_the_packages_rule_passes() -> None:
    (check,) = check_replication(facts(configuration()), replicated_design())
    assert check.status is Status.PASS, check
    assert REPLICA in check.reason


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda c: c["Rules"][0].pop("SourceSelectionCriteria"), "SSE-KMS objects are not replicated"),
        (lambda c: c["Rules"][0]["Filter"].update(Prefix="elsewhere/"), "filters prefix 'elsewhere/'"),
        (lambda c: c["Rules"][0]["Destination"].pop("EncryptionConfiguration"), "no ReplicaKmsKeyID"),
        (lambda c: c["Rules"][0]["DeleteMarkerReplication"].update(Status="Enabled"), "delete markers are replicated"),
    ],
    ids=["no-sse-kms-selection", "another-prefix", "no-replica-key", "delete-markers"],
)
def test_what_moto_drops_is_judged_on_the_check(change: Callable[[dict[str, Any]], Any], fragment: str) -> None:
    config = configuration()
    change(config)
    (check,) = check_replication(facts(config), replicated_design())
    assert check.status is Status.FAIL
    assert fragment in check.reason, check.reason


def test_a_replica_design_has_no_replication_check() -> None:
    """The replica's key lets the role encrypt too: its bucket is no source, and has no configuration."""
    replica = replace(replicated_design(), replication_key_actions=replication.REPLICA_KMS_ACTIONS)
    assert check_replication(facts(None), replica) == []


def test_no_configuration_fails(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    check = verify_replicated(deploy(), capsys, None)
    assert check["status"] == "FAIL"
    assert "has no replication configuration" in check["reason"]


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda c: c.update(Role=f"arn:aws:iam::{ACCOUNT}:role/other"), "the configuration's role is"),
        (
            lambda c: c["Rules"].append({**copy.deepcopy(c["Rules"][0]), "ID": "by-hand", "Priority": 2}),
            "rules other than teleport-recordings-replica replicate this bucket: by-hand",
        ),
    ],
    ids=["another-role", "a-second-rule"],
)
def test_a_rule_that_differs_fails(
    deploy: Deploy, capsys: pytest.CaptureFixture[str], change: Callable[[dict[str, Any]], Any], fragment: str
) -> None:
    config = configuration()
    change(config)
    check = verify_replicated(deploy(), capsys, config)
    assert check["status"] == "FAIL"
    assert fragment in check["reason"], check["reason"]


def test_a_design_without_replication_has_no_replication_check(
    deploy: Deploy, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment = deploy()
    stack = deployment.create_stack()
    _, out, _ = run(["verify", "--stack-name", stack, "--endpoint-url", deployment.endpoint, "--json"], capsys)
    assert "bucket.replication" not in checks_of(out)
