"""``recordings-kms prove``: P1-P6 on key and bucket policies saved in files, without AWS (``command``)."""
