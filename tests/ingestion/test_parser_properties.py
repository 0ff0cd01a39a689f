"""Properties of the WhatsApp webhook parser under random input (hypothesis; pure, no database).

1. Whatever the bytes or the JSON, ``parse_delivery`` returns and never raises.
2. Random JSON inside valid envelopes: every message-like object that went in (an item of
   ``messages``, ``message_echoes``, ``statuses``, ``calls`` or of a history thread) comes out
   exactly once, as an event or as ``unrecognised``, and its content is kept somewhere: the parser
   never drops the raw payload.
3. Parsing is deterministic.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.whatsapp.events import ParsedDelivery
from ingestion.whatsapp.parser import MESSAGE_FIELDS, parse_delivery

# No example database: nothing written into the repository, and runs stay independent.
# Example counts keep the module under ~20 s on the 2-core CI machine.
FAST = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
THOROUGH = settings(
    max_examples=350,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
DETERMINISM = settings(THOROUGH, max_examples=150)

ITEM_KEYS = ("messages", "message_echoes", "statuses", "calls")
MESSAGE_TYPES = (
    "text", "image", "audio", "video", "document", "sticker", "location", "contacts",
    "interactive", "button", "reaction", "order", "system", "request_welcome", "unsupported",
    "edit", "revoke", "media_placeholder", "unknown", "poll",
)  # fmt: skip
OTHER_FIELDS = ("account_update", "smb_app_state_sync", "account_alerts", "security")
CLIENT, DISPLAY = "16505551234", "15550783881"
ITEM_WHERE = re.compile(r"\.(messages|message_echoes|statuses|calls)\[\d+\]$")

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
keys = st.sampled_from(
    ["id", "type", "from", "to", "timestamp", "text", "body", "emoji", "message_id", "errors"]
) | st.text(max_size=8)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=12,
)
wamids = st.builds(
    "wamid.HBgL{}{}".format,
    st.sampled_from(["MTY1MDU1NTEyMzQVAgASGBQzQ", "MTY1MDU1NTEyMzQVAgARGBIx"]),
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=4, max_size=24),
)
epoch_seconds = st.integers(min_value=0, max_value=2_000_000_000)
timestamps = st.one_of(
    epoch_seconds.map(str), epoch_seconds, st.integers(), st.text(max_size=12), json_values
)


def sometimes_broken(shape: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly ``shape``, sometimes any JSON value in its place."""
    return st.one_of(shape, shape, shape, json_values)


@st.composite
def bodies(draw: st.DrawFn, mtype: str) -> Any:
    """The content object of a message of type ``mtype``, as Meta documents it."""
    if mtype == "text":
        return {"body": draw(st.text(max_size=30))}
    if mtype in {"image", "audio", "video", "document", "sticker"}:
        return draw(
            st.fixed_dictionaries(
                {"id": st.text("0123456789", min_size=1), "mime_type": st.just("image/jpeg")},
                optional={"sha256": st.text(), "caption": st.text(), "voice": st.booleans()},
            )
        )
    if mtype == "reaction":
        return draw(
            st.fixed_dictionaries(
                {"message_id": wamids}, optional={"emoji": st.sampled_from(["\U0001f44d", ""])}
            )
        )
    if mtype == "edit":
        new = st.fixed_dictionaries(
            {"type": st.just("text"), "text": st.fixed_dictionaries({"body": st.text()})}
        )
        return draw(
            st.fixed_dictionaries(
                {"original_message_id": wamids}, optional={"message": sometimes_broken(new)}
            )
        )
    if mtype == "revoke":
        return {"original_message_id": draw(wamids)}
    return draw(json_values)


