"""CSV and JSON Lines: one row per message and one per event on it (each edit, the deletion for
everyone, each reaction or its removal), for reviewers who filter in a spreadsheet or load rows
into their own tools.

Rows come conversation by conversation (in the order given), each message followed by its events
in time order. Every row repeats the message's identity, so a row read alone says what it is.

Columns (the same keys in JSON Lines):

===================== ==================================================================
record_type           message, edit, deletion or reaction
conversation_id       the archive's conversation id
conversation_title    the chat's name
custodian             the employee whose WhatsApp number was archived
message_id            WhatsApp's message id (wamid); events carry the message they change
message_type          text, image, audio, video, document, sticker, location, contacts, ...
direction             inbound (from the client) or outbound (from the employee)
message_sent_at_utc   when the message was sent (RFC 3339, UTC, Z)
event_at_utc          when this row happened: the message's send time, or the event's time
actor_name            who sent the message / made the edit, deletion or reaction
actor_number          their phone number (E.164), when known
actor_role            employee, counterparty or system
text                  message: its original text; edit: the text after the edit;
                      deletion: the text the deleted message had (kept); reaction: the emoji
                      (empty when the reaction was removed)
previous_text         edit: the text before it
version               message: 1; edit: 2, 3, ... (the version the edit created)
quoted_message_id     the message a reply quotes
quoted_text           its text, when archived
forwarded             true when WhatsApp marked the message forwarded
attachment_names      message rows: original file names ("unnamed" when none)
attachment_types      message rows: MIME types
attachment_sizes      message rows: sizes in bytes
attachment_sha256     message rows: SHA-256 of each file (empty: never captured)
attachment_files      message rows: the content-addressed names the media travel under
edit_count            how many times the message was edited
deleted               true when the message was deleted for everyone
current_text          the message's latest text
record_hash           the archive's Merkle leaf hash of the message record
details               other facts about the message, "name: value" each (JSON: an object)
===================== ==================================================================

In CSV, a cell with several values joins them with `` | ``; booleans are ``true``/``false``.
Cells are made spreadsheet-safe (``compliance_hub.csv_cells``: a leading = + - @ tab or CR gets an
apostrophe, so a message cannot be a formula); the untouched values are in JSON Lines and RSMF.

The CSV is UTF-8 **with** a byte-order mark and CRLF line ends (RFC 4180): Excel, what most
reviewers double-click, reads a CSV without a BOM in the machine's legacy code page and turns
"ações" into "aÃ§Ãµes"; with the BOM it reads UTF-8, and LibreOffice, pandas and Python's
``utf-8-sig`` skip it. JSON Lines has no BOM (RFC 8259 forbids adding one), one compact JSON
object per line with sorted keys.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

from compliance_hub.csv_cells import spreadsheet_safe

from .media import media_name
from .names import display_name
from .records import Conversation, ConversationSlice, Message, Participant, utc_text

COLUMNS = (
    "record_type",
    "conversation_id",
    "conversation_title",
    "custodian",
    "message_id",
    "message_type",
    "direction",
    "message_sent_at_utc",
    "event_at_utc",
    "actor_name",
    "actor_number",
    "actor_role",
    "text",
    "previous_text",
    "version",
    "quoted_message_id",
    "quoted_text",
    "forwarded",
    "attachment_names",
    "attachment_types",
    "attachment_sizes",
    "attachment_sha256",
    "attachment_files",
    "edit_count",
    "deleted",
    "current_text",
    "record_hash",
    "details",
)
MULTI_SEPARATOR = " | "
BOM = "\ufeff"


def rows(selections: Iterable[ConversationSlice]) -> Iterator[dict[str, Any]]:
    """Every row, as plain JSON values (lists for the attachment columns)."""
    for selection in selections:
        people = {p.key: (p, display_name(p)) for p in selection.conversation.participants}
        for message in selection.messages:
            yield from _message_rows(selection.conversation, people, message)


def _message_rows(
    conversation: Conversation,
    people: dict[str, tuple[Participant, str]],
    message: Message,
) -> Iterator[dict[str, Any]]:
    def row(record_type: str, *, at: str, by: str, text: str, **extra: Any) -> dict[str, Any]:
        actor, actor_name = people[by]
        attachments = message.attachments
        values: dict[str, Any] = {
            "record_type": record_type,
            "conversation_id": conversation.conversation_id,
            "conversation_title": conversation.title,
            "custodian": people[conversation.custodian.key][1],
            "message_id": message.message_id,
            "message_type": message.type,
            "direction": message.direction.value,
            "message_sent_at_utc": utc_text(message.sent_at),
            "event_at_utc": at,
            "actor_name": actor_name,
            "actor_number": actor.phone,
            "actor_role": actor.role.value,
            "text": text,
            "previous_text": "",
            "version": None,
            "quoted_message_id": message.quote.message_id if message.quote else "",
            "quoted_text": message.quote.text if message.quote else "",
            "forwarded": message.forwarded,
            "attachment_names": [],
            "attachment_types": [],
            "attachment_sizes": [],
            "attachment_sha256": [],
            "attachment_files": [],
            "edit_count": len(message.edits),
            "deleted": message.deletion is not None,
            "current_text": message.current_text,
            "record_hash": message.record_hash,
            "details": dict(message.details),
        }
        if record_type == "message":
            values.update(
                attachment_names=[a.file_name or "unnamed" for a in attachments],
                attachment_types=[a.mime_type for a in attachments],
                attachment_sizes=[a.size for a in attachments],
                attachment_sha256=[a.sha256 for a in attachments],
                attachment_files=[media_name(a) if a.captured else "" for a in attachments],
            )
        values.update(extra)
        return values

    sent = utc_text(message.sent_at)
    events: list[tuple[str, int, dict[str, Any]]] = []
    yield row("message", at=sent, by=message.sender, text=message.text, version=1)
    for number, (edit, previous) in enumerate(
        zip(message.edits, message.versions, strict=False), start=2
    ):
        events.append(
            (
                utc_text(edit.at),
                len(events),
                row(
                    "edit",
                    at=utc_text(edit.at),
                    by=edit.by,
                    text=edit.new_text,
                    previous_text=previous,
                    version=number,
                ),
            )
        )
    for reaction in message.reactions:
        events.append(
            (
                utc_text(reaction.at),
                len(events),
                row("reaction", at=utc_text(reaction.at), by=reaction.by, text=reaction.emoji),
            )
        )
    if message.deletion is not None:
        at = utc_text(message.deletion.at)
        events.append(
            (
                at,
                len(events),
                row("deletion", at=at, by=message.deletion.by, text=message.current_text),
            )
        )
    # Time order; on a tie, edits before reactions before the deletion (the order built above).
    for _, _, event in sorted(events, key=lambda item: (item[0], item[1])):
        yield event


def write_csv(
    selections: Iterable[ConversationSlice], out: IO[bytes], *, header: bool = True
) -> int:
    """Write the CSV (header row first, unless ``header`` is false: a later part of a CSV
    written conversation by conversation) to a binary stream; returns the number of data rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header:
        writer.writerow(COLUMNS)
        out.write((BOM + buffer.getvalue()).encode("utf-8"))
        _empty(buffer)
    count = 0
    for row in rows(selections):
        # Text cells (most of them) skip _cell; rows reach ``out`` a batch at a time (each
        # write is hashed, CRC'd and deflated by the stream: per row, that was its own cost).
        writer.writerow(
            [
                spreadsheet_safe(value if type(value) is str else _cell(value))
                for value in map(row.__getitem__, COLUMNS)
            ]
        )
        count += 1
        if buffer.tell() >= _BATCH:
            out.write(buffer.getvalue().encode("utf-8"))
            _empty(buffer)
    if buffer.tell():
        out.write(buffer.getvalue().encode("utf-8"))
    return count


def write_jsonl(selections: Iterable[ConversationSlice], out: IO[bytes]) -> int:
    """Write one JSON object per line to a binary stream; returns the number of rows."""
    count = 0
    lines: list[str] = []
    size = 0
    for row in rows(selections):
        line = _JSONL.encode(row)
        lines.append(line)
        size += len(line)
        count += 1
        if size >= _BATCH:
            out.write(("\n".join(lines) + "\n").encode("utf-8"))
            lines, size = [], 0
    if lines:
        out.write(("\n".join(lines) + "\n").encode("utf-8"))
    return count


# What json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":")) makes for
# each call (an encoder per row): one, kept.
_JSONL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
_BATCH = 64 * 1024  # characters of rows written to the stream at once


def _empty(buffer: io.StringIO) -> None:
    buffer.seek(0)
    buffer.truncate()


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, list):
        return MULTI_SEPARATOR.join(_cell(item) for item in value)
    if isinstance(value, dict):
        return MULTI_SEPARATOR.join(f"{name}: {item}" for name, item in value.items())
    return str(value)
