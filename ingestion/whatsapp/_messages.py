"""One WhatsApp message object (from ``messages``, ``message_echoes`` or a ``history`` thread)
into a normalised :class:`Message`, or a :class:`Change` for reactions, edits and revokes.

The caller has already decided the direction and the counterparty (they depend on the field and
the envelope); this module only reads the message object itself. Nothing here raises on a
malformed object: what cannot be read is flagged ``"malformed"`` and kept in ``raw``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from ._scalars import EPOCH, ident_of, parse_timestamp, text_of
from .events import Change, Counterparty, Direction, Envelope, Message, Unrecognised

MEDIA_TYPES = frozenset({"image", "video", "audio", "document", "sticker"})
# Types whose content object Meta documents; anything else is flagged "unknown_type".
CONTENT_TYPES = MEDIA_TYPES | {
    "text",
    "location",
    "contacts",
    "interactive",
    "button",
    "order",
    "system",
}
# Types that carry no content object at all.
EMPTY_TYPES = frozenset({"request_welcome", "media_placeholder", "unsupported"})
CHANGE_TYPES = frozenset({"reaction", "edit", "revoke"})

LOCATION_KEYS = ("latitude", "longitude", "name", "address", "url")
UNAVAILABLE_CODE = "131060"


class Content(NamedTuple):
    """The normalised content of a message object (also the new content of an edit)."""

    type: str
    text: str
    structured: dict[str, Any]
    media: dict[str, Any] | None
    context: dict[str, Any]
    flags: list[str]
    errors: tuple[dict[str, Any], ...]


def read_message(
    obj: Any,
    *,
    where: str,
    envelope: Envelope,
    direction: Direction,
    counterparty: Counterparty,
    history: dict[str, Any] | None = None,
) -> Message | Change | Unrecognised:
    """Normalise one message object.

    Contract: never raises. An object that is not a JSON object, or has no string ``id``, comes
    back as :class:`Unrecognised` (with the object as ``raw``); everything else comes back as a
    :class:`Message` or :class:`Change` whose ``raw`` is the very object passed in (not a copy).
    ``history`` (phase, chunk_order, progress, status) marks a history back-fill item.
    """
    if not isinstance(obj, dict):
        return Unrecognised(where, "message is not an object", obj)
    wamid = obj.get("id")
    if not isinstance(wamid, str) or not wamid:
        return Unrecognised(where, "message without an id", obj)

    timestamp = parse_timestamp(obj.get("timestamp"))
    flags: list[str] = []
    if timestamp is None:
        # The processing falls back to the received time when it sees this flag.
        timestamp = EPOCH
        flags.append("bad_timestamp")

    mtype = obj.get("type")
    if isinstance(mtype, str) and mtype in CHANGE_TYPES:
        change_flags = [*flags, "history"] if history is not None else list(flags)
        change = _read_change(
            obj, mtype, wamid, envelope, direction, counterparty, timestamp, change_flags
        )
        if change is not None:
            return change
        flags.append("malformed")  # a change without its target: archived as a message

    content = read_content(obj)
    flags.extend(content.flags)
    return Message(
        envelope=envelope,
        wamid=wamid,
        direction=direction,
        type=content.type,
        timestamp=timestamp,
        counterparty=counterparty,
        text=content.text,
        structured=content.structured,
        context=content.context,
        media=content.media,
        is_history=history is not None,
        history=history if history is not None else {},
        flags=tuple(flags),
        errors=content.errors,
        raw=obj,
    )


def read_content(obj: dict[str, Any]) -> Content:
    """The type-specific content of a message object, plus its context, referral, group and
    errors. Never raises; a content object of the wrong shape adds the flag ``"malformed"``."""
    mtype = obj.get("type")
    type_name = mtype if isinstance(mtype, str) else ""
    body = obj.get(type_name) if type_name else None
    text = ""
    structured: dict[str, Any] = {}
    media: dict[str, Any] | None = None
    flags: list[str] = []

    if type_name in CONTENT_TYPES:
        if type_name == "contacts":
            if isinstance(body, list):
                structured["contacts"] = body
            else:
                flags.append("malformed")
        elif not isinstance(body, dict):
            flags.append("malformed")
        elif type_name == "text":
            text = text_of(body.get("body"))
        elif type_name in MEDIA_TYPES:
            media = _media(body)
            text = text_of(body.get("caption"))
        elif type_name == "location":
            structured.update((k, body[k]) for k in LOCATION_KEYS if k in body)
        elif type_name == "interactive":
            text = _interactive(body, structured)
        elif type_name == "button":
            structured["payload"] = text_of(body.get("payload"))
            structured["text"] = text = text_of(body.get("text"))
        elif type_name == "order":
            structured["catalog_id"] = ident_of(body.get("catalog_id"))
            structured["text"] = text = text_of(body.get("text"))
            items = body.get("product_items")
            structured["product_items"] = items if isinstance(items, list) else []
        else:  # system: user_changed_number, customer_identity_changed, ...
            structured.update(body)
            structured["system_type"] = text_of(body.get("type"))
            text = text_of(body.get("body"))
    elif type_name == "unsupported":
        flags.append("unsupported")
        # Meta: "unsupported": {"type": "poll_creation" | "edit" | ...}, when it says what it was.
        if isinstance(body, dict) and isinstance(body.get("type"), str):
            structured["unsupported_type"] = body["type"]
    elif type_name not in EMPTY_TYPES and type_name not in CHANGE_TYPES:
        # A change type reaches here only without its target: the caller flags it malformed.
        flags.append("unknown_type")

    errors = _errors(obj.get("errors"))
    for error in errors:
        if ident_of(error.get("code")) == UNAVAILABLE_CODE:
            # 131060 "This message is currently unavailable": coexistence first contact or an
            # unsupported companion device; the real message usually follows.
            flags.append("unavailable")
            break

    referral = obj.get("referral")
    if isinstance(referral, dict):
        structured["referral"] = referral
    identity = obj.get("identity")
    if isinstance(identity, dict):
        structured["identity"] = identity
    group_id = obj.get("group_id")
    if isinstance(group_id, str) and group_id:
        structured["group_id"] = group_id
        flags.append("group")

    return Content(
        type=type_name,
        text=text,
        structured=structured,
        media=media,
        context=_context(obj.get("context")),
        flags=flags,
        errors=errors,
    )


def _read_change(
    obj: dict[str, Any],
    mtype: str,
    wamid: str,
    envelope: Envelope,
    direction: Direction,
    counterparty: Counterparty,
    timestamp: datetime,
    change_flags: list[str],
) -> Change | None:
    """A reaction, edit or revoke as a Change, or ``None`` when its target is missing.
    ``change_flags`` is the caller's list, extended in place."""
    body = obj.get(mtype)
    if not isinstance(body, dict):
        return None
    payload: dict[str, Any]
    if mtype == "reaction":
        target = body.get("message_id")
        emoji = body.get("emoji")
        if isinstance(emoji, str) and emoji:
            payload = {"emoji": emoji}
        else:
            # Meta: on removal "the emoji property will be omitted"; older payloads send "".
            payload = {"emoji": "", "removed": True}
            if emoji is not None and not isinstance(emoji, str):
                change_flags.append("malformed")
    else:
        target = body.get("original_message_id")
        if mtype == "edit":
            new = body.get("message")
            if isinstance(new, dict):
                content = read_content(new)
                change_flags.extend(content.flags)
                payload = {
                    "message": {
                        "type": content.type,
                        "text": content.text,
                        "structured": content.structured,
                        "media": content.media,
                        "context": content.context,
                    }
                }
            else:
                payload = {"message": None}
                change_flags.append("malformed")
        else:
            payload = {}
    if not isinstance(target, str) or not target:
        return None
    group_id = obj.get("group_id")
    if isinstance(group_id, str) and group_id and "group" not in change_flags:
        change_flags.append("group")
    return Change(
        envelope=envelope,
        kind=mtype,  # type: ignore[arg-type]  # one of CHANGE_TYPES
        event_id=wamid,
        target_wamid=target,
        direction=direction,
        timestamp=timestamp,
        counterparty=counterparty,
        payload=payload,
        raw=obj,
        flags=tuple(change_flags),
    )


