"""Reusable CDK constructs that provision Teleport RFD 42 session-recording storage.

The construct classes are loaded on first use, so that the pure modules (``constructs_lib.core``:
the settings model, policies, ARN rules) import without starting jsii, and importing the
constructs does not load cdk-nag (only ``enable_compliance_packs`` does).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from constructs_lib.access_policy import RecordingsAccessPolicy
    from constructs_lib.auth_role import AuthNodeRole
    from constructs_lib.bucket import RecordingsBucket
    from constructs_lib.compliance.packs import enable_compliance_packs
    from constructs_lib.core.settings import (
        AuthSettings,
        AuthTrust,
        BucketSettings,
        InvalidSettingsError,
        KeyAdminMode,
        KeySettings,
        StorageSettings,
    )
    from constructs_lib.key import RecordingsKey
    from constructs_lib.storage import SessionRecordingsStorage

_EXPORTS = {
    "AuthNodeRole": "constructs_lib.auth_role",
    "RecordingsAccessPolicy": "constructs_lib.access_policy",
    "RecordingsBucket": "constructs_lib.bucket",
    "enable_compliance_packs": "constructs_lib.compliance.packs",
    "AuthSettings": "constructs_lib.core.settings",
    "AuthTrust": "constructs_lib.core.settings",
    "BucketSettings": "constructs_lib.core.settings",
    "InvalidSettingsError": "constructs_lib.core.settings",
    "KeyAdminMode": "constructs_lib.core.settings",
    "KeySettings": "constructs_lib.core.settings",
    "StorageSettings": "constructs_lib.core.settings",
    "RecordingsKey": "constructs_lib.key",
    "SessionRecordingsStorage": "constructs_lib.storage",
}

__all__ = [
    "AuthNodeRole",
    "AuthSettings",
    "AuthTrust",
    "BucketSettings",
    "InvalidSettingsError",
    "KeyAdminMode",
    "KeySettings",
    "RecordingsAccessPolicy",
    "RecordingsBucket",
    "RecordingsKey",
    "SessionRecordingsStorage",
    "StorageSettings",
    "enable_compliance_packs",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'constructs_lib' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
