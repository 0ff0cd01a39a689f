"""The verbs of alert review. Each change is one transaction that writes the alert, its own
history (AlertEvent) and the audit trail (record_event), so the regulator's record and the
alert's page never disagree.

Concurrency: claims are a conditional UPDATE (``claimed_by IS NULL``) with a row-count check, so
two officers never hold one alert; every other change locks the row (SELECT ... FOR UPDATE) and
compares the version the officer saw (``expected_version``) with the stored one, so a change made
on a stale page is refused with a clear message instead of overwriting another officer's work.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TypedDict

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from compliance_hub.accounts.models import User
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.context import tenant_scope, unscoped
from compliance_hub.tenancy.models import Membership, Role, Tenant
from compliance_hub.tenancy.roles import REVIEWER_ROLES, SENIOR_ROLES

from .models import Alert, AlertComment, AlertEvent, Level, Status
from .stats_days import FALSE_POSITIVES
from .stats_days import forget as forget_days
from .tiers import may_work
from .workflow import TransitionRefused, check_move

COMMENT_MAX_LENGTH = 5000
RATIONALE_MAX_LENGTH = 5000
# @name@firm.example: the email of a member, as typed after an @.
MENTION = re.compile(r"(?<![\w@])@([\w.+-]+@[\w-]+(?:\.[\w-]+)+)")


class AlertError(Exception):
    """A refused change; ``str(error)`` is a sentence for the officer."""


class InvalidTransition(AlertError):
    pass


class StaleAlert(AlertError):
    """Someone changed the alert after the officer loaded it."""


class ClaimConflict(AlertError):
    """The alert is held by another officer (or not held by this one)."""


class NotAReviewer(AlertError):
    """The person named is not an officer or admin of the alert's firm."""


class InvalidComment(AlertError):
    pass


class SeniorReviewOnly(AlertError):
    """The alert is at the second level (escalated) and the person is not a senior officer or
    admin. Pages and the API answer 404 before it is raised, as for another firm's alert."""


class EventDetails(TypedDict, total=False):
    disposition: str
    rationale: str
    assignee: str
    previous_assignee: str
    claimed_by: str
    comment_id: int
    mentions: list[str]
    level: int


def _person(actor: Actor) -> User:
    if actor.user is None:
        raise ClaimConflict("Only a signed-in person can work an alert.")
    return actor.user


def _role_of(tenant_id: int, user: User) -> str | None:
    membership = Membership.objects.active().filter(tenant_id=tenant_id, user=user).first()
    return membership.role if membership else None


def _check_level(alert: Alert, user: User | None) -> None:
    """Second-level alerts are worked only by senior officers and admins (alerts/tiers.py)."""
    if user is not None and not may_work(alert, _role_of(alert.tenant_id, user)):
        raise SeniorReviewOnly("Only senior officers and admins work escalated alerts.")


def _record(
    alert: Alert,
    *,
    actor: Actor,
    action: str,
    audit_action: str,
    from_status: str = "",
    to_status: str = "",
    details: EventDetails | None = None,
) -> None:
    facts = dict(details or {})
    AlertEvent.objects.create(
        tenant_id=alert.tenant_id,
        alert=alert,
        actor=actor.user,
        actor_label=actor.label,
        action=action,
        from_status=from_status,
        to_status=to_status,
        details=facts,
    )
    if from_status or to_status:
        facts = {"from": from_status, "to": to_status, **facts}
    record_event(audit_action, tenant=alert.tenant, actor=actor, target=alert, details=facts)


def _locked(alert: Alert, expected_version: int | None) -> Alert:
    """The alert's row, locked for this transaction, checked against the version seen."""
    # of=("self",): lock the alert's row only, never the tenant's row it joins.
    current = (
        Alert.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=alert.pk)
    )
    if expected_version is not None and current.version != expected_version:
        raise StaleAlert(
            "Someone else changed this alert after you opened it. "
            "Look at its latest state and try again."
        )
    return current


def _save(alert: Alert, fields: list[str]) -> None:
    alert.version = F("version") + 1
    alert.save(update_fields=[*fields, "version", "updated_at"])
    alert.refresh_from_db(fields=["version", "updated_at"])


