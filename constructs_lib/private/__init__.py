"""CDK-side helpers the constructs share; not part of the package's API (as aws-cdk's ``lib/private/``).

- ``environment.py``: what a stack tells the settings rules (partition, account, region, tokens,
  principal objects) and the role CloudFormation deploys with;
- ``construction.py``: how a construct takes its settings, validates them once and leaves nothing in
  the tree when it raises;
- ``names.py``: default names of a second storage of a stack, and names two storages must not share;
- ``events.py``: EventBridge patterns of ``constructs_lib.core.alarms`` as CDK event patterns.

The constructs import these modules; none of them imports a construct.
"""
