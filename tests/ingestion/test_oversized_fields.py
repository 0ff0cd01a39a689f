"""Outside input longer than its column: an identifier Meta sends (a wamid, an event's target)
has no documented maximum, and one longer than the archive's column made the whole delivery fail
on every retry (a DataError) with the rest of its messages. Now the item is refused, recorded
like the gate's refusals (metadata only, reason "oversized"), its content kept in the stored
delivery, and the delivery processed; a display field too long (a contact's name) is shortened,
the whole of it kept in the message's raw payload."""

from __future__ import annotations

import json

from archive.models import Message, MessageEvent
from compliance_hub.tenancy.context import tenant_scope
from ingestion.models import Delivery, Refusal
from tests.ingestion import payloads
from tests.ingestion.delivering import PHONE_ID, deliver, now_seconds, process

LONG_WAMID = "wamid." + "A" * 300


def _two_messages(sent: int, first_wamid: str) -> dict:
    payload = payloads.inbound_text(
        phone_number_id=PHONE_ID, wamid=first_wamid, text="Quero investir 10 mil", timestamp=sent
    )
    value = payload["entry"][0]["changes"][0]["value"]
    value["messages"].append(
        {"from": "5511912345678", "id": "wamid.OK2", "timestamp": str(sent + 1), "type": "text",
         "text": {"body": "Pode me ligar?"}}
    )  # fmt: skip
    return payload


def test_a_message_whose_id_is_longer_than_the_column_is_refused_and_recorded(
    client, tenant_a, connected_employee
):
    delivery = deliver(client, tenant_a, _two_messages(now_seconds(), LONG_WAMID))
    summary = process(tenant_a, delivery)

    with tenant_scope(tenant_a):
        delivery.refresh_from_db()
        assert delivery.status == Delivery.Status.PROCESSED
        assert list(Message.objects.values_list("wamid", flat=True)) == ["wamid.OK2"]
        [refusal] = Refusal.objects.all()
    assert summary["refusals_by_reason"] == {"oversized": 1}
    assert (refusal.reason, refusal.kind, refusal.direction) == ("oversized", "message", "inbound")
    assert refusal.wamid == LONG_WAMID[:255]
    # Not lost: the stored delivery still holds the message as Meta sent it.
    assert not delivery.redacted
    assert "Quero investir 10 mil" in bytes(delivery.body).decode()


def test_processing_the_delivery_again_changes_nothing(client, tenant_a, connected_employee):
    delivery = deliver(client, tenant_a, _two_messages(now_seconds(), LONG_WAMID))
    process(tenant_a, delivery)
    with tenant_scope(tenant_a):
        Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.PENDING)
    process(tenant_a, delivery)
    with tenant_scope(tenant_a):
        assert Message.objects.count() == 1
        assert Refusal.objects.count() == 1


def test_a_change_pointing_at_an_overlong_id_is_refused(client, tenant_a, connected_employee):
    sent = now_seconds()
    payload = payloads.status(phone_number_id=PHONE_ID, target=LONG_WAMID, state="read",
                              timestamp=sent)  # fmt: skip
    delivery = deliver(client, tenant_a, payload)
    summary = process(tenant_a, delivery)
    with tenant_scope(tenant_a):
        delivery.refresh_from_db()
        assert delivery.status == Delivery.Status.PROCESSED
        assert not MessageEvent.objects.exists()
    assert summary["refusals_by_reason"] == {"oversized": 1}


def test_a_contact_name_longer_than_the_column_is_shortened_and_kept_whole_in_raw(
    client, tenant_a, connected_employee
):
    name = "Cliente " + "muito " * 60
    payload = payloads.inbound_text(phone_number_id=PHONE_ID, wamid="wamid.NAME", text="Oi",
                                    timestamp=now_seconds(), name=name)  # fmt: skip
    delivery = deliver(client, tenant_a, payload)
    summary = process(tenant_a, delivery)
    assert summary["archived_messages"] == 1
    with tenant_scope(tenant_a):
        message = Message.objects.select_related("conversation").get(wamid="wamid.NAME")
        delivery.refresh_from_db()
    assert message.conversation.counterparty_name == name[:200]
    assert (
        json.loads(bytes(delivery.body))["entry"][0]["changes"][0]["value"]["contacts"][0][
            "profile"
        ]["name"]
        == name
    )
