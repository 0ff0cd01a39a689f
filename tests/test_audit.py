"""The audit trail: append-only in the database, written for every human action, readable by
auditors with filters."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.utils import DatabaseError

from compliance_hub.accounts import services as account_services
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.audit.services import record_event
from compliance_hub.db_roles import set_role
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Membership, Role
from tests.database import attempt
from tests.fixtures import login


@pytest.fixture
def event(tenant_a):
    return record_event("test.action", tenant=tenant_a, actor=Actor.command("someone"))


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE compliance_hub_auditevent SET action = 'forged' WHERE id = %s",
        "DELETE FROM compliance_hub_auditevent WHERE id = %s",
    ],
)
def test_the_application_role_cannot_change_or_remove_audit_rows(tenant_a, event, sql):
    with tenant_scope(tenant_a):
        outcome = attempt(sql, [event.pk])
        assert "permission denied" in outcome
        assert AuditEvent.objects.get(pk=event.pk).action == "test.action"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE compliance_hub_auditevent SET action = 'forged' WHERE id = %s",
        "DELETE FROM compliance_hub_auditevent WHERE id = %s",
        "TRUNCATE compliance_hub_auditevent",
    ],
)
def test_a_trigger_rejects_changes_even_by_the_table_owner(tenant_a, event, sql):
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_a.pk)])
        # Deferred foreign-key checks of this test's transaction would block TRUNCATE first.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    try:
        outcome = attempt(sql, [event.pk] if "%s" in sql else [])
    finally:
        set_role(connection, settings.DB_APP_ROLE)
    assert "append-only" in outcome
    with tenant_scope(tenant_a):
        assert AuditEvent.objects.get(pk=event.pk).action == "test.action"


def test_orm_updates_and_deletes_are_refused_too(tenant_a, event):
    with tenant_scope(tenant_a):
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).update(action="forged")
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).delete()
        assert AuditEvent.objects.get(pk=event.pk).action == "test.action"


def test_invitations_and_membership_changes_are_audited(rf, tenant_a, alice, oscar):
    request = rf.post("/members/", REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Firefox/140")
    invitation, _ = account_services.invite_user(
        tenant=tenant_a,
        email="new@firm-a.example",
        role=Role.AUDITOR,
        actor=Actor.for_user(alice.user, request),
    )
    account_services.revoke_invitation(
        invitation=invitation, actor=Actor.for_user(alice.user, request)
    )
    membership = Membership.objects.get(tenant=tenant_a, user=oscar.user)
    account_services.change_membership(
        membership=membership, role=Role.AUDITOR, actor=Actor.for_user(alice.user, request)
    )
    account_services.change_membership(
        membership=membership, is_active=False, actor=Actor.for_user(alice.user, request)
    )
    with tenant_scope(tenant_a):
        events = {e.action: e for e in AuditEvent.objects.filter(actor=alice.user)}
    assert {
        "invitation.created",
        "invitation.revoked",
        "membership.role_changed",
        "membership.deactivated",
    } <= set(events)
    changed = events["membership.role_changed"]
    assert changed.ip_address == "203.0.113.7"
    assert changed.user_agent == "Firefox/140"
    assert changed.target_label == oscar.email
    assert changed.details["before"]["role"] == Role.OFFICER
    assert changed.details["after"]["role"] == Role.AUDITOR


def test_auditor_pages_through_the_trail_with_filters(client, tenant_a, audrey, tenant_b, bob):
    for number in range(60):
        record_event(
            f"test.bulk{number % 2}", tenant=tenant_a, actor=Actor.command(f"robot{number}")
        )
    record_event("test.secret", tenant=tenant_b, actor=Actor.command("firm-b-robot"))
    login(client, audrey)
    first = client.get("/audit/")
    assert first.status_code == 200
    body = first.content.decode()
    assert "robot59" in body and "firm-b-robot" not in body
    assert client.get("/audit/?page=2").status_code == 200
    filtered = client.get("/audit/?action=test.bulk1").content.decode()
    assert "robot59" in filtered and "robot58" not in filtered
    export = client.get("/audit/export.csv?action=test.bulk0")
    assert export.status_code == 200
    rows = export.content.decode().strip().splitlines()
    assert rows[0].startswith("time_utc,actor,action")
    assert len(rows) == 31 and "firm-b-robot" not in export.content.decode()


def test_officers_cannot_read_the_audit_trail(client, tenant_a, oscar):
    login(client, oscar)
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403


def test_audit_api_filters_and_pages(api_client_for, tenant_a, tenant_b):
    for number in range(3):
        record_event("membership.created", tenant=tenant_a, actor=Actor.command(f"p{number}"))
    record_event("membership.created", tenant=tenant_b, actor=Actor.command("other-firm"))
    api = api_client_for(tenant_a, Role.AUDITOR)
    response = api.get("/api/v1/audit-events/", {"action": "membership."})
    assert response.status_code == 200
    labels = [row["actor"] for row in response.json()["results"]]
    assert {"p0", "p1", "p2"} <= set(labels) and "other-firm" not in labels
    assert api_client_for(tenant_a, Role.OFFICER).get("/api/v1/audit-events/").status_code == 403
