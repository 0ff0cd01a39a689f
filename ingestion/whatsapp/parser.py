"""Parse one WhatsApp Business webhook delivery (the raw POST body) into normalised events.

Pure: standard library only, no Django, no I/O. Single pass over the decoded JSON; every event
keeps a reference to the part of the payload it came from (``raw``), never a copy.

Fields (``entry[].changes[].field``):

* ``messages``: ``value.messages[]`` inbound (client → business), ``value.statuses[]``;
* ``smb_message_echoes``: ``value.message_echoes[]`` outbound (sent from the Business app);
* ``history``: ``value.history[].threads[].messages[]``, either direction, ``is_history``;
* ``calls``: ``value.calls[]`` (and call statuses) → :class:`Call`;
* ``compliance_hub_connection_check``: our own signed test delivery (the WhatsApp page's
  connection check), which carries nothing to archive → no event at all;
* any other field (``account_update``, ``smb_app_state_sync``, ...) → :class:`AccountEvent`.

Anything that cannot be understood becomes :class:`Unrecognised` with where it was and why.
"""

from __future__ import annotations

import json
from typing import Any

from compliance_hub.digits import parse_count

from ._messages import read_message
from ._parties import Counterparties, same_number, sent_by_business, thread_party
from ._scalars import EPOCH, ident_of, parse_timestamp, text_of
from .events import (
    AccountEvent,
    Call,
    Change,
    Direction,
    Envelope,
    Message,
    ParsedDelivery,
    Status,
    Unrecognised,
)

__all__ = ["CONNECTION_CHECK_FIELD", "MESSAGE_FIELDS", "parse_delivery"]

# Fields whose value carries messages, statuses or calls; every other field is an account event.
MESSAGE_FIELDS = frozenset({"messages", "smb_message_echoes", "history", "calls"})
# The field of the test delivery an admin's connection check sends through the webhook: it proves
# the signature path and the storage, and must never become an archived record or a refusal.
CONNECTION_CHECK_FIELD = "compliance_hub_connection_check"
# Keys of a message-field value that carry no events of their own.
ENVELOPE_KEYS = frozenset({"messaging_product", "metadata", "contacts"})

_UNPARSEABLE = ParsedDelivery(unparseable=True)


