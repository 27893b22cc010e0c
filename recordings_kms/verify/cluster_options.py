"""The organization layout's ``verify`` options: ``--cluster``, ``--cluster-trust``, ``--workload-profile`` and
``--workload-role-arn``, parsed and judged before any AWS call (one line naming the option, exit 2).

The clusters come from these options, not from the recordings stack: its outputs name each cluster's
``StorageUriNAME``, not its role, and a role in another account cannot be listed from the recordings account.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from constructs_lib.core import arns
from constructs_lib.core.kinds import principal_arns
from constructs_lib.core.settings import KeyAdminMode
from constructs_lib.core.settings.clusters import cluster_name_rule, overlapping
from constructs_lib.core.settings.values import prefix_rule
from recordings_kms.access import DesignParameters
from recordings_kms.options import problems_of, settings_from

if TYPE_CHECKING:
    from constructs_lib.core.prover.model import TrustedPrincipal

CENTRAL_DESIGN_SETTINGS = ("readers", "key_admins", "key_admin_mode", "deploy_role", "recordings_prefix")
SESSION_NAME = "recordings-kms-verify"


@dataclass(frozen=True)
class ClusterOption:
    """One ``--cluster NAME=ROLE_ARN[:PREFIX]``; ``prefix`` None: ``PREFIX/NAME`` (``--prefix``, default records)."""

    name: str
    role_arn: str
    prefix: str | None = None
    #: Who its trust must admit (``--cluster-trust``, T1); None: the trust is not judged.
    trusted: TrustedPrincipal | None = None

    @property
    def account(self) -> str:
        return self.role_arn.split(":")[4]

    def prefix_under(self, recordings_prefix: str) -> str:
        return self.prefix or f"{recordings_prefix}/{self.name}"

    @property
    def output_id(self) -> str:
        """The recordings stack's output for this cluster."""
        from constructs_lib.core.clusters import storage_uri_output_id

        return storage_uri_output_id(self.name)


@dataclass(frozen=True)
class WorkloadCredentials:
    """How to read one workload account's IAM: a named profile, or a role to assume."""

    account: str
    profile: str | None = None
    role_arn: str | None = None

    @property
    def source(self) -> str:
        return (
            f"--workload-profile {self.account}={self.profile}"
            if self.profile
            else f"--workload-role-arn {self.role_arn}"
        )


# --- options -------------------------------------------------------------------------------------------


def _json(value: str) -> str:
    return json.dumps(value)


def parse_cluster(value: str) -> ClusterOption | str:
    """``NAME=ROLE_ARN[:PREFIX]``, or why not (one line naming ``--cluster``)."""
    shape = "NAME=ROLE_ARN[:PREFIX], like prod=arn:aws:iam::111122223333:role/teleport-recordings-auth-prod"
    name, equals, rest = value.partition("=")
    if not equals:
        return f"'--cluster' must be {shape}, got {_json(value)}"
    if problem := cluster_name_rule(name):
        return f"'--cluster' {_json(value)}: the cluster name must be {problem}"
    parts = rest.split(":", 6)  # a role ARN has six ':'-separated fields; a seventh is the prefix
    role, prefix = ":".join(parts[:6]), (parts[6] if len(parts) == 7 else None)
    principal = arns.parse_iam_principal(role)
    if principal is None or principal.kind != "role":
        return f"'--cluster' {_json(value)}: {_json(role)} must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"
    if prefix is not None and (problem := prefix_rule(prefix)):
        return f"'--cluster' {_json(value)}: the prefix must be {problem}"
    return ClusterOption(name, principal.arn, prefix)


_TRUST_SHAPE = "NAME=ec2, NAME=pod-identity[,POD_IDENTITY_ROLE_ARN], NAME=irsa,OIDC_PROVIDER_ARN or NAME=principal,ARN"


def _principal_rule(value: str) -> str | None:
    return None if arns.parse_iam_principal(value) is not None else "an IAM role, user or account root ARN"


def parse_cluster_trust(value: str) -> tuple[str, TrustedPrincipal] | str:
    """``--cluster-trust NAME=TRUST[,ARN]``: who the cluster role's trust must admit, or why not (one line)."""
    from constructs_lib.core.prover.trust import trusted_principal
    from constructs_lib.core.settings.values import oidc_provider_rule, role_arn_rule

    name, equals, rest = value.partition("=")
    trust, _, arn = rest.partition(",")
    rules = {
        "ec2": None,
        "pod-identity": role_arn_rule if arn else None,
        "irsa": oidc_provider_rule,
        "principal": _principal_rule,
    }
    if not equals or trust not in rules:
        return f"'--cluster-trust' must be {_TRUST_SHAPE}, got {_json(value)}"
    rule = rules[trust]
    if rule is None and arn and trust == "ec2":
        return f"'--cluster-trust' {_json(value)}: ec2 takes no ARN"
    if rule is not None and (problem := rule(arn)):
        return f"'--cluster-trust' {_json(value)}: {_json(arn)} must be {problem}"
    found = trusted_principal(
        trust,
        auth_principal=arn or None,
        oidc_provider_arn=arn or None,
        pod_identity_role_arn=arn or None,
    )
    if found is None:  # pragma: no cover - every accepted shape names its principal
        return f"'--cluster-trust' must be {_TRUST_SHAPE}, got {_json(value)}"
    return name, found


