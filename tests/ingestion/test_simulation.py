"""The demo's simulated WhatsApp traffic: every webhook it makes is one our parser reads whole,
it covers every kind of event the issue names, it is the same for the same seed, and through
the real endpoint and a real worker it is archived with its media fetched from the simulator."""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from archive.models import Attachment, Message, MessageEvent
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from ingestion.services import save_whatsapp_settings
from ingestion.simulation.media_files import pdf, png
from ingestion.simulation.script import MIX, Employee, Simulation
from ingestion.whatsapp.parser import parse_delivery
from tests.polling import wait_until
from tests.webhook_firms import connected_firm, employee_on

AT = 1_800_000_000
PEOPLE = [
    Employee("105550000001", "5511987654321", "BR"),
    Employee("105550000003", "919876543210", "IN"),
    Employee("105550000005", "34612345678", "ES", weight=0.05),
]


def events(count: int, seed: int = 11, media: bool = True):
    simulation = Simulation(
        PEOPLE, seed=seed, media_base_url="http://127.0.0.1:9" if media else None
    )
    return [simulation.next(AT + n) for n in range(count)]


def test_every_webhook_parses_whole_and_every_kind_appears():
    made = events(3000)
    kinds = Counter()
    for event in made:
        parsed = parse_delivery(json.dumps(event.payload).encode())
        assert not parsed.unparseable and parsed.unrecognised == (), event.payload
        kinds.update(m.type for m in parsed.messages)
        kinds.update(c.kind for c in parsed.changes)
        kinds.update(s.status for s in parsed.statuses)
    for kind in ("text", "image", "audio", "document", "location", "contacts", "edit", "revoke",
                 "reaction", "delivered", "read"):  # fmt: skip
        assert kinds[kind] > 0, kind
    assert len(MIX) == 11  # a new kind of event needs a line above


def test_both_directions_several_languages_replies_and_a_small_share_of_risky_lines():
    made = events(3000)
    parsed = [parse_delivery(json.dumps(e.payload).encode()) for e in made]
    texts = [m for p in parsed for m in p.messages if m.type == "text"]
    directions = Counter(m.direction for m in texts)
    assert set(directions) == {"inbound", "outbound"}
    assert any(m.context for m in texts)  # quoted replies
    risky = [e for e in made if e.risky]
    assert 0.01 < len(risky) / len(made) < 0.1
    assert {"guarantee", "off_channel", "personal data"} <= {e.risky for e in risky}
    joined = " ".join(m.text for m in texts)
    assert "ç" in joined or "ã" in joined  # Portuguese
    assert "¿" in joined  # Spanish


def test_every_client_number_is_a_valid_mobile_number():
    """Clients' numbers (senders, recipients, shared contact cards) are real-shaped numbers of a
    country speaking the conversation's language, so pages format them as people write them."""
    import phonenumbers

    numbers = set()
    for event in events(3000, media=False):
        for value in event.payload["entry"][0]["changes"][0]["value"].get("contacts", []):
            numbers.add(value["wa_id"])
        for m in event.payload["entry"][0]["changes"][0]["value"].get("messages", []):
            numbers.update(m.get(side, "") for side in ("from", "to"))
            for card in m.get("contacts", []):
                numbers.update(p["phone"] for p in card.get("phones", []))
    numbers.discard("")
    assert len(numbers) >= 4
    for number in numbers:
        parsed_number = phonenumbers.parse(number if number.startswith("+") else f"+{number}")
        assert phonenumbers.is_valid_number(parsed_number), number
        assert phonenumbers.number_type(parsed_number) in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        ), number


def test_the_same_seed_gives_the_same_traffic_and_another_seed_does_not():
    first = [e.payload for e in events(200, seed=5)]
    assert first == [e.payload for e in events(200, seed=5)]
    assert first != [e.payload for e in events(200, seed=6)]


def test_the_employees_who_have_not_consented_write_rarely():
    numbers = Counter()
    for event in events(2000):
        numbers[
            event.payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"]
        ] += 1
    assert numbers["105550000005"] < numbers["105550000001"] / 5


def test_media_carry_their_true_sha256_and_no_media_without_a_server():
    with_media = [e for e in events(1000) if e.media is not None]
    assert with_media
    for event in with_media:
        body = event.payload["entry"][0]["changes"][0]["value"]["messages"][0]
        media = body[body["type"]]
        assert base64.b64decode(media["sha256"]) == hashlib.sha256(event.media.data).digest()
        assert media["url"].endswith(f"/media/{event.media_id}")
    assert all(e.media is None for e in events(1000, media=False))


def test_the_made_up_files_are_what_they_say():
    picture = png(4, 3, (1, 2, 3))
    assert picture.startswith(b"\x89PNG\r\n\x1a\n") and b"IEND" in picture
    document = pdf("Statement (Q3) \\ 2026 ação")
    assert document.startswith(b"%PDF-1.4") and document.rstrip().endswith(b"%%EOF")
    assert b"Statement \\(Q3\\) \\\\ 2026 a??o" in document


def test_the_command_refuses_what_it_cannot_do(db):
    with pytest.raises(CommandError, match="no tenant"):
        call_command("simulate", "nobody-here", "--count", "1", stdout=StringIO())
    connected_firm("firm-sim-empty", "sim-app-secret-1234")
    with pytest.raises(CommandError, match="No active employee"):
        call_command("simulate", "firm-sim-empty", "--count", "1", stdout=StringIO())
    with pytest.raises(CommandError, match="--rate"):
        call_command("simulate", "firm-sim-empty", "--rate", "²", stdout=StringIO())
    with pytest.raises(CommandError, match="--url"):
        call_command("simulate", "firm-sim-empty", "--url", "file:///etc/passwd", stdout=StringIO())


@pytest.mark.django_db(transaction=True)
def test_the_command_sends_through_the_real_endpoint_and_the_worker_fetches_its_media(
    live_server, worker
):
    firm = connected_firm("firm-sim", "sim-app-secret-1234")
    employee_on(firm, phone_number_id="777000777", phone_number="+55 11 98765-0303", name="Sim")
    save_whatsapp_settings(tenant=firm, actor=Actor.system(), access_token="sim-access-token-1")
    out = StringIO()
    call_command(
        "simulate", firm.slug, "--count", "60", "--rate", "40", "--seed", "3",
        "--url", live_server.url, "--linger", "30", stdout=out,
    )  # fmt: skip
    assert "sent 60, acknowledged 60, refused 0, unreachable 0" in out.getvalue()

    def fetched():
        with tenant_scope(firm):
            return Attachment.objects.filter(status="stored").exists()

    # The command served its files for 30 s after the last webhook; the worker fetched them
    # from it the way it fetches from Meta (the webhook's url, the SHA-256 checked).
    wait_until(fetched, failure="the worker fetched no simulated media in time", timeout=90)
    with tenant_scope(firm):
        assert Message.objects.count() > 20
        assert MessageEvent.objects.exists()
        stored = list(Attachment.objects.filter(status="stored"))
        mismatched = Attachment.objects.filter(last_error__contains="mismatch").count()
    assert all(a.size > 0 for a in stored) and mismatched == 0
