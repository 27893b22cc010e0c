"""``recordings-kms prove``: P1-P6 on policies saved as AWS returns them, without calling AWS.

For teams and CI without a stack: the files hold what ``GetKeyPolicy``, ``GetBucketPolicy`` and
``ListGrants`` return (or the bare documents), the design comes from options made by the settings
model, and the access prover answers each property for every request. Exit 0 when every property
holds, 1 when one fails or cannot be proven, 2 for input it cannot use (one line).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from constructs_lib.core import arns
from constructs_lib.core.problems import Problem
from constructs_lib.core.prover.parse import load_json
from recordings_kms import render
from recordings_kms.access import (
    DESIGN_SETTINGS,
    InputError,
    grant_list,
    parameters_from_settings,
    policy_document,
)
from recordings_kms.options import (
    EXIT_FAILED,
    EXIT_OK,
    PROG,
    problem_line,
    problems_of,
    prover_budget_problem,
    settings_from,
)

_SETTINGS = (*DESIGN_SETTINGS, "bucket_name", "region")


def _read_json(path: str, option: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        why = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise InputError(f"{option} {path}: cannot read it ({why})") from None
    try:
        # Duplicate keys are remembered (Python's json keeps the last, AWS may read the first): the
        # prover refuses a policy or grant that has them, naming where (PolicyFormatError, exit 2).
        return load_json(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{option} {path} is not JSON: {error.msg} (line {error.lineno})") from None


def _option_problems(args: argparse.Namespace) -> list[str]:
    problems = problems_of(settings_from(args, _SETTINGS))
    if problem := prover_budget_problem(args.prover_budget):
        problems.append(problem)
    key = arns.parse_key_arn(args.key_arn)
    if key is None:
        wanted = "a KMS key ARN like arn:aws:kms:REGION:ACCOUNT:key/KEY_ID (it names the key's region and account)"
        problems.append(problem_line(Problem("key_arn", args.key_arn, wanted), "--key-arn"))
    elif args.region is not None and args.region != key[0].region:
        problems.append(
            f"'--region' is {args.region} but --key-arn is a key in {key[0].region}: S3 can only use a KMS key of the "
            "bucket's own region"
        )
    return problems


def run(args: argparse.Namespace) -> int:
    from constructs_lib.core.prover import Budget, Evidence, PolicyFormatError, prove
    from recordings_kms.results import exit_ok, property_results

    problems = _option_problems(args)
    if problems:
        return render.error("; ".join(problems), as_json=args.json)
    settings = settings_from(args, _SETTINGS)
    try:
        design = parameters_from_settings(settings).design(key_arn=args.key_arn, bucket=str(settings.bucket_name))
        key_policy = policy_document(_read_json(args.key_policy, "--key-policy"), f"--key-policy {args.key_policy}")
        bucket_policy = None
        if args.bucket_policy is not None:
            found = _read_json(args.bucket_policy, "--bucket-policy")
            bucket_policy = policy_document(found, f"--bucket-policy {args.bucket_policy}")
        grants = grant_list(_read_json(args.grants, "--grants"), f"--grants {args.grants}") if args.grants else []
        evidence = Evidence(key_policy=key_policy, bucket_policy=bucket_policy, grants=grants)
        results = property_results(prove(design, evidence, budget=Budget(total=int(args.prover_budget))))
    except InputError as failure:
        return render.error(str(failure), as_json=args.json)
    except PolicyFormatError as failure:
        return render.error(f"malformed input: {failure}", as_json=args.json)

    ok = exit_ok(results, warnings_ok=False)
    if args.json:
        about = {
            "key_policy": args.key_policy,
            "bucket_policy": args.bucket_policy,
            "grants": args.grants,
            "design": render.design_json(design),
        }
        print(render.document(results, ok=ok, about=about))
    else:
        files = f"key policy {args.key_policy}"
        files += f", bucket policy {args.bucket_policy}" if args.bucket_policy else ", no bucket policy"
        files += f", grants {args.grants}" if args.grants else ", no grants"
        header = f"{PROG} prove: key {design.key_arn}, bucket {design.bucket_name} ({design.region}): {files}"
        print(render.text(results, header, render.design_line(design)))
    return EXIT_OK if ok else EXIT_FAILED
