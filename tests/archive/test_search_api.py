"""``/api/v1/messages/?q=...``: the archive searched through the API in the reviewers' query
language, with the search filters, exact counts, snippets and signed page links; every search one
``archive.search`` event; bad input a clear 400 that changes nothing; another firm finds nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from rest_framework.test import APIClient

from archive.models import Message
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from tests.fixtures import login
from tests.ingestion import payloads
from tests.ingestion.delivering import PHONE_ID, now_seconds, send

COSTA = "5521999990000"


def iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat()


@pytest.fixture
def archive(client, tenant_a, connected_employee):
    """Ana's clients write about shares, in Portuguese and English; one message is edited."""
    t = now_seconds()
    texts = [
        ("wamid.S1", "Quero comprar ações da Vale", COSTA),
        ("wamid.S2", "Can you buy the shares before Friday?", None),
        ("wamid.S3", "Bom dia, tudo bem?", None),
        ("wamid.S4", "I will sell <b>200</b> shares at market", COSTA),
        ("wamid.S5", "buy now, the shares are cheap", None),
    ]
    for n, (wamid, text, wa_id) in enumerate(texts):
        extra = {"wa_id": wa_id, "name": "Maria Costa"} if wa_id else {}
        send(
            client,
            tenant_a,
            payloads.inbound_text(
                phone_number_id=PHONE_ID, wamid=wamid, text=text, timestamp=t + 10 * n, **extra
            ),
        )
    send(
        client,
        tenant_a,
        payloads.inbound_edit(
            phone_number_id=PHONE_ID, wamid="wamid.E1", original="wamid.S3",
            text="Bom dia, vou vender as ações", timestamp=t + 60,
        ),
    )  # fmt: skip
    with tenant_scope(tenant_a):
        ids = dict(Message.objects.values_list("wamid", "pk"))
    return {"t": t, "ids": ids, "employee": connected_employee}


@pytest.fixture
def auditor_api(api_client_for, tenant_a) -> APIClient:
    return api_client_for(tenant_a, Role.AUDITOR)


def searches(tenant) -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(action="archive.search").order_by("id"))


def archive_events(tenant) -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(action__startswith="archive.").order_by("id"))


def found(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["whatsapp_id"] for row in response.json()["results"]]


# --- answers -----------------------------------------------------------------------------------


def test_a_search_answers_newest_first_with_an_exact_count_and_escaped_snippets(
    auditor_api, archive
):
    response = auditor_api.get("/api/v1/messages/", {"q": "shares AND (buy OR sell)"})
    assert found(response) == ["wamid.S5", "wamid.S4", "wamid.S2"]
    body = response.json()
    assert body["count"] == 3 and body["next"] is None
    rows = {row["whatsapp_id"]: row for row in body["results"]}
    assert rows["wamid.S4"]["snippet"] == (
        "I will <mark>sell</mark> &lt;b&gt;200&lt;/b&gt; <mark>shares</mark> at market"
    ), "the text escaped, the hits marked"
    # The list's own fields are all still there.
    assert rows["wamid.S4"]["text"] == "I will sell <b>200</b> shares at market"
    assert rows["wamid.S4"]["counterparty"]["wa_id"] == COSTA
    assert rows["wamid.S4"]["events"] == [] and rows["wamid.S4"]["attachments"] == []


def test_proximity_accents_and_edits_are_found(auditor_api, archive):
    assert found(auditor_api.get("/api/v1/messages/", {"q": "buy w/3 shares"})) == [
        "wamid.S5",
        "wamid.S2",
    ]
    # "acoes" finds "ações", in the original and in an edit (the edited message is listed once).
    hits = auditor_api.get("/api/v1/messages/", {"q": "acoes"}).json()["results"]
    assert [h["whatsapp_id"] for h in hits] == ["wamid.S3", "wamid.S1"]
    assert "<mark>ações</mark>" in hits[0]["snippet"] and hits[0]["text"] == "Bom dia, tudo bem?"
    assert [e["kind"] for e in hits[0]["events"]] == ["edit"]


