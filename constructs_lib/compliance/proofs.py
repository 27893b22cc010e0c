"""Access proofs at synthesis: P1-P6 on every synthesized storage, as a CDK validation plugin.

``enable_access_proofs(app)`` registers a plugin that, after synthesis, reads each stack's template
and the design every ``SessionRecordingsStorage`` recorded in the stack's metadata, and asks the
prover (``constructs_lib.core.prover``) whether each property holds for every request. A FAIL or a
CANNOT-PROVE fails synthesis with the counterexample or the reason, like a cdk-nag finding, and can
be acknowledged the same way (``cdk.Validations.of(storage).acknowledge(cdk.Acknowledgment(
id="TeleportRecordingsAccessProofs::P5", reason=...))``). The plugin also checks that the role the
key policy names as the deploy role is the role CloudFormation will deploy with (the manifest's
execution role): KMS refuses a key policy that would lock its caller out.

The plugin fails closed and never raises: an exception (in the prover, in reading a template, a
recorded design that lacks a fact, a storage of the construct tree whose design is missing from the
assembly) becomes an ``ERROR`` violation of severity ``fatal``, which no acknowledgment suppresses,
naming the error, the storage and the template. CDK itself would turn a raising plugin into a
report that the CDK CLI does not fail on (``constructs_lib.core.gates``); ``compliance.synth`` is
the gate that reads the report.

Every run writes ``teleport-recordings-access-proofs.json`` at the root of the cloud assembly: each
storage's verdicts, summaries, counterexamples and design findings, for an auditor (CDK's own
validation report leaves out plugins that found nothing) and for the gate, which fails when it is
missing.
"""

from __future__ import annotations

import json
import os
import time
import traceback
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii

from constructs_lib.compliance import cluster_proofs
from constructs_lib.core import gates
from constructs_lib.core.prover import PropertyResult
from constructs_lib.core.template import (
    DESIGN_METADATA,
    GUARDRAILS_METADATA,
    UnresolvableIntrinsicError,
    proof_inputs,
    resolver_for,
)

PLUGIN_NAME = gates.ACCESS_PROOFS
RECORD_FILE = gates.PROOFS_RECORD
PLUGIN_VERSION = "1"
DEPLOY_ROLE_RULE = "P4"
PROPERTY_IDS = ("P1", "P2", "P3", "P4", "P5", "P6", "P7", "R1", "R2", "G1", "G2", "G3", "G4")
#: The rule of a proof that could not run (an exception, a missing fact): fatal, never acknowledged.
ERROR_RULE = "ERROR"
#: What ``template.proof_inputs`` needs from a storage's recorded design. The other facts are optional:
#: jsii drops a None value from the metadata, so an absent optional fact means None.
DESIGN_FACTS = (
    "keyLogicalId",
    "bucketLogicalId",
    "keyArn",
    "keyId",
    "bucketName",
    "authPrincipalArn",
    "prefix",
    "adminMode",
    "scopeKeyToS3",
)
#: What the guardrails stack must record for G1-G4. ``authRoleService`` is optional: absent (None)
#: means the auth role may be passed to no service (``irsa`` and ``principal`` trust).
GUARDRAIL_FACTS = ("account", "bucketName", "keyAlias", "exemptPrincipalArns", "organizationId", "managementAccount")

_PROVEN_APPS: weakref.WeakSet[cdk.App] = weakref.WeakSet()


def enable_access_proofs(app: cdk.App) -> None:
    """Prove P1-P6 for every storage in ``app`` at synthesis; any FAIL or CANNOT-PROVE fails synthesis."""
    cdk.Validations.of(app).add_plugins(AccessProofs())
    _PROVEN_APPS.add(app)


