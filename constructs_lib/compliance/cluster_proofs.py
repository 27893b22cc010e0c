"""The access proofs of one cluster of the organization layout: its role's identity policy from its workload
stack, its peers, and P7 (``constructs_lib.central_storage`` records the design).

The role lives in another stack (another account), so its identity policies are read from that stack's
template in the same cloud assembly, resolved for the workload account. A design that names a workload
stack the assembly does not hold, or a policy that stack does not have, raises: the proofs plugin makes
that a CANNOT-PROVE (or, raised elsewhere, a fatal ERROR) that fails the gate, never a pass on evidence
not seen.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from constructs_lib.core.prover import ALL_PROPERTIES, Design, Evidence, PropertyResult
from constructs_lib.core.prover.model import TrustedPrincipal
from constructs_lib.core.prover.queries import P7
from constructs_lib.core.prover.trust import T1, prove_t1
from constructs_lib.core.template import IntrinsicResolver


def is_cluster_design(design: Mapping[str, Any]) -> bool:
    return design.get("cluster") is not None


def properties_of(design: Mapping[str, Any]) -> tuple[str, ...]:
    """P1-P6 for every storage, P7 for a cluster of the organization layout, and T1 for a cluster whose role
    the workload stack creates (its trust)."""
    if not is_cluster_design(design):
        return ALL_PROPERTIES
    return (*ALL_PROPERTIES, P7, *((T1,) if design.get("trustedPrincipal") is not None else ()))


def prove_with_trust(
    prove: Callable[..., list[PropertyResult]],
    design: Design,
    evidence: Evidence,
    wanted: Sequence[str],
    *,
    budget: Any = None,
) -> list[PropertyResult]:
    """``prove`` for every property but T1, which ``prover.trust`` answers from the trust policy; in order."""
    rest = [p for p in wanted if p != T1]
    answered = {r.id: r for r in prove(design, evidence, rest, budget=budget)} if rest else {}
    if T1 in wanted:
        answered[T1] = prove_t1(design, evidence)
    return [answered[p] for p in wanted if p in answered]


def _workload_template(template_path: Path, stack: str) -> Mapping[str, Any]:
    manifest = json.loads((template_path.parent / "manifest.json").read_text())
    artifact = manifest.get("artifacts", {}).get(stack)
    if artifact is None or artifact.get("type") != "aws:cloudformation:stack":
        raise ValueError(f"the cluster's workload stack {stack} is not in the cloud assembly")
    found: Mapping[str, Any] = json.loads((template_path.parent / artifact["properties"]["templateFile"]).read_text())
    return found


def identity_documents(
    template: Mapping[str, Any], logical_ids: Sequence[str], *, account: str, region: str, partition: str
) -> list[dict[str, Any]]:
    """The named policies' documents from a workload template, resolved for its account."""
    resolver = IntrinsicResolver(template, account=account, region=region, partition=partition)
    resources = template.get("Resources", {})
    documents = []
    for logical_id in logical_ids:
        resource = resources.get(logical_id)
        if resource is None or resource.get("Type") not in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            raise ValueError(f"the workload template has no IAM policy {logical_id}")
        documents.append(resolver.resolve(resource["Properties"]["PolicyDocument"]))
    return documents


def _as_this_key(value: Any, named: str, key_arn: str) -> Any:
    """``value`` with the key ARN the settings name (``recordingsKeyArn``) read as this stack's key.

    The deployed key's ARN cannot be known at synthesis (the template's key is a stand-in); the setting
    is the ``KeyArn`` output the operator copied. The proofs take it to name this key; a mistyped ARN
    names another key, which gives the role less (Teleport's writes fail), never more.
    """
    if isinstance(value, str):
        return key_arn if value == named else value
    if isinstance(value, list):
        return [_as_this_key(v, named, key_arn) for v in value]
    if isinstance(value, dict):
        return {k: _as_this_key(v, named, key_arn) for k, v in value.items()}
    return value


