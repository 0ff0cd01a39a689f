"""Webhook bodies as Meta's WhatsApp Business Platform sends them (the shapes our parser reads,
from Meta's webhook reference and the fixtures under tests/ingestion/fixtures/): an envelope per
change, inbound messages, echoes of what the employee sent from the app, and statuses. Pure."""

from __future__ import annotations

from typing import Any

WABA_ID = "102290129340398"


def envelope(
    phone_number_id: str, display_number: str, field: str, value: dict[str, Any]
) -> dict[str, Any]:
    metadata = {"display_phone_number": display_number, "phone_number_id": phone_number_id}
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [
            {"field": field, "value": {"messaging_product": "whatsapp", "metadata": metadata,
                                       **value}},
        ]}],
    }  # fmt: skip


def inbound(
    phone_number_id: str, display_number: str, wamid: str, at: int,
    client: tuple[str, str], kind: str, body: Any, context: dict[str, str] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A message the client (``(wa_id, profile name)``) sent to the employee's number."""
    wa_id, name = client
    message: dict[str, Any] = {"from": wa_id, "id": wamid, "timestamp": str(at), "type": kind,
                               kind: body}  # fmt: skip
    if context:
        message["context"] = context
    return envelope(phone_number_id, display_number, "messages", {
        "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
        "messages": [message],
    })  # fmt: skip


def echo(
    phone_number_id: str, display_number: str, wamid: str, at: int, to: str, kind: str,
    body: Any, context: dict[str, str] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A message the employee sent from the WhatsApp Business app (an echo)."""
    message: dict[str, Any] = {"from": display_number, "to": to, "id": wamid,
                               "timestamp": str(at), "type": kind, kind: body}  # fmt: skip
    if context:
        message["context"] = context
    return envelope(phone_number_id, display_number, "smb_message_echoes",
                    {"message_echoes": [message]})  # fmt: skip


def status(
    phone_number_id: str, display_number: str, target: str, at: int, to: str, state: str
) -> dict[str, Any]:
    """Delivered / read for a message the employee sent."""
    return envelope(phone_number_id, display_number, "messages", {
        "statuses": [{"id": target, "status": state, "timestamp": str(at), "recipient_id": to}],
    })  # fmt: skip
