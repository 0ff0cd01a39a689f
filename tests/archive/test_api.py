"""``/api/v1/messages/`` and ``/api/v1/conversations/``: the archive as an auditor or officer
reads it, with each message's edits, deletions, reactions, statuses and attachments, filtered,
paged, refused to outsiders, and every read in the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from archive.models import Attachment, Message
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from tests.fixtures import login, make_person
from tests.ingestion import payloads
from tests.ingestion.delivering import PHONE_ID, now_seconds, send

SILVA = "5511912345678"
COSTA = "5521999990000"
SHA = "3f" * 32


def echo(*, wamid: str, timestamp: int, type: str, body: dict, to: str = SILVA) -> dict:
    return payloads.envelope(
        "smb_message_echoes",
        {"message_echoes": [{"from": payloads.DISPLAY_NUMBER, "to": to, "id": wamid,
                             "timestamp": str(timestamp), "type": type, type: body}]},
        phone_number_id=PHONE_ID,
    )  # fmt: skip


def iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat()


@pytest.fixture
def archive(client, tenant_a, connected_employee):
    """Ana's archive: two clients, text and an image both ways, an edit, a reaction, a status
    and a deletion (the employee revoked a message in the app)."""
    t = now_seconds()
    deliveries = [
        payloads.inbound_text(
            phone_number_id=PHONE_ID, wamid="wamid.IN1", text="Quero comprar ações", timestamp=t
        ),
        echo(wamid="wamid.OUT1", timestamp=t + 10, type="text", body={"body": "Claro"}),
        payloads.status(
            phone_number_id=PHONE_ID, target="wamid.OUT1", state="delivered", timestamp=t + 15
        ),
        echo(
            wamid="wamid.IMG1", timestamp=t + 20, type="image",
            body={"id": "media-1", "mime_type": "image/jpeg", "sha256": "meta-hash",
                  "caption": "contrato"},
        ),
        payloads.inbound_text(
            phone_number_id=PHONE_ID, wamid="wamid.IN2", text="Bom dia", timestamp=t + 30,
            wa_id=COSTA, name="Maria Costa",
        ),
        payloads.inbound_edit(
            phone_number_id=PHONE_ID, wamid="wamid.E1", original="wamid.IN1",
            text="Quero vender ações", timestamp=t + 40,
        ),
        payloads.inbound_reaction(
            phone_number_id=PHONE_ID, wamid="wamid.R1", target="wamid.IN1", emoji="👍",
            timestamp=t + 45,
        ),
        echo(
            wamid="wamid.DEL1", timestamp=t + 50, type="revoke",
            body={"original_message_id": "wamid.OUT1"},
        ),
    ]  # fmt: skip
    for payload in deliveries:
        send(client, tenant_a, payload)
    with tenant_scope(tenant_a):
        image = Message.objects.get(wamid="wamid.IMG1")
        Attachment.objects.update_or_create(
            tenant=tenant_a, message=image, media_id="media-1",
            defaults={"mime_type": "image/jpeg", "sha256": SHA, "size": 2048,
                      "status": Attachment.Status.STORED, "filename": ""},
        )  # fmt: skip
        ids = dict(Message.objects.values_list("wamid", "pk"))
    return {"t": t, "ids": ids, "employee": connected_employee}


@pytest.fixture
def officer_api(api_client_for, tenant_a) -> APIClient:
    return api_client_for(tenant_a, Role.OFFICER)


def reads(tenant) -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(action="archive.read").order_by("id"))


def wamids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["whatsapp_id"] for row in response.json()["results"]]


# --- what a message shows ----------------------------------------------------------------------


def test_messages_come_in_whatsapp_order_with_their_events_and_attachments(officer_api, archive):
    body = officer_api.get("/api/v1/messages/").json()
    rows = {row["whatsapp_id"]: row for row in body["results"]}
    assert list(rows) == ["wamid.IN1", "wamid.OUT1", "wamid.IMG1", "wamid.IN2"]

    first = rows["wamid.IN1"]
    assert (first["direction"], first["type"], first["text"]) == (
        "inbound",
        "text",
        "Quero comprar ações",
    ), "an edit never changes the original"
    assert first["timestamp"] == iso(archive["t"]).replace("+00:00", "Z")
    assert first["received_at"] and first["is_history"] is False and first["flags"] == []
    assert first["employee"] == archive["employee"].pk
    assert first["conversation"] == rows["wamid.OUT1"]["conversation"], "one thread per client"
    assert first["counterparty"]["wa_id"] == SILVA
    assert first["counterparty"]["name"] == "Cliente Silva"
    assert [e["kind"] for e in first["events"]] == ["edit", "reaction"]
    assert "Quero vender ações" in str(first["events"][0]["payload"])
    assert first["events"][1]["payload"]["emoji"] == "👍"

    sent = rows["wamid.OUT1"]
    assert sent["direction"] == "outbound" and sent["text"] == "Claro"
    assert [e["kind"] for e in sent["events"]] == ["status", "delete"]
    assert sent["events"][0]["payload"]["status"] == "delivered"

    image = rows["wamid.IMG1"]
    assert (image["type"], image["text"]) == ("image", "contrato")
    [attachment] = image["attachments"]
    assert attachment == {
        "id": attachment["id"],
        "mime_type": "image/jpeg",
        "filename": "",
        "sha256": SHA,
        "size": 2048,
        "status": "stored",
    }
    assert "file" not in attachment and "url" not in attachment


def test_one_message_by_id(officer_api, archive):
    pk = archive["ids"]["wamid.OUT1"]
    response = officer_api.get(f"/api/v1/messages/{pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["whatsapp_id"] == "wamid.OUT1"
    assert [e["kind"] for e in body["events"]] == ["status", "delete"]


# --- filters -----------------------------------------------------------------------------------


def test_messages_filter_by_employee_counterparty_direction_type_time_and_id(officer_api, archive):
    t = archive["t"]
    ana = archive["employee"].pk

    def listed(**params):
        return wamids(officer_api.get("/api/v1/messages/", params))

    assert len(listed(employee=ana)) == 4
    assert listed(employee=ana + 1000) == []
    assert listed(counterparty=COSTA) == ["wamid.IN2"]
    assert listed(counterparty="maria") == ["wamid.IN2"], "part of the name, any case"
    assert listed(counterparty=f"+{SILVA}") == ["wamid.IN1", "wamid.OUT1", "wamid.IMG1"]
    assert listed(direction="outbound") == ["wamid.OUT1", "wamid.IMG1"]
    assert listed(type="image") == ["wamid.IMG1"]
    assert listed(since=iso(t + 20)) == ["wamid.IMG1", "wamid.IN2"]
    assert listed(until=iso(t + 20)) == ["wamid.IN1", "wamid.OUT1"]
    assert listed(since=iso(t + 5), until=iso(t + 25), direction="outbound") == [
        "wamid.OUT1",
        "wamid.IMG1",
    ]
    assert listed(whatsapp_id="wamid.IN2") == ["wamid.IN2"]
    assert listed(conversation=archive_conversation(officer_api, "wamid.IN2")) == ["wamid.IN2"]


def archive_conversation(api, wamid: str) -> int:
    return api.get("/api/v1/messages/", {"whatsapp_id": wamid}).json()["results"][0]["conversation"]


@pytest.mark.parametrize(
    "params", [{"since": "yesterday"}, {"direction": "sideways"}, {"employee": "ana"}]
)
def test_a_bad_filter_is_a_clear_400(officer_api, archive, tenant_a, params):
    response = officer_api.get("/api/v1/messages/", params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and set(params) <= set(error["details"])
    assert reads(tenant_a) == [], "nothing was read"


def test_conversations_list_with_counts_and_filter_by_their_messages(officer_api, archive):
    body = officer_api.get("/api/v1/conversations/").json()
    assert body["count"] == 2
    by_client = {row["counterparty"]["wa_id"]: row for row in body["results"]}
    silva = by_client[SILVA]
    assert silva["message_count"] == 3 and silva["employee_name"] == "Ana Souza"
    assert silva["business_phone_number_id"] == PHONE_ID
    assert silva["last_message_at"] == iso(archive["t"] + 20).replace("+00:00", "Z")

    def clients(**params):
        rows = officer_api.get("/api/v1/conversations/", params).json()["results"]
        return sorted(row["counterparty"]["wa_id"] for row in rows)

    assert clients(counterparty="costa") == [COSTA]
    assert clients(direction="outbound") == [SILVA]
    assert clients(type="image", since=iso(archive["t"] + 21)) == [], "one message matches all"
    assert clients(since=iso(archive["t"] + 25)) == [COSTA]
    assert clients(whatsapp_id="wamid.IN1") == [SILVA]
    assert clients(employee=archive["employee"].pk) == [SILVA, COSTA]

    one = officer_api.get(f"/api/v1/conversations/{silva['id']}/")
    assert one.status_code == 200 and one.json()["counterparty"]["name"] == "Cliente Silva"


def test_messages_page_with_a_cursor(officer_api, archive, tenant_a):
    first = officer_api.get("/api/v1/messages/", {"page_size": 3}).json()
    assert [r["whatsapp_id"] for r in first["results"]] == ["wamid.IN1", "wamid.OUT1", "wamid.IMG1"]
    assert first["next"] and first["previous"] is None
    second = officer_api.get(first["next"]).json()
    assert [r["whatsapp_id"] for r in second["results"]] == ["wamid.IN2"]
    assert second["next"] is None
    assert [event.details["count"] for event in reads(tenant_a)] == [3, 1]
    assert "cursor" not in reads(tenant_a)[1].details["filters"]


# --- who may read ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.OFFICER, Role.AUDITOR, Role.ADMIN])
def test_officers_auditors_and_admins_read_the_archive(api_client_for, tenant_a, archive, role):
    api = api_client_for(tenant_a, role)
    assert len(wamids(api.get("/api/v1/messages/"))) == 4
    assert api.get("/api/v1/conversations/").status_code == 200


def test_a_browser_session_with_mfa_reads_too(client, archive, audrey):
    login(client, audrey)
    assert len(wamids(client.get("/api/v1/messages/"))) == 4


def test_without_a_role_or_credentials_nothing_is_read(client, tenant_a, archive):
    login(client, make_person("nobody@firm-a.example", tenant=None, role=None))
    for url in ("/api/v1/messages/", "/api/v1/conversations/"):
        response = client.get(url)
        assert response.status_code == 403 and response.json()["error"]["code"]
        anonymous = APIClient().get(url)
        assert anonymous.status_code in (401, 403)
        assert "Quero" not in anonymous.content.decode()
    assert reads(tenant_a) == []


def test_an_outsider_gets_404_for_every_message_and_conversation(
    api_client_for, tenant_a, tenant_b, archive
):
    outsider = api_client_for(tenant_b, Role.ADMIN)
    pk = archive["ids"]["wamid.IN1"]
    conversation = archive_conversation(api_client_for(tenant_a, Role.ADMIN), "wamid.IN1")
    for url in (f"/api/v1/messages/{pk}/", f"/api/v1/conversations/{conversation}/"):
        response = outsider.get(url)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert outsider.get("/api/v1/messages/").json()["results"] == []
    assert outsider.get("/api/v1/messages/", {"whatsapp_id": "wamid.IN1"}).json()["results"] == []
    assert outsider.get("/api/v1/conversations/").json()["results"] == []


def test_the_archive_is_read_only(officer_api, api_client_for, tenant_a, archive):
    def stored_messages() -> list[dict]:
        with tenant_scope(tenant_a):
            return list(Message.objects.order_by("id").values())

    before = stored_messages()
    admin = api_client_for(tenant_a, Role.ADMIN)
    pk = archive["ids"]["wamid.IN1"]
    for api in (officer_api, admin):
        assert api.post("/api/v1/messages/", {"text": "x"}).status_code == 405
        assert api.patch(f"/api/v1/messages/{pk}/", {"text": "x"}).status_code == 405
        assert api.delete(f"/api/v1/messages/{pk}/").status_code == 405
    assert stored_messages() == before


# --- the audit trail ---------------------------------------------------------------------------


def test_every_read_is_one_audit_event_naming_what_was_read(officer_api, archive, tenant_a):
    officer_api.get("/api/v1/messages/", {"direction": "outbound"})
    [event] = reads(tenant_a)
    assert event.actor_label.startswith("api-key:")
    assert event.details["endpoint"] == "/api/v1/messages/"
    assert event.details["filters"] == {"direction": "outbound"}
    assert event.details["count"] == 2
    assert event.details["message_ids"] == [
        archive["ids"]["wamid.OUT1"],
        archive["ids"]["wamid.IMG1"],
    ]

    pk = archive["ids"]["wamid.IN2"]
    officer_api.get(f"/api/v1/messages/{pk}/")
    officer_api.get("/api/v1/conversations/")
    events = reads(tenant_a)
    assert len(events) == 3
    assert events[1].details["message_ids"] == [pk]
    assert events[1].details["endpoint"] == f"/api/v1/messages/{pk}/"
    assert events[2].details["endpoint"] == "/api/v1/conversations/"
    assert events[2].details["count"] == 2 and len(events[2].details["conversation_ids"]) == 2


def test_a_person_reading_is_named_in_the_trail(client, archive, tenant_a, audrey):
    login(client, audrey)
    client.get("/api/v1/messages/", {"type": "image"})
    [event] = reads(tenant_a)
    assert event.actor_id == audrey.user.pk and event.details["count"] == 1


def test_a_page_of_messages_costs_the_same_queries_whatever_its_size(
    client, officer_api, archive, tenant_a, django_assert_max_num_queries
):
    officer_api.get("/api/v1/messages/")  # the key's last-used time is written once a minute
    with CaptureQueriesContext(connection) as small:
        officer_api.get("/api/v1/messages/", {"page_size": 1})
    baseline = [query["sql"] for query in small.captured_queries]
    t = archive["t"] + 100
    for n in range(6):
        send(
            client,
            tenant_a,
            payloads.inbound_text(
                phone_number_id=PHONE_ID, wamid=f"wamid.M{n}", text=f"m{n}", timestamp=t + n
            ),
        )
        send(
            client,
            tenant_a,
            payloads.inbound_reaction(
                phone_number_id=PHONE_ID, wamid=f"wamid.MR{n}", target=f"wamid.M{n}",
                emoji="🙂", timestamp=t + n,
            ),
        )  # fmt: skip
    with django_assert_max_num_queries(len(baseline)):
        body = officer_api.get("/api/v1/messages/", {"page_size": 50}).json()
    assert len(body["results"]) == 10
    assert all(row["events"] for row in body["results"][4:])
    # Key, tenant scope, the page, its attachments, its events, the audit event, and for an
    # officer the firm's pseudonymised-review setting (the wall, compliance_hub/tenancy/walls.py).
    assert len(baseline) <= 13, baseline


def test_the_schema_lists_the_archive_routes(officer_api):
    schema = officer_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    paths = schema.json()["paths"]
    for path in (
        "/api/v1/messages/",
        "/api/v1/messages/{id}/",
        "/api/v1/conversations/",
        "/api/v1/conversations/{id}/",
        "/api/v1/message-events/",
        "/api/v1/message-events/{id}/",
    ):
        assert path in paths, path
        assert set(paths[path]) == {"get"}


# --- events on their own: the ones whose message never came --------------------------------


def test_events_whose_message_was_never_seen_are_kept_and_listed(
    officer_api, archive, client, tenant_a
):
    """A deletion and an edit of messages the archive never received (sent before capture
    began): kept, and flagged by ``original_seen: false``, which /api/v1/messages/ cannot show."""
    t = archive["t"]
    send(
        client, tenant_a,
        echo(wamid="wamid.DEL2", timestamp=t + 60, type="revoke",
             body={"original_message_id": "wamid.BEFORE-CAPTURE"}),
    )  # fmt: skip
    send(
        client, tenant_a,
        payloads.inbound_edit(phone_number_id=PHONE_ID, wamid="wamid.E2",
                              original="wamid.ALSO-UNSEEN", text="novo", timestamp=t + 70),
    )  # fmt: skip

    every = officer_api.get("/api/v1/message-events/")
    assert every.status_code == 200, every.content
    rows = every.json()["results"]
    assert [(r["kind"], r["target_whatsapp_id"], r["original_seen"]) for r in rows] == [
        ("status", "wamid.OUT1", True),
        ("edit", "wamid.IN1", True),
        ("reaction", "wamid.IN1", True),
        ("delete", "wamid.OUT1", True),
        ("delete", "wamid.BEFORE-CAPTURE", False),
        ("edit", "wamid.ALSO-UNSEEN", False),
    ]
    assert rows[0]["message"] == archive["ids"]["wamid.OUT1"] and rows[4]["message"] is None

    unseen = officer_api.get("/api/v1/message-events/", {"original_seen": "false"}).json()
    assert [r["target_whatsapp_id"] for r in unseen["results"]] == [
        "wamid.BEFORE-CAPTURE",
        "wamid.ALSO-UNSEEN",
    ]
    deletions = officer_api.get("/api/v1/message-events/", {"kind": "delete"}).json()
    assert [r["target_whatsapp_id"] for r in deletions["results"]] == [
        "wamid.OUT1",
        "wamid.BEFORE-CAPTURE",
    ]
    one = officer_api.get(f"/api/v1/message-events/{rows[4]['id']}/")
    assert one.status_code == 200 and one.json()["original_seen"] is False

    # When the original does arrive after all, the same event is linked, nothing rewritten.
    send(
        client, tenant_a,
        payloads.inbound_text(phone_number_id=PHONE_ID, wamid="wamid.ALSO-UNSEEN",
                              text="velho", timestamp=t + 65),
    )  # fmt: skip
    unseen = officer_api.get("/api/v1/message-events/", {"original_seen": "false"}).json()
    assert [r["target_whatsapp_id"] for r in unseen["results"]] == ["wamid.BEFORE-CAPTURE"]

    logged = [event.details["endpoint"] for event in reads(tenant_a)]
    assert logged.count("/api/v1/message-events/") == 4
    assert f"/api/v1/message-events/{rows[4]['id']}/" in logged


def test_the_dashboard_counts_edits_and_deletions_of_messages_never_seen(
    client, archive, tenant_a, oscar
):
    """Counted once their message had an hour to arrive (Meta guarantees no order)."""
    from datetime import timedelta

    from django.utils import timezone

    from ingestion.models import Delivery
    from tests.ingestion.delivering import deliver, process

    def revoke(wamid: str, original: str, received_ago: timedelta) -> None:
        delivery = deliver(
            client, tenant_a,
            echo(wamid=wamid, timestamp=archive["t"] + 60, type="revoke",
                 body={"original_message_id": original}),
        )  # fmt: skip
        with tenant_scope(tenant_a):
            Delivery.objects.filter(pk=delivery.pk).update(
                received_at=timezone.now() - received_ago
            )
        process(tenant_a, delivery)

    revoke("wamid.DEL3", "wamid.NEVER", timedelta(hours=2))
    revoke("wamid.DEL4", "wamid.MAYBE-SOON", timedelta(minutes=5))
    login(client, oscar)
    page = client.get("/").content.decode()
    card = page[page.index("Edits and deletions of messages never seen") :]
    assert '<span class="stat-value">1</span>' in card[:200]


def test_an_outsider_sees_no_event(api_client_for, tenant_a, tenant_b, archive):
    admin_a = api_client_for(tenant_a, Role.ADMIN)
    event_id = admin_a.get("/api/v1/message-events/").json()["results"][0]["id"]
    outsider = api_client_for(tenant_b, Role.ADMIN)
    assert outsider.get(f"/api/v1/message-events/{event_id}/").status_code == 404
    assert outsider.get("/api/v1/message-events/").json()["results"] == []
    assert (
        outsider.get("/api/v1/message-events/", {"original_seen": "false"}).json()["results"] == []
    )