def access_proofs_enabled(app: cdk.App) -> bool:
    """Whether ``enable_access_proofs`` was called on ``app``: the gate then requires their record."""
    return app in _PROVEN_APPS


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
        return [*PROPERTY_IDS, ERROR_RULE]

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        started = time.perf_counter()
        run = _Run()
        templates = [Path(path) for path in context.template_paths]
        try:
            for template_path in templates:
                _prove_template(template_path, run)
            for template_path in templates:
                _prove_guardrails(template_path, run)
            _check_every_design_was_recorded(context.app_construct, templates, run)
        except Exception as error:  # the gate fails closed: a crash is a violation, never a pass
            run.fatal({"template": templates[0].name if templates else "?"}, "the access proofs", error, None)
        if templates:
            record = {
                "plugin": PLUGIN_NAME,
                "seconds": round(time.perf_counter() - started, 3),
                "storages": run.records,
            }
            try:
                (_assembly_root(context.app_construct, templates) / RECORD_FILE).write_text(
                    json.dumps(record, indent=2) + "\n"
                )
            except Exception as error:  # without the record the gate fails too; say why
                run.fatal({}, f"writing {RECORD_FILE}", error, None)
        return cdk.PolicyValidationPluginReport(
            success=not run.violations,
            violations=run.violations,
            plugin_version=PLUGIN_VERSION,
            metadata={"storages": str(len(run.records)), "properties": ",".join(PROPERTY_IDS)},
        )


@dataclass
class _Run:
    """What one validation collects: violations, the record of each proof, the storages proven (for G1-G4)."""

    violations: list[cdk.PolicyViolation] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    storages: list[tuple[Any, Any]] = field(default_factory=list)

    def attempt(
        self, record: dict[str, Any], what: str, resource: cdk.PolicyViolatingResource, proof: Callable[[], None]
    ) -> None:
        """Run one proof for ``record``; an exception is its ERROR, and the other proofs still run."""
        self.records.append(record)
        try:
            proof()
        except Exception as error:  # the gate fails closed: a crash is a violation, never a pass
            self.fatal(record, what, error, resource)

    def fatal(
        self,
        record: dict[str, Any],
        what: str,
        error: BaseException | str,
        resource: cdk.PolicyViolatingResource | None,
    ) -> None:
        """An ERROR violation (fatal: no acknowledgment suppresses it) and its line in the record."""
        text = f"{what}: {_error_text(error)}"
        record.update(error=f"ERROR: {text}", fatal=True)
        if not any(entry is record for entry in self.records):
            self.records.append(record)
        where = resource or cdk.PolicyViolatingResource(
            resource_logical_id=PLUGIN_NAME, template_path=str(record.get("template", "")), locations=[]
        )
        self.violations.append(_violation(ERROR_RULE, text, where, severity="fatal"))


def _error_text(error: BaseException | str) -> str:
    """The exception, its type and where it was raised (the innermost frame), on one line."""
    if isinstance(error, str):
        return error
    frames = traceback.extract_tb(error.__traceback__)
    at = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
    return " ".join(f"{type(error).__name__}: {error}{at}".split())


def _missing(facts: Mapping[str, Any], required: Sequence[str]) -> list[str]:
    return [name for name in required if facts.get(name) is None]


def _prove_template(template_path: Path, run: _Run) -> None:
    """The proofs of every storage the stack recorded: a record, and a violation for what is not PASS."""
    template = json.loads(template_path.read_text())
    artifact = _artifact_of(template_path)
    for design in _recorded_designs(template_path, artifact):
        key = str(design.get("keyLogicalId", "?"))
        resource = cdk.PolicyViolatingResource(
            resource_logical_id=key, template_path=str(template_path), locations=["KeyPolicy"]
        )
        record: dict[str, Any] = {"template": template_path.name, "stack": _stack_name(artifact), "key": key}
        run.attempt(
            record,
            f"the proofs of storage {key} in {template_path.name} raised",
            resource,
            partial(_prove_storage, template, design, artifact, resource, record, run, template_path=template_path),
        )


def _prove_storage(
    template: Mapping[str, Any],
    design: Mapping[str, Any],
    artifact: Mapping[str, Any],
    resource: cdk.PolicyViolatingResource,
    record: dict[str, Any],
    run: _Run,
    *,
    template_path: Path,
) -> None:
    from constructs_lib.core.prover import Budget, Verdict
    from constructs_lib.core.prover.replication import default_replication_properties, prove

    missing = _missing(design, DESIGN_FACTS)
    if missing:
        what = f"the design recorded for storage {record['key']} in {record['template']} lacks {', '.join(missing)}"
        run.fatal(record, what, "its properties were not proven", resource)
        return
    try:
        made, evidence = cluster_proofs.with_cluster_facts(*proof_inputs(template, design), design, template_path)
    except (UnresolvableIntrinsicError, ValueError) as error:
        record["error"] = f"CANNOT-PROVE: the storage's policies could not be read: {error}"
        run.violations.append(_violation("P1", record["error"], resource))
        return
    budget = Budget()  # each storage's proofs their own deterministic budget (docs/PROVER.md)
    wanted = (*cluster_proofs.properties_of(design), *default_replication_properties(made, evidence))
    if cluster_proofs.is_cluster_design(design):
        record["cluster"] = design["cluster"]
    results = cluster_proofs.prove_with_trust(prove, made, evidence, wanted, budget=budget)
    record["rlimitUnits"] = budget.used
    record["results"] = [_as_json(result) for result in results]
    if not _proved_all(results, wanted, record, resource, run):
        return
    for result in results:
        if result.verdict is not Verdict.PASS:
            run.violations.append(_violation(result.id, _description(result), resource))
    run.storages.append((made, evidence))
    mismatch = _deploy_role_mismatch(template, design, artifact)
    if mismatch:
        record["deployRole"] = mismatch
        run.violations.append(_violation(DEPLOY_ROLE_RULE, mismatch, resource))


