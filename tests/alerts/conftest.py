"""Firm A's alerts for the alerts tests (tests/alerts/helpers.py says how they are raised)."""

from __future__ import annotations

import pytest

from alerts.models import Alert
from tests.alerts.helpers import raise_alerts_for


@pytest.fixture
def alerts(tenant_a, django_capture_on_commit_callbacks) -> list[Alert]:
    """Firm A's two alerts (on messages 0 and 2 of TEXTS)."""
    return raise_alerts_for(tenant_a, capture=django_capture_on_commit_callbacks)


@pytest.fixture
def alert(alerts) -> Alert:
    return alerts[0]
