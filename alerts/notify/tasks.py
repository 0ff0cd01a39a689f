"""Celery entry points of notifications: mail never goes out inside a request or a scan.
Thin: they find the tenants and call alerts/notify/reactions.py and delivery.py."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail

from compliance_hub.accounts.models import User
from compliance_hub.celery import tenant_task
from compliance_hub.tenancy.context import unscoped
from compliance_hub.tenancy.models import Tenant

from ..models import AlertEvent
from .delivery import send_digest
from .models import Notification, NotificationPreference
from .reactions import after_event, after_raised, notify_overdue, tenants_with_overdue_alerts


@tenant_task(name="alerts.notify_event", queue="default")
def notify_event_task(*, tenant_id: int, event_id: int) -> int:
    return after_event(tenant=Tenant.objects.get(pk=tenant_id), event_id=event_id)


@tenant_task(name="alerts.notify_raised", queue="default")
def notify_raised_task(*, tenant_id: int, alert_ids: list[int]) -> int:
    return after_raised(tenant=Tenant.objects.get(pk=tenant_id), alert_ids=alert_ids)


@tenant_task(name="alerts.notify_overdue_of_tenant", queue="default")
def notify_overdue_of_tenant_task(*, tenant_id: int) -> int:
    return notify_overdue(tenant=Tenant.objects.get(pk=tenant_id))


@shared_task(name="alerts.notify_overdue", queue="default")
def notify_overdue_task() -> int:
    """Beat: each tenant with an alert past its due time that nobody was told about."""
    tenant_ids = tenants_with_overdue_alerts()
    for tenant_id in tenant_ids:
        notify_overdue_of_tenant_task.delay(tenant_id=tenant_id)
    return len(tenant_ids)


@tenant_task(name="alerts.send_digests_of_tenant", queue="default")
def send_digests_of_tenant_task(*, tenant_id: int) -> int:
    tenant = Tenant.objects.get(pk=tenant_id)
    waiting = (
        NotificationPreference.objects.filter(tenant=tenant, daily_digest=True)
        .filter(user_id__in=Notification.objects.filter(tenant=tenant, sent_at__isnull=True)
                .values("user_id"))
        .values_list("user_id", flat=True)
    )  # fmt: skip
    return sum(send_digest(tenant=tenant, user=u) for u in User.objects.filter(pk__in=waiting))


@shared_task(name="alerts.send_digests", queue="default")
def send_digests_task() -> int:
    """Beat, daily: each tenant where someone has notifications waiting for their digest."""
    with unscoped():  # platform code: which tenants, nothing of their content
        tenant_ids = list(
            Notification.all_tenants.filter(
                sent_at__isnull=True, tenant__status=Tenant.Status.ACTIVE
            )
            .values_list("tenant_id", flat=True)
            .distinct()
        )
    for tenant_id in tenant_ids:
        send_digests_of_tenant_task.delay(tenant_id=tenant_id)
    return len(tenant_ids)


@tenant_task(name="alerts.send_notice", queue="default")
def send_notice_task(*, tenant_id: int, event_id: int) -> int:
    """The email of a notice recorded by send_employee_notice (its text is in the event)."""
    event = AlertEvent.objects.filter(
        tenant=Tenant.objects.get(pk=tenant_id), pk=event_id, action=AlertEvent.Action.NOTICE_SENT
    ).first()
    if event is None:
        return 0
    facts = event.details
    send_mail(
        str(facts["subject"]), str(facts["body"]), settings.DEFAULT_FROM_EMAIL, [str(facts["to"])]
    )
    return 1
