"""``recordings-kms``: verify a live RFD 42 deployment, print its policies and the teleport.yaml snippet.

Nothing in this package imports CDK: the policy documents come from ``constructs_lib.core.policies``,
which is plain data, so the command starts fast on machines without Node.js or jsii.
"""