def _proved_all(
    results: Sequence[PropertyResult],
    wanted: Sequence[str],
    record: dict[str, Any],
    resource: cdk.PolicyViolatingResource,
    run: _Run,
) -> bool:
    """Whether the prover answered every property asked (a missing answer is a failure, not a pass)."""
    unanswered = [p for p in wanted if p not in {result.id for result in results}]
    if unanswered:
        run.fatal(record, "the prover returned no verdict", f"for {', '.join(unanswered)}", resource)
    return not unanswered


def _prove_guardrails(template_path: Path, run: _Run) -> None:
    """G1-G4 for a guardrails stack, on the storage of this app it protects (same account and bucket).

    The SCPs and RCPs are taken as attached above the recordings account (``guardrailTargetIds``
    names it, its OU or the root) and never to the management account the stack deploys to.
    """
    artifact = _artifact_of(template_path)
    guarded = [
        entry["data"]
        for entries in _metadata_of(template_path, artifact).values()
        for entry in entries
        if entry.get("type") == GUARDRAILS_METADATA and isinstance(entry.get("data"), dict)
    ]
    if not guarded:
        return
    template = json.loads(template_path.read_text())
    policies = {
        logical_id: resource
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") == "AWS::Organizations::Policy"
    }
    where = cdk.PolicyViolatingResource(
        resource_logical_id=next(iter(policies), "Guardrails"), template_path=str(template_path), locations=["Content"]
    )
    for facts in guarded:
        for cluster in cluster_proofs.guarded_clusters(facts):  # [None] in one account
            record: dict[str, Any] = {
                "template": template_path.name,
                "stack": _stack_name(artifact),
                "guardrails": facts.get("bucketName", "?"),
                **({} if cluster is None else {"cluster": cluster.get("name", "?")}),
            }
            prove = partial(_prove_guarded, facts, policies, record, where, run)
            prove = prove if cluster is None else partial(prove, cluster=cluster)
            run.attempt(record, f"the guardrail proofs in {template_path.name} raised", where, prove)


