"""The platform CLIs: create_tenant, create_api_key, invite, set_tenant_status."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from compliance_hub.accounts.models import Invitation
from compliance_hub.api.models import ApiKey
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_create_tenant_and_its_audit_event(db):
    output = run("create_tenant", "acme-bank", "--name", "ACME Bank")
    assert "Created tenant acme-bank" in output
    tenant = Tenant.objects.get(slug="acme-bank")
    assert tenant.name == "ACME Bank" and tenant.is_active
    with tenant_scope(tenant):
        assert AuditEvent.objects.filter(action="tenant.created").count() == 1


@pytest.mark.parametrize("slug", ["Bad Slug", "-leading", "x" * 60, "ümlaut"])
def test_create_tenant_rejects_bad_slugs_and_creates_nothing(db, slug):
    with pytest.raises(CommandError):
        run("create_tenant", slug, "--name", "Whatever")
    assert not Tenant.objects.exists()


def test_create_tenant_refuses_a_duplicate(db):
    run("create_tenant", "acme", "--name", "ACME")
    with pytest.raises(CommandError, match="already exists"):
        run("create_tenant", "acme", "--name", "ACME again")
    assert Tenant.objects.count() == 1


def test_create_api_key_prints_a_working_key_as_the_last_line(tenant_a):
    output = run("create_api_key", tenant_a.slug, "--role", "auditor")
    key = output.strip().splitlines()[-1]
    assert key.startswith("chk_")
    assert ApiKey.objects.get(tenant=tenant_a).role == "auditor"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert client.get("/api/v1/me/").json()["role"] == "auditor"


def test_create_api_key_for_an_unknown_tenant_fails_clearly(db):
    with pytest.raises(CommandError, match="No tenant with slug 'ghost'"):
        run("create_api_key", "ghost", "--role", "admin")


def test_create_api_key_rejects_an_unknown_role(tenant_a):
    with pytest.raises(CommandError):
        run("create_api_key", tenant_a.slug, "--role", "king")
    assert not ApiKey.objects.exists()


def test_invite_prints_the_link_and_stores_only_a_hash(tenant_a):
    output = run("invite", tenant_a.slug, "first.admin@firm-a.example", "--role", "admin")
    link = output.strip().splitlines()[-1]
    assert "/join/" in link
    secret = link.rstrip("/").rsplit(".", 1)[-1]
    with tenant_scope(tenant_a):
        invitation = Invitation.objects.get()
    assert invitation.email == "first.admin@firm-a.example" and invitation.role == "admin"
    assert secret not in invitation.token_hash


def test_invite_rejects_a_bad_address(tenant_a):
    with pytest.raises(CommandError):
        run("invite", tenant_a.slug, "not-an-address", "--role", "admin")
    with tenant_scope(tenant_a):
        assert not Invitation.objects.exists()


def test_suspending_a_tenant_blocks_its_cli_use(tenant_a):
    run("set_tenant_status", tenant_a.slug, "suspended")
    with pytest.raises(CommandError, match="suspended"):
        run("create_api_key", tenant_a.slug, "--role", "admin")
