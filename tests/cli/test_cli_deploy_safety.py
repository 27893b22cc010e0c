"""Deploy safety in `verify`: can the role the next deploy uses still `kms:PutKeyPolicy` on the live key?

KMS refuses a key policy that would not let its caller change it again, so a deploy role the live
key policy does not let update it (a changed ``deployRoleArn``, or a re-bootstrap that re-created
the execution role) can no longer deploy the stack. End to end against moto: the stack's
``RoleARN`` is the role CloudFormation last deployed with.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from constructs_lib.core import policies
from constructs_lib.core.prover import Design, Evidence
from recordings_kms.results import Status
from recordings_kms.verify.checks import check_deploy_role, deleted_principals
from tests.cli.conftest import VERIFY_FIXTURES
from tests.cli.deployment import ACCOUNT, ADMIN_ROLE, DEPLOY_ROLE, Checks, Deployment, checks_of, infos, run

pytestmark = pytest.mark.usefixtures(*VERIFY_FIXTURES)
Deploy = Callable[..., Deployment]
NEW_ROLE = f"arn:aws:iam::{ACCOUNT}:role/new-deployer"
#: How the key policy shows the execution role once the bootstrap stack that made it was deleted.
DELETED_ROLE_ID = "AROAZZZZZZZZZZZZZZZZZ"


def _verify_stack(deployment: Deployment, stack: str, capsys: pytest.CaptureFixture[str], *extra: str) -> Any:
    argv = ["verify", "--stack-name", stack, "--endpoint-url", deployment.endpoint, "--json", *extra]
    code, out, err = run(argv, capsys)
    assert "Traceback" not in err
    return code, checks_of(out), out


def _without_admins(deployment: Deployment) -> None:
    document = deployment.key_policy()
    document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != policies.SID_KEY_ADMIN]
    deployment.put_key_policy(document)


def _deploy_statement_names(deployment: Deployment, principal: str) -> None:
    document = deployment.key_policy()
    for statement in document["Statement"]:
        if statement.get("Sid") == policies.SID_DEPLOY_ROLE:
            statement["Principal"] = {"AWS": principal}
    deployment.put_key_policy(document)


def test_a_changed_deploy_role_fails_and_names_the_break_glass_administrator(
    deploy: Deploy, capsys: pytest.CaptureFixture[str]
) -> None:
    """The stack last deployed as a role the key policy does not name: the next deploy would fail."""
    deployment = deploy()
    code, checks, out = _verify_stack(deployment, deployment.create_stack(role_arn=NEW_ROLE), capsys)
    assert code == 1
    line = checks["deploy.put-key-policy"]
    assert line["status"] == "FAIL"
    assert line["reason"].startswith(
        f"{NEW_ROLE} (the stack's RoleARN, the role CloudFormation last deployed with) cannot call kms:PutKeyPolicy "
        "on the live key"
    )
    assert "the next deploy fails KMS's lockout check (MalformedPolicyDocumentException)" in line["reason"]
    assert f"as key administrator {ADMIN_ROLE} add {NEW_ROLE} to the key policy" in line["reason"]
    assert line["reason"].endswith("(README: Key administration and break-glass).")
    assert line["counterexample"]["principal"] == NEW_ROLE
    assert checks["access.P4"]["status"] == "PASS", "the design's own deploy role still can"
    assert f"deploy.break-glass: break-glass key administrators who can update the key policy: {ADMIN_ROLE}" in infos(
        out
    )


def test_deploy_role_option_asks_about_a_planned_role(deploy: Deploy, capsys: pytest.CaptureFixture[str]) -> None:
    """Before switching deployRoleArn: the new role cannot yet, a key administrator can."""
    deployment = deploy()
    stack = deployment.create_stack()
    code, checks, _ = _verify_stack(deployment, stack, capsys, "--deploy-role", NEW_ROLE)
    assert code == 1
    assert checks["deploy.put-key-policy"]["reason"].startswith(f"{NEW_ROLE} (--deploy-role) cannot call")
    code, checks, _ = _verify_stack(deployment, stack, capsys, "--deploy-role", ADMIN_ROLE)
    assert code == 0
    assert checks["deploy.put-key-policy"]["status"] == "PASS"


def test_without_a_break_glass_administrator_the_old_role_is_the_way_out(
    deploy: Deploy, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment = deploy()
    _without_admins(deployment)
    stack = deployment.create_stack(role_arn=NEW_ROLE, AccessDesign=json.dumps(deployment.access_design(admins=[])))
    code, checks, out = _verify_stack(deployment, stack, capsys)
    assert code == 1
    reason = checks["deploy.put-key-policy"]["reason"]
    assert f"Deploy once more as {DEPLOY_ROLE}, which still can, with {NEW_ROLE} added to keyAdminArns" in reason
    assert any(line.startswith("deploy.break-glass: no key administrator (keyAdminArns)") for line in infos(out))


def test_a_re_bootstrap_leaves_a_key_policy_nobody_can_update(
    deploy: Deploy, capsys: pytest.CaptureFixture[str]
) -> None:
    """The bootstrap stack was deleted and deployed again: the execution role has the same name, but the key
    policy names the deleted one by its unique id; with no key administrator nobody can update it."""
    deployment = deploy()
    _without_admins(deployment)
    _deploy_statement_names(deployment, DELETED_ROLE_ID)
    stack = deployment.create_stack(AccessDesign=json.dumps(deployment.access_design(admins=[])))
    code, checks, _ = _verify_stack(deployment, stack, capsys)
    assert code == 1
    line = checks["deploy.put-key-policy"]
    assert line["status"] == "FAIL"
    assert line["reason"].startswith(f"{DEPLOY_ROLE} (the stack's RoleARN, the role CloudFormation last deployed with)")
    assert (
        f"The key policy names {DELETED_ROLE_ID}: KMS shows a principal deleted after the policy was set"
        in (line["reason"])
    )
    assert "Nobody the design names can update the key policy any more" in line["reason"]
    p4 = checks["access.P4"]
    assert p4["status"] == "CANNOT-PROVE"
    assert any(DELETED_ROLE_ID in reason for reason in p4["not_modelled"])


def test_a_stack_deployed_with_the_callers_credentials_is_not_checked_but_said_so(
    deploy: Deploy, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment = deploy()
    code, checks, _ = _verify_stack(deployment, deployment.create_stack(role_arn=None), capsys)
    assert code == 0
    assert checks["deploy.put-key-policy"]["status"] == "INFO"
    assert checks["deploy.put-key-policy"]["reason"].startswith("not checked: the stack has no RoleARN")


# --- the pure check --------------------------------------------------------------------------------

KEY_ARN = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
AUTH = f"arn:aws:iam::{ACCOUNT}:role/teleport-auth"


def _design(**changes: Any) -> Design:
    base: dict[str, Any] = {
        "account": ACCOUNT,
        "region": "eu-west-1",
        "key_arn": KEY_ARN,
        "key_id": KEY_ARN.rsplit("/", 1)[1],
        "bucket_name": "acme-recordings",
        "auth_role_arn": AUTH,
        "deploy_role_arn": DEPLOY_ROLE,
        "admin_arns": (ADMIN_ROLE,),
    }
    return Design(**(base | changes))


def _by_id(design: Design, key_policy: dict[str, Any], role: str) -> Checks:
    results = check_deploy_role(design, Evidence(key_policy=key_policy), role, source="--deploy-role")
    return {r.id: {"status": r.status, "reason": r.reason} for r in results}


def test_an_administrator_the_key_policy_does_not_let_update_it_is_no_break_glass() -> None:
    key_policy = policies.key_policy(auth_principal_arn=AUTH, deploy_role_arn=DEPLOY_ROLE)
    found = _by_id(_design(), key_policy, DEPLOY_ROLE)
    assert found["deploy.put-key-policy"]["status"] is Status.PASS
    assert found["deploy.break-glass"]["status"] is Status.WARN
    assert found["deploy.break-glass"]["reason"].startswith(f"key administrator {ADMIN_ROLE} (")
    assert "it is no break-glass" in found["deploy.break-glass"]["reason"]


def test_deleted_principals_are_read_from_principal_and_not_principal() -> None:
    key_policy = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ["AROAAAAAAAAAAAAAAAAAA", ADMIN_ROLE]}, "Action": "kms:*"},
            {"Effect": "Deny", "NotPrincipal": {"AWS": "AIDABBBBBBBBBBBBBBBBB"}, "Action": "kms:*"},
            {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt"},
        ]
    }
    assert deleted_principals(key_policy) == ["AROAAAAAAAAAAAAAAAAAA", "AIDABBBBBBBBBBBBBBBBB"]
