"""Which alert changes tell whom. Called by the tasks (alerts/notify/tasks.py), after the
change committed; each function is safe to run twice (delivery.notify's unique key)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from compliance_hub.accounts.models import User
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import unscoped
from compliance_hub.tenancy.models import Tenant
from compliance_hub.tenancy.roles import REVIEWER_ROLES

from ..models import Alert, AlertComment, AlertEvent, Status
from .delivery import Occasion, notify
from .models import Kind
from .selectors import HIGH_SEVERITIES, members_among, supervisors, watcher_ids

OVERDUE_BATCH = 500
# What the post_save receiver hands to a task (anything else notifies nobody).
NOTIFYING_ACTIONS = frozenset(
    {AlertEvent.Action.ASSIGNED, AlertEvent.Action.TRANSITIONED, AlertEvent.Action.COMMENTED}
)


def _name(user: User | None, label: str) -> str:
    if user is None:
        return "Compliance Hub"
    return user.full_name or user.email or label


def after_event(*, tenant: Tenant, event_id: int) -> int:
    """Tell people about one change of an alert (its AlertEvent): the new assignee, the
    supervisors and watchers of an escalation, the members mentioned in a comment."""
    event = (
        AlertEvent.objects.filter(tenant=tenant, pk=event_id)
        .select_related("alert__employee", "alert__policy", "alert__tenant", "actor")
        .first()
    )
    if event is None:
        return 0
    alert = event.alert
    name = _name(event.actor, event.actor_label)

    def occasion(kind: Kind, key: str) -> Occasion:
        return Occasion(alert=alert, kind=kind, key=key, actor=event.actor, actor_name=name)

    if event.action == AlertEvent.Action.ASSIGNED:
        email = str(event.details.get("assignee", ""))
        people = [u for u in _reviewers(tenant) if email and u.email == email]
        return notify(
            tenant=tenant, occasion=occasion(Kind.ASSIGNED, f"event:{event.pk}"), recipients=people
        )
    if event.action == AlertEvent.Action.TRANSITIONED and event.to_status == Status.ESCALATED:
        people = supervisors(tenant) + members_among(tenant, watcher_ids(tenant, alert))
        return notify(
            tenant=tenant, occasion=occasion(Kind.ESCALATED, f"event:{event.pk}"), recipients=people
        )
    if event.action == AlertEvent.Action.COMMENTED:
        comment = AlertComment.objects.filter(
            tenant=tenant, pk=event.details.get("comment_id")
        ).first()
        if comment is None or not comment.mentions:
            return 0
        return notify(
            tenant=tenant, occasion=occasion(Kind.MENTIONED, f"comment:{comment.pk}"),
            recipients=members_among(tenant, comment.mentions),
        )  # fmt: skip
    return 0


def _reviewers(tenant: Tenant) -> list[User]:
    return list(
        User.objects.filter(
            memberships__tenant=tenant,
            memberships__is_active=True,
            memberships__role__in=REVIEWER_ROLES,
        ).distinct()
    )


def after_raised(*, tenant: Tenant, alert_ids: Sequence[int]) -> int:
    """Tell the firm's reviewers who opted in about new high-severity alerts."""
    alerts = list(
        Alert.objects.filter(tenant=tenant, pk__in=alert_ids, severity__in=HIGH_SEVERITIES)
        .exclude(status=Status.CLOSED)
        .select_related("employee", "policy", "tenant")
    )
    if not alerts:
        return 0
    people = _reviewers(tenant)
    sent = 0
    for a in alerts:
        raised = Occasion(alert=a, kind=Kind.HIGH_SEVERITY, key="raised")
        sent += notify(tenant=tenant, occasion=raised, recipients=people)
    return sent


def _overdue(now: datetime) -> dict[str, object]:
    """The filter of alerts past their due time and still to decide."""
    return {
        "status__in": [Status.OPEN, Status.IN_REVIEW, Status.ESCALATED],
        "due_at__lt": now,
    }


def notify_overdue(*, tenant: Tenant, now: datetime | None = None) -> int:
    """Once per alert, when it passes its due time: an entry in its history and an email to
    whoever is responsible (assignee, the officer holding it) and its watchers, or to the
    supervisors when nobody is. Returns how many alerts were handled."""
    now = now or timezone.now()
    handled = 0
    flagged = AlertEvent.objects.filter(alert=OuterRef("pk"), action=AlertEvent.Action.OVERDUE)
    with transaction.atomic():
        # SKIP LOCKED: two beats at once split the alerts instead of both telling everyone.
        alerts = list(
            Alert.objects.filter(tenant=tenant, **_overdue(now))
            .filter(~Exists(flagged))
            .select_for_update(of=("self",), skip_locked=True)
            .select_related("employee", "policy", "tenant")
            .order_by("due_at")[:OVERDUE_BATCH]
        )
        for alert in alerts:
            AlertEvent.objects.create(
                tenant=tenant, alert=alert, actor=None, actor_label=Actor.system().label,
                action=AlertEvent.Action.OVERDUE,
            )  # fmt: skip
            responsible = {i for i in (alert.assignee_id, alert.claimed_by_id) if i is not None}
            people = members_among(tenant, responsible | set(watcher_ids(tenant, alert)))
            notify(tenant=tenant, occasion=Occasion(alert=alert, kind=Kind.OVERDUE,
                   key="overdue"), recipients=people or supervisors(tenant))  # fmt: skip
            handled += 1
    return handled


def tenants_with_overdue_alerts(now: datetime | None = None) -> list[int]:
    """Platform code for the beat: tenants with overdue alerts nobody was told about (ids)."""
    now = now or timezone.now()
    with unscoped():
        flagged = AlertEvent.all_tenants.filter(
            alert=OuterRef("pk"), action=AlertEvent.Action.OVERDUE
        )
        return list(
            Alert.all_tenants.filter(tenant__status=Tenant.Status.ACTIVE, **_overdue(now))
            .filter(~Exists(flagged))
            .values_list("tenant_id", flat=True)
            .distinct()
        )
