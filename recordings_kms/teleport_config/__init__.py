"""``recordings-kms teleport-config``: print the ``teleport.yaml`` storage snippet (``command``)."""
