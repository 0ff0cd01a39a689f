"""Normalised events parsed from a WhatsApp Business webhook delivery: the contract between the
pure parser (parser.py) and the processing that archives them. Plain data, no Django.

Every object keeps ``raw``, the part of the payload it came from, so nothing Meta sent is ever
lost, even where we do not understand it yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Direction = Literal["inbound", "outbound"]


@dataclass(frozen=True, slots=True)
class Counterparty:
    """The client on the other side. Keyed on both ids: since 2026 a user with a username may
    arrive with an empty ``wa_id`` and only a business-scoped ``user_id`` (BSUID)."""

    wa_id: str = ""
    user_id: str = ""
    name: str = ""
    username: str = ""

    @property
    def key(self) -> str:
        """Stable identity for grouping conversations: the BSUID when present, else the wa_id."""
        return self.user_id or self.wa_id


@dataclass(frozen=True, slots=True)
class Envelope:
    """Where a change came from: the WABA, the field and the business number."""

    waba_id: str
    field: str  # "messages", "smb_message_echoes", "history", "calls", "account_update", ...
    phone_number_id: str = ""
    display_phone_number: str = ""


@dataclass(frozen=True, slots=True)
class Message:
    """A message of any type, in either direction (client → employee from ``messages``, employee
    → client from ``smb_message_echoes``, either from ``history``)."""

    envelope: Envelope
    wamid: str
    direction: Direction
    type: str  # Meta's type name: text, image, audio, video, document, sticker, location, ...
    timestamp: datetime  # WhatsApp's time, UTC
    counterparty: Counterparty
    text: str = ""  # the text body, or the caption of media, or the chosen reply's title
    structured: dict[str, Any] = field(default_factory=dict)  # type-specific fields
    context: dict[str, Any] = field(default_factory=dict)  # reply_to, forwarded, ...
    media: dict[str, Any] | None = None  # id, mime_type, sha256, url, filename, voice, animated
    is_history: bool = False
    history: dict[str, Any] = field(default_factory=dict)  # phase, chunk_order, progress
    flags: tuple[str, ...] = ()  # "unsupported", "unknown_type", "unavailable", "group", ...
    errors: tuple[dict[str, Any], ...] = ()
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Change:
    """Something that happens *to* a message: an edit, a revoke (deletion) or a reaction (an
    empty ``emoji`` means the reaction was removed). Never replaces the original."""

    envelope: Envelope
    kind: Literal["edit", "revoke", "reaction"]
    event_id: str  # the wamid of the edit/revoke/reaction message itself (idempotency key)
    target_wamid: str  # the message it applies to
    direction: Direction
    timestamp: datetime
    counterparty: Counterparty
    payload: dict[str, Any] = field(default_factory=dict)  # new text / message, emoji, ...
    raw: dict[str, Any] = field(default_factory=dict)
    flags: tuple[str, ...] = ()  # "bad_timestamp", "history", "group", "malformed", ...


@dataclass(frozen=True, slots=True)
class Status:
    """Delivery status of a message the business sent: sent, delivered, read, failed (+errors)."""

    envelope: Envelope
    target_wamid: str
    status: str
    timestamp: datetime
    recipient_id: str = ""
    errors: tuple[dict[str, Any], ...] = ()
    raw: dict[str, Any] = field(default_factory=dict)
    recipient_user_id: str = ""  # BSUID of the recipient (2026), when Meta sends one
    flags: tuple[str, ...] = ()  # "bad_timestamp"


@dataclass(frozen=True, slots=True)
class Call:
    """A call event from the ``calls`` field: who, direction, start, end, duration."""

    envelope: Envelope
    call_id: str
    event: str  # connect, terminate, ...
    direction: str  # as Meta says it (USER_INITIATED / BUSINESS_INITIATED), or ""
    timestamp: datetime
    counterparty: Counterparty
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_seconds: int | None = None
    status: str = ""
    raw: dict[str, Any] = field(default_factory=dict)
    flags: tuple[str, ...] = ()  # "bad_timestamp"


@dataclass(frozen=True, slots=True)
class AccountEvent:
    """A change of the account or a number that an admin must see (e.g. ``account_update`` with
    ``PARTNER_REMOVED``: capture for that number stopped), or app-state sync of contacts."""

    envelope: Envelope
    event: str
    timestamp: datetime | None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Unrecognised:
    """A part of the payload we could not understand: kept raw and counted, never dropped."""

    where: str  # a JSON-path-like location, e.g. "entry[0].changes[1]"
    reason: str
    raw: Any = None


@dataclass(frozen=True, slots=True)
class ParsedDelivery:
    """Everything in one webhook POST. ``unparseable`` when the body was not JSON at all."""

    object: str = ""
    messages: tuple[Message, ...] = ()
    changes: tuple[Change, ...] = ()
    statuses: tuple[Status, ...] = ()
    calls: tuple[Call, ...] = ()
    account_events: tuple[AccountEvent, ...] = ()
    errors: tuple[dict[str, Any], ...] = ()  # value.errors (system/app/account level)
    unrecognised: tuple[Unrecognised, ...] = ()
    unparseable: bool = False

    @property
    def phone_number_ids(self) -> frozenset[str]:
        items: tuple[Message | Change | Status | Call | AccountEvent, ...] = (
            *self.messages,
            *self.changes,
            *self.statuses,
            *self.calls,
            *self.account_events,
        )
        return frozenset(i.envelope.phone_number_id for i in items if i.envelope.phone_number_id)
