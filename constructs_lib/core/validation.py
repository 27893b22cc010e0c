"""Synth-time checks of every setting, shared by the constructs and the stack configuration.

Each check returns a list of :class:`Problem` instead of raising, so that a caller can collect
every problem of a configuration and report them all at once. Problems carry the Python name of
the setting; the stack configuration renders them with the ``cdk.json`` context names instead.

Values that are CDK tokens (not known until deployment) are never judged here: the caller skips
them with ``Token.is_unresolved`` before calling a check, which keeps this module free of CDK.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc")
_PARTITION = "(?:" + "|".join(re.escape(p) for p in PARTITIONS) + ")"
_ACCOUNT = r"[0-9]{12}"
# IAM names and path segments: letters, digits and +=,.@_-
_IAM_NAME = r"[\w+=,.@-]{1,128}"
_IAM_PATH = r"/(?:[\w+=,.@-]+/)*"

ROLE_ARN = re.compile(rf"^arn:{_PARTITION}:iam::{_ACCOUNT}:role{_IAM_PATH}{_IAM_NAME}$")
USER_ARN = re.compile(rf"^arn:{_PARTITION}:iam::{_ACCOUNT}:user{_IAM_PATH}{_IAM_NAME}$")
ROOT_ARN = re.compile(rf"^arn:{_PARTITION}:iam::{_ACCOUNT}:root$")
OIDC_PROVIDER_ARN = re.compile(rf"^arn:{_PARTITION}:iam::{_ACCOUNT}:oidc-provider/(?P<issuer>[A-Za-z0-9.\-_/]+)$")
KEY_ARN = re.compile(
    rf"^arn:{_PARTITION}:kms:[a-z0-9-]+:{_ACCOUNT}:key/(?P<key_id>(?:mrk-)?[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}|mrk-[0-9a-f]{{32}})$"
)
_ANY_ARN = re.compile(
    r"^arn:(?P<partition>[^:]*):(?P<service>[^:]*):(?P<region>[^:]*):(?P<account>[^:]*):(?P<resource>.*)$"
)
SERVICE_ACCOUNT = re.compile(
    r"^(?P<namespace>[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?):(?P<name>[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?)$"
)
_ALIAS = re.compile(r"^alias/[A-Za-z0-9/_-]{1,250}$")
_PREFIX = re.compile(r"^[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*$")

ROTATION_DAYS_RANGE = (90, 2560)
PENDING_WINDOW_DAYS_RANGE = (7, 30)


@dataclass(frozen=True)
class Problem:
    """One invalid setting: which, the value received and what would have been allowed."""

    setting: str
    value: object
    allowed: str
    #: The setting is a name as the user wrote it (an unknown one), not a setting to relabel.
    verbatim: bool = False

    def render(self, label: Callable[[str], str] = str) -> str:
        allowed = re.sub(r"\{([a-z_]+)\}", lambda m: label(m.group(1)), self.allowed)
        setting = self.setting if self.verbatim else label(self.setting)
        return f"'{setting}' must be {allowed}, got {self.value!r}"


class InvalidSettingsError(ValueError):
    """Raised once with every problem of a configuration."""

    def __init__(self, problems: Sequence[Problem], label: Callable[[str], str] = str) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p.render(label)}" for p in self.problems)
        count = len(self.problems)
        super().__init__(f"{count} invalid setting{'s' if count != 1 else ''}:\n{lines}")


def raise_if_any(problems: Iterable[Problem], label: Callable[[str], str] = str) -> None:
    found = list(problems)
    if found:
        raise InvalidSettingsError(found, label)


def _wrong_kind_hint(value: str) -> str:
    """Say what an ARN is when it is an ARN of the wrong kind, so the message explains itself."""
    match = _ANY_ARN.match(value)
    if not match:
        return ""
    account = match["account"]
    if account and not re.fullmatch(_ACCOUNT, account):
        return f" (account id {account!r} is not 12 digits)"
    if match["partition"] not in PARTITIONS:
        return f" (unknown partition {match['partition']!r})"
    resource = match["resource"]
    kind = resource.split("/", 1)[0] if "/" in resource else resource
    return f" (this is an ARN of kind {match['service']}:{kind})"


def check_role_arn(setting: str, value: str) -> list[Problem]:
    if ROLE_ARN.match(value):
        return []
    return [
        Problem(setting, value, "an IAM role ARN like arn:aws:iam::123456789012:role/NAME" + _wrong_kind_hint(value))
    ]


def check_principal_arns(setting: str, values: Sequence[str]) -> list[Problem]:
    """IAM roles and users, the principals a key policy can name by ARN and that stay meaningful.

    The account root is refused: naming it in a key policy either hands the key to every IAM
    administrator (allow) or locks out everyone in the account, the deploy role included (deny).
    IAM names are case-insensitive, so duplicates are found regardless of case.
    """
    problems: list[Problem] = []
    seen: set[str] = set()
    for value in values:
        if value.lower() in seen:
            problems.append(Problem(setting, value, "a list without duplicates"))
        seen.add(value.lower())
        if ROLE_ARN.match(value) or USER_ARN.match(value):
            continue
        if ROOT_ARN.match(value):
            problems.append(
                Problem(
                    setting,
                    value,
                    "IAM role or user ARNs; the account root principal is refused because it stands for "
                    "every IAM identity of the account",
                )
            )
            continue
        problems.append(
            Problem(
                setting,
                value,
                "IAM role or user ARNs like arn:aws:iam::123456789012:role/NAME" + _wrong_kind_hint(value),
            )
        )
    return problems


def check_auth_principal_arn(setting: str, value: str) -> list[Problem]:
    if ROLE_ARN.match(value) or USER_ARN.match(value) or ROOT_ARN.match(value):
        return []
    return [
        Problem(
            setting,
            value,
            "an IAM role, user or account root ARN" + _wrong_kind_hint(value),
        )
    ]


def check_oidc_provider_arn(setting: str, value: str) -> list[Problem]:
    if OIDC_PROVIDER_ARN.match(value):
        return []
    return [
        Problem(
            setting,
            value,
            "an IAM OIDC provider ARN like arn:aws:iam::123456789012:oidc-provider/oidc.eks.REGION.amazonaws.com/id/ID"
            + _wrong_kind_hint(value),
        )
    ]


def oidc_issuer(provider_arn: str) -> str:
    """The issuer host/path of an OIDC provider ARN: the prefix of its trust condition keys."""
    match = OIDC_PROVIDER_ARN.match(provider_arn)
    if not match:
        raise ValueError(f"not an OIDC provider ARN: {provider_arn!r}")
    return match["issuer"]


def check_service_account(setting: str, value: str) -> list[Problem]:
    if SERVICE_ACCOUNT.match(value):
        return []
    return [
        Problem(setting, value, "'NAMESPACE:SERVICEACCOUNT' with Kubernetes DNS-label names, like teleport:teleport")
    ]


def check_int_range(setting: str, value: int, low: int, high: int) -> list[Problem]:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return [Problem(setting, value, f"a whole number of days from {low} to {high}")]
    return []


def check_key_alias(setting: str, value: str) -> list[Problem]:
    if value.startswith("alias/aws/"):
        return [Problem(setting, value, "an alias outside the reserved 'alias/aws/' namespace")]
    if not _ALIAS.match(value):
        return [Problem(setting, value, "'alias/' followed by 1-250 of A-Z a-z 0-9 / _ -")]
    return []


def check_prefix(setting: str, value: str) -> list[Problem]:
    if value.startswith("/"):
        return [Problem(setting, value, "a key prefix without a leading slash, like 'records'")]
    if len(value) > 512 or not _PREFIX.match(value):
        return [
            Problem(
                setting,
                value,
                "1-512 characters of A-Z a-z 0-9 . _ - in '/'-separated segments, with no leading, trailing or "
                "double slash (wildcards are refused because the prefix becomes part of IAM resource ARNs)",
            )
        ]
    if any(segment in (".", "..") for segment in value.split("/")):
        return [Problem(setting, value, "a key prefix without '.' or '..' segments")]
    return []


_BUCKET_FORBIDDEN_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_FORBIDDEN_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")


def check_bucket_name(setting: str, value: str) -> list[Problem]:
    """The S3 general purpose bucket naming rules."""
    allowed = (
        "a valid S3 bucket name: 3-63 characters of a-z 0-9 . -, starting and ending with a letter or digit, "
        "no '..', not an IP address, not starting with xn-- sthree- amzn-s3-demo- and not ending with "
        "-s3alias --ol-s3 .mrap --x-s3 --table-s3"
    )
    bad = (
        not _BUCKET.match(value)
        or ".." in value
        or ".-" in value
        or "-." in value
        or _IPV4.match(value) is not None
        or value.startswith(_BUCKET_FORBIDDEN_PREFIXES)
        or value.endswith(_BUCKET_FORBIDDEN_SUFFIXES)
    )
    return [Problem(setting, value, allowed)] if bad else []


def check_choice(setting: str, value: str, choices: Sequence[str]) -> list[Problem]:
    if value in choices:
        return []
    return [Problem(setting, value, "one of " + ", ".join(repr(c) for c in choices))]


def check_disjoint(
    first_setting: str, first: Sequence[str], second_setting: str, second: Sequence[str], why: str
) -> list[Problem]:
    """A principal may not be in both lists (for example key admin and denied); IAM names ignore case."""
    first_folded = {v.lower() for v in first}
    overlap = [v for v in second if v.lower() in first_folded]
    return [
        Problem(second_setting, value, f"a principal that is not also listed in '{{{first_setting}}}' ({why})")
        for value in overlap
    ]


def labelled(names: Mapping[str, str]) -> Callable[[str], str]:
    """A label function from a mapping of Python setting names to display names."""
    return lambda setting: names.get(setting, setting)
