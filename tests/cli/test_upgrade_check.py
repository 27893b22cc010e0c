"""``recordings-kms upgrade-check``: every deletion or replacement of a stateful resource is reported.

Create-only properties come from the CloudFormation resource schemas cfn-lint ships (the
``createOnlyProperties`` of AWS::S3::Bucket, AWS::KMS::Alias, ...; the KMS key properties whose
schema description says "If you change the value of the KeySpec property on an existing KMS key, the
update request fails"); Object Lock is contested (cloudformation-coverage-roadmap issue 1929).
"""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from recordings_kms.cli import main
from recordings_kms.upgrade_check import replacement_table
from recordings_kms.upgrade_check.command import STATEFUL_TYPES, Upgrade, template_from
from tests.conftest import REPO

SNAPSHOTS = REPO / "tests" / "stacks" / "__snapshots__" / "test_stack"
KEY, BUCKET, ALIAS = "StorageKey7CE16CA6", "StorageBucketE81A0E79", "StorageKeyAlias69F09140"


@pytest.fixture(scope="module")
def deployed() -> dict[str, Any]:
    """The default stack as its committed snapshot has it."""
    template: dict[str, Any] = json.loads((SNAPSHOTS / "test_default_stack_snapshot.json").read_text())
    return template


def check(tmp_path: Path, capsys: pytest.CaptureFixture[str], old: Any, new: Any) -> tuple[int, list[str], str]:
    """Run the command on two files; ``old``/``new`` are written as JSON unless they are text already."""
    paths = []
    for name, document in (("old.json", old), ("new.json", new)):
        path = tmp_path / name
        path.write_text(document if isinstance(document, str) else json.dumps(document))
        paths.append(str(path))
    code = main(["upgrade-check", "--deployed", paths[0], "--new", paths[1]])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def changed(template: dict[str, Any], logical_id: str, **properties: Any) -> dict[str, Any]:
    altered = copy.deepcopy(template)
    altered["Resources"][logical_id]["Properties"].update(properties)
    return altered


def findings(lines: list[str]) -> list[str]:
    """The finding lines (every line but the closing summary)."""
    assert lines[-1].startswith("recordings-kms upgrade-check: "), lines
    return lines[:-1]


def test_an_unchanged_template_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str], deployed: Any) -> None:
    code, lines, err = check(tmp_path, capsys, deployed, deployed)
    assert (code, err) == (0, "")
    assert lines == ["recordings-kms upgrade-check: no stateful resource is deleted or replaced (8 checked)"]


def test_a_renamed_key_logical_id_is_a_deletion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], deployed: Any
) -> None:
    renamed = json.loads(json.dumps(deployed).replace(KEY, "StorageKeyRenamed0000"))
    code, lines, _ = check(tmp_path, capsys, deployed, renamed)
    assert code == 1
    [line] = [f for f in findings(lines) if KEY in f]
    assert line.startswith(f"DELETE           {KEY} (AWS::KMS::Key): not in the new template")
    assert "StorageKeyRenamed0000" in line, "names the new logical id: a rename is a new key"


def test_a_changed_bucket_name_replaces_the_bucket(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], deployed: Any
) -> None:
    code, lines, _ = check(tmp_path, capsys, deployed, changed(deployed, BUCKET, BucketName="acme-recordings"))
    assert code == 1
    assert findings(lines) == [
        f'REPLACE          {BUCKET} (AWS::S3::Bucket): BucketName: "teleport-recordings-111122223333-eu-west-1" '
        '-> "acme-recordings" (create-only: CloudFormation replaces the resource)'
    ]


def test_a_changed_key_spec_fails_the_update(tmp_path: Path, capsys: pytest.CaptureFixture[str], deployed: Any) -> None:
    code, lines, _ = check(tmp_path, capsys, deployed, changed(deployed, KEY, KeySpec="RSA_2048"))
    assert code == 1
    assert findings(lines) == [
        f'UPDATE-FAILS     {KEY} (AWS::KMS::Key): KeySpec: "SYMMETRIC_DEFAULT" -> "RSA_2048" (cannot change after '
        "creation: CloudFormation fails the update)"
    ]


