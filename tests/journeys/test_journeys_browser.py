"""The four end-to-end journeys of issue 13, each driving the real pages in headless Chromium
with a real Celery worker behind the live server:

1. an admin imports employees from a CSV file and invites them; an employee consents on a phone;
2. Meta delivers that employee's conversation (a CPF, an off-channel request, a voice note, a
   reaction, an edit, a deletion) to the real webhook; the officer sees the alert within
   seconds, reviews it with its highlights and closes it;
3. an auditor searches, opens the conversation (the edit and the deletion visible), exports it,
   downloads the bag, and the bag's own verify.py passes;
4. the employee withdraws; her next message keeps no content, and the admin sees the refusal.

Each journey starts where the one before it ends, set up through the services the pages call
(``consented``: what journey 1 leaves), rather than one test running all four in a row: every
test of a transactional database starts empty (the flush), a failure then names its journey and
leaves the others' results standing, and pytest-xdist may run them side by side. Screenshots of
every step are written to test-artifacts/journeys/<test>/ when a step fails
(tests/journeys/recorder.py)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import zipfile

import pytest
from django.db import connection, transaction
from django.db.models import Max
from playwright.sync_api import expect

from alerts.models import Alert, Disposition, Status
from archive.models import Attachment, Message, MessageEvent
from compliance_hub.tenancy.context import tenant_scope
from consent.models import ConsentEvent, Employee
from ingestion.models import Delivery, Refusal
from policies.models import MessageScan, PolicyHit
from tests.browser import log_in
from tests.ingestion import payloads
from tests.journeys.conftest import wait_for_mail
from tests.journeys.webhooks import (
    CPF,
    DELETED_TEXT,
    OFF_CHANNEL_TEXT,
    PHONE_ID,
    SENT,
    THANKS_EDITED,
    conversation,
    now_seconds,
    post,
)
from tests.polling import wait_until

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker_folders", "same_media_as_the_worker"),
]

NEW_STAFF_CSV = (
    "full_name,email,employee_id,team,region,phone_number,whatsapp_phone_number_id,language\n"
    f"Ana Souza,ana.souza@firm-a.example,A-1,,BR,+55 11 98765-4301,{PHONE_ID},\n"
    "Bruno Lima,bruno.lima@firm-a.example,A-2,,BR,+55 11 98765-4302,,\n"
)
# A worker that has just started (and trains its classifiers on the first scan) on a loaded
# two-core CI machine: twice the shared worker timeout.
PIPELINE_TIMEOUT = 120.0
# What the employee writes after she withdrew: ASCII, so it would show in the stored raw body.
AFTER_WITHDRAWAL = "Liga no meu celular pessoal 11 99876 5432 hoje a noite"


def _main_nav(page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


def _deliver_conversation(base_url: str, firm, graph) -> float:
    """POST the conversation to the webhook; returns when the first one was posted."""
    started = time.monotonic()
    for payload in conversation(graph, start=now_seconds()):
        assert post(base_url, firm.slug, payload) == 200
    return started


def _archived(firm) -> bool:
    """Every delivery processed, the messages and their edit, reaction and deletion archived,
    and the voice note's file fetched from the Graph API and stored."""
    with tenant_scope(firm):
        if Delivery.objects.exclude(status=Delivery.Status.PROCESSED).exists():
            return False
        messages = set(Message.objects.values_list("wamid", flat=True))
        events = set(MessageEvent.objects.values_list("kind", "target_wamid"))
        voice_stored = Attachment.objects.filter(
            message__wamid=SENT.voice, status=Attachment.Status.STORED
        ).exists()
    return (
        messages == {SENT.cpf, SENT.off_channel, SENT.voice, SENT.thanks, SENT.to_delete}
        and {
            ("reaction", SENT.off_channel),
            ("edit", SENT.thanks),
            ("revoke", SENT.to_delete),
        }
        <= events
        and voice_stored
    )


def _wait_archived(firm) -> None:
    def state() -> str:
        with tenant_scope(firm):
            deliveries = list(Delivery.objects.values_list("status", flat=True))
            messages = list(Message.objects.values_list("wamid", flat=True))
            files = list(Attachment.objects.values_list("status", flat=True))
        return f"deliveries {deliveries}, messages {messages}, attachments {files}"

    wait_until(
        lambda: _archived(firm),
        failure=lambda: "not archived in time: " + state(),
        timeout=PIPELINE_TIMEOUT,
    )


