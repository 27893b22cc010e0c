"""``recordings-kms teleport-config``: the ``teleport.yaml`` storage snippet, from a URI or a stack."""

from __future__ import annotations

import argparse
import sys

from constructs_lib.core.outputs import STORAGE_URI
from recordings_kms.options import EXIT_OK, PROG, endpoint_url_problem, region_problem, warn_if_region_unknown
from recordings_kms.render import error
from recordings_kms.teleport import StorageUri, StorageUriError, parse_storage_uri, teleport_config_snippet


def run(args: argparse.Namespace) -> int:
    """Print the snippet; read the stack's ``StorageUri`` output only with ``--stack-name`` (boto3 loads then)."""
    storage: StorageUri
    try:
        if args.uri is not None:
            storage = parse_storage_uri(args.uri)
        else:
            if args.region is not None and (problem := region_problem(args.region)):
                return error(problem)
            warn_if_region_unknown(args.region)
            if args.endpoint_url is not None and (problem := endpoint_url_problem(args.endpoint_url)):
                return error(problem)
            from botocore.exceptions import BotoCoreError, ClientError

            from recordings_kms import aws

            try:
                clients = aws.make_clients(region=args.region, endpoint_url=args.endpoint_url)
                (uri,) = aws.require_outputs(aws.stack_outputs(clients, args.stack_name), args.stack_name, STORAGE_URI)
            except aws.AwsError as failure:
                return error(str(failure))
            except (BotoCoreError, ClientError) as failure:  # a backstop: every expected error is an AwsError
                return error(f"AWS call failed: {failure}")
            storage = parse_storage_uri(uri)
    except StorageUriError as failure:
        return error(str(failure))
    print(teleport_config_snippet(storage), end="")
    if not storage.names_key_by_arn:
        print(f"{PROG}: note: sse_kms_key is a key ID; the key ARN also works across accounts", file=sys.stderr)
    if storage.region is None:
        print(f"{PROG}: note: no region= in the URI: Teleport uses its own default region", file=sys.stderr)
    return EXIT_OK
