"""The organization layout's settings: many Teleport clusters, each with its auth role in its own account (pure).

``clusters`` is a list of :class:`Cluster` objects. A cluster is a settings group of its own, deriving
from :class:`AuthSettings`, so that its trust settings are parsed, judged and worded by the same kinds
and rules as the one-account auth settings; a problem of one is named ``clusters[0].oidcProviderArn``
and judged in the cluster's own account (an IRSA trust's OIDC provider must be in the role's account).
The rules that read ``clusters`` together with the storage's and the stack's settings are in
``organization.py``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from constructs_lib.core import arns
from constructs_lib.core.kinds import (
    Choice,
    Environment,
    Kind,
    KindError,
    PrincipalInput,
    PrincipalList,
    Text,
    principal_arn,
    principal_arns,
)
from constructs_lib.core.problems import Problem
from constructs_lib.core.settings.auth import TRUST_SETTINGS, AuthSettings
from constructs_lib.core.settings.model import Spec, _Settings, check, rule, setting
from constructs_lib.core.settings.storage import _trust_settings_only_for_a_created_role
from constructs_lib.core.settings.values import account_rule, prefix_rule

_CLUSTER_NAME = re.compile(r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){0,31}", re.ASCII)
CLUSTER_NAME_LIMIT = 32


class ClusterIsolation(StrEnum):
    """What keeps one cluster's recordings from another's."""

    #: One shared key: the bucket policy and the roles' identity policies (KMS cannot tell clusters apart).
    PREFIX = "prefix"
    #: One key per cluster as well: a wrong S3 policy still cannot let one cluster decrypt another's recordings.
    KEY = "key"


def key_arn_rule(value: str) -> str | None:
    """A KMS key ARN (``key/ID``, not an alias): what the recordings stack's ``KeyArn`` outputs name."""
    if arns.parse_key_arn(value) is None:
        return "a KMS key ARN like arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    return None


def cluster_name_rule(value: str) -> str | None:
    """A name that fits a stack name, a role name and (without its dashes) an output id."""
    if _CLUSTER_NAME.fullmatch(value) and len(value) <= CLUSTER_NAME_LIMIT:
        return None
    return (
        f"1-{CLUSTER_NAME_LIMIT} characters of a-z 0-9 and single dashes, starting and ending with a letter or "
        "digit, like prod-eu (it names the cluster's stack, role and StorageUri output)"
    )


@dataclass(frozen=True, kw_only=True)
class Cluster(AuthSettings):
    """One Teleport cluster: its name, the account of its auth role, its key prefix, its trust and readers.

    The trust settings are the one-account auth settings (``authTrust``, ``oidcProviderArn``,
    ``serviceAccount``, ``authPrincipalArn``, ``authRoleName``, ``existingAuthRoleArn``), for this
    cluster's role, in the cluster's account.
    """

    heading: ClassVar[str] = ""

    name: str = setting(
        "",
        Spec("name", Text("cluster name", cluster_name_rule), "The cluster's name (required)."),
    )
    account: str | None = setting(
        None,
        Spec(
            "account",
            Text("12-digit account id", account_rule, optional=True),
            "The workload account of the cluster's auth role.",
            default_doc="the recordings account (`account`)",
        ),
    )
    prefix: str | None = setting(
        None,
        Spec(
            "prefix",
            Text("key prefix", prefix_rule, optional=True),
            "The cluster's key prefix, under `recordingsPrefix/`.",
            default_doc="`recordingsPrefix/NAME`",
        ),
    )
    readers: Sequence[PrincipalInput] = setting(
        (),
        Spec(
            "readerArns",
            PrincipalList(),
            "Decrypt-only readers of this cluster's recordings only.",
            default_doc="none",
        ),
    )
    key_arn: str | None = setting(
        None,
        Spec(
            "recordingsKeyArn",
            Text("KMS key ARN", key_arn_rule, optional=True),
            "With `clusterIsolation=key`: the ARN of this cluster's key (the recordings stack's "
            "`KeyArnNAME` output, after its first deploy); the role's identity policy then names that key "
            "instead of every key of the recordings account.",
            default_doc="none: `key/*` of the recordings account and region, through S3 for the bucket",
        ),
    )
    break_glass_principals: Sequence[PrincipalInput] = setting(
        (),
        Spec(
            "breakGlassPrincipalArns",
            PrincipalList(),
            "With `guardrailTargetIds`: roles or users of the cluster's account that the SCP leaves able to change "
            "this cluster's auth role (with the role CloudFormation deploys its workload stack with).",
            default_doc="none",
        ),
    )


@rule(Cluster, "name")
def _a_cluster_has_a_name(s: Cluster, env: Environment) -> Iterator[Problem]:
    if s.name == "":
        yield Problem("name", None, "set: " + (cluster_name_rule("") or ""))


