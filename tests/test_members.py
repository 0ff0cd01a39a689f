"""The Members page: an admin cannot lock themselves out or leave the firm without an admin;
the local demo shows the invitation link (the email goes to the console there)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from compliance_hub.accounts.services import add_member, change_membership
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.models import Membership, Role
from tests.database import side_by_side
from tests.fixtures import login

CONSOLE = "django.core.mail.backends.console.EmailBackend"


def _membership(tenant, person) -> Membership:
    return Membership.objects.get(tenant=tenant, user=person.user)


@pytest.mark.parametrize(
    "data", [{"role": "officer", "is_active": "on"}, {"role": "admin"}], ids=["role", "access"]
)
def test_an_admin_cannot_change_their_own_role_or_access(
    client, tenant_a, alice, person_factory, data
):
    person_factory("second-admin@firm-a.example", tenant=tenant_a, role=Role.ADMIN)
    login(client, alice)
    own = _membership(tenant_a, alice)
    response = client.post(f"/members/{own.pk}/", data, follow=True)
    assert "your own" in response.content.decode().lower()
    own.refresh_from_db()
    assert (own.role, own.is_active) == (Role.ADMIN, True)


def test_the_members_page_offers_no_controls_for_your_own_row(client, tenant_a, alice, oscar):
    login(client, alice)
    page = client.get("/members/").content.decode()
    own = _membership(tenant_a, alice)
    other = _membership(tenant_a, oscar)
    assert f'form="member-{other.pk}"' in page
    assert f'form="member-{own.pk}"' not in page


def test_an_admin_still_changes_another_member(client, tenant_a, alice, oscar):
    login(client, alice)
    other = _membership(tenant_a, oscar)
    client.post(f"/members/{other.pk}/", {"role": "auditor", "is_active": "on"})
    other.refresh_from_db()
    assert other.role == Role.AUDITOR


def test_the_platform_path_cannot_demote_the_last_admin(tenant_a, alice):
    with pytest.raises(ValidationError, match="at least one active admin"):
        add_member(tenant=tenant_a, user=alice.user, role=Role.OFFICER, actor=Actor.system())
    assert _membership(tenant_a, alice).role == Role.ADMIN


@pytest.mark.django_db(transaction=True)
def test_two_admins_demoting_each_other_at_once_leave_one_admin(person_factory):
    from compliance_hub.tenancy.services import create_tenant

    firm = create_tenant(slug="firm-x", name="Firm X", actor=Actor.system())
    one = person_factory("one@firm-x.example", tenant=firm, role=Role.ADMIN)
    two = person_factory("two@firm-x.example", tenant=firm, role=Role.ADMIN)

    def demoting(actor, target):
        def demote(meet):
            membership = Membership.objects.select_related("user", "tenant").get(
                tenant=firm, user=target.user
            )
            meet()  # both have read two active admins before either writes
            change_membership(
                membership=membership, role=Role.OFFICER, actor=Actor.for_user(actor.user)
            )

        return demote

    errors = side_by_side(demoting(one, two), demoting(two, one))

    [refused] = errors  # the other demotion went through
    assert isinstance(refused, ValidationError)
    assert Membership.objects.filter(tenant=firm, role=Role.ADMIN, is_active=True).count() == 1


def test_the_local_demo_shows_the_member_invitation_link(client, tenant_a, alice, settings):
    settings.EMAIL_BACKEND = CONSOLE
    login(client, alice)
    response = client.post(
        "/members/", {"email": "nina@firm-a.example", "role": "officer"}, follow=True
    )
    page = response.content.decode()
    assert "/join/" in page and "demo-link" in page


@pytest.mark.parametrize("production", [True, False], ids=["production", "real-mail"])
def test_the_link_is_never_shown_when_mail_is_really_sent(
    client, tenant_a, alice, settings, production
):
    settings.EMAIL_BACKEND = (
        CONSOLE if production else "django.core.mail.backends.smtp.EmailBackend"
    )
    settings.IS_PRODUCTION = production
    login(client, alice)
    response = client.post(
        "/members/", {"email": "nina@firm-a.example", "role": "officer"}, follow=True
    )
    page = response.content.decode()
    assert "Invitation sent" in page and "/join/" not in page


def test_the_api_cannot_demote_the_last_admin(api_client_for, tenant_a, alice):
    own = _membership(tenant_a, alice)
    response = api_client_for(tenant_a).patch(
        f"/api/v1/memberships/{own.pk}/", {"role": "officer"}, format="json"
    )
    assert response.status_code == 400
    assert "at least one active admin" in str(response.json())
    assert _membership(tenant_a, alice).role == Role.ADMIN
