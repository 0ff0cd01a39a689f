"""Tiered review: the senior compliance officer does everything an officer does, and only senior
officers and admins see and work escalated (second-level) alerts; a plain officer meets them as
another firm's alerts (404)."""

from __future__ import annotations

import importlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from alerts.models import Alert, Level, Status
from alerts.services import (
    NotAReviewer,
    SeniorReviewOnly,
    assign_alert,
    claim_alert,
    close_group,
    transition_alert,
)
from compliance_hub.accounts.models import User
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Membership, Role, Tenant
from compliance_hub.tenancy.roles import READER_ROLES, REVIEWER_ROLES, SENIOR_ROLES


@pytest.fixture
def sena(tenant_a, person_factory):
    """Senior compliance officer of firm A."""
    return person_factory("sena@firm-a.example", tenant=tenant_a, role=Role.SENIOR_OFFICER)


def _stored(alert: Alert) -> Alert:
    with tenant_scope(alert.tenant_id):
        return Alert.objects.get(pk=alert.pk)


def _escalate(alert: Alert, person) -> Alert:
    return transition_alert(
        alert=alert, actor=Actor.for_user(person.user), to=Status.ESCALATED, expected_version=None
    )


def _url(alert: Alert, name: str = "alert") -> str:
    return reverse(f"alerts:{name}", args=[alert.pk])


# Every module-level list of roles that names officers: each must come from the groups in
# compliance_hub/tenancy/roles.py, so the senior officer has every right an officer has.
ROLE_LISTS = [
    ("archive.selectors", "READ_ROLES"),
    ("archive.holds.api", "WRITE_ROLES"),
    ("archive.holds.views", "WRITE_ROLES"),
    ("archive.retention.api", "READ_ROLES"),
    ("policies.views", "READ_ROLES"),
    ("policies.views", "WRITE_ROLES"),
    ("policies.api.views", "WRITE_ROLES"),
    ("policies.run_selectors", "RUN_ROLES"),
    ("policies.run_selectors", "READ_ROLES"),
    ("consent.views._common", "TENANT_ROLES"),
]


@pytest.mark.parametrize(("module", "name"), ROLE_LISTS)
def test_every_list_that_names_officers_names_senior_officers_too(module, name):
    roles = getattr(importlib.import_module(module), name)
    assert Role.OFFICER in roles and Role.SENIOR_OFFICER in roles
    assert tuple(roles) in (READER_ROLES, REVIEWER_ROLES)


def test_the_role_groups():
    assert set(REVIEWER_ROLES) == {Role.OFFICER, Role.SENIOR_OFFICER, Role.ADMIN}
    assert set(READER_ROLES) == set(Role.values)
    assert set(SENIOR_ROLES) == {Role.SENIOR_OFFICER, Role.ADMIN}


@pytest.mark.parametrize("path", ["/alerts/", "/archive/", "/policies/", "/employees/"])
def test_a_senior_officer_opens_the_officers_pages(client, login_as, sena, path):
    response = login_as(sena).get(path)
    assert response.status_code == 200, path


def test_escalation_moves_the_alert_to_the_second_level_out_of_a_plain_officers_sight(
    alerts, login_as, oscar, sena
):
    escalated, other = alerts
    _escalate(escalated, oscar)
    assert _stored(escalated).level == Level.SENIOR
    client = login_as(oscar)
    queue = client.get(reverse("alerts:queue"), {"status": "all"}).content.decode()
    assert f"Alert {other.pk}<" in queue and f"Alert {escalated.pk}<" not in queue
    assert client.get(_url(escalated)).status_code == 404
    for name in ("claim", "release", "transition", "assign", "comment"):
        response = client.post(_url(escalated, name), {"to": "closed", "version": 1, "body": "x"})
        assert response.status_code == 404, name
    # The first-level alert's page does not link to it either (its group, earlier alerts).
    page = client.get(_url(other)).content.decode()
    assert f'href="/alerts/{escalated.pk}/"' not in page


