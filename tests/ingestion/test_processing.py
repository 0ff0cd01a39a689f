"""From a signed POST to the archive: the consent gate decides, refusals keep no content,
processing is idempotent, the sweeper finds what was not processed."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from archive.models import Conversation, Message, MessageEvent
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from consent import gate
from consent import services as consent
from ingestion.models import Delivery, Refusal
from ingestion.tasks import deliveries_to_sweep
from tests.ingestion import payloads
from tests.ingestion.delivering import (
    PHONE_ID,
    deliver,
    deliver_bytes,
    now_seconds,
    process,
)


def deliver_built(client, tenant, builder, **fields):
    """Deliver a payload of ``builder`` for PHONE_ID (unless given) and process it."""
    fields.setdefault("phone_number_id", PHONE_ID)
    return process(tenant, deliver(client, tenant, builder(**fields)))


def test_a_consented_inbound_message_is_archived_with_both_times(
    client, tenant_a, connected_employee
):
    sent = now_seconds()
    delivery = deliver(
        client,
        tenant_a,
        payloads.inbound_text(
            phone_number_id=PHONE_ID, wamid="wamid.IN1", text="Olá, quero investir", timestamp=sent
        ),
    )
    summary = process(tenant_a, delivery)
    assert summary["archived_messages"] == 1 and summary["refused"] == 0
    with tenant_scope(tenant_a):
        message = Message.objects.get(wamid="wamid.IN1")
        conversation = message.conversation
        delivery.refresh_from_db()
    assert (message.direction, message.type, message.text) == (
        "inbound",
        "text",
        "Olá, quero investir",
    )
    assert message.whatsapp_timestamp.timestamp() == sent
    assert message.received_at == delivery.received_at
    assert message.employee_id == connected_employee.pk
    assert (conversation.counterparty_wa_id, conversation.counterparty_name) == (
        "5511912345678",
        "Cliente Silva",
    )
    assert delivery.status == Delivery.Status.PROCESSED and not delivery.redacted


def test_the_employees_own_messages_from_the_app_are_archived_as_outbound(
    client, tenant_a, connected_employee
):
    sent = now_seconds()
    deliver_built(
        client, tenant_a, payloads.inbound_text, wamid="wamid.IN1", text="Oi", timestamp=sent
    )
    deliver_built(
        client,
        tenant_a,
        payloads.echo_text,
        wamid="wamid.OUT1",
        text="Bom dia! Como posso ajudar?",
        timestamp=sent + 1,
    )
    with tenant_scope(tenant_a):
        outbound = Message.objects.get(wamid="wamid.OUT1")
        inbound = Message.objects.get(wamid="wamid.IN1")
    assert outbound.direction == "outbound"
    assert outbound.conversation_id == inbound.conversation_id, "one thread per client"


def test_the_same_message_delivered_and_processed_twice_is_stored_once(
    client, tenant_a, connected_employee
):
    payload = payloads.inbound_text(
        phone_number_id=PHONE_ID, wamid="wamid.DUP", text="once", timestamp=now_seconds()
    )
    first = deliver(client, tenant_a, payload)
    second = deliver(client, tenant_a, payload)  # Meta retried
    process(tenant_a, first)
    process(tenant_a, second)
    assert process(tenant_a, first) is None  # already processed: nothing happens
    with tenant_scope(tenant_a):
        assert Message.objects.filter(wamid="wamid.DUP").count() == 1
        assert Conversation.objects.count() == 1


def test_edits_and_reactions_are_events_and_the_original_never_changes(
    client, tenant_a, connected_employee
):
    sent = now_seconds()
    # The reaction arrives before the message it reacts to: kept, linked by id.
    deliver_built(
        client,
        tenant_a,
        payloads.inbound_reaction,
        wamid="wamid.R1",
        target="wamid.ORIG",
        emoji="👍",
        timestamp=sent + 2,
    )
    deliver_built(
        client,
        tenant_a,
        payloads.inbound_text,
        wamid="wamid.ORIG",
        text="Compre 100 ações",
        timestamp=sent,
    )
    deliver_built(
        client,
        tenant_a,
        payloads.inbound_edit,
        wamid="wamid.E1",
        original="wamid.ORIG",
        text="Compre 1000 ações",
        timestamp=sent + 3,
    )
    deliver_built(
        client,
        tenant_a,
        payloads.inbound_reaction,
        wamid="wamid.R2",
        target="wamid.ORIG",
        emoji=None,
        timestamp=sent + 4,
    )
    with tenant_scope(tenant_a):
        original = Message.objects.get(wamid="wamid.ORIG")
        events = list(
            MessageEvent.objects.filter(target_wamid="wamid.ORIG").order_by("whatsapp_timestamp")
        )
    assert original.text == "Compre 100 ações"
    assert [e.kind for e in events] == ["reaction", "edit", "reaction"]
    assert events[0].payload["emoji"] == "👍"
    assert "1000" in str(events[1].payload)
    assert events[2].payload.get("emoji", "") == ""


def test_statuses_of_sent_messages_are_kept(client, tenant_a, connected_employee):
    sent = now_seconds()
    for state in ("sent", "delivered", "read"):
        deliver_built(
            client, tenant_a, payloads.status, target="wamid.OUT9", state=state, timestamp=sent
        )
    with tenant_scope(tenant_a):
        kept = set(
            MessageEvent.objects.filter(kind="status").values_list("payload__status", flat=True)
        )
    assert kept == {"sent", "delivered", "read"}


def test_without_consent_no_content_is_kept_anywhere(client, tenant_a, connected_employee):
    consent.withdraw_consent(employee=connected_employee, reason="no longer", actor=Actor.system())
    gate.clear_cache()
    secret_text = "my private words 4242"
    delivery = deliver(
        client,
        tenant_a,
        payloads.inbound_text(
            phone_number_id=PHONE_ID, wamid="wamid.NO", text=secret_text, timestamp=now_seconds()
        ),
    )
    summary = process(tenant_a, delivery)
    assert summary["refused"] == 1 and summary["archived_messages"] == 0
    with tenant_scope(tenant_a):
        assert not Message.objects.exists()
        refusal = Refusal.objects.get()
        delivery.refresh_from_db()
    assert (refusal.reason, refusal.wamid, refusal.employee_pk) == (
        "consent_withdrawn",
        "wamid.NO",
        connected_employee.pk,
    )
    assert delivery.redacted
    stored = bytes(delivery.body).decode()
    assert secret_text not in stored and "Cliente Silva" not in stored
    assert "wamid.NO" in stored  # the metadata stays


def test_a_number_of_nobody_or_of_another_tenant_is_refused(
    client, tenant_a, tenant_b, connected_employee
):
    payload = payloads.inbound_text(
        phone_number_id="999999999999", wamid="wamid.X", text="hi", timestamp=now_seconds()
    )
    delivery = deliver(client, tenant_a, payload)
    process(tenant_a, delivery)
    with tenant_scope(tenant_a):
        assert Refusal.objects.get().reason == "unknown_number"
        assert not Message.objects.exists()


def test_a_signed_body_that_is_not_json_is_kept_and_marked(client, tenant_a, connected_employee):
    raw = b"this is not json \xff"
    delivery = deliver_bytes(client, tenant_a, raw)
    process(tenant_a, delivery)
    with tenant_scope(tenant_a):
        delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.UNPARSEABLE
    assert bytes(delivery.body) == raw


def test_the_sweeper_finds_acknowledged_but_unprocessed_deliveries(
    client, tenant_a, connected_employee
):
    old = deliver(
        client,
        tenant_a,
        payloads.inbound_text(
            phone_number_id=PHONE_ID, wamid="wamid.S1", text="a", timestamp=now_seconds()
        ),
    )
    fresh = deliver(
        client,
        tenant_a,
        payloads.inbound_text(
            phone_number_id=PHONE_ID, wamid="wamid.S2", text="b", timestamp=now_seconds()
        ),
    )
    with tenant_scope(tenant_a):
        Delivery.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(minutes=5))
    due = [(item.tenant_id, item.delivery_id, item.pending) for item in deliveries_to_sweep()]
    assert (tenant_a.pk, old.pk, True) in due
    assert fresh.pk not in [delivery_id for _, delivery_id, _ in due]
    process(tenant_a, old)
    assert old.pk not in [item.delivery_id for item in deliveries_to_sweep()]


def test_the_dashboard_shows_pipeline_health_and_unconsented_numbers(
    client, tenant_a, connected_employee, alice
):
    from tests.fixtures import login

    payload = payloads.inbound_text(
        phone_number_id="777000777", wamid="wamid.U1", text="hi", timestamp=now_seconds()
    )
    process(tenant_a, deliver(client, tenant_a, payload))
    login(client, alice)
    page = client.get("/").content.decode()
    assert "WhatsApp capture, last 24 hours" in page
    assert "777000777" in page and "unconsented or unknown number is in use" in page


def test_characters_postgresql_cannot_store_do_not_lose_the_message(
    client, tenant_a, connected_employee
):
    # JSON allows NUL and lone surrogates; PostgreSQL's text and jsonb do not.
    raw = (
        b'{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages",'
        b'"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511987654321",'
        b'"phone_number_id":"'
        + PHONE_ID.encode()
        + b'"},"contacts":[{"profile":{"name":"X\\u0000Y"},'
        b'"wa_id":"5511912345678"}],"messages":[{"from":"5511912345678","id":"wamid.NUL",'
        b'"timestamp":"' + str(now_seconds()).encode() + b'","type":"text",'
        b'"text":{"body":"a\\u0000b\\ud800c"}}]}}]}]}'
    )
    delivery = deliver_bytes(client, tenant_a, raw)
    summary = process(tenant_a, delivery)
    assert summary["archived_messages"] == 1
    with tenant_scope(tenant_a):
        message = Message.objects.get(wamid="wamid.NUL")
        delivery.refresh_from_db()
    assert message.text == "a\ufffdb\ufffdc"
    assert bytes(delivery.body) == raw, "the delivery keeps exactly what Meta sent"
