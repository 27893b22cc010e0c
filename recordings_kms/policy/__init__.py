"""``recordings-kms policy`` and ``bucket-policy``: print the design's key and bucket policies (``command``)."""
