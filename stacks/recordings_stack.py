"""The deployable stack: the RFD 42 storage from one configuration object, with its outputs."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.core.validation import InvalidSettingsError
from constructs_lib.storage import SessionRecordingsStorage
from stacks.config import RecordingsConfig, context_label

DEFAULT_STACK_NAME = "TeleportSessionRecordings"


class SessionRecordingsStack(cdk.Stack):
    """Session recordings key, bucket and auth role; termination protection on.

    Outputs the ``audit_sessions_uri`` for ``teleport.yaml`` and the identifiers of what it created.
    """

    def __init__(self, scope: Construct, id: str, *, config: RecordingsConfig, **kwargs: Any) -> None:
        """
        :param config: the settings (see ``RecordingsConfig.from_context``).
        :param kwargs: ``cdk.Stack`` properties. Default: termination protection on; with
            ``config.deploy_role_arn``, a DefaultStackSynthesizer whose CloudFormation execution role
            is that role, so the role that deploys is the one the key policy names.
        """
        kwargs.setdefault("termination_protection", True)
        if config.deploy_role_arn is not None:
            kwargs.setdefault(
                "synthesizer", cdk.DefaultStackSynthesizer(cloud_formation_execution_role=config.deploy_role_arn)
            )
        kwargs.setdefault(
            "description", "Teleport session recordings under a customer managed KMS key (Teleport RFD 42)"
        )
        super().__init__(scope, id, **kwargs)
        config.validate()
        self.config = config

        existing_role = (
            iam.Role.from_role_arn(self, "ExistingAuthRole", config.existing_auth_role_arn)
            if config.existing_auth_role_arn is not None
            else None
        )
        access_logs_bucket = (
            s3.Bucket.from_bucket_name(self, "ExistingAccessLogsBucket", config.access_logs_bucket_name)
            if config.access_logs_bucket_name is not None
            else None
        )
        try:
            self.storage = self._storage(config, existing_role, access_logs_bucket)
        except InvalidSettingsError as error:
            # Report construct-level problems in the names users set them by (cdk.json context).
            raise InvalidSettingsError(error.problems, label=context_label) from None
        self._outputs()

    def _storage(
        self, config: RecordingsConfig, existing_role: iam.IRole | None, access_logs_bucket: s3.IBucket | None
    ) -> SessionRecordingsStorage:
        return SessionRecordingsStorage(
            self,
            "Storage",
            bucket_name=config.bucket_name,
            recordings_prefix=config.recordings_prefix,
            key_alias=config.key_alias,
            key_admin_arns=config.key_admin_arns,
            denied_principal_arns=config.denied_principal_arns,
            key_admin_mode=config.key_admin_mode,
            scope_key_to_s3=config.scope_key_to_s3,
            require_encryption_headers=config.require_encryption_headers,
            key_rotation_days=config.key_rotation_days,
            key_pending_window_days=config.key_pending_window_days,
            auth_trust=config.auth_trust,
            auth_principal_arn=config.auth_principal_arn,
            oidc_provider_arn=config.oidc_provider_arn,
            service_account=config.service_account,
            auth_role=existing_role,
            access_logs_bucket=access_logs_bucket,
            deploy_role_arn=config.deploy_role_arn,
        )

    def _outputs(self) -> None:
        outputs = {
            "StorageUri": (
                self.storage.storage_uri,
                "teleport.yaml teleport.storage.audit_sessions_uri (RFD 42 sse_kms_key)",
            ),
            "KeyArn": (self.storage.key.key_arn, "ARN of the session recordings KMS key"),
            "KeyId": (self.storage.key.key_id, "ID of the session recordings KMS key"),
            "BucketName": (self.storage.bucket.bucket_name, "Session recordings bucket"),
            "AuthRoleArn": (self.storage.auth_role.role_arn, "IAM role of the Teleport auth service"),
        }
        profile = self.storage.instance_profile
        if profile is not None:
            outputs["AuthInstanceProfileName"] = (
                profile.instance_profile_name,
                "Instance profile to attach to the Teleport auth EC2 instances",
            )
        for output_id, (value, description) in outputs.items():
            cdk.CfnOutput(self, output_id, value=value, description=description)
