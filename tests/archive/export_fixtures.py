"""A conversation with every kind of WhatsApp message and event, as plain export records, for
the export writer tests (a helper module, not a test module)."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime

from archive.export.records import (
    Attachment,
    Conversation,
    ConversationKind,
    ConversationSlice,
    Deletion,
    Direction,
    Edit,
    Message,
    Participant,
    Quote,
    Reaction,
    Role,
)

EMPLOYEE = Participant(
    key="employee:7",
    display_name="Ana Souza (Acme Securities)",
    role=Role.EMPLOYEE,
    phone="+5511987650001",
    wa_id="5511987650001",
    email="ana.souza@acme-securities.example",
)
CLIENT = Participant(
    key="wa:5521998760002",
    display_name="Carlos Silva",
    role=Role.COUNTERPARTY,
    phone="+5521998760002",
    wa_id="5521998760002",
)
SYSTEM = Participant(key="system", display_name="WhatsApp (system notice)", role=Role.SYSTEM)

PHOTO = b"\x89PNG\r\n\x1a\n fake image bytes"
PDF = b"%PDF-1.4 a contract note\n%%EOF\n"
VOICE = b"OggS fake voice note"


def at(day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, second, tzinfo=UTC)


def attachment(data: bytes, file_name: str, mime_type: str) -> Attachment:
    return Attachment(
        file_name=file_name,
        mime_type=mime_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        open=lambda: io.BytesIO(data),
    )


def conversation(kind: ConversationKind = ConversationKind.DIRECT) -> Conversation:
    return Conversation(
        conversation_id="42",
        tenant="acme-br",
        title="Carlos Silva ↔ Ana Souza",
        kind=kind,
        custodian=EMPLOYEE,
        others=(CLIENT, SYSTEM),
        chat_id="5521998760002",
    )


def every_kind_of_message() -> tuple[Message, ...]:
    """Two UTC days: every message type, a quoted reply, edits, reactions (one replaced, one
    removed), a deletion for everyone, captured and missing media, a forwarded message."""
    client, employee = CLIENT.key, EMPLOYEE.key
    inbound, outbound = Direction.INBOUND, Direction.OUTBOUND
    return (
        Message(
            "wamid.text1",
            "text",
            client,
            inbound,
            at(10, 12, 2, 31),
            text="Bom dia Ana, podemos comprar 5.000 ações da PETR4 hoje?",
            record_hash="ab" * 32,
        ),
        Message(
            "wamid.reply2",
            "text",
            employee,
            outbound,
            at(10, 12, 4, 12),
            text="Bom dia Carlos! Posso sim, segue a ordem.",
            quote=Quote("wamid.text1", "Bom dia Ana, podemos comprar 5.000 ações da PETR4 hoje?"),
            edits=(
                Edit(at(10, 12, 5, 40), employee, "Bom dia Carlos! Segue a ordem em anexo."),
                Edit(at(10, 12, 6, 0), employee, "Bom dia Carlos! Segue a ordem em anexo 2."),
            ),
            reactions=(Reaction(at(10, 12, 7), client, "👍"), Reaction(at(10, 12, 8), client, "❤️")),
        ),
        Message(
            "wamid.image3",
            "image",
            employee,
            outbound,
            at(10, 12, 9),
            text="a ordem",
            attachments=(attachment(PHOTO, "ordem_PETR4.png", "image/png"),),
        ),
        Message(
            "wamid.doc4",
            "document",
            employee,
            outbound,
            at(10, 12, 10),
            attachments=(attachment(PDF, "nota.pdf", "application/pdf"),),
        ),
        Message(
            "wamid.audio5",
            "audio",
            client,
            inbound,
            at(10, 12, 11),
            attachments=(attachment(VOICE, "", "audio/ogg; codecs=opus"),),
            reactions=(
                Reaction(at(10, 12, 12), employee, "😂"),
                Reaction(at(10, 12, 13), employee, ""),
            ),
        ),
        Message(
            "wamid.video6",
            "video",
            client,
            inbound,
            at(10, 12, 14),
            text="video perdido",
            attachments=(Attachment("clip.mp4", "video/mp4", 0, ""),),
        ),
        Message(
            "wamid.sticker7",
            "sticker",
            client,
            inbound,
            at(10, 12, 15),
            attachments=(attachment(PHOTO, "", "image/webp"),),
        ),
        Message(
            "wamid.location8",
            "location",
            client,
            inbound,
            at(10, 12, 16),
            text="Location: -23.5505, -46.6333 (Av. Paulista)",
        ),
        Message(
            "wamid.contacts9",
            "contacts",
            client,
            inbound,
            at(10, 12, 17),
            text="Contact: Marta Gómez +34611220003",
            forwarded=True,
        ),
        Message(
            "wamid.deleted10",
            "text",
            client,
            inbound,
            at(10, 12, 18),
            text="Melhor não comprar hoje, apaga isso.",
            deletion=Deletion(at(10, 12, 19), client),
        ),
        Message(
            "wamid.interactive11",
            "interactive",
            client,
            inbound,
            at(10, 12, 20),
            text="Sim, confirmo",
        ),
        Message(
            "wamid.button12", "button", client, inbound, at(10, 12, 21), text="Parar promoções"
        ),
        Message("wamid.order13", "order", client, inbound, at(10, 12, 22), text="Order: 2 items"),
        Message(
            "wamid.system14",
            "system",
            SYSTEM.key,
            inbound,
            at(10, 12, 23),
            text="Carlos changed their phone number",
            details=(("System event type", "user_changed_number"),),
        ),
        Message("wamid.unsupported15", "unsupported", client, inbound, at(10, 12, 24)),
        Message(
            "wamid.script16",
            "text",
            client,
            inbound,
            at(11, 9, 0),
            text="<script>alert('x')</script> & =HYPERLINK(\"http://evil\")",
        ),
        Message(
            "wamid.formula17",
            "text",
            employee,
            outbound,
            at(11, 9, 1).replace(microsecond=500),
            text="=1+2\n+cmd|' /C calc'!A0",
        ),
    )


def every_kind() -> ConversationSlice:
    return ConversationSlice(conversation(), every_kind_of_message())