def claim_alert(*, alert: Alert, actor: Actor) -> Alert:
    """Hold the alert for review. Atomic: of two officers claiming at once, one wins and the
    other gets ClaimConflict. An open alert moves to in review."""
    person = _person(actor)
    now = timezone.now()
    with tenant_scope(alert.tenant_id), transaction.atomic():
        _check_level(Alert.objects.get(pk=alert.pk), person)
        taken = Alert.objects.filter(
            pk=alert.pk,
            claimed_by__isnull=True,
            status__in=[Status.OPEN, Status.IN_REVIEW, Status.ESCALATED],
        ).update(claimed_by=person, claimed_at=now, updated_at=now, version=F("version") + 1)
        current = Alert.objects.select_related("tenant", "claimed_by").get(pk=alert.pk)
        if not taken:
            if current.status == Status.CLOSED:
                raise ClaimConflict("A closed alert cannot be claimed; reopen it first.")
            holder = current.claimed_by
            if holder is not None and holder.pk == person.pk:
                raise ClaimConflict("You already hold this alert.")
            raise ClaimConflict(
                f"{holder.email if holder else 'Another officer'} is already working on this alert."
            )
        before = current.status
        if before == Status.OPEN:
            current.status = Status.IN_REVIEW
            _save(current, ["status"])
        _record(
            current, actor=actor, action=AlertEvent.Action.CLAIMED, audit_action="alert.claimed",
            from_status=before if before != current.status else "",
            to_status=current.status if before != current.status else "",
        )  # fmt: skip
    return current


def release_alert(*, alert: Alert, actor: Actor, expected_version: int | None = None) -> Alert:
    """Give the alert back to the queue (only its holder, or an admin, may)."""
    person = _person(actor)
    with tenant_scope(alert.tenant_id), transaction.atomic():
        current = _locked(alert, expected_version)
        _check_level(current, person)
        if current.claimed_by_id is None:
            raise ClaimConflict("Nobody holds this alert.")
        if current.claimed_by_id != person.pk and not _is_admin(current.tenant, person):
            raise ClaimConflict(
                "Only the officer who holds this alert (or an admin) can release it."
            )
        holder = current.claimed_by
        before = current.status
        current.claimed_by = None
        current.claimed_at = None
        if before == Status.IN_REVIEW:
            current.status = Status.OPEN
        _save(current, ["claimed_by", "claimed_at", "status"])
        _record(
            current, actor=actor, action=AlertEvent.Action.RELEASED, audit_action="alert.released",
            from_status=before if before != current.status else "",
            to_status=current.status if before != current.status else "",
            details={"claimed_by": holder.email if holder else ""},
        )  # fmt: skip
    return current


AUDIT_ACTIONS = {
    Status.OPEN: "alert.returned_to_queue",
    Status.IN_REVIEW: "alert.review_started",
    Status.ESCALATED: "alert.escalated",
    Status.CLOSED: "alert.closed",
}


def transition_alert(
    *,
    alert: Alert,
    actor: Actor,
    to: str,
    disposition: str = "",
    rationale: str = "",
    expected_version: int | None,
) -> Alert:
    """Move the alert to status ``to`` under the workflow's table (alerts/workflow.py). Closing
    needs a disposition and a rationale; reopening a closed alert needs a reason (``rationale``).
    Refused when another officer holds the alert or it changed since ``expected_version``."""
    person = _person(actor)
    rationale = rationale.strip()
    if len(rationale) > RATIONALE_MAX_LENGTH:
        raise InvalidTransition(f"Keep the rationale under {RATIONALE_MAX_LENGTH} characters.")
    with tenant_scope(alert.tenant_id), transaction.atomic():
        current = _locked(alert, expected_version)
        _check_level(current, person)
        if current.claimed_by_id is not None and current.claimed_by_id != person.pk:
            holder = current.claimed_by
            raise ClaimConflict(
                f"{holder.email if holder else 'Another officer'} is working on this alert; "
                "ask them to release it first."
            )
        try:
            check_move(current.status, to, disposition=disposition, rationale=rationale)
        except TransitionRefused as refused:
            raise InvalidTransition(str(refused)) from refused
        before = current.status
        reopening = before == Status.CLOSED
        current.status = to
        details: EventDetails = {}
        if to == Status.IN_REVIEW:
            current.claimed_by, current.claimed_at = person, timezone.now()
        else:
            current.claimed_by, current.claimed_at = None, None
        if to == Status.ESCALATED:
            current.level = Level.SENIOR
            details["level"] = Level.SENIOR
            # The second level is the seniors': a plain officer assigned to it no longer sees it.
            if current.assignee is not None and not _has_role(
                current.tenant_id, current.assignee, SENIOR_ROLES
            ):
                details["previous_assignee"] = current.assignee.email
                current.assignee = None
        if to == Status.CLOSED:
            current.disposition, current.rationale = disposition, rationale
            current.closed_at = timezone.now()
            details["disposition"], details["rationale"] = disposition, rationale
        elif reopening:
            # The decision being undone stays in the history; the alert is undecided again.
            details["rationale"], details["disposition"] = rationale, current.disposition
            if current.closed_at is not None:  # the dashboard's kept days that counted it
                forget_days(tenant=current.tenant, series=FALSE_POSITIVES, at=current.closed_at)
            current.disposition, current.rationale, current.closed_at = "", "", None
        elif rationale:
            details["rationale"] = rationale
        _save(
            current,
            ["status", "claimed_by", "claimed_at", "level", "disposition", "rationale",
             "closed_at", "assignee"],
        )  # fmt: skip
        _record(
            current, actor=actor, action=AlertEvent.Action.TRANSITIONED,
            audit_action="alert.reopened" if reopening else AUDIT_ACTIONS[Status(to)],
            from_status=before, to_status=to, details=details,
        )  # fmt: skip
    return current


