"""The IAM event forwarder: IAM role changes from us-east-1 to the recordings region, for the tamper alarms."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib.core import alarms
from constructs_lib.core.settings import InvalidSettingsError, Problem
from constructs_lib.private.events import event_pattern


class IamEventForwarder(Construct):
    """In a us-east-1 stack: forwards IAM role changes to the default event bus of other regions.

    IAM is a global service: CloudTrail delivers its events to EventBridge in us-east-1 only, so a
    tamper-alarm rule for the auth role in any other region never fires unless the events come over.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        target_regions: Sequence[str],
        bus_arns: Sequence[str] = (),
        pattern: alarms.Pattern | None = None,
        rule_name: str | None = None,
    ) -> None:
        """
        :param target_regions: the regions whose default bus (this account's) gets every role change.
        :param bus_arns: other buses to send to (another account's: ``core/cluster_role_events.py``).
        :param pattern: the events forwarded. Default: every role change (``alarms.role_pattern()``).
        :param rule_name: the rule's physical name, when a receiving bus names its ARN. Default: generated.
        """
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        if stack.region != alarms.IAM_EVENT_REGION:
            raise InvalidSettingsError(
                [Problem("stack region", stack.region, f"{alarms.IAM_EVENT_REGION}, where IAM's events arrive")]
            )
        buses = [
            f"arn:{stack.partition}:events:{region}:{stack.account}:event-bus/default"
            for region in target_regions
            if region != alarms.IAM_EVENT_REGION
        ] + list(bus_arns)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description="Forwards the auth role's IAM events to the recordings region's event bus",
        )
        iam.ManagedPolicy(
            self,
            "PutEvents",
            statements=[iam.PolicyStatement(actions=["events:PutEvents"], resources=buses)],
            roles=[self.role],
        )
        self.rule = events.Rule(
            self,
            "RoleChanges",
            description="IAM role changes, forwarded to the Teleport session recordings region",
            event_pattern=event_pattern(pattern or alarms.role_pattern()),
            rule_name=rule_name,
        )
        for bus in buses:
            where = bus.split(":")[3] if bus.split(":")[4] == stack.account else bus.split(":")[4]
            self.rule.add_target(
                targets.EventBus(
                    events.EventBus.from_event_bus_arn(self, f"Bus{where}", bus),
                    role=self.role.without_policy_updates(),
                )
            )
        self.target_regions = tuple(target_regions)


def forwarded_regions(scope: Construct) -> set[str]:
    """The regions an ``IamEventForwarder`` of this app forwards to."""
    found: set[str] = set()
    for construct in scope.node.root.node.find_all():
        if isinstance(construct, IamEventForwarder):
            found.update(construct.target_regions)
    return found


def iam_events_reach(scope: Construct) -> bool | None:
    """Whether the auth role's IAM events reach the stack's region; ``None`` when the region is unknown."""
    region = cdk.Stack.of(scope).region
    if cdk.Token.is_unresolved(region):
        return None
    return region == alarms.IAM_EVENT_REGION or region in forwarded_regions(scope)
