"""An export: a search of the archive, packed as a verifiable bag in the formats an auditor
chose, prepared by a worker and kept for a few days (settings.EXPORT_RETENTION_DAYS).

The file lives in the default storage under ``exports/<tenant>/`` and is never reachable by a
URL of its own: it reaches a person only through a signed, short-lived link that the download
service checks and audits (archive/exporting/services.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from compliance_hub.tenancy.models import TenantOwnedModel


class Export(TenantOwnedModel):
    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Preparing"
        READY = "ready", "Ready to download"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requester = models.CharField(max_length=255, help_text="Who asked (a person or an API key)")
    matter = models.CharField(max_length=200, blank=True)
    query = models.TextField(blank=True)
    # An export defined by a legal hold instead of a search: the messages the hold's scope names
    # when the worker runs (archive.holds.selectors.hold_messages). PROTECT: holds are never
    # deleted, and an export must keep saying what it was of.
    legal_hold = models.ForeignKey(
        "archive.LegalHold", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # SearchFilters as JSON (archive/exporting/services.py: filters_json); instants as ISO UTC.
    filters = models.JSONField(default=dict)
    formats = models.JSONField(default=list)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    progress_done = models.PositiveBigIntegerField(default=0)
    progress_total = models.PositiveBigIntegerField(default=0)
    file = models.FileField(upload_to="exports/", blank=True, max_length=500)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    tag_manifest_sha256 = models.CharField(max_length=64, blank=True)
    checkpoint_id = models.BigIntegerField(null=True, blank=True)
    tree_size = models.PositiveBigIntegerField(null=True, blank=True)
    counts = models.JSONField(default=dict)
    error = models.TextField(blank=True, help_text="Why it failed, in the requester's words")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="export_newest"),
            models.Index(fields=["tenant", "status", "expires_at"], name="export_expiry"),
        ]

    def __str__(self) -> str:
        return f"Export {self.pk}" + (f" ({self.matter})" if self.matter else "")

    @property
    def is_expired(self) -> bool:
        """Expired for its users from ``expires_at`` on, even before the beat deletes the file."""
        if self.status == self.Status.EXPIRED:
            return True
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def downloadable(self) -> bool:
        return self.status == self.Status.READY and bool(self.file) and not self.is_expired

    @property
    def percent(self) -> int:
        if self.status == self.Status.READY:
            return 100
        if not self.progress_total:
            return 0
        return min(100, self.progress_done * 100 // self.progress_total)
