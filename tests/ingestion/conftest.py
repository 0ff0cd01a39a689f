from __future__ import annotations

import pytest

from consent import gate


@pytest.fixture(autouse=True)
def _fresh_gate():
    """The consent gate caches per process: each ingestion test starts and ends without it."""
    gate.clear_cache()
    yield
    gate.clear_cache()