def test_an_absent_property_has_its_schema_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], deployed: Any
) -> None:
    """The snapshot writes KeySpec; a template that leaves it out (SYMMETRIC_DEFAULT) changes nothing."""
    without = copy.deepcopy(deployed)
    del without["Resources"][KEY]["Properties"]["KeySpec"]
    code, _, _ = check(tmp_path, capsys, deployed, without)
    assert code == 0


def test_a_removed_alias_is_a_deletion(tmp_path: Path, capsys: pytest.CaptureFixture[str], deployed: Any) -> None:
    without = copy.deepcopy(deployed)
    del without["Resources"][ALIAS]
    code, lines, _ = check(tmp_path, capsys, deployed, without)
    assert code == 1
    assert findings(lines) == [f"DELETE           {ALIAS} (AWS::KMS::Alias): not in the new template"]


def test_turning_object_lock_on_is_taken_as_a_replacement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], deployed: Any
) -> None:
    """Contested: the schema no longer lists ObjectLockEnabled as create-only, a change set in
    cloudformation-coverage-roadmap issue 1929 (open) required recreation; until AWS settles it, a
    replacement (which a bucket with a fixed name cannot complete)."""
    code, lines, _ = check(tmp_path, capsys, deployed, changed(deployed, BUCKET, ObjectLockEnabled=True))
    assert code == 1
    [line] = findings(lines)
    assert line.startswith(f"REPLACE          {BUCKET} (AWS::S3::Bucket): ObjectLockEnabled: false -> true (contested")
    assert "issue 1929" in line


def test_resolved_shapes_compare_equal_and_unknowns_are_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], deployed: Any
) -> None:
    """A Fn::Join or Fn::Sub that builds the same string is no change; a Fn::If is a possible replacement."""
    name = deployed["Resources"][BUCKET]["Properties"]["BucketName"]
    assert name == "teleport-recordings-111122223333-eu-west-1"
    joined = changed(
        deployed, BUCKET, BucketName={"Fn::Join": ["-", ["teleport", "recordings-111122223333", "eu-west-1"]]}
    )
    substituted = changed(
        deployed,
        BUCKET,
        BucketName={"Fn::Sub": ["teleport-${Middle}-eu-west-1", {"Middle": "recordings-111122223333"}]},
    )
    for same in (joined, substituted):
        assert check(tmp_path, capsys, deployed, same)[0] == 0
    conditional = changed(deployed, BUCKET, BucketName={"Fn::If": ["Prod", name, "other"]})
    code, lines, _ = check(tmp_path, capsys, deployed, conditional)
    assert code == 1
    [line] = findings(lines)
    assert line.startswith(f"POSSIBLE-REPLACE {BUCKET} (AWS::S3::Bucket): BucketName: cannot tell whether")


def test_a_reference_to_a_replaced_resource_changes_the_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], deployed: Any
) -> None:
    """The same ``${Bucket}`` in a create-only property is a new value once the bucket is replaced; while the
    bucket stays, it is the same value."""
    topic = next(i for i, r in deployed["Resources"].items() if r["Type"] == "AWS::SNS::Topic")
    named = changed(deployed, topic, TopicName={"Fn::Sub": f"${{{BUCKET}}}-alarms"})
    assert check(tmp_path, capsys, named, named)[0] == 0
    code, lines, _ = check(tmp_path, capsys, named, changed(named, BUCKET, BucketName="acme-recordings"))
    assert code == 1
    assert [line.split()[:2] for line in findings(lines)] == [["REPLACE", topic], ["REPLACE", BUCKET]]


