"""Tamper alarms on the organization layout's cluster roles, the recordings account's half: the bus and the rules.

Each account with cluster roles forwards their IAM changes from us-east-1 to this bus
(``stacks/cluster_role_events_stack.py``); one rule per account publishes them to the recordings
stack's tamper topic (``core/cluster_role_events.py`` has the names and the reasons).
"""

from __future__ import annotations

from aws_cdk import aws_events as events
from constructs import Construct

from constructs_lib.alarms import TamperAlarms
from constructs_lib.core import cluster_role_events, clusters


class ClusterRoleAlarms(Construct):
    """The bus receiving the cluster roles' IAM events, each account allowed from its forwarding rule only."""

    def __init__(self, scope: Construct, id: str, *, layout: clusters.OrganizationPlan, alarms: TamperAlarms) -> None:
        super().__init__(scope, id)
        self.bus = events.EventBus(
            self,
            "Bus",
            event_bus_name=cluster_role_events.BUS_NAME,
            description="Teleport session recordings: IAM changes to the cluster roles, sent from their accounts",
        )
        self.rules: dict[str, events.Rule] = {}
        for account in layout.accounts():
            # Each account from its forwarding rule only (EventBus.add_to_resource_policy would prefix the Sid
            # with "cdk-"). The statement form: CfnEventBusPolicy's principal/action/condition are deprecated
            # (a compliance pack reading them prints jsii's deprecation warning at synthesis; harmless).
            events.CfnEventBusPolicy(
                self,
                f"From{account}",
                event_bus_name=self.bus.event_bus_name,
                statement_id=f"ClusterRoleEventsFrom{account}",
                statement={
                    "Sid": f"ClusterRoleEventsFrom{account}",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{layout.partition}:iam::{account}:root"},
                    "Action": "events:PutEvents",
                    "Resource": self.bus.event_bus_arn,
                    "Condition": {
                        "ArnEquals": {"aws:SourceArn": cluster_role_events.forward_rule_arn(layout, account)}
                    },
                },
            )
            names = cluster_role_events.role_names(layout, account)
            self.rules[account] = alarms.add_forwarded_rule(
                f"ClusterRoleChanges{account}",
                cluster_role_events.roles_pattern(names, account),
                f"cluster roles of account {account}",
                self.bus,
            )
