"""The WhatsApp page tells the truth about the connection: what is missing and what each
setting is for, when deliveries last arrived and were processed, and a check the admin runs that
crosses a real HTTP hop (Meta's handshake, then a signed test delivery read back from storage)
without adding anything to the archive."""

from __future__ import annotations

import html
import re

import pytest
from playwright.sync_api import expect

from archive.models import Message, MessageEvent
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from ingestion.connection_check import check_connection, check_delivery_body, processing_step
from ingestion.models import CaptureNotice, Delivery, Refusal
from ingestion.services import save_whatsapp_settings
from ingestion.whatsapp.parser import parse_delivery
from tests.browser import log_in
from tests.fixtures import login
from tests.ingestion import payloads
from tests.ingestion.delivering import deliver, deliver_bytes, now_seconds, process

PAGE = "/whatsapp/settings/"
CHECK = "/whatsapp/settings/check/"
APP_SECRET = "app-secret-of-firm-a-0123456789"  # what tests.ingestion.delivering signs with
VERIFY_TOKEN = "verify-me-please-7Q2"


def words(response) -> str:
    """What a person reads: the text without tags, spaces collapsed."""
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())
    return re.sub(r" ([:.,])", r"\1", text)


def checks(tenant) -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(action="whatsapp.connection_checked").order_by("id"))


def archived(tenant) -> tuple[int, int, int, int]:
    with tenant_scope(tenant):
        return (
            Message.objects.count(),
            MessageEvent.objects.count(),
            Refusal.objects.count(),
            CaptureNotice.objects.count(),
        )


@pytest.fixture
def receiving(tenant_a):
    """Meta can verify the address and deliveries are checked; no access token, no WABA id."""
    save_whatsapp_settings(
        tenant=tenant_a, app_secret=APP_SECRET, verify_token=VERIFY_TOKEN, actor=Actor.system()
    )
    return tenant_a


def test_the_page_says_what_is_missing_and_what_each_setting_is_for(client, receiving, alice):
    login(client, alice)
    page = words(client.get(PAGE))
    assert "Incomplete: 2 settings missing" in page
    assert "configured" not in page, "no longer called configured while settings are missing"
    assert "Saved App secret: Proves that each delivery comes from Meta" in page
    assert "Saved Verify token:" in page
    assert "Missing Access token: Downloads the photos, documents and voice notes" in page
    assert "Missing WhatsApp Business Account id: Names the firm's account at Meta" in page


def test_before_anything_is_saved_the_page_says_nothing_is_captured(client, tenant_a, alice):
    login(client, alice)
    page = words(client.get(PAGE))
    assert "Not connected" in page and "Nothing is captured yet." in page
    assert page.count("Missing ") == 4


def test_the_page_shows_the_last_delivery_received_and_processed(
    client, receiving, alice, django_capture_on_commit_callbacks
):
    login(client, alice)
    assert "Last delivery received from Meta none yet" in words(client.get(PAGE))
    delivery = deliver(
        client,
        receiving,
        payloads.inbound_text(
            phone_number_id="106540352242922", wamid="wamid.L1", text="oi", timestamp=now_seconds()
        ),
    )
    page = words(client.get(PAGE))
    received = delivery.received_at.strftime("%Y-%m-%d %H:%M:%S")
    assert f"Last delivery received from Meta {received} UTC" in page
    assert "Last delivery processed none yet" in page
    process(receiving, delivery)
    with tenant_scope(receiving):
        processed = Delivery.objects.get(pk=delivery.pk).processed_at
    page = words(client.get(PAGE))
    assert f"Last delivery processed {processed:%Y-%m-%d %H:%M:%S} UTC" in page


def test_the_test_delivery_parses_to_nothing_and_the_drain_archives_nothing(
    client, receiving, alice
):
    body = check_delivery_body(check_id="abc123")
    parsed = parse_delivery(body)
    assert not parsed.unparseable
    assert parsed.messages == parsed.changes == parsed.statuses == parsed.calls == ()
    assert parsed.account_events == parsed.unrecognised == ()

    delivery = deliver_bytes(client, receiving, body, secret=APP_SECRET)
    summary = process(receiving, delivery)
    assert archived(receiving) == (0, 0, 0, 0)
    assert summary["archived_messages"] == summary["archived_events"] == 0
    assert summary["refused"] == summary["notices"] == summary["account_events"] == 0


