"""Every setting of the package, declared once: the settings model (pure; no CDK, no boto3).

Each setting is a field of a frozen dataclass, grouped by concern (:class:`BucketSettings`,
:class:`KeySettings`, :class:`AuthSettings`; :class:`StorageSettings` is all of them, the settings of
one ``SessionRecordingsStorage``; :class:`AppSettings` adds what the bundled app decides, such as its
account and region). The field's metadata holds its ``cdk.json`` context name, its
``recordings-kms`` option where one exists, its kind (type, parsing, allowed values) and its
documentation line, from which the README's settings table is generated.

Validation lives here too, as one set of rules: :func:`check` returns every problem of a
configuration at once and :func:`validate` raises them as one :class:`InvalidSettingsError`, worded
in the spelling the settings were made with (Python keywords, context names or CLI options).
The constructs, the app (``AppSettings.from_context``) and the ``recordings-kms`` command all call it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

from constructs_lib.core import arns
from constructs_lib.core.kinds import (
    EMPTY_ITEM,
    EMPTY_VALUE,
    Bool,
    Bucket,
    BucketObject,
    Choice,
    Days,
    Environment,
    Kind,
    KindError,
    Principal,
    PrincipalInput,
    PrincipalList,
    Text,
    TextList,
    is_empty,
    principal_arn,
    principal_arns,
    principal_kind,
)
from constructs_lib.core.problems import (
    InvalidSettingsError,
    Label,
    NameClashError,
    Problem,
    Severity,
    Spelling,
    errors,
    folded,
    hint,
    warning,
    warnings,
)

__all__ = [
    "AppSettings",
    "AuthSettings",
    "AuthTrust",
    "BucketSettings",
    "Environment",
    "InvalidSettingsError",
    "KeyAdminMode",
    "KeySettings",
    "NameClashError",
    "Problem",
    "Spec",
    "Spelling",
    "StorageSettings",
    "check",
    "specs",
    "validate",
]


class KeyAdminMode(StrEnum):
    """What the key administrators named in the key policy may do."""

    #: ``kms:*``, as RFD 42's template: key administrators can also decrypt recordings.
    RFD = "rfd"
    #: Key administration only: no Encrypt, Decrypt, ReEncrypt or GenerateDataKey.
    SEPARATED = "separated"


class AuthTrust(StrEnum):
    """Who may assume the auth role the construct creates."""

    #: EC2 instances, through an instance profile.
    EC2 = "ec2"
    #: An EKS service account through IAM Roles for Service Accounts (an OIDC provider).
    IRSA = "irsa"
    #: An EKS service account through EKS Pod Identity.
    POD_IDENTITY = "pod-identity"
    #: A given IAM principal ARN.
    PRINCIPAL = "principal"


class ObjectLockMode(StrEnum):
    """S3 Object Lock default retention of new recording versions."""

    #: No Object Lock.
    NONE = "none"
    #: Versions cannot be deleted or overwritten before the retention ends, except by principals
    #: allowed s3:BypassGovernanceRetention who send the bypass header.
    GOVERNANCE = "governance"
    #: Nobody, the account root included, can delete a version or shorten its retention.
    COMPLIANCE = "compliance"


#: Storage classes Teleport can play back without a restore (GetObject works at once).
READABLE_STORAGE_CLASSES = ("STANDARD_IA", "INTELLIGENT_TIERING", "GLACIER_IR")
#: Why other classes are refused.
_REFUSED_STORAGE_CLASSES = {
    "GLACIER": "Glacier Flexible Retrieval answers GetObject with InvalidObjectState until restored: playback fails",
    "DEEP_ARCHIVE": "Glacier Deep Archive answers GetObject with InvalidObjectState until restored: playback fails",
    "ONEZONE_IA": "One Zone-IA keeps one copy in one Availability Zone: losing the zone loses recordings",
}
#: Teleport's upload completer finishes an abandoned upload only after a 24 h grace period from its last
#: part (lib/events/auditlog.go UploadCompleterGracePeriod), after its session tracker (30 min TTL) expired,
#: scanning every 5 minutes; S3 applies lifecycle rules in whole days. Below this, an upload Teleport would
#: still complete can be destroyed.
ABORT_INCOMPLETE_UPLOADS_FLOOR_DAYS = 3
#: A sync-mode streaming upload stays open for the whole session and Teleport caps no session's length:
#: the default leaves a month, far above the floor.
ABORT_INCOMPLETE_UPLOADS_DEFAULT_DAYS = 30
#: PCI DSS v4.0.1 10.5.1: audit log history is kept at least 12 months.
PCI_RETENTION_DAYS = 365


# --- value rules (each returns what is allowed when the value is wrong, else None) -------------------

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", re.ASCII)
_IPV4 = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}", re.ASCII)
_BUCKET_FORBIDDEN_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_FORBIDDEN_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_PREFIX = re.compile(r"[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*", re.ASCII)
_ALIAS = re.compile(r"alias/[A-Za-z0-9/_-]{1,250}", re.ASCII)
_SERVICE_ACCOUNT = re.compile(r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?:[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?", re.ASCII)


def bucket_name_rule(value: str) -> str | None:
    """The S3 general purpose bucket naming rules."""
    bad = (
        _BUCKET.fullmatch(value) is None
        or ".." in value
        or ".-" in value
        or "-." in value
        or _IPV4.fullmatch(value) is not None
        or value.startswith(_BUCKET_FORBIDDEN_PREFIXES)
        or value.endswith(_BUCKET_FORBIDDEN_SUFFIXES)
    )
    if not bad:
        return None
    return (
        "a valid S3 bucket name: 3-63 characters of a-z 0-9 . -, starting and ending with a letter or digit, "
        "no '..', not an IP address, not starting with xn-- sthree- amzn-s3-demo- and not ending with "
        "-s3alias --ol-s3 .mrap --x-s3 --table-s3"
    )


def prefix_rule(value: str) -> str | None:
    if value.startswith("/"):
        return 'a key prefix without a leading slash, like "records"'
    if len(value) > 512 or _PREFIX.fullmatch(value) is None:
        return (
            "1-512 characters of A-Z a-z 0-9 . _ - in '/'-separated segments, with no leading, trailing or "
            "double slash (wildcards are refused because the prefix becomes part of IAM resource ARNs)"
        )
    if any(segment in (".", "..") for segment in value.split("/")):
        return "a key prefix without '.' or '..' segments"
    return None


def alias_rule(value: str) -> str | None:
    if value.startswith("alias/aws/"):
        return "an alias outside the reserved 'alias/aws/' namespace"
    if _ALIAS.fullmatch(value) is None:
        return "'alias/' followed by 1-250 of A-Z a-z 0-9 / _ -"
    return None


def service_account_rule(value: str) -> str | None:
    if _SERVICE_ACCOUNT.fullmatch(value):
        return None
    return "'NAMESPACE:SERVICEACCOUNT' with Kubernetes DNS-label names, like teleport:teleport"


def oidc_provider_rule(value: str) -> str | None:
    if arns.parse_oidc_provider(value) is not None:
        return None
    arn = arns.parse_arn(value)
    hint = ""
    if arn is not None:
        kind = arn.resource.split("/", 1)[0]
        hint = f" (this is an ARN of kind {arn.service}:{kind})"
    return (
        "an IAM OIDC provider ARN like arn:aws:iam::123456789012:oidc-provider/oidc.eks.REGION.amazonaws.com/id/ID"
        + hint
    )


def role_arn_rule(value: str) -> str | None:
    principal = arns.parse_iam_principal(value)
    if principal is not None and principal.kind == "role":
        return None
    why = arns.why_not_iam_principal(value, ("role",)) if principal is None else f"this is an IAM {principal.kind} ARN"
    return "an IAM role ARN like arn:aws:iam::123456789012:role/NAME" + (f" ({why})" if why else "")


def storage_class_rule(value: str) -> str | None:
    if value in READABLE_STORAGE_CLASSES:
        return None
    why = _REFUSED_STORAGE_CLASSES.get(value.upper())
    listed = ", ".join(f'"{c}"' for c in READABLE_STORAGE_CLASSES)
    allowed = f"one of {listed}{hint(value, READABLE_STORAGE_CLASSES)} (classes Teleport reads at once)"
    return f"{allowed}; {why}" if why else allowed


_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", re.ASCII)
_TARGET_ID = re.compile(r"r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|[0-9]{12}", re.ASCII)
_ORGANIZATION_ID = re.compile(r"o-[a-z0-9]{10,32}", re.ASCII)


def email_rule(value: str) -> str | None:
    return None if _EMAIL.fullmatch(value) else "an email address like security@example.com"


def target_id_rule(value: str) -> str | None:
    if _TARGET_ID.fullmatch(value):
        return None
    return "an organization root id (r-...), an OU id (ou-...-...) or a 12-digit account id"


def organization_id_rule(value: str) -> str | None:
    return None if _ORGANIZATION_ID.fullmatch(value) else "an AWS Organizations id like o-a1b2c3d4e5"


def sns_topic_rule(value: str) -> str | None:
    arn = arns.parse_arn(value)
    if (
        arn is not None
        and arn.partition in arns.PARTITIONS
        and arn.service == "sns"
        and arns.is_region(arn.region)
        and arns.is_account(arn.account)
        and re.fullmatch(r"[A-Za-z0-9_-]{1,256}(?:\.fifo)?", arn.resource, re.ASCII)
    ):
        return None
    return "an SNS topic ARN like arn:aws:sns:eu-west-1:123456789012:security-alarms"


def role_name_rule(value: str) -> str | None:
    return None if arns.IAM_NAME.fullmatch(value) else "an IAM role name: 1-64 of A-Z a-z 0-9 +=,.@_-"


def region_rule(value: str) -> str | None:
    """A region botocore's endpoint data names, or one its partitions could add (see ``arns.unlike_a_region``)."""
    why = arns.unlike_a_region(value)
    if why is None:
        return None
    data = arns.region_data()
    return f"an AWS region name like eu-west-1{hint(value, data.regions if data else ())}: {why}"