def _is_admin(tenant: Tenant | int, user: User) -> bool:
    return _has_role(tenant, user, (Role.ADMIN,))


def _has_role(tenant: Tenant | int, user: User, roles: tuple[str, ...]) -> bool:
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    return (
        Membership.objects.active().filter(tenant_id=tenant_id, user=user, role__in=roles).exists()
    )


def reviewers(tenant: Tenant, *, level: int = Level.FIRST) -> list[User]:
    """The people alerts of ``level`` can be assigned to: the tenant's active officers and
    admins (for second-level alerts: senior officers and admins)."""
    roles = REVIEWER_ROLES if level == Level.FIRST else SENIOR_ROLES
    return list(
        User.objects.filter(
            memberships__tenant=tenant,
            memberships__is_active=True,
            memberships__role__in=roles,
        ).order_by("email")
    )


def assign_alert(
    *, alert: Alert, actor: Actor, assignee: User | None, expected_version: int | None
) -> Alert:
    """Make ``assignee`` responsible for the alert (None: nobody). Only the firm's officers and
    admins can be given an alert; anyone else (another firm's user, an auditor) is refused with
    the same answer, so the form does not reveal who exists elsewhere."""
    if assignee is not None and not _has_role(alert.tenant_id, assignee, REVIEWER_ROLES):
        raise NotAReviewer(
            "Alerts can be assigned only to this firm's compliance officers and admins."
        )
    with tenant_scope(alert.tenant_id), transaction.atomic():
        current = _locked(alert, expected_version)
        _check_level(current, actor.user)
        if (
            assignee is not None
            and current.level != Level.FIRST
            and not _has_role(alert.tenant_id, assignee, SENIOR_ROLES)
        ):
            raise NotAReviewer(
                "Escalated alerts can be assigned only to senior officers and admins."
            )
        previous = current.assignee
        if (previous.pk if previous else None) == (assignee.pk if assignee else None):
            raise InvalidTransition("The alert is already assigned that way.")
        current.assignee = assignee
        _save(current, ["assignee"])
        _record(
            current, actor=actor, action=AlertEvent.Action.ASSIGNED, audit_action="alert.assigned",
            details={
                "assignee": assignee.email if assignee else "",
                "previous_assignee": previous.email if previous else "",
            },
        )  # fmt: skip
    return current


def mentioned_members(tenant: Tenant | int, body: str) -> list[User]:
    """Members of the tenant named with @email in ``body`` (unknown names are left as text)."""
    emails = {m.lower() for m in MENTION.findall(body)}
    if not emails:
        return []
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    members = Membership.objects.active().filter(tenant_id=tenant_id).select_related("user")
    return sorted(
        (m.user for m in members if m.user.email.lower() in emails), key=lambda u: u.email
    )


