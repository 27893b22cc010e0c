"""Adopting a bucket that exists already, through CloudFormation resource import (pure).

The rules that read this group with the bucket and retention settings live with the aggregate that
holds them all (``app.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from constructs_lib.core.kinds import Bool, Environment
from constructs_lib.core.problems import Problem
from constructs_lib.core.settings.model import Spec, _Settings, rule, setting


@dataclass(frozen=True, kw_only=True)
class ExistingBucketSettings(_Settings):
    """The bucket named by ``bucketName`` exists: the stack adopts it by import instead of creating it."""

    heading: ClassVar[str] = "Existing bucket"

    existing_bucket: bool = setting(
        False,
        Spec(
            "existingBucket",
            Bool(),
            "The bucket named by `bucketName` exists already (Teleport writes to it): bring it under the stack with "
            "`make import` (CloudFormation resource import, which creates the stack holding the bucket as it is), "
            "then `make deploy` with the same settings sets its default encryption to the key, its policy and the "
            "rest (see The bucket a team already has). Objects written before keep their old encryption.",
        ),
    )
    bucket_import_phase: bool = setting(
        False,
        Spec(
            "bucketImportPhase",
            Bool(),
            "Set by `make import` only: synthesize the import template, the `existingBucket` alone with nothing "
            "that would change it (CloudFormation import accepts no other change), instead of the recordings stack.",
        ),
    )


@rule(ExistingBucketSettings, "existing_bucket", "bucket_import_phase")
def _import_phase_needs_an_existing_bucket(s: ExistingBucketSettings, env: Environment) -> Iterator[Problem]:
    if s.bucket_import_phase and not s.existing_bucket:
        yield Problem("bucket_import_phase", s.bucket_import_phase, "unset unless {existing_bucket} is true")