@pytest.mark.parametrize("role", [Role.SENIOR_OFFICER, Role.ADMIN])
def test_senior_officers_and_admins_see_and_close_second_level_alerts(
    alerts, client, oscar, person_factory, tenant_a, role
):
    escalated, _ = alerts
    _escalate(escalated, oscar)
    senior = person_factory("senior@firm-a.example", tenant=tenant_a, role=role)
    client.force_login(senior.user, backend="django.contrib.auth.backends.ModelBackend")
    queue = client.get(reverse("alerts:queue")).content.decode()
    assert f"Alert {escalated.pk}<" in queue and "senior</span>" in queue
    page = client.get(_url(escalated)).content.decode()
    assert "(senior review)" in page and "Claim for review" in page
    stored = _stored(escalated)
    response = client.post(
        _url(escalated, "transition"),
        {"to": "closed", "disposition": "false_positive", "rationale": "Checked with the desk",
         "version": stored.version},
    )  # fmt: skip
    assert response.status_code == 302
    assert _stored(escalated).status == Status.CLOSED


def test_an_auditor_reads_second_level_alerts_but_cannot_act(alerts, login_as, oscar, audrey):
    escalated, _ = alerts
    _escalate(escalated, oscar)
    client = login_as(audrey)
    assert client.get(_url(escalated)).status_code == 200
    assert client.post(_url(escalated, "claim")).status_code == 403


def test_the_services_refuse_a_plain_officer_on_a_second_level_alert(alerts, oscar, sena):
    escalated, _ = alerts
    _escalate(escalated, oscar)
    before = _stored(escalated).version
    with pytest.raises(SeniorReviewOnly):
        claim_alert(alert=escalated, actor=Actor.for_user(oscar.user))
    with pytest.raises(SeniorReviewOnly):
        transition_alert(
            alert=escalated, actor=Actor.for_user(oscar.user), to=Status.CLOSED,
            disposition="false_positive", rationale="no", expected_version=None,
        )  # fmt: skip
    assert _stored(escalated).version == before
    claimed = claim_alert(alert=escalated, actor=Actor.for_user(sena.user))
    assert claimed.claimed_by_id == sena.user.pk


def test_second_level_alerts_are_assigned_only_to_senior_officers_and_admins(
    alerts, alice, oscar, sena
):
    escalated, _ = alerts
    _escalate(escalated, oscar)
    with pytest.raises(NotAReviewer, match="senior officers and admins"):
        assign_alert(
            alert=escalated, actor=Actor.for_user(alice.user), assignee=oscar.user,
            expected_version=None,
        )  # fmt: skip
    assert _stored(escalated).assignee_id is None
    assigned = assign_alert(
        alert=escalated, actor=Actor.for_user(alice.user), assignee=sena.user,
        expected_version=None,
    )  # fmt: skip
    assert assigned.assignee_id == sena.user.pk


def test_escalating_unassigns_a_plain_officer(alerts, alice, oscar):
    alert, _ = alerts
    assign_alert(
        alert=alert, actor=Actor.for_user(alice.user), assignee=oscar.user, expected_version=None
    )
    _escalate(alert, oscar)
    stored = _stored(alert)
    assert stored.level == Level.SENIOR and stored.assignee_id is None


def test_closing_a_group_leaves_its_second_level_alerts_to_the_seniors(alerts, oscar):
    first, escalated = alerts
    with tenant_scope(first.tenant_id):
        Alert.objects.filter(pk=escalated.pk).update(group_key=first.group_key)
    _escalate(escalated, oscar)
    closed = transition_alert(
        alert=first, actor=Actor.for_user(oscar.user), to=Status.CLOSED,
        disposition="false_positive", rationale="A quote", expected_version=None,
    )  # fmt: skip
    assert close_group(
        alert=closed, actor=Actor.for_user(oscar.user), disposition="false_positive",
        rationale="A quote",
    ) == []  # fmt: skip
    assert _stored(escalated).status == Status.ESCALATED


def test_an_admin_gives_the_senior_role_on_the_members_page(client, login_as, alice, oscar):
    client = login_as(alice)
    page = client.get("/members/").content.decode()
    assert 'value="senior_officer"' in page and "Senior compliance officer" in page
    membership = Membership.objects.get(user=oscar.user)
    client.post(f"/members/{membership.pk}/", {"role": "senior_officer", "is_active": "on"})
    membership.refresh_from_db()
    assert membership.role == Role.SENIOR_OFFICER


def test_the_demo_has_a_senior_officer(db):
    call_command("seed_demo", stdout=StringIO())
    demo = Tenant.objects.get(slug="demo")
    senior = User.objects.get(email="senior@demo.example")
    assert Membership.objects.get(tenant=demo, user=senior).role == Role.SENIOR_OFFICER