def account_rule(value: str) -> str | None:
    return None if arns.is_account(value) else "a 12-digit AWS account id"


# --- declaring settings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """How one setting is named, typed and documented outside Python."""

    #: The ``cdk.json`` / ``cdk synth -c`` name.
    context: str
    kind: Kind
    #: One line for the README and ``--help``: what the setting does and why.
    doc: str
    #: The ``recordings-kms`` option, where a command takes this setting.
    cli: str | None = None
    #: The default as behaviour, when the Python default (often ``None``) does not say it.
    default_doc: str | None = None


def setting(default: Any, spec: Spec) -> Any:
    """A dataclass field carrying its :class:`Spec`."""
    return field(default=default, metadata={"spec": spec})


@dataclass(frozen=True)
class Declared:
    """A setting as the model declares it: its Python name, default and :class:`Spec`."""

    name: str
    default: Any
    spec: Spec

    @property
    def context(self) -> str:
        return self.spec.context

    def label(self, spelling: Spelling) -> str:
        if spelling is Spelling.CONTEXT:
            return self.spec.context
        if spelling is Spelling.CLI:
            return self.spec.cli or self.spec.context
        return self.name


def specs(group: type[_Settings] | _Settings) -> list[Declared]:
    """The declared settings of a group, in declaration order."""
    return [Declared(f.name, f.default, f.metadata["spec"]) for f in dataclasses.fields(group) if "spec" in f.metadata]


