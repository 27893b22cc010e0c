"""A replicated deployment on the moto server: the primary (``tests.cli.deployment``), a replica key, alias,
bucket and stack in another region, and the primary's replication rule naming them.

moto 5.2.5 stores a replication configuration but replicates nothing, and returns no
``x-amz-replication-status``. What S3 replication would do is built here through moto's in-process backend
(the server runs in this process): :meth:`Replicated.replicate` writes the replica of a primary version with the
primary's version id and LastModified, as S3 replication keeps both ("What does Amazon S3 replicate?",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html), and
:func:`replication_status` makes moto's HEAD and GET answer the ``x-amz-replication-status`` header S3 documents
for chosen source versions ("Getting replication status information",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html). What neither shows: that S3
really replicates under this rule and these policies (moto evaluates no policy), and its timing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from constructs_lib.core import outputs, policies, replication
from tests.access.test_prover_replication import NAMES
from tests.cli.conftest import s3_backend
from tests.cli.deployment import ACCOUNT, PREFIX, REGION, Deployment, harness_client

REPLICA_REGION = "eu-central-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/teleport-recordings-replication-{REGION}"


@dataclass
class Replicated:
    primary: Deployment
    replica_bucket: str
    replica_key_arn: str
    alias: str
    replica_stack: str
    primary_stack: str = ""
    #: The versions each put wrote: (key, version id) in the primary, oldest first.
    written: list[tuple[str, str]] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return self.primary.endpoint

    @property
    def alias_arn(self) -> str:
        return f"arn:aws:kms:{REPLICA_REGION}:{ACCOUNT}:{self.alias}"

    def put(self, name: str, body: bytes) -> str:
        """A recording version in the primary under the prefix (through the backend, like Teleport's upload)."""
        fake = s3_backend().put_object(
            self.primary.bucket, f"{PREFIX}/{name}", body, encryption="aws:kms", kms_key_id=self.primary.key_arn
        )
        self.written.append((fake.name, fake.version_id))
        return str(fake.version_id)

    def primary_version(self, name: str, version_id: str) -> Any:
        versions = s3_backend().get_bucket(self.primary.bucket).keys.getlist(f"{PREFIX}/{name}")
        return next(v for v in versions if v.version_id == version_id)

    def replicate(self, name: str, version_id: str) -> None:
        """What S3 replication writes: the same key, bytes, version id and LastModified, under the replica key."""
        source = self.primary_version(name, version_id)
        fake = s3_backend().put_object(
            self.replica_bucket, source.name, source.value, encryption="aws:kms", kms_key_id=self.replica_key_arn
        )
        fake._version_id = source.version_id
        fake.last_modified = source.last_modified

    def set_last_modified(self, name: str, version_id: str, moment: datetime) -> None:
        self.primary_version(name, version_id).last_modified = moment

    def replica_versions(self) -> dict[str, list[Any]]:
        """moto's records of the replica's versions by key, oldest first (in the order they were written)."""
        store = s3_backend().get_bucket(self.replica_bucket).keys
        return {key: list(versions) for key, versions in list(store.iterlists())}

    def configuration(self, **changes: Any) -> dict[str, Any]:
        """The package's rule, as GetBucketReplication returns it, to this replica bucket and alias."""
        names = replace(
            NAMES,
            source_account=ACCOUNT,
            source_bucket=self.primary.bucket,
            replica_account=ACCOUNT,
            replica_region=REPLICA_REGION,
            prefix=PREFIX,
            replica_bucket=changes.pop("replica_bucket", self.replica_bucket),
            key_alias=self.alias,
        )
        config = replication.replication_configuration(ROLE, names, changes.pop("replica_key", names.replica_alias_arn))
        for rule in config["Rules"]:
            rule["ID"] = rule.pop("Id")
        return config

    def put_configuration(self, **changes: Any) -> None:
        s3 = harness_client("s3", self.endpoint)
        s3.put_bucket_replication(Bucket=self.primary.bucket, ReplicationConfiguration=self.configuration(**changes))

    def verify(self, *extra: str) -> list[str]:
        return ["verify", "--stack-name", self.primary_stack, "--endpoint-url", self.endpoint, "--replica", *extra]


def build_replicated(primary: Deployment, *, rule: bool = True) -> Replicated:
    """The replica's key (with the design's alias name made unique per test), bucket and stack, and the primary's
    stack naming it (``ReplicaStackName``, ``ReplicaRegion``) with a replication role in its ``AccessDesign``."""
    suffix = uuid.uuid4().hex[:10]
    kms = harness_client("kms", primary.endpoint, region=REPLICA_REGION)
    s3 = harness_client("s3", primary.endpoint, region=REPLICA_REGION)
    key = kms.create_key(Description="replica")["KeyMetadata"]
    alias = f"alias/teleport-session-recordings-{suffix}"
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    bucket = f"teleport-recordings-replica-{suffix}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REPLICA_REGION})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]},
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    stack = f"replica-{suffix}"
    replica_design = primary.access_design(
        replicationRoleArn=ROLE, replicationKeyActions=list(replication.REPLICA_KMS_ACTIONS)
    )
    replica_outputs = {
        outputs.ACCESS_DESIGN: json.dumps(replica_design),
        outputs.BUCKET_NAME: bucket,
        outputs.KEY_ARN: key["Arn"],
        outputs.STORAGE_URI: policies.storage_uri(
            bucket_name=bucket, prefix=PREFIX, region=REPLICA_REGION, key_arn=key["Arn"]
        ),
    }
    template = {
        "Resources": {
            "Marker": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Name": f"/{stack}", "Type": "String", "Value": "x"},
            }
        },
        "Outputs": {name: {"Value": value} for name, value in replica_outputs.items()},
    }
    harness_client("cloudformation", primary.endpoint, region=REPLICA_REGION).create_stack(
        StackName=stack, TemplateBody=json.dumps(template)
    )
    replicated = Replicated(primary, bucket, key["Arn"], alias, stack)
    design = primary.access_design(replicationRoleArn=ROLE, replicationKeyActions=["kms:Decrypt"])
    replicated.primary_stack = primary.create_stack(
        **{
            outputs.ACCESS_DESIGN: json.dumps(design),
            outputs.REPLICA_STACK_NAME: stack,
            outputs.REPLICA_REGION: REPLICA_REGION,
        }
    )
    if rule:
        replicated.put_configuration()
    return replicated


@contextmanager
def replication_status(statuses: Mapping[tuple[str, str, str], str]) -> Iterator[None]:
    """moto's HEAD and GET of the (bucket, key, version id) given answer ``x-amz-replication-status`` as S3 would."""
    from moto.s3.models import FakeKey

    original = FakeKey.response_dict

    def with_status(self: Any) -> dict[str, Any]:
        answer: dict[str, Any] = original.fget(self)  # type: ignore[attr-defined]
        status = statuses.get((self.bucket_name, self.name, self.version_id))
        if status is not None:
            answer["x-amz-replication-status"] = status
        return answer

    FakeKey.response_dict = property(with_status)  # type: ignore[assignment, method-assign]
    try:
        yield
    finally:
        FakeKey.response_dict = original  # type: ignore[method-assign]
