"""ARNs, regions and partitions: the one parser every layer uses (pure; no CDK, no boto3).

Every pattern is matched in full (``re.fullmatch``) and ASCII-only: ``$`` would accept a trailing
newline and ``\\w`` would accept any Unicode letter, both of which IAM refuses at deployment.

Region names are checked against the endpoint data botocore ships (``botocore/data/partitions.json``,
each partition's regions and region pattern), read as a file: the core imports no AWS SDK, and
nothing here reaches the network.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import json
import re
from dataclasses import dataclass
from pathlib import Path

PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc")

#: Region-name prefixes that belong to another partition than ``aws`` (longest first).
_REGION_PARTITIONS = (
    ("us-isob-", "aws-iso-b"),
    ("us-isof-", "aws-iso-f"),
    ("eu-isoe-", "aws-iso-e"),
    ("us-iso-", "aws-iso"),
    ("us-gov-", "aws-us-gov"),
    ("eusc-", "aws-eusc"),
    ("cn-", "aws-cn"),
)
#: ``eu-west-1``, ``us-gov-west-1``, ``ap-southeast-4``, ``us-isob-east-1``, ``eusc-de-east-1``.
REGION = re.compile(r"[a-z]{2,4}(?:-[a-z]+)+-[0-9]{1,2}", re.ASCII)
ACCOUNT = re.compile(r"[0-9]{12}", re.ASCII)

#: IAM user and role names: ASCII letters, digits and ``+=,.@_-``, 1 to 64 characters.
IAM_NAME = re.compile(r"[A-Za-z0-9+=,.@_-]{1,64}", re.ASCII)
IAM_NAME_MAX = 64
IAM_PATH_MAX = 512
#: An IAM path: ``/`` or ``/segment/.../``; segments of printable ASCII other than ``/`` and the
#: wildcards ``*``/``?`` (a key policy's Principal element cannot hold wildcards).
IAM_PATH = re.compile(r"/(?:[\x21-\x29\x2b-\x2e\x30-\x3e\x40-\x7e]+/)*", re.ASCII)
_ARN = re.compile(
    r"arn:(?P<partition>[^:]*):(?P<service>[^:]*):(?P<region>[^:]*):(?P<account>[^:]*):(?P<resource>.*)", re.DOTALL
)
_KEY_ID = re.compile(
    r"(?:mrk-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}", re.ASCII
)
_OIDC_ISSUER = re.compile(r"[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*", re.ASCII)
#: IAM Identity Center roles live under this path; an ARN without it names no real role.
SSO_ROLE_PATH = "/aws-reserved/sso.amazonaws.com/"
SSO_ROLE_NAME_PREFIX = "AWSReservedSSO_"


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


@dataclass(frozen=True)
class IamPrincipalArn:
    """An IAM role, user or account-root ARN, split into what policies and IAM care about."""

    arn: str
    partition: str
    account: str
    #: ``role``, ``user`` or ``root``.
    kind: str
    path: str = "/"
    name: str = ""


def parse_arn(value: str) -> Arn | None:
    """The six fields of any ARN, or ``None``; nothing is judged beyond the shape."""
    match = _ARN.fullmatch(value)
    if match is None:
        return None
    return Arn(match["partition"], match["service"], match["region"], match["account"], match["resource"])


def partition_of_region(region: str) -> str:
    """The partition a region belongs to (``cn-north-1`` -> ``aws-cn``)."""
    for prefix, partition in _REGION_PARTITIONS:
        if region.startswith(prefix):
            return partition
    return "aws"


def is_region(value: str) -> bool:
    return REGION.fullmatch(value) is not None


@dataclass(frozen=True)
class RegionData:
    """The regions botocore's endpoint data names, and what a newer region of its partitions looks like."""

    #: ``botocore 1.44.5``: whose data this is, for messages.
    source: str
    regions: frozenset[str]
    #: Each partition's ``regionRegex``: the names the partition can hold.
    patterns: tuple[re.Pattern[str], ...]
    #: The direction words of the known regions (``east``, ``southeast``, ``central``...).
    directions: frozenset[str]


@functools.cache
def region_data() -> RegionData | None:
    """botocore's endpoint data, or ``None`` when botocore is not installed or its data is unreadable."""
    spec = importlib.util.find_spec("botocore")  # finds the package without importing it
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        for name in ("partitions.json", "endpoints.json"):
            path = Path(location) / "data" / name
            if path.is_file():
                return _region_data(path)
    return None


def _region_data(path: Path) -> RegionData | None:
    try:
        partitions = json.loads(path.read_text(encoding="utf-8"))["partitions"]
        regions = frozenset(r for p in partitions for r in p["regions"] if is_region(r))
        patterns = tuple(re.compile(p["regionRegex"], re.ASCII) for p in partitions)
        version = importlib.metadata.version("botocore")
    except (OSError, ValueError, KeyError, TypeError, re.error, importlib.metadata.PackageNotFoundError):
        return None
    directions = frozenset(r.split("-")[-2] for r in regions)
    return RegionData(f"botocore {version}", regions, patterns, directions)


def is_known_region(value: str) -> bool:
    """A region botocore's endpoint data names (``False`` too when there is no data)."""
    data = region_data()
    return data is not None and value in data.regions


