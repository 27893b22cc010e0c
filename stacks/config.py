"""The stack's settings: parsed from CDK context (``cdk.json`` and ``cdk synth -c name=value``).

``RecordingsConfig.from_context`` turns the raw context into one typed, validated object and
reports every problem at once, naming the context setting, the value and what is allowed.
Other CDK apps can build a ``RecordingsConfig`` directly in Python instead.
"""

from __future__ import annotations

import difflib
import inspect
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from constructs_lib.auth_role import DEFAULT_SERVICE_ACCOUNT, AuthTrust
from constructs_lib.core.policies import KeyAdminMode
from constructs_lib.core.validation import InvalidSettingsError, Problem, check_bucket_name, labelled
from constructs_lib.key import DEFAULT_KEY_ALIAS, DEFAULT_PENDING_WINDOW_DAYS, DEFAULT_ROTATION_DAYS
from constructs_lib.storage import DEFAULT_RECORDINGS_PREFIX, check_storage_settings


@dataclass(frozen=True)
class RecordingsConfig:
    """Every setting of the session recordings stack, typed. Defaults make a deployable stack."""

    bucket_name: str | None = None
    recordings_prefix: str = DEFAULT_RECORDINGS_PREFIX
    key_alias: str = DEFAULT_KEY_ALIAS
    key_admin_arns: tuple[str, ...] = ()
    denied_principal_arns: tuple[str, ...] = ()
    key_admin_mode: KeyAdminMode = KeyAdminMode.RFD
    scope_key_to_s3: bool = True
    require_encryption_headers: bool = False
    key_rotation_days: int = DEFAULT_ROTATION_DAYS
    key_pending_window_days: int = DEFAULT_PENDING_WINDOW_DAYS
    auth_trust: AuthTrust = AuthTrust.EC2
    auth_principal_arn: str | None = None
    oidc_provider_arn: str | None = None
    service_account: str = DEFAULT_SERVICE_ACCOUNT
    existing_auth_role_arn: str | None = None
    access_logs_bucket_name: str | None = None
    deploy_role_arn: str | None = None
    #: Context names that were given explicitly (used to reject settings that would be ignored).
    given: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def problems(self) -> list[Problem]:
        """Every semantic problem of this configuration (types are the parser's job)."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name in _STORAGE_SETTINGS}
        problems = check_storage_settings(**values)
        if self.access_logs_bucket_name is not None:
            problems += check_bucket_name("access_logs_bucket_name", self.access_logs_bucket_name)
            if self.access_logs_bucket_name == self.bucket_name:
                problems.append(
                    Problem("access_logs_bucket_name", self.access_logs_bucket_name, "a bucket other than bucketName")
                )
        if self.existing_auth_role_arn is not None:
            for setting in ("auth_trust", "auth_principal_arn", "oidc_provider_arn", "service_account"):
                if CONTEXT_NAMES[setting] in self.given:
                    problems.append(
                        Problem(
                            setting,
                            getattr(self, setting),
                            "unset when existingAuthRoleArn is set (the existing role's trust is not managed here)",
                        )
                    )
        return problems

    def validate(self) -> RecordingsConfig:
        """Raise one ``InvalidSettingsError`` naming every problem, in context-setting names."""
        problems = self.problems()
        if problems:
            raise InvalidSettingsError(problems, label=context_label)
        return self

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> RecordingsConfig:
        """Parse and validate the settings among a CDK app's context; all problems are raised together."""
        problems: list[Problem] = []
        values: dict[str, Any] = {}
        for name, value in context.items():
            setting = SETTINGS_BY_CONTEXT_NAME.get(name)
            if setting is None:
                if _looks_like_setting(name):
                    close = [SETTINGS_BY_FOLDED_NAME[_fold(name)]] if _fold(name) in SETTINGS_BY_FOLDED_NAME else []
                    close = close or difflib.get_close_matches(name, SETTINGS_BY_CONTEXT_NAME, n=1, cutoff=0.6)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    problems.append(
                        Problem(
                            name, value, f"a known setting{hint}: " + ", ".join(SETTINGS_BY_CONTEXT_NAME), verbatim=True
                        )
                    )
                continue
            parsed = _PARSERS[setting](setting, value, problems)
            if parsed is not _INVALID and parsed is not None:
                values[setting] = parsed
        if problems:
            # Report parse problems together with the semantic problems of what did parse.
            partial = cls(**values, given=frozenset(_given(context)))
            raise InvalidSettingsError(problems + partial.problems(), label=context_label)
        return cls(**values, given=frozenset(_given(context))).validate()