@rule(Cluster, "auth_role")
def _existing_role_in_the_clusters_account(s: Cluster, env: Environment) -> Iterator[Problem]:
    """Its identity policy is attached by the cluster's stack, in the cluster's account."""
    auth = principal_arn(s.auth_role, env)
    principal = arns.parse_iam_principal(auth) if auth is not None and not env.is_unresolved(auth) else None
    if principal is None or env.account is None:
        return
    if principal.kind != "role":
        yield Problem("auth_role", auth, "an IAM role ARN like arn:aws:iam::123456789012:role/NAME")
    elif principal.account != env.account:
        yield Problem(
            "auth_role",
            auth,
            f"a role in the cluster's account {env.account} (its stack attaches the recordings policy to it by "
            "name; set {account} to the role's account instead)",
        )


@rule(Cluster, "break_glass_principals")
def _break_glass_in_the_clusters_account(s: Cluster, env: Environment) -> Iterator[Problem]:
    """The SCP exempts a principal by ``aws:PrincipalArn`` on this cluster's role, which only principals of the
    role's account can change (IAM is per account): a principal of another account would be a break-glass in name
    only, and the account's own would be locked out."""
    if env.account is None:
        return
    for arn in principal_arns(s.break_glass_principals, env):
        principal = None if env.is_unresolved(arn) else arns.parse_iam_principal(arn)
        if principal is not None and principal.account != env.account:
            yield Problem(
                "break_glass_principals",
                arn,
                f"a role or user of the cluster's account {env.account} (only its principals can change the "
                "cluster's auth role; the recordings account's break-glass goes in the top-level "
                "breakGlassPrincipalArns)",
            )


# An existing role's trust is its owner's: the same rule as the one-account settings'.
rule(Cluster, "auth_role", *TRUST_SETTINGS)(_trust_settings_only_for_a_created_role)


# --- the list ----------------------------------------------------------------------------------------

_CLUSTER_LIST_SHAPE = 'a JSON array of cluster objects, like [{"name": "prod", "account": "111122223333"}]'


class ClusterList(Kind):
    """A list of :class:`Cluster`: objects from Python, a JSON array of objects from ``cdk.json`` or ``-c``."""

    doc = "list of cluster objects (see Organization layout)"
    python_type = "a list (or tuple) of Cluster objects (constructs_lib.core.settings.Cluster)"

    def parse(self, raw: object) -> object:
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError as error:
                raise KindError(_CLUSTER_LIST_SHAPE) from error
        if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
            raise KindError(_CLUSTER_LIST_SHAPE)
        return tuple(Cluster.from_context(item) for item in raw)

    def admits(self, value: object) -> bool:
        return isinstance(value, list | tuple) and all(isinstance(item, Cluster) for item in value)

    def check(self, setting: str, value: object, env: Environment) -> list[Problem]:
        problems: list[Problem] = []
        for index, cluster in enumerate(value if isinstance(value, list | tuple) else ()):
            if isinstance(cluster, Cluster):
                problems += cluster_problems(setting, index, cluster, env)
        return problems


def cluster_env(cluster: Cluster, env: Environment) -> Environment:
    """The environment a cluster's settings are judged in: its own account (the stack's when it names none)."""
    account = cluster.account if cluster.account and arns.is_account(cluster.account) else env.account
    return dataclasses.replace(env, account=account)


def cluster_problems(setting: str, index: int, cluster: Cluster, env: Environment) -> list[Problem]:
    """The cluster's problems, named ``clusters[INDEX].NAME`` as the caller spelled ``NAME``."""
    label = cluster.label()
    where = f"{setting}[{index}]"

    def named(python_name: str) -> str:
        return f"{where}.{label(python_name)}"

    found = []
    for problem in check(cluster, cluster_env(cluster, env)):
        allowed = re.sub(r"\{([a-z0-9_]+)\}", lambda m: named(m.group(1)), problem.allowed)
        allowed = allowed.replace("the stack's account", "the cluster's account")
        found.append(
            dataclasses.replace(
                problem,
                setting=problem.setting if problem.verbatim and "[" in problem.setting else named(problem.setting),
                allowed=allowed,
                verbatim=True,
            )
        )
    return found


