"""Outside input against the archive's columns. Meta documents no maximum for its ids (wamids,
BSUIDs, call ids), and one longer than its column made the whole delivery fail on every retry
(a DataError), with every other message of it. Checked here, before anything is written:

- an identifier (what a record is found and deduplicated by) that does not fit is never cut:
  two ids sharing their first 255 characters would become one message. The item is refused
  and recorded as the gate's refusals are (metadata only, reason OVERSIZED); its content stays
  in the stored delivery, the source of truth, so nothing is lost and it can be replayed once
  the column is widened;
- a display field (a contact's name, a username, the number as Meta displays it) is shortened
  to its column; the whole of it stays in the stored delivery.
"""

from __future__ import annotations

from dataclasses import replace

from django.db.models import CharField

from archive.models import Conversation, Message, MessageEvent
from archive.services import EventRecord, MessageRecord

OVERSIZED = "oversized"  # Refusal.reason
OVERSIZED_TEXT = (
    "An id WhatsApp sent is longer than the archive can hold: the message was not archived; "
    "it is kept as received."
)


def _limit(model: type[Conversation | Message | MessageEvent], name: str) -> int:
    column = model._meta.get_field(name)
    assert isinstance(column, CharField) and column.max_length, f"{name} is not a bounded text"
    return int(column.max_length)


def overlong_message_ids(record: MessageRecord) -> list[str]:
    """The identifying fields of a message record too long for their columns (empty: it fits)."""
    fields = {
        "wamid": (record.wamid, _limit(Message, "wamid")),
        "type": (record.type, _limit(Message, "type")),
        "direction": (record.direction, _limit(Message, "direction")),
        "business_phone_number_id": (
            record.conversation.business_phone_number_id,
            _limit(Conversation, "business_phone_number_id"),
        ),
        "counterparty_key": (
            record.conversation.counterparty_key,
            _limit(Conversation, "counterparty_key"),
        ),
        "counterparty_wa_id": (
            record.counterparty.get("wa_id", ""),
            _limit(Conversation, "counterparty_wa_id"),
        ),
        "counterparty_user_id": (
            record.counterparty.get("user_id", ""),
            _limit(Conversation, "counterparty_user_id"),
        ),
    }
    return [name for name, (value, limit) in fields.items() if len(value) > limit]


def overlong_event_ids(record: EventRecord) -> list[str]:
    """The identifying fields of an event record (an edit, a reaction, a status) too long."""
    fields = {
        "kind": (record.kind, _limit(MessageEvent, "kind")),
        "event_key": (record.event_key, _limit(MessageEvent, "event_key")),
        "target_wamid": (record.target_wamid, _limit(MessageEvent, "target_wamid")),
        "direction": (record.direction, _limit(MessageEvent, "direction")),
    }
    return [name for name, (value, limit) in fields.items() if len(value) > limit]


def fit_display_fields(record: MessageRecord) -> MessageRecord:
    """The record with its display fields shortened to their columns."""
    counterparty = dict(record.counterparty)
    for key, column in (("name", "counterparty_name"), ("username", "counterparty_username")):
        if key in counterparty:
            counterparty[key] = counterparty[key][: _limit(Conversation, column)]
    display = record.business_display_number[: _limit(Conversation, "business_display_number")]
    return replace(record, counterparty=counterparty, business_display_number=display)
