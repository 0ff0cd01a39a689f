"""The monitored employee's pages and emails speak the employee's language, whole (issue 8: the
notice followed their language, the page around it and the emails were English), and declining
or withdrawing is asked once, on a page of its own that needs no JavaScript."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core import mail

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from consent import employee_rules, notice_templates, services
from consent.forms import EmployeeForm
from consent.models import ConsentEvent, ConsentState, Employee, Language
from consent.selectors import consent_state_of

LOCALE = Path(settings.BASE_DIR) / "locale"

# What each language must show, written out here (not read from the catalogues under test).
EXPECTED = {
    "en": {
        "subject_invitation": ": please read the WhatsApp monitoring notice",
        "open_link": "Open this link on your phone or computer:",
        "heading": "WhatsApp monitoring notice",
        "label": "Type your full name to sign",
        "accept": "Accept and sign",
        "decline": "Decline",
        "decline_question": "Decline the monitoring of your WhatsApp messages?",
        "declined": "You declined",
        "accepted": "Thank you, your consent is recorded",
        "subject_confirmation": ": your consent is recorded",
        "withdraw_link": "You can withdraw your consent at any time with this link",
        "withdraw_button": "Withdraw my consent",
        "withdraw_question": "Stop capture of your WhatsApp messages?",
        "withdrawn": "Capture stopped",
        "notice_title": "WhatsApp Business monitoring notice",
    },
    "pt-br": {
        "subject_invitation": ": leia o aviso de monitoramento do WhatsApp",
        "open_link": "Abra este link no seu celular ou computador:",
        "heading": "Aviso de monitoramento do WhatsApp",
        "label": "Digite seu nome completo para assinar",
        "accept": "Aceitar e assinar",
        "decline": "Recusar",
        "decline_question": "Recusar o monitoramento das suas mensagens do WhatsApp?",
        "declined": "Você recusou",
        "accepted": "Obrigado, seu consentimento foi registrado",
        "subject_confirmation": ": seu consentimento foi registrado",
        "withdraw_link": "Você pode revogar seu consentimento a qualquer momento com este link",
        "withdraw_button": "Revogar meu consentimento",
        "withdraw_question": "Parar a captura das suas mensagens do WhatsApp?",
        "withdrawn": "Captura interrompida",
        "notice_title": "Aviso de monitoramento do WhatsApp Business",
    },
    "es": {
        "subject_invitation": ": lea el aviso de supervisión de WhatsApp",
        "open_link": "Abra este enlace en su teléfono o su ordenador:",
        "heading": "Aviso de supervisión de WhatsApp",
        "label": "Escriba su nombre completo para firmar",
        "accept": "Aceptar y firmar",
        "decline": "Rechazar",
        "decline_question": "¿Rechazar la supervisión de sus mensajes de WhatsApp?",
        "declined": "Usted rechazó",
        "accepted": "Gracias, su consentimiento quedó registrado",
        "subject_confirmation": ": su consentimiento quedó registrado",
        "withdraw_link": "Puede retirar su consentimiento en cualquier momento con este enlace",
        "withdraw_button": "Retirar mi consentimiento",
        "withdraw_question": "¿Detener la captura de sus mensajes de WhatsApp?",
        "withdrawn": "Captura detenida",
        "notice_title": "Aviso de supervisión de WhatsApp Business",
    },
    "hi": {
        "subject_invitation": ": कृपया WhatsApp निगरानी सूचना पढ़ें",
        "open_link": "इस लिंक को अपने फ़ोन या कंप्यूटर पर खोलें:",
        "heading": "WhatsApp निगरानी सूचना",
        "label": "हस्ताक्षर करने के लिए अपना पूरा नाम लिखें",
        "accept": "स्वीकार करें और हस्ताक्षर करें",
        "decline": "अस्वीकार करें",
        "decline_question": "अपने WhatsApp संदेशों की निगरानी अस्वीकार करें?",
        "declined": "आपने अस्वीकार किया",
        "accepted": "धन्यवाद, आपकी सहमति दर्ज कर ली गई है",
        "subject_confirmation": ": आपकी सहमति दर्ज कर ली गई है",
        "withdraw_link": "आप इस लिंक से किसी भी समय अपनी सहमति वापस ले सकते हैं",
        "withdraw_button": "मेरी सहमति वापस लें",
        "withdraw_question": "अपने WhatsApp संदेशों का कैप्चर रोकें?",
        "withdrawn": "कैप्चर रुक गया",
        "notice_title": "WhatsApp Business निगरानी सूचना",
    },
}
# English sentences that must not show on another language's pages.
ENGLISH = ("Type your full name to sign", "Accept and sign", "Withdraw my consent")


def _employee(tenant, language: str, n: int = 1) -> Employee:
    return services.create_employee(
        tenant=tenant,
        data=services.EmployeeData(
            full_name="Kavya Iyer",
            email=f"kavya{n}@firm-a.example",
            employee_id=f"E-{n}",
            phone_number=f"+91 98765 4321{n}",
            region="IN",
            language=language,
        ),
        actor=Actor.system(),
    )


def _path(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def _history(employee: Employee) -> list[str]:
    with tenant_scope(employee.tenant_id):
        return list(ConsentEvent.objects.filter(employee=employee).values_list("kind", flat=True))


def _page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _without_english(page: str, language: str) -> None:
    if language != "en":
        assert not [sentence for sentence in ENGLISH if sentence in page]


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_invitation_notice_page_answers_and_emails_speak_the_employees_language(
    client, tenant_a, language, django_capture_on_commit_callbacks
):
    words = EXPECTED[language]
    employee = _employee(tenant_a, language)
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        _invitation, link = services.invite_employee(employee=employee, actor=Actor.system())
    [invitation_email] = mail.outbox
    assert invitation_email.subject == tenant_a.name + words["subject_invitation"]
    assert words["open_link"] in invitation_email.body and link in invitation_email.body

    path = _path(link)
    page = _page(client.get(path))
    assert f'<html lang="{language}">' in page
    for key in ("heading", "label", "accept", "decline", "notice_title"):
        assert words[key] in page, key
    _without_english(page, language)

    # Declining is asked first, in the same language; nothing is recorded until confirmed.
    question = _page(client.post(path, {"action": "decline", "reason": ""}))
    assert words["decline_question"] in question
    assert _history(employee) == []

    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        accepted = _page(client.post(path, {"action": "accept", "signature_name": "kavya iyer"}))
    assert words["accepted"] in accepted
    _without_english(accepted, language)
    [confirmation] = mail.outbox
    assert confirmation.subject == tenant_a.name + words["subject_confirmation"]
    assert words["withdraw_link"] in confirmation.body
    withdraw_path = re.search(r"http://testserver(/consent/w/\S+/)", confirmation.body).group(1)

    withdraw_page = _page(client.get(withdraw_path))
    assert f'<html lang="{language}">' in withdraw_page
    assert words["withdraw_button"] in withdraw_page
    question = _page(client.post(withdraw_path, {"reason": "Moved desks"}))
    assert words["withdraw_question"] in question
    assert _history(employee) == ["granted"]  # asked, not yet done
    done = _page(client.post(withdraw_path, {"reason": "Moved desks", "confirm": "yes"}))
    assert words["withdrawn"] in done
    _without_english(done, language)
    assert _history(employee) == ["granted", "withdrawn"]


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_declining_is_confirmed_once_and_says_what_happens_next(client, tenant_a, language):
    employee = _employee(tenant_a, language)
    _invitation, link = services.invite_employee(employee=employee, actor=Actor.system())
    path = _path(link)
    question = _page(client.post(path, {"action": "decline", "reason": "Personal number"}))
    assert EXPECTED[language]["decline_question"] in question
    assert 'name="confirm" value="yes"' in question and 'value="Personal number"' in question
    assert _history(employee) == []
    declined = _page(
        client.post(path, {"action": "decline", "reason": "Personal number", "confirm": "yes"})
    )
    assert EXPECTED[language]["declined"] in declined
    with tenant_scope(tenant_a):
        assert consent_state_of(employee=employee) == ConsentState.DECLINED
        assert ConsentEvent.objects.get(employee=employee).reason == "Personal number"


def test_a_broken_link_answers_in_the_browsers_language(client, tenant_a):
    response = client.get(f"/consent/r/{tenant_a.pk}.made-up/", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 410
    assert "Este enlace no es válido." in response.content.decode()
    withdrawal = client.get(f"/consent/w/{tenant_a.pk}.made-up/", HTTP_ACCEPT_LANGUAGE="pt-BR")
    assert withdrawal.status_code == 404
    assert "Este link não é válido." in withdrawal.content.decode()


def test_staff_pages_stay_in_english_whatever_the_browser_asks(client, alice):
    from tests.fixtures import login

    login(client, alice)
    page = client.get("/employees/", HTTP_ACCEPT_LANGUAGE="hi").content.decode()
    # The footer names the signed-in person's own time zone (UTC until they pick one), in English.
    assert '<html lang="en">' in page and "Times are shown in UTC (" in page


# --- the language list and the catalogues ------------------------------------------------------


def test_the_language_list_is_defined_once_and_includes_hindi():
    codes = [code for code, _label in settings.LANGUAGES]
    assert "hi" in codes
    assert Language.values == codes
    # The pure modules (no Django) keep their own tuples; they must agree with the one list.
    assert sorted(notice_templates.LANGUAGES) == sorted(codes)
    assert sorted(employee_rules.LANGUAGES) == sorted(codes)
    assert ("hi", "हिन्दी") in EmployeeForm.base_fields["language"].choices


def _catalogues() -> list[Path]:
    found = sorted(LOCALE.glob("*/LC_MESSAGES/django.po"))
    assert {path.parts[-3] for path in found} == {"pt_BR", "es", "hi"}
    return found


@pytest.mark.parametrize("po_path", _catalogues(), ids=lambda path: path.parts[-3])
def test_every_message_is_translated_and_the_committed_mo_matches_the_po(po_path):
    """The compiled catalogue is committed, so nothing compiles at deploy or test time; this
    fails when a .po was edited without running
    ``msgfmt --check -o locale/<ll>/LC_MESSAGES/django.mo locale/<ll>/LC_MESSAGES/django.po``."""
    po = polib.pofile(str(po_path))
    assert po.untranslated_entries() == [] and po.fuzzy_entries() == []
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} is missing"
    mo = polib.mofile(str(mo_path))
    expected = {(entry.msgctxt, entry.msgid): entry.msgstr for entry in po.translated_entries()}
    compiled = {(entry.msgctxt, entry.msgid): entry.msgstr for entry in mo if entry.msgid}
    assert compiled == expected
    for entry in po.translated_entries():
        placeholders = sorted(re.findall(r"%\(\w+\)s", entry.msgid))
        assert sorted(re.findall(r"%\(\w+\)s", entry.msgstr)) == placeholders, entry.msgid