@dataclass(frozen=True, kw_only=True)
class ClusterSettings(_Settings):
    """The organization layout: Teleport clusters whose auth roles live in workload accounts."""

    heading: ClassVar[str] = "Organization layout"

    clusters: Sequence[Cluster] = setting(
        (),
        Spec(
            "clusters",
            ClusterList(),
            "Teleport clusters sharing the recordings key and bucket, each with its auth role in its own account "
            "and its own key prefix (see Organization layout for the keys of a cluster object). The key, the "
            "bucket and the alarms stay in this stack's account; each cluster's role is created by a stack of "
            "its own (`TeleportSessionRecordingsAuth-ACCOUNT`, one per workload account). Refused together with the "
            "one-account auth settings.",
            default_doc="none: the one-account layout (one auth role, in this stack)",
        ),
    )
    cluster_isolation: ClusterIsolation | str = setting(
        ClusterIsolation.PREFIX,
        Spec(
            "clusterIsolation",
            Choice(ClusterIsolation),
            "`prefix`: the clusters share the recordings key; the bucket policy keeps each on its prefix. `key`: "
            "each cluster also gets its own key (alias `KEYALIAS/NAME`), which only its role and readers (and "
            "`readerArns`) may use, and the bucket policy accepts under its prefix no other key: a wrong S3 "
            "policy still cannot let one cluster decrypt another's recordings, for one key (and key policy) per "
            "cluster to administer. Only with `clusters`.",
        ),
    )
    recordings_key_arn: str | None = setting(
        None,
        Spec(
            "recordingsKeyArn",
            Text("KMS key ARN", key_arn_rule, optional=True),
            "With `clusters` (`clusterIsolation=prefix`): the recordings key's ARN (the recordings stack's "
            "`KeyArn` output, after its first deploy); the clusters' identity policies then name that key "
            "instead of every key of the recordings account. With `key`: `clusters[N].recordingsKeyArn`.",
            default_doc="none: `key/*` of the recordings account and region, through S3 for the bucket",
        ),
    )


def _dashless(name: str) -> str:
    return name.replace("-", "")


@rule(ClusterSettings, "clusters")
def _cluster_names_are_unique(s: ClusterSettings, env: Environment) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for index, cluster in enumerate(s.clusters):
        if not cluster.name:
            continue
        first = seen.setdefault(_dashless(cluster.name), index)
        if first != index:
            other = s.clusters[first].name
            why = (
                "a name of its own"
                if other == cluster.name
                else f"a name that differs from {other!r} in more than dashes"
            )
            yield Problem(
                f"clusters[{index}].name",
                cluster.name,
                f"{why} (clusters[{first}] has it: the names make stack names, role names and output ids)",
                verbatim=True,
            )


def overlapping(one: str, other: str) -> bool:
    """Whether a prefix is a string prefix of the other: Teleport's upload completer lists multipart uploads
    with its URI path as a raw ``Prefix`` (no trailing slash), so ``a`` also lists ``ab/...`` and ``a/b/...``."""
    return one.startswith(other) or other.startswith(one)


def _role_arn(cluster: Cluster, env: Environment) -> str | None:
    """The cluster's auth role ARN when the settings name it (existing role, or a role name and account)."""
    existing = principal_arn(cluster.auth_role, env)
    if existing is not None:
        return None if env.is_unresolved(existing) else existing
    account = cluster_env(cluster, env).account
    if account is None or not cluster.name:
        return None
    name = cluster.auth_role_name or default_role_name(cluster.name)
    return f"arn:{env.partition or 'aws'}:iam::{account}:role/{name}"


def default_role_name(cluster_name: str) -> str:
    return f"teleport-recordings-auth-{cluster_name}"


@rule(ClusterSettings, "clusters")
def _clusters_name_different_roles(s: ClusterSettings, env: Environment) -> Iterator[Problem]:
    roles: dict[str, int] = {}
    for index, cluster in enumerate(s.clusters):
        arn = _role_arn(cluster, env)
        if arn is None:
            continue
        first = roles.setdefault(arn.lower(), index)
        if first != index:
            yield Problem(
                f"clusters[{index}]",
                arn,
                f"an auth role of its own, not clusters[{first}]'s (each cluster's role reaches its own prefix only)",
                verbatim=True,
            )
    for index, cluster in enumerate(s.clusters):
        for reader in principal_arns(cluster.readers, cluster_env(cluster, env)):
            owner = roles.get(reader.lower())
            if owner is not None and owner != index:
                yield Problem(
                    f"clusters[{index}].{cluster.label()('readers')}",
                    reader,
                    f"a reader that is no other cluster's auth role (clusters[{owner}]'s role would read this "
                    "cluster's recordings)",
                    verbatim=True,
                )


def prefixes_overlap(prefixes: Sequence[str | None]) -> Iterator[tuple[int, int]]:
    """Every pair ``(later, earlier)`` of indices whose prefixes overlap (``overlapping``)."""
    for index, prefix in enumerate(prefixes):
        for earlier in range(index):
            other = prefixes[earlier]
            if prefix is not None and other is not None and overlapping(prefix, other):
                yield index, earlier


def cluster_prefix(cluster: Cluster, recordings_prefix: str) -> str:
    return cluster.prefix or f"{recordings_prefix}/{cluster.name}"


def cluster_arguments(cluster: Cluster) -> dict[str, Any]:
    """A cluster's trust settings as the one-account auth settings (for the constructs that build a role)."""
    return {name: getattr(cluster, name) for name in (*TRUST_SETTINGS, "auth_role")}
