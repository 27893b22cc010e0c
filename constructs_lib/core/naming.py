"""Default physical names: the first storage of a stack keeps the names every release has used.

Physical names of a retained bucket and key alias are a contract with users who already deployed:
changing them would make CloudFormation replace the bucket (and orphan the retained one). So the
first ``SessionRecordingsStorage`` of a stack (in creation order) keeps
``teleport-recordings-ACCOUNT-REGION`` and ``alias/teleport-session-recordings``. Any further
storage in the same stack derives both from its construct path, so two storages never collide:
``teleport-recordings-<8 hex of sha256(path)>-ACCOUNT-REGION`` and
``alias/teleport-session-recordings-<the same 8 hex>``. The path is stable as long as the construct
ids are, which CDK already requires for logical ids.
"""

from __future__ import annotations

import hashlib

BUCKET_NAME_PREFIX = "teleport-recordings"
KEY_ALIAS = "alias/teleport-session-recordings"


def path_discriminator(construct_path: str) -> str:
    """Eight hex digits that tell two construct paths apart (a bucket name has 63 characters at most)."""
    return hashlib.sha256(construct_path.encode()).hexdigest()[:8]


def default_bucket_name(account: str, region: str, discriminator: str | None = None) -> str:
    """``teleport-recordings[-DISCRIMINATOR]-ACCOUNT-REGION``; account and region may be CDK tokens."""
    middle = f"-{discriminator}" if discriminator else ""
    return f"{BUCKET_NAME_PREFIX}{middle}-{account}-{region}"


def default_key_alias(discriminator: str | None = None) -> str:
    return f"{KEY_ALIAS}-{discriminator}" if discriminator else KEY_ALIAS
