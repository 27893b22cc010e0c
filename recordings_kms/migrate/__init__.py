"""``recordings-kms migrate``: copy existing recordings under the recordings key, resumably, verified.

``command`` is the command (its options, the run, the exit code); the rest are its parts: ``survey``
lists both buckets and builds the ``plan`` (what is left to copy, decided from listings alone),
``schedule`` runs the copies (``copy``), the versions of one recording one after another, ``verify``
proves each copy against its source, ``s3`` holds the S3 and KMS reads and their error lines,
``model`` the records they pass between them and ``render`` the progress bar and the report.
``python -m recordings_kms.migrate migrate ...`` runs the command on its own.
"""
