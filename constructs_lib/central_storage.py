"""The recordings account's half of the organization layout: the key, the bucket and the alarms, no auth role.

Each cluster's auth role lives in its own workload account (``constructs_lib.cluster_role``); the key
and bucket policies name the roles from the settings (``constructs_lib.core.clusters``), in a form
KMS and S3 accept before the roles exist, so that this stack deploys first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.alarms import TamperAlarms
from constructs_lib.bucket import RecordingsBucket, bucket_arn_for
from constructs_lib.cluster_role_alarms import ClusterRoleAlarms
from constructs_lib.compliance import checkov
from constructs_lib.core import clusters
from constructs_lib.core.kinds import principal_arns
from constructs_lib.core.settings import KeyAdminMode, StorageSettings
from constructs_lib.core.template import DESIGN_METADATA
from constructs_lib.key import RecordingsKey
from constructs_lib.private.construction import check_settings
from constructs_lib.private.environment import environment_of, resolved_deploy_role


@dataclass
class ClusterIdentity:
    """Where a cluster role's identity policies are synthesized: its workload stack and policy resources."""

    stack: cdk.Stack
    policies: list[Construct]
    #: The created role, whose trust policy T1 judges (None: an existing role, whose trust is its owner's).
    role: Construct | None = None


class CentralRecordingsStorage(Construct):
    """The recordings key and bucket for many clusters, each reaching its own prefix only.

    The construct ids are those of ``SessionRecordingsStorage`` (``Storage/Key``, ``Storage/Bucket``), so
    the key and bucket keep their logical ids. Each cluster's design is recorded for the access proofs
    (P1-P6 per cluster and P7), with the identity policies its workload stack gives its role.
    """

    def __init__(
        self, scope: Construct, id: str, *, settings: StorageSettings, layout: clusters.OrganizationPlan
    ) -> None:
        """
        :param settings: the storage settings (key, bucket, retention, alarms, readers of every cluster); the
            auth settings are unused (each cluster has its own).
        :param layout: the clusters and every name (``core.clusters.plan``).
        """
        super().__init__(scope, id)
        _, synthesized = resolved_deploy_role(self, settings)
        self._env = environment_of(self, deploy_role=synthesized)
        check_settings(self, settings, self._env)
        settings = settings.replaced(still_valid=True, bucket_name=layout.bucket_name, key_alias=layout.key_alias)
        self.settings = settings
        self.layout = layout
        self.bucket_name = layout.bucket_name
        self.bucket_arn = bucket_arn_for(self.bucket_name)
        self.recordings_key = RecordingsKey(
            self, "Key", auth_principal_arn=None, settings=settings, bucket_arn=self.bucket_arn
        )
        self.key: kms.Key = self.recordings_key.key
        #: With ``clusterIsolation=key``: each cluster's own key (``KEYALIAS/NAME``); the shared key above then
        #: stays the bucket's default encryption, for the key administrators and ``readerArns`` only.
        self.cluster_keys: dict[str, RecordingsKey] = {}
        for cluster in layout.clusters if layout.key_per_cluster else ():
            self.cluster_keys[cluster.name] = RecordingsKey(
                self,
                f"{cluster.construct_id}Key",
                auth_principal_arn=None,
                settings=settings.replaced(still_valid=True, key_alias=cluster.key_alias),
                bucket_arn=self.bucket_arn,
            )
        for cluster in layout.clusters:
            own = self.cluster_keys.get(cluster.name, self.recordings_key)
            for statement in clusters.key_statements(layout, cluster):
                own.key_policy.add_statements(iam.PolicyStatement.from_json(statement))
            if cluster.account == layout.account:
                checkov.skip_in_checkov(self._cfn(own.key), checkov.KMS_WILDCARD_PRINCIPAL)
        self.recordings_bucket = RecordingsBucket(
            self,
            "Bucket",
            bucket_name=self.bucket_name,
            encryption_key=self.key,
            settings=settings,
            retention=settings,
            also_accepted_keys=[k.key for k in self.cluster_keys.values()],
        )
        self.bucket: s3.Bucket = self.recordings_bucket.bucket
        for statement in clusters.bucket_statements(layout):
            self.bucket.add_to_resource_policy(iam.PolicyStatement.from_json(statement))
        if self.cluster_keys:
            keys = {name: (k.key_arn, k.key_id) for name, k in self.cluster_keys.items()}
            for statement in clusters.bucket_key_statements(layout, keys):
                self.bucket.add_to_resource_policy(iam.PolicyStatement.from_json(statement))
        self.storage_uris = {c.name: clusters.storage_uri(layout, c, self.key_of(c).key_arn) for c in layout.clusters}
        self.alarms: TamperAlarms | None = None
        if settings.alarms:
            self.alarms = TamperAlarms(
                self,
                "Alarms",
                key_arn=self.key.key_arn,
                bucket_name=self.bucket_name,
                auth_role_name=None,
                decrypt_allowed=self._decrypt_allowed,
                settings=settings,
            )
            # The cluster roles' IAM changes, sent from their accounts (stacks/cluster_role_events_stack.py).
            self.cluster_role_alarms = ClusterRoleAlarms(self, "ClusterRoleEvents", layout=layout, alarms=self.alarms)
        #: Set by the app once each workload stack exists: what the proofs read the role's policies from.
        self.identities: dict[str, ClusterIdentity] = {}
        for cluster in layout.clusters:
            self.node.add_metadata(DESIGN_METADATA, cdk.Lazy.any(_ClusterDesign(self, cluster)))

    def _decrypt_allowed(self) -> list[str]:
        layout = self.layout
        return list(dict.fromkeys([a for c in layout.clusters for a in (c.role_arn, *c.readers)] + [*layout.readers]))

    @staticmethod
    def _cfn(construct: Construct) -> cdk.CfnResource:
        child = construct.node.default_child
        if not isinstance(child, cdk.CfnResource):
            raise TypeError(f"{construct.node.path} has no CloudFormation resource")
        return child

    def key_of(self, cluster: clusters.ClusterPlan) -> kms.Key:
        """The key of ``cluster``'s recordings: its own with ``clusterIsolation=key``, else the shared one."""
        own = self.cluster_keys.get(cluster.name)
        return own.key if own is not None else self.key

    def design_of(self, cluster: clusters.ClusterPlan) -> dict[str, Any]:
        """One cluster's design: the facts ``SessionRecordingsStorage`` records, for this cluster's role and prefix."""
        stack = cdk.Stack.of(self)
        settings = self.settings
        identity = self.identities.get(cluster.name)
        key = self.key_of(cluster)
        return {
            "keyLogicalId": stack.resolve(self._cfn(key).logical_id),
            "bucketLogicalId": stack.resolve(self._cfn(self.bucket).logical_id),
            "keyArn": key.key_arn,
            "keyId": key.key_id,
            "bucketName": self.bucket_name,
            "authPrincipalArn": cluster.role_arn,
            "readers": [*cluster.readers, *self.layout.readers],
            "admins": principal_arns(settings.key_admins, self._env, tokens=True),
            "adminMode": KeyAdminMode(settings.key_admin_mode).value,
            "deployRole": self.recordings_key.deploy_role_arn,
            "scopeKeyToS3": True,
            "prefix": cluster.prefix,
            "account": self.layout.account,
            "region": self.layout.region,
            "partition": self.layout.partition,
            "cluster": cluster.name,
            "keyPerCluster": True if self.layout.key_per_cluster else None,
            "identityKeyArn": self.layout.identity_key_arn(cluster) if self.layout.names_key_of(cluster) else None,
            "peers": list(self.layout.peers_of(cluster)),
            "identityAccount": cluster.account,
            "identityStack": identity.stack.artifact_id if identity is not None else None,
            "identityPolicyLogicalIds": [identity.stack.resolve(self._cfn(p).logical_id) for p in identity.policies]
            if identity is not None
            else None,
            "identityRoleLogicalId": identity.stack.resolve(self._cfn(identity.role).logical_id)
            if identity is not None and identity.role is not None
            else None,
            "trustedPrincipal": clusters.trusted_principal_json(cluster, self._env),
        }


@jsii.implements(cdk.IStableAnyProducer)
class _ClusterDesign:
    """A cluster's design, produced at synthesis (after the app registered the workload stacks)."""

    def __init__(self, storage: CentralRecordingsStorage, cluster: clusters.ClusterPlan) -> None:
        self.storage = storage
        self.cluster = cluster

    def produce(self) -> Any:
        return self.storage.design_of(self.cluster)
