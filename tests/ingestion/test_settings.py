"""The tenant's WhatsApp connection, on the page (``/whatsapp/settings/``) and through the API
(``/api/v1/whatsapp-settings/``): admins only, secrets stored encrypted and never shown again in
full, every change audited by field name only, bad input refused with nothing changed."""

from __future__ import annotations

import json

import pytest

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.crypto import decrypt_text
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from ingestion.models import WhatsAppSettings
from ingestion.services import save_whatsapp_settings
from tests.fixtures import login

PAGE = "/whatsapp/settings/"
API = "/api/v1/whatsapp-settings/"

APP_SECRET = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
VERIFY_TOKEN = "verify-me-please-7Q2"
ACCESS_TOKEN = "EAAGm0PX4ZCpsBAKZCfirmAaccesstoken1234567890ZDZD"
B_SECRET = "b0b0b0b0b0b0b0b0b0b0b0b0firmbsec"
SECRETS = (APP_SECRET, VERIFY_TOKEN, ACCESS_TOKEN)
RESPONSE_FIELDS = {
    "callback_path",
    "configured",
    "missing",
    "app_secret_hint",
    "verify_token_hint",
    "access_token_hint",
    "waba_ids",
    "updated_at",
}


def saved(tenant) -> WhatsAppSettings | None:
    with tenant_scope(tenant):
        return WhatsAppSettings.objects.filter(tenant=tenant).first()


def audit_events(tenant) -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(action="whatsapp.settings_changed").order_by("id"))


def snapshot(tenant) -> tuple:
    """What a refused request must leave untouched. The encrypted columns change on every save
    (Fernet tokens are randomised), so equal columns mean nothing was written."""
    row = saved(tenant)
    columns = (
        None
        if row is None
        else (
            row.app_secret_encrypted,
            row.verify_token_encrypted,
            row.access_token_encrypted,
            row.waba_ids,
            row.updated_at,
        )
    )
    return columns, len(audit_events(tenant))


def text(response) -> str:
    return response.content.decode()


def assert_no_secret_in(*responses) -> None:
    for response in responses:
        for secret in SECRETS:
            assert secret not in text(response)


@pytest.fixture
def fully_connected_tenant(tenant_a, alice):
    save_whatsapp_settings(
        tenant=tenant_a,
        actor=Actor.for_user(alice.user),
        app_secret=APP_SECRET,
        verify_token=VERIFY_TOKEN,
        access_token=ACCESS_TOKEN,
        waba_ids=["102290129340398"],
    )
    return tenant_a


# --- the page --------------------------------------------------------------------------------


def test_the_admin_sees_the_callback_url_to_paste_into_meta(client, tenant_a, alice):
    login(client, alice)

    response = client.get(PAGE)

    assert response.status_code == 200
    page = text(response)
    assert "http://testserver/webhooks/whatsapp/firm-a/" in page
    assert ">Not connected</span>" in page
    for field in ("messages", "smb_message_echoes", "history", "smb_app_state_sync", "calls"):
        assert f"<code>{field}</code>" in page
    assert "<code>account_update</code>" in page
    assert "App settings → Basic" in page


def test_the_secret_inputs_are_password_fields_without_autocomplete(client, tenant_a, alice):
    login(client, alice)
    page = text(client.get(PAGE))

    for name in ("app_secret", "verify_token", "access_token"):
        assert f'type="password" name="{name}"' in page
    assert page.count('autocomplete="off"') >= 3


def test_the_admin_connects_whatsapp_and_never_sees_the_secrets_again(client, tenant_a, alice):
    login(client, alice)

    response = client.post(
        PAGE,
        {
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
            "access_token": ACCESS_TOKEN,
            "waba_ids": "102290129340398, 102290129340399\n102290129340400",
        },
        follow=True,
    )

    assert response.status_code == 200
    page = text(response)
    assert "Saved: app secret, verify token, access token, WhatsApp Business Account ids." in page
    assert ">Every setting saved</span>" in page
    # Hints: the last four characters of each secret.
    assert "••••b1a0" in page and "••••-7Q2" in page and "••••ZDZD" in page
    assert "102290129340398, 102290129340399, 102290129340400" in page
    assert_no_secret_in(response, client.get(PAGE))
    row = saved(tenant_a)
    assert (row.app_secret, row.verify_token, row.access_token) == SECRETS
    assert row.waba_ids == ["102290129340398", "102290129340399", "102290129340400"]
    assert row.updated_by == alice.user


