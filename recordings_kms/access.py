"""The prover's inputs for ``verify`` and ``prove``: the design, and the evidence as AWS returns it (pure).

The design (who may decrypt, who administers the key, who deploys) comes from the stack's
``AccessDesign`` output or from options made by the settings model; the key, bucket and region come
from KMS (``verify``) or the command line (``prove``). The evidence is what ``GetKeyPolicy``,
``GetBucketPolicy`` and ``ListGrants`` return, live or saved in files: both the API response shape
(the policy as a JSON string under ``Policy``, the grants under ``Grants``) and the bare
document or list are accepted, so that ``aws kms get-key-policy > file`` works as it is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from constructs_lib.core import arns
from constructs_lib.core.kinds import principal_arn, principal_arns
from constructs_lib.core.prover import Design
from constructs_lib.core.prover.parse import load_json
from constructs_lib.core.settings import AppSettings, KeyAdminMode


class InputError(ValueError):
    """Input the command cannot use (a malformed stack output, file or option): one line, exit code 2."""


@dataclass(frozen=True)
class DesignParameters:
    """Who the design lets do what, before the key and the bucket are known.

    ``deploy_role_arn`` is the role the key policy was written for (CloudFormation's execution role):
    P1-P6 judge the live policies against it. The role that will deploy the *next* update may differ;
    ``verify`` asks about that one separately (``deploy.put-key-policy``).
    """

    auth_role_arn: str
    reader_arns: tuple[str, ...] = ()
    admin_arns: tuple[str, ...] = ()
    admin_mode: str = KeyAdminMode.RFD.value
    deploy_role_arn: str | None = None
    scope_key_to_s3: bool = True
    prefix: str = "records"

    def design(self, *, key_arn: str, bucket: str, sse_kms_key: str | None = None) -> Design:
        """The prover's design for this key and bucket: account, region and partition are the key's.

        S3 can only use a key of the bucket's own region, so the key's region is the bucket's.
        """
        parsed = arns.parse_key_arn(key_arn)
        if parsed is None:
            raise InputError(f"{key_arn!r} is not a KMS key ARN (arn:PARTITION:kms:REGION:ACCOUNT:key/KEY_ID)")
        arn, key_id = parsed
        return Design(
            account=arn.account,
            region=arn.region,
            partition=arn.partition,
            key_arn=key_arn,
            key_id=key_id,
            bucket_name=bucket,
            auth_role_arn=self.auth_role_arn,
            prefix=self.prefix,
            reader_arns=self.reader_arns,
            admin_arns=self.admin_arns,
            admin_mode=self.admin_mode,
            deploy_role_arn=self.deploy_role_arn,
            scope_key_to_s3=self.scope_key_to_s3,
            sse_kms_key=sse_kms_key,
        )


def _principal(value: Any, what: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    principal = arns.parse_iam_principal(value) if isinstance(value, str) else None
    if principal is None or principal.kind == "root":
        raise InputError(f"{what} must be an IAM role or user ARN, got {json.dumps(value)}")
    return principal.arn


def _principals(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise InputError(f"{what} must be a list of IAM role or user ARNs, got {json.dumps(value)}")
    return tuple(str(_principal(v, what)) for v in value)


def json_object(text: str, *, source: str) -> Mapping[str, Any]:
    """A stack output or file holding a JSON object; ``InputError`` naming ``source`` otherwise."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{source} is not JSON ({error.msg})") from None
    if not isinstance(document, Mapping):
        raise InputError(f"{source} is not a JSON object")
    return document


