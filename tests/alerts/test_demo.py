"""The demo tenant has alerts to review from the first login: its seeded messages go through
the policies' scan and the hits become alerts through the same receiver as in production."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from alerts.models import Alert
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant
from consent import gate
from policies.models import PolicyHit

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_tenant_has_one_alert_per_hit():
    gate.clear_cache()
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())  # idempotent: no second alert for a hit
    demo = Tenant.objects.get(slug="demo")
    with tenant_scope(demo):
        hits = PolicyHit.objects.count()
        alerts = list(Alert.objects.select_related("policy"))
    assert hits >= 2 and len(alerts) == hits
    assert len({a.hit_id for a in alerts}) == hits
    assert all(a.status == "open" and a.due_at > a.created_at for a in alerts)
