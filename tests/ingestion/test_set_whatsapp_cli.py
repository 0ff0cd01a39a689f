"""``manage.py set_whatsapp SLUG [--app-secret S] [--verify-token T] [--access-token A]
[--waba-id ID ...]``: an operator connects a tenant's Meta app from the shell. The output names
the callback path and what changed, and never a secret."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope, unscoped
from compliance_hub.tenancy.services import set_tenant_status
from ingestion.models import WhatsAppSettings
from ingestion.services import save_whatsapp_settings

APP_SECRET = "cli-app-secret-0123456789abcdef"
VERIFY_TOKEN = "cli-verify-token-XYZ9"
ACCESS_TOKEN = "EAAcliAccessToken0123456789QWER"
SECRETS = (APP_SECRET, VERIFY_TOKEN, ACCESS_TOKEN)


def run(*args: str) -> str:
    out, err = StringIO(), StringIO()
    call_command("set_whatsapp", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def run_failing(*args: str) -> str:
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("set_whatsapp", *args, stdout=out, stderr=err)
    printed = out.getvalue() + err.getvalue() + str(failure.value)
    for secret in SECRETS:
        assert secret not in printed
    return str(failure.value)


def saved(tenant) -> WhatsAppSettings | None:
    with tenant_scope(tenant):
        return WhatsAppSettings.objects.filter(tenant=tenant).first()


def audited(tenant) -> list[dict]:
    with tenant_scope(tenant):
        return [
            event.details
            for event in AuditEvent.objects.filter(action="whatsapp.settings_changed").order_by(
                "id"
            )
        ]


def snapshot(tenant) -> tuple:
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
    return columns, audited(tenant)


def test_connecting_a_tenant_prints_the_callback_path_and_what_changed(tenant_a):
    output = run(
        "firm-a",
        "--app-secret",
        APP_SECRET,
        "--verify-token",
        VERIFY_TOKEN,
        "--access-token",
        ACCESS_TOKEN,
        "--waba-id",
        "102290129340398",
        "--waba-id",
        "102290129340399",
    )

    assert "/webhooks/whatsapp/firm-a/" in output
    assert (
        "Changed: app secret, verify token, access token, WhatsApp Business Account ids." in output
    )
    for secret in SECRETS:
        assert secret not in output
    row = saved(tenant_a)
    assert (row.app_secret, row.verify_token, row.access_token) == SECRETS
    assert row.waba_ids == ["102290129340398", "102290129340399"]
    assert row.app_secret_encrypted != APP_SECRET
    assert audited(tenant_a) == [
        {"changed": ["app_secret", "verify_token", "access_token", "waba_ids"]}
    ]


def test_options_left_out_keep_their_saved_values(tenant_a):
    save_whatsapp_settings(
        tenant=tenant_a,
        app_secret=APP_SECRET,
        verify_token=VERIFY_TOKEN,
        waba_ids=["1"],
        actor=Actor.system(),
    )

    output = run("firm-a", "--access-token", ACCESS_TOKEN)

    assert "Changed: access token." in output
    row = saved(tenant_a)
    assert (row.app_secret, row.verify_token, row.access_token) == SECRETS
    assert row.waba_ids == ["1"]


def test_setting_the_same_value_again_says_nothing_changed(tenant_a):
    save_whatsapp_settings(tenant=tenant_a, app_secret=APP_SECRET, actor=Actor.system())
    before = audited(tenant_a)

    output = run("firm-a", "--app-secret", APP_SECRET)

    assert "/webhooks/whatsapp/firm-a/" in output
    assert "Nothing changed" in output
    assert audited(tenant_a) == before


def test_the_slug_is_case_insensitive(tenant_a):
    assert "/webhooks/whatsapp/firm-a/" in run("FIRM-A", "--verify-token", VERIFY_TOKEN)
    assert saved(tenant_a).verify_token == VERIFY_TOKEN


def test_at_least_one_setting_is_needed(tenant_a):
    message = run_failing("firm-a")

    assert "--app-secret" in message and "--waba-id" in message
    assert saved(tenant_a) is None


def test_an_unknown_tenant_is_an_error(db):
    message = run_failing("no-such-firm", "--app-secret", APP_SECRET)

    assert "No tenant with slug 'no-such-firm'" in message
    with unscoped():
        assert not WhatsAppSettings.all_tenants.exists()


def test_a_suspended_tenant_is_an_error(tenant_a):
    set_tenant_status(tenant=tenant_a, status="suspended", actor=Actor.system())

    assert "suspended" in run_failing("firm-a", "--app-secret", APP_SECRET)
    assert saved(tenant_a) is None


@pytest.mark.parametrize(
    "args, named",
    [
        (["--app-secret", " " + APP_SECRET], "--app-secret"),
        (["--verify-token", "short"], "--verify-token"),
        (["--access-token", ""], "--access-token"),
        (["--waba-id", "102290129340398", "--waba-id", "WABA-1"], "--waba-id"),
    ],
    ids=["spaces", "too short", "empty", "not digits"],
)
def test_bad_values_are_refused_and_nothing_changes(tenant_a, args, named):
    save_whatsapp_settings(
        tenant=tenant_a,
        app_secret=APP_SECRET,
        verify_token=VERIFY_TOKEN,
        waba_ids=["1"],
        actor=Actor.system(),
    )
    before = snapshot(tenant_a)

    # A good value next to the bad one is not saved either.
    message = run_failing("firm-a", "--access-token", ACCESS_TOKEN, *args)

    assert named in message
    assert snapshot(tenant_a) == before


def test_another_tenant_is_untouched(tenant_a, tenant_b):
    save_whatsapp_settings(tenant=tenant_b, app_secret="firm-b-secret-000000", actor=Actor.system())
    before = snapshot(tenant_b)

    run("firm-a", "--app-secret", APP_SECRET)

    assert snapshot(tenant_b) == before
