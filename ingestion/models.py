"""What Meta sent us: each tenant's connection settings and every raw delivery."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from compliance_hub.crypto import decrypt_text, encrypt_text
from compliance_hub.tenancy.models import Tenant, TenantOwnedModel


class WhatsAppSettings(TenantOwnedModel):
    """The tenant's Meta app connection. Secrets are encrypted at rest and never shown again in
    full after they are saved (only their last four characters)."""

    app_secret_encrypted = models.TextField(blank=True)
    verify_token_encrypted = models.TextField(blank=True)
    access_token_encrypted = models.TextField(blank=True)
    waba_ids = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        "compliance_hub.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="whatsapp_settings_one_per_tenant")
        ]

    def __str__(self) -> str:
        return "WhatsApp connection"

    @staticmethod
    def _read(value: str) -> str:
        return decrypt_text(value) if value else ""

    @property
    def app_secret(self) -> str:
        return self._read(self.app_secret_encrypted)

    @property
    def verify_token(self) -> str:
        return self._read(self.verify_token_encrypted)

    @property
    def access_token(self) -> str:
        return self._read(self.access_token_encrypted)

    def set_secret(self, name: str, value: str) -> None:
        setattr(self, f"{name}_encrypted", encrypt_text(value) if value else "")

    @staticmethod
    def hint(value: str) -> str:
        """What the page shows of a saved secret."""
        return f"••••{value[-4:]}" if len(value) >= 8 else ("••••" if value else "")


class Delivery(TenantOwnedModel):
    """One webhook POST, stored exactly as received (the signature covers these bytes) before we
    answer 200: the source of truth that processing, the sweeper and replays work from.

    Content of messages refused by the consent gate is redacted from ``body`` by processing."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be processed"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed (will be retried)"
        UNPARSEABLE = "unparseable", "Not JSON (kept, flagged)"

    # Every webhook writes a row here, so each index costs the intake one more insert. The
    # inherited single-column tenant index would duplicate the two composite ones below, which
    # lead with the tenant and serve every by-tenant lookup (and the PROTECT check) as well.
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", db_index=False)
    received_at = models.DateTimeField(default=timezone.now)
    body = models.BinaryField()
    body_sha256 = models.CharField(max_length=64)
    headers = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    summary = models.JSONField(default=dict, blank=True)  # counts by kind, refusals, unrecognised
    redacted = models.BooleanField(default=False)

    class Meta:
        ordering = ["received_at", "id"]
        indexes = [
            # The drain's claim walks this in its own order (received_at, id) and stops after a
            # batch: with the id in the key no sort has to read every pending row first.
            models.Index(fields=["tenant", "status", "received_at", "id"], name="delivery_claim"),
            models.Index(fields=["tenant", "-received_at"], name="delivery_recent"),
        ]

    def __str__(self) -> str:
        return f"Delivery {self.pk} ({self.status})"


class Refusal(TenantOwnedModel):
    """A message the consent gate refused: metadata only, never content."""

    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="refusals")
    phone_number_id = models.CharField(max_length=32)
    wamid = models.CharField(max_length=255, blank=True)
    kind = models.CharField(max_length=16)  # message, edit, revoke, reaction, status, call
    direction = models.CharField(max_length=8, blank=True)
    whatsapp_timestamp = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=32)
    employee_pk = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "reason", "-created_at"], name="refusal_reason"),
            models.Index(fields=["tenant", "phone_number_id"], name="refusal_number"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "wamid", "phone_number_id"],
                condition=~models.Q(wamid=""),
                name="refusal_once_per_item",
            )
        ]

    def __str__(self) -> str:
        return f"Refused {self.kind} on {self.phone_number_id}: {self.reason}"


class CaptureNotice(TenantOwnedModel):
    """Something about capture an admin must know at once: the partner was removed from a number
    (capture stopped), messages arrive from a number nobody consented for, history sharing was
    declined, media could not be fetched for good. Raised once per kind, number and day;
    acknowledged by an admin."""

    class Kind(models.TextChoices):
        PARTNER_REMOVED = "partner_removed", "Capture stopped for a number (partner removed)"
        UNCONSENTED_NUMBER = "unconsented_number", "Unconsented number in use"
        HISTORY_DECLINED = "history_declined", "History sharing declined"
        ACCOUNT_EVENT = "account_event", "Account event"
        MEDIA_LOST = "media_lost", "Media could not be archived"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    dedupe_key = models.CharField(max_length=200)
    phone_number_id = models.CharField(max_length=32, blank=True)
    message = models.CharField(max_length=500)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        "compliance_hub.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "dedupe_key"], name="capture_notice_once")
        ]
        indexes = [models.Index(fields=["tenant", "acknowledged_at"], name="capture_notice_open")]

    def __str__(self) -> str:
        return self.message