def parse_workload_profile(value: str) -> WorkloadCredentials | str:
    account, equals, profile = value.partition("=")
    if not equals or not arns.is_account(account) or not profile.strip():
        return (
            f"'--workload-profile' must be ACCOUNT=PROFILE (a 12-digit account id and an AWS config profile), "
            f"got {_json(value)}"
        )
    return WorkloadCredentials(account, profile=profile)


def parse_workload_role(value: str) -> WorkloadCredentials | str:
    principal = arns.parse_iam_principal(value)
    if principal is None or principal.kind != "role":
        return f"'--workload-role-arn' must be an IAM role ARN to assume in a workload account, got {_json(value)}"
    return WorkloadCredentials(principal.account, role_arn=principal.arn)


@dataclass(frozen=True)
class CentralOptions:
    clusters: tuple[ClusterOption, ...]
    credentials: Mapping[str, WorkloadCredentials]
    recordings_prefix: str


def central_options(args: argparse.Namespace) -> CentralOptions | str:
    """The clusters and the workload credentials, or the first problem as one line naming its option."""
    clusters: list[ClusterOption] = []
    for value in args.clusters:
        parsed = parse_cluster(value)
        if isinstance(parsed, str):
            return parsed
        clusters.append(parsed)
    prefix = args.recordings_prefix or "records"
    for index, cluster in enumerate(clusters):
        for earlier in clusters[:index]:
            if cluster.name.replace("-", "") == earlier.name.replace("-", ""):
                return f"'--cluster' {_json(cluster.name)}: a cluster name given twice ({earlier.name})"
            if cluster.role_arn.lower() == earlier.role_arn.lower():
                return f"'--cluster' {_json(cluster.name)}: its role {cluster.role_arn} is cluster {earlier.name}'s too"
            mine, theirs = cluster.prefix_under(prefix), earlier.prefix_under(prefix)
            if overlapping(mine, theirs):
                return (
                    f"'--cluster' {_json(cluster.name)}: its prefix {_json(mine)} overlaps cluster {earlier.name}'s "
                    f"{_json(theirs)} (one is a string prefix of the other)"
                )
    for value in args.cluster_trusts:
        named = parse_cluster_trust(value)
        if isinstance(named, str):
            return named
        name, trusted = named
        at = next((i for i, c in enumerate(clusters) if c.name == name), None)
        if at is None:
            return f"'--cluster-trust' {_json(value)}: no --cluster is named {_json(name)}"
        if clusters[at].trusted is not None:
            return f"'--cluster-trust' {_json(value)}: cluster {name} has a --cluster-trust already"
        clusters[at] = dataclasses.replace(clusters[at], trusted=trusted)
    credentials: dict[str, WorkloadCredentials] = {}
    given = [(parse_workload_profile, v) for v in args.workload_profiles] + [
        (parse_workload_role, v) for v in args.workload_roles
    ]
    for parse, value in given:
        found = parse(value)
        if isinstance(found, str):
            return found
        if found.account in credentials:
            return (
                f"{found.source}: account {found.account} already has credentials "
                f"({credentials[found.account].source}); give one per workload account"
            )
        if not any(c.account == found.account for c in clusters):
            return f"{found.source}: no --cluster role is in account {found.account}"
        credentials[found.account] = found
    return CentralOptions(tuple(clusters), credentials, prefix)


def option_problem(args: argparse.Namespace) -> str | None:
    """The central layout's option problems (``None`` without ``--cluster`` and workload credentials)."""
    if not args.clusters:
        if args.workload_profiles or args.workload_roles or args.cluster_trusts:
            return (
                "'--workload-profile', '--workload-role-arn' and '--cluster-trust' go with --cluster (the organization "
                "layout)"
            )
        return None
    if args.auth_role is not None:
        return "'--auth' is refused with --cluster: each cluster names its own auth role (NAME=ROLE_ARN)"
    unbuilt = [
        option
        for option, given in (
            ("--probe", args.probe),
            ("--access-analyzer", args.access_analyzer),
            ("--alarm-topic", args.alarm_topic_arn is not None),
        )
        if given
    ]
    if unbuilt:
        return f"'{unbuilt[0]}' is not built with --cluster yet (the organization layout): run it without it"
    found = central_options(args)
    if isinstance(found, str):
        return found
    problems = problems_of(settings_from(args, (*CENTRAL_DESIGN_SETTINGS, "alarm_topic_arn")))
    return "; ".join(problems) if problems else None


def parameters_of(args: argparse.Namespace, deploy_role: str | None) -> DesignParameters:
    """The shared design (admins, readers of every cluster, the deploy role); each cluster adds its role and prefix.

    The recordings stack publishes no ``AccessDesign``, so the design is the options' (``deploy_role``: the
    design's deploy role, ``--deploy-role`` or the stack's RoleARN).
    """
    settings = settings_from(args, CENTRAL_DESIGN_SETTINGS)
    env = settings.environment()
    return DesignParameters(
        auth_role_arn="",
        reader_arns=tuple(principal_arns(settings.readers, env)),
        admin_arns=tuple(principal_arns(settings.key_admins, env)),
        admin_mode=KeyAdminMode(settings.key_admin_mode).value,
        deploy_role_arn=deploy_role,
        prefix=settings.recordings_prefix,
    )
