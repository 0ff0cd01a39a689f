"""Consent evidence that can be believed (issue 8): the typed signature is the employee's own
name, a consent is dated within what can be true, and the employee page offers only the
actions that fit the consent state (the services refuse the others too)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from consent import services
from consent.models import ConsentEvent, ConsentInvitation, ConsentState, Employee
from consent.selectors import consent_state_of
from tests.fixtures import login


def _employee(tenant, **overrides) -> Employee:
    values = {
        "full_name": "Diego Alves",
        "email": "diego@firm-a.example",
        "employee_id": "E-7",
        "phone_number": "+34 612 345 678",
        "region": "ES",
    }
    values.update(overrides)
    return services.create_employee(
        tenant=tenant, data=services.EmployeeData(**values), actor=Actor.system()
    )


@pytest.fixture
def diego(tenant_a) -> Employee:
    return _employee(tenant_a)


def _events(employee: Employee) -> list[tuple[str, str]]:
    with tenant_scope(employee.tenant_id):
        return list(
            ConsentEvent.objects.filter(employee=employee).values_list("kind", "signature_name")
        )


def _path(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


# --- 1. the typed signature --------------------------------------------------------------------


def test_a_signature_that_is_not_the_employees_name_is_refused_and_nothing_is_recorded(diego):
    invitation, _link = services.invite_employee(employee=diego, actor=Actor.system())
    for typed in ("x", "Diego", "Diego Alves Junior", "Alves Diego"):
        with pytest.raises(services.ConsentError, match="type your full name as shown"):
            services.accept_consent(
                invitation=invitation,
                signature_name=typed,
                actor=Actor.link_visitor(None, label=invitation.employee.audit_label),
            )
    assert _events(diego) == []
    with tenant_scope(diego.tenant_id):
        invitation.refresh_from_db()
    assert invitation.responded_at is None  # the link still works


def test_case_accents_and_spacing_are_forgiven_and_the_signature_is_kept_as_typed(tenant_a):
    josé = _employee(tenant_a, full_name="José María  Núñez", employee_id="E-8")
    invitation, _link = services.invite_employee(employee=josé, actor=Actor.system())
    event = services.accept_consent(
        invitation=invitation,
        signature_name="  jose maria   NUNEZ ",
        actor=Actor.link_visitor(None, label=invitation.employee.audit_label),
    )
    assert event.signature_name == "jose maria NUNEZ"
    # NFKD also folds compatibility forms, such as the full-width letters of some keyboards.
    full_width_ana = "\uff21\uff4e\uff41"
    assert services.folded_name(f"{full_width_ana}  ÇAĞLAR") == services.folded_name("ana caglar")


def test_the_paper_and_api_paths_check_the_signature_with_the_same_rule(
    diego, api_client_for, tenant_a
):
    with pytest.raises(services.ConsentError, match="must be Diego Alves's full name"):
        services.record_consent(
            employee=diego, actor=Actor.system(), evidence_reference="HR file", signature_name="x"
        )
    api = api_client_for(tenant_a, Role.ADMIN)
    refused = api.post(
        f"/api/v1/employees/{diego.pk}/consents/",
        {"evidence_reference": "HR file", "signature_name": "x"},
        format="json",
    )
    assert refused.status_code == 400 and "Diego Alves" in refused.content.decode()
    assert _events(diego) == []
    services.record_consent(
        employee=diego,
        actor=Actor.system(),
        evidence_reference="HR file",
        signature_name="DIEGO ALVES",
    )
    assert _events(diego) == [("granted", "DIEGO ALVES")]


def test_the_page_says_what_to_type_next_to_the_field_and_refuses_anything_else(client, diego):
    _invitation, link = services.invite_employee(employee=diego, actor=Actor.system())
    path = _path(link)
    page = client.get(path).content.decode()
    # Diego's language is Spanish: the rule is said there, in Spanish, beside the field.
    assert "Escríbalo como aparece aquí: Diego Alves." in page
    assert 'aria-describedby="id_signature_name_helptext"' in page
    refused = client.post(path, {"action": "accept", "signature_name": "x"})
    assert refused.status_code == 400
    body = refused.content.decode()
    assert (
        "Para firmar, escriba su nombre completo como aparece en esta página: Diego Alves." in body
    )
    assert _events(diego) == []
    accepted = client.post(path, {"action": "accept", "signature_name": "diego alves"})
    assert accepted.status_code == 200
    assert _events(diego) == [("granted", "diego alves")]


# --- 7. when a consent can be dated ------------------------------------------------------------


def test_a_consent_dated_to_year_1_is_refused_through_the_api(diego, api_client_for, tenant_a):
    api = api_client_for(tenant_a, Role.ADMIN)
    response = api.post(
        f"/api/v1/employees/{diego.pk}/consents/",
        {"evidence_reference": "HR file", "occurred_at": "0001-01-01T00:00:00Z"},
        format="json",
    )
    assert response.status_code == 400
    assert "cannot be dated before notice version 1 was published" in response.content.decode()
    assert _events(diego) == []


def test_a_consent_before_the_employee_or_the_notice_version_existed_is_refused(tenant_a, diego):
    with pytest.raises(services.ConsentError, match="before Diego Alves was added"):
        services.record_consent(
            employee=diego,
            actor=Actor.system(),
            evidence_reference="HR file",
            # Version 1 was published with the firm, a moment before Diego was added.
            occurred_at=diego.created_at - timedelta(microseconds=1),
        )
    v2 = services.publish_notice(
        notice=services.create_notice_draft(
            tenant=tenant_a,
            texts={"en": {"title": "Monitoring", "body": "What we capture."}},
            actor=Actor.system(),
        ),
        actor=Actor.system(),
    )
    with pytest.raises(services.ConsentError, match="before notice version 2 was published"):
        services.record_consent(
            employee=diego,
            actor=Actor.system(),
            notice=v2,
            evidence_reference="HR file",
            occurred_at=v2.published_at - timedelta(seconds=1),
        )
    assert _events(diego) == []


def test_the_future_is_refused_beyond_a_small_clock_skew(diego):
    with pytest.raises(services.ConsentError, match="in the future"):
        services.record_consent(
            employee=diego,
            actor=Actor.system(),
            evidence_reference="HR file",
            occurred_at=timezone.now() + timedelta(minutes=10),
        )
    event = services.record_consent(
        employee=diego,
        actor=Actor.system(),
        evidence_reference="HR file",
        occurred_at=timezone.now() + timedelta(minutes=2),  # a scanner's clock ahead
    )
    assert event.kind == ConsentEvent.Kind.GRANTED


def test_the_paper_form_explains_a_date_before_the_employee_was_added(client, alice, diego):
    login(client, alice)
    response = client.post(
        f"/employees/{diego.pk}/consent/record/",
        {
            "notice": services.current_notice(tenant=diego.tenant).pk,
            "evidence_reference": "HR file",
            "signed_on": "2001-01-01",
        },
        follow=True,
    )
    body = response.content.decode()
    assert "The opt-in was not recorded: The consent cannot be dated before" in body
    assert _events(diego) == []


# --- 4. actions that fit the consent state -----------------------------------------------------


def test_after_an_opt_in_the_page_offers_withdrawal_but_no_invitation_or_paper_form(
    client, alice, diego
):
    login(client, alice)
    before = client.get(f"/employees/{diego.pk}/").content.decode()
    assert "Send consent invitation" in before and "Record an opt-in given on paper" in before
    assert "Withdraw consent" not in before
    services.record_consent(employee=diego, actor=Actor.system(), evidence_reference="HR file")
    after = client.get(f"/employees/{diego.pk}/").content.decode()
    assert "Send consent invitation" not in after
    assert "Record an opt-in given on paper" not in after
    assert "Withdraw consent" in after
    assert "consented to notice version 1, the current one" in after


def test_the_services_refuse_what_the_page_no_longer_offers(
    client, alice, tenant_a, diego, api_client_for
):
    services.record_consent(employee=diego, actor=Actor.system(), evidence_reference="HR file")
    with pytest.raises(services.ConsentError, match="already consented to notice version 1"):
        services.invite_employee(employee=diego, actor=Actor.system())
    with pytest.raises(services.ConsentError, match="already consented to notice version 1"):
        services.record_consent(employee=diego, actor=Actor.system(), evidence_reference="again")
    again = api_client_for(tenant_a, Role.ADMIN).post(
        f"/api/v1/employees/{diego.pk}/consents/", {"evidence_reference": "again"}, format="json"
    )
    assert again.status_code == 409 and "already consented" in again.json()["error"]["message"]
    login(client, alice)
    forged = client.post(f"/employees/{diego.pk}/invite/", follow=True)
    assert "no invitation is needed" in forged.content.decode()
    with tenant_scope(tenant_a):
        assert not ConsentInvitation.objects.filter(employee=diego).exists()
    assert len(_events(diego)) == 1


def test_a_new_notice_version_makes_asking_again_sensible(client, alice, tenant_a, diego):
    services.record_consent(employee=diego, actor=Actor.system(), evidence_reference="HR file")
    services.publish_notice(
        notice=services.create_notice_draft(
            tenant=tenant_a,
            texts={"en": {"title": "Monitoring", "body": "What we capture."}},
            actor=Actor.system(),
        ),
        actor=Actor.system(),
    )
    login(client, alice)
    page = client.get(f"/employees/{diego.pk}/").content.decode()
    assert "Ask to consent to version 2" in page and "Withdraw consent" in page
    services.invite_employee(employee=diego, actor=Actor.system())
    with tenant_scope(tenant_a):
        assert consent_state_of(employee=diego) == ConsentState.COVERED
        assert ConsentInvitation.objects.filter(employee=diego).count() == 1
