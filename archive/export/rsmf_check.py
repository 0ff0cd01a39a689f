"""Check a ``.rsmf`` file the way Relativity would, and say in words what is wrong.

Three layers, as Relativity's validator (2.1.1) reads them:

- the e-mail: ``X-RSMF-Version`` present, exactly one attachment ``rsmf.zip`` in base64, a body,
  and header values that agree with the manifest (version, begin/end dates with an offset, event
  count, attachment count, the exact participant display names, the event collection id);
- the zip: a manifest, deflate or store only, a flat root, every named file present and no
  file nobody names (an unreferenced file is a warning there, and any zip warning silently turns
  the header checks off, so the project treats it as a problem);
- the manifest: the published RSMF 2.0.0 JSON schema (required fields, types, enums, ``date-time``
  and ``idn-email`` formats, minimum lengths) plus the validator's rules (unique ids, every
  participant, conversation and attachment an event names exists, custodians and senders are
  members, no join/leave in a direct conversation, parents in the same conversation and not
  later, edits not before their event, at most 10,000 events). The schema allows unknown
  properties, the validator warns on them: here they are problems.

The schema is written out below in our own terms rather than loaded from Relativity's file: the
project does not ship their file, and a JSON-Schema engine would still need the validator's
rules on top. Only the standard library is used.
"""

from __future__ import annotations

import binascii
import email.policy
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage, Message
from email.parser import BytesParser
from io import BytesIO
from typing import Any

from compliance_hub.digits import is_digits

VERSION = "2.0.0"
MAX_EVENTS = 10_000
MANIFEST_NAME = "rsmf_manifest.json"
ZIP_NAME = "rsmf.zip"

# --- the schema, in our terms ------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    min_length: int = 0
    choices: tuple[str, ...] = ()
    format: str = ""  # "date-time" or "idn-email"


@dataclass(frozen=True)
class Integer:
    pass


@dataclass(frozen=True)
class Boolean:
    pass


@dataclass(frozen=True)
class Array:
    items: Spec


@dataclass(frozen=True)
class Object:
    properties: Mapping[str, Spec]
    required: tuple[str, ...] = ()
    name: str = "object"


Spec = Text | Integer | Boolean | Array | Object

_CUSTOM = Array(
    Object({"name": Text(min_length=1), "value": Text(min_length=1)}, ("name", "value"), "custom")
)
_ID = Text(min_length=1)

SCHEMA = Object(
    name="manifest",
    required=("version", "participants", "conversations", "events"),
    properties={
        "version": Text(min_length=5),
        "eventcollectionid": Text(),
        "participants": Array(
            Object(
                name="participant",
                required=("id",),
                properties={
                    "id": _ID,
                    "display": Text(),
                    "email": Text(format="idn-email"),
                    "avatar": Text(),
                    "account_id": Text(),
                    "custom": _CUSTOM,
                },
            )
        ),
        "conversations": Array(
            Object(
                name="conversation",
                required=("id", "platform", "participants"),
                properties={
                    "id": _ID,
                    "display": Text(),
                    "platform": Text(min_length=1),
                    "type": Text(choices=("direct", "channel")),
                    "participants": Array(_ID),
                    "custodian": Text(),
                    "custom": _CUSTOM,
                    "icon": Text(),
                },
            )
        ),
        "events": Array(
            Object(
                name="event",
                required=("type",),
                properties={
                    "id": Text(),
                    "type": Text(
                        min_length=1,
                        choices=("message", "disclaimer", "join", "leave", "history", "unknown"),
                    ),
                    "parent": Text(),
                    "body": Text(),
                    "participant": Text(),
                    "conversation": Text(),
                    "timestamp": Text(format="date-time"),
                    "deleted": Boolean(),
                    "importance": Text(choices=("normal", "high")),
                    "reactions": Array(
                        Object(
                            name="reaction",
                            required=("value",),
                            properties={
                                "value": Text(min_length=1),
                                "count": Integer(),
                                "participants": Array(_ID),
                            },
                        )
                    ),
                    "attachments": Array(
                        Object(
                            name="attachment",
                            required=("id",),
                            properties={"id": _ID, "display": Text(), "size": Integer()},
                        )
                    ),
                    "edits": Array(
                        Object(
                            name="edit",
                            required=("participant",),
                            properties={
                                "participant": _ID,
                                "timestamp": Text(format="date-time"),
                                "previous": Text(),
                                "new": Text(),
                            },
                        )
                    ),
                    "custom": _CUSTOM,
                    "direction": Text(choices=("incoming", "outgoing")),
                    "read_receipts": Array(
                        Object(
                            name="read receipt",
                            required=("participant",),
                            properties={
                                "participant": _ID,
                                "timestamp": Text(format="date-time"),
                                "action": Text(choices=("read", "delivered")),
                            },
                        )
                    ),
                },
            )
        ),
    },
)

