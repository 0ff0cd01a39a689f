"""RSMF 2.0 (Relativity Short Message Format): one ``.rsmf`` per conversation per UTC day.

A ``.rsmf`` is an RFC 5322 message whose ``X-RSMF-*`` headers summarise the slice and whose only
attachment, ``rsmf.zip``, holds ``rsmf_manifest.json`` and every file the manifest names (no
other file: Relativity's validator warns on an unreferenced one, and any zip warning switches its
header checks off). A day with more than 10,000 events (Relativity's recommended ceiling) is cut
into parts that share one ``X-RSMF-EventCollectionID``.

How WhatsApp maps (the reasons are Relativity's rules, see ``rsmf_check``):

- one-to-one chat -> conversation ``direct``; a group -> ``channel``; the archived employee is
  the custodian, and ``direction`` is relative to them;
- a message -> event ``message``; a WhatsApp system notice -> ``unknown`` with its kind in custom;
- edits -> ``edits[]`` with every previous and new text, ``body`` the latest text;
- a deletion for everyone -> ``deleted: true``, the original text kept, who and when in custom;
- reactions -> ``reactions[]`` as they stand (a removed reaction drops out; the history goes in
  custom when it differs);
- a quoted reply -> custom "Quoted message ID/text", never ``parent`` (that renders as a thread
  and breaks when the quoted message is in another day);
- timestamps in UTC with ``Z``; attachments under their content-addressed name, display = the
  original file name; media never captured are named in custom, not referenced.

Deterministic: the same slice gives the same bytes (sorted JSON keys, fixed zip times and order,
a MIME boundary and Message-ID derived from the content).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from compliance_hub.digits import is_digits

from . import mailpolicy, plain
from .media import copy_media, distinct_media, media_name
from .names import collection_id, display_name, file_stem, mail_address, one_line, whatsapp_jid
from .records import (
    Attachment,
    Conversation,
    ConversationKind,
    ConversationSlice,
    Direction,
    ExportFile,
    Message,
    Participant,
    Role,
    utc_text,
)
from .zips import zip_entry

VERSION = "2.0.0"
MAX_EVENTS = 10_000  # Relativity: "no more than 10,000 events" per file
PLATFORM = "WhatsApp"
MANIFEST_NAME = "rsmf_manifest.json"
ZIP_NAME = "rsmf.zip"
# Raw UTF-8 headers, unfolded up to RFC 5322's 998-character line limit (see .mailpolicy).
POLICY, HEADER_POLICY = mailpolicy.POLICY, mailpolicy.HEADER_POLICY


def rsmf_files(
    selection: ConversationSlice, *, generator: str, max_events: int = MAX_EVENTS
) -> Iterator[ExportFile]:
    """The ``.rsmf`` files of a conversation: one per UTC day, in parts above ``max_events``."""
    if max_events < 1:
        raise ValueError("max_events must be positive")
    conversation = selection.conversation
    for day, messages in selection.days():
        parts = [messages[i : i + max_events] for i in range(0, len(messages), max_events)]
        for number, part in enumerate(parts, start=1):
            suffix = f"_part{number:03d}" if len(parts) > 1 else ""
            yield ExportFile(
                name=f"{file_stem(conversation)}_{day.isoformat()}{suffix}.rsmf",
                content=rsmf_document(
                    conversation,
                    part,
                    day=day,
                    part=number,
                    parts=len(parts),
                    generator=generator,
                ),
            )


def rsmf_document(
    conversation: Conversation,
    messages: Sequence[Message],
    *,
    day: date,
    part: int = 1,
    parts: int = 1,
    generator: str,
) -> bytes:
    """One ``.rsmf`` file (the e-mail's bytes) for the given messages of one day."""
    if not messages:
        raise ValueError("an RSMF file needs at least one event")
    ids = participant_ids(conversation)
    manifest = build_manifest(conversation, messages, ids=ids, day=day, part=part, parts=parts)
    manifest_bytes = manifest_json(manifest)
    files = distinct_media(messages)
    archive = _zip(manifest_bytes, files)

    displays = [display_name(p) for p in conversation.participants]
    first = min(m.sent_at for m in messages)
    last = max(m.sent_at for m in messages)
    body = plain.transcript(conversation, messages, heading=_slice_label(day, part, parts))

    headers: list[tuple[str, object]] = [
        ("From", mail_address(conversation.custodian)),
        (
            "To",
            [mail_address(p) for p in conversation.others]
            or [mail_address(conversation.custodian)],
        ),
        (
            "Subject",
            f"{PLATFORM}: {one_line(conversation.title)} ({_slice_label(day, part, parts)})",
        ),
        ("Date", format_datetime(last.astimezone(UTC))),
    ]
    key = f"{collection_id(conversation)}|{day.isoformat()}|{part}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    headers += [
        ("Message-ID", f"<{digest}@rsmf.compliance-hub.invalid>"),
        ("X-RSMF-Version", VERSION),
        ("X-RSMF-Generator", one_line(generator)),
        ("X-RSMF-BeginDate", utc_text(first)),
        ("X-RSMF-EndDate", utc_text(last)),
        ("X-RSMF-EventCount", str(len(manifest["events"]))),
        ("X-RSMF-Application", PLATFORM),
        ("X-RSMF-Custodian", display_name(conversation.custodian)),
        ("X-RSMF-Participants", ", ".join(displays)),
        ("X-RSMF-AttachmentCount", str(len(files))),
        ("X-RSMF-EventCollectionID", collection_id(conversation)),
    ]
    return mime_document(headers, body, archive, _boundary(manifest_bytes, body))