@dataclass(frozen=True, kw_only=True)
class _Settings:
    """What every group shares: how the values were spelled, and what failed to parse."""

    _spelling: Spelling = field(default=Spelling.PYTHON, init=False, compare=False, repr=False)
    _parse_problems: tuple[Problem, ...] = field(default=(), init=False, compare=False, repr=False)
    #: Settings the caller gave explicitly (context and CLI); Python callers: those differing from defaults.
    _given: frozenset[str] = field(default=frozenset(), init=False, compare=False, repr=False)
    #: Where each value came from, for messages (``{"region": "CDK_DEFAULT_REGION"}``).
    _sources: tuple[tuple[str, str], ...] = field(default=(), init=False, compare=False, repr=False)
    #: Set once :func:`validate` accepted these settings with ``remember=True`` (constructs validate once).
    _validated: bool = field(default=False, init=False, compare=False, repr=False)

    _PRIVATE: ClassVar[tuple[str, ...]] = ("_spelling", "_parse_problems", "_given", "_sources")

    def __post_init__(self) -> None:
        for declared in specs(self):
            value = getattr(self, declared.name)
            object.__setattr__(self, declared.name, declared.spec.kind.normalize(value))

    @property
    def spelling(self) -> Spelling:
        return self._spelling

    @property
    def sources(self) -> dict[str, str]:
        return dict(self._sources)

    def given(self, name: str) -> bool:
        """Whether the caller set ``name`` (explicitly in context/CLI; away from the default in Python)."""
        if self._spelling is Spelling.PYTHON:
            declared = next(d for d in specs(self) if d.name == name)
            return bool(getattr(self, name) != declared.default)
        return name in self._given

    def replaced(self: SettingsType, *, still_valid: bool = False, **changes: Any) -> SettingsType:
        """A copy with ``changes``, keeping how the settings were spelled (and what failed to parse).

        ``still_valid``: the changes are the package's own resolved defaults (a derived bucket name),
        so a copy of validated settings needs no second validation.
        """
        made = dataclasses.replace(self, **changes)
        for name in self._PRIVATE:
            object.__setattr__(made, name, getattr(self, name))
        object.__setattr__(made, "_validated", still_valid and self._validated)
        return made

    def label(self) -> Label:
        names = {d.name: d.label(self._spelling) for d in specs(self)}
        return lambda name: names.get(name, name)

    # -- constructing from text ---------------------------------------------------------------------

    @classmethod
    def from_context(
        cls: type[SettingsType], context: Mapping[str, Any], *, environ: Mapping[str, str] | None = None
    ) -> SettingsType:
        """Settings from CDK context (``cdk.json`` and ``-c name=value``); never raises.

        Values that do not parse are left at their defaults and reported by :func:`check`, together
        with every other problem. Unknown camelCase names are reported as typos. ``environ``
        supplies defaults that come from the environment (the CDK CLI's ``CDK_DEFAULT_ACCOUNT``
        and ``CDK_DEFAULT_REGION``), for the groups that have such settings.
        """
        declared = {d.context: d for d in specs(cls)}
        values: dict[str, Any] = {}
        problems: list[Problem] = []
        for name, raw in context.items():
            found = declared.get(name)
            if found is None:
                problems += _unknown_name(name, raw, declared)
                continue
            parsed = _parsed(found, raw)
            if isinstance(parsed, Problem):
                problems.append(parsed)
            else:
                values[found.name] = parsed
        sources = dict.fromkeys(values, "context (cdk.json or -c)")
        given = {declared[name].name for name in context if name in declared}
        for name, (variable, value) in cls._environment_defaults(environ or {}).items():
            if name not in given and value:  # a value given but refused never falls back to the environment
                values[name] = value
                sources[name] = variable
        return cls._made(values, Spelling.CONTEXT, problems, frozenset(values), sources)

    @classmethod
    def from_options(cls: type[SettingsType], options: Mapping[str, Any]) -> SettingsType:
        """Settings from ``recordings-kms`` options, keyed by Python name (argparse ``dest``)."""
        declared = {d.name: d for d in specs(cls)}
        values: dict[str, Any] = {}
        problems: list[Problem] = []
        for name, raw in options.items():
            if raw is None or raw == []:
                continue
            parsed = _parsed(declared[name], list(raw) if isinstance(raw, tuple) else raw)
            if isinstance(parsed, Problem):
                problems.append(parsed)
            else:
                values[name] = parsed
        return cls._made(values, Spelling.CLI, problems, frozenset(values), {})

    @classmethod
    def _environment_defaults(cls, environ: Mapping[str, str]) -> dict[str, tuple[str, str | None]]:
        return {}

    @classmethod
    def _made(
        cls: type[SettingsType],
        values: dict[str, Any],
        spelling: Spelling,
        problems: list[Problem],
        given: frozenset[str],
        sources: Mapping[str, str],
    ) -> SettingsType:
        made = cls(**{k: v for k, v in values.items() if v is not None})
        object.__setattr__(made, "_spelling", spelling)
        object.__setattr__(made, "_parse_problems", tuple(problems))
        object.__setattr__(made, "_given", given)
        object.__setattr__(made, "_sources", tuple(sorted(sources.items())))
        return made


SettingsType = TypeVar("SettingsType", bound=_Settings)


def _parsed(declared: Declared, raw: object) -> object:
    """A context or option value parsed by its kind, or the :class:`Problem` that stops it.

    One rule for every setting: an empty value is refused (it is never "unset": ``-c account=$ACCOUNT``
    with ``ACCOUNT`` unset must not quietly give an account-agnostic template); leave a setting out
    for its default.
    """
    if is_empty(raw):
        return Problem(declared.name, raw, EMPTY_VALUE)
    try:
        return declared.spec.kind.parse(raw)
    except KindError as error:
        return Problem(declared.name, raw, str(error))


def _looks_like_setting(name: str, declared: Mapping[str, Declared]) -> bool:
    """A plain camelCase word (CDK's own context keys hold ':' or '@'), or a spelling of one of ours
    (another case, dashes, underscores, an invisible character)."""
    return re.fullmatch(r"[a-z][A-Za-z0-9]*", name) is not None or folded(name) in {folded(c) for c in declared}


def _unknown_name(name: str, raw: object, declared: Mapping[str, Declared]) -> list[Problem]:
    if not _looks_like_setting(name, declared):
        return []
    meant = hint(name, declared)
    allowed = f"a known setting{meant}" if meant else "a known setting: " + ", ".join(declared)
    return [Problem(name, raw, allowed, verbatim=True)]


# --- the settings ---------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class BucketSettings(_Settings):
    """The recordings bucket."""

    bucket_name: str | None = setting(
        None,
        Spec(
            "bucketName",
            Text("bucket name", bucket_name_rule, optional=True),
            "Recordings bucket name (S3 naming rules).",
            cli="--bucket",
            default_doc="`teleport-recordings-ACCOUNT-REGION` (see Naming)",
        ),
    )
    recordings_prefix: str = setting(
        "records",
        Spec(
            "recordingsPrefix",
            Text("string", prefix_rule),
            "Key prefix Teleport writes under; no leading/trailing slash, no wildcards. Scopes the auth role's "
            "object permissions and the readers'.",
            cli="--prefix",
        ),
    )
    require_encryption_headers: bool = setting(
        False,
        Spec(
            "requireEncryptionHeaders",
            Bool(),
            "Strict mode: also deny puts without an encryption header (see the multipart caveat).",
            cli="--strict",
        ),
    )
    access_logs_bucket: str | BucketObject | None = setting(
        None,
        Spec(
            "accessLogsBucketName",
            Bucket(bucket_name_rule),
            "Send S3 server access logs to this existing bucket (a name; from Python also an `s3.IBucket`) instead "
            "of creating one (see Existing access-log bucket).",
            default_doc="a new SSE-S3 bucket",
        ),
    )


