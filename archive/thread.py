"""A conversation as a WhatsApp user reads it: one bubble per message, built from the archived
rows and their events (no queries here; :func:`archive.selectors.conversation_messages` loads
them). An edit or a deletion never changes the archived message, so the bubble shows the current
text while keeping the original and every version for the reviewer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .models import Attachment, Direction, Message, MessageEvent

# WhatsApp's type names in the words its users see on their phones.
TYPE_LABELS = {
    "image": "Photo",
    "video": "Video",
    "audio": "Audio",
    "document": "Document",
    "sticker": "Sticker",
    "location": "Location",
    "contacts": "Contact card",
    "interactive": "Reply to a menu or button",
    "button": "Button reply",
    "order": "Order",
    "system": "System message",
    "unsupported": "A message WhatsApp could not show",
    "request_welcome": "Opened the chat",
}


@dataclass(frozen=True)
class Version:
    text: str
    at: datetime
    label: str  # "Sent", "Edit 1"...


@dataclass(frozen=True)
class Quote:
    wamid: str
    text: str
    message_id: int | None  # when the quoted message is on this page, so it can be linked


@dataclass
class Bubble:
    message: Message
    side: str  # "in" (the client), "out" (the employee) or "system"
    type_label: str
    text: str  # the current text: after the last edit
    versions: list[Version]
    deleted_at: datetime | None
    reactions: list[tuple[str, str]]  # (emoji, who), as they stand now
    quote: Quote | None
    details: list[tuple[str, str]]
    attachments: list[Attachment]
    forwarded: bool
    log_index: int | None
    statuses: list[tuple[str, datetime]] = field(default_factory=list)

    @property
    def edited(self) -> bool:
        return len(self.versions) > 1

    @property
    def anchor(self) -> str:
        return f"m-{self.message.pk}"


def bubbles(rows: list[Message], *, employee_name: str, client_name: str) -> list[Bubble]:
    """One bubble per message, in the order given. Each row carries ``archive_events`` and
    ``log_index`` (see :func:`archive.selectors.conversation_messages`)."""
    by_wamid = {row.wamid: row for row in rows}
    names: dict[str, str] = {Direction.INBOUND: client_name, Direction.OUTBOUND: employee_name}
    return [_bubble(row, by_wamid, names) for row in rows]


def _bubble(row: Message, by_wamid: dict[str, Message], names: dict[str, str]) -> Bubble:
    events: list[MessageEvent] = getattr(row, "archive_events", [])
    versions = [Version(text=row.text, at=row.whatsapp_timestamp, label="Sent")]
    deleted_at = None
    reactions: dict[str, str] = {}
    statuses: list[tuple[str, datetime]] = []
    for event in events:
        if event.kind == MessageEvent.Kind.EDIT:
            new = event.payload.get("message") or {}
            versions.append(
                Version(
                    text=str(new.get("text", "")),
                    at=event.whatsapp_timestamp,
                    label=f"Edit {len(versions)}",
                )
            )
        elif event.kind == MessageEvent.Kind.REVOKE:
            deleted_at = deleted_at or event.whatsapp_timestamp
        elif event.kind == MessageEvent.Kind.REACTION:
            # One reaction per person: a new one replaces the old, an empty one removes it.
            who = names.get(event.direction, "Someone")
            emoji = str(event.payload.get("emoji") or "")
            if emoji:
                reactions[who] = emoji
            else:
                reactions.pop(who, None)
        elif event.kind == MessageEvent.Kind.STATUS:
            statuses.append((str(event.payload.get("status", "")), event.whatsapp_timestamp))
    quote = None
    reply_to = (row.context or {}).get("reply_to") or {}
    if reply_to.get("id"):
        quoted = by_wamid.get(reply_to["id"])
        quote = Quote(
            wamid=reply_to["id"],
            text=quoted.text if quoted is not None else "",
            message_id=quoted.pk if quoted is not None else None,
        )
    side = "system" if row.type == "system" else ("out" if row.direction == "outbound" else "in")
    return Bubble(
        message=row,
        side=side,
        type_label=type_label(row.type),
        text=versions[-1].text,
        versions=versions,
        deleted_at=deleted_at,
        reactions=[(emoji, who) for who, emoji in sorted(reactions.items())],
        quote=quote,
        details=details(row.type, row.structured or {}),
        attachments=list(row.attachments.all()),
        forwarded=bool((row.context or {}).get("forwarded")),
        log_index=getattr(row, "log_index", None),
        statuses=statuses,
    )


def type_label(type_name: str) -> str:
    if type_name == "text":
        return ""
    return TYPE_LABELS.get(
        type_name, f"A message of a kind this archive does not know ({type_name})"
    )


def details(type_name: str, structured: dict[str, Any]) -> list[tuple[str, str]]:
    """What a message holds beyond its text, as (name, value) a reviewer can read."""
    out: list[tuple[str, str]] = []
    if type_name == "location":
        for key, name in (("name", "Place"), ("address", "Address")):
            if structured.get(key):
                out.append((name, str(structured[key])))
        if "latitude" in structured and "longitude" in structured:
            out.append(("Coordinates", f"{structured['latitude']}, {structured['longitude']}"))
    elif type_name == "contacts":
        for contact in structured.get("contacts") or []:
            if not isinstance(contact, dict):
                continue
            name = (contact.get("name") or {}).get("formatted_name", "")
            phones = ", ".join(
                str(p.get("phone", "")) for p in contact.get("phones") or [] if isinstance(p, dict)
            )
            out.append(("Contact", " · ".join(part for part in (str(name), phones) if part)))
    elif type_name == "interactive":
        for key, name in (("title", "Chose"), ("description", "Description"), ("id", "Choice id")):
            if structured.get(key):
                out.append((name, str(structured[key])))
    elif type_name == "button":
        if structured.get("payload"):
            out.append(("Button", str(structured["payload"])))
    elif type_name == "order":
        out.append(("Items", str(len(structured.get("product_items") or []))))
    elif type_name == "system":
        if structured.get("system_type"):
            out.append(("Notice", str(structured["system_type"]).replace("_", " ")))
    elif type_name == "unsupported" and structured.get("unsupported_type"):
        out.append(("WhatsApp's kind", str(structured["unsupported_type"])))
    return out
