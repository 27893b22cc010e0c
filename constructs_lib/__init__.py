"""Reusable CDK constructs that provision Teleport RFD 42 session-recording storage.

The construct classes are loaded on first use, so that the plain-data modules
(``constructs_lib.core.policies``, ``constructs_lib.core.validation``) import without starting jsii.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from constructs_lib.auth_role import AuthNodeRole, AuthTrust, RecordingsAccessPolicy
    from constructs_lib.bucket import RecordingsBucket
    from constructs_lib.compliance import enable_compliance_packs
    from constructs_lib.core.policies import KeyAdminMode
    from constructs_lib.core.validation import InvalidSettingsError
    from constructs_lib.key import RecordingsKey
    from constructs_lib.storage import SessionRecordingsStorage

_EXPORTS = {
    "AuthNodeRole": "constructs_lib.auth_role",
    "AuthTrust": "constructs_lib.auth_role",
    "RecordingsAccessPolicy": "constructs_lib.auth_role",
    "RecordingsBucket": "constructs_lib.bucket",
    "enable_compliance_packs": "constructs_lib.compliance",
    "RecordingsKey": "constructs_lib.key",
    "KeyAdminMode": "constructs_lib.core.policies",
    "SessionRecordingsStorage": "constructs_lib.storage",
    "InvalidSettingsError": "constructs_lib.core.validation",
}

__all__ = [
    "AuthNodeRole",
    "AuthTrust",
    "InvalidSettingsError",
    "KeyAdminMode",
    "RecordingsAccessPolicy",
    "RecordingsBucket",
    "RecordingsKey",
    "SessionRecordingsStorage",
    "enable_compliance_packs",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'constructs_lib' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