def add_comment(*, alert: Alert, actor: Actor, body: str) -> AlertComment:
    """A note on the alert; @email names members of the firm (kept as mentions for the
    notifications). The body is stored as typed and escaped wherever it is shown."""
    body = body.strip()
    if not body:
        raise InvalidComment("Write something before adding a comment.")
    if len(body) > COMMENT_MAX_LENGTH:
        raise InvalidComment(f"Keep a comment under {COMMENT_MAX_LENGTH} characters.")
    mentions = mentioned_members(alert.tenant_id, body)
    with tenant_scope(alert.tenant_id), transaction.atomic():
        current = Alert.objects.select_related("tenant").get(pk=alert.pk)
        _check_level(current, actor.user)
        comment = AlertComment.objects.create(
            tenant_id=current.tenant_id,
            alert=current,
            author=actor.user,
            author_label=actor.label,
            body=body,
            mentions=[u.pk for u in mentions],
        )
        # A comment changes no decision, so it leaves the version alone (nobody's open page
        # goes stale); the holder's own note keeps their claim alive.
        if actor.user is not None and current.claimed_by_id == actor.user.pk:
            Alert.objects.filter(pk=current.pk).update(updated_at=timezone.now())
        _record(
            current, actor=actor, action=AlertEvent.Action.COMMENTED,
            audit_action="alert.commented",
            details={"comment_id": comment.pk, "mentions": [u.email for u in mentions]},
        )  # fmt: skip
    return comment


def expire_claims(*, tenant: Tenant, now: datetime | None = None) -> int:
    """Claims untouched for settings.ALERTS_CLAIM_TIMEOUT return to the queue (an alert in
    review is open again). Each is a conditional update on the version read, so an officer who
    acts at that moment keeps their claim. Returns how many were released."""
    now = now or timezone.now()
    limit = now - settings.ALERTS_CLAIM_TIMEOUT
    released = 0
    actor = Actor.system()
    with tenant_scope(tenant):
        stale = list(
            Alert.objects.filter(
                tenant=tenant, claimed_by__isnull=False, updated_at__lt=limit
            ).select_related("claimed_by", "tenant")
        )
        for alert in stale:
            before = alert.status
            to = Status.OPEN if before == Status.IN_REVIEW else before
            holder = alert.claimed_by.email if alert.claimed_by else ""
            with transaction.atomic():
                done = Alert.objects.filter(pk=alert.pk, version=alert.version).update(
                    claimed_by=None, claimed_at=None, status=to, updated_at=now,
                    version=F("version") + 1,
                )  # fmt: skip
                if not done:
                    continue
                alert.refresh_from_db()
                _record(
                    alert, actor=actor, action=AlertEvent.Action.CLAIM_EXPIRED,
                    audit_action="alert.claim_expired",
                    from_status=before if to != before else "",
                    to_status=to if to != before else "",
                    details={"claimed_by": holder},
                )  # fmt: skip
                released += 1
    return released


def tenants_with_expired_claims(now: datetime | None = None) -> list[int]:
    """Platform code for the beat: which tenants hold claims past the limit (ids only)."""
    limit = (now or timezone.now()) - settings.ALERTS_CLAIM_TIMEOUT
    with unscoped():
        return list(
            Alert.all_tenants.filter(Q(claimed_by__isnull=False) & Q(updated_at__lt=limit))
            .values_list("tenant_id", flat=True)
            .distinct()
        )


def close_group(*, alert: Alert, actor: Actor, disposition: str, rationale: str) -> list[Alert]:
    """Close the other alerts of ``alert``'s group (same conversation, same window) with the
    same disposition and rationale, as one review decides them together. Each is closed through
    transition_alert (its own history and audit entry); alerts already closed, or held by
    another officer, are left as they are. Returns the alerts closed."""
    with tenant_scope(alert.tenant_id):
        others = list(
            Alert.objects.filter(tenant_id=alert.tenant_id, group_key=alert.group_key)
            .exclude(pk=alert.pk)
            .exclude(status=Status.CLOSED)
            .order_by("pk")
        )
    closed: list[Alert] = []
    for other in others:
        try:
            closed.append(
                transition_alert(
                    alert=other,
                    actor=actor,
                    to=Status.CLOSED,
                    disposition=disposition,
                    rationale=rationale,
                    expected_version=None,
                )
            )
        except (ClaimConflict, SeniorReviewOnly):
            continue  # another officer is reviewing it: their decision, not ours
    return closed
