"""``verify`` on the organization layout: the recordings account's key and bucket, and each cluster's role.

The key, the bucket and their policies are read with the caller's credentials (the recordings account's);
each cluster's auth role lives in a workload account (docs/ORGANIZATION.md), and its trust and identity
policies are read there with ``--workload-profile ACCOUNT=PROFILE`` or ``--workload-role-arn ARN``
(assumed with ``sts:AssumeRole``). Which clusters exist is given by ``--cluster NAME=ROLE_ARN[:PREFIX]``:
the recordings stack's outputs name each cluster's StorageUri, not its role, and a role in another
account cannot be listed from the recordings account. With ``--stack-name`` the outputs give the
bucket, the key and each cluster's ``StorageUriNAME``, which must agree with the ``--cluster`` options.

Per cluster: P1-P6 with that cluster's role as the auth role and its prefix, and P7 (no other cluster's
role or reader reaches its recordings), each line named ``access.P1[NAME]``. Cross-account access needs
both sides (KMS Developer Guide, "Allowing users in other accounts to use a KMS key": "Neither the key
policy nor the IAM policy alone is sufficient"), so for a role of another account whose identity
policies could not be read (no credentials for its account, AccessDenied, no such role) P5 is
CANNOT-PROVE, naming the account, the role and what was missing; never a PASS on evidence not seen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from recordings_kms.access import DesignParameters
from recordings_kms.results import CheckResult, Status, property_results
from recordings_kms.verify.cluster_options import SESSION_NAME, CentralOptions, ClusterOption, WorkloadCredentials

if TYPE_CHECKING:
    import boto3

    from constructs_lib.core.prover import Design, Evidence
    from recordings_kms import aws
    from recordings_kms.verify.facts import BucketFacts, IdentityFacts, KeyFacts


# --- credentials and reads -----------------------------------------------------------------------------


def workload_session(
    clients: aws.Clients, credentials: WorkloadCredentials
) -> tuple[boto3.session.Session | None, str]:
    """A session for the workload account, or why there is none (a refused AssumeRole is evidence not read)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from recordings_kms import aws

    if credentials.profile is not None:
        try:
            return boto3.session.Session(profile_name=credentials.profile), ""
        except BotoCoreError as error:  # ProfileNotFound: a bad option value, not missing evidence
            raise aws.AwsError(f"{credentials.source}: {' '.join(str(error).split())}") from error
    base = clients.session or boto3.session.Session()
    try:
        sts = base.client("sts", region_name=clients.region, endpoint_url=clients.endpoint_url, config=clients.config)
        found = sts.assume_role(RoleArn=credentials.role_arn or "", RoleSessionName=SESSION_NAME)["Credentials"]
    except ClientError as error:
        code = aws.error_code(error)
        denied = "access denied" if aws.is_access_denied(error) else code
        return None, f"sts:AssumeRole on {credentials.role_arn} failed ({denied}) with the caller's credentials"
    except BotoCoreError as error:
        return None, f"sts:AssumeRole on {credentials.role_arn} failed: {' '.join(str(error).split())}"
    session = boto3.session.Session(
        aws_access_key_id=found["AccessKeyId"],
        aws_secret_access_key=found["SecretAccessKey"],
        aws_session_token=found["SessionToken"],
    )
    return session, ""


@dataclass(frozen=True)
class ClusterFacts:
    """One cluster as read: its role's identity (and trust) policies, or why they could not be read."""

    cluster: ClusterOption
    prefix: str
    identity: IdentityFacts
    #: Which credentials read it: the caller's (the recordings account) or a ``--workload-*`` option.
    source: str
    #: The role is in another account than the key and bucket: P5 then needs its identity policies.
    cross_account: bool


