"""Ids and filters typed into the platform pages' forms and addresses: a clear answer, never a
500 (nonsense, unicode digits, numbers too big for the database, NUL characters)."""

from __future__ import annotations

import pytest

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.models import Membership, Role
from tests.fixtures import login

BAD_IDS = ["abc", "", "1.5", "²", "-1", "99999999999999999999", "1\x00", " 1e3"]


@pytest.mark.parametrize("value", BAD_IDS)
def test_switching_firm_with_a_nonsense_id_is_a_clear_message(client, tenant_a, alice, value):
    login(client, alice)
    response = client.post("/tenant/switch/", {"membership": value}, follow=True)
    assert response.status_code == 200
    assert "not a member of that firm" in response.content.decode()
    assert tenant_a.name in response.content.decode()


def test_switching_firm_without_any_id_is_a_clear_message(client, tenant_a, alice):
    login(client, alice)
    response = client.post("/tenant/switch/", follow=True)
    assert response.status_code == 200
    assert "not a member of that firm" in response.content.decode()


def test_switching_firm_still_works(client, tenant_a, tenant_b, alice):
    from compliance_hub.accounts.services import add_member

    add_member(tenant=tenant_b, user=alice.user, role=Role.AUDITOR, actor=Actor.system())
    login(client, alice)
    membership = Membership.objects.get(tenant=tenant_b, user=alice.user)
    response = client.post("/tenant/switch/", {"membership": str(membership.pk)}, follow=True)
    assert f"You are now working in {tenant_b.name}" in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/members/99999999999999999999/",
        "/members/invitations/99999999999999999999/revoke/",
        "/api-keys/99999999999999999999/revoke/",
    ],
)
def test_ids_too_big_for_the_database_are_not_found(client, tenant_a, alice, path):
    login(client, alice)
    assert client.post(path, {"role": "officer"}).status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "since=abc",
        "until=99999-01-01",
        "since=0001-01-01&until=9999-12-31",
        "ip_address=not-an-ip",
        "actor=%00",
        "action=auth.%00",
        "page=abc",
        "page=99999999999999999999",
    ],
)
def test_the_audit_trail_answers_nonsense_filters_clearly(client, tenant_a, alice, query):
    login(client, alice)
    assert client.get(f"/audit/?{query}").status_code == 200


@pytest.mark.parametrize("query", ["actor=%00", "since=abc", "zzz=%00", "ip_address=x"])
def test_the_audit_export_answers_nonsense_filters(client, tenant_a, alice, query):
    login(client, alice)
    response = client.get(f"/audit/export.csv?{query}")
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert "filter" in response.content.decode().lower()


@pytest.mark.parametrize("field", ["role", "is_active"])
def test_member_update_with_nonsense_is_a_clear_message(client, tenant_a, alice, oscar, field):
    login(client, alice)
    membership = Membership.objects.get(tenant=tenant_a, user=oscar.user)
    data = {"role": "officer", "is_active": "on", field: "\x00"}
    response = client.post(f"/members/{membership.pk}/", data, follow=True)
    assert response.status_code == 200


@pytest.mark.parametrize("email", ["a\x00@firm-a.example", "x" * 300 + "@firm-a.example"])
def test_the_login_form_answers_nonsense_clearly(client, db, email):
    response = client.post("/accounts/login/", {"login": email, "password": "p\x00"})
    assert response.status_code == 200


def test_the_join_form_answers_nonsense_clearly(client, tenant_a, alice):
    from compliance_hub.accounts.services import invite_user

    _, link = invite_user(
        tenant=tenant_a, email="nina@firm-a.example", role=Role.OFFICER, actor=Actor.system()
    )
    path = "/join/" + link.split("/join/", 1)[1]
    data = {"full_name": "Nina\x00", "password1": "x\x00" * 8, "password2": "x\x00" * 8}
    assert client.post(path, data).status_code == 200