def test_nested_create_only_paths_are_followed_through_lists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], deployed: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Schemas name nested create-only paths (``/properties/A/*/B``; none of today's stateful types has
    one): each item is compared, and an intrinsic function in the way is a possible replacement."""
    path = "/properties/BucketEncryption/ServerSideEncryptionConfiguration/*/ServerSideEncryptionByDefault/SSEAlgorithm"
    monkeypatch.setitem(replacement_table.CREATE_ONLY, "AWS::S3::Bucket", (path,))
    encryption = deployed["Resources"][BUCKET]["Properties"]["BucketEncryption"]
    other = copy.deepcopy(encryption)
    other["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] = "AES256"
    code, lines, _ = check(tmp_path, capsys, deployed, changed(deployed, BUCKET, BucketEncryption=other))
    assert code == 1
    [line] = findings(lines)
    assert line.startswith(f'REPLACE          {BUCKET} (AWS::S3::Bucket): {path[12:]}: "aws:kms" -> "AES256"')
    hidden = {"ServerSideEncryptionConfiguration": {"Fn::If": ["Strict", [], []]}}
    assert check(tmp_path, capsys, deployed, changed(deployed, BUCKET, BucketEncryption=hidden))[0] == 1
    undecided = {"ServerSideEncryptionConfiguration": {"Fn::If": ["Strict", [{"A": 1}], []]}}
    code, lines, _ = check(tmp_path, capsys, deployed, changed(deployed, BUCKET, BucketEncryption=undecided))
    assert code == 1
    assert findings(lines)[0].startswith(f"POSSIBLE-REPLACE {BUCKET} (AWS::S3::Bucket): {path[12:]}: an intrinsic")


def test_malformed_intrinsics_are_unknowns_not_crashes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], deployed: Any
) -> None:
    odd = changed(deployed, BUCKET, BucketName={"Fn::GetAtt": 5})
    odd = changed(odd, ALIAS, AliasName={"Fn::FindInMap": ["Missing", "a", "b"]})
    code, lines, err = check(tmp_path, capsys, deployed, odd)
    assert (code, err) == (1, "")
    assert [line.split()[:2] for line in findings(lines)] == [["POSSIBLE-REPLACE", BUCKET], ["POSSIBLE-REPLACE", ALIAS]]


def test_get_template_output_and_yaml_are_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], deployed: Any
) -> None:
    """``aws cloudformation get-template`` wraps the template in TemplateBody (a document, or a string for
    a template deployed as text); a YAML template with CloudFormation's short tags reads as JSON would."""
    wrapped = {"TemplateBody": deployed, "StagesAvailable": ["Original", "Processed"]}
    as_text = {"TemplateBody": json.dumps(deployed)}
    for old in (wrapped, as_text):
        assert check(tmp_path, capsys, old, deployed)[0] == 0
    yaml_template = (
        "Resources:\n"
        "  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      KeySpec: SYMMETRIC_DEFAULT\n"
        "  Alias:\n    Type: AWS::KMS::Alias\n    Properties:\n"
        "      AliasName: !Sub 'alias/${AWS::StackName}'\n      TargetKeyId: !GetAtt Key.Arn\n"
    )
    same = {
        "Resources": {
            "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
            "Alias": {
                "Type": "AWS::KMS::Alias",
                "Properties": {
                    "AliasName": {"Fn::Join": ["", ["alias/", {"Ref": "AWS::StackName"}]]},
                    "TargetKeyId": {"Fn::GetAtt": ["Key", "Arn"]},
                },
            },
        }
    }
    assert check(tmp_path, capsys, {"TemplateBody": yaml_template}, same)[:2] == (
        0,
        ["recordings-kms upgrade-check: no stateful resource is deleted or replaced (2 checked)"],
    )