@dataclass(frozen=True, kw_only=True)
class KeySettings(_Settings):
    """The recordings key and its key policy."""

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
            "readers get a managed policy with read-only S3 on the prefix, other accounts' readers a bucket-policy "
            "statement. From Python: `storage.grant_read_recordings(grantee)`.",
            cli="--reader",
            default_doc="none",
        ),
    )


@dataclass(frozen=True, kw_only=True)
class AuthSettings(_Settings):
    """The Teleport auth service's principal."""

    auth_role: PrincipalInput | None = setting(
        None,
        Spec(
            "existingAuthRoleArn",
            Principal(("role", "user"), doc="IAM role ARN (`recordings-kms`: or user)"),
            "Use this existing role in the stack's account instead of creating one: the key policy names it and the "
            "S3 managed policy is attached to it. The trust settings must then be unset. An IAM user is refused "
            "(long-lived access keys, policies attached to a user, no guardrails): let the user assume the created "
            "role instead (`authTrust=principal`, `authPrincipalArn` = the user). `recordings-kms --auth` also "
            "takes a user, to judge or print the policies of an RFD 42 deployment that uses one.",
            cli="--auth",
            default_doc="a new role (see `authTrust`)",
        ),
    )
    auth_role_name: str | None = setting(
        None,
        Spec(
            "authRoleName",
            Text("IAM role name", role_name_rule, optional=True),
            "The name of the created auth role. The organization guardrails name the role in the management "
            "account, so they need it (or `existingAuthRoleArn`); setting it on a deployed stack replaces the "
            "role (not its recordings).",
            default_doc="a name CloudFormation generates",
        ),
    )
    auth_trust: AuthTrust | str = setting(
        AuthTrust.EC2,
        Spec(
            "authTrust",
            Choice(AuthTrust),
            "Who may assume the created auth role: EC2 (with an instance profile), an EKS service account via its "
            "OIDC provider, EKS Pod Identity (the trust requires the association's `kubernetes-namespace` and "
            "`kubernetes-service-account` session tags, so keep session tags enabled on the association), or "
            "`authPrincipalArn`.",
        ),
    )
    auth_principal: PrincipalInput | None = setting(
        None,
        Spec(
            "authPrincipalArn",
            Principal(("role", "user", "root")),
            "With `authTrust=principal`: who may assume the auth role. An account root, or a principal of another "
            "account, gets a warning: everyone there allowed `sts:AssumeRole` could then read recordings.",
            default_doc="none",
        ),
    )
    oidc_provider_arn: str | None = setting(
        None,
        Spec(
            "oidcProviderArn",
            Text("IAM OIDC provider ARN", oidc_provider_rule, optional=True),
            "With `authTrust=irsa` (required): the EKS cluster's IAM OIDC provider, in the stack's account (IAM "
            "looks it up in the role's own account; for a cluster of another account, create a provider for its "
            "issuer in this one).",
            default_doc="none",
        ),
    )
    service_account: str = setting(
        "teleport:teleport",
        Spec(
            "serviceAccount",
            Text("`namespace:name`", service_account_rule),
            "With `irsa` / `pod-identity`: the Kubernetes service account of the auth pods.",
        ),
    )


@dataclass(frozen=True, kw_only=True)
class RetentionSettings(_Settings):
    """How long recordings are kept, and that nothing Teleport still needs is lost before."""

    object_lock_mode: ObjectLockMode | str = setting(
        ObjectLockMode.NONE,
        Spec(
            "objectLockMode",
            Choice(ObjectLockMode),
            "S3 Object Lock with a default retention on every new recording version: `governance` (only principals "
            "allowed `s3:BypassGovernanceRetention` may delete early) or `compliance` (nobody, the account root "
            "included, can delete a version or shorten its retention: irreversible, and the bucket cannot be deleted "
            "before every version expires). Uploads then need Content-MD5 or a checksum (see Retention).",
        ),
    )
    object_lock_retention_days: int | None = setting(
        None,
        Spec(
            "objectLockRetentionDays",
            Days(1, 36500, optional=True),
            "With Object Lock: days each new version is locked (required then, refused without it).",
            default_doc="none",
        ),
    )
    retention_days: int | None = setting(
        None,
        Spec(
            "retentionDays",
            Days(1, 36500, optional=True),
            "Recordings (current and older versions, then their delete markers) expire after this many days; never "
            "shorter than the Object Lock retention. Older versions are kept as long, counted from when they became "
            "older, so the version Teleport plays (the oldest) is never expired early.",
            default_doc="kept forever",
        ),
    )
    transition_storage_class: str | None = setting(
        None,
        Spec(
            "transitionStorageClass",
            Text("storage class", storage_class_rule, optional=True),
            "Move recordings to a cheaper class Teleport still reads at once: `STANDARD_IA`, `INTELLIGENT_TIERING` or "
            "`GLACIER_IR`. Glacier Flexible Retrieval and Deep Archive are refused (playback would fail with "
            "InvalidObjectState until a restore), One Zone-IA too (one Availability Zone).",
            default_doc="no transition",
        ),
    )
    transition_days: int | None = setting(
        None,
        Spec(
            "transitionDays",
            Days(0, 36500, optional=True),
            "With `transitionStorageClass`: days after creation (30 at least for `STANDARD_IA`, S3's minimum).",
            default_doc="none",
        ),
    )
    incomplete_upload_abort_days: int = setting(
        ABORT_INCOMPLETE_UPLOADS_DEFAULT_DAYS,
        Spec(
            "incompleteUploadAbortDays",
            Days(ABORT_INCOMPLETE_UPLOADS_FLOOR_DAYS, 36500),
            "Abort multipart uploads still open this many days after they started. Teleport streams a session into "
            "one upload that stays open for the whole session, and completes an abandoned one only 24 h after its "
            f"last part: keep it above your longest session plus 2 days (floor {ABORT_INCOMPLETE_UPLOADS_FLOOR_DAYS}).",
        ),
    )
    access_log_retention_days: int | None = setting(
        PCI_RETENTION_DAYS,
        Spec(
            "accessLogRetentionDays",
            Days(1, 36500, optional=True),
            "S3 server access logs in the created log bucket expire after this many days (PCI DSS v4.0.1 10.5.1 "
            "asks for 12 months of audit log history).",
        ),
    )


