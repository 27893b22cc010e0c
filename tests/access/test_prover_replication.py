"""The replication role in the promise (prover/replication.py): P1 allows it exactly S3 replication of this
bucket's recordings, R1 only S3 assumes it, R2 replication still works; each mutation FAILs.

The key statements are the package's own (core/replication.py), built for the primary (source key:
kms:Decrypt) and the replica (kms:Encrypt, kms:GenerateDataKey, kms:Decrypt: S3 Bucket Keys need Decrypt on
the replica key, S3 User Guide "Replicating encrypted objects", section "S3 Bucket Keys and replication":
https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html).
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from constructs_lib.core import policies, replication
from constructs_lib.core.prover import Design, Evidence, Verdict, prove
from constructs_lib.core.prover import replication as proofs
from tests.access.conftest import (
    ACCOUNT,
    AUTH,
    BUCKET,
    REGION,
    auth_identity,
    bucket_policy,
    design,
    key_policy,
    replay,
)

ROLE = f"arn:aws:iam::{ACCOUNT}:role/teleport-recordings-replication-{REGION}"
NAMES = replication.ReplicationNames(
    partition="aws",
    source_account=ACCOUNT,
    source_region=REGION,
    source_bucket=BUCKET,
    prefix="records",
    replica_account=ACCOUNT,
    replica_region="eu-central-1",
    replica_bucket="teleport-recordings-replica",
    key_alias="alias/teleport-session-recordings",
    replication_role_name=f"teleport-recordings-replication-{REGION}",
    auth_role_arn=AUTH,
)


def source() -> tuple[Design, Evidence]:
    """The primary key: the package's policy with the replication role's Decrypt statement."""
    d = design(replication_role_arn=ROLE, replication_key_actions=replication.SOURCE_KMS_ACTIONS)
    role_statements = policies.statements_for(replication.source_key_statement(NAMES), [ROLE], {ROLE})
    document = key_policy(d)
    document["Statement"] += role_statements
    e = Evidence(
        key_policy=document,
        bucket_policy=bucket_policy(d),
        identity_policies={AUTH: [auth_identity(d)]},
        replication_trust_policy=replication.trust_policy(),
    )
    return d, e


def replica() -> tuple[Design, Evidence]:
    """The replica key, in the replica region, for the replica bucket."""
    region = NAMES.replica_region
    key_id = "0987dcba-09fe-87dc-65ba-ab0987654321"
    d = replace(
        design(),
        region=region,
        key_id=key_id,
        key_arn=f"arn:aws:kms:{region}:{ACCOUNT}:key/{key_id}",
        bucket_name=NAMES.replica_bucket,
        replication_role_arn=ROLE,
        replication_key_actions=replication.REPLICA_KMS_ACTIONS,
    )
    document = key_policy(d)
    document["Statement"] += policies.statements_for(replication.replica_key_statement(NAMES), [ROLE], {ROLE})
    return d, Evidence(
        key_policy=document, bucket_policy=bucket_policy(d), identity_policies={AUTH: [auth_identity(d)]}
    )


def verdicts(d: Design, e: Evidence, wanted: tuple[str, ...] | None = None) -> dict[str, Verdict]:
    return {r.id: r.verdict for r in proofs.prove(d, e, wanted)}


def role_statement(e: Evidence) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in e.key_policy["Statement"] if s["Sid"] == replication.SID_KEY_REPLICATION)
    return found


def mutated(e: Evidence, change: Any) -> Evidence:
    document = copy.deepcopy(dict(e.key_policy))
    change(next(s for s in document["Statement"] if s["Sid"] == replication.SID_KEY_REPLICATION))
    return replace(e, key_policy=document)


def p1_counterexample(d: Design, e: Evidence) -> Any:
    (p1,) = proofs.prove(d, e, ["P1"])
    assert p1.verdict is Verdict.FAIL, p1
    assert p1.counterexample is not None
    assert p1.counterexample.principal == ROLE
    return p1.counterexample


@pytest.mark.parametrize("side", [source, replica])
def test_the_package_replication_passes_every_property(side: Any) -> None:
    d, e = side()
    found = verdicts(d, e)
    assert set(found.values()) == {Verdict.PASS}, found
    assert "R2" in found


def test_the_source_key_proves_r1_as_well() -> None:
    d, e = source()
    assert verdicts(d, e)["R1"] is Verdict.PASS


def test_without_the_replication_bound_the_same_policy_fails_p1() -> None:
    """The base P1 counts the role as an outsider: the exemption is what lets it in, and only it."""
    d, e = source()
    (p1,) = prove(replace(d, replication_role_arn=None, replication_key_actions=()), e, ["P1"])
    assert p1.verdict is Verdict.FAIL
    assert p1.counterexample is not None
    assert p1.counterexample.principal == ROLE


def test_a_decrypt_without_via_service_fails_p1() -> None:
    d, e = source()
    broken = mutated(e, lambda s: s["Condition"].pop("StringEquals"))
    example = p1_counterexample(d, broken)
    assert example.action == "kms:Decrypt"
    assert example.context.get("kms:ViaService") != d.via_s3
    assert replay(broken, example).value == "ALLOWED"


def test_a_replication_statement_without_the_context_fails_p1() -> None:
    d, e = replica()
    broken = mutated(e, lambda s: s["Condition"].pop("StringLike"))
    example = p1_counterexample(d, broken)
    assert replay(broken, example).value == "ALLOWED"


def test_another_buckets_context_fails_p1() -> None:
    d, e = source()
    broken = mutated(
        e, lambda s: s["Condition"]["StringLike"].update({"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::*"})
    )
    p1_counterexample(d, broken)


def test_an_action_beyond_replication_fails_p1() -> None:
    """ReEncrypt on the source key is not what S3 replication does: the role may not have it."""
    d, e = source()
    broken = mutated(e, lambda s: s.update({"Action": ["kms:Decrypt", "kms:ReEncryptFrom"]}))
    assert p1_counterexample(d, broken).action == "kms:ReEncryptFrom"


def test_the_role_named_with_someone_else_fails_p1() -> None:
    d, e = source()
    attacker = f"arn:aws:iam::{ACCOUNT}:role/Attacker"
    broken = mutated(e, lambda s: s["Condition"]["ArnEquals"].update({"aws:PrincipalArn": [ROLE, attacker]}))
    (p1,) = proofs.prove(d, broken, ["P1"])
    assert p1.verdict is Verdict.FAIL
    assert p1.counterexample is not None
    assert p1.counterexample.principal == attacker


@pytest.mark.parametrize(
    ("principal", "who"),
    [
        ({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, f"arn:aws:iam::{ACCOUNT}:root"),
        ({"AWS": "*"}, "*"),
        ({"Service": ["s3.amazonaws.com", "batchoperations.s3.amazonaws.com"]}, "batchoperations.s3.amazonaws.com"),
    ],
)
def test_a_trust_that_admits_anyone_but_s3_fails_r1(principal: dict[str, Any], who: str) -> None:
    d, e = source()
    trust = copy.deepcopy(replication.trust_policy())
    trust["Statement"][0]["Principal"] = principal
    (r1,) = proofs.prove(d, replace(e, replication_trust_policy=trust), ["R1"])
    assert r1.verdict is Verdict.FAIL
    assert who in r1.summary


def test_a_second_statement_for_an_account_fails_r1_and_a_deny_does_not() -> None:
    d, e = source()
    trust = copy.deepcopy(replication.trust_policy())
    account = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "sts:*"}
    deny = {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
    assert (
        proofs.prove(
            d, replace(e, replication_trust_policy={**trust, "Statement": [*trust["Statement"], deny]}), ["R1"]
        )[0].verdict
        is Verdict.PASS
    )
    failing = {**trust, "Statement": [*trust["Statement"], account]}
    assert proofs.prove(d, replace(e, replication_trust_policy=failing), ["R1"])[0].verdict is Verdict.FAIL


def test_a_not_principal_trust_cannot_be_proven() -> None:
    d, e = source()
    trust = {"Statement": [{"Effect": "Allow", "NotPrincipal": {"AWS": "x"}, "Action": "sts:AssumeRole"}]}
    assert proofs.prove(d, replace(e, replication_trust_policy=trust), ["R1"])[0].verdict is Verdict.CANNOT_PROVE


def test_a_replica_key_without_decrypt_for_bucket_keys_fails_r2() -> None:
    """Replication with Bucket Keys calls kms:Decrypt on the replica key (documented): without it, R2 FAILs."""
    d, e = replica()
    broken = mutated(e, lambda s: s.update({"Action": ["kms:Encrypt", "kms:GenerateDataKey"]}))
    (r2,) = proofs.prove(d, broken, ["R2"])
    assert r2.verdict is Verdict.FAIL
    assert r2.counterexample is not None
    assert r2.counterexample.action == "kms:Decrypt"


def test_a_design_without_replication_is_proven_as_before() -> None:
    d = design()
    e = Evidence(key_policy=key_policy(d), bucket_policy=bucket_policy(d), identity_policies={AUTH: [auth_identity(d)]})
    assert [r.id for r in proofs.prove(d, e)] == ["P1", "P2", "P3", "P4", "P5", "P6"]
    assert [(r.id, r.verdict, r.summary) for r in proofs.prove(d, e)] == [
        (r.id, r.verdict, r.summary) for r in prove(d, e)
    ]


def test_replication_actions_need_the_role() -> None:
    with pytest.raises(ValueError, match="replication_key_actions without replication_role_arn"):
        design(replication_key_actions=("kms:Decrypt",))
