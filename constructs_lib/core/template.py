"""Synthesized templates as the prover reads them: intrinsics resolved, policies found (pure).

``IntrinsicResolver`` turns CloudFormation intrinsics (``Ref``, ``Fn::GetAtt``, ``Fn::Join``,
``Fn::Sub``, pseudo-parameters, template parameters) into concrete stand-in values that are
consistent across one template: a KMS key's ``Ref`` is a key id derived from its logical id, a role
with a generated name is named after its logical id, a parameter stands for ``param-<name>``.
Anything it does not model raises :class:`UnresolvableIntrinsicError`, so an unresolved token can
never slip into a proof.

``proof_inputs`` reads the design a ``SessionRecordingsStorage`` recorded in the stack's metadata
(``DESIGN_METADATA``) and returns the prover's :class:`Design` and :class:`Evidence`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from constructs_lib.core.prover import Design, Evidence

#: The metadata type under which a storage records its design (``node.add_metadata``).
DESIGN_METADATA = "teleport-recordings:design"
#: The metadata type under which a guardrails stack records what it protects (``guardrails.GuardedDesign``
#: by camelCase names, and ``managementAccount``), for the guardrail proofs (G1-G4).
GUARDRAILS_METADATA = "teleport-recordings:guardrails"
#: Stand-ins for an environment-agnostic stack (its account and region are unknown at synth).
PLACEHOLDER_ACCOUNT = "000000000000"
PLACEHOLDER_REGION = "us-east-1"
URL_SUFFIX = "amazonaws.com"

PolicyDocument = dict[str, Any]
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class UnresolvableIntrinsicError(ValueError):
    """The template uses an intrinsic function, parameter or attribute the resolver does not model."""


class IntrinsicResolver:
    """Resolve a template's intrinsics to concrete values for one account, region and partition."""

    def __init__(self, template: Mapping[str, Any], *, account: str, region: str, partition: str = "aws") -> None:
        self.resources: Mapping[str, Mapping[str, Any]] = template.get("Resources", {})
        self.parameters: Mapping[str, Mapping[str, Any]] = template.get("Parameters", {})
        self.pseudo_parameters = {
            "AWS::Partition": partition,
            "AWS::AccountId": account,
            "AWS::Region": region,
            "AWS::URLSuffix": URL_SUFFIX,
        }
        self.account, self.region, self.partition = account, region, partition

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic replaced by a plain string."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        intrinsic = [k for k in value if k == "Ref" or k.startswith("Fn::")]
        if not intrinsic:
            return {k: self.resolve(v) for k, v in value.items()}
        if len(value) != 1:
            raise UnresolvableIntrinsicError(f"an intrinsic must be the only key of its object: {value!r}")
        name, argument = next(iter(value.items()))
        if name == "Ref":
            return self.ref(str(argument))
        if name == "Fn::GetAtt":
            logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
            return self.get_att(str(logical_id), str(attribute))
        if name == "Fn::Join":
            delimiter, items = argument
            parts = self.resolve(items)
            if not all(isinstance(p, str) for p in parts):
                raise UnresolvableIntrinsicError(f"Fn::Join of non-strings: {parts!r}")
            return str(delimiter).join(parts)
        if name == "Fn::Sub":
            return self._sub(argument)
        raise UnresolvableIntrinsicError(f"intrinsic {name} is not modelled: {value!r}")

    def ref(self, name: str) -> str:
        if name in self.pseudo_parameters:
            return self.pseudo_parameters[name]
        if name.startswith("AWS::"):
            raise UnresolvableIntrinsicError(f"pseudo-parameter {name} is not modelled")
        if name in self.parameters:
            if self.parameters[name].get("Type", "String") != "String":
                raise UnresolvableIntrinsicError(f"parameter {name} of type {self.parameters[name]['Type']}")
            return f"param-{name.lower()}"
        resource_type = self._type_of(name)
        properties = self.resources[name].get("Properties", {})
        if resource_type == "AWS::KMS::Key":
            return self._key_id(name)
        if resource_type == "AWS::IAM::Role":
            return str(self.resolve(properties.get("RoleName", name)))
        if resource_type == "AWS::IAM::User":
            return str(self.resolve(properties.get("UserName", name)))
        if resource_type == "AWS::S3::Bucket":
            return str(self.resolve(properties.get("BucketName", name.lower())))
        raise UnresolvableIntrinsicError(f"Ref of {resource_type} ({name}) is not modelled")

    def get_att(self, logical_id: str, attribute: str) -> str:
        resource_type = self._type_of(logical_id)
        if attribute != "Arn":
            raise UnresolvableIntrinsicError(f"Fn::GetAtt {logical_id}.{attribute} is not modelled")
        if resource_type == "AWS::KMS::Key":
            return f"arn:{self.partition}:kms:{self.region}:{self.account}:key/{self._key_id(logical_id)}"
        if resource_type in ("AWS::IAM::Role", "AWS::IAM::User"):
            kind = "role" if resource_type == "AWS::IAM::Role" else "user"
            path = str(self.resolve(self.resources[logical_id].get("Properties", {}).get("Path", "/")))
            return f"arn:{self.partition}:iam::{self.account}:{kind}{path}{self.ref(logical_id)}"
        if resource_type == "AWS::S3::Bucket":
            return f"arn:{self.partition}:s3:::{self.ref(logical_id)}"
        raise UnresolvableIntrinsicError(f"Fn::GetAtt of {resource_type} ({logical_id}) is not modelled")

    def _type_of(self, logical_id: str) -> str:
        if logical_id not in self.resources:
            raise UnresolvableIntrinsicError(f"{logical_id} is not a resource or parameter of the template")
        return str(self.resources[logical_id]["Type"])

    @staticmethod
    def _key_id(logical_id: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"kms-key/{logical_id}"))

    def _sub(self, argument: str | list[Any]) -> str:
        template, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        resolved_variables = {k: self.resolve(v) for k, v in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in resolved_variables:
                return str(resolved_variables[name])
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return self.ref(name)

        return _SUB_VARIABLE.sub(replace, template)

    def sub_placeholders(self, text: str) -> str:
        """A manifest string with ``${AWS::...}`` placeholders (not ``Fn::Sub``), resolved the same way."""
        return self._sub(text)


def resolver_for(template: Mapping[str, Any], design: Mapping[str, Any]) -> IntrinsicResolver:
    """The resolver of a storage's stack: its concrete account and region, else the stand-ins."""
    account = design.get("account")
    region = design.get("region")
    return IntrinsicResolver(
        template,
        account=account if isinstance(account, str) and account.isdigit() else PLACEHOLDER_ACCOUNT,
        region=region if isinstance(region, str) else PLACEHOLDER_REGION,
        partition=str(design.get("partition")) if isinstance(design.get("partition"), str) else "aws",
    )


def _attached_to(resource: Mapping[str, Any], kind: str, logical_id: str) -> bool:
    return {"Ref": logical_id} in resource.get("Properties", {}).get(kind, [])


def identity_policies_of(template: Mapping[str, Any], logical_id: str) -> list[PolicyDocument]:
    """Every identity policy a template gives the role or user ``logical_id``: inline, managed, attached.

    Raises :class:`UnresolvableIntrinsicError` when it attaches managed policies by ARN (their
    documents are not in the template).
    """
    resources = template.get("Resources", {})
    resource = resources[logical_id]
    kind = "Roles" if resource["Type"] == "AWS::IAM::Role" else "Users"
    properties = resource.get("Properties", {})
    if properties.get("ManagedPolicyArns"):
        raise UnresolvableIntrinsicError(f"{logical_id} attaches managed policies by ARN; their documents are unknown")
    documents: list[PolicyDocument] = [p["PolicyDocument"] for p in properties.get("Policies", [])]
    documents += [
        r["Properties"]["PolicyDocument"]
        for r in resources.values()
        if r["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy") and _attached_to(r, kind, logical_id)
    ]
    return documents


def _strings(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else ([] if value is None else [value])
    if not all(isinstance(item, str) for item in items):
        raise UnresolvableIntrinsicError(f"expected a list of strings: {value!r}")
    return tuple(items)


def proof_inputs(template: Mapping[str, Any], design: Mapping[str, Any]) -> tuple[Design, Evidence]:
    """The prover's inputs for one storage: its recorded design, and the template's policies."""
    resolver = resolver_for(template, design)
    resources = template.get("Resources", {})
    resolved = resolver.resolve({k: v for k, v in design.items() if k not in ("account", "region", "partition")})
    key_logical_id = str(design["keyLogicalId"])
    bucket_logical_id = str(design["bucketLogicalId"])
    bucket_policies = [
        resolver.resolve(r["Properties"]["PolicyDocument"])
        for r in resources.values()
        if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": bucket_logical_id}
    ]
    identities: dict[str, Sequence[Mapping[str, Any]]] = {}
    for logical_id, arn in ((design.get("authRoleLogicalId"), resolved["authPrincipalArn"]),):
        if isinstance(logical_id, str):
            identities[arn] = [resolver.resolve(d) for d in identity_policies_of(template, logical_id)]
    replication_role = resolved.get("replicationRoleArn")
    trust = None
    role_logical_id = design.get("replicationRoleLogicalId")
    if isinstance(role_logical_id, str) and isinstance(replication_role, str):
        trust = resolver.resolve(resources[role_logical_id]["Properties"]["AssumeRolePolicyDocument"])
        identities[replication_role] = [resolver.resolve(d) for d in identity_policies_of(template, role_logical_id)]
    key_arn = str(resolved["keyArn"])
    made = Design(
        account=resolver.account,
        region=resolver.region,
        partition=resolver.partition,
        key_arn=key_arn,
        key_id=str(resolved["keyId"]),
        bucket_name=str(resolved["bucketName"]),
        auth_role_arn=str(resolved["authPrincipalArn"]),
        prefix=str(resolved["prefix"]),
        reader_arns=_strings(resolved.get("readers")),
        admin_arns=_strings(resolved.get("admins")),
        admin_mode=str(resolved["adminMode"]),
        deploy_role_arn=resolved.get("deployRole"),
        scope_key_to_s3=bool(resolved["scopeKeyToS3"]),
        replication_role_arn=str(replication_role) if replication_role is not None else None,
        replication_key_actions=_strings(resolved.get("replicationKeyActions")),
    )
    evidence = Evidence(
        key_policy=resolver.resolve(resources[key_logical_id]["Properties"]["KeyPolicy"]),
        bucket_policy=bucket_policies[0] if len(bucket_policies) == 1 else None,
        identity_policies=identities,
        replication_trust_policy=trust,
    )
    return made, evidence
