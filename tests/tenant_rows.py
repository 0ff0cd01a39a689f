"""One row-maker per tenant-owned model, used by the RLS and cross-tenant tests.

A new tenant-owned model MUST add its maker here: tests/test_rls.py fails for a model without
one, so no table escapes the isolation tests.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from compliance_hub.accounts.services import invite_user
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.models import Role, Tenant


def make_invitation(tenant: Tenant) -> None:
    invite_user(
        tenant=tenant,
        email=f"invitee@{tenant.slug}.example",
        role=Role.OFFICER,
        actor=Actor.system(),
    )


def make_audit_event(tenant: Tenant) -> None:
    record_event("test.row", tenant=tenant, actor=Actor.command(f"marker-{tenant.slug}"))


def make_employee_with_consent(tenant: Tenant) -> None:
    """An employee with a team, a number assignment, an invitation and a recorded consent: one
    row in each consent table (the tenant's default notice exists from its creation)."""
    from consent import services as consent

    team = consent.create_team(tenant=tenant, name=f"Team {tenant.slug}", actor=Actor.system())
    number = {"firm-a": "+5511987650001", "firm-b": "+5511987650002"}.get(
        tenant.slug, "+5511987650003"
    )
    employee = consent.create_employee(
        tenant=tenant,
        data=consent.EmployeeData(
            full_name=f"Employee of {tenant.slug}",
            email=f"employee@{tenant.slug}.example",
            employee_id=f"E-{tenant.slug}",
            phone_number=number,
            team=team,
            region="BR",
            whatsapp_phone_number_id=str(100000 + tenant.pk),
        ),
        actor=Actor.system(),
    )
    consent.invite_employee(employee=employee, actor=Actor.system())
    consent.record_consent(
        employee=employee, actor=Actor.system(), evidence_reference=f"paper {tenant.slug}"
    )


def make_employee_import(tenant: Tenant) -> None:
    from compliance_hub.tenancy.context import tenant_scope
    from consent.models import EmployeeImport

    with tenant_scope(tenant):
        EmployeeImport.objects.create(
            tenant=tenant, filename=f"{tenant.slug}.csv", sha256="0" * 64, total_lines=0
        )


def make_capture_rows(tenant: Tenant) -> None:
    """Connection settings, a delivery, a refusal, and an archived conversation with a message,
    an event and an attachment (needs the employee of make_employee_with_consent)."""
    from datetime import UTC, datetime

    from django.utils import timezone

    from archive.models import Attachment, CallRecord, Message
    from archive.services import (
        ConversationKey,
        EventRecord,
        MessageRecord,
        archive_events,
        archive_messages,
        record_stored_file,
    )
    from compliance_hub.tenancy.context import tenant_scope
    from consent.models import Employee
    from ingestion.models import CaptureNotice, Refusal
    from ingestion.services import receive_delivery, save_whatsapp_settings

    save_whatsapp_settings(
        tenant=tenant, app_secret=f"secret-{tenant.slug}-000", actor=Actor.system()
    )
    delivery = receive_delivery(tenant=tenant, body=b'{"object": "x"}', headers={})
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    with tenant_scope(tenant):
        employee = Employee.objects.get(employee_id=f"E-{tenant.slug}")
        Refusal.objects.create(
            tenant=tenant,
            delivery=delivery,
            phone_number_id="1",
            wamid=f"wamid.R{tenant.pk}",
            kind="message",
            reason="unknown_number",
        )
        archive_messages(
            tenant=tenant,
            records=[
                MessageRecord(
                    conversation=ConversationKey(
                        employee.pk, employee.whatsapp_phone_number_id, "5511"
                    ),
                    counterparty={"wa_id": "5511", "name": f"client of {tenant.slug}"},
                    business_display_number="5511",
                    wamid=f"wamid.M{tenant.pk}",
                    direction="inbound",
                    type="image",
                    whatsapp_timestamp=moment,
                    received_at=moment,
                    text=f"marker-{tenant.slug}",
                    structured={},
                    context={},
                    is_history=False,
                    flags=[],
                    raw={},
                    delivery_id=delivery.pk,
                )
            ],
        )
        archive_events(
            tenant=tenant,
            records=[
                EventRecord(
                    kind="reaction",
                    event_key=f"reaction:wamid.E{tenant.pk}",
                    target_wamid=f"wamid.M{tenant.pk}",
                    direction="inbound",
                    whatsapp_timestamp=moment,
                    received_at=moment,
                    payload={"emoji": "👍"},
                    raw={},
                    delivery_id=delivery.pk,
                )
            ],
        )
        CallRecord.objects.create(
            tenant=tenant,
            employee=employee,
            event_key=f"call:{tenant.pk}",
            call_id=f"c{tenant.pk}",
            event="terminate",
            business_phone_number_id=employee.whatsapp_phone_number_id,
            whatsapp_timestamp=moment,
        )
        CaptureNotice.objects.create(
            tenant=tenant,
            kind="partner_removed",
            dedupe_key=f"pr:{tenant.pk}",
            message=f"capture stopped for marker-{tenant.slug}",
        )
        attachment = Attachment.objects.create(
            tenant=tenant, message=Message.objects.get(wamid=f"wamid.M{tenant.pk}"),
            media_id=f"media-{tenant.pk}", mime_type="image/jpeg",
        )  # fmt: skip
        # As media.py leaves a stored one: the attachment stored, and its proof (a leaf).
        Attachment.objects.filter(pk=attachment.pk).update(
            status=Attachment.Status.STORED, sha256="ab" * 32, size=3,
            file=f"attachments/{tenant.pk}/ab/{'ab' * 32}", stored_at=timezone.now(),
        )  # fmt: skip
        attachment.refresh_from_db()
        record_stored_file(tenant=tenant, attachment=attachment)


def make_ledger_rows(tenant: Tenant) -> None:
    """The Merkle log of the records made above: a checkpoint (head, leaves, key, checkpoint,
    anchored in the test run's own folder), a tombstone, a leaf queued for the next checkpoint,
    and one stored tree node (a real one needs 256 leaves, and every row made here multiplies
    the cross-tenant walk, so this one is written directly)."""
    from archive.ledger.models import LogLeaf, LogNode
    from archive.ledger.services import checkpoint_and_anchor, record_tombstone
    from compliance_hub.tenancy.context import tenant_scope

    checkpoint_and_anchor(tenant=tenant)
    with tenant_scope(tenant):
        first = LogLeaf.objects.order_by("leaf_index").first()
        LogNode.objects.create(tenant=tenant, level=8, node_index=0, hash=bytes(32))
    record_tombstone(
        tenant=tenant,
        record_table=first.record_table,
        record_id=first.record_id,
        reason=f"marker-{tenant.slug} retention test",
        actor=Actor.system(),
    )


def make_saved_search(tenant: Tenant) -> None:
    """A saved search changed once: the search and two versions."""
    from archive.search.services import create_saved_search, update_saved_search
    from compliance_hub.tenancy.context import tenant_scope

    with tenant_scope(tenant):
        saved = create_saved_search(
            tenant=tenant, actor=Actor.system(), name=f"marker-{tenant.slug}", query="shares",
            filters={},
        )  # fmt: skip
        update_saved_search(saved=saved, actor=Actor.system(), query="shares OR acoes")


def make_legal_hold(tenant: Tenant) -> None:
    """A legal hold on the tenant's saved search (made by make_saved_search, just before)."""
    from archive.holds.services import place_hold
    from archive.search.models import SavedSearch
    from compliance_hub.tenancy.context import tenant_scope

    with tenant_scope(tenant):
        saved = SavedSearch.objects.get(tenant=tenant, name=f"marker-{tenant.slug}")
        place_hold(
            tenant=tenant, actor=Actor.system(), matter=f"marker-{tenant.slug}",
            reason="Row for the isolation tests", saved_search=saved.pk,
        )  # fmt: skip


def make_export(tenant: Tenant) -> None:
    """An export as it waits for a worker (made directly: queueing one would leave a task in
    Redis for whichever test's worker comes next)."""
    from archive.exporting.models import Export
    from compliance_hub.tenancy.context import tenant_scope

    with tenant_scope(tenant):
        Export.objects.create(
            tenant=tenant, requester="system", query=f"marker-{tenant.slug}", formats=["csv"]
        )


def make_retention_rows(tenant: Tenant) -> None:
    """A retention policy and a refused erasure request with its restriction."""
    from datetime import date

    from archive.retention.models import ErasureRequest, SubjectRestriction
    from archive.retention.services import create_policy
    from compliance_hub.tenancy.context import tenant_scope

    create_policy(tenant=tenant, actor=Actor.system(), preset="finra_4511")
    with tenant_scope(tenant):
        request = ErasureRequest.objects.create(
            tenant=tenant, subject_kind="counterparty", counterparty_wa_id="5511999990000",
            law="gdpr", requested_by=f"marker-{tenant.slug}", requested_on=date(2026, 12, 1),
            recorded_by_label="system", decision="refused", basis="FINRA Rule 4511(b)",
        )  # fmt: skip
        SubjectRestriction.objects.create(
            tenant=tenant, erasure_request=request, subject_kind="counterparty",
            counterparty_wa_id="5511999990000",
        )  # fmt: skip


def make_policy(tenant: Tenant) -> None:
    """A policy with two versions (one row in each policies table)."""
    from compliance_hub.tenancy.context import tenant_scope
    from policies.services import create_policy, save_version

    document = {
        "name": f"Secrecy at {tenant.slug}",
        "severity": "high",
        "detect": {"detector": "classifier", "category": "secrecy", "min_score": 0.8},
    }
    with tenant_scope(tenant):
        policy, _ = create_policy(tenant=tenant, actor=Actor.system(), document=document)
        save_version(
            policy=policy, actor=Actor.system(), document={**document, "severity": "critical"}
        )


def make_policy_hit(tenant: Tenant) -> None:
    """A policy whose term rule fires on the message of make_capture_rows (made before), scanned:
    a message scan and a hit."""
    from archive.models import Message
    from compliance_hub.tenancy.context import tenant_scope
    from policies.scanning import scan_messages
    from policies.services import create_policy, set_active

    document = {
        "name": f"Markers at {tenant.slug}",
        "severity": "low",
        "detect": {"detector": "lexicon", "rule": "marker"},
        "lexicon": {"rules": [{"name": "marker", "category": "marker", "any": ["marker*"]}]},
    }
    with tenant_scope(tenant):
        policy, _ = create_policy(tenant=tenant, actor=Actor.system(), document=document)
        set_active(policy=policy, actor=Actor.system(), active=True)
        ids = list(Message.objects.values_list("pk", flat=True))
    assert scan_messages(tenant=tenant, message_ids=ids) >= 1


def make_alert_rows(tenant: Tenant) -> None:
    """The hit of make_policy_hit (made before) raised as an alert, claimed and commented on:
    a row in each alerts table."""
    from alerts.models import Alert
    from alerts.raising import raise_missing_alerts
    from alerts.services import add_comment, claim_alert
    from compliance_hub.accounts.models import User
    from compliance_hub.accounts.services import add_member
    from compliance_hub.tenancy.context import tenant_scope
    from compliance_hub.tenancy.models import Role

    raise_missing_alerts(tenant=tenant)
    officer = User.objects.create_user(f"officer-rows@{tenant.slug}.example", "x-Password-9")
    add_member(tenant=tenant, user=officer, role=Role.OFFICER, actor=Actor.system())
    with tenant_scope(tenant):
        alert = Alert.objects.first()
    assert alert is not None
    claim_alert(alert=alert, actor=Actor.for_user(officer))
    add_comment(alert=alert, actor=Actor.for_user(officer), body=f"Looked at {tenant.slug}")


def make_review_rows(tenant: Tenant) -> None:
    """Review settings (pseudonymised, an SLA changed) and an unmasking of the alert of
    make_alert_rows (made before) by its officer."""
    from alerts.masking import unmask_alert
    from alerts.models import Alert
    from alerts.review_settings import update_review_settings
    from compliance_hub.accounts.models import User
    from compliance_hub.tenancy.context import tenant_scope

    update_review_settings(
        tenant=tenant, actor=Actor.system(), pseudonymise=True, sla_hours={"high": 12}
    )
    officer = User.objects.get(email=f"officer-rows@{tenant.slug}.example")
    with tenant_scope(tenant):
        alert = Alert.objects.select_related("tenant").first()
    assert alert is not None
    unmask_alert(alert=alert, actor=Actor.for_user(officer), reason=f"Checking {tenant.slug}")


def make_stats_days(tenant: Tenant) -> None:
    """The dashboard's alerts of the last 30 days, shown once: its days that are over are
    kept."""
    from alerts.stats import default_range, series

    series(tenant=tenant, name="alerts-over-time", span=default_range(zone=ZoneInfo("UTC")))


def make_notification_rows(tenant: Tenant) -> None:
    """The officer of make_alert_rows (made before) watches the alert and chooses a daily
    digest, so a notification to them waits for it; the admin words a notice."""
    from alerts.models import Alert
    from alerts.notify.delivery import Occasion, notify
    from alerts.notify.models import Kind
    from alerts.notify.services import save_notice_template, save_preferences, set_watching
    from compliance_hub.accounts.models import User
    from compliance_hub.tenancy.context import tenant_scope

    officer = User.objects.get(email=f"officer-rows@{tenant.slug}.example")
    actor = Actor.for_user(officer)
    with tenant_scope(tenant):
        alert = Alert.objects.select_related("employee", "policy", "tenant").first()
        assert alert is not None
        set_watching(alert=alert, actor=actor, watching=True)
        save_preferences(tenant=tenant, actor=actor, kinds=[Kind.OVERDUE], daily_digest=True)
        overdue = Occasion(alert=alert, kind=Kind.OVERDUE, key="overdue")
        assert notify(tenant=tenant, occasion=overdue, recipients=[officer]) == 0  # waits
    save_notice_template(
        tenant=tenant, actor=Actor.system(), kind="warning", language="en",
        subject=f"Warning from {tenant.slug}", body="Hello {employee}",
    )  # fmt: skip


def make_scan_job(tenant: Tenant) -> None:
    """A backtest as it waits for a worker, of the policy make_policy made (made directly:
    queueing one would leave a task in Redis for whichever test's worker comes next)."""
    from datetime import UTC, date, datetime

    from compliance_hub.tenancy.context import tenant_scope
    from policies.models import Policy, ScanJob

    with tenant_scope(tenant):
        policy = Policy.objects.order_by("pk").first()
        assert policy is not None
        ScanJob.objects.create(
            tenant=tenant, kind=ScanJob.Kind.BACKTEST, policy=policy,
            document={"name": f"marker-{tenant.slug}"}, date_from=date(2026, 1, 1),
            date_to=date(2026, 1, 31), starts_at=datetime(2026, 1, 1, tzinfo=UTC),
            ends_at=datetime(2026, 2, 1, tzinfo=UTC), requested_by_label="system",
        )  # fmt: skip


def make_learning_rows(tenant: Tenant) -> None:
    """A trained firm model (as a candidate, without bytes: nothing scores with it) and the
    alert of make_alert_rows left out of training (made directly: training is slow)."""
    from alerts.learning.models import ExampleExclusion
    from alerts.models import Alert
    from compliance_hub.tenancy.context import tenant_scope
    from policies.models import FirmModel

    with tenant_scope(tenant):
        FirmModel.objects.create(
            tenant=tenant, status=FirmModel.Status.CANDIDATE, version=f"firm-{tenant.slug}",
            requested_by_label="system",
        )  # fmt: skip
        alert = Alert.objects.order_by("pk").first()
        assert alert is not None
        ExampleExclusion.objects.create(tenant=tenant, alert=alert, excluded_by_label="system")


ROW_MAKERS: dict[str, Callable[[Tenant], None]] = {
    "compliance_hub.Invitation": make_invitation,
    "compliance_hub.AuditEvent": make_audit_event,
    "consent.Team": make_employee_with_consent,
    "consent.Employee": make_employee_with_consent,
    "consent.NumberAssignment": make_employee_with_consent,
    "consent.ConsentNotice": make_employee_with_consent,
    "consent.ConsentInvitation": make_employee_with_consent,
    "consent.ConsentEvent": make_employee_with_consent,
    "consent.EmployeeImport": make_employee_import,
    "ingestion.WhatsAppSettings": make_capture_rows,
    "ingestion.Delivery": make_capture_rows,
    "ingestion.Refusal": make_capture_rows,
    "policies.Policy": make_policy,
    "policies.PolicyVersion": make_policy,
    "archive.Conversation": make_capture_rows,
    "archive.Message": make_capture_rows,
    "archive.MessageEvent": make_capture_rows,
    "archive.Attachment": make_capture_rows,
    "archive.AttachmentFile": make_capture_rows,
    "archive.CallRecord": make_capture_rows,
    "policies.MessageScan": make_policy_hit,
    "policies.PolicyHit": make_policy_hit,
    "policies.ScanJob": make_scan_job,
    "ingestion.CaptureNotice": make_capture_rows,
    "archive.LogHead": make_ledger_rows,
    "archive.PendingLeaf": make_ledger_rows,
    "archive.LogLeaf": make_ledger_rows,
    "archive.LogNode": make_ledger_rows,
    "archive.LogSigningKey": make_ledger_rows,
    "archive.LogCheckpoint": make_ledger_rows,
    "archive.Tombstone": make_ledger_rows,
    "archive.SavedSearch": make_saved_search,
    "archive.SavedSearchVersion": make_saved_search,
    "archive.LegalHold": make_legal_hold,
    "archive.Export": make_export,
    "archive.RetentionPolicy": make_retention_rows,
    "archive.ErasureRequest": make_retention_rows,
    "archive.SubjectRestriction": make_retention_rows,
    "alerts.Alert": make_alert_rows,
    "alerts.AlertEvent": make_alert_rows,
    "alerts.AlertComment": make_alert_rows,
    "alerts.ReviewSettings": make_review_rows,
    "alerts.Unmasking": make_review_rows,
    "alerts.StatsDay": make_stats_days,
    "policies.FirmModel": make_learning_rows,
    "alerts.ExampleExclusion": make_learning_rows,
    "alerts.AlertWatcher": make_notification_rows,
    "alerts.NotificationPreference": make_notification_rows,
    "alerts.Notification": make_notification_rows,
    "alerts.NoticeTemplate": make_notification_rows,
}


def make_rows_for(tenant: Tenant) -> None:
    for maker in dict.fromkeys(ROW_MAKERS.values()):  # each maker once, in order
        maker(tenant)
