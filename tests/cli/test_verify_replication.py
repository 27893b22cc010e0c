"""``recordings-kms verify`` on a replicated primary: the AccessDesign output names the replication role, and the
live key policy's replication statement is judged as the synthesis judged it (prover/replication.py)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from recordings_kms.access import InputError, parameters_from_access_design
from recordings_kms.results import Status
from recordings_kms.verify.checks import check_access
from tests.access.test_prover_replication import ROLE, source

DESIGN = {
    "authPrincipalArn": "arn:aws:iam::111122223333:role/TeleportAuth",
    "adminMode": "rfd",
    "scopeKeyToS3": True,
    "prefix": "records",
}


def test_the_access_design_carries_the_replication_role() -> None:
    parameters = parameters_from_access_design(
        json.dumps(DESIGN | {"replicationRoleArn": ROLE, "replicationKeyActions": ["kms:Decrypt"]}), source="output"
    )
    assert (parameters.replication_role_arn, parameters.replication_key_actions) == (ROLE, ("kms:Decrypt",))
    design = parameters.design(
        key_arn="arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", bucket="b"
    )
    assert design.replication_role_arn == ROLE
    assert parameters_from_access_design(json.dumps(DESIGN), source="output").replication_role_arn is None


@pytest.mark.parametrize(
    "extra",
    [
        {"replicationRoleArn": ROLE},
        {"replicationKeyActions": ["kms:Decrypt"]},
        {"replicationRoleArn": ROLE, "replicationKeyActions": "kms:Decrypt"},
    ],
)
def test_half_a_replication_design_is_refused(extra: dict[str, object]) -> None:
    with pytest.raises(InputError, match="output: replication"):
        parameters_from_access_design(json.dumps(DESIGN | extra), source="output")


def test_verify_passes_the_replicated_key_and_fails_it_without_the_role_in_the_design() -> None:
    """Before this change verify read no replication role: the package's own replicated key policy FAILed P1."""
    design, evidence = source()
    statuses = {c.id: c.status for c in check_access(design, evidence) if c.status is not Status.INFO}
    assert statuses["access.P1"] is Status.PASS
    assert statuses["access.R2"] is Status.PASS
    plain = replace(design, replication_role_arn=None, replication_key_actions=())
    (p1,) = (c for c in check_access(plain, evidence) if c.id == "access.P1" and c.status is not Status.INFO)
    assert p1.status is Status.FAIL
