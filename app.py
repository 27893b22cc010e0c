#!/usr/bin/env python3
"""CDK app: the Teleport session recordings stack, configured from CDK context."""

from __future__ import annotations

import os
import sys

import aws_cdk as cdk

from constructs_lib.compliance import enable_compliance_packs
from constructs_lib.core.validation import InvalidSettingsError
from stacks.config import RecordingsConfig
from stacks.recordings_stack import DEFAULT_STACK_NAME, SessionRecordingsStack


def main() -> int:
    app = cdk.App()
    enable_compliance_packs(app)
    try:
        config = RecordingsConfig.from_context(app.node.get_all_context())
        SessionRecordingsStack(
            app,
            DEFAULT_STACK_NAME,
            config=config,
            env=cdk.Environment(
                account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
            ),
        )
    except InvalidSettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
