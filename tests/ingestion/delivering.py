"""Delivering to the webhook and processing what it stored, as the ingestion, archive and
dashboard tests all do: the firm's secrets, a sample body, signed POSTs, and Meta's payloads for
calls and account updates."""

from __future__ import annotations

import json
import time

from django.db.models import Max

from compliance_hub.tenancy.context import tenant_scope
from ingestion.models import Delivery
from ingestion.processing import process_delivery_by_id
from ingestion.whatsapp.signature import sign
from tests.fixtures import ANA_PHONE_ID
from tests.ingestion import payloads

APP_SECRET = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"
VERIFY_TOKEN = "vt-firm-a-2026-shh"
OTHER_APP_SECRET = "ffffeeeeddddccccbbbbaaaa99998888"

BODY = json.dumps(
    {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "5511987654321",
                                "phone_number_id": "106540352242922",
                            },
                            "contacts": [{"profile": {"name": "Ana"}, "wa_id": "5511912345678"}],
                            "messages": [
                                {
                                    "from": "5511912345678",
                                    "id": "wamid.HBgLNTUxMTkxMjM0NTY3OBUCABIYFjNFQjA=",
                                    "timestamp": "1767225600",
                                    "type": "text",
                                    "text": {"body": "Bom dia"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    },
    separators=(",", ":"),
).encode()

SECRET = "app-secret-of-firm-a-0123456789"
PHONE_ID = ANA_PHONE_ID
CLIENT = "5511912345678"


def now_seconds() -> int:
    return int(time.time()) + 1


def deliver(client, tenant, payload, *, secret=SECRET):
    return deliver_bytes(client, tenant, payloads.body(payload), secret=secret)


def deliver_bytes(client, tenant, raw: bytes, *, secret=SECRET) -> Delivery:
    """POST ``raw``, signed with ``secret``, to the tenant's webhook: it answers 200 and stores
    exactly one delivery, which is returned."""
    with tenant_scope(tenant):
        before = Delivery.objects.aggregate(last=Max("id"))["last"] or 0
    response = client.post(
        f"/webhooks/whatsapp/{tenant.slug}/",
        data=raw,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=sign(raw, secret),
    )
    assert response.status_code == 200, response.content
    with tenant_scope(tenant):
        [delivery] = Delivery.objects.filter(id__gt=before)
    return delivery


def process(tenant, delivery):
    with tenant_scope(tenant):
        return process_delivery_by_id(tenant=tenant, delivery_id=delivery.pk)


def send(client, tenant, payload):
    return process(tenant, deliver(client, tenant, payload))


def call_event(*, phone_number_id: str, call_id: str, event: str, timestamp: int, **extra) -> dict:
    """A Calling API event (``calls`` field), as in pywa's live-tested fixtures."""
    call = {
        "id": call_id,
        "from": CLIENT,
        "to": payloads.DISPLAY_NUMBER,
        "event": event,
        "direction": "USER_INITIATED",
        "timestamp": str(timestamp),
        **extra,
    }
    return payloads.envelope(
        "calls",
        {"contacts": [payloads.contact(CLIENT, "Cliente Silva")], "calls": [call]},
        phone_number_id=phone_number_id,
    )


def account_update(event: str, *, phone_number: str = payloads.DISPLAY_NUMBER, **value) -> dict:
    """``account_update`` as Meta sends it for coexistence offboarding: no metadata, the
    business number on the value, the entry's time."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": payloads.WABA_ID,
                "time": now_seconds(),
                "changes": [
                    {
                        "field": "account_update",
                        "value": {"phone_number": phone_number, "event": event, **value},
                    }
                ],
            }
        ],
    }
