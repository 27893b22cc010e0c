"""SessionRecordingsStorage as another CDK app uses it: the library contract.

Each test reproduces a way the construct failed a platform team on day one: synthesizers other
than the default, principal objects, two storages in one app, decrypt-only readers, CDK's own
grant methods, and what importing the package loads.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Annotations, Match

from constructs_lib import (
    AuthNodeRole,
    AuthSettings,
    BucketSettings,
    KeySettings,
    RecordingsBucket,
    RecordingsKey,
    SessionRecordingsStorage,
    StorageSettings,
)
from constructs_lib.core import naming, policies
from constructs_lib.core.settings import AppSettings, InvalidSettingsError, NameClashError
from tests.conftest import (
    ACCOUNT,
    REGION,
    TEST_ENV,
    make_app,
    recordings_keys,
    resources_of_type,
    statements_by_sid,
    template_of,
)

REPO = Path(__file__).resolve().parents[2]
OTHER_ACCOUNT = "444455556666"
AUTH = f"arn:aws:iam::{ACCOUNT}:role/teleport-auth"


def key_policy(template: dict[str, Any]) -> dict[str, Any]:
    (key,) = recordings_keys(template).values()
    policy: dict[str, Any] = key["Properties"]["KeyPolicy"]
    return policy


def deploy_role_principal(stack: cdk.Stack) -> Any:
    return statements_by_sid(key_policy(template_of(stack)))[policies.SID_DEPLOY_ROLE]["Principal"]["AWS"]


def artifact_execution_role(stack: cdk.Stack) -> str:
    assembly = cdk.App.of(stack).synth()  # type: ignore[union-attr]
    role: str = assembly.get_stack_artifact(stack.artifact_id).cloud_formation_execution_role_arn
    return role


# --- 1. synthesizers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("synthesizer", "context", "qualifier"),
    [
        (lambda: cdk.DefaultStackSynthesizer(qualifier="acme"), {}, "acme"),
        (lambda: cdk.DefaultStackSynthesizer(), {"@aws-cdk/core:bootstrapQualifier": "ctxqual"}, "ctxqual"),
        (lambda: None, {"@aws-cdk/core:bootstrapQualifier": "viactx"}, "viactx"),
        (lambda: None, {}, "hnb659fds"),
    ],
    ids=[
        "python-synthesizer-qualifier",
        "python-synthesizer-context-qualifier",
        "default-context-qualifier",
        "default",
    ],
)
def test_the_key_policy_names_the_role_the_synthesizer_deploys_with(
    synthesizer: Any, context: dict[str, str], qualifier: str
) -> None:
    made = synthesizer()
    stack = cdk.Stack(make_app(context), "Synth", env=TEST_ENV, **({"synthesizer": made} if made else {}))
    SessionRecordingsStorage(stack, "Storage")
    expected = f"arn:${{AWS::Partition}}:iam::{ACCOUNT}:role/cdk-{qualifier}-cfn-exec-role-{ACCOUNT}-{REGION}"
    assert deploy_role_principal(stack) == {"Fn::Sub": expected}
    assert artifact_execution_role(stack) == expected, "the key policy and CloudFormation agree on the role"


@pytest.mark.parametrize(
    ("synthesizer", "reason"),
    [
        (cdk.BootstraplessSynthesizer, "a BootstraplessSynthesizer deploys with whatever role it was given"),
        (cdk.CliCredentialsStackSynthesizer, "a CliCredentialsStackSynthesizer deploys with the caller's own"),
        (cdk.LegacyStackSynthesizer, "a LegacyStackSynthesizer deploys with the caller's own credentials"),
    ],
)
def test_a_synthesizer_without_an_execution_role_asks_for_deploy_role(synthesizer: Any, reason: str) -> None:
    stack = cdk.Stack(make_app(), "Synth", env=TEST_ENV, synthesizer=synthesizer())
    with pytest.raises(InvalidSettingsError) as caught:
        SessionRecordingsStorage(stack, "Storage")
    message = str(caught.value)
    assert "'deploy_role' must be the ARN of the role that deploys the stack" in message
    assert reason in message
    deployer = f"arn:aws:iam::{ACCOUNT}:role/deployer"
    other = cdk.Stack(make_app(), "Given", env=TEST_ENV, synthesizer=synthesizer())
    SessionRecordingsStorage(other, "Storage", settings=StorageSettings(deploy_role=deployer))
    assert deploy_role_principal(other) == deployer


# --- 2. concrete types and py.typed: tests/test_installed_package.py ----------------------------------


# --- 3. principals as objects ------------------------------------------------------------------------


def test_principal_objects_are_accepted_wherever_a_principal_is_taken() -> None:
    stack = cdk.Stack(make_app(), "Objects", env=TEST_ENV)
    admin = iam.Role.from_role_arn(stack, "Admin", f"arn:aws:iam::{ACCOUNT}:role/KeyAdmins")
    denied = iam.User.from_user_name(stack, "Denied", "ops-admin")
    deployer = iam.Role.from_role_arn(stack, "Deployer", f"arn:aws:iam::{ACCOUNT}:role/deployer")
    settings = StorageSettings(
        key_admins=[admin, iam.ArnPrincipal(f"arn:aws:iam::{ACCOUNT}:user/alice")],
        denied_principals=[denied],
        deploy_role=deployer,
    )
    SessionRecordingsStorage(stack, "Storage", settings=settings)
    statements = statements_by_sid(key_policy(template_of(stack)))
    assert statements[policies.SID_KEY_ADMIN]["Principal"]["AWS"] == [
        f"arn:aws:iam::{ACCOUNT}:role/KeyAdmins",
        f"arn:aws:iam::{ACCOUNT}:user/alice",
    ]
    assert statements[policies.SID_DENY]["Principal"]["AWS"] == f"arn:aws:iam::{ACCOUNT}:user/ops-admin"
    assert statements[policies.SID_DEPLOY_ROLE]["Principal"]["AWS"] == f"arn:aws:iam::{ACCOUNT}:role/deployer"


@pytest.mark.parametrize(
    "principal",
    [lambda: iam.AccountRootPrincipal(), lambda: iam.ServicePrincipal("ec2.amazonaws.com")],
    ids=["account-root", "service"],
)
def test_principal_objects_without_one_iam_arn_are_refused(principal: Any) -> None:
    stack = cdk.Stack(make_app(), "Objects", env=TEST_ENV)
    with pytest.raises(InvalidSettingsError, match=r"'key_admins' must be IAM role or user ARNs.*no single IAM ARN"):
        SessionRecordingsStorage(stack, "Storage", settings=StorageSettings(key_admins=[principal()]))


# --- 4. names never collide -------------------------------------------------------------------------


def names(template: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    buckets = [
        r["Properties"].get("BucketName")
        for r in resources_of_type(template, "AWS::S3::Bucket").values()
        if "BucketName" in r["Properties"]
    ]
    aliases = [r["Properties"]["AliasName"] for r in resources_of_type(template, "AWS::KMS::Alias").values()]
    return buckets, aliases


def test_the_first_storage_keeps_todays_names_and_a_second_derives_them_from_its_path() -> None:
    stack = cdk.Stack(make_app(), "Two", env=TEST_ENV)
    first = SessionRecordingsStorage(stack, "Storage")
    second = SessionRecordingsStorage(stack, "Staging")
    assert first.bucket_name == f"teleport-recordings-{ACCOUNT}-{REGION}"
    assert first.recordings_key.alias_name == "alias/teleport-session-recordings"
    tag = naming.path_discriminator("Two/Staging")
    assert second.bucket_name == f"teleport-recordings-{tag}-{ACCOUNT}-{REGION}"
    assert second.recordings_key.alias_name == f"alias/teleport-session-recordings-{tag}"
    buckets, aliases = names(template_of(stack))
    assert len(set(aliases)) == 2
    assert f"teleport-recordings-{ACCOUNT}-{REGION}" in json.dumps(buckets)
    assert tag in json.dumps(buckets)
    assert len(f"teleport-recordings-{tag}-{ACCOUNT}-ap-southeast-4") <= 63


def test_first_storage_logical_ids_are_unchanged_by_a_second_one() -> None:
    alone = cdk.Stack(make_app(), "Stack", env=TEST_ENV)
    SessionRecordingsStorage(alone, "Storage")
    paired = cdk.Stack(make_app(), "Stack", env=TEST_ENV)
    SessionRecordingsStorage(paired, "Storage")
    SessionRecordingsStorage(paired, "Other")
    first_ids = set(template_of(alone)["Resources"])
    assert first_ids <= set(template_of(paired)["Resources"])


def clash(make: Any) -> NameClashError:
    """The one error raised when ``make`` creates a storage whose names another storage of the app deploys."""
    with pytest.raises(NameClashError) as caught:
        make()
    return caught.value


def test_two_stacks_in_one_account_and_region_with_the_same_names_are_refused() -> None:
    """Refused when the second storage is created: one library error, each clash once (not a jsii traceback at
    synth that told every clash twice, once from each side)."""
    app = make_app()
    SessionRecordingsStorage(cdk.Stack(app, "Prod", env=TEST_ENV), "Storage")
    error = clash(lambda: SessionRecordingsStorage(cdk.Stack(app, "Copy", env=TEST_ENV), "Storage"))
    assert isinstance(error, InvalidSettingsError)
    assert str(error).startswith("2 invalid settings:")
    bucket, alias = error.lines
    assert bucket.startswith("'bucket_name' must be a bucket name no other storage of this app deploys: Prod/Storage")
    assert bucket.endswith(f'got "teleport-recordings-{ACCOUNT}-{REGION}"')
    assert alias.startswith("'key_alias' must be a key alias no other storage deploys to the same account and region")
    assert alias.endswith('got "alias/teleport-session-recordings"')
    assert str(error).count("Prod/Storage") == 2
    assert [c.node.path for c in app.node.children] == ["Prod", "Copy"]
    assert app.node.find_child("Copy").node.try_find_child("Storage") is None, "the refused storage is not left"


def test_a_clash_from_context_is_told_in_context_names() -> None:
    app = make_app()
    settings = AppSettings.from_context({"bucketName": "acme-recordings"})
    SessionRecordingsStorage(cdk.Stack(app, "One", env=TEST_ENV), "Storage", settings=settings.storage())
    other = cdk.Environment(account=OTHER_ACCOUNT, region=REGION)
    error = clash(
        lambda: SessionRecordingsStorage(cdk.Stack(app, "Two", env=other), "Storage", settings=settings.storage())
    )
    assert error.lines == (
        "'bucketName' must be a bucket name no other storage of this app deploys: One/Storage deploys it too (bucket "
        'names are global across AWS); set bucketName on one of them, got "acme-recordings"',
    )


def test_env_agnostic_stacks_with_the_same_names_are_refused_too() -> None:
    app = make_app()
    SessionRecordingsStorage(cdk.Stack(app, "Prod"), "Storage")
    error = clash(lambda: SessionRecordingsStorage(cdk.Stack(app, "Copy"), "Storage"))
    assert 'got "teleport-recordings-${AWS::AccountId}-${AWS::Region}"' in error.lines[0]


def test_parameters_of_two_stacks_are_different_names() -> None:
    """A bucket name from each stack's own parameter names two buckets, whatever the parameters are called."""
    app = make_app()
    for name in ("One", "Two"):
        stack = cdk.Stack(app, name, env=TEST_ENV)
        bucket = cdk.CfnParameter(stack, "BucketName").value_as_string
        settings = StorageSettings(bucket_name=bucket, key_alias=f"alias/{name.lower()}")
        SessionRecordingsStorage(stack, "Storage", settings=settings)
    app.synth()


