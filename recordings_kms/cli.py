"""``recordings-kms``: verify a live RFD 42 deployment; print its policies and the teleport.yaml snippet.

Exit codes: 0 every check passed, 1 a check failed or warned (``--warnings-ok``: only failures count),
2 the command could not run (bad arguments, no credentials, a missing resource, AccessDenied).
boto3 is imported only by the commands that call AWS, and CDK never: the policy commands print
``constructs_lib.core.policies`` documents, the same builders the constructs use.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from constructs_lib.core import arns, policies
from constructs_lib.core.kinds import principal_arn, principal_arns
from constructs_lib.core.outputs import AUTH_ROLE_ARN, BUCKET_NAME, KEY_ARN, STORAGE_URI
from constructs_lib.core.problems import Problem
from constructs_lib.core.settings import KeyAdminMode, region_rule
from recordings_kms.options import (
    EXIT_ERROR,
    EXIT_FAILED,
    EXIT_OK,
    PROG,
    add_setting,
    problem_line,
    problems_of,
    report,
    settings_from,
)
from recordings_kms.teleport import StorageUri, StorageUriError, parse_storage_uri, teleport_config_snippet

if TYPE_CHECKING:
    from recordings_kms.checks import CheckResult


def _error(message: str, *, as_json: bool = False) -> int:
    message = " ".join(message.split())  # one line, whatever the message (botocore's may span several)
    if as_json:
        print(json.dumps({"ok": False, "error": message}, indent=2))
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return EXIT_ERROR


#: What S3 accepts as an existing bucket's name (older buckets may have upper case and underscores).
_ANY_BUCKET_NAME = re.compile(r"^[A-Za-z0-9._-]{1,255}$")


def endpoint_url_problem(url: str) -> str | None:
    """Why ``--endpoint-url`` is unusable (boto3 needs an http or https URL with a host), or ``None``."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (reading it validates the port)
    except ValueError as error:
        return f"--endpoint-url {url!r} is not a valid URL ({error})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"--endpoint-url {url!r} must be an http:// or https:// URL with a host, such as http://127.0.0.1:5000"
    return None


# --- verify --------------------------------------------------------------------------------------


def _report_text(results: Sequence[CheckResult], header: str) -> str:
    width = max((len(r.id) for r in results), default=0)
    lines = [header]
    lines += [f"{r.status.value:<4}  {r.id:<{width}}  {r.reason}" for r in results]
    counts = {status: sum(1 for r in results if r.status.value == status) for status in ("PASS", "WARN", "FAIL")}
    warnings = f"{counts['WARN']} warning{'' if counts['WARN'] == 1 else 's'}"
    lines.append(f"{counts['PASS']} passed, {warnings}, {counts['FAIL']} failed")
    return "\n".join(lines)