#: The settings the storage construct judges; the others (log bucket name, ``given``) are judged here.
_STORAGE_SETTINGS = frozenset(inspect.signature(check_storage_settings).parameters)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.upper() if part == "s3" else part.capitalize() for part in rest)


#: Python field name -> CDK context name, e.g. ``scope_key_to_s3`` -> ``scopeKeyToS3``.
CONTEXT_NAMES = {f.name: _camel(f.name) for f in fields(RecordingsConfig) if f.name != "given"}
SETTINGS_BY_CONTEXT_NAME = {context: setting for setting, context in CONTEXT_NAMES.items()}
context_label = labelled(CONTEXT_NAMES)


def _given(context: Mapping[str, Any]) -> set[str]:
    return {name for name in context if name in SETTINGS_BY_CONTEXT_NAME}


def _fold(name: str) -> str:
    return re.sub(r"[-_]", "", name).lower()


#: ``bucket_name``, ``BucketName`` and ``bucket-name`` all fold to the same key as ``bucketName``.
SETTINGS_BY_FOLDED_NAME = {_fold(context): context for context in SETTINGS_BY_CONTEXT_NAME}


def _looks_like_setting(name: str) -> bool:
    """A plain camelCase word (CDK's own context keys contain ':' or '@'), or a spelling of one of ours."""
    return re.fullmatch(r"[a-z][A-Za-z0-9]*", name) is not None or _fold(name) in SETTINGS_BY_FOLDED_NAME


_INVALID = object()
Parser = Callable[[str, Any, list[Problem]], Any]


def _parse_str(setting: str, value: Any, problems: list[Problem]) -> Any:
    if isinstance(value, str):
        return value.strip()
    problems.append(Problem(setting, value, "a string"))
    return _INVALID


def _parse_optional_str(setting: str, value: Any, problems: list[Problem]) -> Any:
    parsed = _parse_str(setting, value, problems)
    return None if parsed == "" else parsed


def _parse_bool(setting: str, value: Any, problems: list[Problem]) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    problems.append(Problem(setting, value, "true or false"))
    return _INVALID


def _parse_int(setting: str, value: Any, problems: list[Problem]) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*[0-9]+\s*", value):
        return int(value)
    problems.append(Problem(setting, value, "a whole number"))
    return _INVALID


def _parse_list(setting: str, value: Any, problems: list[Problem]) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                problems.append(Problem(setting, value, "a JSON array of strings or a comma-separated list"))
                return _INVALID
        else:
            return tuple(item.strip() for item in text.split(",") if item.strip())
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(item.strip() for item in value if item.strip())
    problems.append(Problem(setting, value, "a JSON array of strings or a comma-separated list"))
    return _INVALID


def _enum_parser(choices: type[KeyAdminMode] | type[AuthTrust]) -> Parser:
    def parse(setting: str, value: Any, problems: list[Problem]) -> Any:
        allowed = [c.value for c in choices]
        if isinstance(value, str) and value.strip() in allowed:
            return choices(value.strip())
        problems.append(Problem(setting, value, "one of " + ", ".join(repr(c) for c in allowed)))
        return _INVALID

    return parse


_PARSERS: dict[str, Parser] = {
    "bucket_name": _parse_optional_str,
    "recordings_prefix": _parse_str,
    "key_alias": _parse_str,
    "key_admin_arns": _parse_list,
    "denied_principal_arns": _parse_list,
    "key_admin_mode": _enum_parser(KeyAdminMode),
    "scope_key_to_s3": _parse_bool,
    "require_encryption_headers": _parse_bool,
    "key_rotation_days": _parse_int,
    "key_pending_window_days": _parse_int,
    "auth_trust": _enum_parser(AuthTrust),
    "auth_principal_arn": _parse_optional_str,
    "oidc_provider_arn": _parse_optional_str,
    "service_account": _parse_str,
    "existing_auth_role_arn": _parse_optional_str,
    "access_logs_bucket_name": _parse_optional_str,
    "deploy_role_arn": _parse_optional_str,
}