def _scanned(firm) -> str:
    """Where the pipeline stands, for a failure message."""
    with tenant_scope(firm):
        return (
            f"deliveries {list(Delivery.objects.values_list('status', flat=True))}, "
            f"messages {Message.objects.count()}, scanned {MessageScan.objects.count()}, "
            f"hits {PolicyHit.objects.count()}, alerts {Alert.objects.count()}"
        )


def test_journey_1_an_admin_imports_and_invites_employees_and_one_consents_on_her_phone(
    live_server, worker, worker_folders, firm, alice, desk, phone, journey
):
    with journey.step("the admin signs in"):
        log_in(desk, live_server.url, alice)

    with journey.step("the admin uploads the CSV file and sees the preview"):
        _main_nav(desk, "Employees")
        desk.get_by_role("link", name="Import CSV").click()
        desk.get_by_label("CSV file").set_input_files(
            files=[{"name": "new-staff.csv", "mimeType": "text/csv",
                    "buffer": NEW_STAFF_CSV.encode()}]
        )  # fmt: skip
        desk.get_by_role("button", name="Upload and preview").click()
        expect(desk.get_by_role("heading", level=1)).to_have_text("Preview of new-staff.csv")
        expect(desk.get_by_role("cell", name="Bruno Lima")).to_be_visible()

    with journey.step("the admin confirms the import"):
        desk.get_by_role("button", name="Import 2 employees").click()
        expect(desk.get_by_text("Imported 2 employees.")).to_be_visible()
        with tenant_scope(firm):
            assert sorted(Employee.objects.values_list("full_name", flat=True)) == [
                "Ana Souza",
                "Bruno Lima",
            ]

    with journey.step("the admin sends the invitations; the worker emails them"):
        desk.get_by_role("button", name="Invite 2 to consent").click()  # the dialog: accepted
        expect(desk.get_by_text("Sending consent invitations to 2 employees.")).to_be_visible()
        mail = worker_folders["mail"]
        invitation = wait_for_mail(mail, "ana.souza@firm-a.example")
        assert wait_for_mail(mail, "bruno.lima@firm-a.example")
        link = re.search(r"https?://\S+/consent/r/\S+/", invitation).group(0)
        assert link.startswith(live_server.url + "/"), link

    with journey.step("the employee reads the notice on her phone, in Portuguese"):
        phone.goto(link)
        expect(phone.get_by_role("heading", level=1)).to_have_text(
            "Aviso de monitoramento do WhatsApp"
        )
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll

    with journey.step("the employee signs and accepts"):
        phone.get_by_label("Digite seu nome completo para assinar").fill("Ana Souza")
        phone.get_by_role("button", name="Aceitar e assinar").click()
        expect(phone.get_by_role("heading", level=1)).to_have_text(
            "Obrigado, seu consentimento foi registrado"
        )
        with tenant_scope(firm):
            event = ConsentEvent.objects.get(employee__full_name="Ana Souza")
        assert (event.kind, event.method) == (ConsentEvent.Kind.GRANTED, "link")

    with journey.step("the admin sees her covered in the register"):
        _main_nav(desk, "Consent register")
        row = desk.get_by_role("row").filter(has_text="Ana Souza")
        expect(row.get_by_text("Covered")).to_be_visible()
        expect(row).to_contain_text("Invitation link")