@st.composite
def plausible_messages(draw: st.DrawFn) -> dict[str, Any]:
    """A message, status or call object in Meta's shape, with optional extras."""
    known = st.sampled_from(MESSAGE_TYPES)
    mtype = draw(st.one_of(known, known, known, st.text(max_size=8)))
    obj: dict[str, Any] = {
        "from": draw(st.sampled_from([CLIENT, DISPLAY, ""])),
        "id": draw(wamids),
        "timestamp": draw(timestamps),
        "type": mtype,
    }
    if draw(st.integers(0, 4)):
        obj[mtype] = draw(bodies(mtype))
    extras = st.fixed_dictionaries(
        {},
        optional={
            "to": st.sampled_from([CLIENT, ""]),
            "from_user_id": st.just("US.13491208655302741918"),
            "status": st.sampled_from(["sent", "delivered", "read", "failed", "played"]),
            "context": st.fixed_dictionaries(
                {}, optional={"id": wamids, "from": st.just(DISPLAY), "forwarded": json_values}
            ),
            "errors": st.lists(
                st.fixed_dictionaries({"code": st.sampled_from([131051, 131060, "131060"])})
                | json_values,
                max_size=2,
            ),
            "group_id": st.text(max_size=10),
            "history_context": st.fixed_dictionaries({"status": st.sampled_from(["READ", "SENT"])}),
            "referral": json_values,
            "event": st.sampled_from(["connect", "terminate"]),
            "duration": json_values,
        },
    )
    obj.update(draw(extras))
    return obj


