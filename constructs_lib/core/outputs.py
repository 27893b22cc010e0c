"""The bundled stack's output names: written by ``stacks/recordings_stack.py``, read by ``recordings-kms``."""

from __future__ import annotations

STORAGE_URI = "StorageUri"
KEY_ARN = "KeyArn"
KEY_ID = "KeyId"
BUCKET_NAME = "BucketName"
AUTH_ROLE_ARN = "AuthRoleArn"
INSTANCE_PROFILE = "AuthInstanceProfileName"