def test_journey_2_the_officer_sees_the_alert_within_seconds_reviews_and_closes_it(
    live_server, worker, firm, consented, oscar, graph, desk, journey
):
    with journey.step("the officer signs in and opens the queue"):
        log_in(desk, live_server.url, oscar)
        _main_nav(desk, "Alerts")
        expect(desk.get_by_role("heading", name="Alerts", exact=True)).to_be_visible()

    with journey.step("Meta delivers the employee's conversation to the webhook"):
        started = _deliver_conversation(live_server.url, firm, graph)

    with journey.step("the alert on the CPF appears in the queue"):
        rows = desk.locator("tr[data-alert-row]")
        cpf_row = rows.filter(has_text="Brazilian CPF and CNPJ")

        def listed() -> bool:
            desk.reload()
            return cpf_row.count() == 1

        wait_until(
            listed,
            failure=lambda: "the CPF alert never reached the officer's queue: " + _scanned(firm),
            timeout=PIPELINE_TIMEOUT,
            interval=0.5,
        )
        seconds = time.monotonic() - started
        print(f"journeys: webhook to the alert on the officer's page: {seconds:.1f} s")
        _wait_archived(firm)
        # The off-channel request raised its own alert.
        with tenant_scope(firm):
            assert Alert.objects.filter(
                message__wamid=SENT.off_channel, policy__name="Moving the conversation off WhatsApp"
            ).exists()

    with journey.step("the officer opens it and sees the CPF highlighted"):
        cpf_row.get_by_role("link", name=re.compile(r"^Alert \d+$")).click()
        expect(desk).to_have_url(re.compile(r"/alerts/\d+/$"))
        expect(desk.locator("blockquote.flagged-message")).to_contain_text("segue meu CPF")
        expect(desk.locator("mark.hit").first).to_have_text(CPF)
        alert_id = int(re.search(r"/alerts/(\d+)/$", desk.url).group(1))
        around = desk.locator(".alert-context")  # the edit, the voice note, the deletion
        expect(around).to_contain_text(THANKS_EDITED)
        expect(around.locator("li").filter(has_text=DELETED_TEXT)).to_contain_text(
            "deleted for everyone"
        )
        expect(around.locator("li").filter(has_text="Audio")).to_have_count(1)

    with journey.step("the officer claims it and closes it with a disposition and rationale"):
        desk.get_by_role("button", name="Claim for review").click()
        expect(desk.get_by_text("You are reviewing this alert.").first).to_be_visible()
        desk.get_by_label("Move to").select_option("closed")
        desk.get_by_label("Disposition").select_option(Disposition.TRUE_POSITIVE_ACTION)
        desk.get_by_label("Rationale").fill("The client sent his own CPF to open an account.")
        desk.get_by_role("button", name="Save status").click()
        expect(desk.get_by_text("The alert is now closed.")).to_be_visible()
        with tenant_scope(firm):
            closed = Alert.objects.select_related("message").get(pk=alert_id)
        assert (closed.status, closed.disposition, closed.rationale, closed.message.wamid) == (
            Status.CLOSED,
            Disposition.TRUE_POSITIVE_ACTION,
            "The client sent his own CPF to open an account.",
            SENT.cpf,
        )


