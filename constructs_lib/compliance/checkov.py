"""Template-scanner suppressions that belong to this design, carried in each resource's template metadata.

Security teams run checkov over CloudFormation templates; it reads ``Metadata.checkov.skip`` on the
resource (``[{id, comment}]``). As with the cdk-nag acknowledgments (``acknowledgments.py``), each one names
one check on one resource and says why that finding is right for this design, so that an importing
app's scan is as clean as ours. README.md ("Template scanners") lists them; tests/stacks/test_scanners.py
runs checkov over the synthesized templates and fails on any finding or skip not listed here.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk

#: checkov's "Ensure KMS key policy does not contain wildcard (*) principal" (it ignores conditions).
KMS_WILDCARD_PRINCIPAL = "CKV_AWS_33"
#: checkov's "Ensure the S3 bucket has access logging enabled".
S3_ACCESS_LOGGING = "CKV_AWS_18"

REASON_CREATED_PRINCIPALS_BY_ARN = (
    'Principal "*" appears only in Allow statements confined by ArnEquals aws:PrincipalArn to principals '
    "created in this deployment (the auth role, readers, key admins): KMS refuses a key policy naming a "
    "principal it cannot see yet, a just-created role may not be visible (invalid principals, and CloudFormation "
    "does not retry), and the condition allows exactly what naming them would (proven: tests/access/"
    "test_prover_deploy_safety.py, and P1-P6 at synthesis). Naming the account root instead would hand the key "
    "to IAM policies, which this key policy never trusts."
)
REASON_ACCESS_LOG_BUCKET_NOT_LOGGED = (
    "This bucket receives the recordings bucket's S3 server access logs; logging it would need yet another "
    "log bucket, and S3 advises against a bucket logging to itself (each delivery writes a new log, in a loop)."
)

#: Every suppression this package writes: check id -> reason (the scanner test compares with it).
REASONS: dict[str, str] = {
    KMS_WILDCARD_PRINCIPAL: REASON_CREATED_PRINCIPALS_BY_ARN,
    S3_ACCESS_LOGGING: REASON_ACCESS_LOG_BUCKET_NOT_LOGGED,
}


def skip_in_checkov(resource: cdk.CfnResource, check_id: str) -> None:
    """Add ``check_id`` with its reason to ``resource``'s ``Metadata.checkov.skip`` (once)."""
    metadata: Any = resource.get_metadata("checkov") or {}
    skips: list[dict[str, str]] = list(metadata.get("skip", []))
    if not any(skip.get("id") == check_id for skip in skips):
        skips.append({"id": check_id, "comment": REASONS[check_id]})
    resource.add_metadata("checkov", {**metadata, "skip": skips})
