"""The CDK side of the settings model: what a stack tells the rules, and the role that deploys it.

The rules in ``constructs_lib.core.settings`` never import CDK; this module gives them the facts
only CDK knows (the stack's partition, account and region when concrete, how to recognise a token,
how to read a principal object's ARN, and the role CloudFormation deploys with).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import aws_cdk as cdk
import jsii
from aws_cdk import aws_iam as iam
from constructs import IConstruct

from constructs_lib.core import arns
from constructs_lib.core.kinds import Environment, principal_arn
from constructs_lib.core.settings import KeySettings


def is_unresolved(value: object) -> bool:
    """Whether a value is (or holds) a CDK token: known only at deployment, never judged at synth."""
    if isinstance(value, str | int | float):
        return bool(cdk.Token.is_unresolved(value))
    if isinstance(value, list | tuple):
        return bool(value) and all(isinstance(v, str) for v in value) and bool(cdk.Token.is_unresolved(list(value)))
    return False


def principal_object_arn(value: object) -> str | None:
    """The ARN of a CDK principal object that stands for one IAM role or user; ``None`` otherwise.

    The account root (``iam.AccountRootPrincipal``), services, federated principals and composite
    principals stand for no single role or user, and are refused by the rules.
    """
    if isinstance(value, iam.AccountRootPrincipal):
        return None
    for attribute in ("role_arn", "user_arn", "arn"):
        arn = getattr(value, attribute, None)
        if isinstance(arn, str):
            return arn
    return None


def created_in_deployment(scope: IConstruct, arn: str) -> bool:
    """Whether ``arn`` belongs to a role or user created by a stack of this app (this deployment).

    Its ARN is then a reference to a resource (``Fn::GetAtt``, or ``Fn::ImportValue`` across
    stacks), not a name: IAM may not have propagated it when KMS checks the key policy's principals.
    """
    if not cdk.Token.is_unresolved(arn):
        return False
    resolved = json.dumps(cdk.Stack.of(scope).resolve(arn))
    return "Fn::GetAtt" in resolved or "Fn::ImportValue" in resolved


def _concrete(value: str) -> str | None:
    return None if cdk.Token.is_unresolved(value) else value


_PLACEHOLDERS = {
    "${AWS::Partition}": "[a-z-]+",
    "${AWS::AccountId}": "[0-9]{12}",
    "${AWS::Region}": "[a-z0-9-]+",
    "${AWS::URLSuffix}": "[a-z.]+",
}


def _pattern_of_template(template: str, qualifier_pattern: str | None = None) -> str:
    """A regular expression matching every ARN a ``${AWS::...}`` placeholder template can become."""
    pieces = re.split(r"(\$\{AWS::[A-Za-z]+\}|\$\{Qualifier\})", template)
    out = []
    for piece in pieces:
        if piece in _PLACEHOLDERS:
            out.append(_PLACEHOLDERS[piece])
        elif piece == "${Qualifier}":
            out.append(qualifier_pattern or "[a-z0-9]+")
        else:
            out.append(re.escape(piece))
    return "".join(out)


@dataclass(frozen=True)
class DeployRole:
    """The role CloudFormation deploys the stack with, as far as synthesis can tell."""

    #: What the key policy names (a string, maybe a token); ``None`` when unknown.
    arn: str | None
    #: A pattern matching it when it is only known as a template (to refuse denying it).
    pattern: str | None = None
    #: Why it is unknown.
    unknown: str = ""


_QUALIFIER_PARAMETER = re.compile(r"/cdk-bootstrap/(?P<qualifier>[A-Za-z0-9_-]+)/version")


@jsii.implements(cdk.IStringProducer)
class _BoundExecutionRole:
    """The execution role of a DefaultStackSynthesizer created in Python, read when the template is written.

    CDK binds a copy of a reusable synthesizer to each stack, and jsii hands Python back the unbound
    original (the copy inherits its object id), whose ``cloud_formation_execution_role_arn`` getter
    raises. The bound copy's qualifier shows in the ``BootstrapVersion`` parameter it adds just
    before the template is resolved; the default execution role is derived from it exactly as CDK
    does. Earlier resolutions (before that parameter exists) see the context's qualifier.
    """

    def __init__(self, stack: cdk.Stack) -> None:
        self.stack = stack

    def produce(self, context: cdk.IResolveContext) -> str:
        parameter = self.stack.node.try_find_child("BootstrapVersion")
        qualifier = None
        if isinstance(parameter, cdk.CfnParameter) and isinstance(parameter.default, str):
            match = _QUALIFIER_PARAMETER.fullmatch(parameter.default)
            qualifier = match["qualifier"] if match else None
        qualifier = qualifier or _context_qualifier(self.stack)
        return _specialized(self.stack, cdk.DefaultStackSynthesizer.DEFAULT_CLOUDFORMATION_ROLE_ARN, qualifier)


def _context_qualifier(scope: IConstruct) -> str:
    qualifier = scope.node.try_get_context("@aws-cdk/core:bootstrapQualifier")
    return qualifier if isinstance(qualifier, str) else cdk.DefaultStackSynthesizer.DEFAULT_QUALIFIER


def _specialized(stack: cdk.Stack, template: str, qualifier: str) -> str:
    """The template with the qualifier, the stack's concrete account/region, then ``Fn::Sub`` for the rest."""
    value = template.replace("${Qualifier}", qualifier)
    if not cdk.Token.is_unresolved(stack.account):
        value = value.replace("${AWS::AccountId}", stack.account)
    if not cdk.Token.is_unresolved(stack.region):
        value = value.replace("${AWS::Region}", stack.region)
    return cdk.Fn.sub(value) if "${" in value else value