def parse_delivery(body: bytes) -> ParsedDelivery:
    """Parse a raw webhook body.

    Contract:

    * never raises, whatever ``body`` is;
    * ``unparseable=True`` (and nothing else) when the body is not UTF-8, not JSON (``NaN`` and
      ``Infinity`` are not JSON) or not a JSON object;
    * otherwise everything understood is returned, and every part that is not (a wrong shape, a
      message without an id, an unknown key of a message value) is in ``unrecognised`` with its
      location and the reason, so no part of the payload is silently dropped;
    * a missing or bad WhatsApp timestamp becomes the epoch (1970-01-01 UTC) with the flag
      ``"bad_timestamp"``: the processing uses its received time instead;
    * deterministic: the same body always gives an equal result.
    """
    try:
        if isinstance(body, bytes | bytearray):
            text = body.decode("utf-8")
        elif isinstance(body, memoryview):
            text = bytes(body).decode("utf-8")
        elif isinstance(body, str):
            text = body
        else:
            return _UNPARSEABLE
        payload = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError included
        return _UNPARSEABLE
    if not isinstance(payload, dict):
        return _UNPARSEABLE
    try:
        collector = _Collector()
        collector.delivery(payload)
        return collector.result()
    except Exception as error:  # a parser bug must not lose the delivery: keep it raw
        return ParsedDelivery(
            unrecognised=(Unrecognised("$", f"internal error: {type(error).__name__}", payload),)
        )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class _Collector:
    """Accumulates the events of one delivery while walking it once."""

    def __init__(self) -> None:
        self.object = ""
        self.messages: list[Message] = []
        self.changes: list[Change] = []
        self.statuses: list[Status] = []
        self.calls: list[Call] = []
        self.account_events: list[AccountEvent] = []
        self.errors: list[dict[str, Any]] = []
        self.unrecognised: list[Unrecognised] = []

    def result(self) -> ParsedDelivery:
        return ParsedDelivery(
            object=self.object,
            messages=tuple(self.messages),
            changes=tuple(self.changes),
            statuses=tuple(self.statuses),
            calls=tuple(self.calls),
            account_events=tuple(self.account_events),
            errors=tuple(self.errors),
            unrecognised=tuple(self.unrecognised),
        )

    def skip(self, where: str, reason: str, raw: Any) -> None:
        self.unrecognised.append(Unrecognised(where, reason, raw))

    # -- envelope ----------------------------------------------------------------------------

    def delivery(self, payload: dict[str, Any]) -> None:
        name = payload.get("object")
        if isinstance(name, str):
            self.object = name
        elif name is not None:
            self.skip("object", "not a string", name)
        entries = payload.get("entry")
        if not isinstance(entries, list):
            self.skip("entry", "missing" if entries is None else "not a list", payload)
            return
        for index, entry in enumerate(entries):
            self.entry(entry, f"entry[{index}]")

    def entry(self, entry: Any, where: str) -> None:
        if not isinstance(entry, dict):
            self.skip(where, "not an object", entry)
            return
        changes = entry.get("changes")
        if not isinstance(changes, list):
            self.skip(f"{where}.changes", "missing" if changes is None else "not a list", entry)
            return
        waba_id = ident_of(entry.get("id"))
        for index, change in enumerate(changes):
            change_where = f"{where}.changes[{index}]"
            try:
                self.change(change, change_where, waba_id, entry.get("time"))
            except Exception as error:  # a parser bug costs one change, kept raw
                self.skip(change_where, f"internal error: {type(error).__name__}", change)

    def change(self, change: Any, where: str, waba_id: str, entry_time: Any) -> None:
        if not isinstance(change, dict):
            self.skip(where, "not an object", change)
            return
        field = change.get("field")
        if not isinstance(field, str) or not field:
            self.skip(where, "no field", change)
            return
        if field == CONNECTION_CHECK_FIELD:
            return
        value = change.get("value")
        if not isinstance(value, dict):
            self.skip(f"{where}.value", "missing" if value is None else "not an object", change)
            return
        metadata = value.get("metadata")
        if isinstance(metadata, dict):
            phone_number_id = ident_of(metadata.get("phone_number_id"))
            display = ident_of(metadata.get("display_phone_number"))
        else:
            # Number-level fields (phone_number_quality_update, ...) put them on the value.
            phone_number_id = ident_of(value.get("phone_number_id"))
            display = ident_of(value.get("display_phone_number"))
        envelope = Envelope(
            waba_id=waba_id,
            field=field,
            phone_number_id=phone_number_id,
            display_phone_number=display,
        )
        if field in MESSAGE_FIELDS:
            self.message_value(value, f"{where}.value", envelope)
        else:
            event = value.get("event")
            self.account_events.append(
                AccountEvent(
                    envelope=envelope,
                    event=event if isinstance(event, str) and event else field,
                    timestamp=parse_timestamp(entry_time),
                    raw=value,
                )
            )

    def message_value(self, value: dict[str, Any], where: str, envelope: Envelope) -> None:
        contacts = self.contacts(value.get("contacts"), f"{where}.contacts")
        is_history = envelope.field == "history"
        for key, items in value.items():
            if key in ENVELOPE_KEYS:
                continue
            key_where = f"{where}.{key}"
            if key == "errors":
                self.error_list(items, key_where)
                continue
            if not isinstance(items, list):
                self.skip(key_where, "not a list", items)
                continue
            if key == "messages":
                for index, obj in enumerate(items):
                    self.live_message(
                        obj, f"{key_where}[{index}]", envelope, contacts, is_history, False
                    )
            elif key == "message_echoes":
                for index, obj in enumerate(items):
                    self.live_message(
                        obj, f"{key_where}[{index}]", envelope, contacts, is_history, True
                    )
            elif key == "statuses":
                for index, obj in enumerate(items):
                    self.status(obj, f"{key_where}[{index}]", envelope, contacts)
            elif key == "calls":
                for index, obj in enumerate(items):
                    self.call(obj, f"{key_where}[{index}]", envelope, contacts)
            elif key == "history":
                for index, chunk in enumerate(items):
                    self.history_chunk(chunk, f"{key_where}[{index}]", envelope, contacts)
            else:
                self.skip(key_where, "unknown key", items)

    def contacts(self, contacts: Any, where: str) -> Counterparties:
        parties = Counterparties()
        if contacts is None:
            return parties
        if not isinstance(contacts, list):
            self.skip(where, "not a list", contacts)
            return parties
        for index, contact in enumerate(contacts):
            if isinstance(contact, dict):
                parties.add(contact)
            else:
                self.skip(f"{where}[{index}]", "not an object", contact)
        return parties

    def error_list(self, errors: Any, where: str) -> None:
        if not isinstance(errors, list):
            self.skip(where, "not a list", errors)
            return
        for index, error in enumerate(errors):
            if isinstance(error, dict):
                self.errors.append(error)
            else:
                self.skip(f"{where}[{index}]", "not an object", error)

    # -- messages ----------------------------------------------------------------------------

    def add(self, item: Message | Change | Unrecognised) -> None:
        if isinstance(item, Message):
            self.messages.append(item)
        elif isinstance(item, Change):
            self.changes.append(item)
        else:
            self.unrecognised.append(item)

    def live_message(
        self,
        obj: Any,
        where: str,
        envelope: Envelope,
        contacts: Counterparties,
        is_history: bool,
        is_echo: bool,
    ) -> None:
        """A message of ``value.messages`` (inbound) or ``value.message_echoes`` (outbound).

        Under the ``history`` field these carry the media ids of back-filled media ("a separate
        history webhook ... carries the media ID"), either direction: ``from`` tells."""
        if not isinstance(obj, dict):
            self.skip(where, "message is not an object", obj)
            return
        outbound = is_echo or (is_history and sent_by_business(obj, envelope, ""))
        if outbound:
            direction: Direction = "outbound"
            party = contacts.resolve(ident_of(obj.get("to")), text_of(obj.get("to_user_id")))
        else:
            direction = "inbound"
            # Groups API: from is the participant. Since 2026 from_user_id is the BSUID, and a
            # username user may have from: "".
            party = contacts.resolve(ident_of(obj.get("from")), text_of(obj.get("from_user_id")))
        history = None
        if is_history:
            history = {
                "phase": None,
                "chunk_order": None,
                "progress": None,
                "status": _history_status(obj),
            }
        self.add(
            read_message(
                obj,
                where=where,
                envelope=envelope,
                direction=direction,
                counterparty=party,
                history=history,
            )
        )

    def history_chunk(
        self, chunk: Any, where: str, envelope: Envelope, contacts: Counterparties
    ) -> None:
        """One ``value.history[]`` item: ``metadata`` (phase, chunk_order, progress) and
        ``threads[]``, one per client (``id`` = the client's number), messages in order; or
        ``errors`` when the business declined history sharing (code 2593109)."""
        if not isinstance(chunk, dict):
            self.skip(where, "not an object", chunk)
            return
        metadata = chunk.get("metadata")
        if not isinstance(metadata, dict):
            metadata = {}
        errors = chunk.get("errors")
        if errors is not None:
            self.error_list(errors, f"{where}.errors")
            # Without messages the errors would name no phone number: an account event does,
            # so the admin sees that the back-fill will not come.
            self.account_events.append(
                AccountEvent(envelope=envelope, event="history", timestamp=None, raw=chunk)
            )
        threads = chunk.get("threads")
        if threads is None:
            if errors is None:
                self.skip(where, "neither threads nor errors", chunk)
            return
        if not isinstance(threads, list):
            self.skip(f"{where}.threads", "not a list", chunk)
            return
        phase = metadata.get("phase")
        chunk_order = metadata.get("chunk_order")
        progress = metadata.get("progress")
        for t_index, thread in enumerate(threads):
            t_where = f"{where}.threads[{t_index}]"
            if not isinstance(thread, dict):
                self.skip(t_where, "not an object", thread)
                continue
            messages = thread.get("messages")
            if not isinstance(messages, list):
                self.skip(f"{t_where}.messages", "not a list", thread)
                continue
            thread_id = ident_of(thread.get("id"))
            party = thread_party(thread, thread_id, contacts)
            for m_index, obj in enumerate(messages):
                m_where = f"{t_where}.messages[{m_index}]"
                if not isinstance(obj, dict):
                    self.skip(m_where, "message is not an object", obj)
                    continue
                outbound = sent_by_business(obj, envelope, thread_id)
                history = {
                    "phase": phase,
                    "chunk_order": chunk_order,
                    "progress": progress,
                    "status": _history_status(obj),
                }
                self.add(
                    read_message(
                        obj,
                        where=m_where,
                        envelope=envelope,
                        direction="outbound" if outbound else "inbound",
                        counterparty=party,
                        history=history,
                    )
                )

    # -- statuses and calls ------------------------------------------------------------------

    def status(self, obj: Any, where: str, envelope: Envelope, contacts: Counterparties) -> None:
        if not isinstance(obj, dict):
            self.skip(where, "status is not an object", obj)
            return
        target = obj.get("id")
        if not isinstance(target, str) or not target:
            self.skip(where, "status without an id", obj)
            return
        if obj.get("type") == "call":
            # Calling API: statuses[{id: "wacid...", type: "call", status: RINGING|ACCEPTED|
            # REJECTED}] describe a call, not a message.
            self.call(obj, where, envelope, contacts, event="status")
            return
        timestamp = parse_timestamp(obj.get("timestamp"))
        errors = obj.get("errors")
        self.statuses.append(
            Status(
                envelope=envelope,
                target_wamid=target,
                status=text_of(obj.get("status")),
                timestamp=EPOCH if timestamp is None else timestamp,
                recipient_id=ident_of(obj.get("recipient_id")),
                errors=tuple(e for e in errors if isinstance(e, dict))
                if isinstance(errors, list)
                else (),
                raw=obj,
                recipient_user_id=text_of(obj.get("recipient_user_id")),
                flags=("bad_timestamp",) if timestamp is None else (),
            )
        )

    def call(
        self,
        obj: Any,
        where: str,
        envelope: Envelope,
        contacts: Counterparties,
        event: str = "",
    ) -> None:
        if not isinstance(obj, dict):
            self.skip(where, "call is not an object", obj)
            return
        call_id = obj.get("id")
        if not isinstance(call_id, str) or not call_id:
            self.skip(where, "call without an id", obj)
            return
        direction = text_of(obj.get("direction"))
        caller = ident_of(obj.get("from"))
        if event == "status":
            party = contacts.resolve(
                ident_of(obj.get("recipient_id")), text_of(obj.get("recipient_user_id"))
            )
        elif direction == "BUSINESS_INITIATED" or (
            direction != "USER_INITIATED" and caller and same_number(caller, envelope)
        ):
            party = contacts.resolve(ident_of(obj.get("to")), text_of(obj.get("to_user_id")))
        else:
            party = contacts.resolve(caller, text_of(obj.get("from_user_id")))
        timestamp = parse_timestamp(obj.get("timestamp"))
        duration = obj.get("duration")
        self.calls.append(
            Call(
                envelope=envelope,
                call_id=call_id,
                event=event or text_of(obj.get("event")),
                direction=direction,
                timestamp=EPOCH if timestamp is None else timestamp,
                counterparty=party,
                started_at=parse_timestamp(obj.get("start_time")),
                ended_at=parse_timestamp(obj.get("end_time")),
                duration_seconds=_seconds(duration),
                status=text_of(obj.get("status")),
                raw=obj,
                flags=("bad_timestamp",) if timestamp is None else (),
            )
        )


def _history_status(obj: dict[str, Any]) -> str:
    context = obj.get("history_context")
    return text_of(context.get("status")) if isinstance(context, dict) else ""


def _seconds(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return parse_count(value)
    return None