@pytest.mark.parametrize(
    ("old", "message"),
    [
        (None, "--deployed {old}: cannot read it (No such file or directory)"),
        ("{not json", "--deployed {old} is not JSON: Expecting property name enclosed in double quotes (line 1)"),
        (
            '{"AWSTemplateFormatVersion": "2010-09-09"}',
            "--deployed {old} is not a CloudFormation template: it has no Resources object",
        ),
        ('{"Resources": {"Key": {"Properties": {}}}}', "--deployed {old}: resource Key has no Type"),
        ('{"TemplateBody": "[1, 2"}', "--deployed {old} (TemplateBody) is not JSON: Expecting ',' delimiter (line 1)"),
        ("Resources: [unclosed", "--deployed {old} is neither JSON nor YAML: while parsing a flow sequence"),
        ('{"Mappings": [], "Resources": {}}', "--deployed {old}: its Mappings section is not an object"),
    ],
    ids=["missing", "not-json", "no-resources", "no-type", "body-not-json", "bad-yaml", "mappings-not-object"],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str | None, message: str
) -> None:
    path = tmp_path / "old.json"
    if old is not None:
        path.write_text(old)
    new = tmp_path / "new.json"
    new.write_text('{"Resources": {}}')
    code = main(["upgrade-check", "--deployed", str(path), "--new", str(new)])
    captured = capsys.readouterr()
    assert (code, captured.out) == (2, "")
    assert captured.err == f"recordings-kms: error: {message.format(old=path)}\n"


def _committed_versions(path: Path) -> list[str]:
    """Every committed version of a snapshot (git history), and the working tree's."""
    relative = path.relative_to(REPO)
    log = subprocess.run(
        ["git", "log", "--format=%H", "--", str(relative)], cwd=REPO, capture_output=True, text=True, check=True
    )
    commits = log.stdout.split()
    assert commits, f"git has no history of {relative}"
    shown = [
        subprocess.run(["git", "show", f"{c}:{relative}"], cwd=REPO, capture_output=True, text=True, check=True).stdout
        for c in commits
    ]
    return [*shown, path.read_text()]


@pytest.mark.parametrize("name", ["default", "fully_configured"])
def test_no_committed_snapshot_upgrades_to_todays_template_with_a_replacement(
    name: str, synth: Any, full_config: Any
) -> None:
    """A stack deployed from any committed version of this package's templates (the snapshots) updates to
    today's synthesized template without deleting or replacing a key, bucket, alias, role or topic.

    Judged by the command's own reading and comparison (``template_from``, ``Upgrade``: exit 0 and
    nothing on stderr is exactly no finding), not through a capture of its output: jsii's reader
    thread writes synthesis warnings to stderr whenever it gets to them, so a capture opened after
    a synthesis can still receive them (it did once).
    """
    today = template_from(json.dumps(synth(full_config if name == "fully_configured" else None)), "today's template")
    versions = _committed_versions(SNAPSHOTS / f"test_{name}_stack_snapshot.json")
    for number, old in enumerate(versions):
        found = Upgrade(template_from(old, f"version {number} of the {name} snapshot"), today).findings()
        assert [finding.line() for finding in found] == []
    assert len(versions) >= 2


def test_the_replacement_table_is_what_cfn_lint_schemas_say() -> None:
    """recordings_kms/upgrade_check/replacement_table.py is generated from cfn-lint's schemas and must match them."""
    spec = importlib.util.spec_from_file_location("replacement_table_script", REPO / "scripts" / "replacement_table.py")
    assert spec is not None
    assert spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.render() == Path(replacement_table.__file__).read_text()
    assert set(STATEFUL_TYPES) == set(script.TYPES)
    assert "/properties/BucketName" in replacement_table.CREATE_ONLY["AWS::S3::Bucket"]
    assert "/properties/KeySpec" in replacement_table.IMMUTABLE["AWS::KMS::Key"]


def test_the_command_needs_no_development_package() -> None:
    """At run time upgrade-check reads the vendored table: cfn-lint (a dev dependency) is never imported."""
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from recordings_kms.cli import main\n"
            "try: main(['upgrade-check', '--deployed', 'x', '--new', 'y'])\n"
            "except SystemExit: pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('cfnlint', 'boto3', 'aws_cdk')))",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.strip() == "[]"


