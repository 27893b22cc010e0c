"""Every setting of the package, declared once: the settings model (pure; no CDK, no boto3).

Each setting is a field of a frozen dataclass, one group per concern, one module per group:

- ``bucket.py`` :class:`BucketSettings`, ``key.py`` :class:`KeySettings`, ``auth.py``
  :class:`AuthSettings`, ``retention.py`` :class:`RetentionSettings`, ``alarms.py``
  :class:`AlarmSettings`: the parts of one ``SessionRecordingsStorage``;
- ``storage.py`` :class:`StorageSettings`: all of them, and the rules that read two of them;
- ``stack.py`` :class:`StackSettings` (account, region) and ``guardrails.py``
  :class:`GuardrailSettings`: what the bundled app adds; ``app.py`` :class:`AppSettings` is
  everything, with the rules that read the app's groups and the storage's together.

The field's metadata (:class:`Spec`) holds its ``cdk.json`` context name, its ``recordings-kms``
option where one exists, its kind (type, parsing, allowed values: ``constructs_lib.core.kinds``,
with the value rules of ``values.py``) and its documentation line, from which ``readme.py``
generates the README's settings tables. ``model.py`` is the machinery: :func:`setting`,
:func:`rule`, :func:`check` (every problem of a configuration at once) and :func:`validate` (raises
them as one :class:`InvalidSettingsError`), worded in the spelling the settings were made with
(Python keywords, context names or CLI options). The constructs, the app
(``AppSettings.from_context``) and the ``recordings-kms`` command all call them.

A new group is one new module and one line in the aggregate that holds it::

    # constructs_lib/core/settings/replication.py
    @dataclass(frozen=True, kw_only=True)
    class ReplicationSettings(_Settings):

        heading: ClassVar[str] = "Replication"  # its README table

        replica_region: str | None = setting(
            None, Spec("replicaRegion", Text("region name", region_rule, optional=True), "Replicate to this region.")
        )


    @rule(ReplicationSettings, "replica_region")  # a rule that reads only this group's fields
    def _replica_in_another_region(s: ReplicationSettings, env: Environment) -> Iterator[Problem]: ...


    # storage.py: the one line
    class StorageSettings(BucketSettings, KeySettings, AuthSettings, RetentionSettings, AlarmSettings,
                          ReplicationSettings): ...

Its fields then reach ``cdk.json`` (``AppSettings.from_context``), the constructs' keywords and
settings objects, :func:`check` and the README table (``make docs``); a ``recordings-kms`` command
takes one with ``options.add_setting(parser, name)`` (a field with ``cli=``). A rule that reads
this group and another goes with the aggregate that holds both (``storage.py``, ``app.py``).
"""

from __future__ import annotations

from constructs_lib.core.kinds import Environment
from constructs_lib.core.problems import InvalidSettingsError, NameClashError, Problem, Spelling
from constructs_lib.core.settings import replica_rules as replica_rules  # registers the replica's rules
from constructs_lib.core.settings.alarms import AlarmSettings
from constructs_lib.core.settings.app import AppSettings
from constructs_lib.core.settings.auth import AuthSettings, AuthTrust
from constructs_lib.core.settings.bucket import BucketSettings
from constructs_lib.core.settings.clusters import Cluster, ClusterIsolation, ClusterSettings
from constructs_lib.core.settings.guardrails import GuardrailSettings
from constructs_lib.core.settings.key import KeyAdminMode, KeySettings
from constructs_lib.core.settings.model import (
    Declared,
    Rule,
    SettingsType,
    Spec,
    _Settings,
    check,
    is_error,
    render,
    rule,
    setting,
    specs,
    validate,
)
from constructs_lib.core.settings.organization import SINGLE_CLUSTER_AUTH
from constructs_lib.core.settings.readme import DOCUMENTED_GROUPS, documented_groups, readme_table
from constructs_lib.core.settings.replica import ReplicaSettings
from constructs_lib.core.settings.retention import (
    ABORT_INCOMPLETE_UPLOADS_DEFAULT_DAYS,
    ABORT_INCOMPLETE_UPLOADS_FLOOR_DAYS,
    PCI_RETENTION_DAYS,
    ObjectLockMode,
    RetentionSettings,
)
from constructs_lib.core.settings.stack import StackSettings
from constructs_lib.core.settings.storage import StorageSettings
from constructs_lib.core.settings.values import (
    READABLE_STORAGE_CLASSES,
    account_rule,
    alias_rule,
    bucket_name_rule,
    email_rule,
    oidc_provider_rule,
    organization_id_rule,
    prefix_rule,
    region_rule,
    role_arn_rule,
    role_name_rule,
    service_account_rule,
    sns_topic_rule,
    storage_class_rule,
    target_id_rule,
)

__all__ = [
    "ABORT_INCOMPLETE_UPLOADS_DEFAULT_DAYS",
    "ABORT_INCOMPLETE_UPLOADS_FLOOR_DAYS",
    "DOCUMENTED_GROUPS",
    "PCI_RETENTION_DAYS",
    "READABLE_STORAGE_CLASSES",
    "SINGLE_CLUSTER_AUTH",
    "AlarmSettings",
    "AppSettings",
    "AuthSettings",
    "AuthTrust",
    "BucketSettings",
    "Cluster",
    "ClusterIsolation",
    "ClusterSettings",
    "Declared",
    "Environment",
    "GuardrailSettings",
    "InvalidSettingsError",
    "KeyAdminMode",
    "KeySettings",
    "NameClashError",
    "ObjectLockMode",
    "Problem",
    "ReplicaSettings",
    "RetentionSettings",
    "Rule",
    "SettingsType",
    "Spec",
    "Spelling",
    "StackSettings",
    "StorageSettings",
    "_Settings",
    "account_rule",
    "alias_rule",
    "bucket_name_rule",
    "check",
    "documented_groups",
    "email_rule",
    "is_error",
    "oidc_provider_rule",
    "organization_id_rule",
    "prefix_rule",
    "readme_table",
    "region_rule",
    "render",
    "role_arn_rule",
    "role_name_rule",
    "rule",
    "service_account_rule",
    "setting",
    "sns_topic_rule",
    "specs",
    "storage_class_rule",
    "target_id_rule",
    "validate",
]
