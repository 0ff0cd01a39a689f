"""Invariants of the consent services and the database behind them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from consent import services as consent
from consent.models import ConsentEvent, ConsentNotice, ConsentState, Employee, NumberClaim
from consent.selectors import consent_state_of


def state(employee: Employee) -> str:
    with tenant_scope(employee.tenant_id):
        return consent_state_of(employee=employee)


def employee_data(**overrides) -> consent.EmployeeData:
    values = {
        "full_name": "Priya Sharma",
        "email": "priya@example.com",
        "employee_id": "IN-7",
        "phone_number": "+91 98765 43210",
        "region": "IN",
        "whatsapp_phone_number_id": "123456789012",
    }
    values.update(overrides)
    return consent.EmployeeData(**values)


def test_a_new_tenant_starts_with_the_default_notice_published_in_every_language(tenant_a):
    notice = consent.current_notice(tenant=tenant_a)
    assert notice.version == 1 and notice.is_published
    assert set(notice.texts) == {"en", "pt-br", "es", "hi"}
    for language, text in notice.texts.items():
        assert tenant_a.name in text["title"] + text["body"], language
        assert "{firm}" not in text["body"]
    assert notice.content_sha256 == consent.notice_hash(notice.texts)


def test_a_published_notice_cannot_be_changed_even_in_sql(tenant_a):
    notice = consent.current_notice(tenant=tenant_a)
    with pytest.raises(consent.ConsentError, match="never changes"):
        consent.update_notice_draft(
            notice=notice, texts={"en": {"title": "x", "body": "y"}}, actor=Actor.system()
        )
    with tenant_scope(tenant_a):
        with pytest.raises(DatabaseError, match="never changes"), transaction.atomic():
            ConsentNotice.objects.filter(pk=notice.pk).update(texts={})
        with pytest.raises(DatabaseError), transaction.atomic():
            ConsentNotice.objects.filter(pk=notice.pk).delete()
        notice.refresh_from_db()
    assert notice.content_sha256 == consent.notice_hash(notice.texts)


def test_an_empty_draft_cannot_be_published(tenant_a):
    draft = consent.create_notice_draft(tenant=tenant_a, texts={}, actor=Actor.system())
    with pytest.raises(consent.ConsentError, match="empty notice"):
        consent.publish_notice(notice=draft, actor=Actor.system())
    half = consent.create_notice_draft(
        tenant=tenant_a, texts={"en": {"title": "T", "body": ""}}, actor=Actor.system()
    )
    with pytest.raises(consent.ConsentError, match="title and a text"):
        consent.publish_notice(notice=half, actor=Actor.system())
    with tenant_scope(tenant_a):
        assert ConsentNotice.objects.filter(status="published").count() == 1


def test_publishing_numbers_versions_in_order(tenant_a):
    texts = {"en": {"title": "Monitoring", "body": "What we capture."}}
    v2 = consent.publish_notice(
        notice=consent.create_notice_draft(tenant=tenant_a, texts=texts, actor=Actor.system()),
        actor=Actor.system(),
    )
    v3 = consent.publish_notice(
        notice=consent.create_notice_draft(tenant=tenant_a, texts=texts, actor=Actor.system()),
        actor=Actor.system(),
    )
    assert (v2.version, v3.version) == (2, 3)
    assert consent.current_notice(tenant=tenant_a).pk == v3.pk


def test_consent_history_rows_cannot_be_changed_or_removed(tenant_a):
    employee = consent.create_employee(tenant=tenant_a, data=employee_data(), actor=Actor.system())
    event = consent.record_consent(
        employee=employee, actor=Actor.system(), evidence_reference="HR-12"
    )
    with tenant_scope(tenant_a):
        for sql in (
            "UPDATE consent_consentevent SET kind = 'withdrawn' WHERE id = %s",
            "DELETE FROM consent_consentevent WHERE id = %s",
        ):
            with (
                pytest.raises(DatabaseError, match="permission denied"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(sql, [event.pk])
        assert ConsentEvent.objects.get(pk=event.pk).kind == "granted"


def test_a_number_of_an_active_employee_elsewhere_is_already_in_use_and_nothing_says_whose(
    tenant_a, tenant_b
):
    consent.create_employee(
        tenant=tenant_b, data=employee_data(employee_id="B-1"), actor=Actor.system()
    )
    with pytest.raises(ValidationError) as caught:
        consent.create_employee(
            tenant=tenant_a, data=employee_data(whatsapp_phone_number_id=""), actor=Actor.system()
        )
    message = str(caught.value)
    assert "already in use" in message
    assert tenant_b.name not in message and tenant_b.slug not in message
    with tenant_scope(tenant_a):
        assert not Employee.objects.exists()


def test_offboarding_releases_the_number_for_someone_else(tenant_a, tenant_b):
    first = consent.create_employee(
        tenant=tenant_b, data=employee_data(employee_id="B-1"), actor=Actor.system()
    )
    consent.deactivate_employee(employee=first, reason="left", actor=Actor.system())
    later = consent.create_employee(tenant=tenant_a, data=employee_data(), actor=Actor.system())
    assert later.phone_number == "+919876543210"
    assert NumberClaim.objects.filter(tenant=tenant_b).count() == 0
    with pytest.raises(consent.ConsentError, match="already deactivated"):
        consent.deactivate_employee(employee=first, actor=Actor.system())


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone_number", "call me", "Cannot read this phone number"),
        ("phone_number", "+55 11 1234", "Not a valid phone number"),
        ("region", "XX", "Not a country code"),
        ("whatsapp_phone_number_id", "12ab", "Digits only"),
        ("employee_id", "", "An employee id is required"),
    ],
)
def test_bad_employee_data_is_refused_and_changes_nothing(tenant_a, field, value, message):
    with pytest.raises(ValidationError, match=message):
        consent.create_employee(
            tenant=tenant_a, data=employee_data(**{field: value}), actor=Actor.system()
        )
    with tenant_scope(tenant_a):
        assert not Employee.objects.exists()
    assert not NumberClaim.objects.exists()


def test_withdrawing_twice_is_refused(tenant_a):
    employee = consent.create_employee(tenant=tenant_a, data=employee_data(), actor=Actor.system())
    consent.record_consent(employee=employee, actor=Actor.system(), evidence_reference="form")
    consent.withdraw_consent(employee=employee, reason="no longer", actor=Actor.system())
    with pytest.raises(consent.ConsentError, match="no active consent"):
        consent.withdraw_consent(employee=employee, actor=Actor.system())
    with tenant_scope(tenant_a):
        assert ConsentEvent.objects.filter(kind="withdrawn").count() == 1
    assert state(employee) == ConsentState.WITHDRAWN


def test_recording_needs_evidence_or_a_reference(tenant_a):
    employee = consent.create_employee(tenant=tenant_a, data=employee_data(), actor=Actor.system())
    with pytest.raises(consent.ConsentError, match="Attach the signed form"):
        consent.record_consent(employee=employee, actor=Actor.system())
    with pytest.raises(consent.ConsentError, match="future"):
        consent.record_consent(
            employee=employee,
            actor=Actor.system(),
            evidence_reference="x",
            occurred_at=timezone.now() + timedelta(days=1),
        )
    assert state(employee) == ConsentState.NONE


def test_states_follow_the_history(tenant_a):
    employee = consent.create_employee(tenant=tenant_a, data=employee_data(), actor=Actor.system())
    assert state(employee) == ConsentState.NONE
    invitation, _ = consent.invite_employee(employee=employee, actor=Actor.system())
    assert state(employee) == ConsentState.PENDING
    consent.decline_consent(
        invitation=invitation, actor=Actor.link_visitor(None, label=invitation.employee.audit_label)
    )
    assert state(employee) == ConsentState.DECLINED
    invitation, _ = consent.invite_employee(employee=employee, actor=Actor.system())
    consent.accept_consent(
        invitation=invitation,
        signature_name="  Priya   Sharma ",
        actor=Actor.link_visitor(None, label=invitation.employee.audit_label),
    )
    assert state(employee) == ConsentState.COVERED
    with tenant_scope(tenant_a):
        grant = ConsentEvent.objects.get(kind="granted")
    assert grant.signature_name == "Priya Sharma"
    assert grant.notice_sha256 == consent.current_notice(tenant=tenant_a).content_sha256


def test_an_overdue_reconsent_is_recorded_as_expired(tenant_a):
    employee = consent.create_employee(tenant=tenant_a, data=employee_data(), actor=Actor.system())
    consent.record_consent(employee=employee, actor=Actor.system(), evidence_reference="v1")
    with tenant_scope(tenant_a):
        # A version whose deadline has passed (the service only accepts future deadlines).
        ConsentNotice.objects.create(
            tenant=tenant_a,
            status="published",
            version=2,
            texts={"en": {"title": "v2", "body": "new"}},
            content_sha256="f" * 64,
            reconsent_deadline=timezone.now() - timedelta(minutes=1),
            published_at=timezone.now() - timedelta(days=30),
        )
    assert state(employee) == ConsentState.NONE
    assert consent.expire_overdue_consents(tenant=tenant_a, actor=Actor.system()) == 1
    assert consent.expire_overdue_consents(tenant=tenant_a, actor=Actor.system()) == 0
    with tenant_scope(tenant_a):
        assert ConsentEvent.objects.filter(kind="expired").count() == 1
