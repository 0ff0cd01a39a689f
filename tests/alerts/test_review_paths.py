"""Every path to an alert applies the second-level rule (alerts/tiers.py) the same way, because
the rule lives in the reads every path calls (alerts/selectors.py takes the viewer's role, with
no default) and in the one helper pages use to find an alert (alerts/alert_page.py): a plain
officer meets an escalated alert nowhere, not on a page, the API, watching, notices or
unmasking (the bulk bar skips it with the services' reason: tests/alerts/test_bulk.py).
Likewise a firm's pseudonyms (alerts/masking.py) on every path that shows people."""

from __future__ import annotations

import inspect

import pytest
from django.urls import reverse

from alerts import selectors
from alerts.masking import employee_pseudonym
from alerts.models import Alert, Status
from alerts.review_settings import update_review_settings
from alerts.selectors import QueueFilters, alert_for, alert_queue, group_of
from alerts.services import transition_alert
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from consent.models import Employee


@pytest.mark.parametrize(
    "read", ["alert_queue", "alert_for", "earlier_alerts", "counterparty_alerts", "group_of"]
)
def test_every_read_of_alerts_takes_the_viewers_role(read):
    role = inspect.signature(getattr(selectors, read)).parameters["role"]
    assert role.kind is inspect.Parameter.KEYWORD_ONLY
    assert role.default is inspect.Parameter.empty  # a new caller cannot leave it out


def _escalated(alerts: list[Alert], oscar) -> tuple[Alert, Alert]:
    escalated, other = alerts
    transition_alert(alert=escalated, actor=Actor.for_user(oscar.user), to=Status.ESCALATED,
                     expected_version=None)  # fmt: skip
    with tenant_scope(escalated.tenant_id):
        return Alert.objects.get(pk=escalated.pk), other


def test_the_reads_leave_second_level_alerts_to_the_roles_that_see_them(alerts, oscar, tenant_a):
    escalated, other = _escalated(alerts, oscar)
    everything = QueueFilters(status="all")
    with tenant_scope(tenant_a):
        officers = {a.pk for a in alert_queue(tenant=tenant_a, filters=everything, role="officer")}
        seniors = {
            a.pk for a in alert_queue(tenant=tenant_a, filters=everything, role=Role.SENIOR_OFFICER)
        }
        assert alert_for(tenant=tenant_a, pk=escalated.pk, role=Role.OFFICER) is None
        assert alert_for(tenant=tenant_a, pk=escalated.pk, role=Role.AUDITOR) is not None
        assert group_of(tenant=tenant_a, alert=other, role=Role.OFFICER) == []
        assert [a.pk for a in group_of(tenant=tenant_a, alert=other, role=Role.ADMIN)] == [
            escalated.pk
        ]
    assert officers == {other.pk} and seniors == {escalated.pk, other.pk}


def test_a_plain_officer_meets_a_second_level_alert_on_no_path(alerts, login_as, oscar):
    escalated, other = _escalated(alerts, oscar)
    client = login_as(oscar)
    for name in ("watch", "notice", "unmask"):
        url = reverse(f"alerts:{name}", args=[escalated.pk])
        response = client.post(url, {"watch": "1", "reason": "x"})
        assert response.status_code == 404, name
    # The API: the queue, the alert and the group of the alert beside it.
    assert client.get(f"/api/v1/alerts/{escalated.pk}/").status_code == 404
    listed = client.get("/api/v1/alerts/", {"status": "all"}).json()
    assert [a["id"] for a in listed["results"]] == [other.pk]
    assert client.get(f"/api/v1/alerts/{other.pk}/").json()["group"] == []


def test_a_masked_reviewer_reads_pseudonyms_on_every_path(alerts, login_as, oscar, tenant_a):
    update_review_settings(tenant=tenant_a, actor=Actor.system(), pseudonymise=True, sla_hours={})
    closed, _ = alerts
    transition_alert(alert=closed, actor=Actor.for_user(oscar.user), to=Status.CLOSED,
                     disposition="false_positive", rationale="Checked by hand.",
                     expected_version=None)  # fmt: skip
    with tenant_scope(tenant_a):
        employee = Employee.objects.get(pk=closed.employee_id)
        Employee.objects.filter(pk=employee.pk).update(email="real.person@firm-a.example")
    pseudonym = employee_pseudonym(tenant_a.pk, employee.pk)
    client = login_as(oscar)
    answers = {
        "queue page": client.get(reverse("alerts:queue"), {"status": "all"}),
        # Closed: its page offers to tell the employee, and must not name them there either.
        "alert page": client.get(reverse("alerts:alert", args=[closed.pk])),
        "API queue": client.get("/api/v1/alerts/", {"status": "all"}),
        "API alert": client.get(f"/api/v1/alerts/{closed.pk}/"),
    }
    for path, answer in answers.items():
        shown = answer.content.decode()
        assert answer.status_code == 200, path
        assert pseudonym in shown, path
        for real in (employee.full_name, "real.person@firm-a.example"):
            assert real not in shown, (path, real)
    assert "Tell the employee" in answers["alert page"].content.decode()
