"""The WhatsApp webhook parser against one fixture per documented payload (pure: no database).

Fixtures are written from Meta's documented formats (../shared/reference/whatsapp-webhooks.md),
serialised as Meta does: non-ASCII escaped (``\\u00e4``), timestamps as strings of epoch seconds.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ingestion.whatsapp.events import (
    Change,
    Counterparty,
    Envelope,
    Message,
    ParsedDelivery,
    Unrecognised,
)
from ingestion.whatsapp.parser import parse_delivery

FIXTURES = Path(__file__).parent / "fixtures"

WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY = "15550783881"
CLIENT = "16505551234"
SHEENA = Counterparty(wa_id=CLIENT, name="Sheena Nelson")
BSUID = "US.13491208655302741918"
T0 = datetime(2026, 6, 19, 12, 0, tzinfo=UTC)  # "1781870400"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ENVELOPE = Envelope(
    waba_id=WABA_ID, field="messages", phone_number_id=PHONE_NUMBER_ID, display_phone_number=DISPLAY
)
ECHO_ENVELOPE = Envelope(
    waba_id=WABA_ID,
    field="smb_message_echoes",
    phone_number_id=PHONE_NUMBER_ID,
    display_phone_number=DISPLAY,
)
HISTORY_ENVELOPE = Envelope(
    waba_id=WABA_ID, field="history", phone_number_id=PHONE_NUMBER_ID, display_phone_number=DISPLAY
)


def load(name: str) -> tuple[ParsedDelivery, dict[str, Any]]:
    """The parse of a fixture and the fixture as JSON (to compare ids and raw parts)."""
    body = (FIXTURES / f"{name}.json").read_bytes()
    return parse_delivery(body), json.loads(body)


def value_of(payload: dict[str, Any], entry: int = 0, change: int = 0) -> dict[str, Any]:
    return payload["entry"][entry]["changes"][change]["value"]


def delivery(value: dict[str, Any], field: str = "messages") -> bytes:
    """A one-change delivery around ``value``, serialised as Meta does."""
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"field": field, "value": value}]}],
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def only_message(name: str) -> tuple[Message, dict[str, Any]]:
    """The single message of a fixture, and its raw object; nothing else may come out."""
    parsed, payload = load(name)
    assert not parsed.unparseable
    assert parsed.unrecognised == ()
    assert (parsed.changes, parsed.statuses, parsed.calls, parsed.account_events) == ((),) * 4
    assert len(parsed.messages) == 1
    return parsed.messages[0], value_of(payload)["messages"][0]


def only_change(name: str, key: str = "messages") -> tuple[Change, dict[str, Any]]:
    parsed, payload = load(name)
    assert parsed.unrecognised == ()
    assert parsed.messages == ()
    assert len(parsed.changes) == 1
    return parsed.changes[0], value_of(payload)[key][0]


# -- messages: the envelope and text ---------------------------------------------------------


def test_text_message_is_an_inbound_message_from_the_contact_with_its_envelope():
    parsed, payload = load("messages_text")
    raw = value_of(payload)["messages"][0]

    assert parsed.object == "whatsapp_business_account"
    assert parsed.phone_number_ids == frozenset({PHONE_NUMBER_ID})
    assert parsed.messages == (
        Message(
            envelope=ENVELOPE,
            wamid=raw["id"],
            direction="inbound",
            type="text",
            timestamp=T0 + timedelta(seconds=1),
            counterparty=SHEENA,
            text="Hi, can you confirm the trade for tomorrow?",
            raw=raw,
        ),
    )
    assert parsed.messages[0].wamid.startswith("wamid.HBgL")
    assert parsed.messages[0].timestamp.tzinfo is UTC


def test_non_ascii_text_escaped_as_meta_does_comes_out_decoded():
    body = (FIXTURES / "messages_text_non_ascii.json").read_bytes()
    assert b"Gr\\u00fc\\u00dfe" in body and b"\\ud83d\\udc4d" in body  # as Meta serialises
    body.decode("ascii")

    message, _ = only_message("messages_text_non_ascii")

    assert message.text == "Grüße aus Zürich — äöå 👍"
    assert message.counterparty == Counterparty(wa_id="41791234567", name="Jörg Müller")


# -- media -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "type_", "caption", "extra"),
    [
        ("messages_image", "image", "Signed term sheet", {}),
        ("messages_video", "video", "Site visit", {}),
        ("messages_audio_voice", "audio", "", {"voice": True}),
        ("messages_document", "document", "Q2 statement", {"filename": "statement-2026-Q2.pdf"}),
        ("messages_sticker", "sticker", "", {"animated": True}),
    ],
)
def test_media_messages_keep_the_media_reference_and_the_caption_as_text(
    fixture, type_, caption, extra
):
    message, raw = only_message(fixture)
    sent = raw[type_]

    assert message.type == type_
    assert message.text == caption
    expected = {
        "id": sent["id"],
        "mime_type": sent["mime_type"],
        "sha256": sent["sha256"],
        "filename": "",
        "voice": False,
        "animated": False,
        **extra,
    }
    if "url" in sent:
        expected["url"] = sent["url"]
    assert message.media == expected
    assert message.structured == {}
    assert message.flags == ()


def test_media_url_is_kept_when_meta_already_sends_it():
    message, _ = only_message("messages_image")

    assert message.media is not None
    assert message.media["url"].startswith("https://lookaside.fbsbx.com/whatsapp_business/")
    assert message.media["id"] == "1263471378523401"
    assert message.media["sha256"] == "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI="


def test_media_without_url_has_no_url_key():
    message, _ = only_message("messages_video")

    assert message.media is not None and "url" not in message.media


# -- other content types ---------------------------------------------------------------------


def test_location_keeps_coordinates_name_address_and_url():
    message, _ = only_message("messages_location")

    assert message.type == "location"
    assert message.text == ""
    assert message.media is None
    assert message.structured == {
        "latitude": 47.3712,
        "longitude": 8.5389,
        "name": "UBS Paradeplatz",
        "address": "Bahnhofstrasse 45, 8001 Zürich",
        "url": "https://www.ubs.com",
    }


def test_shared_contacts_are_kept_whole_and_are_not_the_sender():
    message, raw = only_message("messages_contacts")

    assert message.type == "contacts"
    assert message.structured == {"contacts": raw["contacts"]}
    assert message.structured["contacts"][0]["name"]["formatted_name"] == "Barbara J. Diaz"
    assert message.counterparty == SHEENA


@pytest.mark.parametrize(
    ("fixture", "text", "structured"),
    [
        (
            "messages_interactive_button_reply",
            "Confirm",
            {"interactive_type": "button_reply", "id": "confirm-trade-7731", "title": "Confirm"},
        ),
        (
            "messages_interactive_list_reply",
            "Mon 22 June, 10:00",
            {
                "interactive_type": "list_reply",
                "id": "slot-2026-06-22-10",
                "title": "Mon 22 June, 10:00",
                "description": "Branch meeting, 30 minutes",
            },
        ),
        (
            "messages_interactive_nfm_reply",
            "Sent",
            {
                "interactive_type": "nfm_reply",
                "name": "flow",
                "body": "Sent",
                "response_json": '{"flow_token": "kyc-7f3a", "risk_profile": "balanced", '
                '"consent": true}',
            },
        ),
    ],
)
def test_interactive_replies_keep_the_choice_and_the_replied_message(fixture, text, structured):
    message, raw = only_message(fixture)

    assert message.type == "interactive"
    assert message.text == text
    assert message.structured == structured
    assert message.context == {"reply_to": {"from": DISPLAY, "id": raw["context"]["id"]}}


def test_flow_reply_keeps_response_json_as_sent():
    message, _ = only_message("messages_interactive_nfm_reply")

    assert json.loads(message.structured["response_json"]) == {
        "flow_token": "kyc-7f3a",
        "risk_profile": "balanced",
        "consent": True,
    }


def test_template_quick_reply_button_keeps_payload_and_text():
    message, raw = only_message("messages_button")

    assert message.type == "button"
    assert message.text == "Stop promotions"
    assert message.structured == {"payload": "STOP_PROMOTIONS", "text": "Stop promotions"}
    assert message.context["reply_to"]["id"] == raw["context"]["id"]


def test_order_keeps_catalog_items_and_text():
    message, raw = only_message("messages_order")

    assert message.type == "order"
    assert message.text == "Please deliver by Friday"
    assert message.structured == {
        "catalog_id": "194836987003835",
        "text": "Please deliver by Friday",
        "product_items": raw["order"]["product_items"],
    }
    assert len(message.structured["product_items"]) == 2


def test_system_message_of_a_changed_number_without_contacts():
    message, _ = only_message("messages_system")

    assert message.type == "system"
    assert message.text == "User Sheena Nelson changed from 16505551234 to 16505550000"
    assert message.structured["system_type"] == "user_changed_number"
    assert message.structured["wa_id"] == "16505550000"
    # Meta's example has no contacts: the counterparty is the old number, without a name.
    assert message.counterparty == Counterparty(wa_id=CLIENT)


def test_referral_from_an_ad_is_kept_on_the_message():
    message, raw = only_message("messages_referral")

    assert message.type == "text"
    assert message.text == "Can I get more info about the savings plan?"
    assert message.structured == {"referral": raw["referral"]}
    assert message.structured["referral"]["source_type"] == "ad"
    assert message.structured["referral"]["ctwa_clid"].startswith("ARAkLkA8")


def test_request_welcome_has_no_content_and_is_not_unknown():
    message, _ = only_message("messages_request_welcome")

    assert message.type == "request_welcome"
    assert (message.text, message.structured, message.media, message.flags) == ("", {}, None, ())


def test_unsupported_131051_is_kept_flagged_with_its_error_and_what_it_was():
    message, raw = only_message("messages_unsupported_131051")

    assert message.type == "unsupported"
    assert message.flags == ("unsupported",)
    assert message.errors == tuple(raw["errors"])
    assert message.errors[0]["code"] == 131051
    assert message.structured == {"unsupported_type": "poll_creation"}
    assert message.text == ""


def test_unsupported_131060_is_also_flagged_unavailable():
    message, raw = only_message("messages_unsupported_131060")

    assert message.type == "unsupported"
    assert message.flags == ("unsupported", "unavailable")
    assert message.errors == tuple(raw["errors"])
    assert message.structured == {}


def test_unknown_message_type_is_kept_raw_and_flagged():
    message, raw = only_message("messages_unknown_type")

    assert message.type == "poll_vote"
    assert message.flags == ("unknown_type",)
    assert message.raw == raw
    assert message.raw["poll_vote"] == {"poll_id": "wapoll.7781", "option": "Yes"}
    assert message.wamid == raw["id"]


# -- context ---------------------------------------------------------------------------------


def test_reply_context_names_the_quoted_message():
    message, raw = only_message("messages_context_reply")

    assert message.context == {"reply_to": {"from": DISPLAY, "id": raw["context"]["id"]}}
    assert message.text == "Yes, go ahead."


def test_forwarded_context():
    message, _ = only_message("messages_context_forwarded")

    assert message.context == {"forwarded": True}
    assert message.type == "image"


def test_frequently_forwarded_is_also_forwarded():
    message, _ = only_message("messages_context_frequently_forwarded")

    assert message.context == {"forwarded": True, "frequently_forwarded": True}


def test_product_enquiry_keeps_the_referred_product():
    message, raw = only_message("messages_context_referred_product")

    assert message.context == {
        "reply_to": {"from": DISPLAY, "id": raw["context"]["id"]},
        "referred_product": {
            "catalog_id": "194836987003835",
            "product_retailer_id": "di9ozbzfi4",
        },
    }


def test_group_message_is_flagged_and_kept():
    message, _ = only_message("messages_group")

    assert message.flags == ("group",)
    assert message.structured == {"group_id": "120363025246125888@g.us"}
    assert message.text == "Morning all"
    assert message.counterparty == SHEENA  # the participant who wrote


# -- changes: reactions, edits, revokes ------------------------------------------------------


def test_reaction_is_a_change_of_the_reacted_message():
    change, raw = only_change("messages_reaction")

    assert change == Change(
        envelope=ENVELOPE,
        kind="reaction",
        event_id=raw["id"],
        target_wamid=raw["reaction"]["message_id"],
        direction="inbound",
        timestamp=T0 + timedelta(seconds=14),
        counterparty=SHEENA,
        payload={"emoji": "👍"},
        raw=raw,
    )


@pytest.mark.parametrize(
    "fixture", ["messages_reaction_removed", "messages_reaction_removed_empty"]
)
def test_removed_reaction_omitted_or_empty_emoji(fixture):
    change, raw = only_change(fixture)

    assert change.kind == "reaction"
    assert change.payload == {"emoji": "", "removed": True}
    assert change.target_wamid == raw["reaction"]["message_id"]
    assert change.event_id == raw["id"]


def test_edit_is_a_change_carrying_the_normalised_new_content():
    change, raw = only_change("messages_edit")

    assert change.kind == "edit"
    assert change.event_id == raw["id"]
    assert change.target_wamid == raw["edit"]["original_message_id"]
    assert change.target_wamid != change.event_id
    assert change.direction == "inbound"
    assert change.counterparty == SHEENA
    assert change.timestamp == T0 + timedelta(seconds=28)
    assert change.payload == {
        "message": {
            "type": "text",
            "text": "Hi, can you confirm the trade for Monday?",
            "structured": {},
            "media": None,
            "context": {},
        }
    }
    assert change.raw == raw


def test_edited_caption_keeps_the_media_and_context_of_the_new_message():
    change, raw = only_change("messages_edit_caption")
    image = raw["edit"]["message"]["image"]

    assert change.payload["message"] == {
        "type": "image",
        "text": "Signed term sheet (v2)",
        "structured": {},
        "media": {
            "id": image["id"],
            "mime_type": "image/jpeg",
            "sha256": image["sha256"],
            "filename": "",
            "voice": False,
            "animated": False,
        },
        "context": {"forwarded": True},
    }


def test_revoke_arriving_before_its_original_in_the_same_delivery():
    parsed, payload = load("messages_revoke")
    revoke_raw, original_raw = value_of(payload)["messages"]

    assert parsed.unrecognised == ()
    assert [m.wamid for m in parsed.messages] == [original_raw["id"]]
    assert parsed.messages[0].text == "Call me on my private number 0791234567"
    (change,) = parsed.changes
    assert change.kind == "revoke"
    assert change.event_id == revoke_raw["id"]
    assert change.target_wamid == original_raw["id"]
    assert change.payload == {}
    assert change.raw == revoke_raw


def test_revoke_of_a_message_never_seen_still_parses():
    change, raw = only_change("messages_revoke_unseen")

    assert change.kind == "revoke"
    assert change.target_wamid == raw["revoke"]["original_message_id"]
    assert change.direction == "inbound"
    assert change.counterparty == SHEENA
    assert change.timestamp == T0 + timedelta(seconds=32)


# -- identity --------------------------------------------------------------------------------


def test_username_user_with_empty_wa_id_is_keyed_on_the_bsuid():
    message, raw = only_message("messages_username_user")

    assert raw["from"] == ""
    assert message.counterparty == Counterparty(
        wa_id="", user_id=BSUID, name="Sheena", username="@realsheenanelson"
    )
    assert message.counterparty.key == BSUID


def test_sender_without_any_id_is_the_only_contact_of_the_change():
    contact = {"profile": {"name": "Sheena", "username": "@realsheenanelson"}, "user_id": BSUID}
    raw = {"from": "", "id": "wamid.U", "timestamp": "1781870400", "type": "text"}
    raw["text"] = {"body": "hello"}

    (message,) = parse_delivery(delivery({"contacts": [contact], "messages": [raw]})).messages

    assert message.counterparty == Counterparty(
        user_id=BSUID, name="Sheena", username="@realsheenanelson"
    )


def test_sender_without_any_id_among_several_contacts_stays_anonymous():
    contacts = [
        {"profile": {"name": "A"}, "wa_id": CLIENT},
        {"profile": {"name": "B"}, "wa_id": "16505559876"},
    ]
    raw = {"from": "", "id": "wamid.U", "timestamp": "1781870400", "type": "text"}

    (message,) = parse_delivery(delivery({"contacts": contacts, "messages": [raw]})).messages

    assert message.counterparty == Counterparty()
    assert message.flags == ("malformed",)  # a text message without its text object


def test_missing_or_bad_timestamp_falls_back_to_the_epoch_and_is_flagged():
    parsed, _ = load("messages_bad_timestamp")

    assert [(m.text, m.timestamp, m.flags) for m in parsed.messages] == [
        ("no timestamp", EPOCH, ("bad_timestamp",)),
        ("bad timestamp", EPOCH, ("bad_timestamp",)),
    ]


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        ("1781870400", T0),
        (1781870400, T0),
        (" 1781870400 ", T0),
        ("1781870400.5", T0 + timedelta(milliseconds=500)),
        ("-5", EPOCH),
        ("1e400", EPOCH),
        ("9" * 5000, EPOCH),
        (True, EPOCH),
        (None, EPOCH),
        ({"s": 1}, EPOCH),
        (10**30, EPOCH),
    ],
)
def test_timestamp_forms(timestamp, expected):
    raw = {"from": CLIENT, "id": "wamid.T", "timestamp": timestamp, "type": "text"}
    raw["text"] = {"body": "x"}

    (message,) = parse_delivery(delivery({"messages": [raw]})).messages

    assert message.timestamp == expected
    assert ("bad_timestamp" in message.flags) is (expected == EPOCH)


# -- smb_message_echoes: the employee's side -------------------------------------------------


def test_echo_text_is_outbound_to_the_client():
    parsed, payload = load("echoes_text")
    raw = value_of(payload)["message_echoes"][0]

    assert raw["from"] == DISPLAY
    assert parsed.messages == (
        Message(
            envelope=ECHO_ENVELOPE,
            wamid=raw["id"],
            direction="outbound",
            type="text",
            timestamp=T0 + timedelta(seconds=40),
            counterparty=Counterparty(wa_id=CLIENT),
            text="Confirmed, executed at 101.25.",
            raw=raw,
        ),
    )
    assert parsed.unrecognised == ()


def test_echo_media_is_outbound_with_its_media():
    parsed, payload = load("echoes_image")
    raw = value_of(payload)["message_echoes"][0]
    (message,) = parsed.messages

    assert message.direction == "outbound"
    assert message.counterparty == Counterparty(wa_id=CLIENT)
    assert message.text == "Trade confirmation"
    assert message.media == {
        "id": "1920384756120394",
        "mime_type": "image/jpeg",
        "sha256": raw["image"]["sha256"],
        "url": raw["image"]["url"],
        "filename": "",
        "voice": False,
        "animated": False,
    }


@pytest.mark.parametrize(
    ("fixture", "kind", "payload"),
    [
        (
            "echoes_edit",
            "edit",
            {
                "message": {
                    "type": "text",
                    "text": "Confirmed, executed at 101.52.",
                    "structured": {},
                    "media": None,
                    "context": {},
                }
            },
        ),
        ("echoes_revoke", "revoke", {}),
        ("echoes_reaction", "reaction", {"emoji": "✅"}),
    ],
)
def test_echo_edits_revokes_and_reactions_are_outbound_changes(fixture, kind, payload):
    change, raw = only_change(fixture, key="message_echoes")

    assert change.kind == kind
    assert change.direction == "outbound"
    assert change.envelope == ECHO_ENVELOPE
    assert change.counterparty == Counterparty(wa_id=CLIENT)
    assert change.event_id == raw["id"]
    assert change.target_wamid == raw[kind].get("original_message_id", raw[kind].get("message_id"))
    assert change.payload == payload


def test_echo_to_a_username_user_is_keyed_on_to_user_id():
    parsed, _ = load("echoes_username_user")
    (message,) = parsed.messages

    assert message.direction == "outbound"
    assert message.counterparty == Counterparty(
        wa_id="", user_id=BSUID, name="Sheena", username="@realsheenanelson"
    )


# -- history ---------------------------------------------------------------------------------


def test_history_threads_in_order_with_direction_from_the_sender():
    parsed, payload = load("history_phase0")
    threads = value_of(payload)["history"][0]["threads"]
    raws = [m for t in threads for m in t["messages"]]

    assert parsed.unrecognised == ()
    assert [m.raw for m in parsed.messages] == raws
    assert [(m.direction, m.counterparty.wa_id, m.type, m.text) for m in parsed.messages] == [
        ("inbound", CLIENT, "text", "Are markets open on Friday?"),
        ("outbound", CLIENT, "text", "Yes, normal hours."),
        ("inbound", CLIENT, "media_placeholder", ""),
        ("outbound", "447700900123", "text", "Your card has been dispatched."),
        ("inbound", "447700900123", "text", "Thanks!"),
    ]
    assert all(m.is_history and m.envelope == HISTORY_ENVELOPE for m in parsed.messages)
    assert [m.history for m in parsed.messages] == [
        {"phase": 0, "chunk_order": 1, "progress": 10, "status": status}
        for status in ("READ", "READ", "DELIVERED", "DELIVERED", "READ")
    ]
    # DEVICE_TIMESTAMP of each item, three days before onboarding.
    assert parsed.messages[0].timestamp == T0 - timedelta(days=3) + timedelta(seconds=50)
    assert parsed.messages[2].flags == ()  # a placeholder is documented, not unknown


def test_history_last_phase_with_the_bsuid_context_of_the_thread():
    parsed, _ = load("history_phase2_complete")

    party = Counterparty(wa_id=CLIENT, user_id=BSUID, username="@realsheenanelson")
    assert [(m.direction, m.counterparty, m.history) for m in parsed.messages] == [
        ("outbound", party, {"phase": 2, "chunk_order": 3, "progress": 100, "status": "SENT"}),
        ("inbound", party, {"phase": 2, "chunk_order": 3, "progress": 100, "status": "READ"}),
    ]
    assert parsed.messages[0].timestamp == T0 - timedelta(days=170)


def test_history_media_ids_arrive_as_history_messages():
    parsed, payload = load("history_media")
    raw = value_of(payload)["messages"][0]
    (message,) = parsed.messages

    assert message.is_history
    assert message.wamid == raw["id"]
    assert message.direction == "inbound"
    assert message.history == {
        "phase": None,
        "chunk_order": None,
        "progress": None,
        "status": "DELIVERED",
    }
    assert message.media is not None and message.media["id"] == "1736296143749261"
    assert message.text == "Receipt"


def test_declined_history_gives_the_error_and_an_account_event_of_the_number():
    parsed, payload = load("history_declined")
    chunk = value_of(payload)["history"][0]

    assert parsed.messages == ()
    assert parsed.unrecognised == ()
    assert parsed.errors == tuple(chunk["errors"])
    assert parsed.errors[0]["code"] == 2593109
    (event,) = parsed.account_events
    assert event.event == "history"
    assert event.envelope == HISTORY_ENVELOPE
    assert event.raw == chunk


# -- statuses --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "state", "offset"),
    [
        ("statuses_sent", "sent", 100),
        ("statuses_delivered", "delivered", 101),
        ("statuses_read", "read", 102),
        ("statuses_failed", "failed", 103),
        ("statuses_played", "played", 104),
    ],
)
def test_statuses_of_business_messages(fixture, state, offset):
    parsed, payload = load(fixture)
    raw = value_of(payload)["statuses"][0]

    assert parsed.messages == () and parsed.changes == () and parsed.unrecognised == ()
    (status,) = parsed.statuses
    assert status.envelope == ENVELOPE
    assert status.target_wamid == raw["id"]
    assert status.status == state
    assert status.timestamp == T0 + timedelta(seconds=offset)
    assert status.recipient_id == CLIENT
    assert status.raw == raw
    assert status.flags == ()


def test_failed_status_carries_its_errors():
    parsed, payload = load("statuses_failed")
    (status,) = parsed.statuses

    assert status.errors == tuple(value_of(payload)["statuses"][0]["errors"])
    assert status.errors[0]["code"] == 131047


def test_sent_status_keeps_conversation_and_pricing_raw():
    parsed, _ = load("statuses_sent")
    (status,) = parsed.statuses

    assert status.raw["conversation"]["origin"] == {"type": "service"}
    assert status.raw["pricing"]["pricing_model"] == "PMP"
    assert status.errors == ()


def test_read_status_keeps_the_recipient_bsuid():
    parsed, _ = load("statuses_read")

    assert parsed.statuses[0].recipient_user_id == BSUID


# -- calls -----------------------------------------------------------------------------------


def test_call_connect():
    parsed, payload = load("calls_connect")
    raw = value_of(payload)["calls"][0]
    (call,) = parsed.calls

    assert call.call_id == raw["id"] and call.call_id.startswith("wacid.")
    assert call.event == "connect"
    assert call.direction == "USER_INITIATED"
    assert call.counterparty == SHEENA
    assert call.timestamp == T0 + timedelta(seconds=200)
    assert (call.started_at, call.ended_at, call.duration_seconds, call.status) == (
        None,
        None,
        None,
        "",
    )
    assert call.envelope.field == "calls"
    assert call.raw == raw


def test_call_terminate_has_start_end_and_duration():
    parsed, _ = load("calls_terminate")
    (call,) = parsed.calls

    assert call.event == "terminate"
    assert call.status == "COMPLETED"
    assert call.started_at == T0 + timedelta(seconds=200)
    assert call.ended_at == T0 + timedelta(seconds=320)
    assert call.duration_seconds == 120
    assert call.counterparty == SHEENA


def test_call_status_is_a_call_event_not_a_message_status():
    parsed, _ = load("calls_status")

    assert parsed.statuses == ()
    (call,) = parsed.calls
    assert (call.event, call.status, call.counterparty) == (
        "status",
        "RINGING",
        Counterparty(wa_id=CLIENT),
    )


# -- account and other fields ----------------------------------------------------------------


def test_partner_removed_is_an_account_event_with_its_time():
    parsed, payload = load("account_update_partner_removed")
    (event,) = parsed.account_events

    assert event.event == "PARTNER_REMOVED"
    assert event.envelope == Envelope(waba_id=WABA_ID, field="account_update")
    assert event.timestamp == T0 + timedelta(seconds=500)
    assert event.raw == value_of(payload)
    assert event.raw["disconnection_info"]["reason"] == "PRIMARY_INACTIVITY"


def test_app_state_sync_of_contacts_is_kept_as_an_account_event():
    parsed, payload = load("smb_app_state_sync")
    (event,) = parsed.account_events

    assert event.event == "smb_app_state_sync"
    assert event.envelope.phone_number_id == PHONE_NUMBER_ID
    assert event.raw == value_of(payload)
    assert [s["action"] for s in event.raw["state_sync"]] == ["add", "remove"]
    assert parsed.messages == () and parsed.unrecognised == ()


def test_number_level_field_takes_the_number_from_the_value():
    parsed, _ = load("phone_number_quality_update")
    (event,) = parsed.account_events

    assert event.event == "FLAGGED"
    assert event.envelope.display_phone_number == DISPLAY
    assert event.timestamp == T0 + timedelta(seconds=700)


def test_unknown_field_is_kept_as_an_account_event_named_after_the_field():
    parsed, payload = load("unknown_field")
    (event,) = parsed.account_events

    assert event.event == "message_moderation_update"
    assert event.envelope.field == "message_moderation_update"
    assert event.raw == value_of(payload)
    assert parsed.unrecognised == ()


# -- several entries and changes -------------------------------------------------------------


def test_multi_entry_multi_change_delivery_keeps_every_item_with_its_envelope():
    parsed, _ = load("multi_entry")

    summary = [(m.envelope.waba_id, m.envelope.field, m.direction, m.text) for m in parsed.messages]
    assert summary == [
        (WABA_ID, "messages", "inbound", "first"),
        (WABA_ID, "messages", "inbound", "second"),
        ("209384756102938", "smb_message_echoes", "outbound", "third"),
    ]
    assert parsed.messages[2].envelope.display_phone_number == "15550783882"
    assert [(s.envelope.field, s.status) for s in parsed.statuses] == [("messages", "read")]
    assert parsed.phone_number_ids == frozenset({PHONE_NUMBER_ID, "117283947561234"})
    assert parsed.unrecognised == ()


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xff\xfe{}",
        b'{"object": "whatsapp_business_account", "entry": [\xc3\x28]}',
        (FIXTURES / "invalid_json.json").read_bytes(),
        (FIXTURES / "wrong_shape_array.json").read_bytes(),
        b"null",
        b"42",
        b'"whatsapp"',
        b'{"entry": [], "x": NaN}',
        b"[" * 100_000,
    ],
    ids=[
        "empty",
        "invalid-utf8",
        "invalid-utf8-inside",
        "invalid-json",
        "array",
        "null",
        "number",
        "string",
        "nan",
        "deep",
    ],
)
def test_not_a_json_object_is_unparseable(body):
    assert parse_delivery(body) == ParsedDelivery(unparseable=True)


@pytest.mark.parametrize("body", [None, 42, object(), ["entry"]])
def test_not_bytes_at_all_is_unparseable(body):
    assert parse_delivery(body).unparseable


def test_str_and_memoryview_bodies_parse_like_bytes():
    body = (FIXTURES / "messages_text.json").read_bytes()

    assert parse_delivery(body.decode()) == parse_delivery(body)
    assert parse_delivery(memoryview(body)) == parse_delivery(body)


def test_no_entry_is_unrecognised_with_the_whole_payload():
    parsed, payload = load("wrong_shape_no_entry")

    assert not parsed.unparseable
    assert parsed.object == "whatsapp_business_account"
    assert parsed.unrecognised == (Unrecognised("entry", "missing", payload),)


def test_entry_not_a_list_is_unrecognised():
    parsed, payload = load("wrong_shape_entry_not_list")

    assert parsed.unrecognised == (Unrecognised("entry", "not a list", payload),)


def test_wrong_shapes_keep_what_is_understood_and_locate_the_rest():
    parsed, payload = load("wrong_shape_mixed")
    entries = payload["entry"]
    changes = entries[0]["changes"]
    value = changes[2]["value"]

    assert [m.text for m in parsed.messages] == ["still archived"]
    assert parsed.messages[0].counterparty == SHEENA
    assert parsed.unrecognised == (
        Unrecognised("entry[0].changes[0]", "no field", changes[0]),
        Unrecognised("entry[0].changes[1].value", "not an object", changes[1]),
        Unrecognised("entry[0].changes[2].value.messages[1]", "message is not an object", "hello"),
        Unrecognised(
            "entry[0].changes[2].value.messages[2]", "message without an id", value["messages"][2]
        ),
        Unrecognised("entry[0].changes[2].value.statuses", "not a list", {"id": "x"}),
        Unrecognised("entry[0].changes[3]", "not an object", "a change that is a string"),
        Unrecognised("entry[1].changes", "missing", entries[1]),
        Unrecognised("entry[2]", "not an object", 42),
    )


def test_unknown_key_in_a_message_value_is_unrecognised_not_dropped():
    body = delivery({"messaging_product": "whatsapp", "polls": [{"id": "p1"}]})

    parsed = parse_delivery(body)

    assert parsed.unrecognised == (
        Unrecognised("entry[0].changes[0].value.polls", "unknown key", [{"id": "p1"}]),
    )


@pytest.mark.parametrize(
    ("message", "flags"),
    [
        ({"type": "text", "text": "not an object"}, ("malformed",)),
        ({"type": "image"}, ("malformed",)),
        ({"type": "contacts", "contacts": {"name": "x"}}, ("malformed",)),
        ({"type": "reaction", "reaction": {"emoji": "👍"}}, ("malformed",)),
        ({"type": "revoke", "revoke": {}}, ("malformed",)),
        ({"type": "edit"}, ("malformed",)),
        ({"type": 7}, ("unknown_type",)),
        ({}, ("unknown_type",)),
    ],
)
def test_a_message_with_an_id_but_a_broken_body_is_archived_flagged(message, flags):
    raw = {"from": CLIENT, "id": "wamid.B", "timestamp": "1781870400", **message}

    parsed = parse_delivery(delivery({"messages": [raw]}))

    (parsed_message,) = parsed.messages
    assert parsed_message.flags == flags
    assert parsed_message.wamid == "wamid.B"
    assert parsed_message.raw == raw
    assert parsed.changes == ()


def test_edit_without_new_content_is_a_malformed_change():
    raw = {"from": CLIENT, "id": "wamid.E", "timestamp": "1781870400", "type": "edit"}
    raw["edit"] = {"original_message_id": "wamid.O"}

    (change,) = parse_delivery(delivery({"messages": [raw]})).changes

    assert (change.kind, change.target_wamid, change.payload) == (
        "edit",
        "wamid.O",
        {"message": None},
    )
    assert change.flags == ("malformed",)


# -- performance -----------------------------------------------------------------------------


def test_a_3_mb_delivery_of_1000_messages_parses_well_under_100_ms():
    payload = json.loads((FIXTURES / "messages_text.json").read_bytes())
    value = value_of(payload)
    template = value["messages"][0]
    text = "Grüße " + "x" * 2900
    value["messages"] = [
        {
            **template,
            "id": f"wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQ{i:020d}",
            "text": {"body": text},
        }
        for i in range(1000)
    ]
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode()
    assert 2_900_000 < len(body) <= 3_145_728  # Meta's limit: 3 MB

    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        parsed = parse_delivery(body)
        best = min(best, time.perf_counter() - started)

    assert len(parsed.messages) == 1000
    assert best < 0.1, f"{best * 1000:.1f} ms"
