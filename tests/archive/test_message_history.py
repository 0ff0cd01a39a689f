"""A record's re-creation: ``/api/v1/messages/{id}/versions/`` and the message's history page
give its original as captured, every later edit, deletion and reaction in order with its log
index, and the audit trail of who read or found it; refused to people without a role, 404 to
another tenant, user text shown as text."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from archive.ledger.services import checkpoint_log
from archive.models import Message
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from tests.fixtures import login, make_person
from tests.ingestion import payloads
from tests.ingestion.delivering import PHONE_ID, now_seconds, send

XSS = "<script>alert('x')</script>"
SILVA = "5511912345678"


def revoke(*, wamid: str, original: str, timestamp: int) -> dict:
    return payloads.envelope(
        "messages",
        {"contacts": [payloads.contact(SILVA, "Cliente Silva")],
         "messages": [{"from": SILVA, "id": wamid, "timestamp": str(timestamp), "type": "revoke",
                       "revoke": {"original_message_id": original}}]},
        phone_number_id=PHONE_ID,
    )  # fmt: skip


@pytest.fixture
def edited(client, tenant_a, connected_employee, anchor_dir):
    """A message edited twice (the second edit carries a script), reacted to, then deleted for
    everyone, all in the log under a signed checkpoint; and one message never changed."""
    t = now_seconds()
    deliveries = [
        payloads.inbound_text(
            phone_number_id=PHONE_ID, wamid="wamid.IN1", text="Quero comprar ações", timestamp=t
        ),
        payloads.inbound_text(
            phone_number_id=PHONE_ID, wamid="wamid.IN2", text="Obrigado", timestamp=t + 5
        ),
        payloads.inbound_edit(
            phone_number_id=PHONE_ID, wamid="wamid.E1", original="wamid.IN1",
            text="Quero vender ações", timestamp=t + 10,
        ),
        payloads.inbound_edit(
            phone_number_id=PHONE_ID, wamid="wamid.E2", original="wamid.IN1", text=XSS,
            timestamp=t + 20,
        ),
        payloads.inbound_reaction(
            phone_number_id=PHONE_ID, wamid="wamid.R1", target="wamid.IN1", emoji="👍",
            timestamp=t + 25,
        ),
        revoke(wamid="wamid.D1", original="wamid.IN1", timestamp=t + 30),
    ]  # fmt: skip
    for payload in deliveries:
        send(client, tenant_a, payload)
    assert checkpoint_log(tenant=tenant_a, force=True) is not None
    with tenant_scope(tenant_a):
        return {
            "message": Message.objects.get(wamid="wamid.IN1"),
            "plain": Message.objects.get(wamid="wamid.IN2"),
        }


def versions_of(api, message_id: int) -> dict:
    response = api.get(f"/api/v1/messages/{message_id}/versions/")
    assert response.status_code == 200, response.content
    return response.json()


def test_two_edits_a_reaction_and_a_deletion_come_after_the_original_in_order(
    api_client_for, tenant_a, edited
):
    message = edited["message"]
    body = versions_of(api_client_for(tenant_a, Role.AUDITOR), message.pk)
    original = body["original"]
    assert original["kind"] == "original" and original["number"] == 0
    assert original["text"] == "Quero comprar ações" and original["type"] == "text"
    canonical = json.dumps(message.raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert original["raw_sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert [(v["kind"], v["text"], v["emoji"]) for v in body["versions"]] == [
        ("edit", "Quero vender ações", ""),
        ("edit", XSS, ""),
        ("reaction", "", "👍"),
        ("delete", "", ""),
    ]
    assert [v["number"] for v in body["versions"]] == [1, 2, 3, 4]
    times = [original["timestamp"]] + [v["timestamp"] for v in body["versions"]]
    assert times == sorted(times) and len(set(times)) == 5
    indexes = [original["log_index"]] + [v["log_index"] for v in body["versions"]]
    assert all(isinstance(i, int) for i in indexes) and len(set(indexes)) == 5
    assert all(re.fullmatch(r"[0-9a-f]{64}", v["leaf_hash"]) for v in body["versions"])
    assert body["message"] == message.pk and body["whatsapp_id"] == "wamid.IN1"


def test_a_message_never_changed_has_only_its_original(api_client_for, tenant_a, edited):
    body = versions_of(api_client_for(tenant_a, Role.OFFICER), edited["plain"].pk)
    assert body["original"]["text"] == "Obrigado" and body["versions"] == []


def test_the_audit_trail_lists_earlier_reads_and_searches_and_not_other_messages(
    api_client_for, client, tenant_a, edited, oscar
):
    message = edited["message"]
    api = api_client_for(tenant_a, Role.AUDITOR)
    assert api.get(f"/api/v1/messages/{message.pk}/").status_code == 200
    assert api.get("/api/v1/messages/", {"q": "comprar"}).status_code == 200
    login(client, oscar)
    assert client.get(f"/archive/conversations/{message.conversation_id}/").status_code == 200
    api.get(f"/api/v1/messages/{edited['plain'].pk}/")  # another message: not in its trail

    trail = versions_of(api, message.pk)["audit_trail"]
    assert [e["action"] for e in trail] == ["archive.read", "archive.search", "archive.read"]
    assert trail[0]["endpoint"] == f"/api/v1/messages/{message.pk}/"
    assert trail[2]["actor"] == "oscar@firm-a.example"
    assert trail[2]["endpoint"] == f"/archive/conversations/{message.conversation_id}/"
    # The versions read itself is audited, and shows in the next one's trail.
    again = versions_of(api, message.pk)["audit_trail"]
    assert again[-1]["endpoint"] == f"/api/v1/messages/{message.pk}/versions/"
    assert len(again) == 4


def test_a_read_of_its_edits_alone_is_in_its_trail(api_client_for, tenant_a, edited):
    api = api_client_for(tenant_a, Role.AUDITOR)
    listed = api.get("/api/v1/message-events/", {"whatsapp_id": "wamid.IN1"})
    assert len(listed.json()["results"]) == 4
    trail = versions_of(api, edited["message"].pk)["audit_trail"]
    assert [e["endpoint"] for e in trail] == ["/api/v1/message-events/"]
    assert versions_of(api, edited["plain"].pk)["audit_trail"] == []


def test_the_read_is_audited_like_other_archive_reads(api_client_for, tenant_a, edited):
    message = edited["message"]
    versions_of(api_client_for(tenant_a, Role.ADMIN), message.pk)
    with tenant_scope(tenant_a):
        event = AuditEvent.objects.filter(action="archive.read").latest("id")
    assert event.details["message_ids"] == [message.pk]
    assert event.details["endpoint"] == f"/api/v1/messages/{message.pk}/versions/"


@pytest.mark.parametrize("role", [Role.OFFICER, Role.AUDITOR, Role.ADMIN])
def test_officers_auditors_and_admins_read_it(api_client_for, tenant_a, edited, role):
    assert versions_of(api_client_for(tenant_a, role), edited["message"].pk)["versions"]


def test_without_a_role_or_credentials_it_is_refused(client, tenant_a, edited):
    url = f"/api/v1/messages/{edited['message'].pk}/versions/"
    assert APIClient().get(url).status_code in (401, 403)
    login(client, make_person("nobody@firm-a.example", tenant=None, role=None))
    response = client.get(url)
    assert response.status_code == 403 and "Quero" not in response.content.decode()
    page = client.get(f"/archive/messages/{edited['message'].pk}/history/")
    assert page.status_code in (302, 403) and "Quero" not in page.content.decode()
    with tenant_scope(tenant_a):
        assert not AuditEvent.objects.filter(action="archive.read").exists()


def test_another_tenant_gets_404_from_the_api_and_the_page(
    api_client_for, client, tenant_a, tenant_b, edited
):
    pk = edited["message"].pk
    response = api_client_for(tenant_b, Role.ADMIN).get(f"/api/v1/messages/{pk}/versions/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    login(client, make_person("bob2@firm-b.example", tenant=tenant_b, role=Role.AUDITOR))
    page = client.get(f"/archive/messages/{pk}/history/")
    assert page.status_code == 404 and "Quero" not in page.content.decode()
    missing = api_client_for(tenant_a, Role.ADMIN).get("/api/v1/messages/999999999/versions/")
    assert missing.status_code == 404


def test_the_page_shows_the_same_in_the_users_words(client, tenant_a, edited, audrey, oscar):
    message = edited["message"]
    login(client, oscar)
    client.get(f"/archive/conversations/{message.conversation_id}/")
    login(client, audrey)
    response = client.get(f"/archive/messages/{message.pk}/history/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "As captured" in html and "Quero comprar ações" in html
    changes = html[html.index("Later changes") : html.index("Who has read")]
    assert changes.index("Quero vender ações") < changes.index("&lt;script&gt;")
    assert changes.index("&lt;script&gt;") < changes.index("Reaction 👍")
    assert changes.index("Reaction 👍") < changes.index("Deleted for everyone")
    assert len(re.findall(r"Position in the log: \d+", changes)) == 4
    assert XSS not in html, "a version's text is shown as text, never run"
    trail = html[html.index("Who has read") :]
    assert "oscar@firm-a.example" in trail and "Archive read" in trail
    assert "archive.read" not in trail and "/api/" not in trail, "no codes or paths"
    with tenant_scope(tenant_a):
        last = AuditEvent.objects.filter(action="archive.read").latest("id")
    assert last.details["message_ids"] == [message.pk]
    assert last.details["endpoint"] == f"/archive/messages/{message.pk}/history/"


def test_each_bubble_links_to_its_history(client, edited, oscar):
    message = edited["message"]
    login(client, oscar)
    html = client.get(f"/archive/conversations/{message.conversation_id}/").content.decode()
    assert f'href="/archive/messages/{message.pk}/history/"' in html
    assert f'href="/archive/messages/{edited["plain"].pk}/history/"' in html


def test_the_queries_do_not_grow_with_versions_or_reads(api_client_for, tenant_a, edited):
    api = api_client_for(tenant_a, Role.AUDITOR)
    for _ in range(3):
        api.get(f"/api/v1/messages/{edited['message'].pk}/")

    def queries(message_id: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            versions_of(api, message_id)
        return len(captured)

    assert queries(edited["message"].pk) == queries(edited["plain"].pk)