def _media(body: dict[str, Any]) -> dict[str, Any]:
    media: dict[str, Any] = {
        "id": ident_of(body.get("id")),
        "mime_type": text_of(body.get("mime_type")),
        # Base64 in Meta's live examples, hex in its history example: kept as sent.
        "sha256": text_of(body.get("sha256")),
        "filename": text_of(body.get("filename")),
        "voice": body.get("voice") is True,
        "animated": body.get("animated") is True,
    }
    url = body.get("url")
    if isinstance(url, str) and url:
        # Rolled out from 2025-11-12, "don't rely on it being present"; valid for 5 minutes.
        media["url"] = url
    return media


def _interactive(body: dict[str, Any], structured: dict[str, Any]) -> str:
    """Fill ``structured`` from an interactive reply; return its text (the chosen title)."""
    kind = text_of(body.get("type"))
    reply = body.get(kind) if kind else None
    structured["interactive_type"] = kind
    if not isinstance(reply, dict):
        return ""
    # button_reply {id, title}, list_reply {id, title, description}, nfm_reply {name, body,
    # response_json (a JSON string, kept as sent)}, call_permission_reply {response, ...}.
    structured.update(reply)
    structured["interactive_type"] = kind
    return text_of(reply.get("title")) or text_of(reply.get("body"))


def _context(context: Any) -> dict[str, Any]:
    if not isinstance(context, dict):
        return {}
    out: dict[str, Any] = {}
    quoted = context.get("id")
    if isinstance(quoted, str) and quoted:
        out["reply_to"] = {"from": ident_of(context.get("from")), "id": quoted}
    # Meta sends forwarded (<= 5 hops) or frequently_forwarded (> 5), never both: the second
    # implies the first.
    if context.get("frequently_forwarded") is True:
        out["forwarded"] = True
        out["frequently_forwarded"] = True
    elif context.get("forwarded") is True:
        out["forwarded"] = True
    product = context.get("referred_product")
    if isinstance(product, dict):
        out["referred_product"] = product
    return out


def _errors(errors: Any) -> tuple[dict[str, Any], ...]:
    if not isinstance(errors, list) or not errors:
        return ()
    return tuple(error for error in errors if isinstance(error, dict))
