#!/usr/bin/env python3
"""CDK app: the Teleport session recordings stack, configured from CDK context (cdk.json, -c)."""

from __future__ import annotations

import os
import sys

import aws_cdk as cdk

from constructs_lib import compliance
from constructs_lib.core.alarms import IAM_EVENT_REGION
from constructs_lib.core.settings import (
    AppSettings,
    Environment,
    InvalidSettingsError,
    Problem,
    check,
    render,
    validate,
)
from stacks.bucket_import_stack import BucketImportStack
from stacks.guardrails_stack import GUARDRAILS_STACK_NAME, GuardrailsStack
from stacks.iam_events_stack import IAM_EVENTS_STACK_NAME, IamEventsStack
from stacks.organization_stacks import build_organization
from stacks.recordings_stack import DEFAULT_STACK_NAME, SessionRecordingsStack
from stacks.replica_stack import REPLICA_STACK_NAME, ReplicaStack


def where(settings: AppSettings) -> str:
    """One line: the account and region the template is for, and where each came from."""
    parts = []
    for name in ("account", "region"):
        value = getattr(settings, name)
        source = settings.sources.get(name, "")
        if value is None:
            parts.append(f"{name}: none (the template works in any {name}; set -c {name}=...)")
        elif source == "CDK_DEFAULT_REGION":
            parts.append(
                f"{name}: {value} (from CDK_DEFAULT_REGION: the CDK CLI's default, from your AWS profile or "
                "us-east-1 when none names one; set -c region=... to choose)"
            )
        else:
            parts.append(f"{name}: {value} (from {source})")
    return "; ".join(parts)


def unreported_warnings(settings: AppSettings, env: Environment, found: list[Problem]) -> list[str]:
    """The warnings among ``found`` that no construct reports: the storage makes its own settings' warnings CDK
    warnings, which the CDK CLI prints; the app's own groups (the guardrails: ``noBreakGlass``) have no construct.
    """
    reported = check(settings.storage(), env)
    return [render(problem, settings) for problem in found if problem not in reported]


def build(app: cdk.Stage, settings: AppSettings) -> list[cdk.Stack]:
    """The app's stacks for ``settings``: IAM events (us-east-1), the replica (``replicaRegion``, deployed before the
    primary), recordings, guardrails (management account).

    ``app`` is the App, or a Stage of it (the tests build many configurations in one App).
    """
    if settings.bucket_import_phase:  # `make import`: the existing bucket alone (README: The bucket a team already has)
        return [BucketImportStack(app, DEFAULT_STACK_NAME, settings=settings)]
    if settings.clusters:
        organization = build_organization(app, settings)
        if settings.guardrail_target_ids:  # one SCP over the recordings and the workload accounts
            organization.append(GuardrailsStack(app, GUARDRAILS_STACK_NAME, settings=settings))
        return organization
    stacks: list[cdk.Stack] = []
    forwarder = None
    auth_is_a_role = not (isinstance(settings.auth_role, str) and ":user/" in settings.auth_role)
    if settings.alarms and auth_is_a_role and settings.region not in (None, IAM_EVENT_REGION):
        forwarder = IamEventsStack(app, IAM_EVENTS_STACK_NAME, account=settings.account, target_region=settings.region)
        stacks.append(forwarder)
    replica = ReplicaStack(app, REPLICA_STACK_NAME, settings=settings) if settings.replica_region else None
    recordings = SessionRecordingsStack(app, DEFAULT_STACK_NAME, settings=settings)
    if replica is not None:
        # S3 checks the replica bucket's versioning when the primary's replication rule is put.
        recordings.add_stack_dependency(replica, reason="the replication rule needs the replica bucket")
        stacks.append(replica)
    if forwarder is not None:
        # `cdk deploy TeleportSessionRecordings` deploys the forwarder too (same account, us-east-1).
        recordings.add_stack_dependency(forwarder, reason="the auth role's IAM events reach its tamper alarm")
    stacks.append(recordings)
    if settings.guardrail_target_ids:
        stacks.append(GuardrailsStack(app, GUARDRAILS_STACK_NAME, settings=settings))
    return stacks


def main(app: cdk.App | None = None) -> int:
    """Build and synthesize the app from its context; 0, or 1 with the reasons on stderr (and no template)."""
    app = app or cdk.App()
    compliance.enable_compliance_packs(app)
    settings = AppSettings.from_context(app.node.get_all_context(), environ=os.environ)
    try:
        env = settings.environment()
        found = validate(settings, env)  # every error at once, before anything is built
        print(f"teleport-recordings: {where(settings)}", file=sys.stderr)
        for line in unreported_warnings(settings, env, found):
            print(f"warning: {line}", file=sys.stderr)
        build(app, settings)
    except InvalidSettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    try:
        compliance.synth(app)  # fails closed: any gate that did not pass leaves no template
    except compliance.GateFailed as failed:
        print(failed, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
