"""A small EventBridge event-pattern matcher for the tests, written from AWS's documented rules.

EventBridge's TestEventPattern is an API call (no account here), and moto's matcher does not look into
arrays of objects (CloudTrail's ``detail.resources``), which the tamper alarms rely on. The subset
here is what the alarm patterns use, with EventBridge's semantics
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html):

- every field of the pattern must match (AND); leaf values are lists of alternatives (OR);
- a field the event lacks never matches (``anything-but`` included), except ``{"exists": false}``;
- an array in the event matches when any of its elements does, arrays of objects included;
- ``$or`` matches when any of its sub-patterns does;
- ``anything-but`` with a list matches a present value in none of them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

_MISSING = object()


def _children(value: Any, key: str) -> Iterator[Any]:
    """The values of ``key`` under ``value``, looking through arrays (EventBridge flattens them)."""
    if isinstance(value, list):
        for item in value:
            yield from _children(item, key)
    elif isinstance(value, Mapping) and key in value:
        child = value[key]
        if isinstance(child, list):
            yield from _flatten(child)
        else:
            yield child


def _flatten(values: list[Any]) -> Iterator[Any]:
    for value in values:
        if isinstance(value, list):
            yield from _flatten(value)
        else:
            yield value


def _leaf(matcher: Any, value: Any) -> bool:
    if value is _MISSING:
        return isinstance(matcher, Mapping) and matcher.get("exists") is False
    if not isinstance(matcher, Mapping):
        return bool(matcher == value)
    (name, argument), *rest = matcher.items()
    if rest:
        raise ValueError(f"one operator per matcher: {matcher}")
    if name == "anything-but":
        excluded = argument if isinstance(argument, list) else [argument]
        return value not in excluded
    if name == "prefix":
        return isinstance(value, str) and value.startswith(argument)
    if name == "exists":
        return bool(argument)
    raise ValueError(f"matcher {name!r} is not modelled here")


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """Whether ``event`` matches ``pattern``."""
    for key, sub in pattern.items():
        if key == "$or":
            if not any(matches(alternative, event) for alternative in sub):
                return False
            continue
        found = list(_children(event, key))
        if isinstance(sub, Mapping):
            if not any(isinstance(child, Mapping) and matches(sub, child) for child in found):
                return False
        elif not any(_leaf(matcher, value) for matcher in sub for value in (found or [_MISSING])):
            return False
    return True
