"""``recordings-kms``: argument parsing and dispatch; each command lives in a folder of its own.

Exit codes: 0 every check passed, 1 a check failed or warned (``--warnings-ok``: only failures count),
2 the command could not run (bad arguments, no credentials, a missing resource, AccessDenied, and any
unexpected error: one line, never a traceback), 130 interrupted (Ctrl-C), 141 standard output was
closed before everything was written (``| head``), as for a Unix tool that SIGPIPE ends.
A command ``NAME`` is ``recordings_kms/NAME/command.py``, imported only when it runs: boto3 loads
only for the commands that call AWS, and CDK never (the policy commands print
``constructs_lib.core.policies`` documents, the same builders the constructs use). The modules
beside this one are what the commands share; they never import a command.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from recordings_kms.guard import Handler, run_command, stdout_closed
from recordings_kms.options import PROG, add_prover_budget, add_setting
from recordings_kms.verify.replica_checks import DEFAULT_SAMPLE as REPLICA_SAMPLE


def _command(name: str, function: str = "run") -> Handler:
    """The handler ``recordings_kms.<name>.command.<function>``, imported when the command runs."""

    def handler(args: argparse.Namespace) -> int:
        code: int = getattr(importlib.import_module(f"recordings_kms.{name}.command"), function)(args)
        return code

    return handler


# --- parser --------------------------------------------------------------------------------------

_EXITS = (
    "Exit 0: every property and check passed; 1: one failed, could not be proven (CANNOT-PROVE) or warned (with "
    "--warnings-ok only failures and CANNOT-PROVE count); 2: the command could not run."
)


def _design_options(parser: argparse.ArgumentParser, *, auth_required: bool) -> None:
    """The design's options, each made from the settings model (value rules and messages included)."""
    add_setting(
        parser,
        "auth_role",
        required=auth_required,
        help="the IAM role or user of the Teleport auth service" + ("" if auth_required else " (with --bucket/--key)"),
    )
    add_setting(parser, "readers", help="decrypt-only readers (IAM roles or users)")
    add_setting(parser, "key_admins", help="key administrators (IAM roles or users)")
    add_setting(
        parser,
        "key_admin_mode",
        help="rfd: key administrators may decrypt (kms:*); separated: administration only (default: rfd)",
    )
    add_setting(parser, "recordings_prefix", help="the key prefix Teleport writes under (default: records)")


