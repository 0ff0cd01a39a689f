"""Inviting employees to read the current notice and answer it."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from ..errors import AlreadyConsented, ConsentError
from ..models import (
    ConsentInvitation,
    ConsentNotice,
    Employee,
)
from ..selectors import (
    consented_version,
    current_notice,
    employees_to_invite,
)
from ._common import _absolute, _token_pair

CONSENT_INVITATION_TTL = timedelta(days=14)


def invite_employee(
    *,
    employee: Employee,
    actor: Actor,
    base_url: str = "",
    notice: ConsentNotice | None = None,
) -> tuple[ConsentInvitation, str]:
    """Send the employee a single-use link to read the current notice and accept or decline."""
    if not employee.active:
        raise ConsentError("A deactivated employee cannot be invited.")
    tenant = employee.tenant
    notice = notice or current_notice(tenant=tenant)
    if notice is None or not notice.is_published:
        raise ConsentError("Publish a consent notice first.")
    token, token_digest = _token_pair(tenant.pk)
    now = timezone.now()
    with tenant_scope(tenant):
        covered = consented_version(employee)
        if covered is not None and covered >= (notice.version or 0):
            raise AlreadyConsented(
                f"{employee.full_name} already consented to notice version {covered}: "
                "no invitation is needed."
            )
        ConsentInvitation.objects.filter(
            employee=employee, responded_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        invitation = ConsentInvitation.objects.create(
            tenant=tenant,
            employee=employee,
            notice=notice,
            token_hash=token_digest,
            language=employee.language,
            expires_at=now + CONSENT_INVITATION_TTL,
            sent_by=actor.user,
        )
        record_event(
            "consent.invitation_sent",
            tenant=tenant,
            actor=actor,
            target=employee,
            details={"notice_version": notice.version, "invitation": invitation.pk},
        )
    link = _absolute(reverse("consent:respond", args=[token]), base_url)
    with translation.override(employee.language):
        body = render_to_string(
            "consent/email/invitation.txt",
            {"employee": employee, "tenant": tenant, "link": link, "invitation": invitation},
        )
        subject = _("%(firm)s: please read the WhatsApp monitoring notice") % {"firm": tenant.name}
    transaction.on_commit(
        lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [employee.email])
    )
    return invitation, link


def invite_employees_in_bulk(*, tenant: Tenant, actor: Actor) -> int:
    """Queue an invitation to the current notice for everyone who needs one (see
    selectors.employees_to_invite); the emails go out from a worker. Returns how many."""
    # consent.tasks imports the services: import it late.
    from ..tasks import send_consent_invitations_task

    notice = current_notice(tenant=tenant)
    if notice is None:
        raise ConsentError("Publish a consent notice first.")
    with tenant_scope(tenant):
        employee_ids = list(
            employees_to_invite(tenant=tenant, notice_version=notice.version).values_list(
                "pk", flat=True
            )
        )
        if not employee_ids:
            return 0
        record_event(
            "consent.bulk_invitation",
            tenant=tenant,
            actor=actor,
            target=notice,
            details={"notice_version": notice.version, "employees": len(employee_ids)},
        )
    # The worker sends in the name of the person who asked (an API key or the system: nobody).
    actor_id = actor.user.pk if actor.user is not None else None
    for start in range(0, len(employee_ids), 200):
        transaction.on_commit(
            partial(
                send_consent_invitations_task.delay,
                tenant_id=tenant.pk,
                employee_ids=employee_ids[start : start + 200],
                notice_id=notice.pk,
                actor_id=actor_id,
            )
        )
    return len(employee_ids)
