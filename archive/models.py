"""The archive: conversations, messages, the events that happen to messages, and attachments.

Messages and events are append-only (triggers + withheld privileges); an edit, a deletion or a
reaction is a new event, never a change to the original.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from compliance_hub.tenancy.models import TenantOwnedModel


class Direction(models.TextChoices):
    INBOUND = "inbound", "From the client"
    OUTBOUND = "outbound", "From the employee"


class Conversation(TenantOwnedModel):
    employee = models.ForeignKey(
        "consent.Employee", on_delete=models.PROTECT, related_name="conversations"
    )
    business_phone_number_id = models.CharField(max_length=32)
    business_display_number = models.CharField(max_length=32, blank=True)
    counterparty_key = models.CharField(max_length=300)  # BSUID when present, else the wa_id
    counterparty_wa_id = models.CharField(max_length=32, blank=True)
    counterparty_user_id = models.CharField(max_length=300, blank=True)  # BSUID: up to 256
    counterparty_name = models.CharField(max_length=200, blank=True)
    counterparty_username = models.CharField(max_length=100, blank=True)
    started_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "employee", "business_phone_number_id", "counterparty_key"],
                name="conversation_unique_per_counterparty",
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "employee"], name="conversation_employee"),
            # A client's conversations with every employee (alerts: the client's earlier alerts).
            models.Index(fields=["tenant", "counterparty_key"], name="conversation_counterparty"),
        ]

    def __str__(self) -> str:
        return f"{self.counterparty_name or self.counterparty_key} ↔ {self.employee_id}"


class Message(TenantOwnedModel):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.PROTECT, related_name="messages"
    )
    employee = models.ForeignKey("consent.Employee", on_delete=models.PROTECT, related_name="+")
    delivery_id = models.BigIntegerField(null=True, blank=True)  # the ingestion delivery
    wamid = models.CharField(max_length=255)  # opaque, no documented maximum
    direction = models.CharField(max_length=8, choices=Direction.choices)
    type = models.CharField(max_length=32)
    whatsapp_timestamp = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    text = models.TextField(blank=True)
    structured = models.JSONField(default=dict, blank=True)
    context = models.JSONField(default=dict, blank=True)
    is_history = models.BooleanField(default=False)
    flags = models.JSONField(default=list, blank=True)
    raw = models.JSONField(default=dict)

    append_only = True

    class Meta:
        ordering = ["whatsapp_timestamp", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "wamid"], name="message_wamid_unique")
        ]
        indexes = [
            models.Index(
                fields=["tenant", "conversation", "whatsapp_timestamp"], name="message_thread"
            ),
            models.Index(fields=["tenant", "employee", "whatsapp_timestamp"], name="message_emp"),
            models.Index(fields=["tenant", "whatsapp_timestamp"], name="message_time"),
            # What a drain's batch archived, for the scan that follows it (policies/scanning.py):
            # without it every batch read all of the tenant's messages.
            models.Index(fields=["tenant", "delivery_id"], name="message_delivery"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.wamid}"


class MessageEvent(TenantOwnedModel):
    """An edit, a revoke (deletion), a reaction or a delivery status of a message. Linked to its
    message by ``target_wamid`` (not a foreign key: it may arrive before the message does)."""

    class Kind(models.TextChoices):
        EDIT = "edit", "Edited"
        REVOKE = "revoke", "Deleted (revoked)"
        REACTION = "reaction", "Reaction"
        STATUS = "status", "Status"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    event_key = models.CharField(max_length=320)  # idempotency: the event's own id
    target_wamid = models.CharField(max_length=255)
    direction = models.CharField(max_length=8, choices=Direction.choices, blank=True)
    whatsapp_timestamp = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    payload = models.JSONField(default=dict, blank=True)
    delivery_id = models.BigIntegerField(null=True, blank=True)
    raw = models.JSONField(default=dict)

    append_only = True

    class Meta:
        ordering = ["whatsapp_timestamp", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "event_key"], name="message_event_unique")
        ]
        indexes = [models.Index(fields=["tenant", "target_wamid"], name="message_event_target")]

    def __str__(self) -> str:
        return f"{self.kind} of {self.target_wamid}"


class Attachment(TenantOwnedModel):
    """Media of a message, fetched from the Graph API at once (media ids live 7 days)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be fetched"
        STORED = "stored", "Stored"
        MISSING = "missing", "Missing (retrying)"
        FAILED = "failed", "Failed for good"
        DISPOSED = "disposed", "Disposed of (retention or erasure)"

    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="attachments")
    media_id = models.CharField(max_length=255)
    mime_type = models.CharField(max_length=128, blank=True)
    meta_sha256 = models.CharField(max_length=128, blank=True)  # as Meta sent it
    filename = models.CharField(max_length=255, blank=True)
    file = models.FileField(upload_to="media/%Y/%m/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True)  # of the stored bytes
    size = models.PositiveBigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    stored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "message", "media_id"], name="attachment_once"
            )
        ]
        indexes = [models.Index(fields=["tenant", "status"], name="attachment_status")]

    def __str__(self) -> str:
        return f"{self.mime_type or 'media'} of message {self.message_id}"


class AttachmentFile(TenantOwnedModel):
    """The proof of a stored attachment, written once when its bytes were stored and verified:
    which bytes (SHA-256, size), under which name, for which message. A leaf of the tenant's
    Merkle log like every archive record, so an edited hash shows in verify_archive, and
    ``verify_archive --files`` re-reads the stored bytes against it. (The Attachment itself
    changes state while it is fetched, so it cannot be a leaf.)"""

    attachment = models.OneToOneField(
        Attachment, on_delete=models.PROTECT, related_name="stored_file"
    )
    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="+")
    media_id = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    mime_type = models.CharField(max_length=128, blank=True)
    storage_name = models.CharField(max_length=500)
    stored_at = models.DateTimeField()

    append_only = True

    def __str__(self) -> str:
        return f"stored file {self.sha256[:12]} of attachment {self.attachment_id}"


class CallRecord(TenantOwnedModel):
    """One event of a WhatsApp call (``calls`` field): who, which direction, when it started and
    ended, how long. Coexistence cannot capture calls made in the app itself; these are the
    Calling API's events."""

    employee = models.ForeignKey("consent.Employee", on_delete=models.PROTECT, related_name="+")
    event_key = models.CharField(max_length=320)  # idempotency
    call_id = models.CharField(max_length=255)
    event = models.CharField(max_length=32)
    status = models.CharField(max_length=32, blank=True)
    direction = models.CharField(max_length=32, blank=True)
    business_phone_number_id = models.CharField(max_length=32)
    counterparty_key = models.CharField(max_length=300, blank=True)
    counterparty_wa_id = models.CharField(max_length=32, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    whatsapp_timestamp = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    delivery_id = models.BigIntegerField(null=True, blank=True)
    raw = models.JSONField(default=dict)

    append_only = True

    class Meta:
        ordering = ["whatsapp_timestamp", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "event_key"], name="call_event_unique")
        ]
        indexes = [
            models.Index(fields=["tenant", "employee", "whatsapp_timestamp"], name="call_emp")
        ]

    def __str__(self) -> str:
        return f"call {self.call_id} {self.event}"


# Django registers an app's models from its models module only; the Merkle log's live in
# archive/ledger/. Its receivers and tasks are wired in ArchiveConfig.ready(), not here.
from .exporting import models as exporting_models  # noqa: E402, F401
from .holds import models as holds_models  # noqa: E402, F401
from .ledger import models as ledger_models  # noqa: E402, F401
from .retention import models as retention_models  # noqa: E402, F401
from .search import models as search_models  # noqa: E402, F401
