"""Alerts: a policy hit put in front of a compliance officer, the review's workflow state, its
history (append-only) and the officers' comments.

An alert copies from its hit what the queue filters and sorts on (severity, score, risk,
categories, employee, conversation), so the queue's hot path reads one table.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.utils import timezone

from compliance_hub.tenancy.models import TenantOwnedModel


class Status(models.TextChoices):
    OPEN = "open", "Open"
    IN_REVIEW = "in_review", "In review"
    ESCALATED = "escalated", "Escalated"
    CLOSED = "closed", "Closed"


class Disposition(models.TextChoices):
    TRUE_POSITIVE_ACTION = "true_positive_action", "True positive: action taken"
    TRUE_POSITIVE_NO_ACTION = "true_positive_no_action", "True positive: no action needed"
    FALSE_POSITIVE = "false_positive", "False positive"
    DUPLICATE = "duplicate", "Duplicate"


TRUE_POSITIVES = frozenset({Disposition.TRUE_POSITIVE_ACTION, Disposition.TRUE_POSITIVE_NO_ACTION})


class Level(models.IntegerChoices):
    FIRST = 1, "First-level review"
    SENIOR = 2, "Senior review"


# The statuses still to review (alerts.selectors.ACTIVE_STATUSES), in the same order, so the
# planner matches the queue's `status IN (...)` to the partial indexes below.
TO_DO = Q(status__in=["open", "in_review", "escalated"])


class Alert(TenantOwnedModel):
    """One policy hit under review. Never two for one hit (the one-to-one is the database's
    guarantee, so the receiver and the sweeper can both run without coordination)."""

    hit = models.OneToOneField("policies.PolicyHit", on_delete=models.PROTECT, related_name="alert")
    message = models.ForeignKey("archive.Message", on_delete=models.PROTECT, related_name="+")
    employee = models.ForeignKey("consent.Employee", on_delete=models.PROTECT, related_name="+")
    conversation = models.ForeignKey(
        "archive.Conversation", on_delete=models.PROTECT, related_name="+"
    )
    policy = models.ForeignKey("policies.Policy", on_delete=models.PROTECT, related_name="+")
    policy_version = models.ForeignKey(
        "policies.PolicyVersion", on_delete=models.PROTECT, related_name="+"
    )
    severity = models.CharField(max_length=16)
    score = models.FloatField()
    # severity weight x score, stored so the default sort is an index scan, not a computation
    risk = models.FloatField()
    categories = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    lookback = models.BooleanField(default=False)
    # The conversation and a time window of the message: alerts sharing it are reviewed together.
    group_key = models.CharField(max_length=64)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    level = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.FIRST)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField()
    disposition = models.CharField(max_length=32, choices=Disposition.choices, blank=True)
    rationale = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Optimistic concurrency: every change bumps it; a change made against an older value is
    # refused instead of silently overwriting what another officer did.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-risk", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="closed") | (~Q(disposition="") & ~Q(rationale="")),
                name="alert_closed_has_disposition",
            ),
            models.CheckConstraint(
                condition=Q(claimed_by__isnull=True) | Q(claimed_at__isnull=False),
                name="alert_claim_has_time",
            ),
        ]
        indexes = [
            # The queue: by status, riskiest first (keyset on (risk, id)).
            models.Index(fields=["tenant", "status", "-risk", "-id"], name="alert_queue_risk"),
            models.Index(fields=["tenant", "status", "-created_at"], name="alert_queue_new"),
            models.Index(fields=["tenant", "status", "due_at"], name="alert_queue_due"),
            models.Index(fields=["tenant", "-risk", "-id"], name="alert_risk"),
            models.Index(fields=["tenant", "employee", "-created_at"], name="alert_employee"),
            models.Index(fields=["tenant", "assignee", "status"], name="alert_assignee"),
            models.Index(fields=["tenant", "policy", "status"], name="alert_policy"),
            models.Index(fields=["tenant", "group_key"], name="alert_group"),
            models.Index(
                fields=["claimed_at"], name="alert_claimed", condition=Q(claimed_by__isnull=False)
            ),
            GinIndex(fields=["categories"], name="alert_categories"),
            # At a million alerts (bench/alerts_scale.py, docs/benchmarks.md): the queue's
            # default view (the work still to do) in each sort's order, so its first page is
            # the first rows of one index whatever else is filtered...
            models.Index(
                fields=["tenant", "-risk", "-id"], name="alert_todo_risk", condition=TO_DO
            ),
            models.Index(
                fields=["tenant", "-created_at", "-id"], name="alert_todo_new", condition=TO_DO
            ),
            models.Index(fields=["tenant", "due_at", "id"], name="alert_todo_due", condition=TO_DO),
            # The work still to do of one severity or one policy, riskiest first: without them
            # the planner walked alert_todo_risk and skipped every riskier row of the other
            # severities or policies (48,000 rows for "low", 136-266 ms at a million alerts).
            models.Index(
                fields=["tenant", "severity", "-risk", "-id"],
                name="alert_todo_severity",
                condition=TO_DO,
            ),
            models.Index(
                fields=["tenant", "policy", "-risk", "-id"],
                name="alert_todo_policy",
                condition=TO_DO,
            ),
            # Every status by severity, riskiest first: without it, a page of "high" alerts
            # skipped every critical one (riskier by weight) row by row.
            models.Index(fields=["tenant", "severity", "-risk", "-id"], name="alert_severity_risk"),
            # ...and the dashboard's aggregates (alerts/stats.py), read from the index alone.
            models.Index(
                fields=["tenant", "created_at"],
                name="alert_created",
                include=["policy", "severity"],
            ),
            models.Index(
                fields=["tenant", "closed_at"],
                name="alert_closed",
                condition=Q(status="closed"),
                include=["policy", "disposition", "score"],
            ),
            models.Index(
                fields=["tenant", "created_at"],
                name="alert_waiting",
                condition=~Q(status="closed"),
                include=["severity"],
            ),
        ]

    def __str__(self) -> str:
        return f"Alert {self.pk}"

    @property
    def is_claimed(self) -> bool:
        return self.claimed_by_id is not None

    @property
    def overdue(self) -> bool:
        return self.status != Status.CLOSED and self.due_at < timezone.now()


class AlertEvent(TenantOwnedModel):
    """One change of an alert, as its history shows it (the audit trail holds the same change
    with the actor's address); never changed."""

    append_only = True

    class Action(models.TextChoices):
        CLAIMED = "claimed", "Claimed"
        RELEASED = "released", "Released"
        CLAIM_EXPIRED = "claim_expired", "Claim expired (back in the queue)"
        TRANSITIONED = "transitioned", "Status changed"
        ASSIGNED = "assigned", "Assigned"
        COMMENTED = "commented", "Commented"
        OVERDUE = "overdue", "Past its due time (reminders sent)"
        NOTICE_SENT = "notice_sent", "Notice sent to the employee"

    alert = models.ForeignKey(Alert, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=254)
    action = models.CharField(max_length=32, choices=Action.choices)
    from_status = models.CharField(max_length=16, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=Status.choices, blank=True)
    details = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["tenant", "alert", "at"], name="alertevent_alert"),
            # The dashboard's reviewer throughput: closings by time.
            models.Index(
                fields=["tenant", "at"],
                name="alertevent_closed",
                condition=Q(to_status="closed"),
                include=["actor"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} of alert {self.alert_id}"


class AlertComment(TenantOwnedModel):
    """An officer's note on an alert, kept as written (never changed)."""

    append_only = True

    alert = models.ForeignKey(Alert, on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    author_label = models.CharField(max_length=254)
    body = models.TextField()
    # User ids of the tenant's members named with @email in the body (notifications read them).
    mentions = ArrayField(models.BigIntegerField(), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["tenant", "alert", "created_at"], name="alertcomment_alert")
        ]

    def __str__(self) -> str:
        return f"Comment on alert {self.alert_id}"


class ReviewSettings(TenantOwnedModel):
    """A firm's choices for alert review, changed by its admins (alerts/review_settings.py reads
    them: a firm without a row has the defaults)."""

    # Reviewers see people as stable pseudonyms until they unmask one alert (alerts/masking.py).
    pseudonymise = models.BooleanField()
    # Severity -> hours to review; a severity not named here uses settings.ALERTS_SLA_HOURS.
    sla_hours = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="reviewsettings_one_per_tenant")
        ]

    def __str__(self) -> str:
        return f"Review settings of tenant {self.tenant_id}"


