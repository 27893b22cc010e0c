"""`verify`'s tamper-alarm and retention checks: pure judgements, then end to end against moto.

The alarm rules are built on moto from ``constructs_lib.core.alarms`` exactly as the construct
builds them (tests/constructs/test_alarms.py ties the template to the same patterns). moto stores
rules, trails and subscriptions without acting on them: these tests show that verify reads and
judges them, not that EventBridge delivers.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from constructs_lib.core import alarms
from constructs_lib.core.retention import recording_rules
from constructs_lib.core.settings import RetentionSettings
from recordings_kms.results import Status
from recordings_kms.verify import monitoring, retention_checks
from recordings_kms.verify.checks import design_for
from recordings_kms.verify.monitoring import RuleFacts, TrailFacts, management_selection
from tests.cli import facts
from tests.cli.conftest import VERIFY_FIXTURES
from tests.cli.deployment import ACCOUNT, PREFIX, REGION, Deployment, checks_of, harness_client, run, verify_json

pytestmark = pytest.mark.usefixtures(*VERIFY_FIXTURES)
Deploy = Callable[..., Deployment]
DESIGN = design_for(facts.PARAMETERS, facts.live_facts())
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:security-alarms"


# --- trails (pure) -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selectors", "advanced", "expected"),
    [
        ([], [], ("all", ())),
        ([{"ReadWriteType": "All", "IncludeManagementEvents": True}], [], ("all", ())),
        ([{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}], [], ("write", ())),
        ([{"ReadWriteType": "All", "IncludeManagementEvents": False}], [], ("none", ())),
        (
            [{"ReadWriteType": "All", "ExcludeManagementEventSources": ["kms.amazonaws.com"]}],
            [],
            ("all", ("kms.amazonaws.com",)),
        ),
        ([], [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}], ("all", ())),
        (
            [],
            [
                {
                    "FieldSelectors": [
                        {"Field": "eventCategory", "Equals": ["Management"]},
                        {"Field": "readOnly", "Equals": ["false"]},
                    ]
                }
            ],
            ("write", ()),
        ),
        ([], [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}]}], ("none", ())),
    ],
    ids=["default", "all", "write-only", "no-management", "kms-excluded", "advanced", "advanced-write", "data-only"],
)
def test_management_selection(selectors: Any, advanced: Any, expected: tuple[str, tuple[str, ...]]) -> None:
    assert management_selection(selectors, advanced) == expected


def trail(**changes: Any) -> TrailFacts:
    base = TrailFacts(
        arn=f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/org",
        home_region="us-east-1",
        multi_region=True,
        global_events=True,
        logging=True,
        management="all",
    )
    return dataclasses.replace(base, **changes)


def statuses(results: list[Any]) -> dict[str, Status]:
    return {r.id: r.status for r in results}


def test_a_logging_multi_region_trail_covers_the_region_and_iam() -> None:
    assert statuses(monitoring.check_trails([trail()], REGION, auth_is_role=True)) == {
        monitoring.TRAIL: Status.PASS,
        monitoring.TRAIL_IAM: Status.PASS,
    }


@pytest.mark.parametrize(
    ("trails", "expected", "fragment"),
    [
        ([], Status.FAIL, "no CloudTrail trail logs management events in eu-west-1"),
        ([trail(logging=False)], Status.FAIL, "stopped logging"),
        ([trail(multi_region=False)], Status.FAIL, "no CloudTrail trail"),
        ([trail(management="write")], Status.WARN, "write-only management events"),
        ([trail(excluded_sources=("kms.amazonaws.com",))], Status.WARN, "excludes kms.amazonaws.com"),
    ],
    ids=["none", "stopped", "other-region", "write-only", "kms-excluded"],
)
def test_trails_that_leave_the_alarms_deaf(trails: list[TrailFacts], expected: Status, fragment: str) -> None:
    (result, *_) = monitoring.check_trails(trails, REGION, auth_is_role=True)
    assert result.id == monitoring.TRAIL
    assert result.status is expected
    assert fragment in result.reason


def test_a_single_region_trail_misses_iams_events() -> None:
    local = trail(arn=f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/local", home_region=REGION, multi_region=False)
    results = statuses(monitoring.check_trails([local], REGION, auth_is_role=True))
    assert results == {monitoring.TRAIL: Status.PASS, monitoring.TRAIL_IAM: Status.FAIL}
    assert monitoring.TRAIL_IAM not in statuses(monitoring.check_trails([local], REGION, auth_is_role=False))


# --- rules (pure) --------------------------------------------------------------------------------------


def deployed_rules() -> list[RuleFacts]:
    """The rules the construct deploys for DESIGN, as DescribeRule reports them."""
    return [
        RuleFacts(f"Rule-{kind.replace(' ', '')}", monitoring.DESCRIPTION_PREFIX + kind, state, pattern)
        for kind, (pattern, state) in monitoring.expected_rules(DESIGN).items()
    ]


def test_the_deployed_rules_pass() -> None:
    result = monitoring.check_rules(deployed_rules(), DESIGN, TOPIC)
    assert result.status is Status.PASS, result.reason
    assert "4 alarm rules (key, bucket, decryption, auth role)" in result.reason


def test_the_order_of_alternatives_does_not_matter() -> None:
    design = dataclasses.replace(
        DESIGN, reader_arns=(f"arn:aws:iam::{ACCOUNT}:role/A", f"arn:aws:iam::{ACCOUNT}:role/B")
    )
    rules = [
        dataclasses.replace(
            r,
            pattern=json.loads(
                json.dumps(r.pattern)
                .replace("role/A", "role/X")
                .replace("role/B", "role/A")
                .replace("role/X", "role/B")
            ),
        )
        for r in (
            RuleFacts(f"R{k}", monitoring.DESCRIPTION_PREFIX + k, s, p)
            for k, (p, s) in monitoring.expected_rules(design).items()
        )
    ]
    assert monitoring.check_rules(rules, design, TOPIC).status is Status.PASS


def with_rule(kind: str, **changes: Any) -> list[RuleFacts]:
    return [dataclasses.replace(r, **changes) if r.description.endswith(kind) else r for r in deployed_rules()]


@pytest.mark.parametrize(
    ("rules", "fragment"),
    [
        ([r for r in deployed_rules() if not r.description.endswith("bucket")], "no bucket rule publishes"),
        (with_rule("key", state="DISABLED"), "is DISABLED, not ENABLED: it fires for nothing"),
        (with_rule("decryption", state="ENABLED"), "matches no read-only event"),
        (
            with_rule(
                "decryption",
                pattern=alarms.decrypt_pattern(
                    DESIGN.key_arn, [DESIGN.auth_role_arn, f"arn:aws:iam::{ACCOUNT}:role/Administrator"]
                ),
            ),
            "no longer has the design's event pattern",
        ),
        (with_rule("auth role", pattern=alarms.role_pattern("someone-else")), "(auth role) no longer has"),
    ],
    ids=["missing", "disabled", "decrypt-state", "decrypt-allows-admin", "other-role"],
)
def test_broken_rules_fail(rules: list[RuleFacts], fragment: str) -> None:
    result = monitoring.check_rules(rules, DESIGN, TOPIC)
    assert result.status is Status.FAIL
    assert fragment in result.reason


def test_unreadable_parts_are_warnings_not_errors() -> None:
    unread = monitoring.AlarmFacts(
        topic_arn=TOPIC,
        rules=None,
        confirmed_subscriptions=None,
        trails=None,
        forwarders=None,
        problems={monitoring.TRAIL: "access denied: DescribeTrails (needs cloudtrail:DescribeTrails)"},
    )
    results = monitoring.check_alarms(unread, DESIGN)
    assert {r.status for r in results} == {Status.WARN}
    assert results[0].reason == "not checked: access denied: DescribeTrails (needs cloudtrail:DescribeTrails)"


# --- retention (pure) ----------------------------------------------------------------------------------


def bucket(**changes: Any) -> Any:
    return dataclasses.replace(facts.live_facts().bucket, **changes)


@pytest.mark.parametrize(
    ("rules", "fragment"),
    [
        (
            [
                {
                    "ID": "tidy",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                }
            ],
            "the one Teleport plays",
        ),
        (
            [
                {
                    "ID": "abort",
                    "Status": "Enabled",
                    "Filter": {"Prefix": "records/"},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                }
            ],
            "aborts multipart uploads after 1 days",
        ),
        (
            [
                {
                    "ID": "cold",
                    "Status": "Enabled",
                    "Filter": {},
                    "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}],
                }
            ],
            "moves recordings to GLACIER",
        ),
    ],
    ids=["noncurrent-expiry", "abort-too-soon", "glacier"],
)
def test_lifecycle_traps_fail(rules: list[dict[str, Any]], fragment: str) -> None:
    result = retention_checks.check_lifecycle(bucket(lifecycle_rules=rules), PREFIX)
    assert result.status is Status.FAIL
    assert fragment in result.reason


def test_expiry_inside_the_lock_fails_and_a_disabled_rule_is_ignored() -> None:
    lock = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 1}}}
    expire = {"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": "records/"}, "Expiration": {"Days": 90}}
    failed = retention_checks.check_lifecycle(bucket(lifecycle_rules=[expire], object_lock=lock), PREFIX)
    assert "inside the 365-day Object Lock" in failed.reason
    disabled = {**expire, "Status": "Disabled"}
    assert (
        retention_checks.check_lifecycle(bucket(lifecycle_rules=[disabled], object_lock=lock), PREFIX).status
        is Status.WARN
    )


def test_the_designs_rules_pass_and_no_abort_rule_warns() -> None:
    rules = recording_rules(RetentionSettings(retention_days=730), PREFIX)
    passed = retention_checks.check_lifecycle(bucket(lifecycle_rules=rules), PREFIX)
    assert passed.status is Status.PASS
    assert passed.reason.startswith("recordings expire after 730 days; incomplete uploads are aborted after 30 days")
    other = [
        {
            "ID": "logs",
            "Status": "Enabled",
            "Filter": {"Prefix": "logs/"},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
        }
    ]
    warned = retention_checks.check_lifecycle(bucket(lifecycle_rules=other), PREFIX)
    assert warned.status is Status.WARN
    assert "no rule aborts incomplete multipart uploads under records/" in warned.reason


@pytest.mark.parametrize(
    ("lock", "expected", "fragment"),
    [
        (None, Status.INFO, "Object Lock is off"),
        ({"ObjectLockEnabled": "Enabled"}, Status.WARN, "without a default retention"),
        (
            {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 400}}},
            Status.PASS,
            "compliance mode for 400 days: nobody, the root user included",
        ),
        (
            {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Years": 2}}},
            Status.PASS,
            "governance mode for 730 days: principals allowed s3:BypassGovernanceRetention",
        ),
    ],
    ids=["off", "no-default", "compliance", "governance"],
)
def test_object_lock(lock: Any, expected: Status, fragment: str) -> None:
    result = retention_checks.check_object_lock(bucket(object_lock=lock))
    assert result.status is expected
    assert fragment in result.reason


# --- end to end on moto ----------------------------------------------------------------------------------


@dataclasses.dataclass
class Alarmed:
    deployment: Deployment
    topic: str
    rules: dict[str, str]
    events: Any


@pytest.fixture
def alarmed(deploy: Deploy, moto_endpoint: str) -> Iterator[Alarmed]:
    """A deployment with the construct's alarm rules, a confirmed-looking subscriber, a logging
    organization-style trail, and the us-east-1 forwarder; every global thing removed afterwards."""
    deployment = deploy()
    sns, events = harness_client("sns", moto_endpoint), harness_client("events", moto_endpoint)
    s3 = harness_client("s3", moto_endpoint, "us-east-1")
    topic = sns.create_topic(Name=f"alarms-{uuid.uuid4().hex[:8]}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"arn:aws:sqs:{REGION}:{ACCOUNT}:security")
    parameters = dataclasses.replace(facts.PARAMETERS, auth_role_arn=deployment.auth_role)
    design = parameters.design(key_arn=deployment.key_arn, bucket=deployment.bucket)
    rules = {}
    for kind, (pattern, state) in monitoring.expected_rules(design).items():
        name = f"{kind.replace(' ', '-')}-{uuid.uuid4().hex[:6]}"
        events.put_rule(
            Name=name, EventPattern=json.dumps(pattern), State=state, Description=monitoring.DESCRIPTION_PREFIX + kind
        )
        events.put_targets(Rule=name, Targets=[{"Id": "Target0", "Arn": topic}])
        rules[kind] = name
    east = harness_client("events", moto_endpoint, "us-east-1")
    forwarder = f"forward-{uuid.uuid4().hex[:6]}"
    east.put_rule(Name=forwarder, EventPattern=json.dumps(alarms.role_pattern()), State="ENABLED")
    east.put_targets(
        Rule=forwarder,
        Targets=[
            {
                "Id": "Bus",
                "Arn": f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default",
                "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/forwarder",
            }
        ],
    )
    trail_bucket = f"trail-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=trail_bucket)
    cloudtrail = harness_client("cloudtrail", moto_endpoint, "us-east-1")
    trail_name = f"org-{uuid.uuid4().hex[:6]}"
    cloudtrail.create_trail(
        Name=trail_name, S3BucketName=trail_bucket, IsMultiRegionTrail=True, IncludeGlobalServiceEvents=True
    )
    cloudtrail.start_logging(Name=trail_name)
    try:
        yield Alarmed(deployment, topic, rules, events)
    finally:
        cloudtrail.delete_trail(Name=trail_name)
        east.remove_targets(Rule=forwarder, Ids=["Bus"])
        east.delete_rule(Name=forwarder)


def alarm_checks(alarmed: Alarmed, capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, Any]]:
    _, checks = verify_json(alarmed.deployment, capsys, "--alarm-topic", alarmed.topic)
    return {k: v for k, v in checks.items() if k.startswith("alarms.")}


def test_live_alarms_pass(alarmed: Alarmed, capsys: pytest.CaptureFixture[str]) -> None:
    checks = alarm_checks(alarmed, capsys)
    assert {k: v["status"] for k, v in checks.items()} == {
        monitoring.TRAIL: "PASS",
        monitoring.TRAIL_IAM: "PASS",
        monitoring.RULES: "PASS",
        monitoring.SUBSCRIBERS: "PASS",
        monitoring.IAM_FORWARDING: "PASS",
    }, checks


def test_a_disabled_live_rule_fails(alarmed: Alarmed, capsys: pytest.CaptureFixture[str]) -> None:
    alarmed.events.disable_rule(Name=alarmed.rules["key"])
    checks = alarm_checks(alarmed, capsys)
    assert checks[monitoring.RULES]["status"] == "FAIL"
    assert f"rule {alarmed.rules['key']} (key) is DISABLED" in checks[monitoring.RULES]["reason"]


def test_no_trail_fails_by_stack_output(
    alarmed: Alarmed, capsys: pytest.CaptureFixture[str], moto_endpoint: str
) -> None:
    cloudtrail = harness_client("cloudtrail", moto_endpoint, "us-east-1")
    for existing in cloudtrail.describe_trails()["trailList"]:
        cloudtrail.stop_logging(Name=existing["TrailARN"])
    stack = alarmed.deployment.create_stack(AlarmTopicArn=alarmed.topic)
    argv = ["verify", "--stack-name", stack, "--endpoint-url", alarmed.deployment.endpoint, "--json"]
    code, out, _ = run(argv, capsys)
    checks = checks_of(out)
    assert code == 1
    assert checks[monitoring.TRAIL]["status"] == "FAIL"
    assert "stopped logging" in checks[monitoring.TRAIL]["reason"]


def test_without_a_topic_the_alarms_are_not_checked(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    code, checks = verify_json(deploy(), capsys)
    assert code == 0
    assert checks[monitoring.RULES]["status"] == "INFO"
    assert "pass --alarm-topic" in checks[monitoring.RULES]["reason"]


def test_live_lifecycle_and_object_lock(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    deployment = deploy()
    deployment.s3.put_bucket_lifecycle_configuration(
        Bucket=deployment.bucket,
        LifecycleConfiguration={
            "Rules": [
                *recording_rules(RetentionSettings(), PREFIX),
                {
                    "ID": "cold",
                    "Status": "Enabled",
                    "Filter": {"Prefix": "records/"},
                    "Transitions": [{"Days": 30, "StorageClass": "DEEP_ARCHIVE"}],
                },
            ]
        },
    )
    code, checks = verify_json(deployment, capsys)
    assert code == 1
    assert checks[retention_checks.LIFECYCLE]["status"] == "FAIL"
    assert "cold moves recordings to DEEP_ARCHIVE" in checks[retention_checks.LIFECYCLE]["reason"]
    assert checks[retention_checks.OBJECT_LOCK]["status"] == "INFO"


# --- retention against the stack's settings ---------------------------------------------------------------


RETAINED = RetentionSettings(
    object_lock_mode="compliance",
    object_lock_retention_days=400,
    retention_days=730,
    transition_storage_class="GLACIER_IR",
    transition_days=90,
)
COMPLIANCE_LOCK = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 400}}}


def test_the_settings_rules_and_lock_pass() -> None:
    live = bucket(lifecycle_rules=recording_rules(RETAINED, PREFIX), object_lock=COMPLIANCE_LOCK)
    result = retention_checks.check_against_settings(live, RETAINED, PREFIX)
    assert result.status is Status.PASS, result.reason


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (
            {"lifecycle_rules": recording_rules(RetentionSettings(), PREFIX)},
            "lifecycle rule ExpireRecordings is missing",
        ),
        (
            {"lifecycle_rules": recording_rules(dataclasses.replace(RETAINED, incomplete_upload_abort_days=7), PREFIX)},
            "lifecycle rule AbortIncompleteRecordingUploads differs",
        ),
        ({"object_lock": None}, "Object Lock is off, not compliance for 400 days"),
        (
            {
                "object_lock": {
                    "ObjectLockEnabled": "Enabled",
                    "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 400}},
                }
            },
            "Object Lock is governance, 400 days, not compliance for 400 days",
        ),
    ],
    ids=["expiry-missing", "abort-changed", "lock-off", "lock-governance"],
)
def test_drift_from_the_settings_fails(change: dict[str, Any], fragment: str) -> None:
    live = bucket(**{"lifecycle_rules": recording_rules(RETAINED, PREFIX), "object_lock": COMPLIANCE_LOCK, **change})
    result = retention_checks.check_against_settings(live, RETAINED, PREFIX)
    assert result.status is Status.FAIL
    assert fragment in result.reason


def test_the_stacks_retention_design_is_compared_with_the_live_bucket(
    deploy: Deploy, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment = deploy()
    design = {"objectLockMode": "none", "incompleteUploadAbortDays": 30}
    stack = deployment.create_stack(RetentionDesign=json.dumps(design))
    argv = ["verify", "--stack-name", stack, "--endpoint-url", deployment.endpoint, "--json"]
    code, out, _ = run(argv, capsys)
    assert checks_of(out)[retention_checks.SETTINGS]["status"] == "PASS", out
    assert code == 0
    stack = deployment.create_stack(RetentionDesign=json.dumps({**design, "retentionDays": 730}))
    code, out, _ = run(["verify", "--stack-name", stack, "--endpoint-url", deployment.endpoint, "--json"], capsys)
    assert code == 1
    assert "lifecycle rule ExpireRecordings is missing" in checks_of(out)[retention_checks.SETTINGS]["reason"]


def test_an_unusable_retention_design_exits_2(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    deployment = deploy()
    stack = deployment.create_stack(RetentionDesign=json.dumps({"retentionDays": 0}))
    code, _, err = run(["verify", "--stack-name", stack, "--endpoint-url", deployment.endpoint], capsys)
    assert code == 2
    assert "output RetentionDesign: 'retentionDays' must be" in err
