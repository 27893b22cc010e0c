"""G1-G4: what the organization guardrails promise, each a question "is there a request that ...?".

The guardrails are the SCPs and RCPs of the evidence, applied where ``organizations`` says. G1, G2
and G4 ask about the guardrails alone (their explicit deny, ``Encoder.guardrails``): a guardrail is
there to hold whatever the identity and resource policies say, so "an ``AdministratorAccess``
principal cannot" is proven by "the guardrails deny it", never by a key or bucket policy that an
administrator might change. G3 asks the same of Teleport's own requests; P5 asks it of everything.

"Protected" is defined by ``constructs_lib.core.guardrails`` (the lists the package's SCP is built
from), so the proof and the deployed documents cannot drift apart:

* the auth role: ``AUTH_ROLE_CHANGES`` on its ARN, and ``iam:PassRole`` of it unless
  ``iam:PassedToService`` is the service its trust names (``Design.auth_role_service``);
* with a replica, the replication role (``Design.replication_role_arn``) likewise, passed to S3 only;
* the key: ``KEY_CHANGES`` on the key, and ``kms:CreateGrant`` unless ``kms:GrantIsForAWSResource``
  is true (a grant an AWS service creates for one of its resources);
* the bucket: ``BUCKET_CHANGES`` on the bucket, ``RECORDING_DELETES`` on any object under the prefix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import z3

from constructs_lib.core.guardrails import (
    AUTH_ROLE_CHANGES,
    BUCKET_CHANGES,
    KEY_CHANGES,
    RECORDING_DELETES,
    REPLICATION_SERVICE,
)
from constructs_lib.core.prover.catalog import KMS_ACTIONS
from constructs_lib.core.prover.encode import Bool
from constructs_lib.core.prover.evaluate import iam_account, key_account
from constructs_lib.core.prover.keys import Source, spec_of
from constructs_lib.core.prover.model import Design, PropertyResult, Verdict
from constructs_lib.core.prover.organizations import RCP_EXEMPT_ACTIONS
from constructs_lib.core.prover.parse import ACCOUNT_KINDS, Kind, Parsed, classify_principal
from constructs_lib.core.prover.queries import (
    G1,
    G2,
    G3,
    G4,
    TITLES,
    Query,
    action_in,
    among,
    build_query,
    property_result,
)
from constructs_lib.core.prover.solve import Found, Side, request_of, search
from constructs_lib.core.prover.teleport_access import teleport_result

PASS_ROLE = "iam:PassRole"  # noqa: S105 (an action name)
CREATE_GRANT = "kms:CreateGrant"

SERVICE_LINKED_NOTE = (
    "service-linked roles are outside SCPs and RCPs (AWS Organizations User Guide); their permissions are "
    "AWS's, not the account's"
)


@dataclass
class Protected:
    """Protected requests on one resource: a query, and the formula that picks them among its requests."""

    query: Query
    requests: Bool
    #: The account owning the resource (the role, the key, the bucket): G1's attackers are its principals.
    resource_account: str
    #: The principals the guardrails leave free on this resource.
    exempt: tuple[str, ...]


def _auth_role(design: Design, parsed: Parsed) -> Protected:
    q = build_query(
        design,
        [parsed],
        service="iam",
        actions=(*AUTH_ROLE_CHANGES, PASS_ROLE),
        environment_known=False,
        resource=design.auth_role_arn,
    )
    r = q.request
    passed = r.modelled("iam:passedtoservice")
    service = design.auth_role_service
    to_its_service = z3.And(passed.present, passed.value == z3.StringVal(service)) if service else z3.BoolVal(False)
    # Adding the role to an instance profile passes it (to EC2) too: the IAM API reference gives the
    # literal associated resource of that PassRole. It is protected even when passed to its service.
    associated = r.modelled("iam:associatedresourcearn")
    profile = f"arn:{design.partition}:ec2:*:{iam_account(design.auth_role_arn)}:instance/*"
    into_a_profile = z3.And(associated.present, associated.value == z3.StringVal(profile))
    to_its_service = z3.And(to_its_service, z3.Not(into_a_profile))
    requests = z3.Or(
        action_in(r, AUTH_ROLE_CHANGES),
        z3.And(r.action == z3.StringVal(PASS_ROLE.lower()), z3.Not(to_its_service)),
    )
    return Protected(q, requests, iam_account(design.auth_role_arn), design.auth_role_guardrail_exempt_arns)


def _replication_role(design: Design, parsed: Parsed) -> Protected:
    """With a replica: the replication role's changes, and passing it to anything but S3 (its trust's service)."""
    role = design.replication_role_arn or design.auth_role_arn
    q = build_query(
        design, [parsed], service="iam", actions=(*AUTH_ROLE_CHANGES, PASS_ROLE), environment_known=False, resource=role
    )
    if design.replication_role_arn is None:
        # nothing to protect: the search is unsat
        return Protected(q, z3.BoolVal(False), iam_account(role), design.guardrail_exempt_arns)
    r = q.request
    passed = r.modelled("iam:passedtoservice")
    to_s3 = z3.And(passed.present, passed.value == z3.StringVal(REPLICATION_SERVICE))
    requests = z3.Or(
        action_in(r, AUTH_ROLE_CHANGES), z3.And(r.action == z3.StringVal(PASS_ROLE.lower()), z3.Not(to_s3))
    )
    return Protected(q, requests, iam_account(role), design.guardrail_exempt_arns)


def _key(design: Design, parsed: Parsed) -> Protected:
    q = build_query(
        design,
        [parsed],
        service="kms",
        actions=(*KEY_CHANGES, CREATE_GRANT),
        environment_known=False,
        resource=design.key_arn,
    )
    r = q.request
    marker = r.modelled("kms:grantisforawsresource")
    for_aws_resource = z3.And(marker.present, marker.value == z3.StringVal("true"))
    requests = z3.Or(
        action_in(r, KEY_CHANGES),
        z3.And(r.action == z3.StringVal(CREATE_GRANT.lower()), z3.Not(for_aws_resource)),
    )
    return Protected(q, requests, key_account(design.key_arn), design.guardrail_exempt_arns)


def _bucket(design: Design, parsed: Parsed) -> Protected:
    q = build_query(
        design, [parsed], service="s3", actions=BUCKET_CHANGES, environment_known=False, resource=design.bucket_arn
    )
    return Protected(q, z3.BoolVal(True), design.account, design.guardrail_exempt_arns)


def _recordings(design: Design, parsed: Parsed) -> Protected:
    q = build_query(design, [parsed], service="s3", actions=RECORDING_DELETES, environment_known=False)
    return Protected(q, _object_under(q, design.objects_arn_prefix), design.account, design.guardrail_exempt_arns)


def _object_under(q: Query, prefix: str) -> Bool:
    """The request's resource is an object whose ARN starts with ``prefix`` (a readable name preferred)."""
    r = q.request
    name = z3.String("object_key")
    r.pretty.append(z3.InRe(name, z3.Plus(z3.Range("a", "z"))))
    return z3.And(z3.Length(name) >= 1, r.resource == z3.Concat(z3.StringVal(prefix), name))