def test_search_filters_narrow_the_answer(auditor_api, archive):
    t = archive["t"]

    def search(**params):
        return found(auditor_api.get("/api/v1/messages/", {"q": "shares", **params}))

    assert search(counterparty="costa") == ["wamid.S4"]
    assert search(counterparty=COSTA) == ["wamid.S4"]
    assert search(since=iso(t + 15), until=iso(t + 35)) == ["wamid.S4"]
    assert search(direction="outbound") == []
    assert search(employee=archive["employee"].pk) == ["wamid.S5", "wamid.S4", "wamid.S2"]
    assert search(has_attachment="true") == []
    assert found(auditor_api.get("/api/v1/messages/", {"edited": "true"})) == ["wamid.S3"], (
        "a search filter without q: every message it allows"
    )
    by_rank = auditor_api.get("/api/v1/messages/", {"q": "buy OR shares", "order": "relevance"})
    assert found(by_rank)[0] == "wamid.S5", "both words rank first"
    assert all(isinstance(row["rank"], float) for row in by_rank.json()["results"])


def test_without_a_search_the_list_is_unchanged(auditor_api, archive, tenant_a):
    body = auditor_api.get("/api/v1/messages/", {"q": ""}).json()
    assert [r["whatsapp_id"] for r in body["results"]][:2] == ["wamid.S1", "wamid.S2"]
    assert "count" not in body and "snippet" not in body["results"][0]
    assert searches(tenant_a) == []
    assert [e.action for e in archive_events(tenant_a)] == ["archive.read"]


def test_search_pages_follow_signed_links(auditor_api, archive, tenant_a):
    first = auditor_api.get("/api/v1/messages/", {"q": "shares OR acoes", "page_size": 2})
    assert found(first) == ["wamid.S5", "wamid.S4"] and first.json()["count"] == 5
    second = auditor_api.get(first.json()["next"])
    assert found(second) == ["wamid.S3", "wamid.S2"] and second.json()["count"] == 5
    third = auditor_api.get(second.json()["next"])
    assert found(third) == ["wamid.S1"] and third.json()["next"] is None
    assert [e.details["message_ids"] for e in searches(tenant_a)] == [
        [archive["ids"][w] for w in page] for page in (["wamid.S5", "wamid.S4"],
                                                       ["wamid.S3", "wamid.S2"], ["wamid.S1"])
    ]  # fmt: skip


# --- the audit trail ---------------------------------------------------------------------------


def test_every_search_is_one_event_with_query_filters_count_and_user(
    client, archive, tenant_a, audrey
):
    login(client, audrey)
    response = client.get(
        "/api/v1/messages/", {"q": "shares", "direction": "inbound", "edited": "false"}
    )
    assert response.status_code == 200
    [event] = searches(tenant_a)
    assert event.actor_id == audrey.user.pk
    assert event.details["query"] == "shares"
    assert event.details["filters"] == {"direction": "inbound", "edited": False, "order": "newest"}
    assert event.details["count"] == 3
    assert event.details["message_ids"] == [
        archive["ids"]["wamid.S5"],
        archive["ids"]["wamid.S4"],
        archive["ids"]["wamid.S2"],
    ]
    assert "shares" in event.target_label and "3 messages" in event.target_label
    assert [e.action for e in archive_events(tenant_a)] == ["archive.search"]


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "words", "position"),
    [
        ({"q": '"buy shares'}, "quote", 1),
        ({"q": "(buy OR sell"}, "parenthes", 1),
        ({"q": "the AND of"}, "common", None),
        ({"q": "x" * 10_000}, "2,000", None),
        ({"q": "buy w/0 shares"}, "1 to 100", 5),
    ],
)
def test_a_malformed_query_is_a_400_pointing_at_the_problem(
    auditor_api, archive, tenant_a, params, words, position
):
    response = auditor_api.get("/api/v1/messages/", params)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_query"
    assert words in error["message"].lower() or words in error["message"], error["message"]
    assert isinstance(error["details"]["position"], int)
    if position is not None:
        assert error["details"]["position"] == position, error
    assert archive_events(tenant_a) == [], "nothing read, nothing recorded"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "shares", "since": "2026-02-01T00:00:00"}, "since"),
        ({"q": "shares", "until": "2026-02-01"}, "until"),
        ({"q": "shares", "direction": "sideways"}, "direction"),
        ({"q": "shares", "order": "oldest"}, "order"),
        ({"q": "shares", "edited": "perhaps"}, "edited"),
        ({"q": "shares", "team": "sales"}, "team"),
        ({"q": "shares", "whatsapp_id": "wamid.S1"}, "whatsapp_id"),
        ({"q": "shares", "page_size": "300"}, "page_size"),
    ],
)
def test_a_bad_filter_of_a_search_is_a_400_naming_it(auditor_api, archive, tenant_a, params, field):
    response = auditor_api.get("/api/v1/messages/", params)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["details"], error
    assert archive_events(tenant_a) == []


