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


def segment_match(pattern: str, value: str) -> bool:
    """One of the first five ARN components under ArnLike: wildcards do not cross a colon."""
    return _glob_regex(pattern, False, "[^:]*").fullmatch(value) is not None


def glob_residuals(pattern: str, consumed: str) -> tuple[str, ...]:
    """The rests of ``pattern`` that the text after ``consumed`` must match, for ``consumed`` + x
    to match ``pattern`` (``*`` any run, ``?`` one character): x matches some returned rest.

    The positions of a glob automaton after reading ``consumed``; ``glob_match(pattern, consumed +
    x)`` is ``any(glob_match(rest, x) for rest in glob_residuals(pattern, consumed))``.
    """

    def closure(positions: set[int]) -> set[int]:
        found = set(positions)
        stack = list(positions)
        while stack:
            position = stack.pop()
            if position < len(pattern) and pattern[position] == "*" and position + 1 not in found:
                found.add(position + 1)
                stack.append(position + 1)
        return found

    positions = closure({0})
    for char in consumed:
        after: set[int] = set()
        for position in positions:
            if position == len(pattern):
                continue
            wanted = pattern[position]
            if wanted == "*":
                after.add(position)
            elif wanted == "?" or wanted == char:
                after.add(position + 1)
        positions = closure(after)
        if not positions:
            return ()
    return tuple(pattern[position:] for position in sorted(positions))


def arn_match(pattern: str, value: str) -> bool:
    """ArnLike/ArnEquals: "Each of the six colon-delimited components of the ARN is checked
    separately" (IAM condition operators); wildcards do not cross a colon in the first five."""
    p, v = arn_segments(pattern), arn_segments(value)
    if p is None or v is None:
        return False
    return all(segment_match(pp, vv) for pp, vv in zip(p[:5], v[:5], strict=True)) and glob_match(p[5], v[5])


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
