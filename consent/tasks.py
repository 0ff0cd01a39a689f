"""Celery entry points of the consent app."""

from __future__ import annotations

from celery import shared_task

from compliance_hub.accounts.models import User
from compliance_hub.audit.actors import Actor
from compliance_hub.celery import tenant_task
from compliance_hub.tenancy.models import Tenant

from .models import ConsentInvitation, ConsentNotice, Employee
from .services import ConsentError, expire_overdue_consents, invite_employee


@tenant_task(name="consent.expire_overdue", queue="default")
def expire_overdue_consents_task(*, tenant_id: int) -> int:
    return expire_overdue_consents(
        tenant=Tenant.objects.get(pk=tenant_id), actor=Actor.task(user=None)
    )


@shared_task(name="consent.expire_overdue_all", queue="default")
def expire_overdue_for_all_tenants_task() -> None:
    """Beat: fan out one task per active tenant (platform code: lists tenants, reads no content)."""
    for tenant_id in Tenant.objects.filter(status=Tenant.Status.ACTIVE).values_list(
        "pk", flat=True
    ):
        expire_overdue_consents_task.delay(tenant_id=tenant_id)


@tenant_task(name="consent.send_invitations", queue="default")
def send_consent_invitations_task(
    *, tenant_id: int, employee_ids: list[int], notice_id: int, actor_id: int | None
) -> int:
    """Invite these employees to the notice (bulk invitation). Idempotent enough to retry: an
    employee who answered or got an open invitation meanwhile is skipped."""
    notice = ConsentNotice.objects.filter(
        pk=notice_id, status=ConsentNotice.Status.PUBLISHED
    ).first()
    if notice is None:
        return 0
    actor = Actor.task(user=User.objects.filter(pk=actor_id).first() if actor_id else None)
    sent = 0
    for employee in Employee.objects.filter(pk__in=employee_ids, active=True):
        if ConsentInvitation.objects.filter(
            employee=employee, notice=notice, responded_at__isnull=True, revoked_at__isnull=True
        ).exists():
            continue
        try:
            invite_employee(employee=employee, actor=actor, notice=notice)
        except ConsentError:
            continue  # consented (or was offboarded) since the batch was queued
        sent += 1
    return sent