#: One query per resource: a fixed resource lets the Resource elements be matched in Python, which
#: keeps z3's string reasoning to the one place that needs it (the recordings' names).
PROTECTED: tuple[Callable[[Design, Parsed], Protected], ...] = (
    _auth_role,
    _replication_role,
    _key,
    _bucket,
    _recordings,
)


def _absent(parsed: Parsed, q: Query, found: Found) -> list[str]:
    """The request keys the guardrails' conditions read that the counterexample does not carry: a
    counterexample lists only the keys present, and an absent one is often the point."""
    r = q.request
    example = request_of(found.model, r)
    named = {
        c.key: c.key_lower
        for policy in (*parsed.guardrails.scps, *parsed.guardrails.rcps)
        for statement in policy.statements
        for c in statement.conditions
    }
    service_principal = classify_principal(example.principal).kind is Kind.SERVICE
    absent = []
    for key, lowered in sorted(named.items()):
        spec = spec_of(lowered)
        if spec is None or spec.source is not Source.REQUEST or spec.service not in ("", r.service):
            continue
        if lowered == "aws:sourceaccount" and not service_principal:
            continue  # only AWS services carry it
        if lowered not in {k.lower() for k in example.context}:
            absent.append(key)
    return [f"without {', '.join(absent)}"] if absent else []


