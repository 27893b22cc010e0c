"""The gated synthesis of every configuration the compliance tests and the template scanner check, once per process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def gated_assemblies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict[str, Any], Path]]:
    """Each configuration of tests/stacks/test_compliance.py (``CONFIGS``, ``APP_CONFIGS``) synthesized as
    app.py does, with the four cdk-nag packs and the access proofs: its validation report and its output
    directory, by configuration name.

    tests/stacks/test_compliance.py reads the reports and lints the templates; tests/stacks/test_scanners.py
    runs checkov over the same templates, which it used to synthesize again without the gates (the
    templates are the same: the gates read them and write only their reports beside them). A finding the
    gates do not acknowledge raises here, failing both modules' tests.
    """
    from app import build as build_app
    from constructs_lib.core.settings import AppSettings
    from stacks.recordings_stack import SessionRecordingsStack
    from tests.stacks.test_compliance import APP_CONFIGS, CONFIGS, synth_with_packs

    results: dict[str, tuple[dict[str, Any], Path]] = {}
    for name, (context, env) in CONFIGS.items():
        out = tmp_path_factory.mktemp(name)
        settings = AppSettings.from_context(context)
        report = synth_with_packs(
            lambda app, settings=settings, env=env: SessionRecordingsStack(
                app, "Recordings", settings=settings, env=env
            ),
            out,
        )
        results[name] = (report, out)
    for name, context in APP_CONFIGS.items():
        out = tmp_path_factory.mktemp(name)
        settings = AppSettings.from_context(context)
        report = synth_with_packs(lambda app, settings=settings: build_app(app, settings), out)
        results[name] = (report, out)
    return results
