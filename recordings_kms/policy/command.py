"""``recordings-kms policy`` and ``bucket-policy``: print the design's key and bucket policies.

For teams that do not use CDK. The documents come from ``constructs_lib.core.policies``, the
builders the constructs use, and every option that stands for a setting is judged by the settings
model; neither command loads boto3 (or CDK).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from constructs_lib.core import arns, policies
from constructs_lib.core.kinds import principal_arn, principal_arns
from constructs_lib.core.problems import Problem
from constructs_lib.core.settings import KeyAdminMode
from recordings_kms.options import (
    EXIT_OK,
    PROG,
    problem_line,
    problems_of,
    region_problem,
    report,
    settings_from,
    warnings_of,
)

_POLICY_SETTINGS = (
    "auth_role",
    "key_admins",
    "denied_principals",
    "readers",
    "key_admin_mode",
    "bucket_name",
    "region",
)


def run_policy(args: argparse.Namespace) -> int:
    """Print the key policy for the given principals (scoped to S3 for ``--bucket`` in ``--region``)."""
    if args.bucket_name is not None and args.region is None:
        # No boto3 here (the policy commands never import it): the environment only, not the AWS config file.
        variable = "AWS_REGION" if os.environ.get("AWS_REGION") else "AWS_DEFAULT_REGION"
        args.region = os.environ.get(variable)
        if not args.region:
            return report(
                [
                    "'--region' must be set with --bucket, or AWS_REGION or AWS_DEFAULT_REGION set (kms:ViaService "
                    "names the region's S3 endpoint; the AWS config file is not read)"
                ]
            )
        if problem := region_problem(args.region, variable):  # named as the caller spelt it
            return report([problem])
    settings = settings_from(args, _POLICY_SETTINGS)
    problems = problems_of(settings)
    if problems:
        return report(problems)
    for line in warnings_of(settings):  # a region newer than botocore's data, an SSO role without its path...
        print(f"{PROG}: warning: {' '.join(line.split())}", file=sys.stderr)
    env = settings.environment()
    auth = principal_arn(settings.auth_role, env) or ""
    partition = env.partition or auth.split(":")[1]
    bucket = settings.bucket_name
    document = policies.key_policy(
        auth_principal_arn=auth,
        deploy_role_arn=None,
        key_admin_arns=principal_arns(settings.key_admins, env),
        denied_principal_arns=principal_arns(settings.denied_principals, env),
        key_admin_mode=KeyAdminMode(settings.key_admin_mode),
        bucket_arn=arns.bucket_arn(partition, bucket) if bucket is not None else None,
        region=settings.region if bucket is not None else None,
        reader_arns=principal_arns(settings.readers, env),
    )
    print(json.dumps(document, indent=2))
    if not settings.key_admins:
        print(
            f"{PROG}: note: no --admin: nobody could manage this key, and KMS refuses a key policy that does not "
            "let the caller call kms:PutKeyPolicy again (name yourself or your deploy role with --admin)",
            file=sys.stderr,
        )
    return EXIT_OK


def run_bucket_policy(args: argparse.Namespace) -> int:
    """Print the bucket policy: the deny set of the design (``--strict`` adds the header-less-put deny)."""
    settings = settings_from(args, ("bucket_name", "require_encryption_headers"))
    problems = problems_of(settings)
    parsed = arns.parse_key_arn(args.key)
    if parsed is None:
        problems.append(
            problem_line(
                Problem(
                    "key", args.key, "a KMS key ARN like arn:aws:kms:REGION:ACCOUNT:key/KEY_ID (the policy names both)"
                ),
                "--key",
            )
        )
    if problems or parsed is None or settings.bucket_name is None:
        return report(problems)
    key_arn, key_id = parsed
    document = policies.bucket_policy(
        bucket_arn=arns.bucket_arn(key_arn.partition, settings.bucket_name),
        key_arn=args.key,
        key_id=key_id,
        require_encryption_headers=settings.require_encryption_headers,
    )
    print(json.dumps(document, indent=2))
    if settings.require_encryption_headers:
        print(
            f"{PROG}: note: --strict also denies puts without encryption headers; Teleport's multipart UploadPart "
            "requests carry none, so test with 'verify --probe' before relying on it",
            file=sys.stderr,
        )
    return EXIT_OK
