"""Keys that act for a person (issue 12, branch i12-wall): an admin issues a key for a member;
it carries no more than the member's role, claims, releases and moves alerts as them (the history
and the audit trail name both), and stops working when the member leaves or their role drops.
Keys acting for nobody keep reading, assigning and commenting."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from alerts.models import Alert, AlertEvent, Status
from compliance_hub.accounts.services import change_membership
from compliance_hub.api.keys import KeyRefused, issue_api_key
from compliance_hub.api.models import ApiKey
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Membership, Role

BASE = "/api/v1/alerts/"
CLOSE = {"to": "closed", "disposition": "false_positive", "rationale": "A quote of a fund's ad."}


def _client(plaintext: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plaintext}")
    return client


@pytest.fixture
def oscars_key(tenant_a, oscar) -> str:
    return issue_api_key(
        tenant=tenant_a, role=Role.OFFICER, name="triage script", actor=Actor.system(),
        for_user=oscar.user,
    ).plaintext  # fmt: skip


def test_a_personal_key_claims_and_closes_as_its_member(alert, oscars_key, oscar, tenant_a):
    client = _client(oscars_key)
    claimed = client.post(f"{BASE}{alert.pk}/claim/", format="json")
    assert claimed.status_code == 200, claimed.content
    closed = client.post(f"{BASE}{alert.pk}/transition/", CLOSE, format="json")
    assert closed.status_code == 200, closed.content
    label = "Oscar, through API key 'triage script'"
    with tenant_scope(tenant_a):
        stored = Alert.objects.get(pk=alert.pk)
        events = list(AlertEvent.objects.filter(alert=alert).order_by("id"))
        audited = list(AuditEvent.objects.filter(action__in=["alert.claimed", "alert.closed"]))
    assert stored.status == Status.CLOSED
    assert [(e.actor_id, e.actor_label) for e in events] == [(oscar.user.pk, label)] * 2
    assert len(audited) == 2
    assert all(a.actor_label == label and a.actor_id == oscar.user.pk for a in audited)


def test_a_personal_key_releases_and_bulk_transitions(alerts, oscars_key):
    client = _client(oscars_key)
    first, second = alerts
    assert client.post(f"{BASE}{first.pk}/claim/", format="json").status_code == 200
    assert client.post(f"{BASE}{first.pk}/release/", {}, format="json").status_code == 200
    answer = client.post(
        f"{BASE}bulk-transition/",
        {"alerts": [{"id": first.pk}, {"id": second.pk}], **CLOSE},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    assert sorted(answer.json()["changed"]) == sorted([first.pk, second.pk])


def test_a_key_acting_for_nobody_is_refused_and_told_how(alert, api_client_for, tenant_a):
    answer = api_client_for(tenant_a, Role.OFFICER).post(f"{BASE}{alert.pk}/claim/", format="json")
    assert answer.status_code == 403
    assert "a key issued for you" in answer.json()["error"]["message"]
    with tenant_scope(tenant_a):
        assert Alert.objects.get(pk=alert.pk).claimed_by_id is None


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SENIOR_OFFICER, Role.AUDITOR])
def test_a_key_never_carries_more_than_its_members_role(tenant_a, oscar, role):
    with pytest.raises(KeyRefused, match="their own role is Compliance officer"):
        issue_api_key(
            tenant=tenant_a, role=role, name="x", actor=Actor.system(), for_user=oscar.user
        )
    assert not ApiKey.objects.filter(user=oscar.user).exists()


def test_a_senior_officer_may_have_an_officers_key(tenant_a, person_factory):
    sam = person_factory("sam@firm-a.example", tenant=tenant_a, role=Role.SENIOR_OFFICER)
    issued = issue_api_key(
        tenant=tenant_a, role=Role.OFFICER, name="x", actor=Actor.system(), for_user=sam.user
    )
    assert issued.api_key.user_id == sam.user.pk


def test_the_key_stops_when_the_member_leaves_or_their_role_drops(
    alert, oscars_key, oscar, tenant_a
):
    client = _client(oscars_key)
    assert client.get(BASE).status_code == 200
    membership = Membership.objects.get(tenant=tenant_a, user=oscar.user)
    change_membership(membership=membership, role=Role.AUDITOR, actor=Actor.system())
    refused = client.post(f"{BASE}{alert.pk}/claim/", format="json")
    assert refused.status_code == 401 and "no longer" in refused.json()["error"]["message"]
    change_membership(membership=membership, role=Role.OFFICER, actor=Actor.system())
    assert client.get(BASE).status_code == 200
    change_membership(membership=membership, is_active=False, actor=Actor.system())
    assert client.get(BASE).status_code == 401
    with tenant_scope(tenant_a):
        assert Alert.objects.get(pk=alert.pk).claimed_by_id is None


def test_no_key_for_another_firms_user_and_no_reach_into_another_firm(
    alert, tenant_a, tenant_b, bob, oscars_key
):
    with pytest.raises(KeyRefused, match="not an active member"):
        issue_api_key(
            tenant=tenant_a, role=Role.ADMIN, name="x", actor=Actor.system(), for_user=bob.user
        )
    bobs_key = issue_api_key(
        tenant=tenant_b, role=Role.ADMIN, name="b", actor=Actor.system(), for_user=bob.user
    ).plaintext
    answer = _client(bobs_key).post(f"{BASE}{alert.pk}/claim/", format="json")
    assert answer.status_code == 404
    with tenant_scope(tenant_a):
        assert Alert.objects.get(pk=alert.pk).claimed_by_id is None


def test_the_command_issues_a_key_for_a_member_and_refuses_more_than_their_role(tenant_a, oscar):
    out, err = StringIO(), StringIO()
    call_command(
        "create_api_key", "firm-a", "--role", "officer", "--for", oscar.email, "--name", "t",
        stdout=out, stderr=err,
    )  # fmt: skip
    assert f"acting for {oscar.email}" in err.getvalue()
    assert ApiKey.objects.get(user=oscar.user).role == Role.OFFICER
    with pytest.raises(CommandError, match="may not have the Admin role"):
        call_command("create_api_key", "firm-a", "--role", "admin", "--for", oscar.email)
    with pytest.raises(CommandError, match="No user"):
        call_command("create_api_key", "firm-a", "--role", "officer", "--for", "x@nowhere.example")


def test_an_admin_issues_a_personal_key_on_the_api_keys_page(tenant_a, alice, oscar, login_as):
    client = login_as(alice)
    page = client.get(reverse("api_keys")).content.decode()
    assert "Acts for" in page and oscar.email in page
    refused = client.post(
        reverse("api_keys"), {"name": "too much", "role": "admin", "member": oscar.user.pk}
    )
    assert refused.status_code == 400 and "may not have the Admin role" in refused.content.decode()
    made = client.post(
        reverse("api_keys"), {"name": "triage", "role": "officer", "member": oscar.user.pk}
    )
    assert made.status_code == 200 and "Copy this key now" in made.content.decode()
    key = ApiKey.objects.get(name="triage")
    assert key.user_id == oscar.user.pk
    with tenant_scope(tenant_a):
        created = AuditEvent.objects.filter(action="api_key.created").latest("pk")
    assert created.details["for"] == oscar.email and created.actor_label == alice.email
