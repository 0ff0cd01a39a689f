"""The archive in the browser: the list of conversations and one conversation read as in
WhatsApp, every message type, edits and deletions kept for the reviewer, refused to outsiders,
every read in the audit trail, user text shown as text."""

from __future__ import annotations

import re

import pytest

from archive.ledger.services import checkpoint_log, inclusion_proof
from archive.models import Attachment, Conversation, Message
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from tests.fixtures import login, make_person
from tests.ingestion import payloads
from tests.ingestion.delivering import PHONE_ID, now_seconds, send

SILVA = "5511912345678"
COSTA = "5521999990000"
XSS = "<script>alert('x')</script>"


def inbound(*, wamid: str, timestamp: int, type: str, body, context=None, wa_id=SILVA) -> dict:
    message = {"from": wa_id, "id": wamid, "timestamp": str(timestamp), "type": type}
    if body is not None:
        message[type] = body
    if context:
        message["context"] = context
    return payloads.envelope(
        "messages",
        {"contacts": [payloads.contact(wa_id, "Cliente Silva")], "messages": [message]},
        phone_number_id=PHONE_ID,
    )


def echo(*, wamid: str, timestamp: int, type: str, body: dict) -> dict:
    return payloads.envelope(
        "smb_message_echoes",
        {"message_echoes": [{"from": payloads.DISPLAY_NUMBER, "to": SILVA, "id": wamid,
                             "timestamp": str(timestamp), "type": type, type: body}]},
        phone_number_id=PHONE_ID,
    )  # fmt: skip


@pytest.fixture
def thread(client, tenant_a, connected_employee):
    """One conversation between Ana and Cliente Silva holding every kind of message, an edit,
    a deletion for everyone, a reaction, a reply and a script in a text; one more conversation
    with another client."""
    t = now_seconds()
    deliveries = [
        payloads.inbound_text(
            phone_number_id=PHONE_ID, wamid="wamid.IN1", text="Quero comprar ações", timestamp=t
        ),
        echo(wamid="wamid.OUT1", timestamp=t + 10, type="text", body={"body": "Vou apagar isto"}),
        echo(wamid="wamid.IMG1", timestamp=t + 20, type="image",
             body={"id": "media-1", "mime_type": "image/jpeg", "sha256": "h",
                   "caption": "contrato"}),
        inbound(wamid="wamid.VID1", timestamp=t + 21, type="video",
                body={"id": "media-2", "mime_type": "video/mp4", "sha256": "h"}),
        inbound(wamid="wamid.AUD1", timestamp=t + 22, type="audio",
                body={"id": "media-3", "mime_type": "audio/ogg", "sha256": "h", "voice": True}),
        inbound(wamid="wamid.DOC1", timestamp=t + 23, type="document",
                body={"id": "media-4", "mime_type": "application/pdf", "sha256": "h",
                      "filename": "extrato.pdf"}),
        inbound(wamid="wamid.STK1", timestamp=t + 24, type="sticker",
                body={"id": "media-5", "mime_type": "image/webp", "sha256": "h"}),
        inbound(wamid="wamid.LOC1", timestamp=t + 25, type="location",
                body={"latitude": -23.55, "longitude": -46.63, "name": "Agência Paulista",
                      "address": "Av. Paulista 1000"}),
        inbound(wamid="wamid.CON1", timestamp=t + 26, type="contacts",
                body=[{"name": {"formatted_name": "João Souza"},
                       "phones": [{"phone": "+55 11 98888-7777"}]}]),
        inbound(wamid="wamid.INT1", timestamp=t + 27, type="interactive",
                body={"type": "button_reply",
                      "button_reply": {"id": "yes-1", "title": "Sim, aceito"}}),
        inbound(wamid="wamid.SYS1", timestamp=t + 28, type="system",
                body={"body": "Cliente Silva changed their number", "type": "user_changed_number"}),
        inbound(wamid="wamid.UNK1", timestamp=t + 29, type="hologram", body={"x": 1}),
        inbound(wamid="wamid.XSS1", timestamp=t + 30, type="text", body={"body": XSS}),
        inbound(wamid="wamid.REP1", timestamp=t + 31, type="text", body={"body": "Respondendo"},
                context={"from": payloads.DISPLAY_NUMBER, "id": "wamid.IN1"}),
        payloads.inbound_edit(
            phone_number_id=PHONE_ID, wamid="wamid.E1", original="wamid.IN1",
            text="Quero vender ações", timestamp=t + 40,
        ),
        payloads.inbound_reaction(
            phone_number_id=PHONE_ID, wamid="wamid.R1", target="wamid.OUT1", emoji="👍",
            timestamp=t + 45,
        ),
        echo(wamid="wamid.DEL1", timestamp=t + 50, type="revoke",
             body={"original_message_id": "wamid.OUT1"}),
        payloads.inbound_text(
            phone_number_id=PHONE_ID, wamid="wamid.COSTA1", text="Bom dia", timestamp=t + 60,
            wa_id=COSTA, name="Maria Costa",
        ),
    ]  # fmt: skip
    for payload in deliveries:
        send(client, tenant_a, payload)
    with tenant_scope(tenant_a):
        document = Message.objects.get(wamid="wamid.DOC1")
        Attachment.objects.filter(message=document).update(
            status=Attachment.Status.STORED, size=48213, sha256="ab" * 32
        )
        ids = dict(Message.objects.values_list("wamid", "pk"))
        silva = Conversation.objects.get(counterparty_wa_id=SILVA)
    return {"ids": ids, "conversation": silva}


