"""``/api/v1/saved-searches/``: a reviewer keeps a search under a name, changes it (each change a
new version, the earlier ones kept), runs it through its ``run`` link, deletes it; every change
audited; bad input a 400 that keeps nothing; another firm sees none of it."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from rest_framework.test import APIClient

from archive.search.models import SavedSearch, SavedSearchVersion
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from tests.ingestion import payloads
from tests.ingestion.delivering import PHONE_ID, now_seconds, send

URL = "/api/v1/saved-searches/"


@pytest.fixture
def auditor_api(api_client_for, tenant_a) -> APIClient:
    return api_client_for(tenant_a, Role.AUDITOR)


def trail(tenant, prefix: str = "saved_search.") -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(action__startswith=prefix).order_by("id"))


def stored(tenant) -> tuple[int, int]:
    with tenant_scope(tenant):
        return SavedSearch.objects.count(), SavedSearchVersion.objects.count()


def test_save_change_and_run_a_search_keeping_every_version(
    auditor_api, client, tenant_a, connected_employee
):
    t = now_seconds()
    for n, text in enumerate(["buy the shares now", "Bom dia", "sell the shares"]):
        send(
            client, tenant_a,
            payloads.inbound_text(phone_number_id=PHONE_ID, wamid=f"wamid.V{n}", text=text,
                                  timestamp=t + n),
        )  # fmt: skip

    created = auditor_api.post(
        URL,
        {"name": "Share talk", "query": "buy w/3 shares", "filters": {"direction": "inbound"}},
        format="json",
    )
    assert created.status_code == 201, created.content
    saved = created.json()
    assert (saved["name"], saved["version"], saved["owner"][:8]) == ("Share talk", 1, "api-key:")
    assert [v["query"] for v in saved["versions"]] == ["buy w/3 shares"]

    ran = auditor_api.get(saved["run"])
    assert ran.status_code == 200
    assert [r["whatsapp_id"] for r in ran.json()["results"]] == ["wamid.V0"]

    changed = auditor_api.patch(
        f"{URL}{saved['id']}/", {"query": "shares", "name": "Shares"}, format="json"
    )
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert (body["name"], body["query"], body["version"]) == ("Shares", "shares", 2)
    assert [(v["number"], v["name"], v["query"]) for v in body["versions"]] == [
        (1, "Share talk", "buy w/3 shares"),
        (2, "Shares", "shares"),
    ], "the earlier version is kept"
    assert body["filters"] == {"direction": "inbound"}
    ran = auditor_api.get(body["run"]).json()
    assert [r["whatsapp_id"] for r in ran["results"]] == ["wamid.V2", "wamid.V0"]

    same = auditor_api.patch(f"{URL}{saved['id']}/", {"name": "Shares"}, format="json")
    assert same.json()["version"] == 2, "nothing changed, no new version"

    assert auditor_api.delete(f"{URL}{saved['id']}/").status_code == 204
    assert auditor_api.get(f"{URL}{saved['id']}/").status_code == 404
    assert auditor_api.get(URL).json()["results"] == []
    assert stored(tenant_a) == (1, 2), "a deleted search keeps its versions"

    events = trail(tenant_a)
    assert [e.action for e in events] == [
        "saved_search.created",
        "saved_search.updated",
        "saved_search.deleted",
    ]
    assert events[1].details["before"]["query"] == "buy w/3 shares"
    assert events[1].details["after"]["query"] == "shares"
    assert len(trail(tenant_a, "archive.search")) == 2, "each run is an audited search"


def test_versions_cannot_be_changed_in_the_database(auditor_api, tenant_a):
    auditor_api.post(URL, {"name": "x", "query": "shares"}, format="json")
    refused = pytest.raises(DatabaseError, match=r"permission denied|append")
    with tenant_scope(tenant_a), refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE archive_savedsearchversion SET query = 'other'")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "query": '"unbalanced'}, "query"),
        ({"name": "x", "query": "buy w/0 shares"}, "query"),
        ({"name": "x", "query": "y" * 10_000}, "query"),
        ({"name": "x", "query": "", "filters": {}}, "query"),
        ({"name": " ", "query": "shares"}, "name"),
        ({"name": "x", "query": "shares", "filters": {"colour": "red"}}, "filters"),
        ({"name": "x", "query": "shares", "filters": {"direction": "sideways"}}, "filters"),
        ({"name": "x", "query": "shares", "filters": {"since": "2026-01-01T00:00"}}, "filters"),
    ],
)
def test_bad_input_is_a_400_and_keeps_nothing(auditor_api, tenant_a, body, field):
    response = auditor_api.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["details"], response.json()
    assert stored(tenant_a) == (0, 0) and trail(tenant_a) == []


def test_another_firm_sees_and_changes_nothing(auditor_api, api_client_for, tenant_a, tenant_b):
    saved = auditor_api.post(URL, {"name": "Mine", "query": "shares"}, format="json").json()
    outsider = api_client_for(tenant_b, Role.ADMIN)
    assert outsider.get(URL).json()["results"] == []
    for response in (
        outsider.get(f"{URL}{saved['id']}/"),
        outsider.patch(f"{URL}{saved['id']}/", {"name": "Theirs"}, format="json"),
        outsider.delete(f"{URL}{saved['id']}/"),
    ):
        assert response.status_code == 404
    assert auditor_api.get(f"{URL}{saved['id']}/").json()["name"] == "Mine"


def test_only_the_owner_or_an_admin_changes_a_saved_search(auditor_api, api_client_for, tenant_a):
    saved = auditor_api.post(URL, {"name": "Mine", "query": "shares"}, format="json").json()
    colleague = api_client_for(tenant_a, Role.OFFICER)
    assert colleague.get(f"{URL}{saved['id']}/").status_code == 200  # shared for reading
    for response in (
        colleague.patch(f"{URL}{saved['id']}/", {"name": "Theirs"}, format="json"),
        colleague.delete(f"{URL}{saved['id']}/"),
    ):
        assert response.status_code == 403, response.content
        assert "who saved this search, or an admin" in response.json()["error"]["message"]
    assert auditor_api.get(f"{URL}{saved['id']}/").json()["name"] == "Mine"
    assert [e.action for e in trail(tenant_a)] == ["saved_search.created"]

    admin = api_client_for(tenant_a, Role.ADMIN)
    renamed = admin.patch(f"{URL}{saved['id']}/", {"name": "Reviewed"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Reviewed"
    changed = auditor_api.patch(f"{URL}{saved['id']}/", {"query": "bonds"}, format="json")
    assert changed.status_code == 200, changed.content
    assert auditor_api.delete(f"{URL}{saved['id']}/").status_code == 204
