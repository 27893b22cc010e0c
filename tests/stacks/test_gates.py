"""The synthesis gate fails closed (issue 14, part 1).

A proof that raises, a recorded design that lacks a fact, a plugin that crashes (ours or a cdk-nag
pack's) and a property that is not PASS each stop ``compliance.synth`` with the reason named and no
template left in the output directory. CDK alone records a crashed plugin in
``validation-report.json`` and, under the CDK CLI (which passes
``@aws-cdk/core:failSynthOnValidationErrors=false`` to the app and then fails only on violations),
synthesizes anyway: aws/aws-cdk#26844 and #27575 (exit code 0 on validation failures, closed as
won't fix), #37909 (the context key). And every auth trust, with and without guardrails and alarms,
synthesizes with every proof PASS and every pack successful.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
import pytest

import app as bundled_app
import constructs_lib.core.prover
from constructs_lib import SessionRecordingsStorage, compliance, storage
from constructs_lib.compliance import proofs  # the module the plugin runs in (constructs_lib.proofs re-exports it)
from constructs_lib.core import gates
from constructs_lib.core.settings import AppSettings, StorageSettings, validate
from constructs_lib.core.template import GUARDRAILS_METADATA
from tests.conftest import TEST_ENV, cdk_json_context

PACKS = ("AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
#: What the CDK CLI passes to the app: the app leaves failing to the CLI, which ignores a crashed plugin.
AS_UNDER_THE_CLI = {"@aws-cdk/core:failSynthOnValidationErrors": False}
#: `make synth ARGS=...` of issue 14: IRSA trust and the organization guardrails.
ISSUE_14_COMMAND = {
    "account": "123456789012",
    "region": "eu-west-1",
    "keyAdminArns": "arn:aws:iam::123456789012:role/KeyAdmins",
    "authTrust": "irsa",
    "oidcProviderArn": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC",
    "authRoleName": "teleport-auth",
    "guardrailTargetIds": "123456789012",
    "managementAccount": "999999999999",
    "organizationId": "o-abcd123456",
}


def trusts(account: str) -> dict[str, dict[str, str]]:
    return {
        "ec2": {},
        "irsa": {
            "authTrust": "irsa",
            "oidcProviderArn": f"arn:aws:iam::{account}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC",
        },
        "pod-identity": {"authTrust": "pod-identity"},
        "principal": {"authTrust": "principal", "authPrincipalArn": f"arn:aws:iam::{account}:role/ops"},
        "existing-role": {"existingAuthRoleArn": f"arn:aws:iam::{account}:role/teleport/auth"},
    }


def combinations() -> dict[str, dict[str, str]]:
    """Every trust x guardrails on/off x alarms on/off (with alarms, readers too): 20 apps, each in its own account
    (names never clash)."""
    made: dict[str, dict[str, str]] = {}
    for trust in trusts("0"):
        for guardrails in (True, False):
            for alarms in (True, False):
                account = f"1111222233{len(made):02d}"
                context = {
                    "account": account,
                    "region": "eu-west-1",
                    "keyAdminArns": f"arn:aws:iam::{account}:role/KeyAdmins",
                    "alarms": str(alarms).lower(),
                    **trusts(account)[trust],
                }
                if alarms:
                    # Readers as IAM users of this account (no policy is attached to a user: the packs
                    # refuse that; the bucket policy names them), beside a role of another account.
                    context["readerArns"] = f"arn:aws:iam::{account}:user/auditor,arn:aws:iam::444455556666:role/Audit"
                if guardrails:
                    context |= {
                        "guardrailTargetIds": account,
                        "managementAccount": "999988887777",
                        "organizationId": "o-a1b2c3d4e5",
                        "breakGlassPrincipalArns": f"arn:aws:iam::{account}:role/BreakGlass",
                    }
                    if trust != "existing-role":
                        context["authRoleName"] = "teleport-auth"
                name = (
                    f"{trust}-{'guardrails' if guardrails else 'no-guardrails'}-{'alarms' if alarms else 'no-alarms'}"
                )
                made[name] = context
    return made


COMBINATIONS = combinations()


def gated_app(out: Path, **context: Any) -> cdk.App:
    app = cdk.App(context={**cdk_json_context(), **context}, outdir=str(out))
    compliance.enable_compliance_packs(app)
    return app


def templates_in(out: Path) -> list[Path]:
    return sorted(out.rglob("*.template.json"))


def storage_stack(app: cdk.App, id: str = "Proved") -> cdk.Stack:
    stack = cdk.Stack(app, id, env=TEST_ENV)
    SessionRecordingsStorage(stack, "Storage")
    return stack


def test_the_matrix_covers_every_trust_with_and_without_guardrails_and_alarms() -> None:
    assert len(COMBINATIONS) == 20
    trust = {
        n: c.get("authTrust", "existing" if "existingAuthRoleArn" in c else "ec2") for n, c in COMBINATIONS.items()
    }
    assert sorted(set(trust.values())) == ["ec2", "existing", "irsa", "pod-identity", "principal"]
    for kind in set(trust.values()):
        mine = [COMBINATIONS[name] for name in COMBINATIONS if trust[name] == kind]
        assert sorted(("guardrailTargetIds" in c, c["alarms"]) for c in mine) == [
            (False, "false"),
            (False, "true"),
            (True, "false"),
            (True, "true"),
        ]


def verdicts(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {r["id"]: r["verdict"] for r in entry.get("results", [])} | {"error": entry.get("error")} for entry in entries
    ]


def test_every_trust_with_and_without_guardrails_and_alarms_passes_every_gate(tmp_path: Path) -> None:
    """The 20 combinations, one Stage each, in one gated App: one synthesis for all (the App's plugins
    judge the stacks of every Stage: CDK hands them the nested assemblies' templates too). One test,
    not one per combination, so that ``pytest -n 2`` synthesizes it once, not once per worker."""
    app = gated_app(tmp_path)
    for name, context in COMBINATIONS.items():
        settings = AppSettings.from_context(context)
        validate(settings, settings.environment())
        bundled_app.build(cdk.Stage(app, name), settings)
    compliance.synth(app)  # raises GateFailed, naming every failure, if any gate does not pass
    report = json.loads((tmp_path / gates.VALIDATION_REPORT).read_text())
    record = json.loads((tmp_path / gates.PROOFS_RECORD).read_text())
    conclusions = {plugin["pluginName"]: plugin["conclusion"] for plugin in report["pluginReports"]}
    assert {pack: conclusions.get(pack) for pack in PACKS} == dict.fromkeys(PACKS, "success")  # listed: each ran
    assert set(conclusions.values()) == {"success"}, conclusions
    found: dict[str, Any] = {}
    expected: dict[str, Any] = {}
    for name, context in COMBINATIONS.items():
        mine = [entry for entry in record["storages"] if entry["stack"].startswith(f"{name}/")]
        found[name] = {
            "storages": verdicts([entry for entry in mine if "key" in entry]),
            "guardrails": verdicts([entry for entry in mine if "guardrails" in entry]),
            "others": [entry for entry in mine if "key" not in entry and "guardrails" not in entry],
            "templates": len(list((tmp_path / f"assembly-{name}").glob("*.template.json"))),
        }
        guarded = "guardrailTargetIds" in context
        expected[name] = {
            "storages": [{f"P{n}": "PASS" for n in range(1, 7)} | {"error": None}],
            "guardrails": [{f"G{n}": "PASS" for n in range(1, 5)} | {"error": None}] if guarded else [],
            "others": [],
            "templates": 1 + guarded + (context["alarms"] == "true"),  # + guardrails stack + us-east-1 forwarder
        }
    assert found == expected


# --- a broken plugin stops synthesis -------------------------------------------------------------


@jsii.implements(cdk.IPolicyValidationPlugin)
class CrashingPack:
    """A cdk-nag-style pack whose validate raises, as a pack with a bug would."""

    @property
    def name(self) -> str:
        return "CrashingPack"

    @property
    def version(self) -> str:
        return "1"

    @property
    def rule_ids(self) -> list[str]:
        return ["CP1"]

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        raise RuntimeError("the pack could not parse a template")


def test_a_crashed_pack_fails_the_gate_even_as_under_the_cdk_cli(tmp_path: Path) -> None:
    """Under the CLI's context app.synth() returns normally; the report alone says the pack crashed."""
    app = gated_app(tmp_path, **AS_UNDER_THE_CLI)
    cdk.Validations.of(app).add_plugins(CrashingPack())
    storage_stack(app)
    with pytest.raises(compliance.GateFailed) as failed:
        compliance.synth(app)
    assert failed.value.problems == [
        "CrashingPack: Validation plugin 'CrashingPack' failed: the pack could not parse a template"
    ]
    assert failed.value.code == (
        "compliance gate: CrashingPack: Validation plugin 'CrashingPack' failed: the pack could not parse a template\n"
        f"compliance gate: synthesis failed (1 failures); removed 1 templates from {tmp_path}: nothing to deploy"
    )
    assert templates_in(tmp_path) == []


@pytest.fixture
def exploding_prover(monkeypatch: pytest.MonkeyPatch) -> None:
    """The prover raising what no proof expects (the plugin looks it up at each call)."""

    def exploding(*args: Any, **kwargs: Any) -> Any:
        raise ArithmeticError("z3 gave up in an unexpected way")

    monkeypatch.setattr(constructs_lib.core.prover, "prove", exploding)


@pytest.mark.usefixtures("exploding_prover")
def test_an_exception_in_the_prover_fails_the_gate_naming_it_and_the_storage(tmp_path: Path) -> None:
    app = gated_app(tmp_path)
    storage_stack(app)
    with pytest.raises(compliance.GateFailed) as failed:
        compliance.synth(app)
    [problem] = failed.value.problems
    assert "acknowledge with" not in problem, "an ERROR is fatal: no acknowledgment suppresses it"
    assert problem.startswith(
        "TeleportRecordingsAccessProofs: ERROR on Proved/Storage/Key/Resource/Resource: the proofs of storage StorageKey"
    ), problem
    assert (
        "in Proved.template.json raised: ArithmeticError: z3 gave up in an unexpected way (at test_gates.py:" in problem
    )
    assert templates_in(tmp_path) == []
    record = json.loads((tmp_path / gates.PROOFS_RECORD).read_text())
    assert [entry["fatal"] for entry in record["storages"]] == [True]


@pytest.mark.usefixtures("exploding_prover")
def test_an_unacknowledgeable_error_even_with_every_proof_acknowledged(tmp_path: Path) -> None:
    """The ERROR rule is fatal: CDK suppresses no fatal violation, whatever was acknowledged."""
    app = gated_app(tmp_path)
    stack = storage_stack(app)
    for rule in [*proofs.AccessProofs().rule_ids]:
        compliance.acknowledge(stack, f"{compliance.ACCESS_PROOFS}::{rule}", "acknowledging everything")
    with pytest.raises(compliance.GateFailed, match="ArithmeticError: z3 gave up"):
        compliance.synth(app)


def distinct_names(name: str) -> StorageSettings:
    return StorageSettings(bucket_name=f"{name.lower()}-recordings", key_alias=f"alias/{name.lower()}-recordings")


def test_designs_recorded_wrongly_fail_the_gate_each_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three ways: a storage's design without a fact, a storage whose design never reaches the
    assembly, a guardrails record without most of its facts. A sound storage beside them is proven."""
    produce = storage._RecordedDesign.produce

    def recorded(self: Any) -> Any:
        design = produce(self)
        if self.storage.node.path.startswith("Lacking/"):
            return {k: v for k, v in design.items() if k != "prefix"}
        return None if self.storage.node.path.startswith("Lost/") else design

    monkeypatch.setattr(storage._RecordedDesign, "produce", recorded)
    app = gated_app(tmp_path)
    for name in ("Lacking", "Lost", "Sound"):
        stack = cdk.Stack(app, name, env=TEST_ENV)
        SessionRecordingsStorage(stack, "Storage", settings=distinct_names(name))
    stack.node.add_metadata(GUARDRAILS_METADATA, {"account": TEST_ENV.account, "bucketName": "sound-recordings"})
    with pytest.raises(compliance.GateFailed) as failed:
        compliance.synth(app)
    lacking, lost, guardrails = sorted(failed.value.problems, key=lambda p: ("Lacking" not in p, "Lost" not in p))
    assert "the design recorded for storage StorageKey" in lacking
    assert "in Lacking.template.json lacks prefix: its properties were not proven" in lacking
    assert lost == (
        "TeleportRecordingsAccessProofs: ERROR on Lost/Storage: Lost/Storage recorded no teleport-recordings:design "
        "metadata in Lost.template.json: its proofs would be skipped"
    )
    assert (
        "the guardrails recorded in Sound.template.json lack keyAlias, exemptPrincipalArns, organizationId, "
        "managementAccount: G1-G4 were not proven"
    ) in guardrails
    record = json.loads((tmp_path / gates.PROOFS_RECORD).read_text())
    [sound] = [entry for entry in record["storages"] if entry.get("stack") == "Sound" and "key" in entry]
    assert {r["verdict"] for r in sound["results"]} == {"PASS"}
    assert templates_in(tmp_path) == []


def test_a_failing_property_fails_the_gate_and_leaves_no_template(tmp_path: Path) -> None:
    from aws_cdk import aws_iam as iam

    app = gated_app(tmp_path)
    stack = storage_stack(app)
    recordings = stack.node.find_child("Storage")
    assert isinstance(recordings, SessionRecordingsStorage)
    recordings.key.add_to_resource_policy(
        iam.PolicyStatement(
            actions=["kms:Decrypt"],
            resources=["*"],
            principals=[iam.ArnPrincipal(f"arn:aws:iam::{TEST_ENV.account}:role/Attacker")],
        )
    )
    with pytest.raises(compliance.GateFailed) as failed:
        compliance.synth(app)
    [problem] = failed.value.problems
    assert problem.startswith("TeleportRecordingsAccessProofs: P1 on Proved/Storage/Key/Resource/Resource: FAIL ")
    assert "Attacker" in problem
    assert problem.endswith("(acknowledge with 'TeleportRecordingsAccessProofs::P1')"), "a FAIL may be acknowledged"
    assert templates_in(tmp_path) == []


def test_synth_refuses_an_app_without_the_gates(tmp_path: Path) -> None:
    app = cdk.App(context=cdk_json_context(), outdir=str(tmp_path))
    with pytest.raises(ValueError, match=r"call enable_compliance_packs\(app\)"):
        compliance.synth(app)


# --- the report readers ----------------------------------------------------------------------------


def write(out: Path, report: Any = None, record: Any = None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    if report is not None:
        (out / gates.VALIDATION_REPORT).write_text(json.dumps(report))
    if record is not None:
        (out / gates.PROOFS_RECORD).write_text(json.dumps(record))
    return out


@pytest.mark.parametrize(
    ("report", "record", "expected"),
    [
        (None, {"storages": []}, ["no validation-report.json in {out}: the validation plugins did not run"]),
        ({"pluginReports": []}, None, ["no teleport-recordings-access-proofs.json in {out}: the access proofs"]),
        ({"pluginReports": [{"pluginName": "X", "conclusion": "failure"}]}, {}, ["X: conclusion 'failure' without"]),
        ({"pluginReports": [{"pluginName": "X"}]}, {}, ["X: conclusion None without a violation or an error"]),
        ({"title": "no list"}, {}, ["validation-report.json has no pluginReports list"]),
        (
            {"pluginReports": []},
            {"storages": [{"template": "T.template.json", "error": "ERROR: x", "fatal": True}]},
            ["TeleportRecordingsAccessProofs: T.template.json: ERROR: x"],
        ),
    ],
    ids=["no-report", "no-record", "failure-without-reason", "no-conclusion", "no-plugin-list", "fatal-record"],
)
def test_the_gate_reader_fails_closed(tmp_path: Path, report: Any, record: Any, expected: list[str]) -> None:
    problems = gates.failures(write(tmp_path, report, record), proofs_expected=True)
    assert len(problems) == len(expected), problems
    for problem, start in zip(problems, expected, strict=True):
        assert problem.startswith(start.format(out=tmp_path)), problem


def test_the_gate_reader_passes_success_and_acknowledged_findings(tmp_path: Path) -> None:
    report = {"pluginReports": [{"pluginName": "AwsSolutions", "conclusion": "success", "suppressedViolations": [{}]}]}
    assert gates.failures(write(tmp_path, report, {"storages": []}), proofs_expected=True) == []
    (tmp_path / gates.VALIDATION_REPORT).write_text("{not json")
    [problem] = gates.failures(tmp_path, proofs_expected=True)
    assert "cannot be read" in problem


# --- the bundled app and make synth's summary -------------------------------------------------------


def test_the_issue_14_command_exits_non_zero_when_a_proof_crashes_as_it_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command of issue 14 as the CLI runs app.py, its guardrail proof raising what it raised on main.

    (Fixed, the same settings synthesize with every proof PASS: the matrix's irsa-guardrails-alarms.)
    """

    def raises_as_on_main(facts: Any, *args: Any) -> None:
        raise KeyError("authRoleService")

    monkeypatch.setattr(proofs, "_prove_guarded", raises_as_on_main)
    app = cdk.App(context={**cdk_json_context(), **ISSUE_14_COMMAND, **AS_UNDER_THE_CLI}, outdir=str(tmp_path))
    assert bundled_app.main(app) == 1
    stderr = capsys.readouterr().err
    assert (
        "compliance gate: TeleportRecordingsAccessProofs: ERROR on TeleportSessionRecordingsGuardrails/ProtectRecordings:"
        " the guardrail proofs in TeleportSessionRecordingsGuardrails.template.json raised: KeyError: "
        "'authRoleService'"
    ) in stderr
    assert "removed 3 templates" in stderr
    assert templates_in(tmp_path) == []


def test_the_synth_summary_exits_non_zero_and_names_a_failure(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import REPO

    report = {
        "pluginReports": [
            {
                "pluginName": "TeleportRecordingsAccessProofs",
                "conclusion": "failure",
                "metadata": {"error": "Validation plugin 'TeleportRecordingsAccessProofs' failed: 'authRoleService'"},
                "violations": [],
            }
        ]
    }
    out = write(tmp_path / "cdk.out", report, {"storages": []})
    (out / "Stack.template.json").write_text(json.dumps({"Outputs": {}}))
    summary = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "synth_summary.py"), str(out)], capture_output=True, text=True
    )
    assert summary.returncode == 1
    assert (
        "compliance gate: TeleportRecordingsAccessProofs: Validation plugin 'TeleportRecordingsAccessProofs' failed: "
        "'authRoleService'"
    ) in summary.stderr
    assert "template:" not in summary.stdout
