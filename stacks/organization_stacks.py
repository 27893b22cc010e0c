"""The organization layout's stacks: the recordings stack (recordings account) and one stack per workload account.

The stacks name each other from the settings alone (``constructs_lib.core.clusters.plan``); nothing
references across accounts. Deploy the recordings stack first: its key and bucket policies name the
cluster roles by ``aws:PrincipalArn`` under their accounts' roots, which KMS and S3 accept before the
roles exist (README: Organization layout).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from constructs_lib.central_storage import CentralRecordingsStorage, ClusterIdentity
from constructs_lib.cluster_role import ClusterAuthRole
from constructs_lib.core import cluster_role_events, clusters, outputs
from constructs_lib.core.settings import AppSettings
from stacks.cluster_role_events_stack import ClusterRoleEventsStack
from stacks.recordings_stack import DEFAULT_STACK_NAME, alarm_topic_output, retention_output, stack_defaults


class CentralRecordingsStack(cdk.Stack):
    """The recordings key, bucket and alarms of every cluster, in the recordings account; termination protection on.

    Outputs one ``audit_sessions_uri`` per cluster (``StorageUriNAME``), with the key's full ARN.
    """

    def __init__(
        self, scope: Construct, id: str, *, settings: AppSettings, layout: clusters.OrganizationPlan, **kwargs: Any
    ) -> None:
        stack_defaults(
            settings,
            kwargs,
            account=layout.account,
            region=layout.region,
            description=(
                "Teleport session recordings of several clusters under a customer managed KMS key (Teleport RFD 42)"
            ),
        )
        super().__init__(scope, id, **kwargs)
        self.layout = layout
        self.storage = CentralRecordingsStorage(self, "Storage", settings=settings.storage(), layout=layout)
        for cluster in layout.clusters:
            cdk.CfnOutput(
                self,
                cluster.output_id,
                value=self.storage.storage_uris[cluster.name],
                description=f"teleport.yaml audit_sessions_uri of cluster {cluster.name} (its prefix, the key's ARN)",
            )
            own = self.storage.cluster_keys.get(cluster.name)
            if own is not None:
                cdk.CfnOutput(
                    self,
                    outputs.KEY_ARN + cluster.construct_id.removeprefix("Cluster"),
                    value=own.key_arn,
                    description=f"ARN of cluster {cluster.name}'s own recordings key (clusters[N].recordingsKeyArn)",
                )
        values = {
            outputs.KEY_ARN: (self.storage.key.key_arn, "ARN of the session recordings KMS key"),
            outputs.KEY_ID: (self.storage.key.key_id, "ID of the session recordings KMS key"),
            outputs.BUCKET_NAME: (self.storage.bucket.bucket_name, "Session recordings bucket"),
            outputs.RETENTION_DESIGN: retention_output(settings),
        }
        if self.storage.alarms is not None:
            values[outputs.ALARM_TOPIC_ARN] = alarm_topic_output(self.storage.alarms)
        for output_id, (value, description) in values.items():
            cdk.CfnOutput(self, output_id, value=value, description=description)


class WorkloadStack(cdk.Stack):
    """The auth roles of the clusters of one workload account, with their identity policies."""

    def __init__(
        self, scope: Construct, id: str, *, layout: clusters.OrganizationPlan, account: str, **kwargs: Any
    ) -> None:
        kwargs.setdefault("termination_protection", True)
        kwargs.setdefault("env", cdk.Environment(account=account, region=layout.region))
        kwargs.setdefault(
            "description", f"Teleport session recordings: the auth roles of account {account}'s clusters (RFD 42)"
        )
        super().__init__(scope, id, **kwargs)
        self.roles: dict[str, ClusterAuthRole] = {}
        for cluster in layout.clusters:
            if cluster.account != account:
                continue
            role = ClusterAuthRole(self, cluster.construct_id, layout=layout, cluster=cluster)
            self.roles[cluster.name] = role
            tag = cluster.construct_id.removeprefix("Cluster")
            cdk.CfnOutput(
                self,
                f"{outputs.AUTH_ROLE_ARN}{tag}",
                value=role.role.role_arn,
                description=f"IAM role of cluster {cluster.name}'s Teleport auth service",
            )
            if role.instance_profile is not None:
                cdk.CfnOutput(
                    self,
                    f"{outputs.INSTANCE_PROFILE}{tag}",
                    value=role.instance_profile.instance_profile_name,
                    description=f"Instance profile to attach to cluster {cluster.name}'s Teleport auth EC2 instances",
                )


def build_organization(app: cdk.Stage, settings: AppSettings) -> list[cdk.Stack]:
    """The recordings stack and one workload stack per account of ``settings.clusters``."""
    layout = clusters.plan(settings)
    recordings = CentralRecordingsStack(app, DEFAULT_STACK_NAME, settings=settings, layout=layout)
    stacks: list[cdk.Stack] = [recordings]
    for account in layout.accounts():
        workload = WorkloadStack(app, clusters.WORKLOAD_STACK_PREFIX + account, layout=layout, account=account)
        for name, role in workload.roles.items():
            created = role.auth_node_role.role if role.auth_node_role is not None else None
            recordings.storage.identities[name] = ClusterIdentity(workload, [role.access_policy.policy], created)
        stacks.append(workload)
        if settings.alarms:  # the tamper alarms on its cluster roles: their IAM events arrive in us-east-1
            events_stack = ClusterRoleEventsStack(
                app, cluster_role_events.STACK_PREFIX + account, layout=layout, account=account
            )
            stacks.append(events_stack)
    return stacks
