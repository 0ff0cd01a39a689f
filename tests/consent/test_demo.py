"""The demo tenant that `make run` seeds shows every consent state."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant
from consent.models import ConsentState, Employee
from consent.selectors import consent_state_counts


def test_seed_demo_creates_people_and_employees_in_every_state_once(db):
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())  # idempotent
    demo = Tenant.objects.get(slug="demo")
    with tenant_scope(demo):
        assert Employee.objects.count() == 6
        counts = consent_state_counts(tenant=demo)
    assert counts == {
        ConsentState.COVERED: 2,
        ConsentState.PENDING: 1,
        ConsentState.DECLINED: 1,
        ConsentState.WITHDRAWN: 1,
        ConsentState.NONE: 1,
    }