@dataclass(frozen=True, kw_only=True)
class AlarmSettings(_Settings):
    """Tamper alarms: EventBridge rules on CloudTrail events for the key, the bucket and the auth role."""

    alarms: bool = setting(
        True,
        Spec(
            "alarms",
            Bool(),
            "EventBridge rules that publish to SNS when someone changes the key (policy, grants, state, rotation, "
            "aliases), the bucket (policy, encryption, versioning, Object Lock, lifecycle, replication, public "
            "access, ownership, deletion) or the auth role (trust, policies, boundary), and when anyone but the "
            "auth role and the readers decrypts with the key. They only fire while a CloudTrail trail logs "
            "management events in the region (`recordings-kms verify` checks).",
        ),
    )
    alarm_emails: Sequence[str] = setting(
        (),
        Spec(
            "alarmEmails",
            TextList("list of email addresses", email_rule),
            "Email addresses subscribed to the created alarm topic (each must confirm the subscription).",
            default_doc="none",
        ),
    )
    alarm_topic_arn: str | None = setting(
        None,
        Spec(
            "alarmTopicArn",
            Text("SNS topic ARN", sns_topic_rule, optional=True),
            "Publish to this existing SNS topic instead of creating one (its policy, and its KMS key's, must let "
            "`events.amazonaws.com` publish).",
            cli="--alarm-topic",
            default_doc="a new topic, encrypted with its own KMS key",
        ),
    )


@dataclass(frozen=True, kw_only=True)
class StorageSettings(BucketSettings, KeySettings, AuthSettings, RetentionSettings, AlarmSettings):
    """Everything one ``SessionRecordingsStorage`` takes (``StorageSettings(key_admins=[role], ...)``)."""


@dataclass(frozen=True, kw_only=True)
class StackSettings(_Settings):
    """Where the bundled app deploys."""

    account: str | None = setting(
        None,
        Spec(
            "account",
            Text("12-digit account id", account_rule, optional=True),
            "The account the stack is for.",
            default_doc="`CDK_DEFAULT_ACCOUNT` (the CDK CLI sets it from your credentials), else an "
            "account-agnostic template",
        ),
    )
    region: str | None = setting(
        None,
        Spec(
            "region",
            Text("region name", region_rule, optional=True),
            "The region the stack is for; `make synth` prints which region it used and where it came from.",
            cli="--region",
            default_doc="`CDK_DEFAULT_REGION` (the CDK CLI sets it from your AWS profile, or to `us-east-1` when "
            "no profile names one)",
        ),
    )

    @classmethod
    def _environment_defaults(cls, environ: Mapping[str, str]) -> dict[str, tuple[str, str | None]]:
        return {
            "account": ("CDK_DEFAULT_ACCOUNT", environ.get("CDK_DEFAULT_ACCOUNT")),
            "region": ("CDK_DEFAULT_REGION", environ.get("CDK_DEFAULT_REGION")),
        }


@dataclass(frozen=True, kw_only=True)
class GuardrailSettings(_Settings):
    """Organization guardrails (SCP and RCP), deployed by the bundled app to the management account."""

    guardrail_target_ids: Sequence[str] = setting(
        (),
        Spec(
            "guardrailTargetIds",
            TextList("list of root/OU/account ids", target_id_rule),
            "Creates the `TeleportSessionRecordingsGuardrails` stack: an SCP and an RCP attached to these targets "
            "(the recordings account, its OU or the organization root).",
            default_doc="none (no guardrails stack)",
        ),
    )
    management_account: str | None = setting(
        None,
        Spec(
            "managementAccount",
            Text("12-digit account id", account_rule, optional=True),
            "The Organizations management account (or a delegated administrator) the guardrails stack deploys to.",
            default_doc="none",
        ),
    )
    organization_id: str | None = setting(
        None,
        Spec(
            "organizationId",
            Text("organization id", organization_id_rule, optional=True),
            "The organization whose principals alone may use the key and the bucket (the RCP's aws:PrincipalOrgID).",
            default_doc="none",
        ),
    )
    break_glass_principals: Sequence[PrincipalInput] = setting(
        (),
        Spec(
            "breakGlassPrincipalArns",
            PrincipalList(),
            "Roles or users the guardrails leave able to change the auth role, the key and the bucket (with the role "
            "CloudFormation deploys with). Keep them few, and alarm on their use.",
            default_doc="none",
        ),
    )


@dataclass(frozen=True, kw_only=True)
class AppSettings(StorageSettings, StackSettings, GuardrailSettings):
    """The bundled app's settings: one storage, and where its stack deploys."""

    def storage(self) -> StorageSettings:
        """The storage's share of these settings (same spelling, same parse problems)."""
        made = StorageSettings(**{d.name: getattr(self, d.name) for d in specs(StorageSettings)})
        for name in self._PRIVATE:
            object.__setattr__(made, name, getattr(self, name))
        return made

    def environment(self, **facts: Any) -> Environment:
        """What these settings say about the target (partition, account, region)."""
        region = self.region if self.region and arns.is_region(self.region) else None
        account = self.account if self.account and arns.is_account(self.account) else None
        partition = arns.partition_of_region(region) if region else None
        return Environment(partition=partition, account=account, region=region, **facts)


# --- rules across settings --------------------------------------------------------------------------

Rule = Callable[[Any, Environment], Iterable[Problem]]


@dataclass(frozen=True)
class _RegisteredRule:
    group: type[_Settings]
    reads: tuple[str, ...]
    check: Rule


_RULES: list[_RegisteredRule] = []


def rule(group: type[_Settings], *reads: str) -> Callable[[Rule], Rule]:
    """Register a rule over ``group``'s settings; it is skipped when a setting it reads is malformed."""

    def register(function: Rule) -> Rule:
        _RULES.append(_RegisteredRule(group, reads, function))
        return function

    return register


