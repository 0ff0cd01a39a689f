"""The dashboard says plainly what runs for the firm: WhatsApp capture (yes or no, since when,
and why not), whether policy scanning runs, and what waits in the alert queue or why no alert can
be raised, instead of an empty alert queue beside counts of captured messages."""

from __future__ import annotations

import html
import re

import pytest

from compliance_hub.audit.actors import Actor
from tests.fixtures import login
from tests.ingestion import payloads
from tests.ingestion.delivering import PHONE_ID, deliver, now_seconds, process


def words(response) -> str:
    """What a person reads: the text without tags, spaces collapsed."""
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())
    return re.sub(r" ([:.,])", r"\1", text)


def test_the_officer_reads_what_is_and_is_not_running_not_an_empty_alert_queue(
    client, tenant_a, oscar
):
    login(client, oscar)
    page = words(client.get("/"))
    assert "No alerts yet" not in page
    assert "What is running" in page
    assert "WhatsApp capture: Not running The firm's WhatsApp connection is not set up." in page
    assert (
        "Policy scanning: Not running No policy is switched on, so captured messages are archived "
        "but not checked" in page
    )
    assert "Alerts: Not running No policy is switched on, so no alerts are raised." in page
    assert "Set up the WhatsApp connection" not in page, "only admins can set it up"


def test_the_admin_is_sent_to_set_up_the_connection(client, tenant_a, alice):
    login(client, alice)
    response = client.get("/")
    assert 'href="/whatsapp/settings/">Set up the WhatsApp connection</a>' in (
        response.content.decode()
    )


def test_connected_but_nobody_consented_is_not_running(client, tenant_a, oscar):
    from ingestion.services import save_whatsapp_settings

    save_whatsapp_settings(
        tenant=tenant_a, app_secret="s" * 16, verify_token="t" * 16, actor=Actor.system()
    )
    login(client, oscar)
    page = words(client.get("/"))
    assert (
        "WhatsApp capture: Not running No employee is covered by consent with a WhatsApp number "
        "connected." in page
    )


@pytest.mark.usefixtures("connected_employee")
def test_consented_and_connected_runs_once_deliveries_arrive(client, tenant_a, oscar):
    login(client, oscar)
    page = words(client.get("/"))
    assert "WhatsApp capture: Not running No delivery has been received from Meta yet." in page
    delivery = deliver(
        client,
        tenant_a,
        payloads.inbound_text(
            phone_number_id=PHONE_ID, wamid="wamid.D1", text="oi", timestamp=now_seconds()
        ),
    )
    process(tenant_a, delivery)
    page = words(client.get("/"))
    since = delivery.received_at.strftime("%Y-%m-%d %H:%M")
    assert (
        f"WhatsApp capture: Running since {since} UTC, for 1 employee covered by consent with a "
        "WhatsApp number connected" in page
    )
    assert "See capture for each employee" in page


@pytest.mark.usefixtures("connected_employee")
def test_the_capture_panel_speaks_plainly_without_codes_or_api_paths(client, tenant_a, alice):
    delivery = deliver(
        client,
        tenant_a,
        payloads.inbound_text(
            phone_number_id="777000777", wamid="wamid.U1", text="x", timestamp=now_seconds()
        ),
    )
    process(tenant_a, delivery)
    login(client, alice)
    response = client.get("/")
    page = words(response)
    assert (
        "WhatsApp number id 777000777: 1 message refused. No employee held this WhatsApp number "
        "at that time." in page
    )
    assert "(unknown_number)" not in page
    assert "/api/v1/" not in page and "Not JSON" not in page


@pytest.mark.usefixtures("connected_employee")
def test_refused_messages_name_the_employee_and_their_number(client, tenant_a, alice):
    """Refusals of a known employee's number are listed by the person and the number people
    know, not by Meta's number id."""
    from tests.consent.employees import add_employee

    add_employee(tenant_a, "Fay Rocha", "+5511987655555", "777000778")
    delivery = deliver(
        client,
        tenant_a,
        payloads.inbound_text(
            phone_number_id="777000778", wamid="wamid.F1", text="x", timestamp=now_seconds()
        ),
    )
    process(tenant_a, delivery)
    login(client, alice)
    page = words(client.get("/"))
    assert "Fay Rocha (+55 11 98765-5555): 1 message refused." in page
    assert "WhatsApp number id 777000778" not in page


def test_the_consent_panel_does_not_claim_capture_and_counts_in_good_english(
    client, tenant_a, oscar
):
    from tests.consent.employees import add_employee

    add_employee(tenant_a, "Fay Rocha", "+5511987655555", "", consented=True)
    login(client, oscar)
    page = words(client.get("/"))
    assert "1 of 1 active employee is covered by consent." in page
    assert "only their messages are captured" not in page
    assert "see whose messages are captured" in page


def test_the_dashboard_says_how_many_policies_check_the_messages(client, tenant_a, oscar):
    from compliance_hub.audit.actors import Actor
    from compliance_hub.tenancy.context import tenant_scope
    from policies.packs import pack
    from policies.services import create_policy, set_active

    with tenant_scope(tenant_a):
        for document in pack("data_protection").documents[:2]:
            policy, _ = create_policy(tenant=tenant_a, actor=Actor.system(), document=document)
            set_active(policy=policy, actor=Actor.system(), active=True)
    login(client, oscar)
    page = words(client.get("/"))
    assert "Policy scanning: Running, every captured message is checked against 2 policies" in page