def reads(tenant) -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(action="archive.read").order_by("id"))


def bubble(html: str, message_id: int) -> str:
    """The HTML of one message's bubble (from its anchor to the next one)."""
    start = html.rindex('<li class="chat-row', 0, html.index(f'id="m-{message_id}"'))
    following = html.find('<li class="chat-row', start + 1)
    return html[start : following if following != -1 else len(html)]


def page_of(client, person, url: str) -> str:
    login(client, person)
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- the conversation ------------------------------------------------------------------------


def test_every_message_type_renders_in_its_bubble(client, oscar, thread):
    html = page_of(client, oscar, f"/archive/conversations/{thread['conversation'].pk}/")
    ids = thread["ids"]
    expected = {
        "wamid.IMG1": ["Photo", "contrato", "image/jpeg"],
        "wamid.VID1": ["Video", "video/mp4"],
        "wamid.AUD1": ["Audio", "audio/ogg"],
        "wamid.DOC1": ["Document", "extrato.pdf", "application/pdf", "47.1\xa0KB"],
        "wamid.STK1": ["Sticker", "image/webp"],
        "wamid.LOC1": ["Location", "Agência Paulista", "Av. Paulista 1000", "-23.55, -46.63"],
        "wamid.CON1": ["Contact card", "João Souza", "+55 11 98888-7777"],
        "wamid.INT1": ["Reply to a menu or button", "Sim, aceito"],
        "wamid.SYS1": ["System message", "changed their number", "user changed number"],
        "wamid.UNK1": ["a kind this archive does not know (hologram)"],
    }
    for wamid, texts in expected.items():
        shown = bubble(html, ids[wamid])
        for text in texts:
            assert text in shown, (wamid, text)
    assert 'class="chat-row system"' in bubble(html, ids["wamid.SYS1"])
    assert 'class="chat-row in"' in bubble(html, ids["wamid.IN1"])
    assert 'class="chat-row out"' in bubble(html, ids["wamid.IMG1"])
    assert "Maria Costa" not in html, "another client's conversation stays on its own page"


def test_an_edit_shows_the_current_text_and_every_version_with_times(client, oscar, thread):
    html = page_of(client, oscar, f"/archive/conversations/{thread['conversation'].pk}/")
    shown = bubble(html, thread["ids"]["wamid.IN1"])
    assert re.search(r'<p class="text">Quero vender ações</p>', shown)
    assert "· edited" in shown
    versions = re.search(r"<details class=\"versions\">(.*?)</details>", shown, re.S).group(1)
    assert versions.index("Quero comprar ações") < versions.index("Quero vender ações")
    assert "Sent" in versions and "Edit 1" in versions
    assert len(re.findall(r"<time datetime=", versions)) == 2


def test_a_message_deleted_for_everyone_is_marked_and_its_original_kept(client, oscar, thread):
    html = page_of(client, oscar, f"/archive/conversations/{thread['conversation'].pk}/")
    shown = bubble(html, thread["ids"]["wamid.OUT1"])
    assert "bubble deleted" in shown
    assert "Deleted for everyone" in shown
    assert "Vou apagar isto" in shown, "the reviewer still reads the original"
    assert "👍 Cliente Silva" in shown, "the reaction sits under its message"


def test_a_reply_quotes_the_message_and_links_to_it(client, oscar, thread):
    html = page_of(client, oscar, f"/archive/conversations/{thread['conversation'].pk}/")
    shown = bubble(html, thread["ids"]["wamid.REP1"])
    assert f'href="#m-{thread["ids"]["wamid.IN1"]}"' in shown
    assert "Quero comprar ações" in shown


@pytest.fixture
def signed(tenant_a, thread, anchor_dir):
    """The log holds every message of ``thread`` and a checkpoint signs it."""
    checkpoint = checkpoint_log(tenant=tenant_a, force=True)
    assert checkpoint is not None
    return checkpoint


def test_each_message_has_an_anchor_a_utc_title_and_its_log_index(client, oscar, thread, signed):
    html = page_of(client, oscar, f"/archive/conversations/{thread['conversation'].pk}/")
    shown = bubble(html, thread["ids"]["wamid.IN1"])
    assert re.search(r'title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"', shown)
    assert re.search(r"log #\d+", shown)
    assert f'href="/archive/messages/{thread["ids"]["wamid.IN1"]}/proof/"' in shown