def mime_document(
    headers: Sequence[tuple[str, object]], body: str, archive: bytes, boundary: str
) -> bytes:
    """The .rsmf's bytes: ``headers``, then a multipart/mixed of the quoted-printable ``body``
    and ``rsmf.zip`` in base64, written directly: the same bytes as the ``email`` package's
    generator writes for them (:func:`mime_document_by_email`; tests/archive/test_export_rsmf.py
    compares the two on awkward input), at a fraction of its cost (docs/benchmarks.md). Each
    header is still parsed and folded by the ``email`` policy (cached: .mailpolicy), so names,
    addresses and long values come out exactly as the library writes them; what is written
    here is the fixed MIME structure around them and the two bodies, encoded by the library's
    own quoted-printable and base64 functions."""
    nl = b"\r\n"
    out = [mailpolicy.header_bytes(name, value) for name, value in headers]
    dash = f"--{boundary}".encode("ascii")
    out += [
        b"MIME-Version: 1.0\r\n",
        mailpolicy.header_bytes("Content-Type", f'multipart/mixed; boundary="{boundary}"'),
        nl, dash, nl,
        b'Content-Type: text/plain; charset="utf-8"\r\n',
        b"Content-Transfer-Encoding: quoted-printable\r\n",
        nl, mailpolicy.quoted_printable(body),
        nl, dash, nl,
        b"Content-Type: application/zip\r\n",
        b"Content-Transfer-Encoding: base64\r\n",
        f'Content-Disposition: attachment; filename="{ZIP_NAME}"\r\n'.encode("ascii"),
        b"MIME-Version: 1.0\r\n",
        nl, mailpolicy.base64_body(archive),
        nl, dash, b"--", nl,
    ]  # fmt: skip
    return b"".join(out)


def mime_document_by_email(
    headers: Sequence[tuple[str, object]], body: str, archive: bytes, boundary: str
) -> bytes:
    """:func:`mime_document` by the ``email`` package (how .rsmf files were written before):
    the reference the direct writer is tested against."""
    mail = EmailMessage(policy=POLICY)
    for name, value in headers:
        mail[name] = value
    mail.set_content(body, charset="utf-8", cte="quoted-printable")
    mail.add_attachment(archive, maintype="application", subtype="zip", filename=ZIP_NAME)
    mail.set_boundary(boundary)
    return mail.as_bytes(policy=HEADER_POLICY)


def participant_ids(conversation: Conversation) -> dict[str, str]:
    """Participant key -> manifest id (P1 is the custodian)."""
    return {p.key: f"P{n}" for n, p in enumerate(conversation.participants, start=1)}


