"""A small us-east-1 stack that forwards the auth role's IAM events to the recordings region.

CloudTrail delivers IAM (a global service) events to EventBridge in us-east-1 only; the recordings
stack's auth-role alarm lives in the recordings region. The bundled app adds this stack, in the same
account, whenever the recordings region is another one and alarms are on.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from constructs_lib.core import alarms
from constructs_lib.iam_event_forwarder import IamEventForwarder

IAM_EVENTS_STACK_NAME = "TeleportSessionRecordingsIamEvents"


class IamEventsStack(cdk.Stack):
    """The forwarder of IAM role-change events from us-east-1 to ``target_region``."""

    def __init__(self, scope: Construct, id: str, *, account: str | None, target_region: str, **kwargs: Any) -> None:
        kwargs.setdefault("env", cdk.Environment(account=account, region=alarms.IAM_EVENT_REGION))
        kwargs.setdefault(
            "description", f"Teleport session recordings: forwards IAM events to {target_region} for the tamper alarms"
        )
        super().__init__(scope, id, **kwargs)
        self.forwarder = IamEventForwarder(self, "Forwarder", target_regions=[target_region])