def gather_clusters(clients: aws.Clients, options: CentralOptions, recordings_account: str) -> list[ClusterFacts]:
    """Each cluster's identity facts, read in its own account; every unreadable one names what was missing."""
    from botocore.exceptions import BotoCoreError

    from recordings_kms.verify import readers
    from recordings_kms.verify.facts import IdentityFacts

    sessions: dict[str, tuple[boto3.session.Session | None, str]] = {}
    found: list[ClusterFacts] = []
    for cluster in options.clusters:
        account = cluster.account
        prefix = cluster.prefix_under(options.recordings_prefix)
        cross = account != recordings_account
        credentials = options.credentials.get(account)
        if credentials is None and cross:
            problem = (
                f"no credentials for account {account}: pass --workload-profile {account}=PROFILE or "
                f"--workload-role-arn arn:aws:iam::{account}:role/NAME"
            )
            found.append(ClusterFacts(cluster, prefix, IdentityFacts(cluster.role_arn, problem=problem), "none", cross))
            continue
        if credentials is None:
            identity = readers.gather_identity(clients, cluster.role_arn)
            found.append(ClusterFacts(cluster, prefix, identity, "the caller's (recordings account)", cross))
            continue
        if account not in sessions:
            sessions[account] = workload_session(clients, credentials)
        session, problem = sessions[account]
        if session is None:
            identity = IdentityFacts(cluster.role_arn, problem=problem)
        else:
            try:
                iam = session.client(
                    "iam", region_name=clients.region, endpoint_url=clients.endpoint_url, config=clients.config
                )
            except BotoCoreError as error:
                identity = IdentityFacts(cluster.role_arn, problem=" ".join(str(error).split()))
            else:
                identity = readers.gather_identity(clients, cluster.role_arn, iam=iam)
        found.append(ClusterFacts(cluster, prefix, identity, credentials.source, cross))
    return found


# --- checks -----------------------------------------------------------------------------------------------


def _named(result: CheckResult, name: str) -> CheckResult:
    return dataclasses.replace(result, id=f"{result.id}[{name}]")


def cluster_design(
    parameters: DesignParameters, facts: ClusterFacts, everyone: Sequence[ClusterFacts], *, key_arn: str, bucket: str
) -> Design:
    """The cluster's design: its role as the auth role, its prefix, the other clusters' roles as its peers."""
    mine = dataclasses.replace(parameters, auth_role_arn=facts.cluster.role_arn, prefix=facts.prefix)
    design = mine.design(key_arn=key_arn, bucket=bucket)
    peers = tuple(c.cluster.role_arn for c in everyone if c.cluster.name != facts.cluster.name)
    return dataclasses.replace(design, peer_arns=peers, auth_trusted=facts.cluster.trusted)


def check_cluster_evidence(facts: ClusterFacts) -> list[CheckResult]:
    from recordings_kms.verify.checks import IDENTITY_READS, check_identity_evidence

    name, identity = facts.cluster.name, facts.identity
    where = f"cluster {name}'s role {identity.principal} (account {facts.cluster.account}; credentials: {facts.source})"
    if identity.documents is None:
        consequence = (
            "P5 cannot be proven: a role of another account needs its identity policies as well as the key and "
            "bucket policies"
            if facts.cross_account
            else "P5 judged the key policy, the grants and the bucket policy only"
        )
        return [
            CheckResult(
                f"evidence.identity-policies[{name}]",
                Status.WARN,
                f"cannot read the identity policies of {where}: {identity.problem}; {consequence} "
                f"(needs {IDENTITY_READS} in that account)",
            )
        ]
    lines = [_named(line, name) for line in check_identity_evidence(identity)]
    return [
        dataclasses.replace(
            lines[0], reason=f"{lines[0].reason} (account {facts.cluster.account}; credentials: {facts.source})"
        ),
        *lines[1:],
    ]


def check_cluster_access(
    design: Design, evidence: Evidence | None, facts: ClusterFacts, problem: str
) -> list[CheckResult]:
    """P1-P7 for one cluster; P5 CANNOT-PROVE for a role of another account whose identity policies were not read."""
    from constructs_lib.core.prover import ALL_PROPERTIES, PolicyFormatError
    from constructs_lib.core.prover import prove as prove_all
    from constructs_lib.core.prover.queries import P7

    wanted = (*ALL_PROPERTIES, P7)
    name = facts.cluster.name
    if evidence is None:
        return [
            CheckResult(f"access.{p}[{name}]", Status.CANNOT_PROVE, f"cannot prove: {problem}", not_modelled=(problem,))
            for p in wanted
        ]
    identities = {facts.identity.principal: facts.identity.documents} if facts.identity.documents is not None else {}
    mine = dataclasses.replace(evidence, identity_policies=identities)
    try:
        lines = property_results(prove_all(design, mine, wanted))
    except PolicyFormatError as error:
        reason = f"the live policies are not in a form the prover reads: {error}"
        return [
            CheckResult(f"access.{p}[{name}]", Status.CANNOT_PROVE, f"cannot prove: {reason}", not_modelled=(reason,))
            for p in wanted
        ]
    results = []
    for line in lines:
        if (
            line.id == "access.P5"
            and line.status is not Status.INFO
            and facts.identity.documents is None
            and facts.cross_account
        ):
            missing = (
                f"the identity policies of {facts.identity.principal} in account {facts.cluster.account} were not read "
                f"({facts.identity.problem})"
            )
            line = dataclasses.replace(
                line,
                status=Status.CANNOT_PROVE if line.status is Status.PASS else line.status,
                reason=(
                    f"cannot prove that Teleport's requests are allowed: {missing}; the key and bucket policies "
                    "alone do not allow a role of another account"
                    if line.status is Status.PASS
                    else line.reason
                ),
                not_modelled=(*line.not_modelled, missing) if line.status is Status.PASS else line.not_modelled,
            )
        results.append(_named(line, name))
    return [*results, check_cluster_trust(design, facts)]


