"""Calls become call records through the consent gate like messages; what an admin must know
about capture itself (a number disconnected, an unconsented number in use, history declined)
becomes one capture notice, shown on the dashboard until an admin acknowledges it."""

from __future__ import annotations

from archive.models import CallRecord
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from consent import gate
from consent import services as consent
from ingestion.models import CaptureNotice, Refusal
from tests.fixtures import login
from tests.ingestion import payloads
from tests.ingestion.delivering import (
    CLIENT,
    PHONE_ID,
    account_update,
    call_event,
    deliver,
    now_seconds,
    process,
    send,
)


def history_declined(*, phone_number_id: str) -> dict:
    return payloads.envelope(
        "history",
        {
            "history": [
                {
                    "errors": [
                        {
                            "code": 2593109,
                            "title": "History sync is turned off by the business from the "
                            "WhatsApp Business App",
                        }
                    ]
                }
            ]
        },
        phone_number_id=phone_number_id,
    )


def notices(tenant):
    with tenant_scope(tenant):
        return list(CaptureNotice.objects.order_by("id"))


# --- calls -----------------------------------------------------------------------------------


def test_a_consented_call_is_archived_as_call_records_linked_to_the_employee(
    client, tenant_a, connected_employee
):
    start = now_seconds()
    send(
        client,
        tenant_a,
        call_event(
            phone_number_id=PHONE_ID, call_id="wacid.C1", event="connect", timestamp=start,
            session={"sdp": "v=0...", "sdp_type": "offer"},
        ),
    )  # fmt: skip
    summary = send(
        client,
        tenant_a,
        call_event(
            phone_number_id=PHONE_ID, call_id="wacid.C1", event="terminate", timestamp=start + 42,
            status="COMPLETED", start_time=str(start), end_time=str(start + 42), duration=42,
        ),
    )  # fmt: skip
    assert summary["archived_calls"] == 1 and summary["refused"] == 0
    with tenant_scope(tenant_a):
        calls = list(CallRecord.objects.order_by("whatsapp_timestamp"))
    assert [(c.event, c.status) for c in calls] == [("connect", ""), ("terminate", "COMPLETED")]
    ended = calls[1]
    assert ended.employee_id == connected_employee.pk
    assert (ended.call_id, ended.direction, ended.duration_seconds) == (
        "wacid.C1",
        "USER_INITIATED",
        42,
    )
    assert ended.counterparty_wa_id == CLIENT and ended.business_phone_number_id == PHONE_ID
    assert ended.started_at.timestamp() == start and ended.ended_at.timestamp() == start + 42
    assert ended.event_key == f"call:wacid.C1:terminate:COMPLETED:{start + 42}"


def test_the_same_call_event_delivered_twice_is_archived_once(client, tenant_a, connected_employee):
    payload = call_event(
        phone_number_id=PHONE_ID, call_id="wacid.C2", event="connect", timestamp=now_seconds()
    )
    first = send(client, tenant_a, payload)
    again = send(client, tenant_a, payload)
    assert (first["archived_calls"], again["archived_calls"]) == (1, 0)
    with tenant_scope(tenant_a):
        assert CallRecord.objects.count() == 1


def test_a_call_without_consent_keeps_only_a_metadata_refusal(client, tenant_a, connected_employee):
    consent.withdraw_consent(employee=connected_employee, reason="no longer", actor=Actor.system())
    gate.clear_cache()
    delivery = deliver(
        client,
        tenant_a,
        call_event(
            phone_number_id=PHONE_ID, call_id="wacid.C3", event="connect",
            timestamp=now_seconds(), session={"sdp": "secret-sdp-body", "sdp_type": "offer"},
        ),
    )  # fmt: skip
    summary = process(tenant_a, delivery)
    assert summary["refused"] == 1 and summary["archived_calls"] == 0
    with tenant_scope(tenant_a):
        assert not CallRecord.objects.exists()
        refusal = Refusal.objects.get()
        delivery.refresh_from_db()
    assert (refusal.kind, refusal.wamid, refusal.direction, refusal.reason) == (
        "call",
        "wacid.C3",
        "inbound",
        "consent_withdrawn",
    )
    stored = bytes(delivery.body).decode()
    assert "secret-sdp-body" not in stored and "Cliente Silva" not in stored
    assert "wacid.C3" in stored
    assert notices(tenant_a) == [], "a withdrawn consent is not an unconsented number in use"


# --- capture stopped -------------------------------------------------------------------------


def test_partner_removed_raises_one_notice_naming_the_number_and_the_employee(
    client, tenant_a, connected_employee
):
    removed = account_update(
        "PARTNER_REMOVED",
        disconnection_info={"reason": "ACCOUNT_DISCONNECTED", "initiated_by": "USER"},
    )
    summary = send(client, tenant_a, removed)
    assert summary["notices"] == 1
    send(client, tenant_a, removed)  # Meta redelivers it
    send(client, tenant_a, account_update("PARTNER_REMOVED"))  # and sends it again that day
    [notice] = notices(tenant_a)
    assert notice.kind == CaptureNotice.Kind.PARTNER_REMOVED
    assert notice.phone_number_id == PHONE_ID, "the employee's number id, found by the number"
    assert notice.message.startswith("Capture stopped for number +55 11 98765-4321 (Ana Souza)")
    assert "Meta reported that the number was disconnected from this app" in notice.message
    assert "(the account was disconnected)" in notice.message
    assert "PARTNER_REMOVED" not in notice.message and "ACCOUNT_DISCONNECTED" not in notice.message
    assert notice.details["reason"] == "ACCOUNT_DISCONNECTED"
    assert notice.details["initiated_by"] == "USER"
    assert notice.acknowledged_at is None