def _prove_guarded(
    facts: Mapping[str, Any],
    policies: Mapping[str, Any],
    record: dict[str, Any],
    where: cdk.PolicyViolatingResource,
    run: _Run,
    *,
    cluster: Any = None,
) -> None:
    from dataclasses import replace

    from constructs_lib.core.prover import GUARDRAIL_PROPERTIES, Budget, Verdict, prove

    role, lacking = cluster_proofs.guarded_role(facts, cluster)
    missing = _missing(facts, GUARDRAIL_FACTS) + lacking
    service = role.get("authRoleService")
    exempt = facts.get("exemptPrincipalArns")
    if missing or not isinstance(service, (str, type(None))) or not isinstance(exempt, list):
        what = f"the guardrails recorded in {record['template']} lack {', '.join(missing) or 'well-typed facts'}"
        run.fatal(record, what, f"G1-G4 were not proven (recorded: {sorted(facts)})", where)
        return
    matching = [
        (made, evidence)
        for made, evidence in run.storages
        if made.account == facts["account"]
        and made.bucket_name == facts["bucketName"]
        and (cluster is None or made.auth_role_arn == role["authRoleArn"])
    ]
    if not matching:
        role_named = f" and auth role {role['authRoleArn']}" if cluster is not None else ""
        record["error"] = (
            f"CANNOT-PROVE: no storage of this app has account {facts['account']} and bucket "
            f"{facts['bucketName']}{role_named}: the guardrails name something this app does not create"
        )
        run.violations.append(_violation("G1", record["error"], where))
        return
    by_kind: dict[str, list[Any]] = {"SERVICE_CONTROL_POLICY": [], "RESOURCE_CONTROL_POLICY": []}
    for resource in policies.values():
        by_kind.setdefault(resource["Properties"]["Type"], []).append(resource["Properties"]["Content"])
    made, evidence = matching[0]
    scp_accounts, organization_accounts = cluster_proofs.guardrail_accounts(facts, made.account)
    design = replace(
        made,
        auth_role_service=service,
        break_glass_arns=tuple(a for a in exempt if a != made.deploy_role_arn),
        key_aliases=(facts["keyAlias"],),
        organization_id=facts["organizationId"],
        organization_accounts=organization_accounts,
        auth_role_exempt_arns=None if cluster is None else tuple(role["exemptPrincipalArns"]),
    )
    guarded_evidence = replace(
        evidence,
        scps=by_kind["SERVICE_CONTROL_POLICY"],
        rcps=by_kind["RESOURCE_CONTROL_POLICY"],
        scp_accounts=scp_accounts,
        rcp_accounts=(made.account,),
        management_account=facts["managementAccount"],
    )
    budget = Budget()
    results = prove(design, guarded_evidence, GUARDRAIL_PROPERTIES, budget=budget)
    record["rlimitUnits"] = budget.used
    record["results"] = [_as_json(result) for result in results]
    if _proved_all(results, GUARDRAIL_PROPERTIES, record, where, run):
        for result in results:
            if result.verdict is not Verdict.PASS:
                run.violations.append(_violation(result.id, _description(result), where))


def _check_every_design_was_recorded(app: Any, templates: Sequence[Path], run: _Run) -> None:
    """Every storage (and guardrails stack) of the construct tree whose template this run judges must
    have its design in the assembly's metadata: one that went missing would otherwise be skipped."""
    from constructs_lib.central_storage import CentralRecordingsStorage
    from constructs_lib.storage import SessionRecordingsStorage

    judged = {os.path.realpath(path): path for path in templates}
    for construct in app.node.find_all():
        if isinstance(construct, SessionRecordingsStorage | CentralRecordingsStorage):
            kind = DESIGN_METADATA
        elif isinstance(construct, cdk.Stack) and any(m.type == GUARDRAILS_METADATA for m in construct.node.metadata):
            kind = GUARDRAILS_METADATA
        else:
            continue
        stack = cdk.Stack.of(construct)
        stage = cdk.Stage.of(stack)
        if stage is None:
            continue
        template_path = judged.get(os.path.realpath(Path(stage.outdir) / stack.template_file))
        if template_path is None:
            continue  # another plugin instance judges that stage's stacks
        recorded = _metadata_of(template_path, _artifact_of(template_path)).get("/" + construct.node.path, [])
        if not any(entry.get("type") == kind and isinstance(entry.get("data"), dict) for entry in recorded):
            record = {"template": template_path.name, "stack": stack.node.path, "construct": construct.node.path}
            where = cdk.PolicyViolatingResource(
                resource_logical_id=construct.node.path, template_path=str(template_path), locations=[]
            )
            what = f"{construct.node.path} recorded no {kind} metadata in {template_path.name}"
            run.fatal(record, what, "its proofs would be skipped", where)


def _assembly_root(app: Any, templates: Sequence[Path]) -> Path:
    """Where the record goes: the app's output directory (stage stacks are in nested assemblies below it)."""
    if isinstance(app, cdk.Stage):
        return Path(app.outdir)
    return Path(os.path.commonpath([str(path.parent) for path in templates]))


def _stack_name(artifact: Mapping[str, Any]) -> str:
    return str(artifact.get("displayName", artifact.get("id", "?")))


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


def _violation(
    rule: str, description: str, resource: cdk.PolicyViolatingResource, *, severity: str = "error"
) -> cdk.PolicyViolation:
    fix = (
        "see docs/PROVER.md: change the settings or the policy, or acknowledge with a reason if the design accepts it"
        if severity != "fatal"
        else "a proof that could not run is never acknowledged: fix the cause (docs/PROVER.md, At synthesis)"
    )
    return cdk.PolicyViolation(
        rule_name=rule, description=description, violating_resources=[resource], fix=fix, severity=severity
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
