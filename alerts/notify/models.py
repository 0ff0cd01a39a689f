"""Who watches which alert, how each member wants to hear about alerts, each notification owed
to a person (sent at once or kept for the digest), and the firm's notice templates.

Imported by alerts/models.py, so Django registers them under the alerts app."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from compliance_hub.tenancy.models import TenantOwnedModel


class Kind(models.TextChoices):
    """What a notification is about, in the words the preference page shows."""

    HIGH_SEVERITY = "high_severity", "A new high-severity alert is raised"
    ASSIGNED = "assigned", "An alert is assigned to me"
    MENTIONED = "mentioned", "Someone mentions me in a comment"
    OVERDUE = "overdue", "An alert I am responsible for or watch is overdue"
    ESCALATED = "escalated", "An alert is escalated (supervisors and watchers)"


# What a member gets before they ever open the preference page: what is addressed to them,
# not the firm-wide stream of new alerts (they opt in to that).
DEFAULT_KINDS = [Kind.ASSIGNED, Kind.MENTIONED, Kind.OVERDUE, Kind.ESCALATED]


class AlertWatcher(TenantOwnedModel):
    """An officer who asked to hear about an alert (escalation, overdue)."""

    alert = models.ForeignKey("alerts.Alert", on_delete=models.CASCADE, related_name="watchers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "alert", "user"], name="alertwatcher_once_per_person"
            )
        ]

    def __str__(self) -> str:
        return f"Watcher of alert {self.alert_id}"


class NotificationPreference(TenantOwnedModel):
    """One member's choice in one firm: which kinds, and at once or in a daily digest. No row
    means DEFAULT_KINDS, at once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kinds = ArrayField(models.CharField(max_length=32, choices=Kind.choices), default=list)
    daily_digest = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="notificationpref_once")
        ]

    def __str__(self) -> str:
        return f"Notification preferences of user {self.user_id}"


class Notification(TenantOwnedModel):
    """One thing one person is told about one alert. ``key`` names the occurrence (the alert's
    event or comment), so a retried task never tells anyone twice. ``sent_at`` is empty while
    it waits for the person's digest."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    alert = models.ForeignKey("alerts.Alert", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    key = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user", "alert", "key"], name="notification_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["tenant", "user", "created_at"],
                name="notification_pending",
                condition=Q(sent_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} notification on alert {self.alert_id}"


class NoticeKind(models.TextChoices):
    POLICY_REMINDER = "policy_reminder", "Policy reminder"
    WARNING = "warning", "Warning"


class NoticeTemplate(TenantOwnedModel):
    """A firm's own wording of a notice to employees in one language (without a row, the
    built-in default of alerts/notify/notices.py is used)."""

    kind = models.CharField(max_length=32, choices=NoticeKind.choices)
    language = models.CharField(max_length=8)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "language"], name="noticetemplate_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.language})"
