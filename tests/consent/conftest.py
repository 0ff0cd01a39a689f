from __future__ import annotations

import pytest

from compliance_hub.audit.actors import Actor
from consent import services


@pytest.fixture
def sales(tenant_a):
    """Firm A's Sales team."""
    return services.create_team(tenant=tenant_a, name="Sales", actor=Actor.system())
