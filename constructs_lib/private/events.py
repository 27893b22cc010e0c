"""The plain EventBridge patterns of ``constructs_lib.core.alarms`` as CDK event patterns."""

from __future__ import annotations

from aws_cdk import aws_events as events

from constructs_lib.core import alarms


def event_pattern(pattern: alarms.Pattern) -> events.EventPattern:
    """A CDK event pattern from the plain pattern of ``core/alarms.py``."""
    return events.EventPattern(
        source=pattern["source"],
        detail_type=pattern["detail-type"],
        detail=pattern.get("detail"),
        account=pattern.get("account"),
    )