def test_a_reversed_date_range_is_a_400(auditor_api, archive, tenant_a):
    t = archive["t"]
    response = auditor_api.get(
        "/api/v1/messages/", {"q": "shares", "since": iso(t + 60), "until": iso(t)}
    )
    assert response.status_code == 400
    assert "after its start" in response.json()["error"]["message"]
    assert archive_events(tenant_a) == []


def test_a_page_link_of_another_search_or_forged_is_a_400(auditor_api, archive, tenant_a):
    first = auditor_api.get("/api/v1/messages/", {"q": "shares", "page_size": 1}).json()
    [cursor] = parse_qs(urlsplit(first["next"]).query)["cursor"]
    other = auditor_api.get("/api/v1/messages/", {"q": "acoes", "page_size": 1, "cursor": cursor})
    assert other.status_code == 400
    assert "another search" in other.json()["error"]["message"]
    filtered = auditor_api.get(
        "/api/v1/messages/",
        {"q": "shares", "page_size": 1, "cursor": cursor, "direction": "inbound"},
    )
    assert filtered.status_code == 400, "the filters belong to the search too"
    for forged in (cursor[:-2] + "xx", "WzEsMl0", "é"):
        response = auditor_api.get("/api/v1/messages/", {"q": "shares", "cursor": forged})
        assert response.status_code == 400, forged
        assert "not valid" in response.json()["error"]["message"]
    assert len(searches(tenant_a)) == 1, "only the good search was recorded"


# --- who may search ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.OFFICER, Role.AUDITOR, Role.ADMIN])
def test_officers_auditors_and_admins_search(api_client_for, tenant_a, archive, role):
    api = api_client_for(tenant_a, role)
    assert found(api.get("/api/v1/messages/", {"q": "shares"})) == [
        "wamid.S5",
        "wamid.S4",
        "wamid.S2",
    ]


def test_another_firms_admin_finds_nothing(api_client_for, tenant_a, tenant_b, archive):
    outsider = api_client_for(tenant_b, Role.ADMIN)
    for params in ({"q": "shares"}, {"q": "acoes"}, {"edited": "true"}, {"q": "from:maria"}):
        response = outsider.get("/api/v1/messages/", params)
        assert response.status_code == 200
        assert response.json()["count"] == 0 and response.json()["results"] == []
    # A page link of firm A's search leads nowhere in firm B.
    first = api_client_for(tenant_a, Role.ADMIN).get(
        "/api/v1/messages/", {"q": "shares", "page_size": 1}
    )
    leaked = outsider.get(first.json()["next"])
    assert leaked.status_code == 200 and leaked.json()["results"] == []


def test_the_schema_documents_the_search(auditor_api):
    schema = auditor_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    operation = schema.json()["paths"]["/api/v1/messages/"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"q", "team", "has_attachment", "edited", "deleted", "order", "cursor"} <= names
    assert "position" in operation["responses"]["400"]["description"]
