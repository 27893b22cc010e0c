"""``recordings-kms verify``: check a live key and bucket against RFD 42 and prove P1-P6 on their policies.

``command`` runs it. ``readers`` and ``monitoring_readers`` read AWS (boto3, read-only) into the
records of ``facts``; the rest judge them without calling AWS: ``checks`` (the prover's evidence,
P1-P6, whether the next deploy can update the key policy, and ``verify``: every check in order),
``configuration_checks`` (the key's and the bucket's settings), ``retention_checks`` (lifecycle
rules, Object Lock), ``monitoring`` (can the tamper alarms fire) and ``access_analyzer`` (AWS's own
verdict beside the prover's); ``probe`` writes to the bucket like Teleport does (``--probe``).
"""