def test_a_script_in_a_message_is_shown_as_text(client, oscar, thread):
    html = page_of(client, oscar, f"/archive/conversations/{thread['conversation'].pk}/")
    assert XSS not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in bubble(
        html, thread["ids"]["wamid.XSS1"]
    )


def test_reading_a_conversation_is_in_the_audit_trail(client, oscar, tenant_a, thread):
    url = f"/archive/conversations/{thread['conversation'].pk}/"
    page_of(client, oscar, url)
    [event] = reads(tenant_a)
    assert event.actor_label and oscar.email in event.actor_label
    assert event.details["endpoint"] == url
    with tenant_scope(tenant_a):
        shown = set(
            Message.objects.filter(conversation=thread["conversation"]).values_list("pk", flat=True)
        )
    assert set(event.details["message_ids"]) == shown
    assert event.details["count"] == len(shown)
    assert event.target_label == f"{len(shown)} messages on a conversation page"


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OFFICER, Role.AUDITOR])
def test_every_role_that_reads_the_archive_api_reads_the_pages(client, tenant_a, thread, role):
    person = make_person(f"{role}-reader@firm-a.example", tenant=tenant_a, role=role)
    page_of(client, person, "/archive/")
    page_of(client, person, f"/archive/conversations/{thread['conversation'].pk}/")


def test_someone_signed_out_is_sent_to_log_in_and_nothing_is_read(client, tenant_a, thread):
    response = client.get(f"/archive/conversations/{thread['conversation'].pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert reads(tenant_a) == []


def test_another_firms_officer_gets_404_and_nothing_is_read(client, tenant_a, tenant_b, thread):
    outsider = make_person("officer@firm-b.example", tenant=tenant_b, role=Role.OFFICER)
    login(client, outsider)
    conversation = thread["conversation"]
    assert client.get(f"/archive/conversations/{conversation.pk}/").status_code == 404
    message_id = thread["ids"]["wamid.IN1"]
    assert client.get(f"/archive/messages/{message_id}/proof/").status_code == 404
    listing = client.get("/archive/").content.decode()
    assert "Cliente Silva" not in listing
    assert reads(tenant_a) == []


# --- the list ---------------------------------------------------------------------------------


def test_the_archive_lists_conversations_most_recent_first_and_is_audited(
    client, audrey, tenant_a, thread
):
    html = page_of(client, audrey, "/archive/")
    assert html.index("Maria Costa") < html.index("Cliente Silva"), "newest activity first"
    assert "+55 11 91234-5678" in html and "Ana" in html
    assert re.search(r">\s*14\s*</td>", html), "Silva's conversation holds 14 messages"
    assert 'href="/archive/"' in html and 'aria-current="page">Archive' in html
    [event] = reads(tenant_a)
    assert (
        event.details["count"] == 2 and event.target_label == "2 conversations on the archive page"
    )


def test_the_archive_filters_by_employee_and_date(client, audrey, tenant_a, thread):
    login(client, audrey)
    employee = thread["conversation"].employee_id
    html = client.get(f"/archive/?employee={employee}&since=2000-01-01&until=2000-01-31").content
    assert b"No conversations match these filters" in html
    html = client.get(f"/archive/?employee={employee}").content.decode()
    assert "Cliente Silva" in html and "Maria Costa" in html
    bad = client.get("/archive/?since=2026-02-01&until=2026-01-01")
    assert bad.status_code == 200
    assert b"The end date is before the start date." in bad.content


def test_the_proof_page_explains_when_no_checkpoint_covers_the_message(client, oscar, thread):
    html = page_of(client, oscar, f"/archive/messages/{thread['ids']['wamid.IN1']}/proof/")
    assert "not covered by a signed checkpoint yet" in html


def test_prove_it_shows_the_inclusion_proof_against_the_latest_checkpoint(
    client, audrey, tenant_a, thread, signed
):
    message_id = thread["ids"]["wamid.IN1"]
    proof = inclusion_proof(
        tenant=tenant_a, record_table="archive.message", record_id=message_id
    ).as_dict()
    html = page_of(client, audrey, f"/archive/messages/{message_id}/proof/")
    assert "the proof holds" in html
    assert proof["leaf_hash"] in html and proof["root"] in html
    assert all(node in html for node in proof["path"]) and proof["path"]
    assert f"{signed.size} records, checkpoint {signed.pk}" in html


def test_numbers_are_shown_in_international_format(client, oscar, thread):
    html = page_of(client, oscar, f"/archive/conversations/{thread['conversation'].pk}/")
    assert 'Client\'s number <span class="mono">+55 11 91234-5678</span>' in html
    assert 'Employee\'s number <span class="mono">+55 11 98765-4321</span>' in html
    listing = page_of(client, oscar, "/archive/")
    assert "+55 11 91234-5678" in listing and "+5511912345678" not in listing
