"""``python -m recordings_kms``: the same command as the ``recordings-kms`` console script."""

from recordings_kms.cli import main

raise SystemExit(main())
