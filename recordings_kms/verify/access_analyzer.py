"""``verify --access-analyzer``: AWS IAM Access Analyzer's own verdict beside the prover's (pure).

Three questions go to AWS (``verify.readers.ask_access_analyzer`` asks them):

* ``CheckNoPublicAccess`` on the key policy (``AWS::KMS::Key``) and on the bucket policy
  (``AWS::S3::Bucket``);
* ``CheckAccessNotGranted`` for the cryptographic KMS actions on the key policy. A working design
  grants decryption to the auth role, so the question is about everyone else: the key policy is
  sent with Deny statements added for the design's own principals (``Principal: *`` with
  ``ArnEquals aws:PrincipalArn``), and AWS's PASS then means that nobody else is granted any of them.

AWS judges the policy documents alone: grants and identity policies are outside its answer, as
they are inside P1's. A FAIL from AWS where the prover's P1 passes is a disagreement between the
two evaluators and gets a line of its own.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from constructs_lib.core.prover import CRYPTO_ACTIONS, Design, Evidence, PolicyFormatError, Verdict
from recordings_kms.results import CheckResult, Status

PublicResource = Literal["AWS::KMS::Key", "AWS::S3::Bucket"]
#: The Sids of the Deny statements added for the crypto question (never part of the live policy).
DESIGN_DENY_SID = "RecordingsKmsVerifyDesignPrincipals"
READER_DENY_SID = "RecordingsKmsVerifyReadersDecrypt"
KEY_PUBLIC, BUCKET_PUBLIC, KEY_CRYPTO, VERSUS_P1 = (
    "access-analyzer.key-public",
    "access-analyzer.bucket-public",
    "access-analyzer.key-crypto",
    "access-analyzer.vs-P1",
)


@dataclass(frozen=True)
class AnalyzerQuestion:
    check_id: str
    #: The policy document as AWS receives it (JSON text).
    policy_document: str
    #: ``CheckNoPublicAccess`` for this resource type; ``None``: ``CheckAccessNotGranted`` for ``actions``.
    resource_type: PublicResource | None = None
    actions: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnalyzerAnswer:
    question: AnalyzerQuestion
    #: ``PASS`` or ``FAIL``; ``None`` when the question could not be asked (``error``).
    result: str | None = None
    message: str = ""
    #: AWS's reasons, one line each (``statement 'Sid': description``).
    reasons: tuple[str, ...] = ()
    error: str | None = None


def _deny(sid: str, principals: Sequence[str], actions: Sequence[str]) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Deny",
        "Principal": "*",
        "Action": list(actions),
        "Resource": "*",
        "Condition": {"ArnEquals": {"aws:PrincipalArn": list(principals)}},
    }


def with_design_principals_denied(key_policy: Mapping[str, Any], design: Design) -> dict[str, Any]:
    """The key policy plus Denies for the principals the design lets use the key, as P1 reads the design.

    The auth role (and, in ``rfd`` mode, the key administrators) are denied every cryptographic
    action; the readers only ``kms:Decrypt``, so that a reader allowed anything more still shows.
    """
    document = copy.deepcopy(dict(key_policy))
    statements = document.get("Statement", [])
    statements = list(statements) if isinstance(statements, list) else [statements]
    users = [design.auth_role_arn, *(design.admin_arns if design.admin_mode == "rfd" else ())]
    statements.append(_deny(DESIGN_DENY_SID, users, CRYPTO_ACTIONS))
    if design.reader_arns:
        statements.append(_deny(READER_DENY_SID, design.reader_arns, ["kms:Decrypt"]))
    document["Statement"] = statements
    return document


def questions(design: Design, key_policy_text: str, bucket_policy_text: str | None) -> list[AnalyzerQuestion]:
    """What to ask AWS about the live policies, in the order the answers are reported."""
    asked = [AnalyzerQuestion(KEY_PUBLIC, key_policy_text, resource_type="AWS::KMS::Key")]
    if bucket_policy_text is not None:
        asked.append(AnalyzerQuestion(BUCKET_PUBLIC, bucket_policy_text, resource_type="AWS::S3::Bucket"))
    key_policy = json.loads(key_policy_text)
    denied = json.dumps(with_design_principals_denied(key_policy, design))
    asked.append(AnalyzerQuestion(KEY_CRYPTO, denied, actions=CRYPTO_ACTIONS))
    return asked


def _aws_says(answer: AnalyzerAnswer) -> str:
    details = "; ".join(answer.reasons) or answer.message
    return f" ({details})" if details else ""


def judge(
    answers: Sequence[AnalyzerAnswer], *, design: Design, key_policy: Mapping[str, Any], p1: CheckResult | None
) -> list[CheckResult]:
    """AWS's verdicts as check lines, and how they compare with the prover's P1."""
    results: list[CheckResult] = []
    asked = {a.question.check_id for a in answers}
    for answer in answers:
        check_id = answer.question.check_id
        if answer.error is not None:
            results.append(CheckResult(check_id, Status.WARN, f"could not ask IAM Access Analyzer: {answer.error}"))
            continue
        what = "the key policy" if check_id != BUCKET_PUBLIC else "the bucket policy"
        if check_id == KEY_CRYPTO:
            actions = ", ".join(CRYPTO_ACTIONS)
            if answer.result == "PASS":
                reason = (
                    f"AWS: with the design's own principals denied, the key policy grants nobody else {actions} "
                    "(AWS judges the key policy alone, without the grants)"
                )
            else:
                reason = (
                    f"AWS: the key policy grants someone outside the design a cryptographic action{_aws_says(answer)}"
                )
        elif answer.result == "PASS":
            reason = f"AWS: {what} grants no public access{_aws_says(answer)}"
        else:
            reason = f"AWS: {what} grants public access{_aws_says(answer)}"
        results.append(CheckResult(check_id, Status.PASS if answer.result == "PASS" else Status.FAIL, reason))
    if BUCKET_PUBLIC not in asked:
        results.append(CheckResult(BUCKET_PUBLIC, Status.INFO, "the bucket has no bucket policy: nothing to ask"))
    crypto = next((a for a in answers if a.question.check_id == KEY_CRYPTO and a.error is None), None)
    if crypto is not None and p1 is not None:
        results.append(_versus_p1(crypto, p1, design, key_policy))
    return results


_AGREE = "AWS and the prover agree"


def _versus_p1(crypto: AnalyzerAnswer, p1: CheckResult, design: Design, key_policy: Mapping[str, Any]) -> CheckResult:
    aws = crypto.result
    if p1.status is Status.CANNOT_PROVE:
        return CheckResult(
            VERSUS_P1, Status.INFO, f"the prover cannot decide P1; AWS's answer on the key policy alone is {aws}"
        )
    if aws == "PASS" and p1.status is Status.PASS:
        return CheckResult(
            VERSUS_P1, Status.INFO, "AWS and the prover agree: nobody outside the design can use the key"
        )
    if aws == "FAIL" and p1.status is Status.FAIL:
        return CheckResult(
            VERSUS_P1, Status.INFO, "AWS and the prover agree: someone outside the design can use the key"
        )
    if aws == "FAIL":
        return CheckResult(
            VERSUS_P1,
            Status.WARN,
            "disagreement: AWS says the key policy grants someone outside the design a cryptographic action, the "
            "prover says nobody can (P1 PASS): one of the two evaluators is wrong; treat the key as exposed until "
            "this is explained",
        )
    return _p1_fails_where_aws_passes(p1, design, key_policy)


def _p1_fails_where_aws_passes(p1: CheckResult, design: Design, key_policy: Mapping[str, Any]) -> CheckResult:
    """P1 asks more than AWS does (grants, PutKeyPolicy and CreateGrant): is AWS's PASS explained?"""
    from constructs_lib.core.prover.replication import prove  # P1 as verify proves it (a replication role too)

    try:
        (alone,) = prove(design, Evidence(key_policy=key_policy), ["P1"])
    except PolicyFormatError as error:
        return CheckResult(VERSUS_P1, Status.INFO, f"AWS says PASS where P1 fails; not compared further: {error}")
    example = alone.counterexample
    direct = alone.verdict is Verdict.FAIL and example is not None and example.action in CRYPTO_ACTIONS
    if direct and example is not None:
        return CheckResult(
            VERSUS_P1,
            Status.WARN,
            f"disagreement: the prover finds {example.describe()} allowed by the key policy alone, AWS says nobody "
            "outside the design is granted a cryptographic action: one of the two evaluators is wrong",
            example,
        )
    return CheckResult(
        VERSUS_P1,
        Status.INFO,
        "no disagreement: P1 fails through what AWS's question leaves out (grants, or kms:PutKeyPolicy / "
        "kms:CreateGrant, which give decryption indirectly); AWS finds no direct cryptographic access",
    )