def _verify(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from recordings_kms import aws
    from recordings_kms.checks import Expectations, Status, verify
    from recordings_kms.probe import ProbeTarget, run_probe

    if args.endpoint_url is not None and (problem := endpoint_url_problem(args.endpoint_url)):
        return _error(problem, as_json=args.json)
    if args.region is not None and (problem := _region_problem(args.region)):
        return _error(problem, as_json=args.json)
    if args.bucket is not None and not _ANY_BUCKET_NAME.match(args.bucket):
        return _error(
            f"--bucket {args.bucket!r} is not an S3 bucket name (give the name alone, not an ARN or s3:// URL)",
            as_json=args.json,
        )
    try:
        clients = aws.make_clients(region=args.region, endpoint_url=args.endpoint_url, key=args.key)
        expect = Expectations()
        bucket, key = args.bucket, args.key
        if args.stack_name:
            outputs = aws.stack_outputs(clients, args.stack_name)
            bucket, key = aws.require_outputs(outputs, args.stack_name, BUCKET_NAME, KEY_ARN)
            expect = Expectations(auth_principal_arn=outputs.get(AUTH_ROLE_ARN), storage_uri=outputs.get(STORAGE_URI))
        key_facts = aws.gather_key(clients, key)
        bucket_facts = aws.gather_bucket(clients, bucket)
        results = verify(key_facts, bucket_facts, expect)
        if args.probe:
            sse_kms_key = key_facts.arn
            if expect.storage_uri:
                # A bad StorageUri is reported by the stack.storage-uri check; the probe then uses the key ARN.
                with contextlib.suppress(StorageUriError):
                    sse_kms_key = parse_storage_uri(expect.storage_uri).sse_kms_key
            target = ProbeTarget(
                bucket=bucket,
                key_arn=key_facts.arn,
                key_id=key_facts.key_id,
                sse_kms_key=sse_kms_key,
                enforces_policies=clients.enforces_policies,
                endpoint=args.endpoint_url or f"AWS {clients.region}",
            )
            with aws.translated("s3", bucket):
                results += run_probe(clients.s3, target)
    except aws.AwsError as error:
        return _error(str(error), as_json=args.json)
    except (BotoCoreError, ClientError) as error:  # a backstop: every expected error is an AwsError
        return _error(f"AWS call failed: {error}", as_json=args.json)

    failed = any(r.status == Status.FAIL for r in results)
    warned = any(r.status == Status.WARN for r in results)
    ok = not failed and not (warned and not args.warnings_ok)
    if args.json:
        summary = {status.value: sum(1 for r in results if r.status == status) for status in Status}
        document = {
            "ok": ok,
            "bucket": bucket,
            "key": key_facts.arn,
            "region": clients.region,
            "stack_name": args.stack_name,
            "endpoint_url": args.endpoint_url,
            "probe": args.probe,
            "summary": summary,
            "checks": [r.as_json() for r in results],
        }
        print(json.dumps(document, indent=2))
    else:
        where = f"{clients.region}" + (f" via {args.endpoint_url}" if args.endpoint_url else "")
        header = f"{PROG} verify: bucket {bucket}, key {key_facts.arn} ({where})"
        print(_report_text(results, header))
    return EXIT_OK if ok else EXIT_FAILED


# --- policies ------------------------------------------------------------------------------------


_POLICY_SETTINGS = (
    "auth_role",
    "key_admins",
    "denied_principals",
    "readers",
    "key_admin_mode",
    "bucket_name",
    "region",
)


def _policy(args: argparse.Namespace) -> int:
    if args.bucket_name is not None and args.region is None:
        # No boto3 here (the policy commands never import it): the environment only, not the AWS config file.
        args.region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if not args.region:
            return report(
                [
                    "'--region' must be set with --bucket, or AWS_REGION or AWS_DEFAULT_REGION set (kms:ViaService "
                    "names the region's S3 endpoint; the AWS config file is not read)"
                ]
            )
    settings = settings_from(args, _POLICY_SETTINGS)
    problems = problems_of(settings)
    if problems:
        return report(problems)
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


def _bucket_policy(args: argparse.Namespace) -> int:
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


def _region_problem(region: str) -> str | None:
    allowed = region_rule(region)
    return None if allowed is None else f"'--region' must be {allowed}, got {json.dumps(region)}"


# --- teleport-config -----------------------------------------------------------------------------


def _teleport_config(args: argparse.Namespace) -> int:
    storage: StorageUri
    try:
        if args.uri is not None:
            storage = parse_storage_uri(args.uri)
        else:
            if args.region is not None and (problem := _region_problem(args.region)):
                return _error(problem)
            if args.endpoint_url is not None and (problem := endpoint_url_problem(args.endpoint_url)):
                return _error(problem)
            from botocore.exceptions import BotoCoreError, ClientError

            from recordings_kms import aws

            try:
                clients = aws.make_clients(region=args.region, endpoint_url=args.endpoint_url)
                (uri,) = aws.require_outputs(aws.stack_outputs(clients, args.stack_name), args.stack_name, STORAGE_URI)
            except aws.AwsError as error:
                return _error(str(error))
            except (BotoCoreError, ClientError) as error:  # a backstop: every expected error is an AwsError
                return _error(f"AWS call failed: {error}")
            storage = parse_storage_uri(uri)
    except StorageUriError as error:
        return _error(str(error))
    print(teleport_config_snippet(storage), end="")
    if not storage.names_key_by_arn:
        print(f"{PROG}: note: sse_kms_key is a key ID; the key ARN also works across accounts", file=sys.stderr)
    if storage.region is None:
        print(f"{PROG}: note: no region= in the URI: Teleport uses its own default region", file=sys.stderr)
    return EXIT_OK


# --- parser --------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Teleport RFD 42 session recordings storage: verify a deployment, print its policies "
        "and the teleport.yaml snippet.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    verify = commands.add_parser(
        "verify",
        help="check a live bucket and key against RFD 42 (read-only unless --probe)",
        description="Read-only checks of the live key and bucket. Exit 0: every check passed; 1: a check "
        "failed or warned (with --warnings-ok only failures count); 2: the checks could not run.",
    )
    verify.add_argument(
        "--stack-name", help="read BucketName, KeyArn, StorageUri and AuthRoleArn from the stack outputs"
    )
    verify.add_argument("--bucket", help="the recordings bucket (with --key, instead of --stack-name)")
    verify.add_argument("--key", help="the recordings key: ARN, ID or alias (with --bucket)")
    verify.add_argument(
        "--region",
        help="AWS region (default: the region of a key ARN given to --key, then AWS_REGION, AWS_DEFAULT_REGION, "
        "then the AWS config profile's region)",
    )
    verify.add_argument("--endpoint-url", help="another endpoint for S3, KMS and CloudFormation (e.g. a moto server)")
    verify.add_argument(
        "--probe",
        action="store_true",
        help="also write under recordings-kms-probe/<uuid>/ like Teleport does, try forbidden puts, then remove "
        "everything written (needs s3:PutObject, s3:DeleteObjectVersion, s3:AbortMultipartUpload on the bucket and "
        "encryption with the key through S3: in this design only an rfd-mode key administrator has both)",
    )
    verify.add_argument("--json", action="store_true", help="print one JSON document instead of lines")
    verify.add_argument(
        "--warnings-ok", action="store_true", help="exit 0 despite warnings (checks that could not be settled)"
    )
    verify.set_defaults(handler=_verify)

    policy = commands.add_parser(
        "policy",
        help="print the RFD 42 key policy for your ARNs",
        description="Print the key policy the recordings key construct uses, for teams that do not use CDK.",
    )
    add_setting(policy, "auth_role", required=True, help="the IAM role or user of the Teleport auth service")
    add_setting(policy, "key_admins", help="key administrators (IAM roles or users)")
    add_setting(policy, "denied_principals", help="principals denied kms:* (IAM administrators)")
    add_setting(policy, "readers", help="decrypt-only readers (kms:Decrypt and kms:DescribeKey, through S3)")
    add_setting(
        policy,
        "key_admin_mode",
        help="rfd: admins get kms:* as in RFD 42; separated: administration without decryption (default: rfd)",
    )
    add_setting(
        policy, "bucket_name", metavar="NAME", help="scope the auth principal's use of the key to S3 for this bucket"
    )
    add_setting(
        policy,
        "region",
        help="the bucket's region, with --bucket (default: AWS_REGION, then AWS_DEFAULT_REGION; the AWS config file "
        "is not read)",
    )
    policy.set_defaults(handler=_policy)

    bucket_policy = commands.add_parser(
        "bucket-policy",
        help="print the recordings bucket policy",
        description="Print the bucket policy the recordings bucket construct uses.",
    )
    add_setting(bucket_policy, "bucket_name", required=True, metavar="NAME", help="the recordings bucket")
    bucket_policy.add_argument("--key", required=True, metavar="KEY_ARN")
    add_setting(
        bucket_policy,
        "require_encryption_headers",
        help="also deny puts without encryption headers (see the multipart caveat)",
    )
    bucket_policy.set_defaults(handler=_bucket_policy)

    teleport_config = commands.add_parser(
        "teleport-config",
        help="print the teleport.yaml storage snippet",
        description="Print the teleport.yaml audit_sessions_uri for the recordings bucket and key.",
    )
    source = teleport_config.add_mutually_exclusive_group(required=True)
    source.add_argument("--stack-name", help="read the StorageUri output of this stack")
    source.add_argument("--uri", help="an s3:// storage URI with sse_kms_key")
    teleport_config.add_argument(
        "--region",
        help="AWS region, with --stack-name (default: AWS_REGION, AWS_DEFAULT_REGION, then the AWS config profile's "
        "region)",
    )
    teleport_config.add_argument("--endpoint-url", help="another CloudFormation endpoint, with --stack-name")
    teleport_config.set_defaults(handler=_teleport_config)

    from recordings_kms import migrate  # boto3 loads only when the command runs

    migrate.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "verify":
        if args.stack_name and (args.bucket or args.key):
            parser.error("verify: use --stack-name, or --bucket and --key, not both")
        if not args.stack_name and not (args.bucket and args.key):
            parser.error("verify: needs --stack-name, or both --bucket and --key")
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
