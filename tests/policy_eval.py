"""Evaluate the synthesized bucket and key policies with principalmapper: the glue, not an evaluator.

Three pieces, each small:

* ``IntrinsicResolver`` turns CloudFormation intrinsics (``Ref``, ``Fn::GetAtt``, ``Fn::Join``, ``Fn::Sub``
  and the pseudo-parameters) into concrete test values, and raises ``UnresolvableIntrinsicError`` on anything
  else, so a template change can never slip an unresolved token into an evaluation.
* ``prepare_policy`` checks that a policy only uses the statement elements and condition operators whose
  principalmapper behaviour ``tests/test_policy_eval.py`` proves against AWS documentation examples, and
  writes JSON booleans and numbers in condition values as the strings IAM compares them as (the one
  extension to principalmapper: it only understands string values).
* ``evaluate_*`` map principalmapper 1.1.5's answers to the decisions the access-model tables speak in.
"""

from __future__ import annotations

import collections
import collections.abc
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# principalmapper 1.1.5 predates Python 3.10 and imports these names from ``collections``.
for _name in ("Mapping", "MutableMapping"):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))

from principalmapper.common import Node, Policy  # noqa: E402
from principalmapper.graphing import ec2_edges, iam_edges, sts_edges  # noqa: E402
from principalmapper.querying.local_policy_simulation import (  # noqa: E402
    ResourcePolicyEvalResult,
    resource_policy_authorization,
)
from principalmapper.querying.query_interface import local_check_authorization_full  # noqa: E402

from constructs_lib.core.template import IntrinsicResolver, UnresolvableIntrinsicError  # noqa: E402

__all__ = [
    "ADMINISTRATOR_ACCESS",
    "NO_TRUST",
    "SUPPORTED_CONDITION_OPERATORS",
    "Decision",
    "IntrinsicResolver",
    "Node",
    "PolicyDocument",
    "RequestContext",
    "ResourcePolicyEvalResult",
    "StackPolicies",
    "UnresolvableIntrinsicError",
    "UnsupportedPolicyError",
    "evaluate_bucket_policy",
    "evaluate_key_policy",
    "is_authorized",
    "paths_to",
    "prepare_policy",
    "principal",
    "resource_policy_authorization",
    "stack_policies",
    "statements_without",
]

PolicyDocument = dict[str, Any]
RequestContext = Mapping[str, str | list[str]]

PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"

#: ``AdministratorAccess``: the identity policy of the worst-case principal that the key policy must keep out.
ADMINISTRATOR_ACCESS: PolicyDocument = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


class UnsupportedPolicyError(ValueError):
    """The policy uses an element or operator whose principalmapper behaviour is not proven here."""


# --- The stack's policies, resolved --------------------------------------------------------------


@dataclass(frozen=True)
class StackPolicies:
    """What the access model is about, taken from one synthesized template with concrete values."""

    bucket_name: str
    bucket_arn: str
    key_id: str
    key_arn: str
    auth_role_arn: str
    bucket_policy: PolicyDocument
    key_policy: PolicyDocument
    #: The identity policies attached to the auth role by the template (managed and inline).
    auth_role_policies: tuple[PolicyDocument, ...]
    #: The created auth role's trust policy and instance profile (None for an existing role).
    auth_role_trust_policy: PolicyDocument | None
    auth_instance_profile_arn: str | None


def _output_target(template: Mapping[str, Any], output: str) -> str:
    """The logical id an output's ``Ref`` or ``Fn::GetAtt`` points at."""
    value = template["Outputs"][output]["Value"]
    if "Ref" in value:
        return str(value["Ref"])
    if "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    raise UnresolvableIntrinsicError(f"output {output} does not reference a resource: {value!r}")