def _folded(values: Iterable[str]) -> set[str]:
    return {v.lower() for v in values}


def _overlap(setting: str, values: Sequence[str], other: str, others: Iterable[str], why: str) -> Iterator[Problem]:
    """A principal listed in ``setting`` that ``other`` lists too (IAM names ignore case)."""
    taken = _folded(others)
    for value in values:
        if value.lower() in taken:
            yield Problem(setting, value, f"a principal not also given as '{{{other}}}' ({why})")


@rule(KeySettings, "key_admins", "denied_principals")
def _admins_are_not_denied(s: KeySettings, env: Environment) -> Iterator[Problem]:
    yield from _overlap(
        "denied_principals",
        principal_arns(s.denied_principals, env),
        "key_admins",
        principal_arns(s.key_admins, env),
        "an explicit deny overrides the admin grant",
    )


@rule(KeySettings, "readers", "denied_principals")
def _readers_are_not_denied(s: KeySettings, env: Environment) -> Iterator[Problem]:
    yield from _overlap(
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
        yield from _overlap(
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


@rule(StorageSettings, "auth_role", "denied_principals", "key_admins", "readers")
def _auth_role_is_neither_denied_nor_admin(s: StorageSettings, env: Environment) -> Iterator[Problem]:
    auth = principal_arn(s.auth_role, env)
    if auth is None or env.is_unresolved(auth):
        return
    yield from _overlap(
        "denied_principals",
        principal_arns(s.denied_principals, env),
        "auth_role",
        [auth],
        "Teleport could not write or play back recordings",
    )
    yield from _overlap(
        "key_admins",
        principal_arns(s.key_admins, env),
        "auth_role",
        [auth],
        "in rfd mode a key admin gets kms:*, in separated mode key administration: the auth role needs neither",
    )
    yield from _overlap(
        "readers", principal_arns(s.readers, env), "auth_role", [auth], "the auth role already reads recordings"
    )


@rule(StorageSettings, "auth_role")
def _auth_principal_is_a_role(s: StorageSettings, env: Environment) -> Iterator[Problem]:
    """What the constructs build for the auth principal (its S3 policy, its tamper alarm, the guardrails) is for a role.

    ``recordings-kms`` (CLI spelling) builds nothing: it judges and prints the policies of deployments
    made elsewhere, RFD 42's own user form included.
    """
    if s.spelling is Spelling.CLI or principal_kind(s.auth_role, env) != "user":
        return
    yield Problem(
        "auth_role",
        principal_arn(s.auth_role, env),
        "an IAM role, not a user: Teleport should run as a role (instance profile, IRSA, Pod Identity) rather than "
        "with a user's long-lived access keys, the compliance packs refuse policies attached to a user "
        "(IAMUserNoPolicies) and the guardrails protect a role only; to keep the user, leave {auth_role} out and let "
        'the user assume the created role ({auth_trust} "principal", {auth_principal} = the user\'s ARN)',
    )


@rule(StorageSettings, "auth_role")
def _auth_role_in_this_account(s: StorageSettings, env: Environment) -> Iterator[Problem]:
    auth = principal_arn(s.auth_role, env)
    if auth is None or env.is_unresolved(auth) or env.account is None:
        return
    principal = arns.parse_iam_principal(auth)
    if principal is not None and principal.account != env.account:
        yield Problem(
            "auth_role",
            auth,
            f"a role in the stack's account {env.account} (the S3 managed policy is attached to it by name)",
        )


_TRUST_SETTINGS = ("auth_trust", "auth_principal", "oidc_provider_arn", "service_account", "auth_role_name")


@rule(StorageSettings, "auth_role", *_TRUST_SETTINGS)
def _trust_settings_only_for_a_created_role(s: StorageSettings, env: Environment) -> Iterator[Problem]:
    if s.auth_role is None:
        return
    for name in _TRUST_SETTINGS:
        if s.given(name):
            yield Problem(
                name,
                getattr(s, name),
                "unset when {auth_role} is set (the existing role's trust is not managed here)",
            )


@rule(AuthSettings, *_TRUST_SETTINGS)
def _trust_settings_match_the_trust(s: AuthSettings, env: Environment) -> Iterator[Problem]:
    trust = s.auth_trust
    if trust == AuthTrust.PRINCIPAL:
        if s.auth_principal is None:
            yield Problem("auth_principal", None, 'set when {auth_trust} is "principal"')
        else:
            yield from _trusted_principal_warnings(s, env)
    elif s.auth_principal is not None:
        yield Problem("auth_principal", s.auth_principal, 'unset unless {auth_trust} is "principal"')
    if trust == AuthTrust.IRSA:
        if s.oidc_provider_arn is None:
            yield Problem("oidc_provider_arn", None, 'set when {auth_trust} is "irsa"')
        elif env.is_unresolved(s.oidc_provider_arn):
            yield Problem(
                "oidc_provider_arn",
                s.oidc_provider_arn,
                "a concrete ARN: its issuer names the trust policy's condition keys",
            )
        else:
            yield from _oidc_provider_in_the_roles_account(s.oidc_provider_arn, env)
    elif s.oidc_provider_arn is not None:
        yield Problem("oidc_provider_arn", s.oidc_provider_arn, 'unset unless {auth_trust} is "irsa"')


def _oidc_provider_in_the_roles_account(provider_arn: str, env: Environment) -> Iterator[Problem]:
    """IAM resolves a web-identity trust's provider in the role's own account (the stack's, for the created role).

    For a cluster of another account, that account's issuer gets an IAM OIDC provider in the role's
    account (EKS User Guide, "Authenticate to another account with IRSA":
    https://docs.aws.amazon.com/eks/latest/userguide/cross-account-access.html).
    """
    parsed = arns.parse_oidc_provider(provider_arn)
    if parsed is None or env.account is None or parsed[0].account == env.account:
        return
    yield Problem(
        "oidc_provider_arn",
        provider_arn,
        f"an IAM OIDC provider of the stack's account {env.account}, where the auth role is created (IAM looks a "
        f"web-identity trust's provider up in the role's own account, so a provider of account {parsed[0].account} "
        f"never matches): for a cluster of another account, create an OIDC provider for its issuer in {env.account}",
    )


def _trusted_principal_warnings(s: AuthSettings, env: Environment) -> Iterator[Problem]:
    arn = principal_arn(s.auth_principal, env)
    principal = arns.parse_iam_principal(arn) if arn is not None and not env.is_unresolved(arn) else None
    if principal is None:
        return
    consequence = "everyone there allowed sts:AssumeRole on the auth role can read every recording"
    if principal.kind == "root":
        yield warning(
            "auth_principal",
            arn,
            f"trusting an account root delegates the auth role to IAM policies of account {principal.account}: "
            f"{consequence}; trust the one role or user Teleport runs as",
            code="teleport-recordings:authTrustsAccount",
        )
    elif env.account is not None and principal.account != env.account:
        yield warning(
            "auth_principal",
            arn,
            f"the auth role trusts a principal of another account ({principal.account}): whoever controls that "
            "principal can read every recording",
            code="teleport-recordings:authTrustsForeignPrincipal",
        )


@rule(StorageSettings, "access_logs_bucket", "bucket_name")
def _log_bucket_is_another_bucket(s: StorageSettings, env: Environment) -> Iterator[Problem]:
    logs = s.access_logs_bucket
    if isinstance(logs, str) and logs == s.bucket_name:
        yield Problem("access_logs_bucket", logs, "a bucket other than {bucket_name}")


@rule(StorageSettings, "key_admins", "denied_principals", "readers", "deploy_role", "auth_role", "auth_principal")
def _one_partition(s: StorageSettings, env: Environment) -> Iterator[Problem]:
    """Without a known stack partition, every ARN must at least share one partition."""
    if env.partition is not None:
        return
    seen: dict[str, str] = {}
    for name in ("auth_role", "deploy_role", "auth_principal"):
        arn = principal_arn(getattr(s, name), env)
        if arn is not None and not env.is_unresolved(arn):
            seen.setdefault(name, arn)
    for name in ("key_admins", "denied_principals", "readers"):
        for arn in principal_arns(getattr(s, name), env):
            seen.setdefault(name, arn)
    partitions = {name: arn.split(":")[1] for name, arn in seen.items() if arn.count(":") >= 5}
    if len(set(partitions.values())) > 1:
        first = next(iter(partitions))
        for name, partition in partitions.items():
            if partition != partitions[first]:
                yield Problem(
                    name,
                    seen[name],
                    f"an ARN in the same partition as {{{first}}} ({partitions[first]!r}), not {partition!r}",
                )


@rule(RetentionSettings, "object_lock_mode", "object_lock_retention_days")
def _object_lock_needs_a_retention(s: RetentionSettings, env: Environment) -> Iterator[Problem]:
    locked = s.object_lock_mode != ObjectLockMode.NONE
    if locked and s.object_lock_retention_days is None:
        yield Problem("object_lock_retention_days", None, 'set when {object_lock_mode} is not "none"')
    if not locked and s.object_lock_retention_days is not None:
        yield Problem(
            "object_lock_retention_days", s.object_lock_retention_days, "unset unless {object_lock_mode} is set"
        )
    if s.object_lock_mode == ObjectLockMode.COMPLIANCE:
        yield warning(
            "object_lock_mode",
            s.object_lock_mode,
            f"compliance mode cannot be undone: for {s.object_lock_retention_days} days after each recording is "
            "written nobody, the account root included, can delete it or shorten its retention, and the bucket "
            "cannot be deleted until every version expires",
            code="teleport-recordings:objectLockCompliance",
        )
    if locked:
        yield warning(
            "object_lock_mode",
            s.object_lock_mode,
            "S3 refuses uploads to a bucket with default retention unless they carry Content-MD5 or a checksum; "
            "Teleport's current S3 client sends Content-MD5 on every part (see README: Retention for versions), so "
            "upgrade Teleport first and check uploads with recordings-kms verify --probe",
            code="teleport-recordings:objectLockNeedsChecksums",
        )


@rule(RetentionSettings, "retention_days", "object_lock_retention_days")
def _retention_outlives_the_lock(s: RetentionSettings, env: Environment) -> Iterator[Problem]:
    if s.retention_days is None:
        return
    if s.object_lock_retention_days is not None and s.retention_days < s.object_lock_retention_days:
        yield Problem(
            "retention_days",
            s.retention_days,
            f"at least {{object_lock_retention_days}} ({s.object_lock_retention_days}): S3 cannot expire a locked "
            "version, and a shorter lifecycle would only pile up delete markers",
        )
    if s.retention_days < PCI_RETENTION_DAYS:
        yield warning(
            "retention_days",
            s.retention_days,
            "shorter than the 12 months PCI DSS v4.0.1 10.5.1 asks for audit log history",
            code="teleport-recordings:retentionShorterThanPci",
        )


@rule(RetentionSettings, "transition_storage_class", "transition_days", "retention_days")
def _transitions_come_in_pairs_and_before_expiry(s: RetentionSettings, env: Environment) -> Iterator[Problem]:
    if (s.transition_storage_class is None) != (s.transition_days is None):
        missing = "transition_days" if s.transition_days is None else "transition_storage_class"
        yield Problem(missing, None, "set together with {transition_storage_class} and {transition_days}")
        return
    if s.transition_days is None:
        return
    if s.transition_storage_class == "STANDARD_IA" and s.transition_days < 30:
        yield Problem("transition_days", s.transition_days, "30 or more for STANDARD_IA (S3's minimum)")
    if s.retention_days is not None and s.transition_days >= s.retention_days:
        yield Problem("transition_days", s.transition_days, "fewer than {retention_days}: recordings expire first")


@rule(StorageSettings, "access_log_retention_days", "access_logs_bucket")
def _log_retention_only_for_a_created_log_bucket(s: StorageSettings, env: Environment) -> Iterator[Problem]:
    if s.access_logs_bucket is not None and s.given("access_log_retention_days"):
        yield Problem(
            "access_log_retention_days",
            s.access_log_retention_days,
            "unset when {access_logs_bucket} is set (that bucket's lifecycle is its owner's)",
        )


@rule(AlarmSettings, "alarms", "alarm_emails", "alarm_topic_arn")
def _alarm_targets(s: AlarmSettings, env: Environment) -> Iterator[Problem]:
    if not s.alarms:
        for name in ("alarm_emails", "alarm_topic_arn"):
            if s.given(name):
                yield Problem(name, getattr(s, name), "unset when {alarms} is false")
        return
    if s.alarm_topic_arn is not None and s.alarm_emails:
        yield Problem(
            "alarm_emails",
            s.alarm_emails,
            "unset with {alarm_topic_arn} (subscribe them to your topic where it is managed)",
        )
    topic = (
        arns.parse_arn(s.alarm_topic_arn) if s.alarm_topic_arn and not env.is_unresolved(s.alarm_topic_arn) else None
    )
    if topic is not None and env.region is not None and topic.region != env.region:
        yield Problem(
            "alarm_topic_arn",
            s.alarm_topic_arn,
            f"a topic in the stack's region {env.region} (EventBridge rules publish to topics of their own region)",
        )


@rule(AppSettings, *[d.name for d in specs(GuardrailSettings)], "account", "region", "auth_role", "auth_role_name")
def _guardrails_need_names_both_accounts_know(s: AppSettings, env: Environment) -> Iterator[Problem]:
    if not s.guardrail_target_ids:
        for name in ("management_account", "organization_id", "break_glass_principals"):
            if s.given(name):
                yield Problem(name, getattr(s, name), "unset unless {guardrail_target_ids} is set")
        return
    needs = "set with {guardrail_target_ids} (the guardrails stack names it in the management account)"
    for name in ("management_account", "organization_id", "account", "region"):
        if getattr(s, name) is None:
            yield Problem(name, None, needs)
    if s.auth_role is None and s.auth_role_name is None:
        yield Problem(
            "auth_role_name",
            None,
            "set with {guardrail_target_ids} when the auth role is created (or use {auth_role}): the guardrails "
            "stack names it in the management account",
        )
    if s.management_account is not None and s.management_account == s.account:
        yield Problem(
            "management_account",
            s.management_account,
            "another account than {account}: SCPs and RCPs never apply to the management account's own "
            "principals and resources",
        )
    if not s.break_glass_principals:
        yield warning(
            "break_glass_principals",
            s.break_glass_principals,
            "no break-glass principal: only the role CloudFormation deploys with may change the auth role, the key "
            "and the bucket once the guardrails are attached",
            code="teleport-recordings:noBreakGlass",
        )


# --- checking ------------------------------------------------------------------------------------------


def check(settings: _Settings, env: Environment | None = None) -> list[Problem]:
    """Every problem of ``settings``, errors and warnings, in declaration order."""
    env = env or Environment()
    problems = list(settings._parse_problems)
    malformed = {p.setting for p in problems}
    for declared in specs(settings):
        value = getattr(settings, declared.name)
        if declared.name in malformed:
            continue
        empty = _empty_problem(declared.name, value)
        if empty is not None:
            problems.append(empty)
            malformed.add(declared.name)
            continue
        if not (declared.spec.kind.admits(value) or env.is_unresolved(value)):
            problems.append(Problem(declared.name, value, declared.spec.kind.python_type))
            malformed.add(declared.name)
            continue
        found = declared.spec.kind.check(declared.name, value, env)
        problems += found
        malformed |= {p.setting for p in errors(found)}
    for registered in _RULES:
        if isinstance(settings, registered.group) and not malformed.intersection(registered.reads):
            problems += registered.check(settings, env)
    return problems


def _empty_problem(name: str, value: object) -> Problem | None:
    """The empty-value rule for Python values (context and options are judged as they are parsed)."""
    if is_empty(value):
        return Problem(name, value, EMPTY_VALUE)
    if isinstance(value, list | tuple) and any(is_empty(item) for item in value):
        return Problem(name, value, EMPTY_ITEM)
    return None


def validate(settings: _Settings, env: Environment | None = None, *, remember: bool = False) -> list[Problem]:
    """Raise one :class:`InvalidSettingsError` with every error; return the warnings.

    With ``remember``, settings already accepted that way are not checked again (and their warnings
    not returned again): a construct validates its settings once, and the parts it builds from the
    same settings object skip the work.
    """
    if remember and settings._validated:
        return []
    problems = check(settings, env)
    found = errors(problems)
    if found:
        raise InvalidSettingsError(found, settings.label(), settings.spelling)
    if remember:
        object.__setattr__(settings, "_validated", True)
    return warnings(problems)


def render(problem: Problem, settings: _Settings) -> str:
    """One problem worded in the settings' spelling."""
    return problem.render(settings.label(), settings.spelling)


def is_error(problem: Problem) -> bool:
    return problem.severity is Severity.ERROR


# --- documentation ------------------------------------------------------------------------------------

#: The groups in the order the README lists them, with the heading of each.
DOCUMENTED_GROUPS: tuple[tuple[str, type[_Settings]], ...] = (
    ("Where the stack deploys", StackSettings),
    ("Bucket", BucketSettings),
    ("Key", KeySettings),
    ("Auth service", AuthSettings),
    ("Retention", RetentionSettings),
    ("Tamper alarms", AlarmSettings),
    ("Organization guardrails", GuardrailSettings),
)


def _default_text(declared: Declared) -> str:
    if declared.spec.default_doc is not None:
        return declared.spec.default_doc
    value = declared.default
    if isinstance(value, bool):
        return f"`{'true' if value else 'false'}`"
    if isinstance(value, StrEnum):
        return f"`{value.value}`"
    if value in ((), None):
        return "none"
    return f"`{value}`"


def readme_table() -> str:
    """The README's settings tables, one per group, generated from the model (``make docs`` writes them)."""
    lines: list[str] = []
    for heading, group in DOCUMENTED_GROUPS:
        own = {f.name for f in dataclasses.fields(group)} - {f.name for f in dataclasses.fields(_Settings)}
        lines += [
            f"#### {heading}",
            "",
            "| Setting (`cdk.json`, `-c`) | Python (`StorageSettings`) | `recordings-kms` | Type | Default | Effect |",
            "|---|---|---|---|---|---|",
        ]
        for declared in specs(group):
            if declared.name not in own:
                continue
            spec = declared.spec
            app_only = not issubclass(StorageSettings, group)
            python = f"`{declared.name}` (`AppSettings`)" if app_only else f"`{declared.name}`"
            cli = f"`{spec.cli}`" if spec.cli else ""
            effect = spec.doc.replace("|", "\\|")
            lines.append(
                f"| `{spec.context}` | {python} | {cli} | {spec.kind.doc} | {_default_text(declared)} | {effect} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