def test_other_account_events_that_stop_capture_raise_a_notice_and_harmless_ones_do_not(
    client, tenant_a, connected_employee
):
    send(client, tenant_a, account_update("PARTNER_ADDED"))
    send(
        client,
        tenant_a,
        account_update("DISABLED_UPDATE", ban_info={"waba_ban_state": "REINSTATE"}),
    )
    assert notices(tenant_a) == []
    send(
        client, tenant_a, account_update("DISABLED_UPDATE", ban_info={"waba_ban_state": "DISABLE"})
    )
    [notice] = notices(tenant_a)
    assert notice.kind == CaptureNotice.Kind.ACCOUNT_EVENT
    assert "Capture stopped" in notice.message and "the account was disabled" in notice.message
    assert "DISABLED_UPDATE" not in notice.message, "Meta's code stays in the details"


# --- unconsented numbers ---------------------------------------------------------------------


def test_messages_of_an_unknown_number_raise_one_unconsented_number_notice(
    client, tenant_a, connected_employee
):
    for wamid in ("wamid.U1", "wamid.U2"):
        send(
            client,
            tenant_a,
            payloads.inbound_text(
                phone_number_id="777000777", wamid=wamid, text="hi", timestamp=now_seconds()
            ),
        )
    [notice] = notices(tenant_a)
    assert notice.kind == CaptureNotice.Kind.UNCONSENTED_NUMBER
    assert notice.phone_number_id == "777000777"
    assert (
        "Unconsented number in use" in notice.message and "no employee holds it" in notice.message
    )
    # Named as people know the number (Meta's display number in the delivery's metadata).
    assert (
        "number +55 11 98765-4321" in notice.message
    )  # payloads.DISPLAY_NUMBER, as people write it


def test_an_employee_who_never_consented_is_an_unconsented_number_in_use(
    client, tenant_a, connected_employee, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        consent.create_employee(
            tenant=tenant_a,
            data=consent.EmployeeData(
                full_name="Bea Lima",
                email="bea@firm-a.example",
                employee_id="B-1",
                phone_number="+55 11 98765-1111",
                whatsapp_phone_number_id="222000222",
            ),
            actor=Actor.system(),
        )
    send(
        client,
        tenant_a,
        payloads.inbound_text(
            phone_number_id="222000222", wamid="wamid.B1", text="oi", timestamp=now_seconds()
        ),
    )
    [notice] = notices(tenant_a)
    assert notice.kind == CaptureNotice.Kind.UNCONSENTED_NUMBER
    assert "(Bea Lima)" in notice.message and "no consent given" in notice.message


# --- history ---------------------------------------------------------------------------------


def test_declined_history_sharing_raises_a_notice(client, tenant_a, connected_employee):
    summary = send(client, tenant_a, history_declined(phone_number_id=PHONE_ID))
    assert summary["notices"] == 1
    send(client, tenant_a, history_declined(phone_number_id=PHONE_ID))
    [notice] = notices(tenant_a)
    assert notice.kind == CaptureNotice.Kind.HISTORY_DECLINED
    assert notice.phone_number_id == PHONE_ID
    assert notice.message.startswith("History sharing declined for number +55 11 98765-4321")
    assert notice.details["errors"][0]["code"] == 2593109


# --- the dashboard ---------------------------------------------------------------------------


def test_open_notices_are_on_the_dashboard_and_an_admin_acknowledges_them(
    client, tenant_a, connected_employee, alice, oscar
):
    send(client, tenant_a, account_update("PARTNER_REMOVED"))
    [notice] = notices(tenant_a)
    url = f"/whatsapp/notices/{notice.pk}/acknowledge/"

    login(client, oscar)
    page = client.get("/").content.decode()
    assert "Capture stopped for number +55 11 98765-4321" in page
    assert url not in page, "officers see notices; only admins acknowledge them"
    assert client.post(url).status_code == 403
    [notice] = notices(tenant_a)
    assert notice.acknowledged_at is None

    login(client, alice)
    page = client.get("/").content.decode()
    assert "Capture stopped for number +55 11 98765-4321" in page and url in page
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == "/"
    page = client.get("/").content.decode()
    assert "Capture notices" not in page and url not in page

    [notice] = notices(tenant_a)
    assert notice.acknowledged_at is not None and notice.acknowledged_by == alice.user
    with tenant_scope(tenant_a):
        event = AuditEvent.objects.get(action="capture_notice.acknowledged")
    assert (event.actor_id, event.target_id) == (alice.user.pk, str(notice.pk))
    assert event.details["kind"] == "partner_removed"

    client.post(url)  # twice: nothing more happens
    with tenant_scope(tenant_a):
        assert AuditEvent.objects.filter(action="capture_notice.acknowledged").count() == 1


def test_an_outsider_cannot_acknowledge_another_firms_notice(
    client, tenant_a, connected_employee, bob
):
    send(client, tenant_a, account_update("PARTNER_REMOVED"))
    [notice] = notices(tenant_a)
    login(client, bob)
    assert client.post(f"/whatsapp/notices/{notice.pk}/acknowledge/").status_code == 404
    assert client.get(f"/whatsapp/notices/{notice.pk}/acknowledge/").status_code == 405
    [notice] = notices(tenant_a)
    assert notice.acknowledged_at is None


def test_a_history_decline_sent_as_a_value_error_still_raises_a_notice(
    client, tenant_a, connected_employee
):
    declined = payloads.envelope(
        "history",
        {"errors": [{"code": 2593109, "title": "History sync is turned off by the business"}]},
        phone_number_id=PHONE_ID,
    )
    send(client, tenant_a, declined)
    [notice] = notices(tenant_a)
    assert notice.kind == CaptureNotice.Kind.HISTORY_DECLINED
    assert notice.message.startswith("History sharing declined")