@st.composite
def mangled(draw: st.DrawFn, shape: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    """``shape`` with one key, known or new, given a random JSON value."""
    obj = draw(shape)
    key = draw(st.sampled_from(sorted(obj)) | keys) if obj else draw(keys)
    obj[key] = draw(json_values)
    return obj


message_like = st.one_of(
    plausible_messages(), plausible_messages(), mangled(plausible_messages()), json_values
)
items = sometimes_broken(st.lists(message_like, max_size=3))
metadata = st.fixed_dictionaries(
    {"display_phone_number": st.just(DISPLAY), "phone_number_id": st.just("106540352242922")}
)


@st.composite
def history_lists(draw: st.DrawFn) -> Any:
    threads = st.lists(
        sometimes_broken(
            st.fixed_dictionaries(
                {"id": st.sampled_from([CLIENT, ""]), "messages": items},
                optional={"context": json_values},
            )
        ),
        max_size=2,
    )
    chunk = st.fixed_dictionaries(
        {"metadata": sometimes_broken(st.fixed_dictionaries({"phase": st.integers(0, 2)}))},
        optional={"threads": sometimes_broken(threads), "errors": st.lists(json_values)},
    )
    return draw(sometimes_broken(st.lists(sometimes_broken(chunk), max_size=2)))


message_values = st.fixed_dictionaries(
    {"messaging_product": st.just("whatsapp"), "metadata": sometimes_broken(metadata)},
    optional={
        "contacts": st.lists(
            st.fixed_dictionaries(
                {"profile": st.fixed_dictionaries({"name": st.text()}), "wa_id": st.just(CLIENT)}
            )
            | json_values,
            max_size=2,
        ),
        "messages": items,
        "message_echoes": items,
        "statuses": items,
        "calls": items,
        "history": history_lists(),
        "errors": sometimes_broken(st.lists(json_values, max_size=2)),
        "surprise": json_values,
    },
)
well_formed_changes = st.fixed_dictionaries(
    {"field": st.sampled_from(sorted(MESSAGE_FIELDS)), "value": message_values}
)
any_changes = st.one_of(
    well_formed_changes,
    st.fixed_dictionaries({"field": st.sampled_from(OTHER_FIELDS), "value": message_values}),
    mangled(well_formed_changes),
    json_values,
)


def envelopes(changes: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    entry = st.fixed_dictionaries(
        {"id": st.just("102290129340398"), "changes": st.lists(changes, min_size=1, max_size=2)},
        optional={"time": timestamps},
    )
    return st.fixed_dictionaries(
        {
            "object": st.just("whatsapp_business_account"),
            "entry": st.lists(entry, min_size=1, max_size=2),
        }
    )


# Valid envelopes down to the item lists, random items and values inside.
valid_envelopes = envelopes(well_formed_changes)
# Anything from valid to nonsense at every level.
deliveries = st.one_of(envelopes(any_changes), mangled(envelopes(any_changes)), json_values)


def message_like_inputs(payload: dict[str, Any]) -> list[Any]:
    """Every object the parser must account for, found by walking the payload as Meta shapes
    it: items of the item lists of message-field values, and messages of history threads."""
    found: list[Any] = []
    entries = payload.get("entry")
    for entry in entries if isinstance(entries, list) else ():
        entry_changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in entry_changes if isinstance(entry_changes, list) else ():
            field = change.get("field") if isinstance(change, dict) else None
            if not isinstance(field, str) or field not in MESSAGE_FIELDS:
                continue
            value = change.get("value")
            if not isinstance(value, dict):
                continue
            for key in ITEM_KEYS:
                if isinstance(value.get(key), list):
                    found.extend(value[key])
            chunks = value.get("history")
            for chunk in chunks if isinstance(chunks, list) else ():
                chunk_threads = chunk.get("threads") if isinstance(chunk, dict) else None
                for thread in chunk_threads if isinstance(chunk_threads, list) else ():
                    if isinstance(thread, dict) and isinstance(thread.get("messages"), list):
                        found.extend(thread["messages"])
    return found


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def assert_no_internal_error(parsed: ParsedDelivery) -> None:
    """The parser's safety net must never have been needed."""
    assert not [u for u in parsed.unrecognised if u.reason.startswith("internal error")]


# -- 1. never raises -------------------------------------------------------------------------


@FAST
@given(st.binary(max_size=300))
def test_random_bytes_never_raise(body):
    parsed = parse_delivery(body)

    assert isinstance(parsed, ParsedDelivery)
    assert_no_internal_error(parsed)


@FAST
@given(json_values)
def test_random_json_values_never_raise(value):
    parsed = parse_delivery(json.dumps(value).encode())

    assert isinstance(parsed, ParsedDelivery)
    assert parsed.unparseable is not isinstance(value, dict)
    assert_no_internal_error(parsed)


@FAST
@given(st.text(max_size=200))
def test_random_text_never_raises(text):
    assert isinstance(parse_delivery(text.encode("utf-8", "surrogatepass")), ParsedDelivery)


# -- 2. random JSON inside valid envelopes: never drops the raw payload ----------------------


def assert_every_item_comes_out_once(payload: Any, parsed: ParsedDelivery) -> None:
    """Each message-like input is the raw of exactly one event or per-item ``unrecognised``
    (compared as canonical JSON: the parse works on the bytes, not on ``payload``)."""
    inputs = message_like_inputs(payload) if isinstance(payload, dict) else []
    per_item = [u for u in parsed.unrecognised if ITEM_WHERE.search(u.where)]
    events = [*parsed.messages, *parsed.changes, *parsed.statuses, *parsed.calls]
    outputs = sorted(canonical(item.raw) for item in [*events, *per_item])
    assert outputs == sorted(canonical(item) for item in inputs)


@THOROUGH
@given(valid_envelopes)
def test_valid_envelopes_with_random_items_lose_nothing(payload):
    parsed = parse_delivery(json.dumps(payload).encode())

    assert not parsed.unparseable
    assert_no_internal_error(parsed)
    assert_every_item_comes_out_once(payload, parsed)
    for event in [*parsed.messages, *parsed.changes, *parsed.statuses, *parsed.calls]:
        assert event.envelope.waba_id == "102290129340398"
        assert event.envelope.field in MESSAGE_FIELDS
        assert event.timestamp.tzinfo is not None


@THOROUGH
@given(deliveries)
def test_deliveries_broken_at_any_level_lose_nothing(payload):
    parsed = parse_delivery(json.dumps(payload).encode())

    assert parsed.unparseable is not isinstance(payload, dict)
    assert_no_internal_error(parsed)
    assert_every_item_comes_out_once(payload, parsed)


# -- 3. deterministic ------------------------------------------------------------------------


@DETERMINISM
@given(st.one_of(valid_envelopes, deliveries))
def test_parsing_is_deterministic(payload):
    body = json.dumps(payload).encode()

    assert parse_delivery(body) == parse_delivery(body)
