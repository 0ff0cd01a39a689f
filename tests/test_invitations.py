"""Invitations: expiring, single-use, and joining a firm through one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from compliance_hub.accounts.models import Invitation, User
from compliance_hub.accounts.services import invite_user
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Membership, Role
from tests.fixtures import login


@pytest.fixture
def invitation_link(tenant_a, alice):
    invitation, link = invite_user(
        tenant=tenant_a,
        email="nina@firm-a.example",
        role=Role.AUDITOR,
        actor=Actor.for_user(alice.user),
    )
    return invitation, link.split("://", 1)[1].split("/", 1)[1]


def _join(client, path: str):
    return client.post(
        "/" + path,
        {
            "full_name": "Nina New",
            "password1": "a-Long-enough-pass-42",
            "password2": "a-Long-enough-pass-42",
        },
    )


def test_admin_invites_from_the_members_page_and_the_email_has_the_link(
    client, tenant_a, alice, mailoutbox, django_capture_on_commit_callbacks
):
    login(client, alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/members/", {"email": "nina@firm-a.example", "role": "officer"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["nina@firm-a.example"]
    assert "/join/" in mailoutbox[0].body
    page = client.get("/members/").content.decode()
    assert "nina@firm-a.example" in page


def test_a_new_person_joins_and_must_then_set_up_mfa(client, tenant_a, invitation_link):
    _, path = invitation_link
    page = client.get("/" + path)
    assert page.status_code == 200 and tenant_a.name in page.content.decode()
    response = _join(client, path)
    assert response.status_code == 302
    user = User.objects.get(email="nina@firm-a.example")
    assert Membership.objects.get(tenant=tenant_a, user=user).role == Role.AUDITOR
    follow = client.get("/", HTTP_ACCEPT="text/html")
    assert follow.status_code == 302 and "/accounts/2fa/totp/activate" in follow["Location"]


def test_an_invitation_works_once(client, tenant_a, invitation_link):
    _, path = invitation_link
    _join(client, path)
    client.post("/accounts/logout/")
    again = client.get("/" + path)
    assert again.status_code == 410
    assert "already been used" in again.content.decode()
    assert _join(client, path).status_code == 410
    assert User.objects.filter(email="nina@firm-a.example").count() == 1


def test_an_expired_invitation_is_refused_and_changes_nothing(client, tenant_a, invitation_link):
    invitation, path = invitation_link
    with tenant_scope(tenant_a):
        Invitation.objects.filter(pk=invitation.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    response = _join(client, path)
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert not User.objects.filter(email="nina@firm-a.example").exists()


@pytest.mark.parametrize("token", ["nonsense", "1.wrong", "999999.x", "."])
def test_a_forged_link_is_refused(client, tenant_a, token):
    response = client.get(f"/join/{token}/")
    assert response.status_code == 410
    assert "not valid" in response.content.decode()


def test_an_existing_account_must_log_in_as_the_invited_address(
    client, tenant_a, tenant_b, bob, alice
):
    _, link = invite_user(tenant=tenant_a, email=bob.email, role=Role.OFFICER, actor=Actor.system())
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    assert "sign in with it" in client.get(path).content.decode().lower()
    login(client, alice)  # the wrong person
    wrong = client.get(path).content.decode()
    assert f"signed in as <strong>{alice.email}</strong>" in wrong
    assert not Membership.objects.filter(tenant=tenant_a, user=bob.user).exists()
    client.post("/accounts/logout/")
    login(client, bob)
    assert client.post(path).status_code == 302
    assert Membership.objects.get(tenant=tenant_a, user=bob.user).role == Role.OFFICER


def test_a_person_in_two_firms_switches_between_them(client, tenant_a, tenant_b, alice):
    from compliance_hub.accounts.services import add_member

    add_member(tenant=tenant_b, user=alice.user, role=Role.AUDITOR, actor=Actor.system())
    login(client, alice)
    assert tenant_a.name in client.get("/").content.decode()
    membership_b = Membership.objects.get(tenant=tenant_b, user=alice.user)
    client.post("/tenant/switch/", {"membership": membership_b.pk})
    page = client.get("/").content.decode()
    assert tenant_b.name in page
    assert client.get("/members/").status_code == 403  # an auditor there


def test_switching_to_a_firm_you_are_not_in_is_refused(client, tenant_a, tenant_b, alice, bob):
    login(client, alice)
    foreign = Membership.objects.get(tenant=tenant_b, user=bob.user)
    client.post("/tenant/switch/", {"membership": foreign.pk})
    page = client.get("/").content.decode()
    assert tenant_a.name in page and tenant_b.name not in page
