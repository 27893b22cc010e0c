"""The rules that read ``clusters`` together with the storage's and the stack's settings (pure)."""

from __future__ import annotations

from collections.abc import Iterator

from constructs_lib.core import arns
from constructs_lib.core.kinds import Environment, principal_arns
from constructs_lib.core.problems import Problem
from constructs_lib.core.settings.app import AppSettings
from constructs_lib.core.settings.auth import TRUST_SETTINGS
from constructs_lib.core.settings.clusters import ClusterIsolation, cluster_env, cluster_prefix, prefixes_overlap
from constructs_lib.core.settings.guardrails import GuardrailSettings
from constructs_lib.core.settings.model import rule, specs

#: The one-account auth settings: with ``clusters`` each cluster says them for its own role.
SINGLE_CLUSTER_AUTH = ("auth_role", *TRUST_SETTINGS)


@rule(AppSettings, "clusters", *SINGLE_CLUSTER_AUTH)
def _clusters_replace_the_single_auth_settings(s: AppSettings, env: Environment) -> Iterator[Problem]:
    if not s.clusters:
        return
    for name in SINGLE_CLUSTER_AUTH:
        if s.given(name):
            yield Problem(
                name,
                getattr(s, name),
                "unset when {clusters} is set (each cluster names its own auth role and trust: "
                "clusters[N].authTrust, clusters[N].existingAuthRoleArn, ...)",
            )


@rule(AppSettings, "clusters", "account", "region")
def _clusters_need_the_recordings_account_and_region(s: AppSettings, env: Environment) -> Iterator[Problem]:
    if not s.clusters:
        return
    for name in ("account", "region"):
        if getattr(s, name) is None:
            yield Problem(
                name,
                None,
                "set with {clusters}: the key policy, the bucket policy and the clusters' stacks name the recordings "
                "account's key and bucket by ARN, which an account-agnostic template cannot know",
            )


@rule(AppSettings, "clusters", "recordings_prefix")
def _cluster_prefixes_are_apart(s: AppSettings, env: Environment) -> Iterator[Problem]:
    """Under ``recordingsPrefix/`` (the lifecycle rules and the top-level readers cover it), and apart."""
    if not s.clusters:
        return
    under = f"{s.recordings_prefix}/"
    prefixes: list[str | None] = []
    for index, cluster in enumerate(s.clusters):
        label = f"clusters[{index}].{cluster.label()('prefix')}"
        if not cluster.name and cluster.prefix is None:
            prefixes.append(None)
            continue
        prefix = cluster_prefix(cluster, s.recordings_prefix)
        if not prefix.startswith(under):
            yield Problem(
                label,
                prefix,
                f"a prefix under {under!r} ({{recordings_prefix}}/...: the retention rules and the readers of every "
                "cluster cover that prefix only)",
                verbatim=True,
            )
            prefixes.append(None)
            continue
        prefixes.append(prefix)
    for index, earlier in prefixes_overlap(prefixes):
        yield Problem(
            f"clusters[{index}].{s.clusters[index].label()('prefix')}",
            prefixes[index],
            f"a prefix that neither starts nor is the start of clusters[{earlier}]'s {prefixes[earlier]!r}: "
            "Teleport's upload completer lists multipart uploads by its raw prefix and completes those without a "
            "session in its own backend, so it would complete the other cluster's uploads",
            verbatim=True,
        )


@rule(AppSettings, "clusters", "account", *[d.name for d in specs(GuardrailSettings)])
def _guardrails_reach_every_account_of_the_clusters(s: AppSettings, env: Environment) -> Iterator[Problem]:
    """An SCP restricts the principals of the accounts under its targets only: the recordings account (key and
    bucket) and every workload account (its cluster roles) must be under one. Targets that are all account ids
    are checked here; under an OU or the root, which accounts are below cannot be known offline (README)."""
    if not s.clusters:
        return
    if not s.guardrail_target_ids:
        for index, cluster in enumerate(s.clusters):
            if cluster.break_glass_principals:
                yield Problem(
                    f"clusters[{index}].{cluster.label()('break_glass_principals')}",
                    list(cluster.break_glass_principals),
                    "unset unless {guardrail_target_ids} is set (it exempts principals from the guardrails' SCP)",
                    verbatim=True,
                )
        return
    targets = list(s.guardrail_target_ids)
    if all(arns.is_account(t) for t in targets):
        accounts = [s.account, *(cluster_env(c, env).account for c in s.clusters)]
        missing = [a for a in dict.fromkeys(accounts) if a is not None and a not in targets]
        if missing:
            yield Problem(
                "guardrail_target_ids",
                targets,
                f"targets that cover the recordings account and every cluster's account (missing {', '.join(missing)}; "
                "an SCP restricts only the principals of the accounts under its targets: list them, or name their "
                "OU or the root)",
            )
    for arn in principal_arns(s.break_glass_principals, env):
        principal = None if env.is_unresolved(arn) else arns.parse_iam_principal(arn)
        if principal is not None and s.account is not None and principal.account != s.account:
            yield Problem(
                "break_glass_principals",
                arn,
                f"a role or user of the recordings account {s.account} when {{clusters}} is set (the key and the "
                "bucket are there; a cluster's account has its own: clusters[N].breakGlassPrincipalArns)",
            )


