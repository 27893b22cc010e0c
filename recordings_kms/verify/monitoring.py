"""Whether the tamper alarms can fire, judged from what CloudTrail, EventBridge and SNS report (pure).

The alarms (``constructs_lib/alarms.py``) are EventBridge rules on CloudTrail events. They report
nothing, silently, when: no trail logs management events in the region (EventBridge then receives
no CloudTrail event); a rule was disabled, deleted or edited; the decryption rule lost the state that
matches read-only events; nobody is subscribed to the topic; or, outside ``us-east-1``, the IAM
events of the auth role are not forwarded from ``us-east-1``, the only region IAM's events reach.
The expected patterns are ``constructs_lib/core/alarms.py``'s, for the live key, bucket and design.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from constructs_lib.core import alarms, arns
from constructs_lib.core.prover import Design
from recordings_kms.results import CheckResult, Status

TRAIL = "alarms.trail"
TRAIL_IAM = "alarms.trail-iam"
RULES = "alarms.rules"
SUBSCRIBERS = "alarms.subscribers"
IAM_FORWARDING = "alarms.iam-forwarding"

#: The rule descriptions the construct writes ("Teleport session recordings tamper alarm: key", ...).
DESCRIPTION_PREFIX = "Teleport session recordings tamper alarm: "
KINDS = ("key", "bucket", "auth role", "decryption")


@dataclass(frozen=True)
class TrailFacts:
    arn: str
    home_region: str
    multi_region: bool
    #: IncludeGlobalServiceEvents: IAM's events (global) are logged in us-east-1 only with it.
    global_events: bool
    logging: bool
    #: Which management events the selectors log: ``all``, ``read``, ``write`` or ``none``.
    management: str
    #: Event sources the management selectors leave out (``kms.amazonaws.com`` is a common one).
    excluded_sources: tuple[str, ...] = ()

    def covers(self, region: str) -> bool:
        return self.multi_region or self.home_region == region


@dataclass(frozen=True)
class RuleFacts:
    name: str
    description: str
    state: str
    pattern: Mapping[str, Any]


@dataclass(frozen=True)
class AlarmFacts:
    """What the alarm checks read; a ``None`` field could not be read (``problems`` says why)."""

    topic_arn: str
    rules: tuple[RuleFacts, ...] | None
    confirmed_subscriptions: int | None
    trails: tuple[TrailFacts, ...] | None
    #: Enabled or not, the us-east-1 rules whose target is this region's default event bus
    #: (``None`` in us-east-1 itself, or when they could not be read).
    forwarders: tuple[RuleFacts, ...] | None
    problems: Mapping[str, str]


def management_selection(
    selectors: Sequence[Mapping[str, Any]], advanced: Sequence[Mapping[str, Any]]
) -> tuple[str, tuple[str, ...]]:
    """Which management events a trail's event selectors log, and which event sources they exclude.

    A trail without any selector logs all management events (CloudTrail's default).
    """
    if not selectors and not advanced:
        return "all", ()
    reads = writes = False
    excluded: set[str] = set()
    for selector in selectors:
        if not selector.get("IncludeManagementEvents", True):
            continue
        kind = selector.get("ReadWriteType", "All")
        reads = reads or kind in ("All", "ReadOnly")
        writes = writes or kind in ("All", "WriteOnly")
        excluded.update(selector.get("ExcludeManagementEventSources", []))
    for selector in advanced:
        fields = {f.get("Field"): f for f in selector.get("FieldSelectors", [])}
        category = fields.get("eventCategory", {})
        if "Management" not in category.get("Equals", []):
            continue
        read_only = fields.get("readOnly", {}).get("Equals")
        reads = reads or read_only is None or "true" in read_only
        writes = writes or read_only is None or "false" in read_only
        excluded.update(fields.get("eventSource", {}).get("NotEquals", []))
    management = "all" if reads and writes else "read" if reads else "write" if writes else "none"
    return management, tuple(sorted(excluded))


def check_trails(trails: Sequence[TrailFacts], region: str, *, auth_is_role: bool) -> list[CheckResult]:
    """A trail logging the region's management events (read ones too: Decrypt), and IAM's in us-east-1."""
    logging = [t for t in trails if t.logging and t.management != "none"]
    here = [t for t in logging if t.covers(region)]
    results: list[CheckResult] = []
    if not here:
        stopped = [t.arn for t in trails if t.covers(region) and not t.logging]
        why = f" ({', '.join(stopped)} stopped logging)" if stopped else ""
        results.append(
            CheckResult(
                TRAIL,
                Status.FAIL,
                f"no CloudTrail trail logs management events in {region}{why}: EventBridge receives no CloudTrail "
                "event there, so no tamper alarm can fire (README: Who deploys which stack)",
            )
        )
    else:
        complete = [t for t in here if t.management == "all" and "kms.amazonaws.com" not in t.excluded_sources]
        if complete:
            results.append(
                CheckResult(TRAIL, Status.PASS, f"{complete[0].arn} logs read and write management events in {region}")
            )
        else:
            gaps = "; ".join(
                f"{t.arn} logs {t.management}-only management events"
                if t.management != "all"
                else f"{t.arn} excludes kms.amazonaws.com events"
                for t in here
            )
            results.append(
                CheckResult(
                    TRAIL,
                    Status.WARN,
                    f"{gaps}: KMS Decrypt is a read event, so the decryption alarm may never fire",
                )
            )
    if auth_is_role:
        iam = [t for t in logging if t.covers(alarms.IAM_EVENT_REGION) and t.global_events and t.management != "read"]
        if iam:
            results.append(CheckResult(TRAIL_IAM, Status.PASS, f"{iam[0].arn} logs IAM's (global) events in us-east-1"))
        else:
            results.append(
                CheckResult(
                    TRAIL_IAM,
                    Status.FAIL,
                    "no logging trail records IAM's global service events in us-east-1 (a multi-region trail, or a "
                    "us-east-1 one, with IncludeGlobalServiceEvents): the auth role's alarm cannot fire",
                )
            )
    return results


def _canonical(value: Any) -> Any:
    """A pattern with its alternatives in a fixed order (EventBridge ignores their order)."""
    if isinstance(value, Mapping):
        return {k: _canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    return value


def expected_rules(design: Design) -> dict[str, tuple[alarms.Pattern, str]]:
    """The pattern and state each kind of rule must have for this design."""
    expected: dict[str, tuple[alarms.Pattern, str]] = {
        "key": (alarms.key_pattern(design.key_arn), "ENABLED"),
        "bucket": (alarms.bucket_pattern(design.bucket_name), "ENABLED"),
        "decryption": (
            alarms.decrypt_pattern(design.key_arn, [design.auth_role_arn, *design.reader_arns]),
            alarms.ALL_MANAGEMENT_EVENTS_STATE,
        ),
    }
    role = arns.parse_iam_principal(design.auth_role_arn)
    if role is not None and role.kind == "role":
        expected["auth role"] = (alarms.role_pattern(role.name), "ENABLED")
    return expected


def check_rules(rules: Sequence[RuleFacts], design: Design, topic_arn: str) -> CheckResult:
    """Every alarm rule publishing to the topic, enabled in its state, with the design's pattern."""
    expected = expected_rules(design)
    found: dict[str, list[RuleFacts]] = {}
    for rule in rules:
        if rule.description.startswith(DESCRIPTION_PREFIX):
            found.setdefault(rule.description.removeprefix(DESCRIPTION_PREFIX), []).append(rule)
    problems = []
    for kind, (pattern, state) in expected.items():
        candidates = found.get(kind, [])
        if not candidates:
            problems.append(f"no {kind} rule publishes to the topic")
            continue
        matching = [r for r in candidates if _canonical(dict(r.pattern)) == _canonical(pattern)]
        if not matching:
            problems.append(f"rule {candidates[0].name} ({kind}) no longer has the design's event pattern")
            continue
        live = [r for r in matching if r.state == state]
        if not live:
            rule = matching[0]
            why = (
                "matches no read-only event, so nobody's decryption is reported"
                if state == alarms.ALL_MANAGEMENT_EVENTS_STATE and rule.state == "ENABLED"
                else "fires for nothing"
            )
            problems.append(f"rule {rule.name} ({kind}) is {rule.state}, not {state}: it {why}")
    if problems:
        return CheckResult(RULES, Status.FAIL, "; ".join(problems))
    return CheckResult(
        RULES,
        Status.PASS,
        f"{len(expected)} alarm rules ({', '.join(expected)}) publish to {topic_arn} with the design's patterns",
    )


def check_subscribers(confirmed: int, topic_arn: str) -> CheckResult:
    if confirmed:
        return CheckResult(SUBSCRIBERS, Status.PASS, f"{confirmed} confirmed subscription(s) to {topic_arn}")
    return CheckResult(
        SUBSCRIBERS,
        Status.WARN,
        f"no confirmed subscription to {topic_arn}: the alarms reach nobody (confirm the email, or subscribe an "
        "endpoint your security team watches)",
    )


def check_forwarding(forwarders: Sequence[RuleFacts], region: str) -> CheckResult:
    """Outside us-east-1: an enabled us-east-1 rule sends IAM's events to this region's default bus."""
    iam_rules = [r for r in forwarders if "aws.iam" in r.pattern.get("source", [])]
    if any(r.state == "ENABLED" for r in iam_rules):
        name = next(r.name for r in iam_rules if r.state == "ENABLED")
        return CheckResult(IAM_FORWARDING, Status.PASS, f"us-east-1 rule {name} forwards IAM events to {region}")
    why = f" ({', '.join(r.name for r in iam_rules)} is not ENABLED)" if iam_rules else ""
    return CheckResult(
        IAM_FORWARDING,
        Status.FAIL,
        f"no enabled us-east-1 rule forwards IAM events to {region}'s default event bus{why}: the auth role's "
        "alarm cannot fire (deploy the TeleportSessionRecordingsIamEvents stack)",
    )


def check_alarms(facts: AlarmFacts, design: Design) -> list[CheckResult]:
    """Every alarm check, in the order they are reported; unreadable parts are WARN lines."""
    results: list[CheckResult] = []
    role = arns.parse_iam_principal(design.auth_role_arn)
    auth_is_role = role is not None and role.kind == "role"
    if facts.trails is not None:
        results += check_trails(facts.trails, design.region, auth_is_role=auth_is_role)
    else:
        results.append(_unread(TRAIL, facts.problems))
    if facts.rules is not None:
        results.append(check_rules(facts.rules, design, facts.topic_arn))
    else:
        results.append(_unread(RULES, facts.problems))
    if facts.confirmed_subscriptions is not None:
        results.append(check_subscribers(facts.confirmed_subscriptions, facts.topic_arn))
    else:
        results.append(_unread(SUBSCRIBERS, facts.problems))
    if auth_is_role and design.region != alarms.IAM_EVENT_REGION:
        if facts.forwarders is not None:
            results.append(check_forwarding(facts.forwarders, design.region))
        else:
            results.append(_unread(IAM_FORWARDING, facts.problems))
    return results


def _unread(check_id: str, problems: Mapping[str, str]) -> CheckResult:
    return CheckResult(check_id, Status.WARN, f"not checked: {problems.get(check_id, 'could not be read')}")


def not_checked(reason: str) -> CheckResult:
    """The line when there is no alarm topic to start from."""
    return CheckResult(RULES, Status.INFO, f"tamper alarms not checked: {reason}")