@pytest.mark.django_db(transaction=True)
def test_the_check_crosses_http_to_our_own_webhook_and_reads_the_delivery_back(
    live_server, receiving, alice
):
    result = check_connection(
        tenant=receiving,
        base_url=live_server.url,
        actor=Actor.for_user(alice.user),
        processing_wait=0.2,
    )

    outcomes = [(step.name, step.outcome) for step in result.steps]
    assert outcomes[:3] == [
        ("Meta's verification handshake", "passed"),
        ("Signed test delivery", "passed"),
        ("Test delivery stored", "passed"),
    ]
    assert result.passed
    with tenant_scope(receiving):
        stored = Delivery.objects.get()
    assert stored.headers["User-Agent"].startswith("ComplianceHub-ConnectionCheck")
    assert archived(receiving) == (0, 0, 0, 0)
    [event] = checks(receiving)
    assert event.actor == alice.user and event.details["passed"] is True
    assert [step["outcome"] for step in event.details["steps"]][:3] == ["passed"] * 3


@pytest.mark.django_db(transaction=True)
def test_a_check_that_cannot_reach_the_site_fails_in_plain_words_and_is_audited(receiving, alice):
    result = check_connection(
        tenant=receiving,
        base_url="http://127.0.0.1:9",
        actor=Actor.for_user(alice.user),
        processing_wait=0,
    )
    assert not result.passed
    handshake, sent, stored, processed = result.steps
    assert handshake.outcome == sent.outcome == "failed"
    assert "Could not reach http://127.0.0.1:9/webhooks/whatsapp/firm-a/" in handshake.detail
    assert stored.outcome == processed.outcome == "skipped"
    assert checks(receiving)[0].details["passed"] is False


@pytest.mark.django_db(transaction=True)
def test_without_a_verify_token_the_handshake_is_not_sent(live_server, tenant_a, alice):
    save_whatsapp_settings(tenant=tenant_a, app_secret=APP_SECRET, actor=Actor.system())
    result = check_connection(
        tenant=tenant_a, base_url=live_server.url, processing_wait=0, actor=Actor.system()
    )
    assert result.steps[0].outcome == "skipped"
    assert result.steps[0].detail == "Not sent: no verify token is saved."
    assert not result.passed


def test_only_admins_may_run_the_check(client, receiving, oscar, audrey):
    for person in (oscar, audrey):
        login(client, person)
        assert client.post(CHECK).status_code == 403
    assert checks(receiving) == []


def test_the_check_is_a_post(client, receiving, alice):
    login(client, alice)
    assert client.get(CHECK).status_code == 405
    assert checks(receiving) == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_admin_runs_the_check_from_the_page_and_reads_each_step(
    live_server, page, receiving, alice, settings, worker
):
    # A real worker, so the last step's outcome does not depend on whether an earlier test of
    # this process happened to start one (it did, in some orders, and the step then passed).
    settings.WHATSAPP_CHECK_PROCESSING_WAIT = 30
    log_in(page, live_server.url, alice)
    page.goto(f"{live_server.url}{PAGE}")
    expect(page.get_by_text("Incomplete: 2 settings missing")).to_be_visible()
    page.get_by_role("button", name="Run the check").click()

    expect(page.get_by_text("Connection check passed")).to_be_visible()
    steps = page.locator("ol.check-steps li")
    expect(steps).to_have_count(4)
    expect(steps.nth(0)).to_contain_text("Meta's verification handshake: OK")
    expect(steps.nth(1)).to_contain_text("Signed test delivery: OK")
    expect(steps.nth(2)).to_contain_text("Test delivery stored: OK")
    expect(steps.nth(3)).to_contain_text("Processed; it carried nothing to archive.")
    # The check's own delivery is not taken for one from Meta.
    last = page.locator("dt:has-text('Last delivery received from Meta') + dd")
    expect(last).to_have_text("none yet")
    assert archived(receiving) == (0, 0, 0, 0)


def test_a_delivery_the_workers_have_not_processed_is_a_warning_in_plain_words(client, receiving):
    # Not committed (and so never queued): no worker can process it, whatever else runs.
    delivery = deliver(
        client,
        receiving,
        payloads.inbound_text(
            phone_number_id="106540352242922", wamid="wamid.W1", text="oi", timestamp=now_seconds()
        ),
    )
    step = processing_step(tenant=receiving, delivery=delivery, wait=0.1)
    assert (step.name, step.outcome) == ("Processed by the background workers", "warning")
    assert step.detail == (
        "Not processed within 0.1 seconds: the background workers may be stopped or busy. "
        "Deliveries wait safely until they run."
    )


def test_a_forged_host_never_receives_the_verify_token(client, receiving, alice, settings):
    """With a wildcard in ALLOWED_HOSTS the Host header is anyone's to choose: the check then
    goes to SITE_URL, never to the host the request named."""
    settings.ALLOWED_HOSTS = ["*"]
    settings.SITE_URL = "http://127.0.0.1:9"
    settings.WHATSAPP_CHECK_PROCESSING_WAIT = 0
    login(client, alice)
    response = client.post(CHECK, HTTP_HOST="attacker.example")
    assert response.status_code == 302
    [event] = checks(receiving)
    assert event.details["callback_url"] == "http://127.0.0.1:9/webhooks/whatsapp/firm-a/"