def _first(
    prop: str,
    parsed: Parsed,
    searches: Iterator[tuple[Found, Query]],
    *,
    passed: str,
    failed: str,
    findings: Sequence[str] = (),
) -> PropertyResult:
    """The first FAIL (the searches after it are not run), else the first CANNOT-PROVE, else PASS."""
    kept: tuple[Found, Query] | None = None
    for found, q in searches:
        if found.verdict is Verdict.FAIL:
            notes = _absent(parsed, q, found)
            return property_result(prop, found, q.request, passed=passed, failed=failed, findings=findings, notes=notes)
        if kept is None or (found.verdict is Verdict.CANNOT_PROVE and kept[0].verdict is Verdict.PASS):
            kept = (found, q)
    assert kept is not None, "every guardrail property asks at least one question"
    found, q = kept
    return property_result(prop, found, q.request, passed=passed, failed=failed, findings=findings)


def _protected_summary(design: Design) -> str:
    passing = f"except to {design.auth_role_service}" if design.auth_role_service else "to any service"
    return (
        f"changes to the auth role (trust, policies, permissions boundary, tags, deletion), its iam:PassRole "
        f"{passing} or into another instance profile, "
        + ("changes to the replication role or passing it to anything but S3, " if design.replication_role_arn else "")
        + f"changes to the key (policy, grants not for AWS "
        f"resources, disabling, deletion, rotation, replication, aliases), to the bucket's configuration, and "
        f"deleting recordings under {design.prefix}/"
    )


# --- G1 --------------------------------------------------------------------------------------------


def prove_g1(design: Design, parsed: Parsed) -> PropertyResult:
    """No principal of the account but the exempt ones can make a protected change: the guardrails
    deny it whatever its identity policies (even ``AdministratorAccess``) and the resource policies say.
    Service-linked roles are left out: SCPs do not apply to them and their policies are AWS's."""
    exempt = design.guardrail_exempt_arns

    def searches() -> Iterator[tuple[Found, Query]]:
        for build in PROTECTED:
            p = build(design, parsed)
            r, encoder = p.query.request, p.query.encoders[0]
            violation = z3.And(
                p.requests,
                r.in_account(p.resource_account),
                z3.Not(among(r, p.exempt)) if p.exempt else z3.BoolVal(True),
                z3.Not(r.is_service_linked()),
                z3.Not(encoder.guardrails(p.resource_account)),
            )
            yield search(r, violation, [Side(encoder, True)]), p.query

    findings = [SERVICE_LINKED_NOTE]
    if design.auth_role_service:
        findings.append(
            f"passing the auth role to {design.auth_role_service} stays open by design: whoever may do that (and "
            f"launch what runs it) gets the auth role's credentials"
        )
    others = f"but {', '.join(exempt)}" if exempt else "(none is exempt)"
    role_account = iam_account(design.auth_role_arn)
    if role_account != design.account:  # a cluster role of a workload account (docs/ORGANIZATION.md)
        role_exempt = design.auth_role_guardrail_exempt_arns
        role_others = f"but {', '.join(role_exempt)}" if role_exempt else "(none is exempt)"
        others += f" (on the auth role: every principal of {role_account} {role_others})"
    return _first(
        G1,
        parsed,
        searches(),
        passed=f"the guardrails deny every principal of {design.account} {others}, whatever its own policies "
        f"allow: {_protected_summary(design)}",
        failed="the guardrails do not deny",
        findings=findings,
    )


# --- G2 --------------------------------------------------------------------------------------------


