"""`recordings-kms teleport-config --stack-name PRIMARY --replica`: the replica's URI for failover, read from the
replica stack (in its own region) that the primary's ReplicaStackName and ReplicaRegion outputs name."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from constructs_lib.core import outputs
from tests.cli.conftest import VERIFY_FIXTURES
from tests.cli.deployment import Deployment, assert_error, harness_client, run

pytestmark = pytest.mark.usefixtures(*VERIFY_FIXTURES)
Deploy = Callable[..., Deployment]
REPLICA_REGION = "eu-central-1"
REPLICA_URI = (
    "s3://teleport-recordings-replica/records?region=eu-central-1"
    "&sse_kms_key=arn:aws:kms:eu-central-1:123456789012:key/0987dcba-09fe-87dc-65ba-ab0987654321"
)


def replica_stack(deployment: Deployment, name: str) -> None:
    """A stand-in replica stack in the replica region, carrying the StorageUri output."""
    template = {
        "Resources": {
            "Marker": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Name": f"/{name}", "Type": "String", "Value": "x"},
            }
        },
        "Outputs": {outputs.STORAGE_URI: {"Value": REPLICA_URI}},
    }
    cloudformation = harness_client("cloudformation", deployment.endpoint, region=REPLICA_REGION)
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))


def test_the_replicas_uri_is_read_from_the_replica_stack(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    deployment = deploy()
    replica_stack(deployment, "TeleportSessionRecordingsReplica")
    primary = deployment.create_stack(
        **{outputs.REPLICA_STACK_NAME: "TeleportSessionRecordingsReplica", outputs.REPLICA_REGION: REPLICA_REGION}
    )
    argv = ["teleport-config", "--stack-name", primary, "--endpoint-url", deployment.endpoint, "--replica"]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert f'    audit_sessions_uri: "{REPLICA_URI}"' in out.splitlines()


def test_a_primary_without_a_replica_is_one_line_exit_2(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    deployment = deploy()
    primary = deployment.create_stack()
    argv = ["teleport-config", "--stack-name", primary, "--endpoint-url", deployment.endpoint, "--replica"]
    assert_error(*run(argv, capsys), f"stack {primary} has no replica (no ReplicaStackName and ReplicaRegion outputs)")


def test_replica_with_a_uri_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert_error(*run(["teleport-config", "--uri", REPLICA_URI, "--replica"], capsys), "give --stack-name, not --uri")
