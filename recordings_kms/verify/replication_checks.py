"""The primary's live replication configuration against the design (``bucket.replication``).

PutBucketReplication accepts a rule that can never replicate the recordings (a wrong or missing
``ReplicaKmsKeyID``, SSE-KMS objects not selected: S3 User Guide, "Replicating encrypted objects"), and a
rule added by hand can replicate them somewhere else: both are only visible here. The rule is judged by the
same code that checks the synthesized one (``constructs_lib.core.replication.rule_problems``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from constructs_lib.core import replication
from constructs_lib.core.prover import Design
from recordings_kms.results import CheckResult, Status
from recordings_kms.verify.facts import BucketFacts

REPLICATION = "bucket.replication"


def replicates_from(design: Design) -> bool:
    """Whether the design's bucket is a replication source: its key lets the role decrypt only (a replica's key
    also lets it encrypt)."""
    return design.replication_role_arn is not None and tuple(design.replication_key_actions) == tuple(
        replication.SOURCE_KMS_ACTIONS
    )


def check_replication(bucket: BucketFacts, design: Design) -> list[CheckResult]:
    """Nothing without a replication role in the design; else the configuration must be the package's rule."""
    if not replicates_from(design):
        return []
    config = bucket.replication
    if config is None:
        return [
            CheckResult(
                REPLICATION,
                Status.FAIL,
                f"the design replicates {bucket.name} (replication role {design.replication_role_arn}), but it has no "
                "replication configuration: no recording is copied to the replica",
            )
        ]
    problems = _problems(config, design)
    if problems:
        return [CheckResult(REPLICATION, Status.FAIL, "; ".join(problems))]
    (rule,) = config["Rules"]
    destination = rule["Destination"]
    return [
        CheckResult(
            REPLICATION,
            Status.PASS,
            f"one rule {replication.RULE_ID} replicates {design.prefix}/ to {destination['Bucket']} under "
            f"{destination['EncryptionConfiguration']['ReplicaKmsKeyID']}, SSE-KMS objects selected, no delete markers",
        )
    ]


def _problems(config: Mapping[str, Any], design: Design) -> list[str]:
    problems = []
    if config.get("Role") != design.replication_role_arn:
        problems.append(f"the configuration's role is {config.get('Role')}, not {design.replication_role_arn}")
    rules = list(config.get("Rules", []))
    others = [str(r.get("ID", "?")) for r in rules if r.get("ID") != replication.RULE_ID]
    if others:
        problems.append(f"rules other than {replication.RULE_ID} replicate this bucket: {', '.join(others)}")
    mine = [r for r in rules if r.get("ID") == replication.RULE_ID]
    if not mine:
        problems.append(f"no rule {replication.RULE_ID}")
    for rule in mine:
        prefix = rule.get("Filter", {}).get("Prefix")
        if prefix != f"{design.prefix}/":
            problems.append(f"rule {replication.RULE_ID} filters prefix {prefix!r}, not {design.prefix + '/'!r}")
        if rule.get("Status") != "Enabled":
            problems.append(f"rule {replication.RULE_ID} is {rule.get('Status')}")
    problems += replication.rule_problems({"Rules": mine})
    return problems
