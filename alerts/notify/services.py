"""The verbs of notifications and notices, each audited: watching an alert, choosing one's
notifications, editing the firm's notice wording, and sending an employee a notice from a
closed alert."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from compliance_hub.accounts.models import User
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from ..models import Alert, AlertEvent, Status
from ..services import AlertError
from .models import AlertWatcher, Kind, NoticeKind, NoticeTemplate, NotificationPreference
from .notices import LANGUAGES, fill, one_line, template_problems
from .selectors import notice_text


class NoticeRefused(AlertError):
    """A notice that cannot be sent or saved; the text says why."""


def _person_of(actor: Actor) -> User:
    if actor.user is None:
        raise AlertError("Only a signed-in person can do this.")
    return actor.user


def set_watching(*, alert: Alert, actor: Actor, watching: bool) -> bool:
    """Start (or stop) hearing about ``alert``'s escalation and overdue time. Returns whether
    anything changed."""
    person = _person_of(actor)
    with tenant_scope(alert.tenant_id), transaction.atomic():
        if watching:
            _, changed = AlertWatcher.objects.get_or_create(
                tenant_id=alert.tenant_id, alert=alert, user=person
            )
        else:
            changed = bool(
                AlertWatcher.objects.filter(
                    tenant_id=alert.tenant_id, alert=alert, user=person
                ).delete()[0]
            )
        if changed:
            record_event(
                "alert.watched" if watching else "alert.unwatched",
                tenant=alert.tenant, actor=actor, target=alert,
            )  # fmt: skip
    return changed


def save_preferences(
    *, tenant: Tenant, actor: Actor, kinds: Sequence[str], daily_digest: bool
) -> NotificationPreference:
    """The signed-in member's choice of notifications in ``tenant``."""
    person = _person_of(actor)
    valid = {str(k) for k in Kind}
    chosen = sorted({k for k in kinds if k in valid})
    with tenant_scope(tenant), transaction.atomic():
        pref, _ = NotificationPreference.objects.update_or_create(
            tenant=tenant, user=person,
            defaults={"kinds": chosen, "daily_digest": daily_digest},
        )  # fmt: skip
        record_event(
            "alert.notifications_chosen", tenant=tenant, actor=actor,
            details={"kinds": chosen, "daily_digest": daily_digest},
        )  # fmt: skip
    return pref


def save_notice_template(
    *, tenant: Tenant, actor: Actor, kind: str, language: str, subject: str, body: str
) -> NoticeTemplate:
    """An admin's wording of notice ``kind`` in ``language`` (refused with the problems found:
    unknown placeholders, empty or too long texts)."""
    if kind not in NoticeKind.values or language not in LANGUAGES:
        raise NoticeRefused("Choose one of the notices and languages listed.")
    subject, body = subject.strip(), body.strip()
    problems = template_problems(subject, body)
    if problems:
        raise NoticeRefused(" ".join(problems))
    with tenant_scope(tenant), transaction.atomic():
        template, _ = NoticeTemplate.objects.update_or_create(
            tenant=tenant, kind=kind, language=language,
            defaults={"subject": subject, "body": body},
        )  # fmt: skip
        record_event(
            "alert.notice_template_saved", tenant=tenant, actor=actor, target=template,
            details={"kind": kind, "language": language},
        )  # fmt: skip
    return template


def reset_notice_template(*, tenant: Tenant, actor: Actor, kind: str, language: str) -> bool:
    """Back to the built-in wording. Returns whether the firm had its own."""
    with tenant_scope(tenant), transaction.atomic():
        removed = NoticeTemplate.objects.filter(
            tenant=tenant, kind=kind, language=language
        ).delete()[0]
        if removed:
            record_event(
                "alert.notice_template_reset", tenant=tenant, actor=actor,
                details={"kind": kind, "language": language},
            )  # fmt: skip
    return bool(removed)


def send_employee_notice(*, alert: Alert, actor: Actor, kind: str, language: str) -> AlertEvent:
    """Send the alert's employee the firm's notice ``kind`` in ``language``, by email (after
    commit, from a worker). Only from a closed alert, and only to an email on record. The text
    sent is kept on the alert's history, so the record shows exactly what the employee read."""
    from .tasks import send_notice_task

    person = _person_of(actor)
    if kind not in NoticeKind.values or language not in LANGUAGES:
        raise NoticeRefused("Choose one of the notices and languages listed.")
    with tenant_scope(alert.tenant_id), transaction.atomic():
        current = (
            Alert.objects.select_related("tenant", "employee", "policy", "message")
            .select_for_update(of=("self",))
            .get(pk=alert.pk)
        )
        if current.status != Status.CLOSED:
            raise NoticeRefused("Close the alert before telling the employee about it.")
        employee = current.employee
        if not employee.email.strip():
            # Not named: the officer may be reviewing under pseudonyms (alerts/masking.py).
            raise NoticeRefused(
                "This employee has no email address on record: add one on their employee page "
                "first."
            )
        text = notice_text(current.tenant, kind, language)
        values = {
            "employee": employee.full_name,
            "firm": current.tenant.name,
            "policy": current.policy.name,
            "date": current.message.whatsapp_timestamp.date().isoformat(),
            "officer": person.full_name or person.email,
        }
        details = {
            "notice": kind, "language": language, "to": employee.email,
            "subject": one_line(fill(text.subject, values)), "body": fill(text.body, values),
        }  # fmt: skip
        event = AlertEvent.objects.create(
            tenant_id=current.tenant_id, alert=current, actor=person, actor_label=actor.label,
            action=AlertEvent.Action.NOTICE_SENT, details=details,
        )  # fmt: skip
        record_event(
            "alert.notice_sent", tenant=current.tenant, actor=actor, target=current,
            details={"notice": kind, "language": language, "to": employee.email},
        )  # fmt: skip
        tenant_id, event_id = current.tenant_id, event.pk
        transaction.on_commit(
            lambda: send_notice_task.delay(tenant_id=tenant_id, event_id=event_id)
        )
    return event