def prove_g2(design: Design, parsed: Parsed) -> PropertyResult:
    """The guardrails deny none of the protected changes to the exempt principals (whether their own
    policies allow them is not the guardrails' business)."""
    exempt = tuple(dict.fromkeys((*design.guardrail_exempt_arns, *design.auth_role_guardrail_exempt_arns)))
    if not design.guardrail_exempt_arns or not design.auth_role_guardrail_exempt_arns:
        return PropertyResult(
            G2,
            TITLES[G2],
            Verdict.FAIL,
            "the design names no break-glass principal and no deploy role: the guardrails leave nobody able to "
            "make the protected changes (lockout)",
        )

    def searches() -> Iterator[tuple[Found, Query]]:
        for build in PROTECTED:
            p = build(design, parsed)
            r, encoder = p.query.request, p.query.encoders[0]
            violation = z3.And(p.requests, among(r, p.exempt), encoder.guardrails(p.resource_account))
            yield search(r, violation, [Side(encoder, False)]), p.query

    return _first(
        G2,
        parsed,
        searches(),
        passed=f"the guardrails deny {', '.join(exempt)} none of the protected changes (whether their own "
        "policies allow them is for those policies: P3, P4)",
        failed="the guardrails deny an exempt principal",
    )


# --- G3 --------------------------------------------------------------------------------------------


def prove_g3(design: Design, parsed: Parsed) -> PropertyResult:
    """P5's requests, against the guardrails alone (P5 itself includes them with everything else)."""
    return teleport_result(
        G3,
        design,
        parsed,
        guardrails_only=True,
        passed=f"the guardrails deny none of Teleport's S3 requests under {design.objects_arn_prefix}* nor the "
        "KMS calls S3 makes for it",
    )


# --- G4 --------------------------------------------------------------------------------------------


def prove_g4(design: Design, parsed: Parsed) -> PropertyResult:
    """Nobody outside the organization (nor anonymous) can use the key or the bucket at all, and no
    AWS service can for another account (``aws:SourceAccount``): the guardrails deny it."""
    if design.organization_id is None:
        reason = "Design.organization_id and organization_accounts were not given: who is outside is unknown"
        return PropertyResult(G4, TITLES[G4], Verdict.CANNOT_PROVE, f"cannot prove: {reason}", reasons=(reason,))
    kms_actions = [a for a in KMS_ACTIONS if a.lower() not in RCP_EXEMPT_ACTIONS]

    def questions() -> Iterator[tuple[Query, Bool, str]]:
        """(query, which of its resources, their account): the key, the bucket, its objects."""
        everything = z3.BoolVal(True)
        key = build_query(
            design, [parsed], service="kms", actions=kms_actions, environment_known=False, resource=design.key_arn
        )
        yield key, everything, key_account(design.key_arn)
        bucket = build_query(
            design, [parsed], service="s3", actions=None, environment_known=False, resource=design.bucket_arn
        )
        yield bucket, everything, design.account
        objects = build_query(design, [parsed], service="s3", actions=None, environment_known=False)
        yield objects, _object_under(objects, design.bucket_arn + "/"), design.account

    def searches() -> Iterator[tuple[Found, Query]]:
        for q, on, account in questions():
            r, encoder = q.request, q.encoders[0]
            source = r.modelled("aws:sourceaccount")
            outsider = z3.And(r.is_kind(*ACCOUNT_KINDS), z3.Not(r.in_organization()))
            outsider = z3.And(z3.Or(outsider, r.is_kind(Kind.ANONYMOUS)), z3.Not(r.is_service_linked()))
            acting_for = source.value != z3.StringVal(design.account)
            foreign_service = z3.And(r.is_kind(Kind.SERVICE), source.present, acting_for)
            violation = z3.And(on, z3.Or(outsider, foreign_service), z3.Not(encoder.guardrails(account)))
            yield search(r, violation, [Side(encoder, True)]), q

    return _first(
        G4,
        parsed,
        searches(),
        passed=f"the guardrails deny every principal outside {design.organization_id} (anonymous included) every "
        f"kms: action on the key and s3: action on the bucket and its objects, and every AWS service acting for "
        f"another account than {design.account}",
        failed="the guardrails do not deny",
        findings=[
            "kms:RetireGrant is outside RCPs (AWS Organizations User Guide): a grant's retiring principal can still "
            "retire it, which only removes access",
            SERVICE_LINKED_NOTE,
        ],
    )


GuardrailProver = Callable[[Design, Parsed], PropertyResult]
GUARDRAIL_PROVERS: dict[str, GuardrailProver] = {G1: prove_g1, G2: prove_g2, G3: prove_g3, G4: prove_g4}
