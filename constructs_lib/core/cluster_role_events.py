"""Tamper alarms on the cluster roles of the organization layout as plain data (pure): names and patterns.

IAM is a global service: CloudTrail delivers its events to EventBridge in us-east-1 only, in the
account of the role (``alarms.IAM_EVENT_REGION``). So each account with cluster roles gets a small
us-east-1 stack whose rule matches changes to those roles (by name) and sends them to an event bus in
the recordings account and region (EventBridge sends to an event bus of another account and Region
with an IAM role on the sending rule: "Sending and receiving events between AWS accounts in
Amazon EventBridge", https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html).
There, one rule per account matches the same changes and publishes to the recordings stack's tamper
topic: the security team that watches the key and the bucket also sees the roles that reach them.

The bus is the recordings stack's own (not the default bus, whose policy the account may use for
other things); its policy lets each account put events only from its forwarding rule (``aws:SourceArn``,
as in "Example policy: Send events from specific rules to an Amazon EventBridge bus in a different
Region"). Every name comes from the settings, since the stacks cannot reference each other.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from constructs_lib.core import alarms, clusters

#: The recordings account's bus for the cluster roles' IAM events.
BUS_NAME = "teleport-recordings-cluster-role-events"
#: Each cluster account's us-east-1 rule that forwards its cluster roles' changes to that bus.
FORWARD_RULE_NAME = "teleport-recordings-cluster-role-changes"
#: The us-east-1 stack of each account with cluster roles: ``TeleportSessionRecordingsIamEvents-ACCOUNT``.
STACK_PREFIX = "TeleportSessionRecordingsIamEvents-"


def bus_arn(layout: clusters.OrganizationPlan) -> str:
    return f"arn:{layout.partition}:events:{layout.region}:{layout.account}:event-bus/{BUS_NAME}"


def forward_rule_arn(layout: clusters.OrganizationPlan, account: str) -> str:
    """The forwarding rule of ``account`` (on its default bus in us-east-1): the only sender the bus accepts."""
    return f"arn:{layout.partition}:events:{alarms.IAM_EVENT_REGION}:{account}:rule/{FORWARD_RULE_NAME}"


def role_names(layout: clusters.OrganizationPlan, account: str) -> list[str]:
    """The names of ``account``'s cluster roles (an existing role by the last part of its ARN)."""
    return [c.role_name for c in layout.clusters if c.account == account]


def roles_pattern(names: Sequence[str], account: str | None = None) -> alarms.Pattern:
    """Changes to these roles (``alarms.ROLE_EVENTS``); with ``account``, only events of that account.

    A forwarded event keeps the account it happened in as its ``account`` field, which the recordings
    account's rule matches so that a role of the same name elsewhere does not raise the alarm.
    """
    pattern = copy.deepcopy(alarms.role_pattern())
    pattern["detail"]["requestParameters"] = {"roleName": list(names)}
    if account is not None:
        pattern["account"] = [account]
    return pattern