def with_cluster_facts(
    made: Design, evidence: Evidence, design: Mapping[str, Any], template_path: Path
) -> tuple[Design, Evidence]:
    """The cluster's design with its peers, and the evidence with its role's identity policies.

    Only the cluster's own role's policies are supplied: the peers' are left unknown (the prover takes
    them to allow anything), since their accounts' administrators can rewrite them.
    """
    if not is_cluster_design(design):
        return made, evidence
    stack, logical_ids = design.get("identityStack"), design.get("identityPolicyLogicalIds")
    if not isinstance(stack, str) or not isinstance(logical_ids, list):
        raise ValueError(f"cluster {design['cluster']} recorded no workload stack: its role's policies were not seen")
    documents = identity_documents(
        _workload_template(template_path, stack),
        logical_ids,
        account=str(design["identityAccount"]),
        region=made.region,
        partition=made.partition,
    )
    named = design.get("identityKeyArn")
    if isinstance(named, str):
        documents = [_as_this_key(d, named, made.key_arn) for d in documents]
    peers = design.get("peers")
    if not isinstance(peers, list) or not all(isinstance(p, str) for p in peers):
        raise ValueError(f"cluster {design['cluster']} recorded no peers")
    identities = {**evidence.identity_policies, made.auth_role_arn: documents}
    trusted, trust = _trust(design, template_path, stack, made)
    return (
        dataclasses.replace(
            made,
            peer_arns=tuple(peers),
            key_per_cluster=design.get("keyPerCluster") is True,
            auth_trusted=trusted,
        ),
        dataclasses.replace(evidence, identity_policies=identities, auth_trust_policy=trust),
    )


def _trust(
    design: Mapping[str, Any], template_path: Path, stack: str, made: Design
) -> tuple[TrustedPrincipal | None, Mapping[str, Any] | None]:
    """Who the created role should trust, and its trust policy from the workload template (T1)."""
    expected = design.get("trustedPrincipal")
    if expected is None:
        return None, None
    logical_id = design.get("identityRoleLogicalId")
    template = _workload_template(template_path, stack)
    role = template.get("Resources", {}).get(logical_id) if isinstance(logical_id, str) else None
    if role is None or role.get("Type") != "AWS::IAM::Role":
        raise ValueError(
            f"cluster {design['cluster']}'s workload template has no role {logical_id}: its trust was not seen"
        )
    resolver = IntrinsicResolver(
        template, account=str(design["identityAccount"]), region=made.region, partition=made.partition
    )
    trusted = TrustedPrincipal(str(expected["kind"]), str(expected["value"]), bool(expected.get("sessionTags")))
    return trusted, resolver.resolve(role["Properties"]["AssumeRolePolicyDocument"])


# --- the guardrails over both sides (G1-G4 per cluster: stacks/guardrails_stack.py records the facts) ---------


def guarded_clusters(facts: Mapping[str, Any]) -> list[Mapping[str, Any] | None]:
    """The cluster roles a guardrails stack recorded, each proven on its own; ``[None]`` in one account."""
    entries = facts.get("clusters")
    if not isinstance(entries, list):
        return [None]
    return [entry if isinstance(entry, Mapping) else {} for entry in entries]


def guarded_role(facts: Mapping[str, Any], cluster: Mapping[str, Any] | None) -> tuple[Mapping[str, Any], list[str]]:
    """Where the protected role's facts are (the cluster's entry, or the one-account facts), and what they lack."""
    if cluster is None:
        return facts, []
    whole = isinstance(cluster.get("authRoleArn"), str) and isinstance(cluster.get("exemptPrincipalArns"), list)
    return cluster, [] if whole else ["clusters[].authRoleArn and exemptPrincipalArns"]


def guardrail_accounts(facts: Mapping[str, Any], account: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Where the SCP applies and who is in the organization: what the organization layout recorded (every
    account of the layout), else the recordings account (and, in the organization, the management account)."""
    scp_accounts = tuple(facts.get("scpAccounts") or (account,))
    return scp_accounts, tuple(facts.get("organizationAccounts") or (account, facts["managementAccount"]))