@rule(AppSettings, "clusters", "replica_region", "existing_bucket")
def _clusters_not_yet_with_a_replica_or_an_adopted_bucket(s: AppSettings, env: Environment) -> Iterator[Problem]:
    """The replica (issue 17) and the import of an existing bucket are built for the single-cluster stack only:
    refused beside ``clusters`` rather than half-applied (the organization stacks would ignore them)."""
    if not s.clusters:
        return
    if s.replica_region:
        yield Problem(
            "replica_region",
            s.replica_region,
            "unset with {clusters}: a replica of the central recordings bucket is not built yet (docs/REPLICATION.md)",
        )
    if s.existing_bucket:
        yield Problem(
            "existing_bucket",
            s.existing_bucket,
            "unset with {clusters}: adopting an existing bucket is built for the single-cluster stack only",
        )


# --- clusterIsolation and the key ARNs that narrow the identity policies -----------------------------


@rule(AppSettings, "clusters", "cluster_isolation", "recordings_key_arn")
def _isolation_and_key_arn_only_with_clusters(s: AppSettings, env: Environment) -> Iterator[Problem]:
    """Both shape the organization layout's stacks; the one-account stack names its key by reference."""
    if s.clusters:
        return
    if ClusterIsolation(s.cluster_isolation) is ClusterIsolation.KEY:
        yield Problem("cluster_isolation", s.cluster_isolation, "prefix (the default) without {clusters}")
    if s.recordings_key_arn is not None:
        yield Problem(
            "recordings_key_arn",
            s.recordings_key_arn,
            "unset without {clusters}: the one-account stack's auth policy names its key by reference already",
        )


@rule(AppSettings, "clusters", "cluster_isolation", "guardrail_target_ids")
def _guardrails_not_yet_for_cluster_keys(s: AppSettings, env: Environment) -> Iterator[Problem]:
    """The SCP and the RCP find the key by its alias (``kms:ResourceAliases``) and protect the shared key's
    only: with a key per cluster the cluster keys, which hold the recordings, would go unguarded while the
    guardrail proofs pass. Refused until the guardrails name every cluster key."""
    if s.clusters and s.guardrail_target_ids and ClusterIsolation(s.cluster_isolation) is ClusterIsolation.KEY:
        yield Problem(
            "cluster_isolation",
            s.cluster_isolation,
            "prefix with {guardrail_target_ids}: the SCP and RCP protect the shared key's alias only, so the "
            "clusters' own keys would be unguarded (not built yet: docs/ORGANIZATION.md)",
        )


def _key_arn_problem(arn: str, s: AppSettings, env: Environment) -> str | None:
    """Why ``arn`` is not a key of the recordings account and region (where the recordings stack makes it)."""
    parsed = arns.parse_key_arn(arn)
    if parsed is None or s.account is None or s.region is None:
        return None  # the kind's rule names a malformed ARN; the account rule a missing account
    found, _ = parsed
    partition = env.partition or arns.partition_of_region(s.region)
    if (found.partition, found.account, found.region) != (partition, s.account, s.region):
        return (
            f"a key of the recordings account {s.account} in {s.region} (arn:{partition}:kms:{s.region}:"
            f"{s.account}:key/ID, the recordings stack's key), not one of account {found.account} in {found.region}"
        )
    return None


@rule(AppSettings, "clusters", "cluster_isolation", "recordings_key_arn", "account", "region")
def _key_arns_name_recordings_keys(s: AppSettings, env: Environment) -> Iterator[Problem]:
    if not s.clusters:
        return
    isolated = ClusterIsolation(s.cluster_isolation) is ClusterIsolation.KEY
    if s.recordings_key_arn is not None:
        if isolated:
            yield Problem(
                "recordings_key_arn",
                s.recordings_key_arn,
                "unset with {cluster_isolation}=key: each cluster has its own key (clusters[N].recordingsKeyArn)",
            )
        else:
            why = _key_arn_problem(s.recordings_key_arn, s, env)
            if why:
                yield Problem("recordings_key_arn", s.recordings_key_arn, why)
    seen: dict[str, int] = {}
    for index, cluster in enumerate(s.clusters):
        if cluster.key_arn is None:
            continue
        label = f"clusters[{index}].{cluster.label()('key_arn')}"
        if not isolated:
            yield Problem(
                label,
                cluster.key_arn,
                "unset with {cluster_isolation}=prefix: the clusters share one key ({recordings_key_arn})",
                verbatim=True,
            )
            continue
        why = _key_arn_problem(cluster.key_arn, s, env)
        if why:
            yield Problem(label, cluster.key_arn, why, verbatim=True)
        first = seen.setdefault(cluster.key_arn.lower(), index)
        if first != index:
            yield Problem(
                label,
                cluster.key_arn,
                f"a key of its own, not clusters[{first}]'s (with key isolation each cluster has its own key)",
                verbatim=True,
            )
