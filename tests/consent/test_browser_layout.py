"""Wide tables at a laptop's 1280 px: nothing scrolls sideways, long values wrap (issue 8: the
import preview's last column and the consent history's reason ran off the page)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.models import Role
from compliance_hub.tenancy.services import create_tenant
from consent import imports, services
from tests.browser import log_in
from tests.fixtures import make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
OVERFLOWING = """
    [...document.querySelectorAll('.table-wrap')]
      .filter((wrap) => wrap.scrollWidth > wrap.clientWidth)
      .map((wrap) => wrap.closest('section')?.id || wrap.querySelector('th')?.textContent)
"""


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert page.evaluate(OVERFLOWING) == []


def test_the_import_preview_and_the_consent_history_fit_1280_pixels(
    live_server, page, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    firm = create_tenant(slug="firm-a", name="Firm A Bank", actor=Actor.system())
    admin = make_person("alice@firm-a.example", tenant=firm, role=Role.ADMIN)
    long_word = "Vasconcelos" * 8  # no break opportunity
    csv = (
        "full_name,email,employee_id,phone_number,team,region,whatsapp_phone_number_id,language\n"
        f"Ana {long_word},ana.{long_word.lower()}@firm-a.example,E-1,+5511987654301,,BR,"
        "200000000001,pt-br\n"
        f"Bruno,not-an-email-{long_word},E-2,+5511987654302,,BR,{'9' * 40},klingon-{long_word}\n"
    ).encode()
    upload = imports.preview_import(
        tenant=firm, filename=f"staff-{long_word}.csv", data=csv, actor=Actor.system()
    )
    employee = services.create_employee(
        tenant=firm,
        data=services.EmployeeData(
            full_name="Maria Souza",
            email="maria@firm-a.example",
            employee_id="E-100",
            phone_number="+5511987654399",
            region="BR",
        ),
        actor=Actor.system(),
    )
    services.record_consent(
        employee=employee,
        actor=Actor.for_user(admin.user),
        evidence=SimpleUploadedFile("form.pdf", PDF, content_type="application/pdf"),
        evidence_reference=f"HR archive {long_word}",
        signature_name="Maria Souza",
    )
    services.withdraw_consent(
        employee=employee,
        actor=Actor.for_user(admin.user),
        reason="She moved to the retail desk, where WhatsApp is not used; " + long_word * 2,
    )

    log_in(page, live_server.url, admin)
    page.goto(f"{live_server.url}/employees/import/{upload.pk}/")
    expect(page.get_by_role("heading", name="Problems")).to_be_visible()
    _no_sideways_scroll(page)

    page.goto(f"{live_server.url}/employees/{employee.pk}/")
    expect(page.get_by_role("heading", name="Consent history")).to_be_visible()
    expect(page.get_by_text("She moved to the retail desk")).to_be_visible()
    _no_sideways_scroll(page)


def test_the_other_consent_tables_wrap_long_values_too(live_server, page):
    firm = create_tenant(slug="firm-a", name="Firm A Bank", actor=Actor.system())
    admin = make_person("alice@firm-a.example", tenant=firm, role=Role.ADMIN)
    long_word = "Vasconcelos" * 8
    services.create_employee(
        tenant=firm,
        data=services.EmployeeData(
            full_name=f"Ana {long_word}",
            # As long as an address may be: 64 characters before the @ (RFC 5321), a long label.
            email=f"ana.{long_word.lower()[:60]}@{long_word.lower()[:60]}.example",
            employee_id=f"E-{long_word}"[:64],
            phone_number="+5511987654301",
            region="BR",
        ),
        actor=Actor.system(),
    )
    services.create_notice_draft(
        tenant=firm,
        texts={"en": {"title": f"Monitoring {long_word}", "body": "Text."}},
        actor=Actor.system(),
    )
    imports.preview_import(
        tenant=firm, filename=f"staff-{long_word}.csv", data=b"full_name\n", actor=Actor.system()
    )

    log_in(page, live_server.url, admin)
    for path in ("/employees/", "/consent/register/", "/employees/import/", "/consent/notices/"):
        page.goto(live_server.url + path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        _no_sideways_scroll(page)
