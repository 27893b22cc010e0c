"""The access proofs' old import path: they are ``constructs_lib.compliance.proofs`` now."""

from __future__ import annotations

from constructs_lib.compliance.proofs import (
    DEPLOY_ROLE_RULE,
    DESIGN_FACTS,
    ERROR_RULE,
    GUARDRAIL_FACTS,
    PLUGIN_NAME,
    PLUGIN_VERSION,
    PROPERTY_IDS,
    RECORD_FILE,
    AccessProofs,
    access_proofs_enabled,
    enable_access_proofs,
)

__all__ = [
    "DEPLOY_ROLE_RULE",
    "DESIGN_FACTS",
    "ERROR_RULE",
    "GUARDRAIL_FACTS",
    "PLUGIN_NAME",
    "PLUGIN_VERSION",
    "PROPERTY_IDS",
    "RECORD_FILE",
    "AccessProofs",
    "access_proofs_enabled",
    "enable_access_proofs",
]