def test_stacks_in_different_regions_keep_their_default_names() -> None:
    app = make_app()
    for region in ("eu-west-1", "us-east-2"):
        SessionRecordingsStorage(
            cdk.Stack(app, f"In{region}", env=cdk.Environment(account=ACCOUNT, region=region)), "Storage"
        )
    app.synth()


def test_one_bucket_name_in_two_accounts_is_refused() -> None:
    """Bucket names are global: the same explicit name in two accounts cannot both deploy."""
    app = make_app()
    stacks = [cdk.Stack(app, f"In{a}", env=cdk.Environment(account=a, region=REGION)) for a in (ACCOUNT, OTHER_ACCOUNT)]
    settings = StorageSettings(bucket_name="acme-recordings")
    SessionRecordingsStorage(stacks[0], "Storage", settings=settings)
    error = clash(lambda: SessionRecordingsStorage(stacks[1], "Storage", settings=settings))
    assert len(error.problems) == 1, "aliases are per account"
    assert "deploys it too" in error.lines[0]


# --- a failed construction leaves nothing behind ----------------------------------------------------


def test_a_storage_that_raised_leaves_nothing_that_breaks_a_later_one() -> None:
    """Before: the half-built storage stayed in the tree, so the next storage of the stack got a derived name
    (it was no longer "the first") and synthesis failed with "object has no attribute 'bucket_name'"."""
    app = make_app()
    stack = cdk.Stack(app, "Careless", env=TEST_ENV)
    with pytest.raises(InvalidSettingsError):
        SessionRecordingsStorage(stack, "Storage", settings=StorageSettings(key_rotation_days=1))
    assert stack.node.try_find_child("Storage") is None
    storage = SessionRecordingsStorage(stack, "Recordings")
    assert storage.bucket_name == f"teleport-recordings-{ACCOUNT}-{REGION}", "still the stack's first storage"
    assert storage.recordings_key.alias_name == naming.KEY_ALIAS
    app.synth()


