"""``recordings-kms verify``: read the live key and bucket, judge them, optionally probe like Teleport.

Who can do what is answered by the access prover (P1-P6 over every request) on what AWS returns:
the key policy, every grant (``ListGrants``), the bucket policy, and best effort the auth
principal's identity policies. The design it judges against is the stack's ``AccessDesign`` output
(``--stack-name``) or the design options (``--bucket``/``--key`` with ``--auth`` ...). The boto3
reads live in ``verify.readers`` (over the shared ``recordings_kms.aws``), the judgements in ``verify.checks``
and the wording in ``recordings_kms.render``; this module runs them in order and picks the exit code.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from constructs_lib.core.outputs import (
    ACCESS_DESIGN,
    ALARM_TOPIC_ARN,
    AUTH_ROLE_ARN,
    BUCKET_NAME,
    KEY_ARN,
    RETENTION_DESIGN,
    STORAGE_URI,
)
from constructs_lib.core.retention import DESIGN_SETTINGS as RETENTION_SETTINGS
from constructs_lib.core.settings import AppSettings, RetentionSettings, specs
from recordings_kms import render
from recordings_kms.access import (
    DESIGN_SETTINGS,
    DesignParameters,
    InputError,
    json_object,
    parameters_from_access_design,
    parameters_from_settings,
)
from recordings_kms.options import (
    EXIT_FAILED,
    EXIT_OK,
    PROG,
    endpoint_url_problem,
    existing_bucket_problem,
    problems_of,
    prover_budget_problem,
    region_problem,
    settings_from,
    warn_if_region_unknown,
)
from recordings_kms.verify.replica_checks import SAMPLE_RANGE

if TYPE_CHECKING:
    from constructs_lib.core.prover import Design
    from recordings_kms import aws
    from recordings_kms.results import CheckResult
    from recordings_kms.verify.facts import BucketFacts, KeyFacts, LiveFacts


@dataclass(frozen=True)
class Target:
    """What to verify: the bucket, the key, the design, and the role the next deploy uses."""

    bucket: str
    key: str
    parameters: DesignParameters
    deploy_role: str | None
    #: Where ``deploy_role`` came from, or why there is none.
    deploy_role_source: str
    storage_uri: str | None = None
    #: The tamper alarms' topic (``--alarm-topic``, else the stack's ``AlarmTopicArn`` output).
    alarm_topic: str | None = None
    #: The stack's retention settings (its ``RetentionDesign`` output).
    retention: RetentionSettings | None = None
    #: Every output of the stack (``--stack-name``): ``--replica`` finds the replica stack through them.
    outputs: Mapping[str, str] = field(default_factory=dict)


def _option_problem(args: argparse.Namespace) -> str | None:
    if problem := prover_budget_problem(args.prover_budget):
        return problem
    if args.endpoint_url is not None and (problem := endpoint_url_problem(args.endpoint_url)):
        return problem
    if args.region is not None and (problem := region_problem(args.region)):
        return problem
    if args.bucket is not None and (problem := existing_bucket_problem(args.bucket)):
        return problem
    if args.replica and args.clusters:
        return "verify --replica with --cluster: a replica of the central layout is not built (docs/REPLICATION.md)"
    if args.replica and not args.stack_name:
        return "verify --replica reads the replica stack the primary stack's outputs name: give --stack-name"
    low, high = SAMPLE_RANGE
    if not low <= args.replica_sample <= high:
        return f"--replica-sample must be {low}..{high}, got {args.replica_sample}"
    if args.clusters:
        return None  # the central layout's options: verify.cluster_options.option_problem
    names = (*DESIGN_SETTINGS, "alarm_topic_arn") if not args.stack_name else ("deploy_role", "alarm_topic_arn")
    problems = problems_of(settings_from(args, names))
    return "; ".join(problems) if problems else None


def _target_from_options(args: argparse.Namespace) -> Target:
    parameters = parameters_from_settings(settings_from(args, DESIGN_SETTINGS))
    source = (
        "--deploy-role" if parameters.deploy_role_arn else "no --deploy-role: name the role CloudFormation deploys with"
    )
    return Target(
        args.bucket, args.key, parameters, parameters.deploy_role_arn, source, alarm_topic=args.alarm_topic_arn
    )


def _target_from_stack(args: argparse.Namespace, clients: aws.Clients) -> Target:
    from recordings_kms import aws

    stack = aws.describe_stack(clients, args.stack_name)
    bucket, key, design_text = aws.require_outputs(stack.outputs, args.stack_name, BUCKET_NAME, KEY_ARN, ACCESS_DESIGN)
    parameters = parameters_from_access_design(design_text, source=f"stack {args.stack_name} output {ACCESS_DESIGN}")
    auth = stack.outputs.get(AUTH_ROLE_ARN)
    if auth is not None and auth != parameters.auth_role_arn:
        raise InputError(
            f"stack {args.stack_name} outputs disagree: {AUTH_ROLE_ARN} is {auth}, {ACCESS_DESIGN} names "
            f"{parameters.auth_role_arn}"
        )
    deploy_role, source = _next_deploy_role(args, stack)
    topic = args.alarm_topic_arn or stack.outputs.get(ALARM_TOPIC_ARN)
    retention = _retention(stack.outputs.get(RETENTION_DESIGN), args.stack_name)
    return Target(
        bucket, key, parameters, deploy_role, source, stack.outputs.get(STORAGE_URI), topic, retention, stack.outputs
    )


def _next_deploy_role(args: argparse.Namespace, stack: aws.StackFacts) -> tuple[str | None, str]:
    """The role the next deploy uses and where that came from (``--deploy-role``, else the stack's RoleARN)."""
    if args.deploy_role is not None:
        return args.deploy_role, "--deploy-role"
    if stack.role_arn is not None:
        return stack.role_arn, "the stack's RoleARN, the role CloudFormation last deployed with"
    return None, (
        "the stack has no RoleARN (CloudFormation deployed it with the caller's credentials): pass --deploy-role "
        "with the role the next deploy uses"
    )


#: The context names a RetentionDesign output may carry (others, from a newer version, are ignored).
_RETENTION_CONTEXT = frozenset(d.spec.context for d in specs(RetentionSettings) if d.name in RETENTION_SETTINGS)


def _retention(text: str | None, stack_name: str) -> RetentionSettings | None:
    """The stack's retention settings, judged by the settings model (``None`` for a stack without them)."""
    if text is None:
        return None
    where = f"stack {stack_name} output {RETENTION_DESIGN}"
    values = json_object(text, source=where)
    settings = AppSettings.from_context({k: v for k, v in values.items() if k in _RETENTION_CONTEXT})
    if problems := problems_of(settings):
        raise InputError(f"{where}: {'; '.join(problems)}")
    return settings


def run(args: argparse.Namespace) -> int:
    from constructs_lib.core.prover.budget import Budget, spending
    from recordings_kms.verify.cluster_options import option_problem

    if problem := _option_problem(args) or option_problem(args):
        return render.error(problem, as_json=args.json)
    warn_if_region_unknown(args.region)
    with spending(Budget(total=int(args.prover_budget))):  # one total for every proof of this run
        return _verify_central(args) if args.clusters else _verify(args)


def _verify(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from recordings_kms import aws
    from recordings_kms.verify.probe import ProbeTarget, run_probe

    try:
        clients = aws.make_clients(region=args.region, endpoint_url=args.endpoint_url, key=args.key)
        target = _target_from_stack(args, clients) if args.stack_name else _target_from_options(args)
        facts, design, results = _judge(clients, target)
        key_facts, bucket_facts = facts.key, facts.bucket
        results += _alarms(clients, design, target, stack=bool(args.stack_name))
        if args.replica:
            results += _replica(clients, args, target, facts, design)
        if args.access_analyzer:
            results += _access_analyzer(clients, design, key_facts, bucket_facts, results)
        if args.probe:
            probe = ProbeTarget(
                bucket=target.bucket,
                key_arn=key_facts.arn,
                key_id=key_facts.key_id,
                sse_kms_key=design.teleport_key_id,
                enforces_policies=clients.enforces_policies,
                endpoint=args.endpoint_url or f"AWS {clients.region}",
            )
            with aws.translated("s3", target.bucket):
                results += run_probe(clients.s3, probe)
    except (aws.AwsError, InputError) as failure:
        return render.error(str(failure), as_json=args.json)
    except (BotoCoreError, ClientError) as failure:  # a backstop: every expected error is an AwsError
        return render.error(f"AWS call failed: {failure}", as_json=args.json)

    about = {
        "probe": args.probe,
        "access_analyzer": args.access_analyzer,
        "design": render.design_json(design),
        "deploy_role": target.deploy_role,
    }
    where = _Where(target.bucket, key_facts.arn, clients.region)
    return _report(args, results, where, about, render.design_line(design))


@dataclass(frozen=True)
class _Where:
    bucket: str
    key_arn: str
    region: str
    #: After the header's ``(REGION via URL)``: what else was verified.
    more: str = ""


def _report(
    args: argparse.Namespace, results: list[CheckResult], where: _Where, about: dict[str, object], design_line: str
) -> int:
    """Print the run (text or ``--json``) and pick the exit code."""
    from recordings_kms.results import exit_ok

    ok = exit_ok(results, warnings_ok=args.warnings_ok)
    if args.json:
        document = {
            "bucket": where.bucket,
            "key": where.key_arn,
            "region": where.region,
            "stack_name": args.stack_name,
            "endpoint_url": args.endpoint_url,
            **about,
        }
        print(render.document(results, ok=ok, about=document))
    else:
        region = where.region + (f" via {args.endpoint_url}" if args.endpoint_url else "")
        header = f"{PROG} verify: bucket {where.bucket}, key {where.key_arn} ({region}){where.more}"
        print(render.text(results, header, design_line))
    return EXIT_OK if ok else EXIT_FAILED


def _replica(
    clients: aws.Clients, args: argparse.Namespace, target: Target, facts: LiveFacts, design: Design
) -> list[CheckResult]:
    """``--replica``: where the live rule sends recordings and under which key, and which versions are missing."""
    from recordings_kms import aws
    from recordings_kms.verify import replica_checks, replica_readers

    name, region = replica_readers.replica_stack(clients, target.outputs, args.stack_name)
    replica_clients = aws.make_clients(region=region, endpoint_url=args.endpoint_url)
    replica = replica_readers.gather_target(replica_clients, name, facts.bucket.replication)
    results = replica_checks.check_target(replica, partition=design.partition, primary_prefix=design.prefix)
    evidence = replica_readers.gather_versions(
        clients.s3,
        replica_clients.s3,
        primary_bucket=target.bucket,
        replica_bucket=replica.bucket,
        prefix=design.prefix,
        sample=args.replica_sample,
    )
    results.append(replica_checks.check_versions(evidence, replica))
    return results + _replica_itself(replica_clients, args, name)


def _replica_itself(replica_clients: aws.Clients, args: argparse.Namespace, name: str) -> list[CheckResult]:
    """The replica's own key and bucket, judged as the primary's (its stack's AccessDesign; the prover's P1-P6 and
    R2), every line's id under ``replica/``. Its alarms are not checked here: verify the replica stack for them."""
    from dataclasses import replace

    stack_args = argparse.Namespace(**{**vars(args), "stack_name": name, "deploy_role": None, "alarm_topic_arn": None})
    _, _, found = _judge(replica_clients, _target_from_stack(stack_args, replica_clients))
    return [replace(result, id=f"replica/{result.id}") for result in found]


def _judge(clients: aws.Clients, target: Target) -> tuple[LiveFacts, Design, list[CheckResult]]:
    """Read the target's key, bucket and auth principal, and run every read-only check on them."""
    from recordings_kms.verify import readers
    from recordings_kms.verify.checks import design_for, verify
    from recordings_kms.verify.facts import LiveFacts

    key = readers.gather_key(clients, target.key)
    bucket = readers.gather_bucket(clients, target.bucket)
    identity = readers.gather_identity(clients, target.parameters.auth_role_arn)
    facts = LiveFacts(key, bucket, identity, target.storage_uri, target.retention)
    design = design_for(target.parameters, facts)
    results = verify(facts, design, deploy_role=target.deploy_role, deploy_role_source=target.deploy_role_source)
    return facts, design, results


def _alarms(clients: aws.Clients, design: Design, target: Target, *, stack: bool) -> list[CheckResult]:
    """The tamper alarms: the rules, their subscribers, the trail they need, IAM's events (never fatal)."""
    from recordings_kms.verify import monitoring

    if target.alarm_topic is None:
        return [
            monitoring.not_checked(
                f"the stack has no {ALARM_TOPIC_ARN} output (alarms off?)"
                if stack
                else "pass --alarm-topic with the alarms' SNS topic, or use --stack-name"
            )
        ]
    from recordings_kms.verify.monitoring_readers import gather_alarms

    return monitoring.check_alarms(gather_alarms(clients, target.alarm_topic), design)


def _access_analyzer(
    clients: aws.Clients, design: Design, key: KeyFacts, bucket: BucketFacts, results: Sequence[CheckResult]
) -> list[CheckResult]:
    """AWS IAM Access Analyzer's verdicts on the live policies, beside the prover's P1."""
    from recordings_kms import aws
    from recordings_kms.results import CheckResult, Status
    from recordings_kms.verify import access_analyzer, readers

    text = key.policy_text
    try:
        key_policy = json.loads(text) if text is not None else None
    except json.JSONDecodeError:
        key_policy = None
    if text is None or not isinstance(key_policy, dict):
        return [CheckResult(access_analyzer.KEY_PUBLIC, Status.WARN, "not asked: the key policy is not a JSON object")]
    p1 = next((r for r in results if r.id == "access.P1" and r.status is not Status.INFO), None)
    client = aws.access_analyzer_client(clients)
    asked = access_analyzer.questions(design, text, bucket.policy_text)
    answers = [readers.ask_access_analyzer(client, question) for question in asked]
    return access_analyzer.judge(answers, design=design, key_policy=key_policy, p1=p1)


def _verify_central(args: argparse.Namespace) -> int:
    """The organization layout (``--cluster``): the recordings account's key and bucket, each cluster's role in
    its own account (``verify.central``)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from recordings_kms import aws
    from recordings_kms.verify import central, cluster_options, readers
    from recordings_kms.verify.checks import check_configuration
    from recordings_kms.verify.facts import IdentityFacts, LiveFacts
    from recordings_kms.verify.monitoring import not_checked

    options = cluster_options.central_options(args)
    if isinstance(options, str):  # refused by cluster_options.option_problem already
        return render.error(options, as_json=args.json)
    try:
        clients = aws.make_clients(region=args.region, endpoint_url=args.endpoint_url, key=args.key)
        stack_outputs: dict[str, str] | None = None
        retention = None
        if args.stack_name:
            stack = aws.describe_stack(clients, args.stack_name)
            bucket_name, key_name = aws.require_outputs(stack.outputs, args.stack_name, BUCKET_NAME, KEY_ARN)
            deploy_role, source = _next_deploy_role(args, stack)
            stack_outputs = stack.outputs
            retention = _retention(stack.outputs.get(RETENTION_DESIGN), args.stack_name)
        else:
            bucket_name, key_name = args.bucket, args.key
            deploy_role = args.deploy_role
            source = "--deploy-role" if deploy_role else "no --deploy-role: name the role CloudFormation deploys with"
        parameters = cluster_options.parameters_of(args, deploy_role)
        key_facts = readers.gather_key(clients, key_name)
        bucket_facts = readers.gather_bucket(clients, bucket_name)
        clusters = central.gather_clusters(clients, options, key_facts.account)
        facts = LiveFacts(key_facts, bucket_facts, IdentityFacts(""), None, retention)
        shared = parameters.design(key_arn=key_facts.arn, bucket=bucket_name)
        results = check_configuration(facts, dataclasses.replace(shared, prefix=options.recordings_prefix))
        if stack_outputs is not None:
            results += central.check_storage_uris(stack_outputs, clusters, bucket_facts, key_facts)
        access, designs = central.verify_clusters(
            key_facts, bucket_facts, parameters, clusters, deploy_role=deploy_role, deploy_role_source=source
        )
        results += access
        results.append(not_checked("verify does not check them on the organization layout (--cluster) yet"))
    except (aws.AwsError, InputError) as failure:
        return render.error(str(failure), as_json=args.json)
    except (BotoCoreError, ClientError) as failure:  # a backstop: every expected error is an AwsError
        return render.error(f"AWS call failed: {failure}", as_json=args.json)

    about: dict[str, object] = {
        "clusters": [
            {"name": c.cluster.name, "roleAccount": c.cluster.account, "credentials": c.source, **render.design_json(d)}
            for c, d in zip(clusters, designs, strict=True)
        ],
        "deploy_role": deploy_role,
    }
    where = _Where(bucket_name, key_facts.arn, clients.region, f", {len(clusters)} clusters")
    return _report(args, results, where, about, central.design_line(designs))