class Unmasking(TenantOwnedModel):
    """A reviewer's reasoned request to see the real people of one pseudonymised alert; it lasts
    for that reviewer and that alert. Never changed (the admins' list and the audit trail)."""

    append_only = True

    alert = models.ForeignKey(Alert, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    user_label = models.CharField(max_length=254)
    reason = models.TextField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "alert", "user"], name="unmasking_once_per_reviewer"
            )
        ]
        indexes = [models.Index(fields=["tenant", "-at"], name="unmasking_recent")]

    def __str__(self) -> str:
        return f"Unmasking of alert {self.alert_id}"


class StatsDay(TenantOwnedModel):
    """One settled day of one dashboard series in one time zone: the day's grouped counts
    (``rows``, lists in the order the series' day query returns them), kept so a year of the
    dashboard reads 365 small rows instead of every alert of the year. Written and dropped
    only by alerts/stats_days.py; a day is kept once it is over (see SETTLE there), and dropped
    when something changes it later (a reopened alert, a message scanned late)."""

    zone = models.CharField(max_length=64)
    series = models.CharField(max_length=32)
    day = models.DateField()
    rows = models.JSONField(default=list)
    computed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "series", "zone", "day"], name="statsday_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.series} of {self.day} ({self.zone})"


# The learning loop's model (alerts/learning/) and notifications' models (watchers,
# preferences, notifications, notice templates) live with their feature; importing them here
# registers them under this app.
from .learning.models import ExampleExclusion  # noqa: E402
from .notify.models import (  # noqa: E402
    AlertWatcher,
    NoticeTemplate,
    Notification,
    NotificationPreference,
)

__all__ = [
    "Alert",
    "AlertComment",
    "AlertEvent",
    "AlertWatcher",
    "ExampleExclusion",
    "NoticeTemplate",
    "Notification",
    "NotificationPreference",
    "ReviewSettings",
    "StatsDay",
    "Unmasking",
]