def test_the_id_of_a_storage_that_raised_can_be_used_again() -> None:
    stack = cdk.Stack(make_app(), "Retry", env=TEST_ENV)
    with pytest.raises(InvalidSettingsError):
        SessionRecordingsStorage(stack, "Storage", settings=StorageSettings(recordings_prefix="/records"))
    SessionRecordingsStorage(stack, "Storage")


def test_a_failure_after_the_children_were_built_removes_them_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected error late in the construction (after the key and bucket exist): none of it stays."""

    def fail(self: SessionRecordingsStorage, settings: StorageSettings) -> None:
        raise RuntimeError("late failure")

    monkeypatch.setattr(SessionRecordingsStorage, "_alarms", fail)
    stack = cdk.Stack(make_app(), "Late", env=TEST_ENV)
    with pytest.raises(RuntimeError, match="late failure"):
        SessionRecordingsStorage(stack, "Storage")
    assert stack.node.try_find_child("Storage") is None
    assert [c.node.path for c in stack.node.find_all()] == ["Late"]


def test_a_duplicate_id_does_not_remove_the_construct_already_there() -> None:
    stack = cdk.Stack(make_app(), "Twice", env=TEST_ENV)
    first = SessionRecordingsStorage(stack, "Storage")
    with pytest.raises(RuntimeError, match="There is already a Construct with name 'Storage'"):
        SessionRecordingsStorage(stack, "Storage")
    assert stack.node.find_child("Storage") is first


@pytest.mark.parametrize(
    "make",
    [
        lambda s: RecordingsKey(s, "Key", auth_principal_arn=AUTH, settings=KeySettings(key_rotation_days=1)),
        lambda s: RecordingsBucket(
            s,
            "Bucket",
            bucket_name="acme-recordings",
            encryption_key=kms.Key(s, "K"),
            settings=BucketSettings(recordings_prefix="/x"),
        ),
        lambda s: AuthNodeRole(
            s, "Role", bucket_arn="arn:aws:s3:::b", recordings_prefix="r", settings=AuthSettings(auth_trust="irsa")
        ),
    ],
    ids=["key", "bucket", "auth-role"],
)
def test_the_parts_that_raised_leave_nothing_either(make: Any) -> None:
    stack = cdk.Stack(make_app(), "Parts", env=TEST_ENV)
    before = {c.node.id for c in stack.node.children}
    with pytest.raises(InvalidSettingsError):
        make(stack)
    assert {c.node.id for c in stack.node.children} - before <= {"K"}


# --- the auth principal is a role -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "user",
    [
        lambda s: f"arn:aws:iam::{ACCOUNT}:user/teleport",
        lambda s: iam.User.from_user_arn(s, "Imported", f"arn:aws:iam::{ACCOUNT}:user/teleport"),
        lambda s: iam.User(s, "Created"),
    ],
    ids=["arn", "imported-user", "created-user"],
)
def test_an_iam_user_as_the_auth_principal_is_refused_up_front(user: Any) -> None:
    """Before: documented as allowed, then synthesis failed with three cdk-nag IAMUserNoPolicies errors on the
    managed policy attached to the user, naming no setting."""
    stack = cdk.Stack(make_app(), "User", env=TEST_ENV)
    with pytest.raises(InvalidSettingsError) as caught:
        SessionRecordingsStorage(stack, "Storage", settings=StorageSettings(auth_role=user(stack)))
    (line,) = caught.value.lines
    assert line.startswith("'auth_role' must be an IAM role, not a user: Teleport should run as a role")
    assert 'let the user assume the created role (auth_trust "principal", auth_principal = the user\'s ARN)' in line


# --- 5. decrypt-only readers -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def readers_stack() -> tuple[cdk.Stack, SessionRecordingsStorage, dict[str, iam.Grant], dict[str, Any]]:
    stack = cdk.Stack(make_app(), "Readers", env=TEST_ENV)
    auditor = iam.Role(stack, "Auditor", assumed_by=iam.AccountRootPrincipal())
    storage = SessionRecordingsStorage(
        stack,
        "Storage",
        settings=StorageSettings(
            readers=[f"arn:aws:iam::{ACCOUNT}:role/ReadOnlyCluster", f"arn:aws:iam::{OTHER_ACCOUNT}:role/Auditors"]
        ),
    )
    grants = {"auditor": storage.grant_read_recordings(auditor)}
    grants["again"] = storage.grant_read_recordings(auditor)
    return stack, storage, grants, template_of(stack)


def test_readers_get_decrypt_and_describe_only_scoped_to_s3_for_this_bucket(readers_stack: Any) -> None:
    stack, storage, _, template = readers_stack
    statements = statements_by_sid(key_policy(template))
    crypto, describe = statements[policies.SID_READERS], statements[policies.SID_READERS_DESCRIBE]
    assert crypto["Action"] == "kms:Decrypt"
    assert describe["Action"] == "kms:DescribeKey"
    assert crypto["Condition"]["StringEquals"] == {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
    assert crypto["Condition"]["StringLike"]["kms:EncryptionContext:aws:s3:arn"] == [
        stack.resolve(storage.bucket_arn),
        stack.resolve(f"{storage.bucket_arn}/*"),
    ]
    principals = json.dumps(crypto["Principal"]["AWS"])
    assert f"arn:aws:iam::{ACCOUNT}:role/ReadOnlyCluster" in principals
    assert f"arn:aws:iam::{OTHER_ACCOUNT}:role/Auditors" in principals
    assert crypto["Principal"] == describe["Principal"]
    # The auditor role is created in this stack: matched by ARN (KMS does not look it up), once.
    created = statements_by_sid(key_policy(template))[policies.SID_READERS + policies.SID_CREATED_SUFFIX]
    assert created["Principal"] == {"AWS": "*"}
    assert created["Action"] == "kms:Decrypt"
    by_arn = created["Condition"]["ArnEquals"]["aws:PrincipalArn"]
    assert len(by_arn) == 1, "granting the created role twice matches it once"
    assert by_arn[0]["Fn::GetAtt"][0].startswith("Auditor")
    assert created["Condition"]["StringEquals"] == crypto["Condition"]["StringEquals"]


def test_same_account_readers_get_a_read_only_managed_policy(readers_stack: Any) -> None:
    _, _, _, template = readers_stack
    readers = [
        p
        for p in resources_of_type(template, "AWS::IAM::ManagedPolicy").values()
        if "reader" in p["Properties"]["Description"]
    ]
    assert len(readers) == 2, "the imported same-account role and the created auditor role"
    for policy in readers:
        actions = {a for s in policy["Properties"]["PolicyDocument"]["Statement"] for a in s["Action"]}
        assert actions == set(policies.READER_S3_BUCKET_ACTIONS) | set(policies.READER_S3_OBJECT_ACTIONS)
        assert not [a for a in actions if "Put" in a or "Delete" in a]
    assert not resources_of_type(template, "AWS::IAM::Policy"), "no inline policies"


def test_other_account_readers_get_a_bucket_policy_statement(readers_stack: Any) -> None:
    _, _, _, template = readers_stack
    (bucket_policy,) = [
        p for p in resources_of_type(template, "AWS::S3::BucketPolicy").values() if "Auditors" in json.dumps(p)
    ]
    allows = [s for s in bucket_policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert {json.dumps(s["Principal"]) for s in allows} == {
        json.dumps({"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:role/Auditors"})
    }
    assert {a for s in allows for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])} == set(
        policies.READER_S3_BUCKET_ACTIONS
    ) | set(policies.READER_S3_OBJECT_ACTIONS)


def test_same_account_users_as_readers_are_named_by_the_bucket_policy_not_given_a_policy() -> None:
    """A reader that is an IAM user of this account, by ARN or as a construct: no policy is attached to the
    user (HIPAA/NIST/PCI IAMUserNoPolicies refused synthesis before); the bucket policy allows it, which
    suffices within one account (S3 allows a same-account request that either policy allows)."""
    stack = cdk.Stack(make_app(), "UserReaders", env=TEST_ENV)
    storage = SessionRecordingsStorage(
        stack, "Storage", settings=StorageSettings(readers=[f"arn:aws:iam::{ACCOUNT}:user/auditor"])
    )
    analyst = iam.User(stack, "Analyst")
    grant = storage.grant_read_recordings(analyst)
    assert grant.success
    template = template_of(stack)
    assert not [
        p
        for p in resources_of_type(template, "AWS::IAM::ManagedPolicy").values()
        if "reader" in p["Properties"]["Description"]
    ]
    assert not resources_of_type(template, "AWS::IAM::Policy"), "nothing attached to the users"
    (bucket_policy,) = [
        p for p in resources_of_type(template, "AWS::S3::BucketPolicy").values() if "user/auditor" in json.dumps(p)
    ]
    allows = [s for s in bucket_policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    principals = json.dumps([s["Principal"] for s in allows])
    assert f"arn:aws:iam::{ACCOUNT}:user/auditor" in principals
    assert "Analyst" in principals
    actions = {a for s in allows for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert actions == set(policies.READER_S3_BUCKET_ACTIONS) | set(policies.READER_S3_OBJECT_ACTIONS)


def test_grant_read_recordings_returns_a_grant(readers_stack: Any) -> None:
    _, _, grants, _ = readers_stack
    grant = grants["auditor"]
    assert isinstance(grant, iam.Grant)
    assert grant.success
    assert grants["again"] is grant


def test_a_reader_that_is_denied_is_refused() -> None:
    stack = cdk.Stack(make_app(), "Denied", env=TEST_ENV)
    arn = f"arn:aws:iam::{ACCOUNT}:role/Auditor"
    storage = SessionRecordingsStorage(stack, "Storage", settings=StorageSettings(denied_principals=[arn]))
    with pytest.raises(
        InvalidSettingsError, match="'denied_principals' must be a principal not also given as 'readers'"
    ):
        storage.grant_read_recordings(iam.Role.from_role_arn(stack, "Auditor", arn))


GRANTS = (
    ("key", "grant_decrypt"),
    ("key", "grant_encrypt_decrypt"),
    ("bucket", "grant_read"),
    ("bucket", "grant_read_write"),
)


def test_cdks_own_grants_warn_that_they_give_no_decryption() -> None:
    stack = cdk.Stack(make_app(), "Grants", env=TEST_ENV)
    storage = SessionRecordingsStorage(stack, "Storage")
    for target, method in GRANTS:
        role = iam.Role(stack, f"{target}{method}", assumed_by=iam.AccountRootPrincipal())
        getattr(getattr(storage, target), method)(role)
    found = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("grant_read_recordings"))
    warned = " ".join(str(w.entry.data) for w in found)
    for target, method in GRANTS:
        assert f"{target}.{method}()" in warned, f"storage.{target}.{method}() must warn"


def test_readers_from_context_match_the_python_grant(synth: Any) -> None:
    from constructs_lib.core.settings import AppSettings

    arn = f"arn:aws:iam::{ACCOUNT}:role/ReadOnlyCluster"
    template = synth(AppSettings.from_context({"readerArns": arn}))
    statements = statements_by_sid(key_policy(template))
    assert statements[policies.SID_READERS]["Principal"]["AWS"] == arn


# --- 7. importing the constructs does not load cdk-nag ---------------------------------------------


def test_importing_the_constructs_does_not_load_cdk_nag() -> None:
    code = (
        "import sys, constructs_lib, constructs_lib.storage, constructs_lib.compliance\n"
        "assert 'cdk_nag' not in sys.modules, 'cdk_nag loaded by import'\n"
        "import aws_cdk as cdk\n"
        "constructs_lib.enable_compliance_packs(cdk.App())\n"
        "assert 'cdk_nag' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_the_core_imports_neither_cdk_nor_boto3() -> None:
    code = (
        "import sys, pkgutil, importlib, constructs_lib.core as core\n"
        "for m in pkgutil.walk_packages(core.__path__, 'constructs_lib.core.'): importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('aws_cdk', 'jsii', 'boto3', 'botocore', 'constructs'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


# --- wrong types at the construct boundary -----------------------------------------------------------


def test_settings_of_the_wrong_type_are_one_settings_error() -> None:
    stack = cdk.Stack(make_app(), "Wrong", env=TEST_ENV)
    with pytest.raises(InvalidSettingsError, match=r"'settings' must be a StorageSettings .*got \{\"bucket_name\""):
        SessionRecordingsStorage(stack, "Storage", settings={"bucket_name": "x"})  # type: ignore[arg-type]


def test_granting_to_something_that_is_not_a_grantee_is_a_settings_error() -> None:
    stack = cdk.Stack(make_app(), "Wrong", env=TEST_ENV)
    storage = SessionRecordingsStorage(stack, "Storage")
    with pytest.raises(InvalidSettingsError, match=r"'grantee' must be an iam.IGrantable"):
        storage.grant_read_recordings(f"arn:aws:iam::{ACCOUNT}:role/Auditor")  # type: ignore[arg-type]
