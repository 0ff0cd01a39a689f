"""The plain data every export writer reads: one conversation and its messages, each message with
its whole history (edits with every version, reactions, a deletion for everyone that keeps the
original, attachments).

Frozen dataclasses, no Django: a later step fills them from the database, tests build them by
hand. The constructors check what every writer relies on (aware timestamps, known senders, unique
message ids), so a writer never has to guess and never emits a naive time.

Events belong to the message they change: an edit made the next day stays with its message, in
the message's day. That keeps every version of a message in one place, which is what a reviewer
re-creating the record needs (SEC 17a-4's audit-trail alternative).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import IO


class Direction(enum.Enum):
    """Seen from the firm: inbound = from the client, outbound = from the employee."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Role(enum.Enum):
    EMPLOYEE = "employee"
    COUNTERPARTY = "counterparty"
    SYSTEM = "system"


class ConversationKind(enum.Enum):
    DIRECT = "direct"  # one employee, one client: WhatsApp's one-to-one chat
    GROUP = "group"


class RecordError(ValueError):
    """Export input that no writer can render faithfully (a naive time, an unknown sender...)."""


def _aware(value: datetime, what: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise RecordError(f"{what} has no time zone: {value.isoformat()}")


@dataclass(frozen=True)
class Participant:
    """Someone in a conversation. ``key`` is stable and unique within the conversation (the
    employee's id, the client's WhatsApp id); the writers number participants themselves."""

    key: str
    display_name: str
    role: Role
    phone: str = ""  # E.164 with the plus, when known
    wa_id: str = ""  # WhatsApp's id: the number's digits (or a BSUID)
    email: str = ""  # employees only: lets eDiscovery tools map the custodian

    def __post_init__(self) -> None:
        if not self.key:
            raise RecordError("a participant needs a key")


@dataclass(frozen=True)
class Attachment:
    """A media file of a message. ``open`` gives the stored bytes (a fresh binary stream per
    call); ``None`` when the media was never captured (Meta expired it, the fetch failed), in
    which case the writers name it as missing instead of inventing a file."""

    file_name: str
    mime_type: str
    size: int
    sha256: str
    open: Callable[[], IO[bytes]] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.open is not None and (len(self.sha256) != 64 or self.size < 0):
            raise RecordError(f"attachment {self.file_name!r} needs its sha256 and size")

    @property
    def captured(self) -> bool:
        return self.open is not None


@dataclass(frozen=True)
class Quote:
    """The message a reply quotes (WhatsApp's ``context``): its id, and its text when the
    quoted message is in the archive."""

    message_id: str
    text: str = ""


@dataclass(frozen=True)
class Edit:
    """One edit: the text after it. The text before is the previous version (the original for
    the first edit), so every version is kept."""

    at: datetime
    by: str  # participant key
    new_text: str

    def __post_init__(self) -> None:
        _aware(self.at, "an edit")


@dataclass(frozen=True)
class Reaction:
    """One reaction event. An empty ``emoji`` is WhatsApp's removal of that person's reaction
    (a person has at most one reaction per message; a new one replaces the old)."""

    at: datetime
    by: str  # participant key
    emoji: str

    def __post_init__(self) -> None:
        _aware(self.at, "a reaction")


@dataclass(frozen=True)
class Deletion:
    """A deletion for everyone (WhatsApp's revoke). The message keeps its original text."""

    at: datetime
    by: str  # participant key

    def __post_init__(self) -> None:
        _aware(self.at, "a deletion")


@dataclass(frozen=True)
class Message:
    """One WhatsApp message with its history. ``text`` is what was first captured (the text, a
    caption, a location or contact written out); ``type`` is WhatsApp's message type (text,
    image, document, location, system...)."""

    message_id: str  # the wamid
    type: str
    sender: str  # participant key
    direction: Direction
    sent_at: datetime
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    quote: Quote | None = None
    edits: tuple[Edit, ...] = ()
    reactions: tuple[Reaction, ...] = ()
    deletion: Deletion | None = None
    forwarded: bool = False
    record_hash: str = ""  # the Merkle leaf hash of the archived record, when known
    # Anything else worth showing a reviewer, as (name, value) in a fixed order: a system
    # notice's kind, a template's name, a location's coordinates, the capture time...
    details: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not self.message_id:
            raise RecordError("a message needs its id")
        _aware(self.sent_at, f"message {self.message_id}")
        # Events in time order, whatever order the caller read them in (determinism).
        object.__setattr__(self, "edits", tuple(sorted(self.edits, key=_event_order)))
        object.__setattr__(self, "reactions", tuple(sorted(self.reactions, key=_event_order)))

    @property
    def versions(self) -> tuple[str, ...]:
        """The original text, then the text after each edit."""
        return (self.text, *(edit.new_text for edit in self.edits))

    @property
    def current_text(self) -> str:
        return self.versions[-1]

    @property
    def sent_day(self) -> date:
        return self.sent_at.astimezone(UTC).date()

    def current_reactions(self) -> dict[str, str]:
        """Participant key -> the emoji they have on this message now (removals dropped)."""
        state: dict[str, str] = {}
        for reaction in self.reactions:
            if reaction.emoji:
                state[reaction.by] = reaction.emoji
            else:
                state.pop(reaction.by, None)
        return state


def _event_order(event: Edit | Reaction) -> tuple[datetime, str, str]:
    text = event.new_text if isinstance(event, Edit) else event.emoji
    return (event.at.astimezone(UTC), event.by, text)


@dataclass(frozen=True)
class Conversation:
    """A WhatsApp chat as archived: one employee's business number with one counterparty (or a
    group). ``conversation_id`` is stable across exports (it names the RSMF event collection)."""

    conversation_id: str
    tenant: str  # the tenant's slug
    title: str
    kind: ConversationKind
    custodian: Participant  # the employee whose number was archived
    others: tuple[Participant, ...]  # the client(s), and a system participant if needed
    chat_id: str = ""  # WhatsApp's id of the chat (the client's wa_id, or the group id)

    def __post_init__(self) -> None:
        if not self.conversation_id:
            raise RecordError("a conversation needs its id")
        keys = [p.key for p in self.participants]
        if len(set(keys)) != len(keys):
            raise RecordError(f"conversation {self.conversation_id} names a participant twice")

    @property
    def participants(self) -> tuple[Participant, ...]:
        return (self.custodian, *self.others)

    def participant(self, key: str) -> Participant:
        for candidate in self.participants:
            if candidate.key == key:
                return candidate
        raise RecordError(f"conversation {self.conversation_id} has no participant {key!r}")


@dataclass(frozen=True)
class ConversationSlice:
    """A conversation and the messages an export selected from it (any span of days); the
    writers sort and cut it by UTC day themselves."""

    conversation: Conversation
    messages: tuple[Message, ...]

    def __post_init__(self) -> None:
        ids = [m.message_id for m in self.messages]
        if len(set(ids)) != len(ids):
            raise RecordError(f"conversation {self.conversation.conversation_id}: a message twice")
        for message in self.messages:
            actors = [message.sender, *(e.by for e in message.edits)]
            actors += [r.by for r in message.reactions]
            if message.deletion is not None:
                actors.append(message.deletion.by)
            for key in actors:
                self.conversation.participant(key)  # raises for an unknown one
        ordered = sorted(self.messages, key=lambda m: (m.sent_at.astimezone(UTC), m.message_id))
        object.__setattr__(self, "messages", tuple(ordered))

    def days(self) -> list[tuple[date, tuple[Message, ...]]]:
        """The messages grouped by the UTC day they were sent, oldest day first."""
        grouped: dict[date, list[Message]] = {}
        for message in self.messages:
            grouped.setdefault(message.sent_day, []).append(message)
        return [(day, tuple(grouped[day])) for day in sorted(grouped)]


@dataclass(frozen=True)
class ExportFile:
    """What a writer produces: a file's name (no folders) and its bytes."""

    name: str
    content: bytes


def utc_text(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``: seconds, plus microseconds when there are any."""
    # Every writer writes each message's times (the CSV, JSON Lines, RSMF, transcripts: about
    # ten calls a message, 5% of an export's CPU by py-spy), so the texts of times in UTC (what
    # the database gives) are kept for a while. Only for tzinfo UTC: equal keys are then the same
    # instant (with a zone, equal wall times differing in fold are not).
    if moment.tzinfo is UTC:
        text = _utc_texts.get(moment)
        if text is None:
            if len(_utc_texts) >= _UTC_TEXTS_KEPT:
                _utc_texts.clear()
            text = _utc_texts[moment] = _utc_isoformat(moment)
        return text
    return _utc_isoformat(moment)


def _utc_isoformat(moment: datetime) -> str:
    # isoformat() writes the microseconds only when there are some (and is faster than strftime).
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


_UTC_TEXTS_KEPT = 8192  # a few conversations' times (~100 bytes each)
_utc_texts: dict[datetime, str] = {}
