"""checkov, the template scanner security teams run, over every synthesized template: no finding unexplained.

One checkov run (offline, ``--skip-download``) scans the templates of every configuration the
compliance tests synthesize (tests/stacks/test_compliance.py: the recordings stack in eleven
configurations, and the whole app with its IAM events and guardrails stacks), plus two altered copies
of the default template that show the scan bites: one without this package's suppressions, one with
the account-root key-policy form, the only principal form that keeps the deploy-safety property and
that checkov's CKV_AWS_33 does not flag. checkov lives in its own virtualenv (requirements-checkov.txt
says why), made by ``make test``.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from constructs_lib import SessionRecordingsStorage, StorageSettings, scanners
from constructs_lib.core import policies
from constructs_lib.core.prover import Evidence, Verdict, new_access, prove
from tests.access.conftest import AUTH, ROOT, auth_identity, bucket_policy, design
from tests.conftest import ACCOUNT, REPO, TEST_ENV, make_app, template_of

CHECKOV = REPO / ".venv" / "checkov" / "bin" / "checkov"
KEY = "StorageKey7CE16CA6"
LOG_BUCKET = "StorageBucketAccessLogsEC45E26E"
#: The altered copies of the default template (see the module docstring).
UNSUPPRESSED = "altered-unsuppressed"
ROOT_FORM = "altered-root-form"


def _synthesized(assemblies: dict[str, tuple[dict[str, Any], Path]]) -> dict[str, dict[str, Any]]:
    """Every configuration's templates as ``cdk synth`` writes them (gated, as app.py synthesizes), by
    ``CONFIG__STACK`` name."""
    templates: dict[str, dict[str, Any]] = {}
    for name, (_, out) in assemblies.items():
        for path in sorted(out.glob("*.template.json")):
            templates[f"{name}__{path.name.removesuffix('.template.json')}"] = json.loads(path.read_text())
    return templates


def _without_suppressions(template: dict[str, Any]) -> dict[str, Any]:
    altered = copy.deepcopy(template)
    for resource in altered["Resources"].values():
        resource.get("Metadata", {}).pop("checkov", None)
    return altered


def _wildcard_statements(template: dict[str, Any], key: str = KEY) -> Iterator[dict[str, Any]]:
    policy = template["Resources"][key]["Properties"]["KeyPolicy"]
    yield from (s for s in policy["Statement"] if s["Effect"] == "Allow" and s["Principal"] == {"AWS": "*"})


def _other_keys(template: dict[str, Any]) -> list[str]:
    """The KMS keys beside the recordings key (``clusterIsolation=key``: each cluster's own)."""
    return [k for k, r in template["Resources"].items() if r["Type"] == "AWS::KMS::Key" and k != KEY]


def _root_form(template: dict[str, Any]) -> dict[str, Any]:
    altered = _without_suppressions(template)
    for statement in _wildcard_statements(altered):
        statement["Principal"] = {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
    return altered


@pytest.fixture(scope="module")
def templates(gated_assemblies: dict[str, tuple[dict[str, Any], Path]]) -> dict[str, dict[str, Any]]:
    synthesized = _synthesized(gated_assemblies)
    default = synthesized["default__Recordings"]
    return {**synthesized, UNSUPPRESSED: _without_suppressions(default), ROOT_FORM: _root_form(default)}


@pytest.fixture(scope="module")
def scan(templates: dict[str, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """checkov's JSON report of one run over all templates (fails, never skips, without checkov)."""
    assert CHECKOV.is_file(), f"{CHECKOV} is missing: `make test` (or `make {CHECKOV.parent.parent}/.installed`)"
    directory = tmp_path_factory.mktemp("scanned")
    for name, template in templates.items():
        (directory / f"{name}.template.json").write_text(json.dumps(template, indent=1))
    command = [str(CHECKOV), "-d", str(directory), "--framework", "cloudformation", "-o", "json", "--compact"]
    run = subprocess.run(
        [*command, "--skip-download"],
        capture_output=True,
        text=True,
        cwd=directory,  # no .checkov.yaml of the repository or the user applies
        # `make` does not compile checkov's virtualenv: the first scan writes the bytecode of the modules it
        # imports (PYTHONDONTWRITEBYTECODE, set on CI machines, would make every scan compile them again).
        env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
        check=False,
    )
    assert run.returncode in (0, 1), run.stderr  # 1: findings (the altered copies have some)
    report: dict[str, Any] = json.loads(run.stdout)
    assert report["check_type"] == "cloudformation", report
    return report


def _findings(scan: dict[str, Any], kind: str) -> set[tuple[str, str, str]]:
    """(template, check id, logical id) of checkov's ``failed_checks``, ``passed_checks`` or ``skipped_checks``."""
    return {
        (Path(c["file_path"]).name.removesuffix(".template.json"), c["check_id"], c["resource"].split(".")[-1])
        for c in scan["results"][kind]
    }


def test_checkov_scanned_every_resource_of_every_template(
    scan: dict[str, Any], templates: dict[str, dict[str, Any]]
) -> None:
    summary = scan["summary"]
    assert summary["parsing_errors"] == 0, summary
    assert summary["resource_count"] == sum(len(t["Resources"]) for t in templates.values()), summary
    # The guardrails stack is counted above; checkov has no check for AWS::Organizations::Policy.
    assert "organization__TeleportSessionRecordingsIamEvents" in {
        name for name, _, _ in _findings(scan, "passed_checks")
    }


def test_no_finding_in_any_synthesized_template(scan: dict[str, Any]) -> None:
    failed = {f for f in _findings(scan, "failed_checks") if not f[0].startswith("altered-")}
    assert failed == set()


def test_every_skip_is_this_designs_on_its_resource_with_its_reason(
    scan: dict[str, Any], templates: dict[str, dict[str, Any]]
) -> None:
    """A skip appears exactly where the finding it explains would: the key where a statement matches
    principals created in the deployment by ARN, the access-log bucket where the stack creates it."""
    expected = set()
    for name, template in templates.items():
        if name.startswith("altered-"):
            continue
        if KEY in template["Resources"] and any(_wildcard_statements(template)):
            expected.add((name, scanners.KMS_WILDCARD_PRINCIPAL, KEY))
        for key in _other_keys(template):
            if any(_wildcard_statements(template, key)):
                expected.add((name, scanners.KMS_WILDCARD_PRINCIPAL, key))
        if LOG_BUCKET in template["Resources"]:
            expected.add((name, scanners.S3_ACCESS_LOGGING, LOG_BUCKET))
    assert _findings(scan, "skipped_checks") == expected
    assert {(n, c) for n, c, _ in expected} >= {("default__Recordings", scanners.KMS_WILDCARD_PRINCIPAL)}
    assert ("existing-role__Recordings", scanners.KMS_WILDCARD_PRINCIPAL, KEY) not in expected, "nothing to explain"
    for skipped in scan["results"]["skipped_checks"]:
        assert skipped["check_result"]["suppress_comment"] == scanners.REASONS[skipped["check_id"]]


def test_the_wildcard_principal_is_always_confined_to_named_arns(templates: dict[str, dict[str, Any]]) -> None:
    """What the CKV_AWS_33 skip claims: every ``Principal: *`` Allow carries ``ArnEquals aws:PrincipalArn``
    with ARNs (created roles' ``Fn::GetAtt``), never a wildcard."""
    seen = 0
    for name, template in templates.items():
        if name.startswith("altered-") or KEY not in template["Resources"]:
            continue
        keys = [KEY, *_other_keys(template)]
        for statement in (s for key in keys for s in _wildcard_statements(template, key)):
            seen += 1
            arns = statement["Condition"]["ArnEquals"]["aws:PrincipalArn"]
            for arn in arns if isinstance(arns, list) else [arns]:
                assert "*" not in json.dumps(arn), (name, statement["Sid"])
                assert isinstance(arn, dict) or arn.startswith("arn:"), (name, statement["Sid"])
    assert seen


def test_a_reader_created_later_brings_the_skip_with_its_statements() -> None:
    """With an existing auth role the key policy has no wildcard and no skip; a reader role created in the
    same stack (``grant_read_recordings``) adds both."""
    for created_reader in (False, True):
        stack = cdk.Stack(make_app(), "Readers", env=TEST_ENV)
        settings = StorageSettings(auth_role=f"arn:aws:iam::{ACCOUNT}:role/teleport-auth")
        storage = SessionRecordingsStorage(stack, "Storage", settings=settings)
        if created_reader:
            storage.grant_read_recordings(iam.Role(stack, "Auditor", assumed_by=iam.AccountPrincipal(ACCOUNT)))
        template = template_of(stack)
        skips = template["Resources"][KEY].get("Metadata", {}).get("checkov", {}).get("skip", [])
        assert bool(skips) == bool(list(_wildcard_statements(template))) == created_reader
        assert [skip["id"] for skip in skips] == ([scanners.KMS_WILDCARD_PRINCIPAL] if created_reader else [])


def test_the_scan_bites_without_the_suppressions(scan: dict[str, Any]) -> None:
    failed = {(check, resource) for name, check, resource in _findings(scan, "failed_checks") if name == UNSUPPRESSED}
    assert failed == {(scanners.KMS_WILDCARD_PRINCIPAL, KEY), (scanners.S3_ACCESS_LOGGING, LOG_BUCKET)}


def test_the_form_checkov_accepts_is_not_equivalent(scan: dict[str, Any]) -> None:
    """Why the key carries a skip instead of another principal form. KMS only checks that named principals
    exist, so the one deploy-safe form that CKV_AWS_33 passes names the account root (which always exists)
    with the same ``aws:PrincipalArn`` condition. But a key policy that allows the account hands the
    decision to IAM identity policies (KMS Developer Guide, "Key policies in AWS KMS": "allows IAM
    policies ... to access the KMS key"; docs/PROVER.md models it): the auth role, whose identity policy
    has no KMS permissions by design, loses its use of the key, and adding one would let whoever edits
    IAM policies decide. The prover shows the lost request and P5 failing."""
    assert (ROOT_FORM, scanners.KMS_WILDCARD_PRINCIPAL, KEY) in _findings(scan, "passed_checks")
    d = design()
    arguments: dict[str, Any] = {
        "auth_principal_arn": AUTH,
        "deploy_role_arn": d.deploy_role_arn,
        "bucket_arn": d.bucket_arn,
        "region": d.region,
    }
    by_arn = policies.key_policy(**arguments, created_principal_arns={AUTH})
    root_form = copy.deepcopy(by_arn)
    for statement in root_form["Statement"]:
        if statement["Principal"] == {"AWS": "*"}:
            statement["Principal"] = {"AWS": ROOT}
    today = Evidence(key_policy=by_arn, bucket_policy=bucket_policy(d), identity_policies={AUTH: [auth_identity(d)]})
    rooted = replace(today, key_policy=root_form)
    assert new_access(d, today, rooted) is None, "the root form adds nothing"
    lost = new_access(d, rooted, today)
    assert lost is not None
    assert (lost.principal, lost.action.startswith("kms:")) == (AUTH, True)
    verdicts = {r.id: r.verdict for r in prove(d, rooted, ["P5"])}
    assert verdicts == {"P5": Verdict.FAIL}
