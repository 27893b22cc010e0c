"""``recordings-kms verify``: read the live key and bucket, judge them, optionally probe like Teleport.

The boto3 calls live in ``recordings_kms.aws``, the judgements in ``recordings_kms.checks`` and the
wording in ``recordings_kms.render``; this module runs them in order and picks the exit code.
"""

from __future__ import annotations

import argparse
import contextlib

from constructs_lib.core.outputs import AUTH_ROLE_ARN, BUCKET_NAME, KEY_ARN, STORAGE_URI
from recordings_kms import render
from recordings_kms.options import (
    EXIT_FAILED,
    EXIT_OK,
    PROG,
    endpoint_url_problem,
    existing_bucket_problem,
    region_problem,
)
from recordings_kms.teleport import StorageUriError, parse_storage_uri


def run(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from recordings_kms import aws
    from recordings_kms.checks import Expectations, Status, verify
    from recordings_kms.probe import ProbeTarget, run_probe

    if args.endpoint_url is not None and (problem := endpoint_url_problem(args.endpoint_url)):
        return render.error(problem, as_json=args.json)
    if args.region is not None and (problem := region_problem(args.region)):
        return render.error(problem, as_json=args.json)
    if args.bucket is not None and (problem := existing_bucket_problem(args.bucket)):
        return render.error(problem, as_json=args.json)
    try:
        clients = aws.make_clients(region=args.region, endpoint_url=args.endpoint_url, key=args.key)
        expect = Expectations()
        bucket, key = args.bucket, args.key
        if args.stack_name:
            outputs = aws.stack_outputs(clients, args.stack_name)
            bucket, key = aws.require_outputs(outputs, args.stack_name, BUCKET_NAME, KEY_ARN)
            expect = Expectations(auth_principal_arn=outputs.get(AUTH_ROLE_ARN), storage_uri=outputs.get(STORAGE_URI))
        key_facts = aws.gather_key(clients, key)
        bucket_facts = aws.gather_bucket(clients, bucket)
        results = verify(key_facts, bucket_facts, expect)
        if args.probe:
            sse_kms_key = key_facts.arn
            if expect.storage_uri:
                # A bad StorageUri is reported by the stack.storage-uri check; the probe then uses the key ARN.
                with contextlib.suppress(StorageUriError):
                    sse_kms_key = parse_storage_uri(expect.storage_uri).sse_kms_key
            target = ProbeTarget(
                bucket=bucket,
                key_arn=key_facts.arn,
                key_id=key_facts.key_id,
                sse_kms_key=sse_kms_key,
                enforces_policies=clients.enforces_policies,
                endpoint=args.endpoint_url or f"AWS {clients.region}",
            )
            with aws.translated("s3", bucket):
                results += run_probe(clients.s3, target)
    except aws.AwsError as failure:
        return render.error(str(failure), as_json=args.json)
    except (BotoCoreError, ClientError) as failure:  # a backstop: every expected error is an AwsError
        return render.error(f"AWS call failed: {failure}", as_json=args.json)

    failed = any(r.status == Status.FAIL for r in results)
    warned = any(r.status == Status.WARN for r in results)
    ok = not failed and not (warned and not args.warnings_ok)
    if args.json:
        about = {
            "bucket": bucket,
            "key": key_facts.arn,
            "region": clients.region,
            "stack_name": args.stack_name,
            "endpoint_url": args.endpoint_url,
            "probe": args.probe,
        }
        print(render.document(results, ok=ok, about=about))
    else:
        where = f"{clients.region}" + (f" via {args.endpoint_url}" if args.endpoint_url else "")
        print(render.text(results, f"{PROG} verify: bucket {bucket}, key {key_facts.arn} ({where})"))
    return EXIT_OK if ok else EXIT_FAILED