def parameters_from_access_design(text: str, *, source: str) -> DesignParameters:
    """The design a ``SessionRecordingsStorage`` stack published as its ``AccessDesign`` output (JSON)."""
    document = json_object(text, source=source)
    missing = [k for k in ("authPrincipalArn", "adminMode", "scopeKeyToS3", "prefix") if k not in document]
    if missing:
        raise InputError(f"{source} has no {', '.join(missing)}")
    mode = document["adminMode"]
    if mode not in (m.value for m in KeyAdminMode):
        raise InputError(f"{source}: adminMode must be rfd or separated, got {json.dumps(mode)}")
    if not isinstance(document["scopeKeyToS3"], bool):
        raise InputError(f"{source}: scopeKeyToS3 must be true or false, got {json.dumps(document['scopeKeyToS3'])}")
    prefix = document["prefix"]
    if not isinstance(prefix, str):
        raise InputError(f"{source}: prefix must be a string, got {json.dumps(prefix)}")
    return DesignParameters(
        auth_role_arn=str(_principal(document["authPrincipalArn"], f"{source}: authPrincipalArn")),
        reader_arns=_principals(document.get("readers", []), f"{source}: readers"),
        admin_arns=_principals(document.get("admins", []), f"{source}: admins"),
        admin_mode=str(mode),
        deploy_role_arn=_principal(document.get("deployRole"), f"{source}: deployRole", optional=True),
        scope_key_to_s3=document["scopeKeyToS3"],
        prefix=prefix,
    )


#: The settings the design options stand for (``--auth``, ``--reader``, ``--admin``, ...).
DESIGN_SETTINGS = ("auth_role", "readers", "key_admins", "key_admin_mode", "deploy_role", "recordings_prefix")


def parameters_from_settings(settings: AppSettings) -> DesignParameters:
    """The design the options describe; ``settings`` must have passed the settings model's checks.

    ``scopeKeyToS3`` has no option: the options describe the package's default, a key scoped to S3.
    """
    env = settings.environment()
    auth = principal_arn(settings.auth_role, env)
    if auth is None:
        raise InputError("'--auth' must be set: the IAM role or user of the Teleport auth service")
    return DesignParameters(
        auth_role_arn=auth,
        reader_arns=tuple(principal_arns(settings.readers, env)),
        admin_arns=tuple(principal_arns(settings.key_admins, env)),
        admin_mode=KeyAdminMode(settings.key_admin_mode).value,
        deploy_role_arn=principal_arn(settings.deploy_role, env),
        scope_key_to_s3=settings.scope_key_to_s3,
        prefix=settings.recordings_prefix,
    )


# --- evidence as AWS returns it ---------------------------------------------------------------------


def policy_document(value: Any, what: str) -> dict[str, Any]:
    """A policy from a ``GetKeyPolicy``/``GetBucketPolicy`` response (``{"Policy": "<JSON>"}``) or bare.

    Only the shape is checked here; the prover judges the statements (``PolicyFormatError``).
    """
    if isinstance(value, Mapping) and "Policy" in value and "Statement" not in value:
        value = value["Policy"]
        if isinstance(value, str):
            try:
                value = load_json(value)
            except json.JSONDecodeError as error:
                raise InputError(f"{what}: its Policy string is not JSON ({error.msg})") from None
    if not isinstance(value, Mapping):
        raise InputError(f"{what} is neither a policy document nor a response with a Policy")
    # A JsonObject keeps the duplicate keys it was read with, for the prover to refuse.
    return value if isinstance(value, dict) else dict(value)


def grant_list(value: Any, what: str) -> list[Mapping[str, Any]]:
    """The grants of a ``ListGrants`` response (``{"Grants": [...]}``) or a bare list of them.

    A response that says more pages follow (``"Truncated": true``, or a ``NextMarker``) holds only some
    of the grants: proving on it would ignore the rest, so it is refused.
    """
    if isinstance(value, Mapping) and "Grants" in value:
        if value.get("Truncated") is True or value.get("NextMarker"):
            raise InputError(
                f"{what} is one page of ListGrants (Truncated: true): save every page, as "
                "'aws kms list-grants --key-id KEY' does when it is left to paginate"
            )
        value = value["Grants"]
    if not isinstance(value, list) or not all(isinstance(g, Mapping) for g in value):
        raise InputError(f"{what} is neither a list of grants nor a ListGrants response with Grants")
    return list(value)
