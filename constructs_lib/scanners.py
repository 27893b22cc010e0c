"""The template-scanner suppressions' old import path: they are ``constructs_lib.compliance.checkov`` now."""

from __future__ import annotations

from constructs_lib.compliance.checkov import (
    KMS_WILDCARD_PRINCIPAL,
    REASON_ACCESS_LOG_BUCKET_NOT_LOGGED,
    REASON_CREATED_PRINCIPALS_BY_ARN,
    REASONS,
    S3_ACCESS_LOGGING,
    skip_in_checkov,
)

__all__ = [
    "KMS_WILDCARD_PRINCIPAL",
    "REASONS",
    "REASON_ACCESS_LOG_BUCKET_NOT_LOGGED",
    "REASON_CREATED_PRINCIPALS_BY_ARN",
    "S3_ACCESS_LOGGING",
    "skip_in_checkov",
]
