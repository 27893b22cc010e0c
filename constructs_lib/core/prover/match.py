"""Concrete matching rules of IAM, shared by the evaluator (and mirrored by the z3 encoding).

Three-valued results (``Tri``): True, False, or None for "depends on something not modelled".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from functools import cache

Tri = bool | None


def tri_and(values: Iterable[Tri]) -> Tri:
    """Kleene conjunction: False wins, then None."""
    result: Tri = True
    for value in values:
        if value is False:
            return False
        if value is None:
            result = None
    return result


def tri_or(values: Iterable[Tri]) -> Tri:
    """Kleene disjunction: True wins, then None."""
    result: Tri = False
    for value in values:
        if value is True:
            return True
        if value is None:
            result = None
    return result


def tri_not(value: Tri) -> Tri:
    return None if value is None else not value


@cache
def _glob_regex(pattern: str, ignore_case: bool, star: str) -> re.Pattern[str]:
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(star)
        elif char == "?":
            parts.append("." if star == ".*" else "[^:]")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """``*`` any run of characters, ``?`` one character, the rest literal (StringLike, Action)."""
    return _glob_regex(pattern, ignore_case, ".*").fullmatch(value) is not None


def arn_segments(pattern: str) -> list[str] | None:
    """The six colon-separated components of an ARN (the last keeps its colons), or None."""
    parts = pattern.split(":", 5)
    return parts if len(parts) == 6 else None


def arn_match(pattern: str, value: str) -> bool:
    """ArnLike/ArnEquals: "Each of the six colon-delimited components of the ARN is checked
    separately" (IAM condition operators); wildcards do not cross a colon in the first five."""
    p, v = arn_segments(pattern), arn_segments(value)
    if p is None or v is None:
        return False
    return all(
        _glob_regex(pp, False, "[^:]*").fullmatch(vv) is not None for pp, vv in zip(p[:5], v[:5], strict=True)
    ) and (glob_match(p[5], v[5]))


def resource_pattern_is_exact(pattern: str) -> bool:
    """Whether segment-wise matching (IAM User Guide: wildcards "within ARN segments") and plain
    glob matching agree on every value: no wildcard before the resource segment."""
    if pattern == "*":
        return True
    segments = arn_segments(pattern)
    return segments is not None and not any(c in s for s in segments[:5] for c in "*?")


def resource_match(pattern: str, value: str) -> Tri:
    """Resource element matching; None where the documented segment rule and plain globbing differ."""
    if "${" in pattern:
        return None
    if pattern == "*":
        return True
    segmented = arn_match(pattern, value)
    flat = glob_match(pattern, value)
    return segmented if segmented == flat else None


def action_match(pattern: str, action: str) -> bool:
    """Action names are case-insensitive; ``*`` and ``?`` wildcards."""
    return glob_match(pattern, action, ignore_case=True)


def number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None
