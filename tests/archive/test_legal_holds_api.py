"""``/api/v1/legal-holds/``: an officer places a hold and reads what it covers and how many
messages it holds; auditors read but cannot place or release; a release needs a reason and
happens once; another firm's holds are 404; the messages search filters by a hold."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from archive.holds.models import LegalHold
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from tests.ingestion import payloads
from tests.ingestion.delivering import PHONE_ID, now_seconds, send

URL = "/api/v1/legal-holds/"


@pytest.fixture
def captured(client, tenant_a, connected_employee):
    """Three messages from two clients to Ana, captured through the webhook."""
    t = now_seconds()
    for n, (wa_id, text) in enumerate(
        [("5511911110000", "buy the shares"), ("5511922220000", "hello"),
         ("5511911110000", "sell the shares")]
    ):  # fmt: skip
        send(
            client, tenant_a,
            payloads.inbound_text(phone_number_id=PHONE_ID, wamid=f"wamid.H{n}", text=text,
                                  timestamp=t + n, wa_id=wa_id),
        )  # fmt: skip
    return connected_employee


def holds(tenant) -> list[LegalHold]:
    with tenant_scope(tenant):
        return list(LegalHold.objects.order_by("id"))


def trail(tenant) -> list[str]:
    with tenant_scope(tenant):
        return list(
            AuditEvent.objects.filter(action__startswith="archive.legal_hold")
            .order_by("id")
            .values_list("action", flat=True)
        )


def test_an_officer_places_a_hold_reads_it_and_releases_it_with_a_reason(
    api_client_for, tenant_a, captured
):
    officer = api_client_for(tenant_a, Role.OFFICER)
    created = officer.post(
        URL,
        {"matter": "SEC 2026-14", "reason": "Subpoena", "counterparty": "+5511911110000"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["matter"], body["status"], body["message_count"]) == ("SEC 2026-14", "active", 2)
    assert body["covers"] == ["With the client “+55 11 91111-0000”"]
    assert body["scope"]["counterparty"] == "+5511911110000"

    listed = officer.get(URL).json()["results"]
    assert [h["id"] for h in listed] == [body["id"]]

    search = officer.get("/api/v1/messages/", {"legal_hold": body["id"]})
    assert search.status_code == 200, search.content
    assert sorted(r["whatsapp_id"] for r in search.json()["results"]) == ["wamid.H0", "wamid.H2"]
    assert search.json()["count"] == 2

    no_reason = officer.post(f"{URL}{body['id']}/release/", {"reason": ""}, format="json")
    assert no_reason.status_code == 400
    assert holds(tenant_a)[0].is_active, "refused: still active"
    released = officer.post(f"{URL}{body['id']}/release/", {"reason": "Settled"}, format="json")
    assert released.status_code == 200, released.content
    assert (released.json()["status"], released.json()["release_reason"]) == (
        "released", "Settled"
    )  # fmt: skip
    again = officer.post(f"{URL}{body['id']}/release/", {"reason": "Again"}, format="json")
    assert again.status_code == 409
    assert "released already" in again.json()["error"]["message"]
    assert trail(tenant_a) == ["archive.legal_hold_placed", "archive.legal_hold_released"]


@pytest.mark.parametrize(
    ("role", "writes"), [(Role.ADMIN, True), (Role.OFFICER, True), (Role.AUDITOR, False)]
)
def test_officers_and_admins_place_and_release_auditors_only_read(
    api_client_for, tenant_a, captured, role, writes
):
    officer = api_client_for(tenant_a, Role.OFFICER)
    existing = officer.post(
        URL, {"matter": "M", "reason": "R", "employees": [captured.pk]}, format="json"
    ).json()
    api = api_client_for(tenant_a, role)
    assert api.get(URL).status_code == 200
    read = api.get(f"{URL}{existing['id']}/")
    assert read.status_code == 200 and read.json()["message_count"] == 3
    placed = api.post(URL, {"matter": "N", "reason": "R", "employees": [captured.pk]},
                      format="json")  # fmt: skip
    released = api.post(f"{URL}{existing['id']}/release/", {"reason": "Done"}, format="json")
    corrected = api.patch(f"{URL}{existing['id']}/", {"matter": "M2"}, format="json")
    if writes:
        assert (placed.status_code, released.status_code, corrected.status_code) == (
            201, 200, 200
        )  # fmt: skip
    else:
        assert (placed.status_code, released.status_code, corrected.status_code) == (
            403, 403, 403
        )  # fmt: skip
        assert len(holds(tenant_a)) == 1 and holds(tenant_a)[0].is_active
        assert holds(tenant_a)[0].matter == "M"


def test_another_firms_hold_is_404_and_its_ids_are_missing_here(
    api_client_for, tenant_a, tenant_b, captured
):
    a = api_client_for(tenant_a, Role.ADMIN)
    b = api_client_for(tenant_b, Role.ADMIN)
    hold = a.post(URL, {"matter": "M", "reason": "R", "employees": [captured.pk]},
                  format="json").json()  # fmt: skip
    assert b.get(f"{URL}{hold['id']}/").status_code == 404
    assert b.post(f"{URL}{hold['id']}/release/", {"reason": "x"}, format="json").status_code == 404
    assert b.patch(f"{URL}{hold['id']}/", {"matter": "x"}, format="json").status_code == 404
    assert b.get(URL).json()["results"] == []
    foreign = b.post(URL, {"matter": "M", "reason": "R", "employees": [captured.pk]},
                     format="json")  # fmt: skip
    assert foreign.status_code == 400
    assert foreign.json()["error"]["details"]["employees"] == [
        f"There is no employee {captured.pk} in this firm."
    ]
    search = b.get("/api/v1/messages/", {"legal_hold": hold["id"]})
    assert search.status_code == 400
    assert "no such legal hold" in search.json()["error"]["message"]
    assert holds(tenant_b) == []
    assert holds(tenant_a)[0].matter == "M"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "non_field_errors", "A hold must name at least one employee, conversation"),
        ({"since": "2026-03-05T00:00:00Z", "until": "2026-03-01T00:00:00Z"}, "until",
         "end of the date range must come after its start"),
        ({"since": "2026-03-05T00:00:00"}, "since", "UTC offset"),
        ({"conversations": [99999]}, "conversations", "no conversation 99999"),
        ({"saved_search": 99999}, "saved_search", "no such saved search"),
        ({"employees": ["x"]}, "employees", "valid integer"),
    ],
)  # fmt: skip
def test_bad_input_is_a_400_that_keeps_nothing(
    api_client_for, tenant_a, captured, data, field, message
):
    api = api_client_for(tenant_a, Role.OFFICER)
    answer = api.post(URL, {"matter": "M", "reason": "R", **data}, format="json")
    assert answer.status_code == 400, answer.content
    details = answer.json()["error"]["details"][field]
    assert message in str(details)
    assert holds(tenant_a) == [] and trail(tenant_a) == []


def test_a_saved_search_hold_answers_with_the_pinned_version(api_client_for, tenant_a, captured):
    api = api_client_for(tenant_a, Role.OFFICER)
    saved = api.post(
        "/api/v1/saved-searches/", {"name": "Shares", "query": "shares"}, format="json"
    ).json()
    hold = api.post(URL, {"matter": "M", "reason": "R", "saved_search": saved["id"]},
                    format="json")  # fmt: skip
    assert hold.status_code == 201, hold.content
    body = hold.json()
    assert body["scope"]["saved_search"] == {
        "id": saved["id"], "version": 1, "name": "Shares", "query": "shares", "filters": {}
    }  # fmt: skip
    assert body["message_count"] == 2
    api.patch(f"/api/v1/saved-searches/{saved['id']}/", {"query": "hello"}, format="json")
    assert api.get(f"{URL}{body['id']}/").json()["message_count"] == 2, "still version 1"


def test_the_list_costs_the_same_queries_for_one_hold_or_many(api_client_for, tenant_a, captured):
    api = api_client_for(tenant_a, Role.OFFICER)

    def place(n: int) -> None:
        answer = api.post(URL, {"matter": f"M{n}", "reason": "R", "employees": [captured.pk],
                                "counterparty": "5511"}, format="json")  # fmt: skip
        assert answer.status_code == 201

    place(0)
    with CaptureQueriesContext(connection) as one:
        assert len(api.get(URL).json()["results"]) == 1
    for n in range(1, 4):
        place(n)
    with CaptureQueriesContext(connection) as four:
        assert len(api.get(URL).json()["results"]) == 4
    assert len(four) == len(one), "no query per hold"
