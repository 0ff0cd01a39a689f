"""Webhook bodies in Meta's documented shapes (../shared/reference/whatsapp-webhooks.md), built
for tests and the load generator."""

from __future__ import annotations

import json
from typing import Any

WABA_ID = "102290129340398"
DISPLAY_NUMBER = "5511987654321"


def envelope(field: str, value: dict[str, Any], *, phone_number_id: str) -> dict[str, Any]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": phone_number_id},
        **value,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"field": field, "value": value}]}],
    }


def contact(wa_id: str, name: str) -> dict[str, Any]:
    return {"profile": {"name": name}, "wa_id": wa_id}


def inbound_text(
    *, phone_number_id: str, wamid: str, text: str, timestamp: int,
    wa_id: str = "5511912345678", name: str = "Cliente Silva",
) -> dict[str, Any]:  # fmt: skip
    return envelope(
        "messages",
        {
            "contacts": [contact(wa_id, name)],
            "messages": [
                {"from": wa_id, "id": wamid, "timestamp": str(timestamp), "type": "text",
                 "text": {"body": text}}
            ],
        },
        phone_number_id=phone_number_id,
    )  # fmt: skip


def echo_text(
    *, phone_number_id: str, wamid: str, text: str, timestamp: int, to: str = "5511912345678"
) -> dict[str, Any]:
    return envelope(
        "smb_message_echoes",
        {
            "message_echoes": [
                {"from": DISPLAY_NUMBER, "to": to, "id": wamid, "timestamp": str(timestamp),
                 "type": "text", "text": {"body": text}}
            ]
        },
        phone_number_id=phone_number_id,
    )  # fmt: skip


def inbound_edit(
    *, phone_number_id: str, wamid: str, original: str, text: str, timestamp: int,
    wa_id: str = "5511912345678",
) -> dict[str, Any]:  # fmt: skip
    return envelope(
        "messages",
        {
            "contacts": [contact(wa_id, "Cliente Silva")],
            "messages": [
                {"from": wa_id, "id": wamid, "timestamp": str(timestamp), "type": "edit",
                 "edit": {"original_message_id": original,
                          "message": {"type": "text", "text": {"body": text}}}}
            ],
        },
        phone_number_id=phone_number_id,
    )  # fmt: skip


def inbound_reaction(
    *, phone_number_id: str, wamid: str, target: str, emoji: str | None, timestamp: int,
    wa_id: str = "5511912345678",
) -> dict[str, Any]:  # fmt: skip
    reaction: dict[str, Any] = {"message_id": target}
    if emoji is not None:
        reaction["emoji"] = emoji
    return envelope(
        "messages",
        {
            "contacts": [contact(wa_id, "Cliente Silva")],
            "messages": [
                {"from": wa_id, "id": wamid, "timestamp": str(timestamp), "type": "reaction",
                 "reaction": reaction}
            ],
        },
        phone_number_id=phone_number_id,
    )  # fmt: skip


def status(
    *, phone_number_id: str, target: str, state: str, timestamp: int,
    recipient: str = "5511912345678",
) -> dict[str, Any]:  # fmt: skip
    return envelope(
        "messages",
        {"statuses": [{"id": target, "status": state, "timestamp": str(timestamp),
                       "recipient_id": recipient}]},
        phone_number_id=phone_number_id,
    )  # fmt: skip


def body(payload: dict[str, Any]) -> bytes:
    """Serialised as Meta does: compact, non-ASCII escaped (the signature covers these bytes)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode()
