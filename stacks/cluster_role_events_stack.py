"""A us-east-1 stack per account with cluster roles: their IAM changes, sent to the recordings account's bus.

CloudTrail delivers IAM (a global service) events to EventBridge in us-east-1 only, in the account
of the role; the tamper topic is in the recordings account and region. Deploy it with that account's
credentials after the recordings stack, whose bus accepts events from this stack's rule only (README:
Organization layout).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from constructs_lib.core import alarms, cluster_role_events, clusters
from constructs_lib.iam_event_forwarder import IamEventForwarder


class ClusterRoleEventsStack(cdk.Stack):
    """The rule that sends changes to ``account``'s cluster roles to the recordings account's bus."""

    def __init__(
        self, scope: Construct, id: str, *, layout: clusters.OrganizationPlan, account: str, **kwargs: Any
    ) -> None:
        kwargs.setdefault("env", cdk.Environment(account=account, region=alarms.IAM_EVENT_REGION))
        kwargs.setdefault(
            "description",
            f"Teleport session recordings: sends IAM changes to account {account}'s cluster roles to the tamper "
            f"alarms of the recordings account {layout.account}",
        )
        super().__init__(scope, id, **kwargs)
        names = cluster_role_events.role_names(layout, account)
        self.forwarder = IamEventForwarder(
            self,
            "Forwarder",
            target_regions=(),
            bus_arns=[cluster_role_events.bus_arn(layout)],
            pattern=cluster_role_events.roles_pattern(names),
            rule_name=cluster_role_events.FORWARD_RULE_NAME,
        )
