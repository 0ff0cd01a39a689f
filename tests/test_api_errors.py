"""Bad or unusual requests to the API get a clear answer in the API's error format, never a 500
or an HTML page: times with any UTC offset, IP filters, ids that are not ids, deeply nested JSON,
OPTIONS, and addresses that do not exist."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from rest_framework.test import APIClient

from compliance_hub.audit.actors import Actor, ActorKind
from compliance_hub.audit.models import AuditEvent
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role

TIME_LISTS = (
    "/api/v1/audit-events/",
    "/api/v1/conversations/",
    "/api/v1/messages/",
    "/api/v1/message-events/",
)
WRITES = (
    ("post", "/api/v1/employees/"),
    ("post", "/api/v1/consent-notices/"),
    ("post", "/api/v1/invitations/"),
    ("patch", "/api/v1/whatsapp-settings/"),
    ("put", "/api/v1/whatsapp-settings/"),
)


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["status"] == status and error["message"]
    if code is not None:
        assert error["code"] == code
    return error


def audit_count(tenant) -> int:
    with tenant_scope(tenant):
        return AuditEvent.objects.count()


# --- times -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", TIME_LISTS)
@pytest.mark.parametrize("name", ["since", "until"])
@pytest.mark.parametrize("value", ["2026-12-06T07:00:00-21:56", "2026-12-06T07:00:00+23:59"])
def test_a_time_with_any_utc_offset_is_read_not_a_500(admin_api, path, name, value):
    # PostgreSQL refuses offsets beyond ±15:59; ISO 8601 (and our schema) allows up to ±23:59.
    response = admin_api.get(path, {name: value})
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("path", TIME_LISTS)
@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "yesterday"]
)
def test_a_time_outside_the_calendar_or_unreadable_is_a_400(admin_api, path, value):
    error = assert_error(admin_api.get(path, {"since": value}), 400, "invalid")
    assert "since" in error["details"]


def _at_far_offset(moment: datetime) -> str:
    """``moment`` written with an offset of -21:56, which PostgreSQL could not take."""
    return moment.astimezone(timezone(-timedelta(hours=21, minutes=56))).isoformat()


def test_a_far_offset_selects_the_same_moment_in_utc(admin_api, tenant_a):
    record_event("test.now", tenant=tenant_a, target_label="now", actor=Actor.system())
    now = datetime.now(UTC)
    hour = timedelta(hours=1)

    def actions(**query) -> list[str]:
        body = admin_api.get("/api/v1/audit-events/", {"action": "test.", **query}).json()
        return [row["action"] for row in body["results"]]

    assert actions(since=_at_far_offset(now - hour)) == ["test.now"]
    assert actions(since=_at_far_offset(now + hour)) == []
    assert actions(until=_at_far_offset(now + hour)) == ["test.now"]
    assert actions(until=_at_far_offset(now - hour)) == []


# --- IP addresses and ids ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["not-an-ip", "999.1.1.1", "::g"])
def test_an_ip_filter_that_is_not_an_address_is_a_400(admin_api, value):
    error = assert_error(admin_api.get("/api/v1/audit-events/", {"ip_address": value}), 400)
    assert "ip_address" in error["details"]


def test_the_ip_filter_selects_events_from_that_address(admin_api, tenant_a, rf):
    record_event(
        "test.here",
        tenant=tenant_a,
        target_label="x",
        actor=Actor(kind=ActorKind.SYSTEM, label="system", ip_address="203.0.113.7"),
    )
    body = admin_api.get("/api/v1/audit-events/", {"ip_address": "203.0.113.7"}).json()
    assert [row["action"] for row in body["results"]] == ["test.here"]
    assert admin_api.get("/api/v1/audit-events/", {"ip_address": "::1"}).json()["results"] == []


@pytest.mark.parametrize("value", ["0.5", "1e30", "0", "-1", "9" * 25, "\u0661\u0662"])
@pytest.mark.parametrize("name", ["employee", "conversation"])
def test_an_id_filter_that_is_not_an_id_is_a_400(admin_api, name, value):
    error = assert_error(admin_api.get("/api/v1/messages/", {name: value}), 400, "invalid")
    assert name in error["details"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/employees/0.5/",
        "/api/v1/employees/1.json/",
        "/api/v1/messages/0.5/consents/",
        "/api/v1/nothing-here/",
        "/api/v2/",
        "/api/",
    ],
)
@pytest.mark.parametrize("debug", [False, True])
def test_every_unknown_address_under_api_is_the_json_404(admin_api, settings, path, debug):
    settings.DEBUG = debug
    assert_error(admin_api.get(path), 404, "not_found")
    assert_error(admin_api.post(path, {"a": 1}, format="json"), 404, "not_found")


def test_a_post_with_a_session_cookie_to_an_unknown_address_is_the_json_404(
    api_key_factory, tenant_a
):
    # Not Django's CSRF failure page (HTML, 403), as a browser's client would get.
    browser = APIClient(enforce_csrf_checks=True)
    browser.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_factory(tenant_a)}")
    browser.cookies["sessionid"] = "whatever"
    assert_error(browser.post("/api/v1/employees/0.5/deactivate/", {}), 404, "not_found")


def test_an_address_without_its_final_slash_is_a_404_that_names_the_right_one(admin_api):
    error = assert_error(admin_api.post("/api/v1/employees", {}, format="json"), 404)
    assert "/api/v1/employees/" in error["message"]


# --- bodies ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), WRITES)
@pytest.mark.parametrize("depth", [40, 10_000])
def test_json_nested_too_deep_is_a_400_on_every_write(admin_api, tenant_a, method, path, depth):
    body = "[" * depth + "]" * depth
    before = audit_count(tenant_a)
    response = getattr(admin_api, method)(path, body, content_type="application/json")
    error = assert_error(response, 400, "parse_error")
    assert "nested" in error["message"]
    assert audit_count(tenant_a) == before


def test_json_of_ordinary_depth_is_still_accepted(admin_api):
    texts = {"en": {"title": "Monitoring notice", "body": "We keep your WhatsApp messages."}}
    response = admin_api.post("/api/v1/consent-notices/", {"texts": texts}, format="json")
    assert response.status_code == 201, response.content


# --- OPTIONS -----------------------------------------------------------------------------------


def test_options_on_the_whatsapp_settings_describes_them(admin_api):
    response = admin_api.options("/api/v1/whatsapp-settings/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] and "PUT" in body["actions"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/me/",
        "/api/v1/employees/",
        "/api/v1/consent-notices/",
        "/api/v1/memberships/",
        "/api/v1/invitations/",
        "/api/v1/audit-events/",
        "/api/v1/messages/",
    ],
)
def test_options_answers_on_every_collection(admin_api, path):
    assert admin_api.options(path).status_code == 200


def test_options_shows_no_write_actions_to_a_role_that_may_not_write(api_client_for, tenant_a):
    officer = api_client_for(tenant_a, Role.OFFICER)
    body = officer.options("/api/v1/employees/").json()
    assert "POST" not in body.get("actions", {})


# --- paging and boolean filters: a typo is a 400, not a quietly different list -------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/employees/", "/api/v1/messages/", "/api/v1/audit-events/"]
)
@pytest.mark.parametrize("value", ["ten", "", "0", "501", "1.5", "\u0661\u0660"])
def test_a_page_size_that_is_not_a_size_is_a_400(admin_api, path, value):
    error = assert_error(admin_api.get(path, {"page_size": value}), 400, "invalid")
    assert "page_size" in error["details"]


@pytest.mark.parametrize("value", ["two", "", "0", "-1"])
def test_a_page_that_is_not_a_page_number_is_a_400(admin_api, value):
    error = assert_error(admin_api.get("/api/v1/employees/", {"page": value}), 400, "invalid")
    assert "page" in error["details"]


def test_pages_and_sizes_still_work(admin_api):
    assert admin_api.get("/api/v1/employees/", {"page": "1", "page_size": "500"}).status_code == 200
    assert admin_api.get("/api/v1/employees/", {"page": "last"}).status_code == 200
    assert_error(admin_api.get("/api/v1/employees/", {"page": "9"}), 404, "not_found")
    assert admin_api.get("/api/v1/messages/", {"page_size": "1"}).status_code == 200


@pytest.mark.parametrize(
    ("path", "name"),
    [("/api/v1/message-events/", "original_seen"), ("/api/v1/memberships/", "is_active")],
)
def test_a_boolean_filter_that_is_not_true_or_false_is_a_400(admin_api, path, name):
    error = assert_error(admin_api.get(path, {name: "perhaps"}), 400, "invalid")
    assert name in error["details"]
    assert admin_api.get(path, {name: "false"}).status_code == 200


@pytest.mark.parametrize(
    "query",
    [{"counterparty": "a\x00b"}, {"what\x00ever": "1"}, {"whatsapp_id": "\x00"}],
    ids=["in a filter", "in a name", "alone"],
)
@pytest.mark.parametrize("path", ["/api/v1/messages/", "/api/v1/audit-events/"])
def test_a_nul_character_in_the_query_is_a_400_and_nothing_is_recorded(
    admin_api, tenant_a, path, query
):
    before = audit_count(tenant_a)
    assert_error(admin_api.get(path, query), 400, "invalid")
    assert audit_count(tenant_a) == before


@pytest.mark.parametrize("pk", ["\uff11", "\u0661", "\u00b2"])
def test_an_id_in_the_path_in_other_digits_is_the_json_404(admin_api, tenant_a, pk):
    from tests.consent.employees import make_employee

    employee = make_employee(tenant_a)
    assert admin_api.get(f"/api/v1/employees/{employee.pk}/").status_code == 200
    response = admin_api.get(f"/api/v1/employees/{pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_body_over_the_upload_limit_is_a_413_and_creates_nothing(admin_api, tenant_a, settings):
    from consent.models import Employee

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = '{"full_name": "' + "a" * 4096 + '"}'
    response = admin_api.post("/api/v1/employees/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    with tenant_scope(tenant_a):
        assert not Employee.objects.exists()
