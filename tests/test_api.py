"""The API plumbing: API keys, roles, one error format, pagination, throttling, the schema."""

from __future__ import annotations

from django.core.cache import cache
from rest_framework.test import APIClient

from compliance_hub.accounts.models import Invitation
from compliance_hub.api.keys import issue_api_key, revoke_api_key
from compliance_hub.api.models import ApiKey
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Membership, Role
from compliance_hub.tenancy.services import set_tenant_status
from tests.fixtures import login


def _client(plaintext: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plaintext}")
    return client


def test_me_with_an_api_key(tenant_a):
    issued = issue_api_key(tenant=tenant_a, role=Role.OFFICER, name="HR sync", actor=Actor.system())
    response = _client(issued.plaintext).get("/api/v1/me/")
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "api_key"
    assert body["role"] == "officer"
    assert body["tenant"]["slug"] == tenant_a.slug
    assert body["api_key"] == issued.api_key.prefix
    issued.api_key.refresh_from_db()
    assert issued.api_key.last_used_at is not None


def test_me_with_a_session_lists_memberships(client, tenant_a, tenant_b, alice):
    from compliance_hub.accounts.services import add_member

    add_member(tenant=tenant_b, user=alice.user, role=Role.AUDITOR, actor=Actor.system())
    login(client, alice)
    body = client.get("/api/v1/me/").json()
    assert body["kind"] == "user" and body["email"] == alice.email
    assert {(m["tenant"]["slug"], m["role"]) for m in body["memberships"]} == {
        ("firm-a", "admin"),
        ("firm-b", "auditor"),
    }


def test_keys_are_stored_hashed_and_shown_once(tenant_a):
    issued = issue_api_key(tenant=tenant_a, role=Role.ADMIN, name="k", actor=Actor.system())
    stored = ApiKey.objects.get(pk=issued.api_key.pk)
    secret = issued.plaintext.split("_", 2)[2]
    assert secret not in stored.key_hash and len(stored.key_hash) == 64
    assert issued.plaintext.startswith(f"chk_{stored.prefix}_")


def test_a_revoked_key_is_refused_with_a_clear_json_error(tenant_a):
    issued = issue_api_key(tenant=tenant_a, role=Role.ADMIN, name="k", actor=Actor.system())
    revoke_api_key(api_key=issued.api_key, actor=Actor.system())
    response = _client(issued.plaintext).get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "This API key has been revoked."
    assert response["WWW-Authenticate"] == "Api-Key"


def test_wrong_and_malformed_keys_are_refused(tenant_a):
    issued = issue_api_key(tenant=tenant_a, role=Role.ADMIN, name="k", actor=Actor.system())
    tampered = issued.plaintext[:-2] + ("aa" if not issued.plaintext.endswith("aa") else "bb")
    for key in (tampered, "nonsense", "chk_000000000000_x"):
        response = _client(key).get("/api/v1/me/")
        assert response.status_code == 401
        assert response.json()["error"]["status"] == 401


def test_no_credentials_gets_401_in_the_error_format(db):
    response = APIClient().get("/api/v1/me/")
    assert response.status_code in (401, 403)
    assert set(response.json()["error"]) >= {"status", "code", "message"}


def test_a_key_of_a_suspended_tenant_is_refused(tenant_a):
    issued = issue_api_key(tenant=tenant_a, role=Role.ADMIN, name="k", actor=Actor.system())
    set_tenant_status(tenant=tenant_a, status="suspended", actor=Actor.system())
    response = _client(issued.plaintext).get("/api/v1/me/")
    assert response.status_code == 401
    assert "suspended" in response.json()["error"]["message"]


def test_roles_are_enforced_and_nothing_changes(api_client_for, tenant_a, alice, oscar):
    membership = Membership.objects.get(tenant=tenant_a, user=oscar.user)
    for role in (Role.OFFICER, Role.AUDITOR):
        api = api_client_for(tenant_a, role)
        assert api.get("/api/v1/memberships/").status_code == 403
        response = api.patch(f"/api/v1/memberships/{membership.pk}/", {"role": "admin"})
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
    membership.refresh_from_db()
    assert membership.role == Role.OFFICER


def test_admin_lists_pages_and_changes_memberships(api_client_for, tenant_a, alice, oscar, audrey):
    api = api_client_for(tenant_a, Role.ADMIN)
    page = api.get("/api/v1/memberships/", {"page_size": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    oscar_row = api.get("/api/v1/memberships/", {"role": "officer"}).json()["results"][0]
    assert oscar_row["email"] == oscar.email
    changed = api.patch(
        f"/api/v1/memberships/{oscar_row['id']}/", {"role": "auditor"}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["role"] == "auditor"


def test_the_last_admin_cannot_be_demoted(api_client_for, tenant_a, alice):
    api = api_client_for(tenant_a, Role.ADMIN)
    row = api.get("/api/v1/memberships/", {"role": "admin"}).json()["results"][0]
    response = api.patch(f"/api/v1/memberships/{row['id']}/", {"role": "officer"}, format="json")
    assert response.status_code == 400
    assert "at least one active admin" in str(response.json())
    assert Membership.objects.get(pk=row["id"]).role == Role.ADMIN


def test_invalid_input_gets_400_with_field_details(api_client_for, tenant_a, alice):
    api = api_client_for(tenant_a, Role.ADMIN)
    response = api.post("/api/v1/invitations/", {"email": "not-an-email", "role": "king"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and {"email", "role"} <= set(error["details"])
    with tenant_scope(tenant_a):
        assert not Invitation.objects.exists()


def test_invitations_through_the_api(api_client_for, tenant_a, alice, mailoutbox):
    api = api_client_for(tenant_a, Role.ADMIN)
    created = api.post("/api/v1/invitations/", {"email": "Nina@Firm-A.example", "role": "auditor"})
    assert created.status_code == 201
    assert created.json()["email"] == "nina@firm-a.example"
    assert created.json()["state"] == "pending"
    assert "token" not in str(created.json()).lower()
    withdrawn = api.delete(f"/api/v1/invitations/{created.json()['id']}/")
    assert withdrawn.status_code == 204
    assert api.get(f"/api/v1/invitations/{created.json()['id']}/").json()["state"] == "revoked"


def test_unknown_api_paths_answer_json_404(api_client_for, tenant_a):
    response = api_client_for(tenant_a).get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_requests_are_throttled_per_key(api_client_for, tenant_a, settings):
    from compliance_hub.api.throttling import TenantRateThrottle

    original = TenantRateThrottle.THROTTLE_RATES
    TenantRateThrottle.THROTTLE_RATES = {"tenant": "3/min"}
    try:
        cache.clear()
        api = api_client_for(tenant_a, Role.OFFICER)
        statuses = [api.get("/api/v1/me/").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        other = api_client_for(tenant_a, Role.OFFICER)
        assert other.get("/api/v1/me/").status_code == 200
    finally:
        TenantRateThrottle.THROTTLE_RATES = original


def test_schema_and_docs_are_served(api_client_for, tenant_a):
    api = api_client_for(tenant_a)
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/me/" in paths and "/api/v1/memberships/{id}/" in paths
    docs = api.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn." not in docs.content.lower()
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs.content
