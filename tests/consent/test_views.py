"""The consent pages as people use them: an admin onboards employees and records or requests
their opt-in, the employee answers on a public link and may withdraw, officers and auditors read
the register. Every bad-input test checks the answer and that nothing changed."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from consent import services
from consent.models import (
    ConsentEvent,
    ConsentInvitation,
    ConsentNotice,
    ConsentState,
    Employee,
    EmployeeImport,
    Team,
)
from consent.selectors import consent_state_of
from tests.consent.employees import invitation_path, make_employee
from tests.fixtures import login

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def maria(tenant_a) -> Employee:
    return make_employee(tenant_a)


def history(employee: Employee) -> list[tuple[str, str]]:
    with tenant_scope(employee.tenant_id):
        return list(
            ConsentEvent.objects.filter(employee=employee)
            .order_by("occurred_at", "id")
            .values_list("kind", "method")
        )


def state(employee: Employee) -> str:
    with tenant_scope(employee.tenant_id):
        return consent_state_of(employee=employee)


def fresh(obj) -> None:
    """Reload a row as its own tenant (a request leaves the last user's tenant set in the test's
    transaction, and RLS would hide the row from another one)."""
    with tenant_scope(obj.tenant_id):
        obj.refresh_from_db()


def employee_count(tenant) -> int:
    with tenant_scope(tenant):
        return Employee.objects.filter(tenant=tenant).count()


def audit_actions(tenant, actor=None) -> list[str]:
    with tenant_scope(tenant):
        events = AuditEvent.objects.filter(tenant=tenant)
        if actor is not None:
            events = events.filter(actor=actor.user)
        return list(events.values_list("action", flat=True))


def text(response) -> str:
    return response.content.decode()


def flash(client) -> str:
    """The messages shown on the next page (after a redirect)."""
    return text(client.get("/employees/"))


def accept(client, path: str, name: str = "Maria Souza", **extra):
    return client.post(path, {"action": "accept", "signature_name": name}, **extra)


# --- adding employees --------------------------------------------------------------------------


def test_admin_adds_an_employee_with_the_form(client, tenant_a, alice):
    login(client, alice)
    with tenant_scope(tenant_a):
        team = Team.objects.create(tenant=tenant_a, name="Wealth")
    response = client.post(
        "/employees/",
        {
            "full_name": "Ana Lima",
            "email": "Ana@Firm-A.example",
            "employee_id": "E-1",
            "team": team.pk,
            "region": "br",
            "phone_number": "(11) 98765-4301",
            "whatsapp_phone_number_id": "200000000001",
            "language": "",
        },
    )
    assert response.status_code == 302
    with tenant_scope(tenant_a):
        ana = Employee.objects.get(employee_id="E-1")
    assert response["Location"] == f"/employees/{ana.pk}/"
    assert (ana.phone_number, ana.region, ana.language, ana.team_id) == (
        "+5511987654301",
        "BR",
        "pt-br",
        team.pk,
    )
    page = text(client.get(response["Location"]))
    assert "Ana Lima" in page and "No consent" in page
    assert "employee.created" in audit_actions(tenant_a)


def test_a_bad_phone_number_is_refused_and_nothing_is_added(client, tenant_a, alice):
    login(client, alice)
    response = client.post(
        "/employees/",
        {"full_name": "Ana", "email": "ana@x.example", "employee_id": "E-1", "phone_number": "123"},
    )
    assert response.status_code == 400
    assert "phone number" in text(response).lower()
    assert 'aria-invalid="true"' in text(response)
    assert employee_count(tenant_a) == 0


def test_a_number_of_another_firm_is_already_in_use_and_its_owner_is_never_named(
    client, tenant_a, tenant_b, alice
):
    make_employee(tenant_b, full_name="Bruno of Firm B", email="bruno@firm-b.example")
    login(client, alice)
    response = client.post(
        "/employees/",
        {
            "full_name": "Ana",
            "email": "ana@firm-a.example",
            "employee_id": "E-1",
            "phone_number": "+55 11 98765-4321",
        },
    )
    assert response.status_code == 400
    page = text(response)
    assert "already in use" in page
    assert "Bruno" not in page and tenant_b.name not in page
    assert employee_count(tenant_a) == 0


def test_officers_and_auditors_read_the_list_but_cannot_add(client, tenant_a, maria, oscar, audrey):
    for person in (oscar, audrey):
        login(client, person)
        response = client.get("/employees/")
        assert response.status_code == 200
        assert "Maria Souza" in text(response) and "Add employee" not in text(response)
        refused = client.post(
            "/employees/",
            {
                "full_name": "X",
                "email": "x@x.example",
                "employee_id": "E-9",
                "phone_number": "+5511987654399",
            },
        )
        assert refused.status_code == 403
    assert employee_count(tenant_a) == 1


def test_the_list_filters_by_consent_state_team_region_and_search(client, tenant_a, alice, maria):
    team = services.create_team(tenant=tenant_a, name="Sales", actor=Actor.system())
    make_employee(
        tenant_a,
        full_name="Priya Sharma",
        email="priya@firm-a.example",
        employee_id="IN-1",
        phone_number="+91 98765 43210",
        region="IN",
        whatsapp_phone_number_id="",
        team=team,
    )
    services.record_consent(employee=maria, actor=Actor.system(), evidence_reference="paper")
    login(client, alice)

    def names(query: str) -> set[str]:
        page = text(client.get("/employees/?" + query))
        return {name for name in ("Maria Souza", "Priya Sharma") if name in page}

    assert names("") == {"Maria Souza", "Priya Sharma"}
    assert names("state=covered") == {"Maria Souza"}
    assert names("state=none") == {"Priya Sharma"}
    assert names("team=Sales") == {"Priya Sharma"}
    assert names("region=br") == {"Maria Souza"}
    assert names("q=priya") == {"Priya Sharma"}
    assert names("active=no") == set()


def _employees(tenant, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        employee = make_employee(
            tenant,
            full_name=f"Person {i:03d}",
            email=f"p{i}@firm-a.example",
            employee_id=f"P-{i}",
            phone_number=f"+55119876{50000 + i:05d}",
            whatsapp_phone_number_id=str(300000 + i),
        )
        if i % 3 == 0:
            services.record_consent(
                employee=employee, actor=Actor.system(), evidence_reference="paper"
            )
        elif i % 3 == 1:
            services.invite_employee(employee=employee, actor=Actor.system())


def test_the_employee_list_costs_the_same_queries_for_3_or_60_employees(
    client, tenant_a, alice, django_assert_max_num_queries
):
    login(client, alice)
    _employees(tenant_a, 3)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/employees/").status_code == 200
    _employees(tenant_a, 57, start=3)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/employees/")
    assert response.status_code == 200 and "Person 049" in text(response)
    assert "Page 1 of 2" in text(response)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "Person 059" in text(client.get("/employees/?page=2&state=&q=Person"))
    assert len(few.captured_queries) <= 13  # session, user, membership, tenant, MFA, filters, page


def test_admin_creates_a_team_and_a_duplicate_is_refused(client, tenant_a, alice):
    login(client, alice)
    assert client.post("/employees/teams/", {"name": "Wealth"}).status_code == 302
    client.post("/employees/teams/", {"name": "wealth"})
    assert "A team with this name exists." in flash(client)
    with tenant_scope(tenant_a):
        assert list(Team.objects.values_list("name", flat=True)) == ["Wealth"]


def test_the_page_applies_the_one_team_name_rule(client, tenant_a, alice):
    # The rule the API and the import's new teams follow (consent/employee_rules.py).
    login(client, alice)
    client.post("/employees/teams/", {"name": "Desk\u0007 A"})
    assert "A team name may not contain line breaks or control characters." in flash(client)
    client.post("/employees/teams/", {"name": "  Equities  "})
    with tenant_scope(tenant_a):
        assert list(Team.objects.values_list("name", flat=True)) == ["Equities"]


# --- editing, inviting ------------------------------------------------------------------------


def test_admin_edits_an_employee_and_bad_input_changes_nothing(client, tenant_a, alice, maria):
    login(client, alice)
    form = {
        "full_name": "Maria S. Souza",
        "email": "maria@firm-a.example",
        "employee_id": "E-100",
        "region": "BR",
        "phone_number": "+55 11 98765-4321",
        "whatsapp_phone_number_id": "110000001",
        "language": "en",
    }
    assert client.post(f"/employees/{maria.pk}/", form).status_code == 302
    fresh(maria)
    assert (maria.full_name, maria.language) == ("Maria S. Souza", "en")

    response = client.post(f"/employees/{maria.pk}/", {**form, "region": "XX", "full_name": "Z"})
    assert response.status_code == 400 and "Not a country code" in text(response)
    fresh(maria)
    assert (maria.full_name, maria.region) == ("Maria S. Souza", "BR")


def test_admin_sends_an_invitation_and_the_email_carries_the_link(
    client, tenant_a, alice, maria, mailoutbox, django_capture_on_commit_callbacks
):
    login(client, alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/employees/{maria.pk}/invite/")
    assert response.status_code == 302
    page = text(client.get(f"/employees/{maria.pk}/"))
    assert "Invitation sent to maria@firm-a.example" in page
    assert "Pending" in page and "Open invitations" in page
    assert "/consent/r/" not in page  # links show on the page only in local demos
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["maria@firm-a.example"]
    assert re.search(r"http://testserver/consent/r/\S+/", mailoutbox[0].body)
    assert state(maria) == ConsentState.PENDING


def test_in_a_local_demo_the_page_shows_the_invitation_link(client, settings, alice, maria):
    # A local demo prints its emails on the console (compliance_hub/emailed_links.py).
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    login(client, alice)
    client.post(f"/employees/{maria.pk}/invite/")
    page = text(client.get(f"/employees/{maria.pk}/"))
    link = re.search(r"http://testserver(/consent/r/[^\s<]+/)", page)
    assert link is not None
    assert client.get(link.group(1)).status_code == 200


# --- the employee answers ---------------------------------------------------------------------


def test_the_employee_accepts_on_the_public_link_and_the_evidence_is_complete(
    client, tenant_a, maria, mailoutbox, django_capture_on_commit_callbacks
):
    path = invitation_path(maria)
    with tenant_scope(tenant_a):
        notice = ConsentNotice.objects.get(version=1)
    page = client.get(path)
    assert page.status_code == 200
    body = text(page)
    assert tenant_a.name in body
    assert notice.texts["pt-br"]["title"] in body  # Maria is in Brazil: the notice in Portuguese
    # ... and the page around it in Portuguese too (her language).
    assert notice.content_sha256 in body and "Versão 1 do aviso" in body
    assert "Digite seu nome completo para assinar" in body

    with django_capture_on_commit_callbacks(execute=True):
        response = accept(
            client,
            path,
            name="  Maria   Souza ",
            REMOTE_ADDR="203.0.113.7",
            HTTP_USER_AGENT="Mozilla/5.0 (iPhone) Test",
        )
    assert response.status_code == 200
    assert "captura" in text(response).lower() and "maria@firm-a.example" in text(response)
    with tenant_scope(tenant_a):
        event = ConsentEvent.objects.get(employee=maria)
    assert event.kind == ConsentEvent.Kind.GRANTED and event.method == ConsentEvent.Method.LINK
    assert (event.notice_version, event.notice_sha256) == (1, notice.content_sha256)
    assert (event.ip_address, event.user_agent) == ("203.0.113.7", "Mozilla/5.0 (iPhone) Test")
    assert event.signature_name == "Maria Souza" and event.language == "pt-br"
    assert state(maria) == ConsentState.COVERED
    assert [m.subject for m in mailoutbox] == [f"{tenant_a.name}: seu consentimento foi registrado"]
    assert "/consent/w/" in mailoutbox[0].body


def test_the_employee_switches_the_notice_language_and_the_choice_is_recorded(
    client, tenant_a, maria
):
    path = invitation_path(maria)
    with tenant_scope(tenant_a):
        texts = ConsentNotice.objects.get(version=1).texts
    page = text(client.get(path + "?lang=en"))
    assert texts["en"]["title"] in page and texts["pt-br"]["title"] not in page
    assert "Español" in page and "Português (Brasil)" in page
    assert text(client.get(path + "?lang=xx")).count(texts["pt-br"]["title"]) == 1
    client.post(path, {"action": "accept", "signature_name": "Maria Souza", "lang": "en"})
    with tenant_scope(tenant_a):
        assert ConsentEvent.objects.get(employee=maria).language == "en"


def test_a_used_link_answers_410_and_changes_nothing(client, tenant_a, maria):
    path = invitation_path(maria)
    assert accept(client, path).status_code == 200
    again = client.get(path)
    assert again.status_code == 410 and "already answered" in text(again)
    second = client.post(path, {"action": "decline"})
    assert second.status_code == 410
    assert history(maria) == [("granted", "link")]


def test_an_expired_link_answers_410_and_changes_nothing(client, tenant_a, maria):
    path = invitation_path(maria)
    with tenant_scope(tenant_a):
        ConsentInvitation.objects.filter(employee=maria).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    response = accept(client, path)
    assert response.status_code == 410 and "expired" in text(response)
    assert history(maria) == [] and state(maria) == ConsentState.NONE


def test_a_made_up_link_answers_410(client, tenant_a):
    for token in ("nonsense", f"{tenant_a.pk}.not-a-real-secret", "999999.x"):
        response = client.get(f"/consent/r/{token}/")
        assert response.status_code == 410 and "not valid" in text(response)


def test_accepting_without_a_name_is_400_and_changes_nothing(client, tenant_a, maria):
    path = invitation_path(maria)
    response = accept(client, path, name="   ")
    assert response.status_code == 400
    assert "Digite seu nome completo para assinar" in text(response)
    odd = client.post(path, {"action": "maybe", "signature_name": "Maria"})
    assert odd.status_code == 400 and "Escolha Aceitar ou Recusar." in text(odd)
    assert history(maria) == []
    assert accept(client, path).status_code == 200  # the link still works


def test_the_employee_declines_and_nothing_will_be_captured(client, tenant_a, maria):
    path = invitation_path(maria)
    response = client.post(
        path, {"action": "decline", "reason": "Personal phone", "confirm": "yes"}
    )
    assert response.status_code == 200
    assert "Nada será capturado" in text(response)
    with tenant_scope(tenant_a):
        event = ConsentEvent.objects.get(employee=maria)
    assert (event.kind, event.reason) == ("declined", "Personal phone")
    assert state(maria) == ConsentState.DECLINED


def _withdrawal_path(client, employee, django_capture_on_commit_callbacks) -> str:
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        accept(client, invitation_path(employee))
    link = re.search(r"http://testserver(/consent/w/\S+/)", mail.outbox[-1].body)
    return link.group(1)


def test_the_employee_withdraws_with_the_link_in_the_confirmation_email(
    client, tenant_a, maria, mailoutbox, django_capture_on_commit_callbacks
):
    path = _withdrawal_path(client, maria, django_capture_on_commit_callbacks)
    page = client.get(path)
    assert page.status_code == 200
    assert tenant_a.name in text(page) and "Revogar meu consentimento" in text(page)
    response = client.post(path, {"reason": "Changed my mind", "confirm": "yes"})
    assert response.status_code == 200 and "Captura interrompida" in text(response)
    assert history(maria) == [("granted", "link"), ("withdrawn", "employee")]
    assert state(maria) == ConsentState.WITHDRAWN
    assert "consent.withdrawn" in audit_actions(tenant_a)


def test_withdrawing_twice_is_409_and_changes_nothing(
    client, tenant_a, maria, mailoutbox, django_capture_on_commit_callbacks
):
    path = _withdrawal_path(client, maria, django_capture_on_commit_callbacks)
    assert client.post(path, {"confirm": "yes"}).status_code == 200
    again = client.post(path, {"confirm": "yes"})
    assert again.status_code == 409
    assert "Não há consentimento ativo para revogar." in text(again)
    assert history(maria) == [("granted", "link"), ("withdrawn", "employee")]
    assert "Revogar meu consentimento" not in text(client.get(path))


def test_a_made_up_withdrawal_link_is_404(client, tenant_a):
    response = client.post(f"/consent/w/{tenant_a.pk}.made-up/")
    assert response.status_code == 404 and "not valid" in text(response)


# --- paper opt-in, evidence -------------------------------------------------------------------


def test_admin_records_a_paper_opt_in_and_the_auditor_downloads_the_evidence(
    client, tenant_a, alice, audrey, oscar, maria
):
    login(client, alice)
    response = client.post(
        f"/employees/{maria.pk}/consent/record/",
        {
            "notice": services.current_notice(tenant=tenant_a).pk,
            "evidence": SimpleUploadedFile("signed form.pdf", PDF, "application/pdf"),
            "signature_name": "Maria Souza",
        },
    )
    assert response.status_code == 302
    with tenant_scope(tenant_a):
        event = ConsentEvent.objects.get(employee=maria)
    assert event.method == ConsentEvent.Method.RECORDED and event.recorded_by == alice.user
    assert event.evidence_sha256 == hashlib.sha256(PDF).hexdigest()
    assert (event.evidence_size, event.evidence_content_type) == (len(PDF), "application/pdf")
    assert state(maria) == ConsentState.COVERED
    page = text(client.get(f"/employees/{maria.pk}/"))
    assert event.evidence_sha256 in page and f"/evidence/{event.pk}/" in page
    # The history speaks in words: the file's kind and the notice's language, not codes.
    assert "PDF document" in page and "application/pdf" not in page
    assert f"({dict(settings.LANGUAGES)[event.language]})" in page

    login(client, audrey)
    download = client.get(f"/employees/{maria.pk}/evidence/{event.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment")
    assert "consent.evidence_downloaded" in audit_actions(tenant_a, actor=audrey)

    login(client, oscar)
    assert client.get(f"/employees/{maria.pk}/evidence/{event.pk}/").status_code == 403


def test_a_paper_opt_in_with_a_reference_and_a_past_date(client, tenant_a, alice, maria):
    login(client, alice)
    today = timezone.now().date()
    client.post(
        f"/employees/{maria.pk}/consent/record/",
        {
            "notice": services.current_notice(tenant=tenant_a).pk,
            "evidence_reference": "HR file 2024/117",
            "signed_on": today.isoformat(),
        },
    )
    with tenant_scope(tenant_a):
        event = ConsentEvent.objects.get(employee=maria)
    assert event.evidence_reference == "HR file 2024/117" and not event.evidence
    assert event.occurred_at <= timezone.now()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("form.exe", b"MZ\x90\x00" + b"\x00" * 64, "must be a PDF, PNG or JPEG"),
        ("form.pdf", b"I signed, honestly.\n", "must be a PDF, PNG or JPEG"),
        ("big.pdf", b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024), "larger than 10 MB"),
    ],
    ids=["exe", "text-named-pdf", "11MB"],
)
def test_evidence_that_is_not_a_small_pdf_or_image_is_refused(
    client, tenant_a, alice, maria, name, content, message
):
    login(client, alice)
    response = client.post(
        f"/employees/{maria.pk}/consent/record/",
        {
            "notice": services.current_notice(tenant=tenant_a).pk,
            "evidence": SimpleUploadedFile(name, content),
        },
    )
    assert response.status_code == 302
    assert message in text(client.get(response["Location"]))
    assert history(maria) == [] and state(maria) == ConsentState.NONE


def test_a_paper_opt_in_needs_a_file_or_a_reference(client, tenant_a, alice, maria):
    login(client, alice)
    response = client.post(
        f"/employees/{maria.pk}/consent/record/",
        {"notice": services.current_notice(tenant=tenant_a).pk},
    )
    assert "Attach the signed form" in text(client.get(response["Location"]))
    assert history(maria) == []


def test_admin_withdraws_consent_from_the_employee_page(client, tenant_a, alice, maria):
    services.record_consent(employee=maria, actor=Actor.system(), evidence_reference="paper")
    login(client, alice)
    client.post(f"/employees/{maria.pk}/consent/withdraw/", {"reason": "Asked by phone"})
    assert history(maria) == [("granted", "recorded"), ("withdrawn", "admin")]
    again = client.post(f"/employees/{maria.pk}/consent/withdraw/", follow=True)
    assert "There is no active consent to withdraw." in text(again)
    assert len(history(maria)) == 2


def test_admin_deactivates_a_leaver_and_the_number_is_released(
    client, tenant_a, alice, maria, mailoutbox
):
    services.invite_employee(employee=maria, actor=Actor.system())
    services.record_consent(employee=maria, actor=Actor.system(), evidence_reference="paper")
    login(client, alice)
    page = text(client.get(f"/employees/{maria.pk}/"))
    assert 'data-confirm="Deactivate Maria Souza?' in page
    too_long = client.post(f"/employees/{maria.pk}/deactivate/", {"reason": "x" * 501}, follow=True)
    assert "too long" in text(too_long)
    fresh(maria)
    assert maria.active
    client.post(f"/employees/{maria.pk}/deactivate/", {"reason": "Left the firm"})
    fresh(maria)
    assert not maria.active and maria.deactivation_reason == "Left the firm"
    with tenant_scope(tenant_a):
        assert not ConsentInvitation.objects.filter(
            employee=maria, revoked_at__isnull=True
        ).exists()
        assert maria.assignments.get().released_at is not None
    page = text(client.get(f"/employees/{maria.pk}/"))
    assert "deactivated" in page and "Send consent invitation" not in page
    # The number is free for the next holder.
    make_employee(tenant_a, employee_id="E-200", full_name="Next Holder")
    again = client.post(f"/employees/{maria.pk}/deactivate/", follow=True)
    assert "already deactivated" in text(again)


# --- notices ----------------------------------------------------------------------------------


def _draft_form(texts: dict) -> dict:
    form = {}
    for code in ("en", "pt-br", "es"):
        entry = texts.get(code, {})
        key = code.replace("-", "_")
        form[f"title_{key}"] = entry.get("title", "")
        form[f"body_{key}"] = entry.get("body", "")
    return form


def test_admin_drafts_edits_and_publishes_a_new_notice_version(client, tenant_a, alice):
    login(client, alice)
    current = services.current_notice(tenant=tenant_a)
    response = client.post("/consent/notices/")
    assert response.status_code == 302
    with tenant_scope(tenant_a):
        draft = ConsentNotice.objects.get(status="draft")
    assert draft.texts == current.texts  # prefilled with the current version
    editor = text(client.get(f"/consent/notices/{draft.pk}/"))
    assert "Save draft" in editor and current.texts["es"]["title"] in editor

    texts = {"en": {"title": "Notice v2", "body": "We capture <b>work</b> messages."}}
    assert client.post(f"/consent/notices/{draft.pk}/", _draft_form(texts)).status_code == 302
    deadline_day = (timezone.now() + timedelta(days=30)).date()
    client.post(
        f"/consent/notices/{draft.pk}/publish/",
        {"reconsent_by": deadline_day.isoformat(), "confirm": "1"},
    )
    fresh(draft)
    assert draft.is_published and draft.version == 2
    assert draft.texts == texts
    assert draft.reconsent_deadline.date() == deadline_day + timedelta(days=1)
    assert draft.reconsent_deadline.time().isoformat() == "00:00:00"
    listing = text(client.get("/consent/notices/"))
    assert "Version 2" in listing and draft.content_sha256 in listing
    shown = text(client.get(f"/consent/notices/{draft.pk}/"))
    assert "&lt;b&gt;work&lt;/b&gt;" in shown  # escaped, never markup
    assert "notice.published" in audit_actions(tenant_a)


def test_a_published_notice_cannot_be_edited_from_the_browser(client, tenant_a, alice):
    login(client, alice)
    notice = services.current_notice(tenant=tenant_a)
    page = text(client.get(f"/consent/notices/{notice.pk}/"))
    assert "Save draft" not in page and "<textarea" not in page
    forged = client.post(
        f"/consent/notices/{notice.pk}/", _draft_form({"en": {"title": "X", "body": "Y"}})
    )
    assert forged.status_code == 409 and "never changes" in text(forged)
    republish = client.post(f"/consent/notices/{notice.pk}/publish/", follow=True)
    assert "already published" in text(republish)
    with tenant_scope(tenant_a):
        fresh = ConsentNotice.objects.get(pk=notice.pk)
    assert (fresh.texts, fresh.content_sha256, fresh.version) == (
        notice.texts,
        notice.content_sha256,
        1,
    )


def test_publishing_an_empty_or_incomplete_draft_is_refused(client, tenant_a, alice):
    login(client, alice)
    draft = services.create_notice_draft(tenant=tenant_a, texts={}, actor=Actor.system())
    response = client.post(f"/consent/notices/{draft.pk}/publish/", follow=True)
    assert "An empty notice cannot be published" in text(response)
    client.post(f"/consent/notices/{draft.pk}/", _draft_form({"en": {"title": "Only a title"}}))
    response = client.post(f"/consent/notices/{draft.pk}/publish/", follow=True)
    assert "needs a title and a text" in text(response)
    past = (timezone.now() - timedelta(days=2)).date().isoformat()
    client.post(f"/consent/notices/{draft.pk}/", _draft_form({"en": {"title": "T", "body": "B"}}))
    response = client.post(
        f"/consent/notices/{draft.pk}/publish/",
        {"reconsent_by": past, "confirm": "1"},
        follow=True,
    )
    assert "must be in the future" in text(response)
    fresh(draft)
    assert not draft.is_published and draft.version is None


def test_officers_and_auditors_read_the_notices_but_only_admins_write(
    client, tenant_a, oscar, audrey
):
    # Changed with issue 8: they were refused (403) the texts employees agreed to.
    notice = services.current_notice(tenant=tenant_a)
    draft = services.create_notice_draft(
        tenant=tenant_a, texts={"en": {"title": "T", "body": "B"}}, actor=Actor.system()
    )
    for person in (oscar, audrey):
        login(client, person)
        listing = client.get("/consent/notices/")
        assert listing.status_code == 200 and "Version 1" in text(listing)
        assert "New draft" not in text(listing)
        page = client.get(f"/consent/notices/{notice.pk}/")
        assert page.status_code == 200 and notice.texts["es"]["title"] in text(page)
        editor = text(client.get(f"/consent/notices/{draft.pk}/"))
        assert "<textarea" not in editor and "Save draft" not in editor
        assert client.post("/consent/notices/").status_code == 403
        forged = _draft_form({"en": {"title": "X", "body": "Y"}})
        assert client.post(f"/consent/notices/{draft.pk}/", forged).status_code == 403
        publish = client.post(f"/consent/notices/{draft.pk}/publish/", {"confirm": "1"})
        assert publish.status_code == 403
        nav = text(client.get("/employees/"))
        assert 'href="/consent/notices/"' in nav
    with tenant_scope(tenant_a):
        assert ConsentNotice.objects.count() == 2
        assert ConsentNotice.objects.get(pk=draft.pk).texts == draft.texts


# --- the register -----------------------------------------------------------------------------


@pytest.fixture
def cast(tenant_a):
    """One employee in each consent state."""
    team = services.create_team(tenant=tenant_a, name="Desk", actor=Actor.system())
    people = {}
    for i, who in enumerate(("covered", "pending", "declined", "withdrawn", "none")):
        people[who] = make_employee(
            tenant_a,
            full_name=f"{who.title()} Person",
            email=f"{who}@firm-a.example",
            employee_id=f"C-{i}",
            phone_number=f"+5511987651{i:03d}",
            whatsapp_phone_number_id=str(400000 + i),
            team=team if who in ("covered", "pending") else None,
        )
    services.record_consent(
        employee=people["covered"], actor=Actor.system(), evidence_reference="paper"
    )
    services.invite_employee(employee=people["pending"], actor=Actor.system())
    _invitation, link = services.invite_employee(employee=people["declined"], actor=Actor.system())
    declined = services.find_consent_invitation(link.rsplit("/", 2)[1])
    services.decline_consent(
        invitation=declined,
        actor=Actor.link_visitor(None, label=declined.employee.audit_label),
    )
    services.record_consent(
        employee=people["withdrawn"], actor=Actor.system(), evidence_reference="paper"
    )
    services.withdraw_consent(employee=people["withdrawn"], actor=Actor.system())
    return people


def test_the_register_shows_every_state_and_filters(client, tenant_a, oscar, cast):
    login(client, oscar)
    page = text(client.get("/consent/register/"))
    for who in cast:
        assert f"{who.title()} Person" in page
    assert "Recorded (paper)" in page and "Invitation link" in page
    covered = text(client.get("/consent/register/?state=covered"))
    assert "Covered Person" in covered and "Pending Person" not in covered
    desk = text(client.get("/consent/register/?team=Desk"))
    assert {"Covered Person", "Pending Person"} <= {
        n for n in ("Covered Person", "Pending Person", "None Person") if n in desk
    }
    assert "None Person" not in desk
    pending = text(client.get("/consent/register/?state=pending"))
    assert "Pending Person" in pending and "open" in pending
    nonsense = client.get("/consent/register/?state=bogus&active=maybe&region=XYZ&page=x")
    assert nonsense.status_code == 200 and "Select a valid choice" in text(nonsense)


def test_the_register_csv_follows_the_filters_is_audited_and_neutralises_formulas(
    client, tenant_a, audrey, cast
):
    make_employee(
        tenant_a,
        full_name='=HYPERLINK("http://evil")',
        email="evil@firm-a.example",
        employee_id="C-9",
        phone_number="+5511987652999",
        whatsapp_phone_number_id="",
    )
    login(client, audrey)
    response = client.get("/consent/register.csv?state=none")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {row["full_name"] for row in rows} == {"None Person", '\'=HYPERLINK("http://evil")'}
    everything = list(
        csv.DictReader(io.StringIO(client.get("/consent/register.csv").content.decode()))
    )
    by_name = {row["full_name"]: row for row in everything}
    assert by_name["Covered Person"]["consent_state"] == "covered"
    assert by_name["Covered Person"]["covered_since_utc"]
    assert by_name["Covered Person"]["notice_version"] == "1"
    assert by_name["Pending Person"]["open_invitation_expires_utc"]
    assert by_name["Withdrawn Person"]["last_event"] == "withdrawn"
    assert audit_actions(tenant_a, actor=audrey).count("consent.register_exported") == 2


def test_the_register_costs_the_same_queries_for_3_or_60_employees(
    client, tenant_a, alice, django_assert_max_num_queries
):
    login(client, alice)
    _employees(tenant_a, 3)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/consent/register/").status_code == 200
    _employees(tenant_a, 57, start=3)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/consent/register/")
    assert "Person 059" in text(response)
    # 14 before the capture column, which reads four tables more (connection, messages,
    # refusals, notices) once per page.
    with django_assert_max_num_queries(18):
        client.get("/consent/register/?state=covered")


# --- who may do what --------------------------------------------------------------------------


def test_officers_cannot_post_admin_actions(client, tenant_a, oscar, maria):
    services.record_consent(employee=maria, actor=Actor.system(), evidence_reference="paper")
    login(client, oscar)
    notice = services.current_notice(tenant=tenant_a)
    before = history(maria)
    for url in (
        f"/employees/{maria.pk}/",
        f"/employees/{maria.pk}/invite/",
        f"/employees/{maria.pk}/consent/record/",
        f"/employees/{maria.pk}/consent/withdraw/",
        f"/employees/{maria.pk}/deactivate/",
        "/employees/teams/",
        "/employees/import/",
        f"/consent/notices/{notice.pk}/publish/",
    ):
        assert client.post(url, {"name": "T", "reason": "x"}).status_code == 403, url
    fresh(maria)
    assert maria.active and history(maria) == before
    with tenant_scope(tenant_a):
        assert not ConsentInvitation.objects.exists() and not Team.objects.exists()
    page = text(client.get(f"/employees/{maria.pk}/"))
    assert "Send consent invitation" not in page and "Save changes" not in page


def test_the_outsider_gets_404_on_every_page_of_another_firms_employee(
    client, tenant_a, alice, bob, maria
):
    event = services.record_consent(
        employee=maria, actor=Actor.system(), evidence=SimpleUploadedFile("f.pdf", PDF)
    )
    notice = services.current_notice(tenant=tenant_a)
    login(client, bob)
    for method, url in (
        ("get", f"/employees/{maria.pk}/"),
        ("post", f"/employees/{maria.pk}/"),
        ("post", f"/employees/{maria.pk}/invite/"),
        ("post", f"/employees/{maria.pk}/consent/record/"),
        ("post", f"/employees/{maria.pk}/consent/withdraw/"),
        ("post", f"/employees/{maria.pk}/deactivate/"),
        ("get", f"/employees/{maria.pk}/evidence/{event.pk}/"),
        ("get", f"/consent/notices/{notice.pk}/"),
        ("post", f"/consent/notices/{notice.pk}/publish/"),
    ):
        response = getattr(client, method)(url)
        assert response.status_code == 404, (method, url)
        assert "Maria" not in text(response)
    for url in ("/employees/", "/consent/register/", "/consent/register.csv"):
        assert "Maria" not in text(client.get(url))
    fresh(maria)
    assert maria.active and history(maria) == [("granted", "recorded")]


def test_people_who_are_not_signed_in_are_sent_to_log_in(client, maria):
    for url in (
        "/employees/",
        f"/employees/{maria.pk}/",
        "/consent/register/",
        "/consent/notices/",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_navigation_shows_the_consent_pages_by_role(client, alice, oscar):
    login(client, alice)
    nav = text(client.get("/employees/"))
    assert all(label in nav for label in ("Employees", "Consent register", "Notices"))
    login(client, oscar)
    nav = text(client.get("/employees/"))
    # Everyone in the firm reads the notices employees agree to (issue 8; was admins only).
    assert "Consent register" in nav and 'href="/consent/notices/"' in nav


# --- CSV import -------------------------------------------------------------------------------


def _upload(client, name: str):
    content = (FIXTURES / name).read_bytes()
    return client.post("/employees/import/", {"file": SimpleUploadedFile(name, content)})


def test_admin_imports_a_clean_csv_after_the_preview(client, tenant_a, alice):
    services.create_team(tenant=tenant_a, name="Sales", actor=Actor.system())
    login(client, alice)
    response = _upload(client, "import_good.csv")
    assert response.status_code == 302
    preview = text(client.get(response["Location"]))
    assert "Import 3 employees" in preview and "Ana Souza" in preview
    assert employee_count(tenant_a) == 0  # nothing until confirmed
    with tenant_scope(tenant_a):
        upload = EmployeeImport.objects.get()
    done = client.post(f"/employees/import/{upload.pk}/confirm/")
    assert done.status_code == 302 and done["Location"] == "/employees/"
    assert "Imported 3 employees." in text(client.get("/employees/"))
    assert employee_count(tenant_a) == 3
    again = client.post(f"/employees/import/{upload.pk}/confirm/", follow=True)
    assert "Nothing was imported" in text(again) and employee_count(tenant_a) == 3


def test_a_csv_with_bad_rows_lists_every_problem_and_cannot_be_imported(client, tenant_a, alice):
    login(client, alice)
    response = _upload(client, "every_bad_row.csv")
    preview = text(client.get(response["Location"]))
    assert "This file cannot be imported:" in preview  # wording changed with issue 8
    assert "bruno.bank.com.br" in preview and "call me" in preview
    with tenant_scope(tenant_a):
        upload = EmployeeImport.objects.get()
    assert f"/employees/import/{upload.pk}/confirm/" not in preview  # no Import button
    refused = client.post(f"/employees/import/{upload.pk}/confirm/", follow=True)
    assert "Nothing was imported" in text(refused)
    assert employee_count(tenant_a) == 0
    client.post(f"/employees/import/{upload.pk}/discard/")
    fresh(upload)
    assert upload.status == EmployeeImport.Status.DISCARDED


def test_an_upload_that_is_not_a_csv_is_explained(client, tenant_a, alice):
    login(client, alice)
    response = client.post(
        "/employees/import/", {"file": SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n\x00")}
    )
    assert response.status_code == 302
    preview = text(client.get(response["Location"]))
    assert "problem" in preview and "Import 0" not in preview
    assert employee_count(tenant_a) == 0


def test_the_dashboard_shows_consent_coverage(client, tenant_a, alice):
    from consent import services as consent_services

    employee = consent_services.create_employee(
        tenant=tenant_a,
        data=consent_services.EmployeeData(
            full_name="Dash Board",
            email="dash@firm-a.example",
            employee_id="D-1",
            phone_number="+5511987650111",
        ),
        actor=Actor.system(),
    )
    consent_services.record_consent(
        employee=employee, actor=Actor.system(), evidence_reference="paper"
    )
    login(client, alice)
    page = client.get("/").content.decode()
    assert "Consent coverage" in page
    assert "1 of 1 active employee is covered by consent" in page


def test_admin_invites_everyone_who_needs_it_in_one_go(
    client, tenant_a, alice, mailoutbox, django_capture_on_commit_callbacks
):
    from compliance_hub.celery import app
    from consent import services as consent_services
    from consent.models import ConsentInvitation

    # The worker's task runs here, in this process (tests/test_celery.py covers real workers).
    app.conf.task_always_eager = True
    try:
        people = [
            consent_services.create_employee(
                tenant=tenant_a,
                data=consent_services.EmployeeData(
                    full_name=f"Person {n}",
                    email=f"p{n}@firm-a.example",
                    employee_id=f"P-{n}",
                    phone_number=f"+55119876502{n:02d}",
                ),
                actor=Actor.system(),
            )
            for n in range(4)
        ]
        consent_services.record_consent(
            employee=people[0], actor=Actor.system(), evidence_reference="x"
        )
        invitation, _ = consent_services.invite_employee(employee=people[1], actor=Actor.system())
        consent_services.decline_consent(
            invitation=invitation,
            actor=Actor.link_visitor(None, label=invitation.employee.audit_label),
        )
        login(client, alice)
        assert "Invite 2 to consent" in client.get("/employees/").content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/employees/invite-all/")
        assert response.status_code == 302
        invited = {m.to[0] for m in mailoutbox if "/consent/r/" in m.body}
        assert invited == {"p2@firm-a.example", "p3@firm-a.example"}
        with tenant_scope(tenant_a):
            assert ConsentInvitation.objects.filter(responded_at__isnull=True).count() == 2
        assert "to consent</button>" not in client.get("/employees/").content.decode()
    finally:
        app.conf.task_always_eager = False