def test_journey_3_an_auditor_searches_opens_the_conversation_exports_and_it_verifies(
    live_server, worker, firm, consented, audrey, graph, desk, journey, tmp_path
):
    employee, _ = consented
    with journey.step("Meta delivers the employee's conversation and the worker archives it"):
        _deliver_conversation(live_server.url, firm, graph)
        _wait_archived(firm)

    with journey.step("the auditor signs in and searches"):
        log_in(desk, live_server.url, audrey)
        desk.goto(f"{live_server.url}/archive/search/")
        desk.get_by_label("Search", exact=True).fill("reunião")
        desk.get_by_role("button", name="Search").click()
        expect(desk.locator(".search-count")).to_contain_text("1 message matches")

    with journey.step("the auditor opens the conversation: the edit and the deletion show"):
        desk.locator(".search-results").get_by_role("link").first.click()
        expect(desk).to_have_url(re.compile(r"/archive/conversations/\d+/#m-\d+$"))
        edited = desk.locator(".chat-row.in").filter(has_text=THANKS_EDITED)
        expect(edited).to_contain_text("edited")
        deleted = desk.locator(".chat-row.out").filter(has_text=DELETED_TEXT)
        expect(deleted).to_contain_text("Deleted for everyone")
        reacted = desk.locator(".chat-row.out").filter(has_text=OFF_CHANNEL_TEXT)
        expect(reacted.locator(".reactions")).to_contain_text("👍")
        expect(desk.locator(".chat-row.in .media").filter(has_text="audio/ogg")).to_have_count(1)

    with journey.step("the auditor exports the employee's conversation"):
        desk.go_back()
        desk.get_by_label("Search", exact=True).fill("")
        desk.get_by_label("Employee").select_option(str(employee.pk))
        desk.get_by_role("button", name="Search").click()
        expect(desk.locator(".search-count")).to_contain_text("5 messages match")
        desk.get_by_role("link", name="Export these results").click()
        desk.get_by_label("Matter").fill("CVM request 12")
        desk.get_by_label(re.compile("^JSON Lines")).check()
        desk.get_by_role("button", name="Start the export").click()
        expect(desk.get_by_role("heading", name="CVM request 12")).to_be_visible()

    with journey.step("the export page follows the worker until the bag is ready"):
        download_link = desk.get_by_role("link", name="Download the export")
        expect(download_link).to_be_visible(timeout=120_000)
        expect(desk.locator(".export-status-text")).to_contain_text(
            "Ready: 5 messages in 1 conversation"
        )

    with journey.step("the auditor downloads it and its verify.py passes"):
        with desk.expect_download() as info:
            download_link.click()
        bag = tmp_path / "export.zip"
        info.value.save_as(bag)
        with zipfile.ZipFile(bag) as archive:
            [verifier] = [n for n in archive.namelist() if n.rsplit("/", 1)[-1] == "verify.py"]
            (tmp_path / "verify.py").write_bytes(archive.read(verifier))
        checked = subprocess.run(
            [sys.executable, str(tmp_path / "verify.py"), str(bag)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "OK" in checked.stdout


def _rows_holding(firm, text: str) -> list[str]:
    """The tables where some row of the firm (or of no firm) holds ``text`` anywhere."""
    from django.apps import apps

    found = []
    with tenant_scope(firm), connection.cursor() as cursor:
        for model in apps.get_models():
            table = model._meta.db_table
            try:
                with transaction.atomic():
                    cursor.execute(
                        f'SELECT 1 FROM "{table}" t WHERE t::text LIKE %s LIMIT 1',
                        [f"%{text}%"],
                    )
                    if cursor.fetchone():
                        found.append(table)
            except Exception as error:  # a table the application's role may not read
                if "permission denied" not in str(error):
                    raise
    return found


def test_journey_4_the_employee_withdraws_and_her_next_message_keeps_no_content(
    live_server, worker, firm, consented, alice, phone, desk, journey
):
    employee, withdraw_link = consented
    with journey.step("the employee opens the link of her confirmation email on her phone"):
        phone.goto(withdraw_link)
        expect(phone.get_by_role("heading", level=1)).to_have_text("Revogar seu consentimento")
        phone.get_by_label("Motivo (opcional)").fill("Vou usar outro número")
        phone.get_by_role("button", name="Revogar meu consentimento").click()

    with journey.step("she confirms: capture stops"):
        expect(phone.get_by_role("heading", level=1)).to_have_text(
            "Parar a captura das suas mensagens do WhatsApp?"
        )
        phone.get_by_role("button", name="Sim, parar a captura").click()
        expect(phone.get_by_role("heading", level=1)).to_have_text("Captura interrompida")
        with tenant_scope(firm):
            last = ConsentEvent.objects.filter(employee=employee).latest("occurred_at", "id")
        assert (last.kind, last.reason) == (ConsentEvent.Kind.WITHDRAWN, "Vou usar outro número")

    with journey.step("her next message arrives: refused, no content kept"):
        with tenant_scope(firm):
            before = Delivery.objects.aggregate(last=Max("id"))["last"] or 0
        payload = payloads.inbound_text(
            phone_number_id=PHONE_ID, wamid="wamid.J.AFTER", text=AFTER_WITHDRAWAL,
            timestamp=now_seconds(),
        )  # fmt: skip
        assert post(live_server.url, firm.slug, payload) == 200

        def processed() -> Delivery | None:
            with tenant_scope(firm):
                return Delivery.objects.filter(
                    id__gt=before, status=Delivery.Status.PROCESSED
                ).first()

        delivery = wait_until(processed, failure="the worker did not process the delivery")
        with tenant_scope(firm):
            refusal = Refusal.objects.get(wamid="wamid.J.AFTER")
            assert not Message.objects.filter(wamid="wamid.J.AFTER").exists()
        assert (refusal.reason, refusal.employee_pk) == ("consent_withdrawn", employee.pk)
        assert AFTER_WITHDRAWAL.encode() not in bytes(delivery.body)
        assert b"99876" not in bytes(delivery.body)
        assert _rows_holding(firm, "99876") == []

    with journey.step("the admin sees the refusal on the dashboard"):
        log_in(desk, live_server.url, alice)
        panel = desk.get_by_text("Messages refused by the consent gate").locator("..")
        # Named as people know her, not by Meta's number id.
        expect(panel.locator("..")).to_contain_text(
            "Ana Souza (+55 11 98765-4301): 1 message refused"
        )

    with journey.step("and on the capture coverage page, on her row"):
        desk.goto(f"{live_server.url}/whatsapp/coverage/")
        row = desk.get_by_role("row").filter(has_text="Ana Souza")
        expect(row.locator("td[data-label='Refused']")).to_have_text("1")
        consent_cell = row.locator("td[data-label='Consent']")
        expect(consent_cell).to_contain_text(re.compile("withdrawn", re.I))