def test_json_output_lists_each_finding(tmp_path: Path, capsys: pytest.CaptureFixture[str], deployed: Any) -> None:
    """--json: one object a pipeline can read; the exit code is the same as without it."""
    new = changed(deployed, BUCKET, BucketName="another-name")
    (tmp_path / "old.json").write_text(json.dumps(deployed))
    (tmp_path / "new.json").write_text(json.dumps(new))
    code = main(
        ["upgrade-check", "--deployed", str(tmp_path / "old.json"), "--new", str(tmp_path / "new.json"), "--json"]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert report["ok"] is False
    assert report["stateful"] == len(Upgrade(deployed, new).stateful())
    assert [(f["kind"], f["logicalId"], f["type"]) for f in report["findings"]] == [
        ("REPLACE", BUCKET, "AWS::S3::Bucket")
    ]
    assert report["findings"][0]["detail"].startswith("BucketName: ")
    code = main(
        ["upgrade-check", "--deployed", str(tmp_path / "old.json"), "--new", str(tmp_path / "old.json"), "--json"]
    )
    assert (code, json.loads(capsys.readouterr().out)["findings"]) == (0, [])


def test_json_errors_are_an_object_and_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["upgrade-check", "--deployed", str(tmp_path / "gone.json"), "--new", str(tmp_path), "--json"])
    captured = capsys.readouterr()
    assert code == 2
    assert json.loads(captured.out)["ok"] is False
    assert len(captured.err.splitlines()) == 1


def _assembly(tmp_path: Path, deployed: Any) -> Path:
    """A cloud assembly written by the CDK itself, with the default stack's template put in it."""
    import aws_cdk as cdk

    app = cdk.App(outdir=str(tmp_path / "cdk.out"))
    stack = cdk.Stack(app, "TeleportSessionRecordings")
    cdk.CfnWaitConditionHandle(stack, "Placeholder")
    assembly = app.synth()
    template = Path(assembly.get_stack_artifact("TeleportSessionRecordings").template_full_path)
    template.write_text(json.dumps(deployed))
    return Path(assembly.directory)


def test_a_cloud_assembly_is_read_through_its_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], deployed: Any
) -> None:
    directory = _assembly(tmp_path, deployed)
    (tmp_path / "old.json").write_text(json.dumps(changed(deployed, BUCKET, BucketName="old-name")))
    args = ["upgrade-check", "--deployed", str(tmp_path / "old.json"), "--new", str(directory)]
    code = main([*args, "--stack", "TeleportSessionRecordings"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert findings(lines)[0].startswith(f"REPLACE          {BUCKET} (AWS::S3::Bucket): BucketName: ")
    for extra, message in [
        (
            [],
            f"--new {directory}: a cloud assembly; name the stack with --stack (its stacks: TeleportSessionRecordings)",
        ),
        (["--stack", "Nope"], f"--stack Nope: not a stack of {directory} (its stacks: TeleportSessionRecordings)"),
    ]:
        assert main([*args, *extra]) == 2
        captured = capsys.readouterr()
        assert (captured.out, captured.err) == ("", f"recordings-kms: error: {message}\n")


def test_stack_needs_a_directory_and_a_directory_needs_a_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "t.json").write_text('{"Resources": {}}')
    empty = tmp_path / "empty"
    empty.mkdir()
    for new, extra, message in [
        (
            tmp_path / "t.json",
            ["--stack", "S"],
            "--stack S: only with --new DIRECTORY (a cloud assembly such as cdk.out)",
        ),
        (
            empty,
            [],
            f"--new {empty}: not a cloud assembly (no readable manifest.json with stack artifacts; run cdk "
            "synth or name the template file)",
        ),
    ]:
        assert main(["upgrade-check", "--deployed", str(tmp_path / "t.json"), "--new", str(new), *extra]) == 2
        assert capsys.readouterr().err == f"recordings-kms: error: {message}\n"
