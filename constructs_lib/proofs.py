"""Access proofs at synthesis: P1-P6 on every synthesized storage, as a CDK validation plugin.

``enable_access_proofs(app)`` registers a plugin that, after synthesis, reads each stack's template
and the design every ``SessionRecordingsStorage`` recorded in the stack's metadata, and asks the
prover (``constructs_lib.core.prover``) whether each property holds for every request. A FAIL or a
CANNOT-PROVE fails synthesis with the counterexample or the reason, like a cdk-nag finding, and can
be acknowledged the same way (``cdk.Validations.of(storage).acknowledge(cdk.Acknowledgment(
id="TeleportRecordingsAccessProofs::P5", reason=...))``). The plugin also checks that the role the
key policy names as the deploy role is the role CloudFormation will deploy with (the manifest's
execution role): KMS refuses a key policy that would lock its caller out.

Every run writes ``teleport-recordings-access-proofs.json`` beside the templates: each storage's
verdicts, summaries, counterexamples and design findings, for an auditor (CDK's own validation report
leaves out plugins that found nothing).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii

from constructs_lib import compliance
from constructs_lib.core.prover import PropertyResult
from constructs_lib.core.template import (
    DESIGN_METADATA,
    GUARDRAILS_METADATA,
    UnresolvableIntrinsicError,
    proof_inputs,
    resolver_for,
)

PLUGIN_NAME = compliance.ACCESS_PROOFS
RECORD_FILE = "teleport-recordings-access-proofs.json"
PLUGIN_VERSION = "1"
DEPLOY_ROLE_RULE = "P4"


def enable_access_proofs(app: cdk.App) -> None:
    """Prove P1-P6 for every storage in ``app`` at synthesis; any FAIL or CANNOT-PROVE fails synthesis."""
    cdk.Validations.of(app).add_plugins(AccessProofs())


@jsii.implements(cdk.IPolicyValidationPlugin)
class AccessProofs:
    """The prover as a CDK policy validation plugin (cdk-nag 3 plugs in the same way)."""

    @property
    def name(self) -> str:
        return PLUGIN_NAME

    @property
    def version(self) -> str:
        return PLUGIN_VERSION

    @property
    def rule_ids(self) -> list[str]:
        return ["P1", "P2", "P3", "P4", "P5", "P6", "G1", "G2", "G3", "G4"]

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        started = time.perf_counter()
        violations: list[cdk.PolicyViolation] = []
        records: list[dict[str, Any]] = []
        proven: list[tuple[Any, Any]] = []
        for template_path in context.template_paths:
            found, proved, inputs = _prove_template(Path(template_path))
            violations += found
            records += proved
            proven += inputs
        for template_path in context.template_paths:
            found, proved = _prove_guardrails(Path(template_path), proven)
            violations += found
            records += proved
        if context.template_paths:
            record = {
                "plugin": PLUGIN_NAME,
                "seconds": round(time.perf_counter() - started, 3),
                "storages": records,
            }
            (Path(context.template_paths[0]).parent / RECORD_FILE).write_text(json.dumps(record, indent=2) + "\n")
        return cdk.PolicyValidationPluginReport(
            success=not violations,
            violations=violations,
            plugin_version=PLUGIN_VERSION,
            metadata={"storages": str(len(records)), "properties": ",".join(self.rule_ids)},
        )


def _prove_template(
    template_path: Path,
) -> tuple[list[cdk.PolicyViolation], list[dict[str, Any]], list[tuple[Any, Any]]]:
    """The violations of every storage the stack recorded, a record of each storage's proofs, and the
    prover's inputs of each (for the guardrails' proofs)."""
    from constructs_lib.core.prover import Verdict, prove

    template = json.loads(template_path.read_text())
    artifact = _artifact_of(template_path)
    violations = []
    records: list[dict[str, Any]] = []
    inputs: list[tuple[Any, Any]] = []
    for design in _recorded_designs(template_path, artifact):
        key = str(design["keyLogicalId"])
        resource = cdk.PolicyViolatingResource(
            resource_logical_id=key, template_path=str(template_path), locations=["KeyPolicy"]
        )
        record: dict[str, Any] = {"template": template_path.name, "key": key}
        records.append(record)
        try:
            made, evidence = proof_inputs(template, design)
        except (UnresolvableIntrinsicError, KeyError, ValueError) as error:
            record["error"] = f"CANNOT-PROVE: the storage's policies could not be read: {error}"
            violations.append(_violation("P1", record["error"], resource))
            continue
        inputs.append((made, evidence))
        results = prove(made, evidence)
        record["results"] = [_as_json(result) for result in results]
        for result in results:
            if result.verdict is not Verdict.PASS:
                violations.append(_violation(result.id, _description(result), resource))
        mismatch = _deploy_role_mismatch(template, design, artifact)
        if mismatch:
            record["deployRole"] = mismatch
            violations.append(_violation(DEPLOY_ROLE_RULE, mismatch, resource))
    return violations, records, inputs


def _prove_guardrails(
    template_path: Path, storages: list[tuple[Any, Any]]
) -> tuple[list[cdk.PolicyViolation], list[dict[str, Any]]]:
    """G1-G4 for a guardrails stack, on the storage of this app it protects (same account and bucket).

    The SCPs and RCPs are taken as attached above the recordings account (``guardrailTargetIds``
    names it, its OU or the root) and never to the management account the stack deploys to.
    """
    from dataclasses import replace

    from constructs_lib.core.prover import GUARDRAIL_PROPERTIES, Verdict, prove

    artifact = _artifact_of(template_path)
    guarded = [
        entry["data"]
        for entries in _metadata_of(template_path, artifact).values()
        for entry in entries
        if entry.get("type") == GUARDRAILS_METADATA and isinstance(entry.get("data"), dict)
    ]
    if not guarded:
        return [], []
    template = json.loads(template_path.read_text())
    policies = {
        logical_id: resource
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") == "AWS::Organizations::Policy"
    }
    by_kind: dict[str, list[Any]] = {"SERVICE_CONTROL_POLICY": [], "RESOURCE_CONTROL_POLICY": []}
    for resource in policies.values():
        by_kind.setdefault(resource["Properties"]["Type"], []).append(resource["Properties"]["Content"])
    violations: list[cdk.PolicyViolation] = []
    records: list[dict[str, Any]] = []
    where = cdk.PolicyViolatingResource(
        resource_logical_id=next(iter(policies), "Guardrails"), template_path=str(template_path), locations=["Content"]
    )
    for facts in guarded:
        record: dict[str, Any] = {"template": template_path.name, "guardrails": facts["bucketName"]}
        records.append(record)
        matching = [
            (made, evidence)
            for made, evidence in storages
            if made.account == facts["account"] and made.bucket_name == facts["bucketName"]
        ]
        if not matching:
            record["error"] = (
                f"CANNOT-PROVE: no storage of this app has account {facts['account']} and bucket "
                f"{facts['bucketName']}: the guardrails name something this app does not create"
            )
            violations.append(_violation("G1", record["error"], where))
            continue
        made, evidence = matching[0]
        design = replace(
            made,
            auth_role_service=facts["authRoleService"],
            break_glass_arns=tuple(a for a in facts["exemptPrincipalArns"] if a != made.deploy_role_arn),
            key_aliases=(facts["keyAlias"],),
            organization_id=facts["organizationId"],
            organization_accounts=(made.account, facts["managementAccount"]),
        )
        guarded_evidence = replace(
            evidence,
            scps=by_kind["SERVICE_CONTROL_POLICY"],
            rcps=by_kind["RESOURCE_CONTROL_POLICY"],
            scp_accounts=(made.account,),
            rcp_accounts=(made.account,),
            management_account=facts["managementAccount"],
        )
        results = prove(design, guarded_evidence, GUARDRAIL_PROPERTIES)
        record["results"] = [_as_json(result) for result in results]
        for result in results:
            if result.verdict is not Verdict.PASS:
                violations.append(_violation(result.id, _description(result), where))
    return violations, records


def _description(result: PropertyResult) -> str:
    """One line: the verdict, the property, the summary, the counterexample and what was not modelled."""
    detail = result.summary
    example = result.counterexample.describe() if result.counterexample is not None else ""
    if example and example not in detail:
        detail += f"; counterexample: {example}"
    if result.reasons:
        detail += "; not modelled: " + "; ".join(result.reasons)
    return f"{result.verdict.value} {result.title}: {detail}"


def _as_json(result: PropertyResult) -> dict[str, Any]:
    return {
        "id": result.id,
        "title": result.title,
        "verdict": result.verdict.value,
        "summary": result.summary,
        "counterexample": result.counterexample.describe() if result.counterexample else None,
        "findings": list(result.findings),
        "reasons": list(result.reasons),
    }


def _violation(rule: str, description: str, resource: cdk.PolicyViolatingResource) -> cdk.PolicyViolation:
    return cdk.PolicyViolation(
        rule_name=rule,
        description=description,
        violating_resources=[resource],
        fix="see docs/PROVER.md: change the settings or the policy, or acknowledge with a reason if the design "
        "accepts it",
    )


def _artifact_of(template_path: Path) -> Mapping[str, Any]:
    """The manifest entry of the stack whose template this is."""
    manifest_path = template_path.parent / "manifest.json"
    if not manifest_path.exists():
        return {}
    manifest = json.loads(manifest_path.read_text())
    for artifact in manifest.get("artifacts", {}).values():
        if artifact.get("properties", {}).get("templateFile") == template_path.name:
            found: Mapping[str, Any] = artifact
            return found
    return {}


def _metadata_of(template_path: Path, artifact: Mapping[str, Any]) -> dict[str, Any]:
    metadata: dict[str, Any] = dict(artifact.get("metadata", {}))
    extra = artifact.get("additionalMetadataFile")
    if isinstance(extra, str) and (template_path.parent / extra).exists():
        metadata.update(json.loads((template_path.parent / extra).read_text()))
    return metadata


def _recorded_designs(template_path: Path, artifact: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    metadata = _metadata_of(template_path, artifact)
    return [
        entry["data"]
        for entries in metadata.values()
        for entry in entries
        if entry.get("type") == DESIGN_METADATA and isinstance(entry.get("data"), dict)
    ]


def _deploy_role_mismatch(template: Mapping[str, Any], design: Mapping[str, Any], artifact: Mapping[str, Any]) -> str:
    """Why the key policy's deploy role is not the role CloudFormation deploys with ('' when it is)."""
    execution_role = artifact.get("properties", {}).get("cloudFormationExecutionRoleArn")
    if not isinstance(execution_role, str) or design.get("deployRole") is None:
        return ""  # deployed with the caller's credentials (CLI or a pipeline): nothing to compare
    resolver = resolver_for(template, design)
    try:
        named = str(resolver.resolve(design["deployRole"]))
        deploying = resolver.sub_placeholders(execution_role)
    except UnresolvableIntrinsicError as error:
        return f"FAIL deploy role: cannot compare the key policy's deploy role with the execution role ({error})"
    if named == deploying:
        return ""
    return (
        f"FAIL deploy role: the key policy lets {named} administer the key, but CloudFormation deploys the stack "
        f"as {deploying}: KMS would refuse the key policy (lockout safety check). Pass the execution role as "
        "deploy_role (deployRoleArn)"
    )
