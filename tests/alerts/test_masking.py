"""Pseudonymised review: reviewers of a firm that has it on see people as stable pseudonyms
on the queue and the alert page (the messages keep their words), unmask one alert with a reason
(audited, listed for admins, for them and that alert only); auditors are not masked; another
firm's alerts stay 404."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from alerts.masking import (
    UnmaskRefused,
    client_pseudonym,
    display_people,
    employee_pseudonym,
    unmask_alert,
)
from alerts.models import Alert, Unmasking
from alerts.review_settings import review_choices, update_review_settings
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from compliance_hub.tenancy.services import create_tenant
from consent.models import Employee

REAL_NAMES = ("Employee of firm-a", "E-firm-a", "Cliente Silva", "5511999")


@pytest.fixture
def masked(tenant_a):
    update_review_settings(tenant=tenant_a, actor=Actor.system(), pseudonymise=True, sla_hours={})
    return tenant_a


def _url(alert: Alert, name: str = "alert") -> str:
    return reverse(f"alerts:{name}", args=[alert.pk])


def _unmaskings(tenant) -> int:
    with tenant_scope(tenant):
        return Unmasking.objects.count()


def test_a_pseudonym_is_stable_per_firm_and_keyed(settings):
    first = employee_pseudonym(1, 42)
    assert re.fullmatch(r"Employee [0-9A-F]{6}", first)
    assert employee_pseudonym(1, 42) == first  # stable
    assert employee_pseudonym(2, 42) != first  # per firm
    assert re.fullmatch(r"Client [0-9A-F]{6}", client_pseudonym(1, "5511999"))
    settings.SECRET_KEY = "another-server-secret-" + "x" * 40
    assert employee_pseudonym(1, 42) != first  # keyed with the server's secret


@pytest.mark.parametrize(
    ("country", "on"), [("DE", True), ("no", True), ("BR", False), ("", False)]
)
def test_pseudonymised_review_is_on_by_default_in_the_eu_and_eea(db, country, on):
    tenant = create_tenant(slug="firm-x", name="Firm X", country=country, actor=Actor.system())
    assert review_choices(tenant).pseudonymise is on


@pytest.mark.parametrize("country", ["XX", "Deutschland", "dé", "D1"])
def test_a_firm_with_a_wrong_country_code_is_refused(db, country):
    with pytest.raises(ValidationError, match="not a country code"):
        create_tenant(slug="firm-x", name="Firm X", country=country, actor=Actor.system())


def test_the_queue_and_the_alert_page_show_pseudonyms_but_the_words(
    alerts, masked, login_as, oscar
):
    alert = alerts[0]
    client = login_as(oscar)
    employee = employee_pseudonym(masked.pk, alert.employee_id)
    queue = client.get(reverse("alerts:queue")).content.decode()
    assert employee in queue and "shown as pseudonyms" in queue
    page = client.get(_url(alert)).content.decode()
    assert employee in page and client_pseudonym(masked.pk, "5511999") in page
    for real in REAL_NAMES:
        assert real not in queue and real not in page, real
    assert '<mark class="hit" title="promise">guarantee</mark>' in page  # content is kept
    assert reverse("archive:conversation", args=[alert.conversation_id]) not in page
    assert "Unmask this alert" in page
    # The queue's employee filter names pseudonyms too.
    assert f">{employee}</option>" in queue


def test_unmasking_one_alert_needs_a_reason_and_lasts_for_that_reviewer_and_alert(
    alerts, masked, login_as, oscar, person_factory, tenant_a
):
    alert, other = alerts
    client = login_as(oscar)
    refused = client.post(_url(alert, "unmask"), {"reason": "   "})
    assert refused.status_code == 400 and "This field is required" in refused.content.decode()
    assert _unmaskings(masked) == 0
    response = client.post(_url(alert, "unmask"), {"reason": "Suspected front-running"})
    assert response.status_code == 302
    page = client.get(_url(alert)).content.decode()
    assert "Employee of firm-a (E-firm-a)" in page and "Cliente Silva (+5511999)" in page
    assert reverse("archive:conversation", args=[alert.conversation_id]) in page
    assert "Employee of firm-a" not in client.get(_url(other)).content.decode()
    with tenant_scope(masked):
        event = AuditEvent.objects.get(action="alert.unmasked")
    assert event.actor_label == oscar.email and event.details["reason"] == "Suspected front-running"
    assert event.target_id == str(alert.pk)
    olga = person_factory("olga@firm-a.example", tenant=tenant_a, role=Role.OFFICER)
    assert "Employee of firm-a" not in login_as(olga).get(_url(alert)).content.decode()
    # Unmasking again keeps the first record (no second audit entry).
    client = login_as(oscar)
    client.post(_url(alert, "unmask"), {"reason": "again"})
    assert _unmaskings(masked) == 1


def test_admins_see_the_unmaskings_with_the_reason_escaped(alerts, masked, login_as, oscar, alice):
    unmask_alert(
        alert=alerts[0], actor=Actor.for_user(oscar.user), reason="<script>alert(1)</script>"
    )
    page = login_as(alice).get(reverse("alerts:review_settings")).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert oscar.email in page and f"Alert {alerts[0].pk}<" in page


def test_people_names_are_escaped_when_shown(alerts, masked, login_as, oscar):
    alert = alerts[0]
    with tenant_scope(masked):
        Employee.objects.filter(pk=alert.employee_id).update(full_name="<img src=x onerror=1>")
    unmask_alert(alert=alert, actor=Actor.for_user(oscar.user), reason="check")
    page = login_as(oscar).get(_url(alert)).content.decode()
    assert "&lt;img src=x onerror=1&gt;" in page and "<img src=x" not in page


def test_auditors_are_not_masked(alerts, masked, login_as, audrey):
    page = login_as(audrey).get(_url(alerts[0])).content.decode()
    assert "Employee of firm-a (E-firm-a)" in page and "Unmask this alert" not in page


def test_without_the_setting_nobody_is_masked_and_there_is_nothing_to_unmask(
    alerts, login_as, oscar
):
    page = login_as(oscar).get(_url(alerts[0])).content.decode()
    assert "Employee of firm-a (E-firm-a)" in page and "Unmask this alert" not in page
    with pytest.raises(UnmaskRefused, match="nothing to unmask"):
        unmask_alert(alert=alerts[0], actor=Actor.for_user(oscar.user), reason="why not")


def test_display_people_is_the_api_of_the_rule(alerts, masked, oscar, audrey):
    with tenant_scope(masked):
        alert = Alert.objects.select_related("tenant", "employee", "conversation").get(
            pk=alerts[0].pk
        )
        seen = display_people(alert, oscar.user)
        assert seen == {
            "employee": employee_pseudonym(masked.pk, alert.employee_id),
            "counterparty": client_pseudonym(masked.pk, "5511999"),
            "masked": True,
        }
        assert display_people(alert, audrey.user)["employee"] == "Employee of firm-a (E-firm-a)"


def test_another_firm_cannot_unmask_or_list_unmaskings(alerts, masked, login_as, oscar, bob):
    unmask_alert(alert=alerts[0], actor=Actor.for_user(oscar.user), reason="Firm A's reason")
    client = login_as(bob)
    assert client.post(_url(alerts[0], "unmask"), {"reason": "curious"}).status_code == 404
    page = client.get(reverse("alerts:review_settings")).content.decode()
    assert "Firm A&#x27;s reason" not in page and "Nobody has unmasked an alert" in page
    assert _unmaskings(masked) == 1


def test_an_auditor_cannot_unmask(alerts, masked, login_as, audrey):
    assert login_as(audrey).post(_url(alerts[0], "unmask"), {"reason": "x"}).status_code == 403
    with pytest.raises(UnmaskRefused, match="reviewers"):
        unmask_alert(alert=alerts[0], actor=Actor.for_user(audrey.user), reason="x")


def test_the_operator_gives_the_country_when_creating_a_firm(db):
    from io import StringIO

    from django.core.management import CommandError, call_command

    from compliance_hub.tenancy.models import Tenant

    call_command(
        "create_tenant", "bank-de", "--name", "Bank DE", "--country", "de", stdout=StringIO()
    )
    tenant = Tenant.objects.get(slug="bank-de")
    assert tenant.country == "DE" and review_choices(tenant).pseudonymise is True
    with pytest.raises(CommandError, match="not a country code"):
        call_command("create_tenant", "bank-x", "--name", "X", "--country", "ZZ", stdout=StringIO())
    assert not Tenant.objects.filter(slug="bank-x").exists()
