"""Per-firm SLAs (and the pseudonymisation switch) on the admins' settings page: defaults from
settings.ALERTS_SLA_HOURS, changes audited and used for new alerts' due times, bad input
answered in words with nothing changed, other firms untouched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from alerts.models import Alert, ReviewSettings
from alerts.raising import due_at
from alerts.review_settings import (
    ReviewSettingsError,
    review_choices,
    sla_hours_of,
    update_review_settings,
)
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from tests.alerts.helpers import raise_alerts_for

URL = reverse("alerts:review_settings")
DEFAULTS = {"sla_critical": "4", "sla_high": "24", "sla_medium": "72", "sla_low": "168"}


def _changes(tenant) -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(action="alert_settings.changed"))


def test_due_at_uses_the_firms_hours_else_the_settings():
    raised = datetime(2026, 3, 1, 9, tzinfo=UTC)
    assert due_at("high", raised) == raised + timedelta(hours=24)
    assert due_at("high", raised, {"high": 2, "low": 9}) == raised + timedelta(hours=2)
    assert due_at("unknown", raised, {"high": 2, "low": 9}) == raised + timedelta(hours=9)


def test_the_page_shows_the_defaults_to_admins_only(client, login_as, alice, oscar, tenant_a):
    page = login_as(alice).get(URL).content.decode()
    assert 'name="sla_high" value="24"' in page and "Pseudonymised review" in page
    assert login_as(oscar).get(URL).status_code == 403


def test_an_admin_changes_the_sla_and_new_alerts_are_due_sooner(
    client, login_as, alice, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    response = login_as(alice).post(URL, {**DEFAULTS, "sla_high": "2", "pseudonymise": "on"})
    assert response.status_code == 302
    assert review_choices(tenant_a).pseudonymise is True
    assert sla_hours_of(tenant_a.pk)["high"] == 2 and sla_hours_of(tenant_b.pk)["high"] == 24
    (change,) = _changes(tenant_a)
    assert change.actor_label == alice.email
    assert change.details["before"]["sla_hours"]["high"] == 24
    assert change.details["after"] == {
        "pseudonymise": True,
        "sla_hours": {"critical": 4, "high": 2, "medium": 72, "low": 168},
    }
    raised = raise_alerts_for(tenant_a, capture=django_capture_on_commit_callbacks)
    assert raised and all(a.due_at - a.created_at < timedelta(hours=2, seconds=5) for a in raised)
    assert all(a.due_at - a.created_at > timedelta(hours=1, minutes=59) for a in raised)
    # Saving the same values again records nothing new.
    login_as(alice).post(URL, {**DEFAULTS, "sla_high": "2", "pseudonymise": "on"})
    assert len(_changes(tenant_a)) == 1


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("0", "At least 1 hour"),
        ("-5", "cannot be negative"),
        ("99999999", "At most 8760 hours"),
        ("9" * 40, "At most 8760 hours"),
        ("\u0661\u0662", "digits 0-9"),  # Arabic-Indic twelve
        ("\u00b2", "digits 0-9"),  # superscript two: isdigit() is true, int() refuses it
        ("\uff11", "digits 0-9"),  # fullwidth one
        ("1.5", "digits 0-9"),
        ("", "This field is required"),
    ],
)
def test_bad_hours_are_answered_in_words_and_change_nothing(
    client, login_as, alice, tenant_a, typed, answer
):
    response = login_as(alice).post(URL, {**DEFAULTS, "sla_medium": typed})
    assert response.status_code == 400
    assert answer in response.content.decode()
    with tenant_scope(tenant_a):
        assert not ReviewSettings.objects.exists()
    assert _changes(tenant_a) == []


def test_the_service_refuses_what_the_page_would(tenant_a):
    with pytest.raises(ReviewSettingsError) as refused:
        update_review_settings(
            tenant=tenant_a, actor=Actor.system(), pseudonymise=False,
            sla_hours={"high": 0, "urgent": 3},
        )  # fmt: skip
    assert set(refused.value.problems) == {"high", "urgent"}
    assert sla_hours_of(tenant_a.pk)["high"] == 24


def test_another_firms_admin_changes_only_their_own(client, login_as, bob, tenant_a, tenant_b):
    login_as(bob).post(URL, {**DEFAULTS, "sla_low": "48"})
    assert sla_hours_of(tenant_b.pk)["low"] == 48 and sla_hours_of(tenant_a.pk)["low"] == 168


def test_alerts_raised_before_a_change_keep_their_due_time(
    tenant_a, django_capture_on_commit_callbacks
):
    raised = raise_alerts_for(tenant_a, capture=django_capture_on_commit_callbacks)
    update_review_settings(
        tenant=tenant_a, actor=Actor.system(), pseudonymise=False, sla_hours={"high": 1}
    )
    with tenant_scope(tenant_a):
        assert [a.due_at for a in Alert.objects.order_by("message_id")] == [
            a.due_at for a in raised
        ]
