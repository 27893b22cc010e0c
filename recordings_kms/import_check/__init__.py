"""``recordings-kms import-check``: what adopting an existing bucket (``existingBucket``) changes on it."""