# RFC 3339 section 5.6 date-time: the offset is not optional (a naive time fails).
_DATE_TIME = re.compile(
    r"\A([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})\Z"
)
# RFC 6531 mailbox, loosely: a local part and a dotted domain, no spaces or angle brackets.
_EMAIL = re.compile(r"\A[^\s@<>()\[\],;:\"]+@[^\s@<>()\[\],;:\"]+\.[^\s@<>()\[\],;:\"]+\Z")


def parse_date_time(value: str) -> datetime | None:
    """An RFC 3339 date-time (with its offset) as an aware datetime, or None."""
    if not _DATE_TIME.match(value):
        return None
    try:
        return datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:  # 2025-02-30 and the like
        return None


def schema_problems(value: Any, spec: Spec = SCHEMA, where: str = "manifest") -> list[str]:
    """Every place where ``value`` breaks the RSMF 2.0.0 schema (plus no unknown properties)."""
    if isinstance(spec, Object):
        if not isinstance(value, dict):
            return [f"{where} should be a JSON object"]
        problems = [
            f"{where} is missing the required field '{name}'"
            for name in spec.required
            if name not in value
        ]
        for name in sorted(value):
            if name in spec.properties:
                problems += schema_problems(value[name], spec.properties[name], f"{where}.{name}")
            else:
                problems.append(f"{where} has a property RSMF does not define: '{name}'")
        return problems
    if isinstance(spec, Array):
        if not isinstance(value, list):
            return [f"{where} should be a list"]
        problems = []
        for index, item in enumerate(value):
            problems += schema_problems(item, spec.items, f"{where}[{index}]")
        return problems
    if isinstance(spec, Integer):
        # JSON's true is not an integer, though Python's bool is an int.
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{where} should be a whole number, not {value!r}"]
    if isinstance(spec, Boolean):
        return [] if isinstance(value, bool) else [f"{where} should be true or false"]
    if not isinstance(value, str):
        return [f"{where} should be text, not {value!r}"]
    problems = []
    if len(value) < spec.min_length:
        problems.append(f"{where} should have at least {spec.min_length} characters")
    if spec.choices and value not in spec.choices:
        problems.append(f"{where} should be one of {', '.join(spec.choices)}, not {value!r}")
    if spec.format == "date-time" and parse_date_time(value) is None:
        problems.append(f"{where} is not an RFC 3339 date-time with an offset: {value!r}")
    if spec.format == "idn-email" and not _EMAIL.match(value):
        problems.append(f"{where} is not an e-mail address: {value!r}")
    return problems


# --- the validator's rules ---------------------------------------------------------------------


def manifest_problems(manifest: Any, *, zip_names: set[str] | None = None) -> list[str]:
    """Schema problems, then the validator's rules; with ``zip_names`` also the zip's files."""
    problems = schema_problems(manifest)
    if problems:
        return problems  # the rules below read the structure the schema guarantees
    if manifest["version"] != VERSION:
        problems.append(f"the manifest version is {manifest['version']!r}, not {VERSION}")
    for collection in ("participants", "conversations", "events"):
        if not manifest[collection]:
            problems.append(f"the manifest has no {collection}")
        seen: set[str] = set()
        for item in manifest[collection]:
            item_id = item.get("id")
            if item_id is None:
                continue
            if item_id in seen:
                problems.append(f"the {collection} id {item_id!r} is used more than once")
            seen.add(item_id)
    if len(manifest["events"]) > MAX_EVENTS:
        problems.append(
            f"the manifest has {len(manifest['events'])} events, over Relativity's"
            f" recommended {MAX_EVENTS}"
        )
    people = {p["id"] for p in manifest["participants"]}
    conversations = {c["id"]: c for c in manifest["conversations"]}
    for conversation in manifest["conversations"]:
        problems += _conversation_problems(conversation, people)
    events = manifest["events"]
    by_id = {e["id"]: e for e in events if "id" in e}
    used_conversations: set[str] = set()
    for index, event in enumerate(events):
        problems += _event_problems(
            event, f"event {event.get('id', index)!r}", people, conversations, by_id
        )
        used_conversations.add(event.get("conversation", ""))
    for conversation_id in conversations:
        if conversation_id not in used_conversations:
            problems.append(f"conversation {conversation_id!r} has no events")
    if zip_names is not None:
        problems += _zip_reference_problems(manifest, zip_names)
    return problems


