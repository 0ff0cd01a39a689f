from __future__ import annotations

import pytest

from compliance_hub.audit.actors import Actor
from consent import services
from tests.consent.employees import make_employee


@pytest.fixture
def sales(tenant_a):
    """Firm A's Sales team."""
    return services.create_team(tenant=tenant_a, name="Sales", actor=Actor.system())


@pytest.fixture
def bad_row_setting(tenant_a, tenant_b):
    """Firm A as fixtures/every_bad_row.csv is written against it (returned): teams Wealth and
    Trading, an existing employee E900, and +55 11 91234-5678 held by an employee of firm B."""
    services.create_team(tenant=tenant_a, name="Wealth", actor=Actor.system())
    services.create_team(tenant=tenant_a, name="Trading", actor=Actor.system())
    make_employee(
        tenant_a, full_name="Someone", email="e900@firm-a.example", employee_id="E900",
        phone_number="+55 11 90000-0900", region="", whatsapp_phone_number_id="",
    )  # fmt: skip
    make_employee(
        tenant_b, full_name="Bob's trader", email="b-1@firm-b.example", employee_id="B-1",
        phone_number="+55 11 91234-5678", region="", whatsapp_phone_number_id="",
    )  # fmt: skip
    return tenant_a