def test_empty_secret_fields_keep_the_saved_values(client, fully_connected_tenant, alice):
    login(client, alice)

    response = client.post(PAGE, {"waba_ids": "102290129340398\n555"}, follow=True)

    assert "Saved: WhatsApp Business Account ids." in text(response)
    row = saved(fully_connected_tenant)
    assert (row.app_secret, row.verify_token, row.access_token) == SECRETS
    assert row.waba_ids == ["102290129340398", "555"]


def test_saving_the_same_values_says_nothing_changed(client, fully_connected_tenant, alice):
    login(client, alice)
    before = len(audit_events(fully_connected_tenant))

    response = client.post(
        PAGE, {"app_secret": APP_SECRET, "waba_ids": "102290129340398"}, follow=True
    )

    assert "Nothing changed." in text(response)
    assert len(audit_events(fully_connected_tenant)) == before


def test_the_secrets_are_stored_encrypted(client, tenant_a, alice):
    login(client, alice)
    client.post(
        PAGE,
        {"app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN, "access_token": ACCESS_TOKEN},
    )

    with tenant_scope(tenant_a):
        raw = WhatsAppSettings.objects.values(
            "app_secret_encrypted", "verify_token_encrypted", "access_token_encrypted"
        ).get()
    for column, secret in zip(raw.values(), SECRETS, strict=True):
        assert secret not in column
        assert decrypt_text(column) == secret


def test_the_change_is_audited_by_field_name_never_by_value(client, tenant_a, alice):
    login(client, alice)

    client.post(PAGE, {"app_secret": APP_SECRET, "access_token": ACCESS_TOKEN, "waba_ids": ""})

    [event] = audit_events(tenant_a)
    assert event.details == {"changed": ["app_secret", "access_token"]}
    assert event.actor == alice.user
    everything = json.dumps(
        [event.details, event.target_label, event.actor_label, event.user_agent], default=str
    )
    for secret in SECRETS:
        assert secret not in everything
        assert secret[-8:] not in everything


@pytest.mark.parametrize(
    "posted, field, message",
    [
        ({"app_secret": " " + APP_SECRET}, "app_secret", "Remove the spaces"),
        ({"verify_token": VERIFY_TOKEN + "\n"}, "verify_token", "Remove the spaces"),
        ({"access_token": "short"}, "access_token", "too short"),
        ({"waba_ids": "102290129340398, 1022-9012"}, "waba_ids", "digits only"),
        ({"waba_ids": "my business"}, "waba_ids", "digits only"),
    ],
    ids=["leading space", "trailing newline", "too short", "dash in waba id", "words"],
)
def test_bad_input_is_shown_on_its_field_and_changes_nothing(
    client, fully_connected_tenant, alice, posted, field, message
):
    login(client, alice)
    before = snapshot(fully_connected_tenant)
    # A good secret next to the bad value: it must neither be saved nor be echoed back.
    data = {"app_secret": "a-new-and-valid-app-secret-0000", "waba_ids": "102290129340398"}
    data.update(posted)

    response = client.post(PAGE, data)

    assert response.status_code == 400
    form = response.context["form"]
    assert any(message in error for error in form.errors[field])
    assert "a-new-and-valid-app-secret-0000" not in text(response)
    assert_no_secret_in(response)
    assert snapshot(fully_connected_tenant) == before


@pytest.mark.parametrize("persona", ["oscar", "audrey"])
def test_officers_and_auditors_may_not_open_or_change_the_settings(
    client, fully_connected_tenant, request, persona
):
    person = request.getfixturevalue(persona)
    login(client, person)
    before = snapshot(fully_connected_tenant)

    assert client.get(PAGE).status_code == 403
    response = client.post(PAGE, {"app_secret": "an-officer-tries-this-1"})

    assert response.status_code == 403
    assert snapshot(fully_connected_tenant) == before


def test_the_nav_shows_whatsapp_to_admins_only(client, tenant_a, alice, oscar):
    login(client, alice)
    assert f'href="{PAGE}"' in text(client.get("/"))
    login(client, oscar)
    assert f'href="{PAGE}"' not in text(client.get("/"))


def test_anonymous_visitors_are_sent_to_log_in(client, tenant_a):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_outsider_sees_only_his_own_firms_settings(
    client, fully_connected_tenant, tenant_b, bob
):
    save_whatsapp_settings(
        tenant=tenant_b, app_secret=B_SECRET, waba_ids=["999000111"], actor=Actor.system()
    )
    login(client, bob)

    page = text(client.get(PAGE))

    assert "/webhooks/whatsapp/firm-b/" in page
    assert "firm-a" not in page
    assert "••••bsec" in page
    assert "999000111" in page
    assert "102290129340398" not in page
    assert "••••b1a0" not in page and "••••ZDZD" not in page


def test_the_outsiders_save_changes_only_his_own_firm(
    client, fully_connected_tenant, tenant_b, bob
):
    login(client, bob)
    before = snapshot(fully_connected_tenant)

    client.post(PAGE, {"app_secret": B_SECRET})

    assert snapshot(fully_connected_tenant) == before
    assert saved(tenant_b).app_secret == B_SECRET


# --- the API ---------------------------------------------------------------------------------


def test_api_get_before_anything_is_set(api_client_for, tenant_a):
    response = api_client_for(tenant_a).get(API)

    assert response.status_code == 200
    assert response.json() == {
        "callback_path": "/webhooks/whatsapp/firm-a/",
        "configured": False,
        "missing": ["app_secret", "verify_token", "access_token", "waba_ids"],
        "app_secret_hint": "",
        "verify_token_hint": "",
        "access_token_hint": "",
        "waba_ids": [],
        "updated_at": None,
    }


def test_api_get_shows_hints_never_secrets(api_client_for, fully_connected_tenant):
    response = api_client_for(fully_connected_tenant).get(API)

    body = response.json()
    assert set(body) == RESPONSE_FIELDS
    assert body["configured"] is True and body["missing"] == []
    assert body["app_secret_hint"] == "••••b1a0"
    assert body["verify_token_hint"] == "••••-7Q2"
    assert body["access_token_hint"] == "••••ZDZD"
    assert body["waba_ids"] == ["102290129340398"]
    assert body["updated_at"]
    assert_no_secret_in(response)


def test_api_patch_sets_what_it_is_given_and_keeps_the_rest(api_client_for, fully_connected_tenant):
    new_secret = "0123456789abcdef0123456789abcdef"

    response = api_client_for(fully_connected_tenant).patch(
        API, {"app_secret": new_secret, "waba_ids": ["1", "22"]}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == RESPONSE_FIELDS
    assert body["app_secret_hint"] == "••••cdef"
    assert body["waba_ids"] == ["1", "22"]
    assert new_secret not in text(response)
    row = saved(fully_connected_tenant)
    assert (row.app_secret, row.verify_token, row.access_token) == (
        new_secret,
        VERIFY_TOKEN,
        ACCESS_TOKEN,
    )
    event = audit_events(fully_connected_tenant)[-1]
    assert event.details == {"changed": ["app_secret", "waba_ids"]}
    assert event.actor_label.startswith("api-key:")
    assert new_secret not in json.dumps(event.details)


def test_api_put_connects_a_tenant(api_client_for, tenant_a):
    response = api_client_for(tenant_a).put(
        API,
        {
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
            "access_token": ACCESS_TOKEN,
            "waba_ids": ["102290129340398"],
        },
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["configured"] is True
    assert_no_secret_in(response)
    row = saved(tenant_a)
    assert (row.app_secret, row.verify_token, row.access_token) == SECRETS
    assert row.app_secret_encrypted != APP_SECRET


def test_api_works_with_the_admins_browser_session(client, fully_connected_tenant, alice):
    login(client, alice)

    response = client.get(API)

    assert response.status_code == 200
    assert response.json()["app_secret_hint"] == "••••b1a0"


@pytest.mark.parametrize("role", [Role.OFFICER, Role.AUDITOR])
def test_api_refuses_other_roles(api_client_for, fully_connected_tenant, role):
    api = api_client_for(fully_connected_tenant, role)
    before = snapshot(fully_connected_tenant)

    read = api.get(API)
    write = api.patch(API, {"app_secret": "an-officer-tries-this-1"}, format="json")
    replace = api.put(API, {"verify_token": "an-officer-tries-this-2"}, format="json")

    assert read.status_code == write.status_code == replace.status_code == 403
    assert read.json()["error"]["code"] == "permission_denied"
    assert_no_secret_in(read, write, replace)
    assert snapshot(fully_connected_tenant) == before


def test_api_needs_a_key(fully_connected_tenant):
    from rest_framework.test import APIClient

    assert APIClient().get(API).status_code == 401


def test_api_the_outsider_reads_and_writes_only_his_own_firm(
    api_client_for, fully_connected_tenant, tenant_b
):
    before = snapshot(fully_connected_tenant)
    api = api_client_for(tenant_b)

    response = api.patch(API, {"app_secret": B_SECRET}, format="json")

    assert response.status_code == 200
    assert response.json()["callback_path"] == "/webhooks/whatsapp/firm-b/"
    assert response.json()["app_secret_hint"] == "••••bsec"
    assert response.json()["waba_ids"] == []
    assert snapshot(fully_connected_tenant) == before
    assert saved(tenant_b).app_secret == B_SECRET


@pytest.mark.parametrize(
    "body, field",
    [
        ({"app_secret": " " + APP_SECRET}, "app_secret"),
        ({"app_secret": APP_SECRET + " "}, "app_secret"),
        ({"verify_token": "short"}, "verify_token"),
        ({"access_token": ""}, "access_token"),
        ({"access_token": None}, "access_token"),
        ({"waba_ids": ["102290129340398", "12a"]}, "waba_ids"),
        ({"waba_ids": ["-1"]}, "waba_ids"),
        ({"waba_ids": "102290129340398"}, "waba_ids"),
        ({"waba_ids": [{"id": "1"}]}, "waba_ids"),
        ({"app_secert": APP_SECRET}, "app_secert"),
        ({}, "non_field_errors"),
        (["app_secret", APP_SECRET], "non_field_errors"),
    ],
    ids=[
        "leading space",
        "trailing space",
        "too short",
        "blank",
        "null",
        "letters in waba id",
        "negative waba id",
        "waba ids not a list",
        "waba id object",
        "misspelt field",
        "empty",
        "not an object",
    ],
)
@pytest.mark.parametrize("method", ["patch", "put"])
def test_api_bad_input_is_400_and_changes_nothing(
    api_client_for, fully_connected_tenant, body, field, method
):
    before = snapshot(fully_connected_tenant)

    response = getattr(api_client_for(fully_connected_tenant), method)(API, body, format="json")

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["details"]
    assert_no_secret_in(response)
    assert snapshot(fully_connected_tenant) == before


def test_the_api_is_in_the_openapi_schema(client, alice):
    login(client, alice)

    schema = client.get("/api/schema/?format=json").json()

    operations = schema["paths"]["/api/v1/whatsapp-settings/"]
    assert set(operations) >= {"get", "put", "patch"}
    components = schema["components"]["schemas"]
    assert "app_secret" in components["PatchedWhatsAppSettingsInputRequest"]["properties"]
    assert "app_secret" not in components["WhatsAppSettings"]["properties"]


def test_api_names_what_is_missing_while_deliveries_can_already_be_accepted(
    api_client_for, tenant_a
):
    save_whatsapp_settings(
        tenant=tenant_a, app_secret=APP_SECRET, verify_token=VERIFY_TOKEN, actor=Actor.system()
    )
    body = api_client_for(tenant_a).get(API).json()
    assert body["configured"] is True
    assert body["missing"] == ["access_token", "waba_ids"]