def _conversation_problems(conversation: dict[str, Any], people: set[str]) -> list[str]:
    where = f"conversation {conversation['id']!r}"
    problems = [
        f"{where} names an unknown participant {pid!r}"
        for pid in conversation["participants"]
        if pid not in people
    ]
    custodian = conversation.get("custodian")
    if custodian is not None:
        if custodian not in people:
            problems.append(f"{where} names an unknown custodian {custodian!r}")
        elif custodian not in conversation["participants"]:
            problems.append(f"{where}: the custodian {custodian!r} is not a member")
    return problems


def _event_problems(
    event: dict[str, Any],
    where: str,
    people: set[str],
    conversations: Mapping[str, dict[str, Any]],
    by_id: Mapping[str, dict[str, Any]],
) -> list[str]:
    problems = []
    for name in ("participant", "conversation", "timestamp"):
        if name not in event:
            # Optional in the 2.0 schema, but Relativity cannot place an event without them.
            problems.append(f"{where} has no {name}")
    conversation = conversations.get(event.get("conversation", ""))
    if "conversation" in event and conversation is None:
        problems.append(f"{where} belongs to an unknown conversation {event['conversation']!r}")
    members = set(conversation["participants"]) if conversation else set()
    sender = event.get("participant")
    if sender is not None:
        if sender not in people:
            problems.append(f"{where} names an unknown participant {sender!r}")
        elif conversation and sender not in members and event["type"] != "join":
            problems.append(f"{where}: participant {sender!r} is not a conversation member")
    if conversation and conversation.get("type") == "direct" and event["type"] in ("join", "leave"):
        problems.append(f"{where}: a {event['type']} event in a direct conversation")
    when = parse_date_time(event.get("timestamp", ""))
    parent_id = event.get("parent")
    if parent_id is not None:
        parent = by_id.get(parent_id)
        if parent is None:
            problems.append(f"{where} has an unknown parent {parent_id!r}")
        else:
            if parent.get("conversation") != event.get("conversation"):
                problems.append(f"{where}: its parent is in another conversation")
            parent_when = parse_date_time(parent.get("timestamp", ""))
            if when and parent_when and parent_when > when:
                problems.append(f"{where}: its parent is later than the event")
    for edit in event.get("edits", []):
        if edit["participant"] not in people:
            problems.append(f"{where}: an edit names an unknown participant")
        edit_when = parse_date_time(edit.get("timestamp", ""))
        if when and edit_when and edit_when < when:
            problems.append(f"{where}: an edit at {edit['timestamp']} is before the event")
    for reaction in event.get("reactions", []):
        unknown = [pid for pid in reaction.get("participants", []) if pid not in people]
        if unknown:
            problems.append(f"{where}: a reaction names unknown participants {unknown}")
    receipts = event.get("read_receipts")
    if receipts is not None and not receipts:
        problems.append(f"{where} has an empty read_receipts list")
    for receipt in receipts or []:
        if receipt["participant"] not in members:
            problems.append(f"{where}: a read receipt by a non-member {receipt['participant']!r}")
    return problems


def referenced_files(manifest: dict[str, Any]) -> set[str]:
    """Every zip file the manifest names (attachments, avatars, icons)."""
    names = {a["id"] for e in manifest["events"] for a in e.get("attachments", [])}
    names |= {p["avatar"] for p in manifest["participants"] if "avatar" in p}
    names |= {c["icon"] for c in manifest["conversations"] if "icon" in c}
    return names


def _zip_reference_problems(manifest: dict[str, Any], zip_names: set[str]) -> list[str]:
    named = referenced_files(manifest)
    problems = [
        f"the zip lacks the file {name!r} the manifest names"
        for name in sorted(named)
        if name not in zip_names
    ]
    problems += [
        f"the zip holds a file the manifest never names: {name!r}"
        for name in sorted(zip_names - named - {MANIFEST_NAME})
    ]
    return problems


# --- the zip and the e-mail --------------------------------------------------------------------


