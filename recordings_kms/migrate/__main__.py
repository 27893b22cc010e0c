"""``python -m recordings_kms.migrate migrate ...``: the ``migrate`` command on its own (tests, benchmarks)."""

from recordings_kms.migrate.command import main

raise SystemExit(main())