def deploy_role_of(scope: IConstruct) -> DeployRole:
    """The CloudFormation execution role of the scope's stack, from its synthesizer."""
    stack = cdk.Stack.of(scope)
    synthesizer = stack.synthesizer
    if isinstance(synthesizer, cdk.BootstraplessSynthesizer):
        return DeployRole(None, unknown="a BootstraplessSynthesizer deploys with whatever role it was given")
    if isinstance(synthesizer, cdk.DefaultStackSynthesizer):
        try:
            template = synthesizer.cloud_formation_execution_role_arn
        except RuntimeError as error:
            if "CloudFormationExecutionRoleArnGetterOnlyCalled" not in str(error):
                raise
            # Created in Python: see _BoundExecutionRole. The qualifier may be any.
            lazy = cdk.Lazy.uncached_string(_BoundExecutionRole(stack))
            return DeployRole(lazy, _pattern_of_template(cdk.DefaultStackSynthesizer.DEFAULT_CLOUDFORMATION_ROLE_ARN))
        if cdk.Token.is_unresolved(template):
            return DeployRole(template)
        return DeployRole(cdk.Fn.sub(template) if "${" in template else template, _pattern_of_template(template))
    if isinstance(synthesizer, cdk.CliCredentialsStackSynthesizer | cdk.LegacyStackSynthesizer):
        return DeployRole(None, unknown=f"a {type(synthesizer).__name__} deploys with the caller's own credentials")
    return DeployRole(None, unknown=f"the stack's {type(synthesizer).__name__} names no CloudFormation execution role")


def environment_of(scope: IConstruct, *, deploy_role: DeployRole | None = None) -> Environment:
    """The facts the rules need about the scope's stack."""
    stack = cdk.Stack.of(scope)
    region = _concrete(stack.region)
    return Environment(
        partition=arns.partition_of_region(region) if region else None,
        account=_concrete(stack.account),
        region=region,
        deploy_role_pattern=deploy_role.pattern if deploy_role else None,
        deploy_role_unknown=deploy_role.unknown if deploy_role else "",
        is_unresolved=is_unresolved,
        principal_arn=principal_object_arn,
    )


def resolved_deploy_role(scope: IConstruct, settings: KeySettings) -> tuple[str | None, DeployRole]:
    """The deploy role's ARN for the key policy: the setting when given, else the synthesizer's.

    The synthesizer is only consulted when the setting is absent (reading a synthesizer created in
    Python makes jsii print a warning, see ``_BoundExecutionRole``).
    """
    given = principal_arn(settings.deploy_role, environment_of(scope))
    if given is not None:
        return given, DeployRole(given)
    synthesized = deploy_role_of(scope)
    return synthesized.arn, synthesized