def read_zip(data: bytes) -> tuple[list[str], Any, set[str]]:
    """The zip layer of ``rsmf.zip``: its problems, the parsed manifest (None when it cannot be
    read) and the names of the files it holds."""
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except zipfile.BadZipFile:
        return ["rsmf.zip is not a readable zip file"], None, set()
    with archive:
        problems = []
        names = set()
        for info in archive.infolist():
            names.add(info.filename)
            if "/" in info.filename or "\\" in info.filename:
                problems.append(f"the zip has a file in a folder: {info.filename!r} (flat only)")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                problems.append(f"{info.filename!r} uses a compression other than deflate")
            if info.flag_bits & 0x1:
                problems.append(f"{info.filename!r} is encrypted")
        if problems:
            return problems, None, names
        broken = archive.testzip()
        if broken is not None:
            return [f"the zip file {broken!r} is corrupt"], None, names
        if MANIFEST_NAME not in names:
            return [f"the zip has no {MANIFEST_NAME}"], None, names
        try:
            manifest = json.loads(archive.read(MANIFEST_NAME).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            return [f"{MANIFEST_NAME} is not valid JSON: {error}"], None, names
    return [], manifest, names


def check_rsmf(data: bytes) -> list[str]:
    """Every problem of a ``.rsmf`` file, in words; an empty list means it is clean."""
    mail = BytesParser(policy=email.policy.default).parsebytes(data)
    assert isinstance(mail, EmailMessage)  # what the default policy builds
    problems = []
    version = mail.get("X-RSMF-Version")
    if version is None:
        problems.append("the X-RSMF-Version header is missing")
    attachments = list(mail.iter_attachments()) if mail.is_multipart() else []
    if len(attachments) != 1 or attachments[0].get_filename() != ZIP_NAME:
        held = [part.get_filename() for part in attachments]
        return [*problems, f"the file must have exactly one attachment, rsmf.zip; it has {held}"]
    part = attachments[0]
    if part.get("Content-Transfer-Encoding", "").lower() != "base64":
        problems.append("rsmf.zip is not base64-encoded")
    body = mail.get_body(preferencelist=("plain", "html"))
    if body is None or not _text_of(body).strip():
        problems.append("the file has no body text (the extracted text would be empty)")
    try:
        payload = part.get_payload(decode=True)
    except (binascii.Error, ValueError):
        payload = None
    if not isinstance(payload, bytes):
        return [*problems, "rsmf.zip cannot be decoded"]
    zip_found, manifest, names = read_zip(payload)
    problems += zip_found
    if manifest is None:
        return problems
    found = manifest_problems(manifest)
    problems += found
    if found and schema_problems(manifest):
        return problems  # the checks below read the structure the schema guarantees
    files = _zip_reference_problems(manifest, names)
    problems += files
    # Relativity compares the headers only when the zip layer is clean (any zip warning turns
    # that off), so a header mismatch is reported the same way: after the zip is fixed.
    if not zip_found and not files:
        problems += header_problems(mail, manifest)
    return problems


def _text_of(part: Message) -> str:
    content = part.get_content() if isinstance(part, EmailMessage) else ""
    return content if isinstance(content, str) else ""


def header_problems(mail: Message, manifest: dict[str, Any]) -> list[str]:
    """The X-RSMF-* headers against the manifest they describe."""
    problems = []
    for name, value in mail.raw_items():  # as written: reading decodes encoded words
        if name.lower().startswith("x-rsmf-") and "=?" in value:
            problems.append(f"{name} uses an RFC 2047 encoded word (write raw UTF-8)")
    version = mail.get("X-RSMF-Version")
    if version is not None and str(version) != manifest["version"]:
        problems.append(
            f"X-RSMF-Version {version} differs from the manifest's {manifest['version']}"
        )
    events = manifest["events"]
    times = [t for t in (parse_date_time(e.get("timestamp", "")) for e in events) if t]
    for name, expected in (
        ("X-RSMF-BeginDate", min(times, default=None)),
        ("X-RSMF-EndDate", max(times, default=None)),
    ):
        header = mail.get(name)
        if header is None:
            continue
        moment = parse_date_time(str(header))
        if moment is None:
            problems.append(f"{name} {header!s} is not a date-time with a time zone offset")
        elif expected is not None and moment != expected:
            which = "first" if "Begin" in name else "last"
            problems.append(f"{name} {header!s} is not the {which} event's time")
    problems += _count_problem(mail, "X-RSMF-EventCount", len(events), minimum=1)
    attachment_count = len({a["id"] for e in events for a in e.get("attachments", [])})
    problems += _count_problem(mail, "X-RSMF-AttachmentCount", attachment_count, minimum=0)
    participants = mail.get("X-RSMF-Participants")
    displays = ", ".join(p.get("display", "") for p in manifest["participants"])
    # Unfolding a folded header leaves the fold's space in front: not part of the value.
    if participants is not None and str(participants).strip() != displays:
        problems.append(
            f"X-RSMF-Participants is {participants!s}, not the manifest's display names {displays}"
        )
    collection = mail.get("X-RSMF-EventCollectionID")
    if collection is not None and str(collection) != manifest.get("eventcollectionid", ""):
        problems.append("X-RSMF-EventCollectionID differs from the manifest's eventcollectionid")
    return problems


def _count_problem(mail: Message, name: str, expected: int, *, minimum: int) -> list[str]:
    value = mail.get(name)
    if value is None:
        return []
    text = str(value).strip()
    if not is_digits(text) or int(text) < minimum:
        return [f"{name} should be a whole number of at least {minimum}, not {text!r}"]
    if int(text) != expected:
        return [f"{name} says {text}, the manifest has {expected}"]
    return []
