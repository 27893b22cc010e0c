"""The bundled stack's output names: written by ``stacks/recordings_stack.py``, read by ``recordings-kms``."""

from __future__ import annotations

STORAGE_URI = "StorageUri"
KEY_ARN = "KeyArn"
KEY_ID = "KeyId"
BUCKET_NAME = "BucketName"
AUTH_ROLE_ARN = "AuthRoleArn"
INSTANCE_PROFILE = "AuthInstanceProfileName"
#: JSON: who the design lets do what (``SessionRecordingsStorage.access_design``): authPrincipalArn, readers,
#: admins, adminMode, deployRole, scopeKeyToS3, prefix. ``recordings-kms verify`` proves the live policies against it.
ACCESS_DESIGN = "AccessDesign"
#: The SNS topic the tamper alarms publish to (only when alarms are on). ``recordings-kms verify`` finds the
#: alarm rules by it (ListRuleNamesByTarget).
ALARM_TOPIC_ARN = "AlarmTopicArn"
#: JSON: the retention settings the bucket was deployed with, by their context names (objectLockMode,
#: objectLockRetentionDays, retentionDays, transitionStorageClass, transitionDays, incompleteUploadAbortDays).
#: ``recordings-kms verify`` compares the live lifecycle rules and Object Lock with them.
RETENTION_DESIGN = "RetentionDesign"
#: With ``replicaRegion``: the replica stack's name and region, which ``recordings-kms teleport-config --replica``
#: reads the replica's ``StorageUri`` from (failover).
REPLICA_STACK_NAME = "ReplicaStackName"
REPLICA_REGION = "ReplicaRegion"
