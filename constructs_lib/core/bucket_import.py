"""The import of an existing recordings bucket: what the import template may hold, and its resource mapping (pure).

CloudFormation resource import (``cdk import``, a change set of type IMPORT) brings a bucket that exists
under a stack without changing it. Its rules, which :func:`resource_mapping` checks before anything is
sent (docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-import.html):

- each resource to import has a ``DeletionPolicy`` (``cdk import`` adds ``Retain`` when one is missing;
  the template here sets ``Retain`` and ``UpdateReplacePolicy: Retain`` itself, as the recordings stack does);
- the resource is found by the identifier property of its type: ``BucketName`` for ``AWS::S3::Bucket``
  (``primaryIdentifier`` of its resource schema);
- the import creates, updates and deletes nothing else (the CDK CLI's README: "The only changes allowed in
  an 'import' operation are the addition of new resources which you want to import"; CloudFormation
  refuses added outputs: "As part of the import operation, you cannot modify or add [Outputs]").

The bucket is modelled by its name alone: CloudFormation does not compare an imported resource's
properties with the live bucket, and an update changes only the properties that differ from the
template it holds. A property the import template claimed (``VersioningConfiguration: Enabled`` on a
bucket whose versioning is suspended) would be skipped by the update that sets the same value, and stay
wrong; with nothing claimed, the update sets every property the recordings stack declares.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

BUCKET_TYPE = "AWS::S3::Bucket"
#: ``primaryIdentifier`` of the AWS::S3::Bucket resource schema (``/properties/BucketName``).
BUCKET_IDENTIFIER = "BucketName"
#: Added by CDK to every stack with version reporting; ``cdk import`` never imports it (it is not in a mapping).
CDK_METADATA_TYPE = "AWS::CDK::Metadata"
RETAIN = "Retain"


class ImportTemplateError(ValueError):
    """A template that CloudFormation import would refuse, or that would change the bucket it imports."""


def import_template_problems(template: Mapping[str, Any]) -> list[str]:
    """Every reason ``template`` is not an import template for one existing bucket; empty when it is."""
    resources = template.get("Resources")
    if not isinstance(resources, Mapping):
        return ["the template has no Resources object"]
    problems: list[str] = []
    buckets = {i: r for i, r in resources.items() if isinstance(r, Mapping) and r.get("Type") == BUCKET_TYPE}
    others = sorted(
        f"{i} ({r.get('Type') if isinstance(r, Mapping) else 'not a resource'})"
        for i, r in resources.items()
        if i not in buckets and not (isinstance(r, Mapping) and r.get("Type") == CDK_METADATA_TYPE)
    )
    if others:
        problems.append(f"resources other than the bucket, which an import cannot create: {', '.join(others)}")
    if len(buckets) != 1:
        problems.append(f"{len(buckets)} {BUCKET_TYPE} resources, not one: {', '.join(sorted(buckets)) or 'none'}")
    if template.get("Outputs"):
        problems.append(f"outputs ({', '.join(sorted(template['Outputs']))}), which an import cannot add")
    for logical_id, bucket in buckets.items():
        for policy in ("DeletionPolicy", "UpdateReplacePolicy"):
            if bucket.get(policy) != RETAIN:
                problems.append(f"{logical_id}: {policy} is {bucket.get(policy)!r}, not {RETAIN!r}")
        properties = bucket.get("Properties", {})
        name = properties.get(BUCKET_IDENTIFIER) if isinstance(properties, Mapping) else None
        if not isinstance(name, str) or not name:
            problems.append(f"{logical_id}: {BUCKET_IDENTIFIER} is {name!r}, not the literal name of the bucket")
        extra = sorted(set(properties) - {BUCKET_IDENTIFIER}) if isinstance(properties, Mapping) else []
        if extra:
            problems.append(
                f"{logical_id}: properties besides {BUCKET_IDENTIFIER} ({', '.join(extra)}): the import template "
                "claims nothing about the live bucket, so that the update after it sets every property"
            )
    return problems


def resource_mapping(template: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """``cdk import --resource-mapping``'s file: the bucket's logical id -> ``{"BucketName": name}``.

    Raises :class:`ImportTemplateError` with every problem of ``template`` (see :func:`import_template_problems`).
    """
    problems = import_template_problems(template)
    if problems:
        raise ImportTemplateError("not an import template for one existing bucket: " + "; ".join(problems))
    ((logical_id, bucket),) = ((i, r) for i, r in template["Resources"].items() if r.get("Type") == BUCKET_TYPE)
    return {logical_id: {BUCKET_IDENTIFIER: bucket["Properties"][BUCKET_IDENTIFIER]}}
