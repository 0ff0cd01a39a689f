from __future__ import annotations

import pytest


@pytest.fixture
def anchor_dir(settings, tmp_path):
    """Checkpoints anchored to a folder of this test's own (no timestamping authority); the
    ledger modules use it for every test, with ``pytestmark``."""
    settings.LEDGER_ANCHORS = ["folder"]
    settings.LEDGER_ANCHOR_DIR = tmp_path / "anchors"
    settings.LEDGER_TSA_URL = ""
    return settings.LEDGER_ANCHOR_DIR
