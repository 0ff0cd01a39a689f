"""The opt-in journey in a real browser: an admin adds an employee and invites them, the employee
reads the notice on a phone and accepts, and the register shows them covered."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from compliance_hub.tenancy.services import create_tenant
from consent import services
from consent.models import ConsentEvent
from tests.browser import ARTIFACTS, log_in
from tests.fixtures import make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_invited_employee_accepts_on_a_phone_and_the_register_shows_them_covered(
    live_server, page, phone_page, mailoutbox
):
    firm = create_tenant(slug="firm-a", name="Firm A Bank", actor=Actor.system())
    admin = make_person("alice@firm-a.example", tenant=firm, role=Role.ADMIN)

    # The admin adds the employee through the form.
    log_in(page, live_server.url, admin)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Employees").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Employees")
    form = page.locator("#add-employee")
    form.get_by_label("Full name").fill("Ana Lima")
    form.get_by_label("Email address").fill("ana@firm-a.example")
    form.get_by_label("Employee id").fill("E-1")
    form.get_by_label("Work WhatsApp number").fill("+55 11 98765-4301")
    form.get_by_label("WhatsApp phone number id").fill("200000000001")
    form.get_by_label("Region").fill("BR")
    form.get_by_role("button", name="Add employee").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ana Lima")
    expect(page.get_by_text("No consent").first).to_be_visible()

    # ... and sends the invitation; the link goes out by email.
    page.get_by_role("button", name="Send consent invitation").click()
    expect(page.get_by_text("Invitation sent to ana@firm-a.example")).to_be_visible()
    assert [message.to for message in mailoutbox] == [["ana@firm-a.example"]]
    link = re.search(r"https?://\S+/consent/r/\S+/", mailoutbox[0].body).group(0)

    # The employee opens it on a phone: the notice and the page around it in Portuguese (her
    # region), a language switch.
    phone_page.goto(link)
    expect(phone_page.get_by_role("heading", level=1)).to_have_text(
        "Aviso de monitoramento do WhatsApp"
    )
    expect(phone_page.get_by_role("heading", level=2).first).to_contain_text(
        "Aviso de monitoramento do WhatsApp Business"
    )
    expect(phone_page.get_by_role("navigation", name="Idioma do aviso")).to_be_visible()
    expect(phone_page.get_by_text("Versão 1 do aviso")).to_be_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    ARTIFACTS.mkdir(exist_ok=True)
    phone_page.screenshot(path=str(ARTIFACTS / "consent-phone-notice.png"), full_page=True)

    phone_page.get_by_label("Digite seu nome completo para assinar").fill("ana lima")
    phone_page.get_by_role("button", name="Aceitar e assinar").click()
    expect(phone_page.get_by_role("heading", level=1)).to_have_text(
        "Obrigado, seu consentimento foi registrado"
    )
    expect(phone_page.get_by_text("ana@firm-a.example")).to_be_visible()
    phone_page.screenshot(path=str(ARTIFACTS / "consent-phone-accepted.png"), full_page=True)

    # The admin sees her covered in the register.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Consent register").click()
    row = page.get_by_role("row").filter(has_text="Ana Lima")
    expect(row.get_by_text("Covered")).to_be_visible()
    expect(row).to_contain_text("Version 1")
    expect(row).to_contain_text("Invitation link")
    page.screenshot(path=str(ARTIFACTS / "consent-register.png"), full_page=True)


def test_an_employee_without_javascript_is_asked_once_before_declining(live_server, browser):
    firm = create_tenant(slug="firm-a", name="Firm A Bank", actor=Actor.system())
    employee = services.create_employee(
        tenant=firm,
        data=services.EmployeeData(
            full_name="Diego Alves",
            email="diego@firm-a.example",
            employee_id="E-7",
            phone_number="+34 612 345 678",
            region="ES",
        ),
        actor=Actor.system(),
    )
    _invitation, link = services.invite_employee(
        employee=employee, base_url=live_server.url, actor=Actor.system()
    )
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, java_script_enabled=False
    )
    try:
        phone = context.new_page()
        phone.set_default_timeout(15000)
        phone.goto(link)
        phone.get_by_label("Motivo (opcional)").fill("Uso un número personal")
        phone.get_by_role("button", name="Rechazar").click()
        expect(phone.get_by_role("heading", level=1)).to_have_text(
            "¿Rechazar la supervisión de sus mensajes de WhatsApp?"
        )
        expect(phone.get_by_text("no se capturará nada")).to_be_visible()
        with tenant_scope(firm):
            assert not ConsentEvent.objects.filter(employee=employee).exists()
        phone.get_by_role("button", name="Sí, rechazar").click()
        expect(phone.get_by_role("heading", level=1)).to_have_text("Usted rechazó")
        with tenant_scope(firm):
            event = ConsentEvent.objects.get(employee=employee)
        assert (event.kind, event.reason) == ("declined", "Uso un número personal")
    finally:
        context.close()
