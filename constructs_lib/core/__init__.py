"""The pure core of the package: no CDK, no boto3.

Settings, ARN rules, IAM action lists and policy documents, the storage URI and the access prover
live here, so that the constructs, the stacks and the ``recordings-kms`` command are thin adapters
over one implementation of each rule. Importing anything under ``constructs_lib.core`` never starts
jsii and never imports boto3 (``tests/core/test_purity.py``).
"""