def check_cluster_trust(design: Design, facts: ClusterFacts) -> CheckResult:
    """T1 on the role's live trust policy, when ``--cluster-trust`` says whom it must admit."""
    from constructs_lib.core.prover import Evidence as ProverEvidence
    from constructs_lib.core.prover.trust import prove_t1

    name, identity = facts.cluster.name, facts.identity
    check_id = f"access.T1[{name}]"
    if design.auth_trusted is None:
        return CheckResult(
            check_id, Status.INFO, f"the trust of {identity.principal} is not judged: pass --cluster-trust {name}=..."
        )
    if identity.trust_policy is None:
        missing = (
            f"the trust policy of {identity.principal} (account {facts.cluster.account}) was not read "
            f"({identity.problem or 'iam:GetRole returned none'})"
        )
        return CheckResult(check_id, Status.CANNOT_PROVE, f"cannot prove: {missing}", not_modelled=(missing,))
    (line,) = property_results(
        [prove_t1(design, ProverEvidence(key_policy={}, auth_trust_policy=identity.trust_policy))]
    )
    return dataclasses.replace(line, id=check_id)


def check_storage_uris(
    outputs: Mapping[str, str], clusters: Sequence[ClusterFacts], bucket: BucketFacts, key: KeyFacts
) -> list[CheckResult]:
    """Each ``--cluster`` has its ``StorageUriNAME`` output naming this bucket, key and its prefix; no output is
    left without a cluster (its role would go unjudged)."""
    from recordings_kms.verify.configuration_checks import check_storage_uri

    results = []
    for facts in clusters:
        uri = outputs.get(facts.cluster.output_id)
        if uri is None:
            results.append(
                CheckResult(
                    f"stack.storage-uri[{facts.cluster.name}]",
                    Status.FAIL,
                    f"the stack has no output {facts.cluster.output_id}: it serves no cluster {facts.cluster.name}",
                )
            )
        else:
            results.append(_named(check_storage_uri(uri, bucket, key, facts.prefix), facts.cluster.name))
    named = {c.cluster.output_id for c in clusters}
    extra = sorted(k for k in outputs if k.startswith("StorageUri") and k != "StorageUri" and k not in named)
    if extra:
        results.append(
            CheckResult(
                "stack.clusters",
                Status.FAIL,
                f"the stack serves clusters that no --cluster names ({', '.join(extra)}): their roles were not judged",
            )
        )
    return results


def verify_clusters(
    key: KeyFacts,
    bucket: BucketFacts,
    parameters: DesignParameters,
    clusters: Sequence[ClusterFacts],
    *,
    deploy_role: str | None,
    deploy_role_source: str,
) -> tuple[list[CheckResult], list[Design]]:
    """The per-cluster lines (evidence, P1-P7) and the deploy-role check once (the key is shared)."""
    from recordings_kms.verify.checks import check_deploy_role, live_evidence

    evidence, problem = live_evidence(key, bucket, None)
    designs = [cluster_design(parameters, c, clusters, key_arn=key.arn, bucket=bucket.name) for c in clusters]
    results: list[CheckResult] = []
    for design, facts in zip(designs, clusters, strict=True):
        results += check_cluster_evidence(facts)
        results += check_cluster_access(design, evidence, facts, problem)
    if evidence is not None and designs:
        results += check_deploy_role(designs[0], evidence, deploy_role, source=deploy_role_source)
    else:
        results.append(
            CheckResult(
                "deploy.put-key-policy", Status.CANNOT_PROVE, f"cannot prove: {problem}", not_modelled=(problem,)
            )
        )
    return results, designs


def design_line(designs: Sequence[Design]) -> str:
    first = designs[0]
    clusters = "; ".join(f"{d.auth_role_arn} on {d.prefix}/" for d in designs)
    readers = ", ".join(first.reader_arns) or "none"
    admins = ", ".join(first.admin_arns) or "none"
    return (
        f"design: {len(designs)} clusters: {clusters}; readers {readers}; key admins {admins} ({first.admin_mode}); "
        f"deploy role {first.deploy_role_arn or 'none'}"
    )