def _add_verify(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    verify = commands.add_parser(
        "verify",
        help="check a live bucket and key against RFD 42 and prove P1-P6 on its policies (read-only unless --probe)",
        description="Read-only checks of the live key and bucket; the key policy, every grant, the bucket policy "
        "and the auth principal's identity policies go to the access prover (P1-P6 for every request). " + _EXITS,
    )
    verify.add_argument(
        "--stack-name",
        help="read BucketName, KeyArn, StorageUri, AuthRoleArn and the design (AccessDesign) from the stack outputs, "
        "and the role it last deployed with (RoleARN)",
    )
    verify.add_argument("--bucket", help="the recordings bucket (with --key and --auth, instead of --stack-name)")
    verify.add_argument("--key", help="the recordings key: ARN, ID or alias (with --bucket)")
    _design_options(verify, auth_required=False)
    add_setting(
        verify,
        "deploy_role",
        help="the role the next deploy uses, checked for kms:PutKeyPolicy on the live key (default with --stack-name: "
        "the stack's RoleARN); with --bucket/--key also the design's deploy role",
    )
    add_setting(
        verify,
        "alarm_topic_arn",
        help="the tamper alarms' SNS topic: check the rules publishing to it, its subscribers, the CloudTrail trail "
        "they depend on and the forwarding of IAM events (default with --stack-name: the AlarmTopicArn output)",
    )
    verify.add_argument(
        "--region",
        help="AWS region (default: the region of a key ARN given to --key, then AWS_REGION, AWS_DEFAULT_REGION, "
        "then the AWS config profile's region)",
    )
    verify.add_argument(
        "--endpoint-url",
        help="another endpoint for S3, KMS, CloudFormation, IAM and Access Analyzer (e.g. a moto server)",
    )
    verify.add_argument(
        "--probe",
        action="store_true",
        help="also write under recordings-kms-probe/<uuid>/ like Teleport does, try forbidden puts, then remove "
        "everything written (needs s3:PutObject, s3:DeleteObjectVersion, s3:AbortMultipartUpload on the bucket and "
        "encryption with the key through S3: in this design only an rfd-mode key administrator has both)",
    )
    verify.add_argument(
        "--access-analyzer",
        action="store_true",
        help="also ask AWS IAM Access Analyzer (CheckNoPublicAccess on both policies, CheckAccessNotGranted for the "
        "cryptographic actions on the key policy) and report its verdicts beside the prover's",
    )
    verify.add_argument(
        "--replica",
        action="store_true",
        help="with --stack-name of a replicated primary: also check, in the replica stack its ReplicaStackName and "
        "ReplicaRegion outputs name, that the live rule's destination and key alias are that stack's bucket and key, "
        "and count primary versions under the prefix missing in the replica (read-only)",
    )
    verify.add_argument(
        "--replica-sample",
        type=int,
        default=REPLICA_SAMPLE,
        metavar="N",
        help=f"with --replica: compare at most N primary versions, whole recordings, the first listed (default "
        f"{REPLICA_SAMPLE}); fewer than all is a WARN",
    )
    _central_options(verify)
    add_prover_budget(verify)
    verify.add_argument("--json", action="store_true", help="print one JSON document instead of lines")
    verify.add_argument(
        "--warnings-ok", action="store_true", help="exit 0 despite warnings (checks that could not be settled)"
    )
    verify.set_defaults(handler=_command("verify"))


def _central_options(verify: argparse.ArgumentParser) -> None:
    """The organization layout's options (docs/CLI.md, "verify on the organization layout")."""
    verify.add_argument(
        "--cluster",
        dest="clusters",
        action="append",
        default=[],
        metavar="NAME=ROLE_ARN[:PREFIX]",
        help="a cluster of the organization layout: its name, its auth role's ARN and its prefix (default: "
        "PREFIX/NAME, PREFIX from --prefix); repeat for every cluster; instead of --auth",
    )
    verify.add_argument(
        "--cluster-trust",
        dest="cluster_trusts",
        action="append",
        default=[],
        metavar="NAME=TRUST[,ARN]",
        help="whom cluster NAME's role must trust, proven on its live trust policy (T1): ec2, pod-identity, "
        "pod-identity,POD_IDENTITY_ROLE_ARN (role chaining), irsa,OIDC_PROVIDER_ARN or principal,ARN",
    )
    verify.add_argument(
        "--workload-profile",
        dest="workload_profiles",
        action="append",
        default=[],
        metavar="ACCOUNT=PROFILE",
        help="read the cluster roles of workload account ACCOUNT with this AWS config profile (repeatable)",
    )
    verify.add_argument(
        "--workload-role-arn",
        dest="workload_roles",
        action="append",
        default=[],
        metavar="ARN",
        help="read the cluster roles of the role's account after assuming it (sts:AssumeRole with the caller's "
        "credentials; repeatable, one per workload account)",
    )


def _add_prove(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    prove = commands.add_parser(
        "prove",
        help="prove P1-P6 on saved policies, without AWS (for teams and CI without a stack)",
        description="Prove P1-P6 for every request on a key policy, its grants and a bucket policy saved as "
        "GetKeyPolicy, ListGrants and GetBucketPolicy return them (or as bare documents). Exit 0: every "
        "property holds; 1: one fails or cannot be proven; 2: unusable input.",
    )
    prove.add_argument("--key-policy", required=True, metavar="FILE", help="the key policy (GetKeyPolicy's JSON)")
    prove.add_argument("--bucket-policy", metavar="FILE", help="the bucket policy (GetBucketPolicy's JSON)")
    prove.add_argument("--grants", metavar="FILE", help="the key's grants (ListGrants' JSON)")
    add_setting(prove, "bucket_name", required=True, metavar="NAME", help="the recordings bucket")
    prove.add_argument("--key-arn", required=True, metavar="ARN", help="the recordings key's ARN (names the region)")
    _design_options(prove, auth_required=True)
    add_setting(prove, "deploy_role", help="the role CloudFormation deploys with (key administration)")
    add_setting(prove, "region", help="the bucket's region (default: the key ARN's; S3 needs a key of its region)")
    add_prover_budget(prove)
    prove.add_argument("--json", action="store_true", help="print one JSON document instead of lines")
    prove.set_defaults(handler=_command("prove"))


def _add_policy_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    policy.set_defaults(handler=_command("policy", "run_policy"))

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
    bucket_policy.set_defaults(handler=_command("policy", "run_bucket_policy"))


def _add_teleport_config(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    teleport_config.add_argument(
        "--replica",
        action="store_true",
        help="with --stack-name of the primary stack: the disaster-recovery replica's URI (failover), read from the "
        "replica stack its ReplicaStackName and ReplicaRegion outputs name",
    )
    teleport_config.set_defaults(handler=_command("teleport_config"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Teleport RFD 42 session recordings storage: verify a deployment, prove its policies, print "
        "its policies and the teleport.yaml snippet.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_verify(commands)
    _add_prove(commands)
    _add_policy_commands(commands)
    _add_teleport_config(commands)

    from recordings_kms.migrate import command as migrate  # boto3 loads only when the command runs

    migrate.register(commands)
    from recordings_kms.upgrade_check import command as upgrade_check  # pure and small: no boto3, no CDK

    upgrade_check.register(commands)
    from recordings_kms.import_check import command as import_check  # boto3 loads only when the command runs

    import_check.register(commands)
    return parser


def _check_verify_mode(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """--stack-name (the design is its AccessDesign output) or --bucket/--key with the design options."""
    if args.stack_name and (args.bucket or args.key):
        parser.error("verify: use --stack-name, or --bucket and --key, not both")
    if not args.stack_name and not (args.bucket and args.key):
        parser.error("verify: needs --stack-name, or both --bucket and --key")
    given = [
        option
        for option, dest in (
            ("--auth", "auth_role"),
            ("--reader", "readers"),
            ("--admin", "key_admins"),
            ("--admin-mode", "key_admin_mode"),
            ("--prefix", "recordings_prefix"),
        )
        if getattr(args, dest) not in (None, [])
    ]
    if args.clusters:
        return  # the organization layout: verify.central judges --cluster and the design options
    if args.stack_name and given:
        parser.error(
            f"verify: the design options ({', '.join(given)}) go with --bucket/--key; with --stack-name the design "
            "is the stack's AccessDesign output (--deploy-role still names the role the next deploy uses)"
        )
    if not args.stack_name and args.auth_role is None:
        parser.error("verify: --bucket/--key need --auth (and the rest of the design: --admin, --deploy-role, ...)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command == "verify":
            _check_verify_mode(parser, args)
    except SystemExit:  # argparse printed --help or a usage error: flush it inside the guard too
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            raise SystemExit(stdout_closed()) from None
        raise
    return run_command(args.handler, args)


if __name__ == "__main__":
    sys.exit(main())
