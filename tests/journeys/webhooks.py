"""What Meta would send for the journeys' employee, signed with the firm's app secret and
POSTed over HTTP to the live server's real webhook endpoint (the same path Meta's requests take:
gunicorn aside, nothing in between is skipped)."""

from __future__ import annotations

import time
import urllib.request
from dataclasses import dataclass
from typing import Any

from ingestion.whatsapp.signature import sign
from tests.ingestion import payloads
from tests.ingestion.fake_graph import FakeGraph

APP_SECRET = "journeys-app-secret-0123456789abcdef"
ACCESS_TOKEN = "EAAJourneysAccessTokenOfTheFirm0123456789"
PHONE_ID = "310000000001"  # the WhatsApp phone number id of the journeys' employee
CLIENT = "5511912345678"

CPF_TEXT = "Bom dia Ana, segue meu CPF 529.982.247-25 para abrir a conta."
CPF = "529.982.247-25"
OFF_CHANNEL_TEXT = "Melhor falarmos pelo Telegram, me chama lá: https://t.me/cliente_silva"
THANKS_TEXT = "Obrigado pela reunião de ontem, foi muito útil"
THANKS_EDITED = "Obrigado pela reunião de hoje, foi muito útil"
DELETED_TEXT = "Mando o contrato assinado amanhã cedo"
VOICE = b"OggS\x00\x02" + b"a voice note of the client, opus frames " * 64


@dataclass(frozen=True)
class Sent:
    """The wamids of the conversation the journeys post."""

    cpf: str = "wamid.J.CPF"
    off_channel: str = "wamid.J.TELEGRAM"
    voice: str = "wamid.J.VOICE"
    reaction: str = "wamid.J.REACTION"
    thanks: str = "wamid.J.THANKS"
    edit: str = "wamid.J.EDIT"
    to_delete: str = "wamid.J.CONTRACT"
    revoke: str = "wamid.J.REVOKE"


SENT = Sent()


def post(base_url: str, slug: str, payload: dict[str, Any]) -> int:
    """POST one signed delivery to the firm's webhook; returns the HTTP status."""
    raw = payloads.body(payload)
    request = urllib.request.Request(
        f"{base_url}/webhooks/whatsapp/{slug}/",
        data=raw,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(raw, APP_SECRET)},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status


def _voice_note(graph: FakeGraph, *, wamid: str, timestamp: int) -> dict[str, Any]:
    """A voice note as Meta's newer payloads carry it (with the media's download URL)."""
    sha256 = graph.add("7001", VOICE, mime_type="audio/ogg; codecs=opus")
    audio = {
        "mime_type": "audio/ogg; codecs=opus", "sha256": sha256, "id": "7001", "voice": True,
        "url": graph.url_for("7001"),
    }  # fmt: skip
    return payloads.envelope(
        "messages",
        {
            "contacts": [payloads.contact(CLIENT, "Cliente Silva")],
            "messages": [{"from": CLIENT, "id": wamid, "timestamp": str(timestamp),
                          "type": "audio", "audio": audio}],
        },
        phone_number_id=PHONE_ID,
    )  # fmt: skip


def _revoke_by_employee(*, wamid: str, target: str, timestamp: int) -> dict[str, Any]:
    """The employee deletes one of their messages for everyone, in the Business app."""
    return payloads.envelope(
        "smb_message_echoes",
        {"message_echoes": [{"from": payloads.DISPLAY_NUMBER, "to": CLIENT, "id": wamid,
                             "timestamp": str(timestamp), "type": "revoke",
                             "revoke": {"original_message_id": target}}]},
        phone_number_id=PHONE_ID,
    )  # fmt: skip


def conversation(graph: FakeGraph, *, start: int) -> list[dict[str, Any]]:
    """The conversation of journeys 2 and 3, in the order Meta delivers it: a text with a CPF,
    an off-channel request, a voice note, a reaction, an edit and a deletion (WhatsApp's whole
    seconds from ``start``, which must be after the employee's consent)."""
    s, t = SENT, start
    return [
        payloads.inbound_text(phone_number_id=PHONE_ID, wamid=s.cpf, text=CPF_TEXT, timestamp=t),
        payloads.echo_text(
            phone_number_id=PHONE_ID, wamid=s.off_channel, text=OFF_CHANNEL_TEXT, timestamp=t + 1
        ),
        _voice_note(graph, wamid=s.voice, timestamp=t + 2),
        payloads.inbound_reaction(
            phone_number_id=PHONE_ID, wamid=s.reaction, target=s.off_channel, emoji="👍",
            timestamp=t + 3,
        ),
        payloads.inbound_text(
            phone_number_id=PHONE_ID, wamid=s.thanks, text=THANKS_TEXT, timestamp=t + 4
        ),
        payloads.inbound_edit(
            phone_number_id=PHONE_ID, wamid=s.edit, original=s.thanks, text=THANKS_EDITED,
            timestamp=t + 5,
        ),
        payloads.echo_text(
            phone_number_id=PHONE_ID, wamid=s.to_delete, text=DELETED_TEXT, timestamp=t + 6
        ),
        _revoke_by_employee(wamid=s.revoke, target=s.to_delete, timestamp=t + 7),
    ]  # fmt: skip


def now_seconds() -> int:
    """WhatsApp's whole seconds, strictly after anything recorded a moment ago."""
    return int(time.time()) + 1
