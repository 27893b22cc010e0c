"""Shared helpers: synthesize stacks the way `cdk synth` does (with cdk.json's context), once per module."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# Put the repository's Node 22 first, as the Makefile does, when tests run outside make.
_NODE_BIN = REPO / "node_modules" / ".bin"
if _NODE_BIN.is_dir() and str(_NODE_BIN) not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = f"{_NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"

import aws_cdk as cdk  # noqa: E402  (jsii starts node on import: PATH must be set first)
import pytest  # noqa: E402

from constructs_lib.core.settings import AppSettings  # noqa: E402
from stacks.recordings_stack import SessionRecordingsStack  # noqa: E402

ACCOUNT = "111122223333"
REGION = "eu-west-1"
TEST_ENV = cdk.Environment(account=ACCOUNT, region=REGION)

ADMIN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/KeyAdmins"
ADMIN_USER = f"arn:aws:iam::{ACCOUNT}:user/security/alice"
DENIED_ROLE = f"arn:aws:iam::{ACCOUNT}:role/Administrator"
DENIED_USER = f"arn:aws:iam::{ACCOUNT}:user/ops-admin"

#: A configuration that sets every setting away from its default (a created role with irsa trust).
FULL_CONTEXT: dict[str, Any] = {
    "bucketName": "acme-teleport-recordings",
    "recordingsPrefix": "teleport/sessions",
    "keyAlias": "alias/acme/teleport-recordings",
    "keyAdminArns": f"{ADMIN_ROLE},{ADMIN_USER}",
    "deniedPrincipalArns": json.dumps([DENIED_ROLE, DENIED_USER]),
    "keyAdminMode": "separated",
    "scopeKeyToS3": "true",
    "requireEncryptionHeaders": "true",
    "keyRotationDays": "180",
    "keyPendingWindowDays": "14",
    "authTrust": "irsa",
    "oidcProviderArn": f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.{REGION}.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE",
    "serviceAccount": "teleport:teleport-auth",
    "accessLogsBucketName": "acme-central-access-logs",
    "deployRoleArn": f"arn:aws:iam::{ACCOUNT}:role/cfn-deployer",
}


def cdk_json_context() -> dict[str, Any]:
    """The feature flags of cdk.json: `cdk synth` passes them to the app, a bare App() would not."""
    context: dict[str, Any] = json.loads((REPO / "cdk.json").read_text())["context"]
    return context


def make_app(extra_context: Mapping[str, Any] | None = None) -> cdk.App:
    return cdk.App(context={**cdk_json_context(), **(extra_context or {})})


def synth_stack(
    config: AppSettings | None = None, *, env: cdk.Environment | None = TEST_ENV, stack_id: str = "Recordings"
) -> SessionRecordingsStack:
    app = make_app()
    return SessionRecordingsStack(app, stack_id, settings=config or AppSettings(), env=env)


def template_of(stack: cdk.Stack) -> dict[str, Any]:
    template: dict[str, Any] = cdk.assertions.Template.from_stack(stack).to_json()
    return template


def resources_of_type(template: Mapping[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def only_resource(template: Mapping[str, Any], resource_type: str) -> dict[str, Any]:
    found = resources_of_type(template, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    return next(iter(found.values()))


def recordings_keys(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The recordings CMKs: every KMS key except the tamper alarms' topic key."""
    return {k: v for k, v in resources_of_type(template, "AWS::KMS::Key").items() if "Alarms" not in k}


def recordings_key(template: Mapping[str, Any]) -> dict[str, Any]:
    found = recordings_keys(template)
    assert len(found) == 1, f"expected one recordings key, found {sorted(found)}"
    return next(iter(found.values()))


def statements_by_sid(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in document["Statement"] if "Sid" in s}


@pytest.fixture(scope="session")
def full_config() -> AppSettings:
    return AppSettings.from_context(FULL_CONTEXT)


#: Templates ``synth`` made in this process, as JSON text: (settings, account, region) -> template.
_SYNTHESIZED: dict[tuple[Any, ...], str] = {}


@pytest.fixture(scope="session")
def synth() -> Callable[..., dict[str, Any]]:
    """Synthesize a config into a template, once per process for every module (jsii synthesis is slow).

    The default and the fully configured stacks alone were synthesized by six modules each. Every
    call gets a template of its own (parsed again from the cached JSON), so no test sees what
    another one did to its copy.
    """

    def run(config: AppSettings | None = None, *, env: cdk.Environment | None = TEST_ENV) -> dict[str, Any]:
        key = (config or AppSettings(), None if env is None else (env.account, env.region))
        if key not in _SYNTHESIZED:
            _SYNTHESIZED[key] = json.dumps(template_of(synth_stack(config, env=env)))
        template: dict[str, Any] = json.loads(_SYNTHESIZED[key])
        return template

    return run
