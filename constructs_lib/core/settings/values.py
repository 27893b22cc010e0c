"""The value rules: each takes one value and returns what is allowed when it is wrong, else ``None`` (pure).

The kinds (``constructs_lib.core.kinds``) call them for every spelling of a setting; the
``recordings-kms`` command calls some directly for values that are no setting (a bucket or region
read from a storage URI).
"""

from __future__ import annotations

import re

from constructs_lib.core import arns
from constructs_lib.core.problems import hint

#: Storage classes Teleport can play back without a restore (GetObject works at once).
READABLE_STORAGE_CLASSES = ("STANDARD_IA", "INTELLIGENT_TIERING", "GLACIER_IR")
#: Why other classes are refused.
_REFUSED_STORAGE_CLASSES = {
    "GLACIER": "Glacier Flexible Retrieval answers GetObject with InvalidObjectState until restored: playback fails",
    "DEEP_ARCHIVE": "Glacier Deep Archive answers GetObject with InvalidObjectState until restored: playback fails",
    "ONEZONE_IA": "One Zone-IA keeps one copy in one Availability Zone: losing the zone loses recordings",
}

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", re.ASCII)
_IPV4 = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}", re.ASCII)
_BUCKET_FORBIDDEN_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_FORBIDDEN_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_PREFIX = re.compile(r"[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*", re.ASCII)
_ALIAS = re.compile(r"alias/[A-Za-z0-9/_-]{1,250}", re.ASCII)
_SERVICE_ACCOUNT = re.compile(r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?:[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?", re.ASCII)


def bucket_name_rule(value: str) -> str | None:
    """The S3 general purpose bucket naming rules."""
    bad = (
        _BUCKET.fullmatch(value) is None
        or ".." in value
        or ".-" in value
        or "-." in value
        or _IPV4.fullmatch(value) is not None
        or value.startswith(_BUCKET_FORBIDDEN_PREFIXES)
        or value.endswith(_BUCKET_FORBIDDEN_SUFFIXES)
    )
    if not bad:
        return None
    return (
        "a valid S3 bucket name: 3-63 characters of a-z 0-9 . -, starting and ending with a letter or digit, "
        "no '..', not an IP address, not starting with xn-- sthree- amzn-s3-demo- and not ending with "
        "-s3alias --ol-s3 .mrap --x-s3 --table-s3"
    )


def prefix_rule(value: str) -> str | None:
    if value.startswith("/"):
        return 'a key prefix without a leading slash, like "records"'
    if len(value) > 512 or _PREFIX.fullmatch(value) is None:
        return (
            "1-512 characters of A-Z a-z 0-9 . _ - in '/'-separated segments, with no leading, trailing or "
            "double slash (wildcards are refused because the prefix becomes part of IAM resource ARNs)"
        )
    if any(segment in (".", "..") for segment in value.split("/")):
        return "a key prefix without '.' or '..' segments"
    return None


def alias_rule(value: str) -> str | None:
    if value.startswith("alias/aws/"):
        return "an alias outside the reserved 'alias/aws/' namespace"
    if _ALIAS.fullmatch(value) is None:
        return "'alias/' followed by 1-250 of A-Z a-z 0-9 / _ -"
    return None


def service_account_rule(value: str) -> str | None:
    if _SERVICE_ACCOUNT.fullmatch(value):
        return None
    return "'NAMESPACE:SERVICEACCOUNT' with Kubernetes DNS-label names, like teleport:teleport"


def oidc_provider_rule(value: str) -> str | None:
    if arns.parse_oidc_provider(value) is not None:
        return None
    arn = arns.parse_arn(value)
    hint = ""
    if arn is not None:
        kind = arn.resource.split("/", 1)[0]
        hint = f" (this is an ARN of kind {arn.service}:{kind})"
    return (
        "an IAM OIDC provider ARN like arn:aws:iam::123456789012:oidc-provider/oidc.eks.REGION.amazonaws.com/id/ID"
        + hint
    )


def role_arn_rule(value: str) -> str | None:
    principal = arns.parse_iam_principal(value)
    if principal is not None and principal.kind == "role":
        return None
    why = arns.why_not_iam_principal(value, ("role",)) if principal is None else f"this is an IAM {principal.kind} ARN"
    return "an IAM role ARN like arn:aws:iam::123456789012:role/NAME" + (f" ({why})" if why else "")


def storage_class_rule(value: str) -> str | None:
    if value in READABLE_STORAGE_CLASSES:
        return None
    why = _REFUSED_STORAGE_CLASSES.get(value.upper())
    listed = ", ".join(f'"{c}"' for c in READABLE_STORAGE_CLASSES)
    allowed = f"one of {listed}{hint(value, READABLE_STORAGE_CLASSES)} (classes Teleport reads at once)"
    return f"{allowed}; {why}" if why else allowed


_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", re.ASCII)
_TARGET_ID = re.compile(r"r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|[0-9]{12}", re.ASCII)
_ORGANIZATION_ID = re.compile(r"o-[a-z0-9]{10,32}", re.ASCII)


def email_rule(value: str) -> str | None:
    return None if _EMAIL.fullmatch(value) else "an email address like security@example.com"


def target_id_rule(value: str) -> str | None:
    if _TARGET_ID.fullmatch(value):
        return None
    return "an organization root id (r-...), an OU id (ou-...-...) or a 12-digit account id"


def organization_id_rule(value: str) -> str | None:
    return None if _ORGANIZATION_ID.fullmatch(value) else "an AWS Organizations id like o-a1b2c3d4e5"


def sns_topic_rule(value: str) -> str | None:
    arn = arns.parse_arn(value)
    if (
        arn is not None
        and arn.partition in arns.PARTITIONS
        and arn.service == "sns"
        and arns.is_region(arn.region)
        and arns.is_account(arn.account)
        and re.fullmatch(r"[A-Za-z0-9_-]{1,256}(?:\.fifo)?", arn.resource, re.ASCII)
    ):
        return None
    return "an SNS topic ARN like arn:aws:sns:eu-west-1:123456789012:security-alarms"


def role_name_rule(value: str) -> str | None:
    return None if arns.IAM_NAME.fullmatch(value) else "an IAM role name: 1-64 of A-Z a-z 0-9 +=,.@_-"


def region_rule(value: str) -> str | None:
    """A region botocore's endpoint data names, or one its partitions could add (see ``arns.unlike_a_region``)."""
    why = arns.unlike_a_region(value)
    if why is None:
        return None
    data = arns.region_data()
    return f"an AWS region name like eu-west-1{hint(value, data.regions if data else ())}: {why}"


def account_rule(value: str) -> str | None:
    return None if arns.is_account(value) else "a 12-digit AWS account id"