def build_manifest(
    conversation: Conversation,
    messages: Sequence[Message],
    *,
    ids: dict[str, str],
    day: date,
    part: int = 1,
    parts: int = 1,
) -> dict[str, Any]:
    """The ``rsmf_manifest.json`` document (plain data) for one slice."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    bounds = f"{start:%Y-%m-%d %H:%MZ} to {start + timedelta(days=1):%Y-%m-%d %H:%MZ}"
    return {
        "version": VERSION,
        "eventcollectionid": collection_id(conversation),
        "participants": [_participant(p, ids[p.key]) for p in conversation.participants],
        "conversations": [
            {
                "id": "C1",
                "display": one_line(conversation.title) or "WhatsApp chat",
                "platform": PLATFORM,
                "type": "direct" if conversation.kind is ConversationKind.DIRECT else "channel",
                "participants": [ids[p.key] for p in conversation.participants],
                "custodian": ids[conversation.custodian.key],
                "custom": _custom(
                    ("WhatsApp chat ID", conversation.chat_id),
                    ("Tenant", conversation.tenant),
                    ("Conversation ID", conversation.conversation_id),
                    ("Slice", f"{bounds}, part {part} of {parts}"),
                ),
            }
        ],
        "events": [_event(conversation, m, ids) for m in messages],
    }


def manifest_json(manifest: dict[str, Any]) -> bytes:
    # Compact: with an indent, json falls back to its pure-Python encoder (5x slower here).
    return json.dumps(manifest, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8"
    )


def _participant(participant: Participant, pid: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": pid, "display": display_name(participant)}
    if participant.email:
        entry["email"] = participant.email
    if participant.wa_id:
        entry["account_id"] = participant.wa_id
    custom = _custom(
        ("WhatsApp ID", whatsapp_jid(participant)),
        ("Phone (E.164)", participant.phone),
        ("Role", _ROLE_NAMES[participant.role]),
    )
    if custom:
        entry["custom"] = custom
    return entry


_ROLE_NAMES = {
    Role.EMPLOYEE: "Employee (archived WhatsApp Business number)",
    Role.COUNTERPARTY: "External (client)",
    Role.SYSTEM: "System notices",
}


def _event(conversation: Conversation, message: Message, ids: dict[str, str]) -> dict[str, Any]:
    sender = conversation.participant(message.sender)
    system = message.type == "system" or sender.role is Role.SYSTEM
    event: dict[str, Any] = {
        "id": message.message_id,
        "type": "unknown" if system else "message",
        "conversation": "C1",
        "participant": ids[message.sender],
        "timestamp": utc_text(message.sent_at),
    }
    if not system:
        outgoing = message.direction is Direction.OUTBOUND
        event["direction"] = "outgoing" if outgoing else "incoming"
    if message.current_text:
        event["body"] = message.current_text
    if message.deletion is not None:
        event["deleted"] = True
    if message.edits:
        event["edits"] = [
            {
                "participant": ids[edit.by],
                "timestamp": utc_text(edit.at),
                "previous": previous,
                "new": edit.new_text,
            }
            for edit, previous in zip(message.edits, message.versions, strict=False)
        ]
    reactions = _reactions(message, ids)
    if reactions:
        event["reactions"] = reactions
    attachments = [
        {"id": media_name(a), "display": a.file_name or media_name(a), "size": a.size}
        for a in message.attachments
        if a.captured
    ]
    if attachments:
        event["attachments"] = attachments
    custom = _custom(*_event_details(conversation, message))
    if custom:
        event["custom"] = custom
    return event


def _reactions(message: Message, ids: dict[str, str]) -> list[dict[str, Any]]:
    by_emoji: dict[str, list[str]] = {}
    for key, emoji in message.current_reactions().items():
        by_emoji.setdefault(emoji, []).append(ids[key])
    return [
        {"value": emoji, "count": len(people), "participants": sorted(people, key=_id_order)}
        for emoji, people in sorted(by_emoji.items())
    ]


def _id_order(pid: str) -> tuple[int, str]:
    return (int(pid[1:]) if is_digits(pid[1:]) else 0, pid)


def _event_details(conversation: Conversation, message: Message) -> list[tuple[str, str]]:
    details = [("WhatsApp message type", message.type), *message.details]
    if message.quote is not None:
        details.append(("Quoted message ID", message.quote.message_id))
        details.append(("Quoted message text", message.quote.text))
    if message.forwarded:
        details.append(("Forwarded", "yes"))
    if message.deletion is not None:
        details.append(("Deleted for everyone at", utc_text(message.deletion.at)))
        details.append(("Deleted by", display_name(conversation.participant(message.deletion.by))))
    for attachment in message.attachments:
        if attachment.captured:
            details.append(
                (
                    f"Attachment {media_name(attachment)}",
                    f"{attachment.mime_type or 'unknown type'}, SHA-256 {attachment.sha256}",
                )
            )
        else:
            details.append(
                (
                    "Attachment not captured",
                    f"{attachment.file_name or 'unnamed'} ({attachment.mime_type or 'unknown'})",
                )
            )
    current = message.current_reactions()
    if len(message.reactions) != len(current):
        history = "; ".join(
            f"{utc_text(r.at)} {display_name(conversation.participant(r.by))}: "
            + (r.emoji or "removed")
            for r in message.reactions
        )
        details.append(("Reaction history", history))
    details.append(("Archive record hash", message.record_hash))
    return details


def _custom(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    # The schema wants non-empty strings: an unknown value is left out, never written empty.
    return [{"name": name, "value": value} for name, value in pairs if value]


def _zip(manifest: bytes, files: list[tuple[str, Attachment]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zip_entry(MANIFEST_NAME), manifest)
        for name, attachment in files:
            with archive.open(zip_entry(name), "w") as out:
                copy_media(attachment, out)
    return buffer.getvalue()


def _boundary(manifest: bytes, body: str) -> str:
    seed = hashlib.sha256(manifest + body.encode("utf-8")).hexdigest()[:32]
    boundary = f"rsmf-{seed}"
    counter = 0
    while boundary in body:  # only a body quoting this very boundary could collide
        counter += 1
        boundary = f"rsmf-{seed}-{counter}"
    return boundary


def _slice_label(day: date, part: int, parts: int) -> str:
    return day.isoformat() + (f", part {part} of {parts}" if parts > 1 else "")
