"""The deployable stack: the RFD 42 storage from the app's settings, with its outputs."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import jsii
from constructs import Construct

from constructs_lib.alarms import TamperAlarms
from constructs_lib.core import outputs, retention
from constructs_lib.core import replication as replication_names
from constructs_lib.core.kinds import principal_arn
from constructs_lib.core.settings import AppSettings
from constructs_lib.storage import SessionRecordingsStorage

DEFAULT_STACK_NAME = "TeleportSessionRecordings"


def stack_defaults(
    settings: AppSettings,
    kwargs: dict[str, Any],
    *,
    account: str | None = None,
    region: str | None = None,
    description: str = "Teleport session recordings under a customer managed KMS key (Teleport RFD 42)",
) -> dict[str, Any]:
    """``kwargs`` with the defaults every stack of the app that holds recordings takes: termination protection,
    its environment (the settings' ``account`` and ``region`` unless given), the deploy role as CloudFormation
    execution role, and the description (the import stack of an existing bucket deploys as the recordings
    stack, so it takes the same; the replica and central stacks say what they hold)."""
    kwargs.setdefault("termination_protection", True)
    kwargs.setdefault("env", cdk.Environment(account=account or settings.account, region=region or settings.region))
    deploy_role = principal_arn(settings.deploy_role, settings.environment())
    if deploy_role is not None:
        kwargs.setdefault("synthesizer", cdk.DefaultStackSynthesizer(cloud_formation_execution_role=deploy_role))
    kwargs.setdefault("description", description)
    return kwargs


class SessionRecordingsStack(cdk.Stack):
    """Session recordings key, bucket and auth role; termination protection on.

    Outputs the ``audit_sessions_uri`` for ``teleport.yaml`` and the identifiers of what it created.
    """

    def __init__(self, scope: Construct, id: str, *, settings: AppSettings, **kwargs: Any) -> None:
        """
        :param settings: the app's settings (``AppSettings.from_context``); ``account`` and ``region`` make
            the stack's environment unless ``env`` is given.
        :param kwargs: ``cdk.Stack`` properties. Default: termination protection on; with
            ``settings.deploy_role``, a DefaultStackSynthesizer whose CloudFormation execution role is that
            role, so the role that deploys is the one the key policy names.
        """
        super().__init__(scope, id, **stack_defaults(settings, kwargs))
        self.settings = settings
        self.storage = SessionRecordingsStorage(self, "Storage", settings=settings.storage())
        self._outputs()

    def _outputs(self) -> None:
        values = {
            outputs.STORAGE_URI: (
                self.storage.storage_uri,
                "teleport.yaml teleport.storage.audit_sessions_uri (RFD 42 sse_kms_key)",
            ),
            outputs.KEY_ARN: (self.storage.key.key_arn, "ARN of the session recordings KMS key"),
            outputs.KEY_ID: (self.storage.key.key_id, "ID of the session recordings KMS key"),
            outputs.BUCKET_NAME: (self.storage.bucket.bucket_name, "Session recordings bucket"),
            outputs.AUTH_ROLE_ARN: (self.storage.auth_principal_arn, "IAM role of the Teleport auth service"),
            outputs.ACCESS_DESIGN: (
                self.to_json_string(cdk.Lazy.any(_AccessDesign(self.storage))),
                "Who may decrypt or administer the key (JSON), what recordings-kms verify proves policies against",
            ),
        }
        values[outputs.RETENTION_DESIGN] = retention_output(self.settings)
        profile = self.storage.instance_profile
        if profile is not None:
            values[outputs.INSTANCE_PROFILE] = (
                profile.instance_profile_name,
                "Instance profile to attach to the Teleport auth EC2 instances",
            )
        replication = self.storage.replication
        if replication is not None:
            values[outputs.REPLICA_STACK_NAME] = (
                replication_names.REPLICA_STACK_NAME,
                "The replica stack (teleport-config --replica prints its audit_sessions_uri for failover)",
            )
            values[outputs.REPLICA_REGION] = (replication.names.replica_region, "The replica stack's region")
        if self.storage.alarms is not None:
            values[outputs.ALARM_TOPIC_ARN] = alarm_topic_output(self.storage.alarms)
        for output_id, (value, description) in values.items():
            cdk.CfnOutput(self, output_id, value=value, description=description)


def retention_output(settings: AppSettings) -> tuple[str, str]:
    """The ``RetentionDesign`` output's value and description (every recordings stack has it)."""
    return (
        json.dumps(retention.retention_design(settings), sort_keys=True),
        "The retention settings (JSON) recordings-kms verify compares the live lifecycle and Object Lock with",
    )


def alarm_topic_output(alarms: TamperAlarms) -> tuple[str, str]:
    """The ``AlarmTopicArn`` output's value and description."""
    return alarms.topic.topic_arn, "SNS topic of the tamper alarms (subscribe your security team's endpoints)"


@jsii.implements(cdk.IStableAnyProducer)
class _AccessDesign:
    """The storage's access design, produced at synthesis (after every reader was granted)."""

    def __init__(self, storage: SessionRecordingsStorage) -> None:
        self.storage = storage

    def produce(self) -> Any:
        return self.storage.access_design()
