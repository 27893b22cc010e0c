"""Default names of a second construct of a stack, and names two storages of an app must not share."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from constructs import IConstruct

from constructs_lib.core import naming
from constructs_lib.core.problems import NameClashError, Problem
from constructs_lib.core.settings import _Settings


def names_discriminator(scope: IConstruct, kind: type) -> str | None:
    """``None`` for the first construct of ``kind`` created in its stack (today's names), else its path's hash.

    Call it from the construct's ``__init__``: constructs of ``kind`` created later are not in the
    tree yet, so "first" means first in creation order.
    """
    stack = cdk.Stack.of(scope)
    earlier = [
        found
        for found in stack.node.find_all()
        if isinstance(found, kind) and found is not scope and cdk.Stack.of(found) is stack
    ]
    return naming.path_discriminator(scope.node.path) if earlier else None


# --- names must not clash across the app ------------------------------------------------------------


def refuse_name_clashes(storage: IConstruct, mine: DeployedNames, kind: type, settings: _Settings) -> None:
    """Refuse a storage whose bucket name another storage of the app deploys, or its alias in one account and region.

    Judged when the storage is created, against the storages of ``kind`` created before it (their
    ``_names``): each clash is told once, as one library error, before anything is built. Bucket
    names are global across AWS; aliases are per account and region.
    """
    problems: list[Problem] = []
    for other in storage.node.root.node.find_all():
        theirs = getattr(other, "_names", None)
        if other is storage or not isinstance(other, kind) or theirs is None:
            continue
        if mine.bucket == theirs.bucket:
            problems.append(
                Problem(
                    "bucket_name",
                    mine.bucket_text,
                    f"a bucket name no other storage of this app deploys: {other.node.path} deploys it too (bucket "
                    "names are global across AWS); set {bucket_name} on one of them",
                )
            )
        if mine.alias == theirs.alias:
            problems.append(
                Problem(
                    "key_alias",
                    mine.alias_text,
                    f"a key alias no other storage deploys to the same account and region: {other.node.path} does; "
                    "set {key_alias} on one of them, or give their stacks different environments",
                )
            )
    if problems:
        raise NameClashError(problems, settings.label(), settings.spelling)


@dataclass(frozen=True)
class DeployedNames:
    """Names as CloudFormation will see them, account and region included (maybe as pseudo-parameters)."""

    #: What two storages compare: the resolved name, and the stack when it holds the stack's own references.
    bucket: str
    alias: str
    #: The names as messages show them (``teleport-recordings-${AWS::AccountId}-${AWS::Region}``).
    bucket_text: str
    alias_text: str

    @classmethod
    def of(cls, scope: IConstruct, bucket_name: str, alias: str) -> DeployedNames:
        stack = cdk.Stack.of(scope)
        where = json.dumps([stack.resolve(stack.account), stack.resolve(stack.region)])
        bucket = stack.resolve(bucket_name)
        # A parameter or a resource attribute names something of this stack only: never equal to another stack's.
        own = stack.node.path if _references_the_stack(bucket) else ""
        return cls(
            bucket=json.dumps([own, bucket]),
            alias=where + json.dumps(stack.resolve(alias)),
            bucket_text=_readable(bucket),
            alias_text=_readable(stack.resolve(alias)),
        )


def _references_the_stack(resolved: Any) -> bool:
    """Whether a resolved value refers to the stack's own parameters or resources (not pseudo-parameters)."""
    if isinstance(resolved, dict):
        ref = resolved.get("Ref")
        if isinstance(ref, str):
            return not ref.startswith("AWS::")
        if any(key != "Fn::Join" for key in resolved):
            return True
        return any(_references_the_stack(v) for v in resolved.values())
    if isinstance(resolved, list):
        return any(_references_the_stack(v) for v in resolved)
    return False


def _readable(resolved: Any) -> str:
    """A resolved name as CloudFormation's ``Fn::Sub`` would write it, for messages."""
    if isinstance(resolved, str):
        return resolved
    if isinstance(resolved, dict) and isinstance(resolved.get("Ref"), str):
        return "${" + str(resolved["Ref"]) + "}"
    join = resolved.get("Fn::Join") if isinstance(resolved, dict) else None
    if isinstance(join, list) and len(join) == 2 and join[0] == "" and isinstance(join[1], list):
        return "".join(_readable(part) for part in join[1])
    return json.dumps(resolved)
