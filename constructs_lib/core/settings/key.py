"""The recordings key's settings and the rules that read them (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from constructs_lib.core import arns
from constructs_lib.core.kinds import (
    Bool,
    Choice,
    Days,
    Environment,
    Principal,
    PrincipalInput,
    PrincipalList,
    Text,
    principal_arn,
    principal_arns,
)
from constructs_lib.core.problems import Problem, Spelling, warning
from constructs_lib.core.settings.model import Spec, _Settings, overlap, rule, setting
from constructs_lib.core.settings.values import alias_rule


class KeyAdminMode(StrEnum):
    """What the key administrators named in the key policy may do."""

    #: ``kms:*``, as RFD 42's template: key administrators can also decrypt recordings.
    RFD = "rfd"
    #: Key administration only: no Encrypt, Decrypt, ReEncrypt or GenerateDataKey.
    SEPARATED = "separated"


@dataclass(frozen=True, kw_only=True)
class KeySettings(_Settings):
    """The recordings key and its key policy."""

    heading: ClassVar[str] = "Key"

    key_alias: str | None = setting(
        None,
        Spec(
            "keyAlias",
            Text("string", alias_rule, optional=True),
            "KMS alias of the key; `alias/aws/...` is reserved.",
            default_doc="`alias/teleport-session-recordings` (see Naming)",
        ),
    )
    key_admins: Sequence[PrincipalInput] = setting(
        (),
        Spec(
            "keyAdminArns",
            PrincipalList(),
            'Principals of "Teleport CMK Admin" (from Python also `iam.IRole`/`iam.IUser` objects). The account '
            "root is refused (it would re-enable every IAM administrator). With none, the key is administered "
            "only through CloudFormation (the deploy role): a warning says there is no break-glass administrator.",
            cli="--admin",
            default_doc="none",
        ),
    )
    denied_principals: Sequence[PrincipalInput] = setting(
        (),
        Spec(
            "deniedPrincipalArns",
            PrincipalList(),
            'Explicit `Deny kms:*` ("Deny AdministratorAccess users."); no statement when empty. May not contain a '
            "key admin, a reader, the auth role or the role CloudFormation deploys with (compared without regard "
            "to case, as IAM does).",
            cli="--deny",
            default_doc="none",
        ),
    )
    key_admin_mode: KeyAdminMode | str = setting(
        KeyAdminMode.RFD,
        Spec(
            "keyAdminMode",
            Choice(KeyAdminMode),
            "`rfd`: key admins get `kms:*` as in the RFD. `separated`: key-administration actions only, no "
            "Encrypt/Decrypt/ReEncrypt/GenerateDataKey.",
            cli="--admin-mode",
        ),
    )
    scope_key_to_s3: bool = setting(
        True,
        Spec(
            "scopeKeyToS3",
            Bool(),
            "Limit the auth role's and readers' cryptographic use of the key to S3 (`kms:ViaService`) for this "
            "bucket (`kms:EncryptionContext:aws:s3:arn` = bucket ARN or `bucket/*`). `false` gives the RFD's "
            "literal statement.",
        ),
    )
    key_rotation_days: int = setting(365, Spec("keyRotationDays", Days(90, 2560), "Automatic key rotation period."))
    key_pending_window_days: int = setting(
        30, Spec("keyPendingWindowDays", Days(7, 30), "Waiting period before the key is deleted once scheduled.")
    )
    deploy_role: PrincipalInput | None = setting(
        None,
        Spec(
            "deployRoleArn",
            Principal(("role",)),
            "The role CloudFormation deploys with. It gets key-administration actions (never cryptographic ones) "
            "in the key policy, so that KMS's lockout safety check passes on create and every update. In the "
            "bundled app, setting it also makes the stack deploy with that role (the synthesizer's CloudFormation "
            "execution role): it must trust `cloudformation.amazonaws.com`, and the bootstrap's deploy role must "
            "be allowed to pass it. Required with a synthesizer that names no execution role.",
            cli="--deploy-role",
            default_doc="the bootstrap's CloudFormation execution role "
            "(`cdk-QUALIFIER-cfn-exec-role-ACCOUNT-REGION`; the synthesizer's qualifier is honoured)",
        ),
    )
    readers: Sequence[PrincipalInput] = setting(
        (),
        Spec(
            "readerArns",
            PrincipalList(),
            "Decrypt-only readers (a separate read-only Teleport cluster, auditor tooling): the key policy "
            "names them for `kms:Decrypt` and `kms:DescribeKey` only, through S3 for this bucket; same-account "
            "roles get a managed policy with read-only S3 on the prefix, IAM users and other accounts' readers a "
            "bucket-policy statement (no policy is attached to a user). From Python: "
            "`storage.grant_read_recordings(grantee)`.",
            cli="--reader",
            default_doc="none",
        ),
    )


@rule(KeySettings, "key_admins", "denied_principals")
def _admins_are_not_denied(s: KeySettings, env: Environment) -> Iterator[Problem]:
    yield from overlap(
        "denied_principals",
        principal_arns(s.denied_principals, env),
        "key_admins",
        principal_arns(s.key_admins, env),
        "an explicit deny overrides the admin grant",
    )


@rule(KeySettings, "readers", "denied_principals")
def _readers_are_not_denied(s: KeySettings, env: Environment) -> Iterator[Problem]:
    yield from overlap(
        "denied_principals",
        principal_arns(s.denied_principals, env),
        "readers",
        principal_arns(s.readers, env),
        "an explicit deny would leave the reader unable to decrypt",
    )


@rule(KeySettings, "deploy_role", "denied_principals")
def _deploy_role_is_not_denied(s: KeySettings, env: Environment) -> Iterator[Problem]:
    denied = principal_arns(s.denied_principals, env)
    deploy = principal_arn(s.deploy_role, env)
    if deploy is not None and not env.is_unresolved(deploy):
        yield from overlap(
            "denied_principals",
            denied,
            "deploy_role",
            [deploy],
            "KMS would refuse the policy: it must leave the deploying role able to update it",
        )
    elif deploy is None and env.deploy_role_pattern is not None:
        for arn in denied:
            if re.fullmatch(env.deploy_role_pattern, arn, flags=re.IGNORECASE):
                yield Problem(
                    "denied_principals",
                    arn,
                    "a list without the CloudFormation execution role that deploys the stack (KMS would refuse a key "
                    "policy that denies the role updating it)",
                )


@rule(KeySettings, "deploy_role")
def _deploy_role_is_known(s: KeySettings, env: Environment) -> Iterator[Problem]:
    if s.deploy_role is None and env.deploy_role_unknown:
        yield Problem(
            "deploy_role",
            None,
            f"the ARN of the role that deploys the stack: {env.deploy_role_unknown} (KMS refuses a key policy that "
            "would lock that role out)",
        )


@rule(KeySettings, "region")
def _region_in_the_endpoint_data(s: KeySettings, env: Environment) -> Iterator[Problem]:
    """A region the endpoint data does not know (newer than it, or a typo the stack itself was given) is said.

    The ``region`` setting refuses typos; a region newer than the data passes it, and the key policy
    (``kms:ViaService``) and the storage URI are built from it: never silently.
    """
    if env.region is None or arns.is_known_region(env.region):
        return
    data = arns.region_data()
    known = f"not a region of {data.source}'s endpoint data" if data else "not checked (botocore's data was not found)"
    yield warning(
        "region",
        env.region,
        f"{known}: kms:ViaService names s3.{env.region}.amazonaws.com and the storage URI this region; right for a "
        "region newer than the data (upgrade botocore to see it there), wrong for a typo",
        code="teleport-recordings:regionNotInEndpointData",
    )


@rule(KeySettings, "key_admins")
def _break_glass_admin(s: KeySettings, env: Environment) -> Iterator[Problem]:
    """Only the deploy role manages a key without admins; ``recordings-kms policy`` (no deploy role) says its own."""
    if not s.key_admins and s.spelling is not Spelling.CLI:
        yield warning(
            "key_admins",
            s.key_admins,
            "no key administrator: only the role CloudFormation deploys with can change the key policy. If that role "
            "changes (deployRoleArn, or a re-bootstrap after the bootstrap stack was deleted), nobody can update or "
            "administer the key any more; name a break-glass key administrator (README: Key administration)",
            code="teleport-recordings:noKeyAdmin",
        )
