"""Telling people about alerts: who is told of what (the recipients of each kind), their
preferences, the Notification row that makes it happen once, and the email itself.

What an email says: the kind, the alert's number, the employee's name (their pseudonym for a
reviewer of a firm that pseudonymises, alerts/masking.py), the policy and a link.
Never the message or the client's number: email leaves the archive, the link does not (the page
asks the reader to sign in and records the read)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from compliance_hub.accounts.models import User
from compliance_hub.tenancy.models import Tenant

from ..masking import masking_of_member
from ..models import Alert
from .models import Kind, Notification
from .notices import one_line
from .selectors import members_among, preferences_of, site_link

log = logging.getLogger(__name__)

SUBJECTS = {
    Kind.HIGH_SEVERITY: "New {severity} alert on a message from {employee}",
    Kind.ASSIGNED: "Alert {alert} on a message from {employee} is assigned to you",
    Kind.MENTIONED: "{actor} mentioned you on alert {alert}",
    Kind.OVERDUE: "Alert {alert} on a message from {employee} is overdue",
    Kind.ESCALATED: "Alert {alert} on a message from {employee} was escalated",
}


@dataclass(frozen=True)
class Occasion:
    """One thing that happened to an alert that people may be told about."""

    alert: Alert
    kind: Kind
    key: str  # unique per alert and occurrence: "raised", "overdue", "event:12", "comment:7"
    actor: User | None = None  # who did it: never told about their own action
    actor_name: str = ""


def alert_link(alert: Alert) -> str:
    return site_link(reverse("alerts:alert", args=[alert.pk]))


def _words(occasion: Occasion, person: User) -> dict[str, str]:
    alert = occasion.alert
    # A reviewer of a firm that pseudonymises reads the pseudonym in their inbox too.
    masking = masking_of_member(tenant=alert.tenant, user=person, alerts=[alert])
    return {
        "alert": str(alert.pk),
        "employee": masking.employee_name(alert),
        "severity": alert.severity,
        "actor": occasion.actor_name or "Someone",
        "policy": alert.policy.name,
    }


def _send(occasion: Occasion, person: User) -> None:
    words = _words(occasion, person)
    subject = one_line(SUBJECTS[occasion.kind].format(**words))
    body = render_to_string(
        "alerts/notify/email.txt",
        {"kind": occasion.kind, "words": words, "person": person, "alert": occasion.alert,
         "link": alert_link(occasion.alert), "tenant": occasion.alert.tenant,
         "preferences": site_link(reverse("alerts:notifications"))},
    )  # fmt: skip
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [person.email])


def notify(*, tenant: Tenant, occasion: Occasion, recipients: Iterable[User]) -> int:
    """Tell each of ``recipients`` who is still a member, is not the actor and chose this kind:
    at once, or kept for their daily digest. A retried call tells nobody twice (the
    notification's unique key). Returns how many emails went out now."""
    actor_id = occasion.actor.pk if occasion.actor is not None else None
    people = [p for p in members_among(tenant, {r.pk for r in recipients}) if p.pk != actor_id]
    chosen = preferences_of(tenant, people)
    sent = 0
    for person in people:
        kinds, digest = chosen[person.pk]
        if occasion.kind not in kinds or not person.email:
            continue
        note, _ = Notification.objects.get_or_create(
            tenant=tenant, user=person, alert=occasion.alert, key=occasion.key,
            defaults={"kind": occasion.kind},
        )  # fmt: skip
        if digest or note.sent_at is not None:
            continue
        _send(occasion, person)
        note.sent_at = timezone.now()
        note.save(update_fields=["sent_at"])
        sent += 1
    return sent


def send_digest(*, tenant: Tenant, user: User) -> int:
    """One email listing what ``user`` has waiting in ``tenant``; returns how many it listed."""
    pending = list(
        Notification.objects.filter(tenant=tenant, user=user, sent_at__isnull=True)
        .select_related("alert__employee", "alert__policy")
        .order_by("created_at", "pk")
    )
    if not pending or not user.email:
        return 0
    masking = masking_of_member(tenant=tenant, user=user, alerts=[n.alert for n in pending])
    items = [
        {"kind": n.get_kind_display(), "alert": n.alert, "link": alert_link(n.alert),
         "employee": masking.employee_name(n.alert)}
        for n in pending
    ]  # fmt: skip
    count = len(items)
    subject = f"Your alerts digest: {count} update{'' if count == 1 else 's'} in {tenant.name}"
    body = render_to_string(
        "alerts/notify/digest.txt",
        {"items": items, "tenant": tenant,
         "preferences": site_link(reverse("alerts:notifications"))},
    )  # fmt: skip
    send_mail(one_line(subject), body, settings.DEFAULT_FROM_EMAIL, [user.email])
    Notification.objects.filter(pk__in=[n.pk for n in pending]).update(sent_at=timezone.now())
    return count