def unlike_a_region(value: str) -> str | None:
    """Why ``value`` cannot be an AWS region, judged by botocore's endpoint data; ``None`` when it can.

    A region of the data passes; so does a name the data does not know yet but that one of its
    partitions could hold (its ``regionRegex``) with a known direction word and a number without a
    leading zero: ``ap-southeast-9`` may be newer than the data, ``eu-wset-1`` is a typo. Without
    the data, only the shape is judged.
    """
    data = region_data()
    if not is_region(value):
        return "lower case letters, digits and dashes"
    if data is None or value in data.regions:
        return None
    *_, direction, number = value.split("-")
    if any(p.fullmatch(value) for p in data.patterns) and direction in data.directions and number[0] != "0":
        return None
    return (
        f"not a region of {data.source}'s endpoint data, nor named like a newer region of one of its partitions "
        "(GEOGRAPHY-DIRECTION-NUMBER with a known geography and direction, like ap-southeast-2)"
    )


def is_account(value: str) -> bool:
    return ACCOUNT.fullmatch(value) is not None


def is_key_id(value: str) -> bool:
    return _KEY_ID.fullmatch(value) is not None


def parse_iam_principal(value: str) -> IamPrincipalArn | None:
    """A role, user or root ARN with a valid partition, account, path and name; else ``None``."""
    arn = parse_arn(value)
    if arn is None or arn.partition not in PARTITIONS or arn.service != "iam" or arn.region:
        return None
    if not is_account(arn.account):
        return None
    if arn.resource == "root":
        return IamPrincipalArn(value, arn.partition, arn.account, "root")
    kind, _, rest = arn.resource.partition("/")
    if kind not in ("role", "user") or not rest:
        return None
    path, _, name = ("/" + rest).rpartition("/")
    path += "/"
    if IAM_PATH.fullmatch(path) is None or len(path) > IAM_PATH_MAX or IAM_NAME.fullmatch(name) is None:
        return None
    return IamPrincipalArn(value, arn.partition, arn.account, kind, path, name)


def why_not_iam_principal(value: str, kinds: tuple[str, ...]) -> str:
    """Why ``value`` is not an IAM principal ARN of one of ``kinds``: the part of the message after 'got'."""
    arn = parse_arn(value)
    if arn is None:
        return ""
    if arn.partition not in PARTITIONS:
        return f"unknown partition {arn.partition!r}"
    if arn.service == "iam" and arn.account and not is_account(arn.account):
        return f"account id {arn.account!r} is not 12 digits"
    kind = arn.resource.split("/", 1)[0]
    if arn.service != "iam" or kind not in ("role", "user", "root"):
        return f"this is an ARN of kind {arn.service}:{kind}"
    if kind not in kinds:
        return f"this is an IAM {kind} ARN"
    path, _, name = ("/" + arn.resource.partition("/")[2]).rpartition("/")
    if not arn.resource.isascii() or any(c.isspace() for c in arn.resource):
        return "IAM names and paths are ASCII without spaces or line breaks"
    if "*" in arn.resource or "?" in arn.resource:
        return "a principal ARN cannot hold wildcards"
    if len(name) > IAM_NAME_MAX:
        return f"the name has {len(name)} characters; IAM allows {IAM_NAME_MAX}"
    if len(path) + 1 > IAM_PATH_MAX:
        return f"the path is longer than IAM's {IAM_PATH_MAX} characters"
    return "the name may only hold letters, digits and +=,.@_- (path segments: printable ASCII)"


def parse_key_arn(value: str) -> tuple[Arn, str] | None:
    """A KMS key ARN and its key id (``key/ID``; aliases are not keys), or ``None``."""
    arn = parse_arn(value)
    if (
        arn is None
        or arn.partition not in PARTITIONS
        or arn.service != "kms"
        or not is_region(arn.region)
        or not is_account(arn.account)
        or not arn.resource.startswith("key/")
    ):
        return None
    key_id = arn.resource.removeprefix("key/")
    return (arn, key_id) if is_key_id(key_id) else None


def parse_oidc_provider(value: str) -> tuple[IamPrincipalArn, str] | None:
    """An IAM OIDC provider ARN and its issuer (the prefix of its trust-policy condition keys)."""
    arn = parse_arn(value)
    if arn is None or arn.partition not in PARTITIONS or arn.service != "iam" or arn.region:
        return None
    if not is_account(arn.account) or not arn.resource.startswith("oidc-provider/"):
        return None
    issuer = arn.resource.removeprefix("oidc-provider/")
    if _OIDC_ISSUER.fullmatch(issuer) is None:
        return None
    return IamPrincipalArn(value, arn.partition, arn.account, "oidc-provider", "/", issuer), issuer


def is_sso_role_without_path(principal: IamPrincipalArn) -> bool:
    """An IAM Identity Center role ARN written without its ``aws-reserved/sso.amazonaws.com/`` path.

    Such roles always live under that path; an ARN without it names no role, and KMS refuses a key
    policy naming a principal that does not exist.
    """
    return (
        principal.kind == "role"
        and principal.name.startswith(SSO_ROLE_NAME_PREFIX)
        and not principal.path.startswith(SSO_ROLE_PATH)
    )


def bucket_arn(partition: str, bucket_name: str) -> str:
    return f"arn:{partition}:s3:::{bucket_name}"