def stack_policies(template: Mapping[str, Any], *, account: str, region: str) -> StackPolicies:
    """The recordings bucket policy, key policy and auth role policies of a session recordings stack.

    The resources are found through the stack's outputs (``BucketName``, ``KeyArn``, ``AuthRoleArn``),
    so an extra bucket (the access-log bucket) or policy cannot be mistaken for the recordings one.
    """
    resolver = IntrinsicResolver(template, account=account, region=region)
    resources = template["Resources"]
    bucket_id = _output_target(template, "BucketName")
    key_id = _output_target(template, "KeyArn")
    outputs = {
        name: resolver.resolve(template["Outputs"][name]["Value"])
        for name in ("BucketName", "KeyArn", "KeyId", "AuthRoleArn")
    }

    bucket_policies = [
        r["Properties"]["PolicyDocument"]
        for r in resources.values()
        if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    if len(bucket_policies) != 1:
        raise AssertionError(f"expected one bucket policy on {bucket_id}, found {len(bucket_policies)}")

    role_ref = template["Outputs"]["AuthRoleArn"]["Value"]
    role_policies: list[PolicyDocument] = []
    trust_policy: PolicyDocument | None = None
    instance_profile: str | None = None
    if isinstance(role_ref, dict) and "Fn::GetAtt" in role_ref:
        role_id = role_ref["Fn::GetAtt"][0]
        role_properties = resources[role_id].get("Properties", {})
        trust_policy = resolver.resolve(role_properties["AssumeRolePolicyDocument"])
        instance_profile = next(
            (
                f"arn:{PARTITION}:iam::{account}:instance-profile/"
                + str(resolver.resolve(r["Properties"].get("InstanceProfileName", logical_id)))
                for logical_id, r in resources.items()
                if r["Type"] == "AWS::IAM::InstanceProfile" and {"Ref": role_id} in r["Properties"]["Roles"]
            ),
            None,
        )
        if role_properties.get("ManagedPolicyArns"):
            raise UnsupportedPolicyError(f"{role_id} attaches managed policies by ARN; their documents are not known")
        role_policies += [p["PolicyDocument"] for p in role_properties.get("Policies", [])]
        role_policies += [
            r["Properties"]["PolicyDocument"]
            for r in resources.values()
            if r["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy")
            and {"Ref": role_id} in r["Properties"].get("Roles", [])
        ]

    return StackPolicies(
        bucket_name=outputs["BucketName"],
        bucket_arn=f"arn:{PARTITION}:s3:::{outputs['BucketName']}",
        key_id=outputs["KeyId"],
        key_arn=outputs["KeyArn"],
        auth_role_arn=outputs["AuthRoleArn"],
        bucket_policy=resolver.resolve(bucket_policies[0]),
        key_policy=resolver.resolve(resources[key_id]["Properties"]["KeyPolicy"]),
        auth_role_policies=tuple(resolver.resolve(p) for p in role_policies),
        auth_role_trust_policy=trust_policy,
        auth_instance_profile_arn=instance_profile,
    )


# --- Policies principalmapper can be trusted with ------------------------------------------------

#: Condition operators whose principalmapper 1.1.5 semantics tests/test_policy_eval.py checks against
#: the AWS documentation. Others are refused: e.g. it ignores unknown operators (the condition then
#: matches), mis-handles ``StringNotLike`` on an absent key and ``Numeric*IfExists``.
SUPPORTED_CONDITION_OPERATORS = frozenset(
    {"StringEquals", "StringNotEquals", "StringLike", "Bool", "Null", "NumericLessThan", "ArnEquals"}
)
_STATEMENT_ELEMENTS = frozenset({"Sid", "Effect", "Principal", "Action", "Resource", "Condition"})


def _condition_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        # IAM reads JSON true/false and numbers as their text ("true", "1.2"); principalmapper compares
        # strings only (``"Bool": {"k": false}`` would never match, ``NumericLessThan: 1.2`` would raise).
        return json.dumps(value)
    raise UnsupportedPolicyError(f"condition value {value!r} is not a string, boolean or number")


def prepare_policy(document: Mapping[str, Any], *, resource_policy: bool) -> PolicyDocument:
    """A copy of ``document`` that principalmapper evaluates as IAM would, or ``UnsupportedPolicyError``."""
    statements = document["Statement"]
    statements = statements if isinstance(statements, list) else [statements]
    prepared: list[dict[str, Any]] = []
    for statement in statements:
        extra = set(statement) - _STATEMENT_ELEMENTS
        if extra:
            raise UnsupportedPolicyError(f"statement elements {sorted(extra)} are not supported: {statement!r}")
        if statement["Effect"] not in ("Allow", "Deny"):
            raise UnsupportedPolicyError(f"effect {statement['Effect']!r}")
        copy = dict(statement)
        if resource_policy:
            principal = statement.get("Principal")
            if not isinstance(principal, dict) or set(principal) != {"AWS"}:
                raise UnsupportedPolicyError(f"only {{'AWS': ...}} principals are supported: {principal!r}")
            if principal["AWS"] == "*":
                # IAM reads {"AWS": "*"} as "*" (everyone, subject to the conditions); principalmapper
                # reads it as a delegation to the account (test_quirk_aws_wildcard_principal...).
                copy["Principal"] = "*"
        elif "Principal" in statement:
            raise UnsupportedPolicyError("an identity policy statement has no Principal")
        condition: dict[str, dict[str, str | list[str]]] = {}
        for operator, keys in statement.get("Condition", {}).items():
            if operator not in SUPPORTED_CONDITION_OPERATORS:
                raise UnsupportedPolicyError(f"condition operator {operator} is not proven with principalmapper")
            condition[operator] = {
                key: [_condition_value(v) for v in values] if isinstance(values, list) else _condition_value(values)
                for key, values in keys.items()
            }
        if condition:
            copy["Condition"] = condition
        prepared.append(copy)
    return {"Version": document.get("Version", "2012-10-17"), "Statement": prepared}


# --- Principals ----------------------------------------------------------------------------------


#: The trust policy of a role nobody may assume.
NO_TRUST: PolicyDocument = {"Version": "2012-10-17", "Statement": []}


def principal(
    arn: str,
    policies: Iterable[Mapping[str, Any]] = (),
    *,
    trust_policy: Mapping[str, Any] | None = None,
    instance_profile_arn: str | None = None,
) -> Node:
    """A principalmapper node for an IAM role or user ARN, with these identity policies attached.

    A role's trust policy and instance profile only matter to ``paths_to`` (who can become the role).
    """
    is_role = ":role/" in arn
    attached = [
        Policy(arn, f"policy{index}", prepare_policy(document, resource_policy=False))
        for index, document in enumerate(policies)
    ]
    return Node(
        arn=arn,
        id_value=("AROA" if is_role else "AIDA") + uuid.uuid5(uuid.NAMESPACE_URL, arn).hex[:17].upper(),
        attached_policies=attached,
        group_memberships=[],
        trust_policy=(dict(trust_policy) if trust_policy is not None else NO_TRUST) if is_role else None,
        instance_profile=[instance_profile_arn] if instance_profile_arn is not None else None,
        num_access_keys=0,
        active_password=False,
        is_admin=False,
        permissions_boundary=None,
        has_mfa=False,
        tags={},
    )


def account_of(arn: str) -> str:
    return arn.split(":")[4]


# --- Decisions -----------------------------------------------------------------------------------


class Decision(StrEnum):
    """The outcome of one request in the access-model tables."""

    #: A Deny statement of the policy matches.
    DENIED = "explicitly denied"
    #: Bucket policy (Deny statements only): no statement matches; identity policies decide.
    NOT_DENIED = "not denied"
    #: Key policy: a statement naming this principal allows it; nothing else is needed.
    ALLOWED = "allowed by the key policy"
    #: Key policy: allowed only because the key policy delegates to IAM (account root or another
    #: account) and an identity policy allows it. The recordings key policy must never produce this.
    ALLOWED_VIA_IAM = "allowed via IAM delegation"
    #: Key policy: no statement allows it (implicit deny); no identity policy can change that.
    NOT_ALLOWED = "not allowed (implicit deny)"


def with_principal_keys(who: Node, context: RequestContext) -> dict[str, Any]:
    """The request context with ``aws:PrincipalArn``, which IAM sets on every request.

    principalmapper's full check infers it; its resource-policy check alone does not.
    """
    return {"aws:PrincipalArn": who.arn, **dict(context)}


def evaluate_bucket_policy(
    bucket_policy: Mapping[str, Any], who: Node, action: str, resource: str, context: RequestContext, *, owner: str
) -> Decision:
    """Whether the (Deny-only) bucket policy of a bucket in account ``owner`` explicitly denies the request."""
    prepared = prepare_policy(bucket_policy, resource_policy=True)
    if any(s["Effect"] != "Deny" for s in prepared["Statement"]):
        raise UnsupportedPolicyError("the recordings bucket policy is expected to hold Deny statements only")
    result = resource_policy_authorization(who, owner, prepared, action, resource, with_principal_keys(who, context))
    if result is ResourcePolicyEvalResult.DENY_MATCH:
        return Decision.DENIED
    assert result is ResourcePolicyEvalResult.NO_MATCH, result
    return Decision.NOT_DENIED


def evaluate_key_policy(
    key_policy: Mapping[str, Any], who: Node, action: str, key_arn: str, context: RequestContext
) -> Decision:
    """What the key policy (with the principal's identity policies) decides for a request on the key.

    principalmapper's full check implements KMS's rule that an identity policy only counts when the key
    policy delegates to IAM; the resource-policy result says whether an allow came from the key policy
    itself (the principal is named) or through that delegation.
    """
    prepared = prepare_policy(key_policy, resource_policy=True)
    owner = account_of(key_arn)
    result = resource_policy_authorization(who, owner, prepared, action, key_arn, with_principal_keys(who, context))
    if result is ResourcePolicyEvalResult.DENY_MATCH:
        return Decision.DENIED
    if not local_check_authorization_full(who, action, key_arn, dict(context), prepared, owner):
        return Decision.NOT_ALLOWED
    if result is ResourcePolicyEvalResult.NODE_MATCH and account_of(who.arn) == owner:
        return Decision.ALLOWED
    assert result in (ResourcePolicyEvalResult.ROOT_MATCH, ResourcePolicyEvalResult.DIFF_ACCOUNT_MATCH), result
    return Decision.ALLOWED_VIA_IAM


def is_authorized(
    who: Node,
    action: str,
    resource: str,
    context: RequestContext,
    *,
    resource_policy: Mapping[str, Any] | None = None,
    owner: str | None = None,
) -> bool:
    """principalmapper's full decision: identity policies, the resource policy and KMS's key-policy rule."""
    prepared = None if resource_policy is None else prepare_policy(resource_policy, resource_policy=True)
    return bool(local_check_authorization_full(who, action, resource, dict(context), prepared, owner))


def statements_without(document: Mapping[str, Any], sids: Sequence[str]) -> PolicyDocument:
    """``document`` minus the statements with these Sids (for the mutation tests)."""
    missing = set(sids) - {s.get("Sid") for s in document["Statement"]}
    if missing:
        raise KeyError(f"no statement with Sid {sorted(missing)}")
    return {**document, "Statement": [s for s in document["Statement"] if s.get("Sid") not in sids]}


def paths_to(target: Node, sources: Sequence[Node]) -> dict[str, list[str]]:
    """How each source can act as ``target``, by principalmapper's offline edge checks.

    Only the IAM (change a role's trust policy, a user's keys or password), STS (assume a role whose
    trust policy allows it) and EC2 (pass the role to an instance) checks: the services this stack's
    principals are reachable through. Lambda, CloudFormation, SSM and the others are not consulted.
    """
    nodes = [*sources, target]
    edges = [*iam_edges.generate_edges_locally(nodes), *sts_edges.generate_edges_locally(nodes)]
    edges += ec2_edges.generate_edges_locally(nodes)
    paths: dict[str, list[str]] = {source.arn: [] for source in sources}
    for edge in edges:
        if edge.destination is target and edge.source is not target:
            paths[edge.source.arn].append(edge.reason)
    return paths
