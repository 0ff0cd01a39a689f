"""The verbs of the archive: append messages, the events that happen to them and calls,
idempotently, and take attachments through their states. Every write that makes a record adds
its leaf to the tenant's Merkle log here, so no caller can forget it.

Every multi-row insert goes in the order of the rows' unique key. Two drains may archive the same
duplicated items at once (a redelivery, the sweeper), and an insert that meets the other's
uncommitted row of the same key waits for it: in one shared order they queue behind each other,
while in opposite orders each would hold a row the other waits for (a deadlock).
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import IO, Any

from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db.models import Case, F, TextField, Value, When
from django.db.models.functions import Concat
from django.utils import timezone

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.context import tenant_scope, unscoped
from compliance_hub.tenancy.models import Tenant

from .ledger.services import log_records
from .media_kinds import HEAD_SIZE, sniff
from .models import (
    Attachment,
    AttachmentFile,
    CallRecord,
    Conversation,
    Message,
    MessageEvent,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, order=True)  # ordered: conversations are created in key order
class ConversationKey:
    employee_id: int
    business_phone_number_id: str
    counterparty_key: str


@dataclass
class MessageRecord:
    """A message to archive (built by ingestion from a parsed delivery)."""

    conversation: ConversationKey
    counterparty: dict[str, str]  # wa_id, user_id, name, username
    business_display_number: str
    wamid: str
    direction: str
    type: str
    whatsapp_timestamp: datetime
    received_at: datetime
    text: str
    structured: dict[str, Any]
    context: dict[str, Any]
    is_history: bool
    flags: list[str]
    raw: dict[str, Any]
    delivery_id: int | None


@dataclass
class EventRecord:
    kind: str
    event_key: str
    target_wamid: str
    direction: str
    whatsapp_timestamp: datetime
    received_at: datetime
    payload: dict[str, Any]
    raw: dict[str, Any]
    delivery_id: int | None


def _known_conversations(
    tenant: Tenant, keys: list[ConversationKey]
) -> dict[ConversationKey, Conversation]:
    # One query for a whole batch: a superset (every employee's conversation with every
    # counterparty named), narrowed to the keys asked for here.
    rows = Conversation.objects.filter(
        tenant=tenant,
        employee_id__in={key.employee_id for key in keys},
        counterparty_key__in={key.counterparty_key for key in keys},
    )
    found = {
        ConversationKey(row.employee_id, row.business_phone_number_id, row.counterparty_key): row
        for row in rows
    }
    return {key: found[key] for key in keys if key in found}


def _conversations(
    tenant: Tenant, first_of: dict[ConversationKey, MessageRecord]
) -> dict[ConversationKey, Conversation]:
    """The conversations of a batch, the missing ones created (each from its first message):
    three queries at most, however many conversations the batch touches."""
    keys = sorted(first_of)
    conversations = _known_conversations(tenant, keys)
    missing = [key for key in keys if key not in conversations]
    if missing:
        # A concurrent drain creating the same conversation: its row wins, ours is skipped
        # (the insert waits for its commit, in key order), and the lookup below finds it.
        Conversation.objects.bulk_create(
            [
                Conversation(
                    tenant=tenant,
                    employee_id=key.employee_id,
                    business_phone_number_id=key.business_phone_number_id,
                    counterparty_key=key.counterparty_key,
                    business_display_number=first_of[key].business_display_number,
                    counterparty_wa_id=first_of[key].counterparty.get("wa_id", ""),
                    counterparty_user_id=first_of[key].counterparty.get("user_id", ""),
                    counterparty_name=first_of[key].counterparty.get("name", ""),
                    counterparty_username=first_of[key].counterparty.get("username", ""),
                    started_at=first_of[key].whatsapp_timestamp,
                )
                for key in missing
            ],
            ignore_conflicts=True,
        )
        conversations.update(_known_conversations(tenant, missing))
    return conversations


def archive_messages(*, tenant: Tenant, records: list[MessageRecord]) -> int:
    """Append messages (in the caller's tenant scope); a wamid already archived is skipped, so
    a redelivery or a retried task stores nothing twice. Returns how many were new."""
    return len(append_messages(tenant=tenant, records=records))


def append_messages(*, tenant: Tenant, records: list[MessageRecord]) -> list[str]:
    """archive_messages, returning the wamids that were new (a drain archives many deliveries'
    messages at once and tells each delivery what was its own). A constant number of queries
    per call, however many records."""
    if not records:
        return []
    first_of: dict[ConversationKey, MessageRecord] = {}  # starts each new conversation
    for record in records:
        first_of.setdefault(record.conversation, record)
    records = sorted(records, key=attrgetter("wamid"))
    conversations = _conversations(tenant, first_of)
    rows = []
    for record in records:
        conversation = conversations[record.conversation]
        rows.append(
            Message(
                tenant=tenant,
                conversation=conversation,
                employee_id=record.conversation.employee_id,
                delivery_id=record.delivery_id,
                wamid=record.wamid,
                direction=record.direction,
                type=record.type,
                whatsapp_timestamp=record.whatsapp_timestamp,
                received_at=record.received_at,
                text=record.text,
                structured=record.structured,
                context=record.context,
                is_history=record.is_history,
                flags=record.flags,
                raw=record.raw,
            )
        )
    existing = set(
        Message.objects.filter(wamid__in=[row.wamid for row in rows]).values_list(
            "wamid", flat=True
        )
    )
    new_rows = []
    for row in rows:
        if row.wamid not in existing:
            existing.add(row.wamid)  # a delivery may carry the same message twice
            new_rows.append(row)
    Message.objects.bulk_create(new_rows, ignore_conflicts=True)
    # Tamper evidence: each new message is hashed now and becomes a leaf of the tenant's Merkle
    # log at the next checkpoint (archive/ledger/): one SELECT and one INSERT, no lock.
    new_wamids = [row.wamid for row in new_rows]
    log_records(tenant=tenant, records=Message.objects.filter(wamid__in=new_wamids))
    return new_wamids


def archive_events(*, tenant: Tenant, records: list[EventRecord]) -> int:
    """Append edits, revokes, reactions and statuses; duplicates (same event key) are skipped."""
    return len(append_events(tenant=tenant, records=records))


def append_events(*, tenant: Tenant, records: list[EventRecord]) -> list[str]:
    """archive_events, returning the event keys that were new."""
    if not records:
        return []
    keys = [record.event_key for record in records]
    existing = set(
        MessageEvent.objects.filter(event_key__in=keys).values_list("event_key", flat=True)
    )
    rows = []
    for record in sorted(records, key=attrgetter("event_key")):
        if record.event_key in existing:
            continue
        existing.add(record.event_key)
        rows.append(
            MessageEvent(
                tenant=tenant,
                kind=record.kind,
                event_key=record.event_key,
                target_wamid=record.target_wamid,
                direction=record.direction,
                whatsapp_timestamp=record.whatsapp_timestamp,
                received_at=record.received_at,
                payload=record.payload,
                raw=record.raw,
                delivery_id=record.delivery_id,
            )
        )
    MessageEvent.objects.bulk_create(rows, ignore_conflicts=True)
    # Each new event is a leaf of the tenant's Merkle log too (see archive_messages).
    new_keys = [row.event_key for row in rows]
    log_records(tenant=tenant, records=MessageEvent.objects.filter(event_key__in=new_keys))
    return new_keys


def archive_calls(*, tenant: Tenant, records: list[CallRecord]) -> int:
    """Append call records (unsaved, built by ingestion; in the caller's tenant scope); an event
    key already archived is skipped, so a replay stores nothing twice. Returns how many were new."""
    return len(append_calls(tenant=tenant, records=records))


def append_calls(*, tenant: Tenant, records: list[CallRecord]) -> list[str]:
    """archive_calls, returning the event keys that were new."""
    if not records:
        return []
    existing = set(
        CallRecord.objects.filter(event_key__in=[r.event_key for r in records]).values_list(
            "event_key", flat=True
        )
    )
    rows = []
    for record in sorted(records, key=attrgetter("event_key")):
        if record.event_key in existing:
            continue
        existing.add(record.event_key)
        record.tenant = tenant
        rows.append(record)
    if not rows:
        return []
    CallRecord.objects.bulk_create(rows, ignore_conflicts=True)
    # Each new call record is a leaf of the tenant's Merkle log too (see archive_messages).
    new_keys = [row.event_key for row in rows]
    log_records(tenant=tenant, records=CallRecord.objects.filter(event_key__in=new_keys))
    return new_keys


# --- Attachments --------------------------------------------------------------------------------
# pending (made with its message) → stored (bytes kept; its AttachmentFile is the leaf), or
# missing (to be retried) → failed (given up). The Attachment changes state, so it is no leaf.


@dataclass(frozen=True)
class AttachmentChange:
    """What a state change found: the attachment as it now is (None: there is none), and
    whether this call changed it (False: a concurrent fetch stored it first, or it is gone)."""

    attachment: Attachment | None
    changed: bool


def _pending_attachments(message: Message) -> list[Attachment]:
    """The (unsaved) attachments of an archived message: one per media item in
    ``structured["media"]``; none when it has no media or no media id."""
    media = (message.structured or {}).get("media")
    if not isinstance(media, dict):
        return []
    media_id = str(media.get("id") or "")
    if not media_id:
        return []
    return [
        Attachment(
            tenant_id=message.tenant_id,
            message=message,
            media_id=media_id[:255],
            mime_type=str(media.get("mime_type") or "")[:128],
            meta_sha256=str(media.get("sha256") or "")[:128],
            filename=str(media.get("filename") or "")[:255],
            status=Attachment.Status.PENDING,
        )
    ]


def add_attachments(*, tenant: Tenant, wamids: Iterable[str]) -> list[int]:
    """Give the archived messages ``wamids`` that carry media their pending attachments (in the
    caller's tenant scope and transaction). Idempotent: an attachment that exists is not made
    again. Returns the ids of those messages' attachments still pending (new or earlier)."""
    messages = Message.objects.filter(wamid__in=list(wamids)).only("pk", "tenant_id", "structured")
    rows = [attachment for message in messages for attachment in _pending_attachments(message)]
    if not rows:
        return []
    rows.sort(key=attrgetter("message_id", "media_id"))  # key order: see the module docstring
    Attachment.objects.bulk_create(rows, ignore_conflicts=True)
    return list(
        Attachment.objects.filter(
            message_id__in=[row.message_id for row in rows], status=Attachment.Status.PENDING
        ).values_list("pk", flat=True)
    )


def record_stored_file(*, tenant: Tenant, attachment: Attachment) -> AttachmentFile:
    """The proof that ``attachment``'s bytes were stored (in the caller's tenant scope and
    transaction, as its status turns ``stored``): a leaf of the tenant's log. Idempotent."""
    existing = AttachmentFile.objects.filter(attachment=attachment).first()
    if existing is not None:
        return existing
    size, storage_name, stored_at = attachment.size, attachment.file.name, attachment.stored_at
    # Called only once the bytes are stored (mark_attachment_stored sets all three first).
    assert size is not None and storage_name and stored_at is not None, "attachment not stored"
    proof = AttachmentFile.objects.create(
        tenant=tenant,
        attachment=attachment,
        message_id=attachment.message_id,
        media_id=attachment.media_id,
        sha256=attachment.sha256,
        size=size,
        mime_type=attachment.mime_type,
        storage_name=storage_name,
        stored_at=stored_at,
    )
    log_records(tenant=tenant, records=AttachmentFile.objects.filter(pk=proof.pk))
    return proof


def mark_attachment_stored(
    *,
    tenant: Tenant,
    attachment_id: int,
    storage_name: str,
    sha256: str,
    size: int,
    mime_type: str,
    note: str = "",
) -> AttachmentChange:
    """Record that ``attachment_id``'s verified bytes are kept under ``storage_name``, with their
    proof (a leaf of the log), under a row lock: of two concurrent fetches one records it.
    ``mime_type`` (what the fetch learned) is kept only when Meta's webhook named none."""
    with tenant_scope(tenant):
        row = Attachment.objects.select_for_update().filter(pk=attachment_id).first()
        if row is None or row.status == Attachment.Status.STORED:
            return AttachmentChange(attachment=row, changed=False)
        row.file.name = storage_name
        row.sha256 = sha256
        row.size = size
        if not row.mime_type:
            row.mime_type = mime_type[:128]
        row.status = Attachment.Status.STORED
        row.stored_at = timezone.now()
        row.attempts += 1
        row.last_error = note
        row.save(update_fields=["file", "sha256", "size", "mime_type", "status", "stored_at",
                                "attempts", "last_error"])  # fmt: skip
        record_stored_file(tenant=tenant, attachment=row)
        return AttachmentChange(attachment=row, changed=True)


def mark_attachment_not_fetched(
    *, tenant: Tenant, attachment_id: int, error: str, permanent: bool, max_attempts: int
) -> AttachmentChange:
    """Record a failed fetch of ``attachment_id`` under a row lock: ``missing`` (to be retried),
    or ``failed`` when the failure is ``permanent`` or this was attempt ``max_attempts``. One
    stored meanwhile is left as it is."""
    with tenant_scope(tenant):
        row = Attachment.objects.select_for_update().filter(pk=attachment_id).first()
        if row is None or row.status == Attachment.Status.STORED:
            return AttachmentChange(attachment=row, changed=False)
        row.attempts += 1
        give_up = permanent or row.attempts >= max_attempts
        row.status = Attachment.Status.FAILED if give_up else Attachment.Status.MISSING
        row.last_error = error[:2000]
        row.save(update_fields=["attempts", "status", "last_error"])
        return AttachmentChange(attachment=row, changed=True)


@dataclass(frozen=True)
class ExpiredAttachments:
    count: int
    numbers: dict[int, set[str]]  # tenant id → business phone number ids of their messages


def fail_expired_attachments(*, received_by: datetime, reason: str) -> ExpiredAttachments:
    """Mark ``failed``, with ``reason`` before any earlier error, every attachment still waiting
    (pending, missing) of a message received at or before ``received_by``. Platform code: spans
    tenants."""
    with unscoped():
        expiring = Attachment.all_tenants.filter(
            status__in=[Attachment.Status.PENDING, Attachment.Status.MISSING],
            message__received_at__lte=received_by,
        )
        numbers = set(
            expiring.values_list("tenant_id", "message__conversation__business_phone_number_id")
        )
        count = expiring.update(
            status=Attachment.Status.FAILED,
            last_error=Case(
                When(last_error="", then=Value(reason)),
                default=Concat(Value(reason + "; last error: "), F("last_error")),
                output_field=TextField(),
            ),
        )
    by_tenant: dict[int, set[str]] = {}
    for tenant_id, phone in numbers:
        by_tenant.setdefault(tenant_id, set()).add(phone)
    return ExpiredAttachments(count=count, numbers=by_tenant)


# --- the audit of reads ------------------------------------------------------------------------

# What the audit trail's Target column says was read, in words ("4 messages through the API");
# the endpoint and the ids stay in the details.
_READ_NOUNS = {
    "conversation": "conversation",
    "message": "message",
    "event": "message event",
    "policy_hit": "policy hit",  # findings quote the message (policies/api/views.py)
}


def record_archive_read(
    *,
    tenant: Tenant,
    actor: Actor,
    endpoint: str,
    kind: str,
    ids: list[int],
    filters: dict[str, str],
    where: str = "through the API",
) -> None:
    """One ``archive.read`` event for one request, whether the API or a page showed the rows:
    what was asked (``filters``) and which rows were shown. The one rule for every human read
    of archive content."""
    noun = _READ_NOUNS.get(kind, kind)
    record_event(
        "archive.read",
        tenant=tenant,
        actor=actor,
        target_label=f"{len(ids)} {noun}{'' if len(ids) == 1 else 's'} {where}",
        details={
            "endpoint": endpoint,
            "filters": {key: value[:200] for key, value in filters.items()},
            "count": len(ids),
            f"{kind}_ids": ids,
        },
    )


# --- downloads of stored attachments -----------------------------------------------------------

# Bytes kept in memory before the verified copy of a download goes to a temporary file.
_SPOOL_IN_MEMORY = 1 << 20
_READ_CHUNK = 1 << 20
# A MIME type as a header may carry it: anything else is served as opaque bytes.
_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


class AttachmentNotAvailable(Exception):
    """No stored attachment of this id in this tenant (missing, another firm's, or not yet
    stored): one answer for all, so a caller learns nothing about other firms."""


class AttachmentTampered(Exception):
    """The stored bytes are not the ones the archive recorded: they must not be served."""


@dataclass(frozen=True)
class AttachmentDownload:
    """A verified copy of an attachment's bytes, positioned at the start, with how to name it."""

    attachment: Attachment
    content: IO[bytes]
    filename: str
    mime_type: str
    sha256: str
    size: int


def download_mime_type(stored: str) -> str:
    """The stored MIME type without its parameters, or ``application/octet-stream`` when what
    WhatsApp sent is not a plain ``type/subtype`` (it goes into a header)."""
    value = stored.split(";", 1)[0].strip().lower()
    return value if _MIME_TYPE.fullmatch(value) else "application/octet-stream"


def download_filename(*, filename: str, mime_type: str, attachment_id: int) -> str:
    """A name safe on any file system and in a header: the sender's file name without folders or
    control characters, or ``attachment-<id>`` with the type's usual extension."""
    name = _UNSAFE_NAME.sub("_", filename.replace("\\", "/").rsplit("/", 1)[-1]).strip(" ._")
    if name:
        return name[-150:]
    extension = mimetypes.guess_extension(mime_type) or ".bin"
    return f"attachment-{attachment_id}{extension}"


def _verified_copy(
    *, tenant: Tenant, actor: Actor, attachment_id: int, endpoint: str, purpose: str
) -> tuple[Attachment, AttachmentFile, IO[bytes], dict[str, Any]]:
    """The stored bytes of ``attachment_id``, copied while their SHA-256 is checked against the
    attachment's proof (the leaf of the log): the copy is what is served, so bytes changed
    between the check and the answer cannot reach the reader. On a mismatch records
    ``archive.download_refused`` (``purpose`` says whether a download or a preview was asked),
    logs it and raises :class:`AttachmentTampered`. Also returns the details an audit entry of
    the read carries."""
    attachment = (
        Attachment.objects.filter(tenant=tenant, pk=attachment_id, status=Attachment.Status.STORED)
        .select_related("stored_file")
        .first()
    )
    proof = getattr(attachment, "stored_file", None) if attachment is not None else None
    if attachment is None or proof is None:
        raise AttachmentNotAvailable
    copy = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115 (served later)
    digest, size, problem = hashlib.sha256(), 0, ""
    try:
        with default_storage.open(proof.storage_name, "rb") as stored:
            while chunk := stored.read(_READ_CHUNK):
                digest.update(chunk)
                copy.write(chunk)
                size += len(chunk)
    except (OSError, ValueError) as error:
        problem = f"the stored file cannot be read: {error}"
    found = digest.hexdigest()
    if not problem and (found != proof.sha256 or size != proof.size):
        problem = "the stored bytes differ from the archived ones"
    details = {
        "attachment": attachment.pk,
        "message": attachment.message_id,
        "sha256": proof.sha256,
        "size": proof.size,
        "endpoint": endpoint,
    }
    if problem:
        copy.close()
        logger.error(
            "attachment %s of tenant %s refused for %s: %s (sha256 %s, %s bytes; "
            "archived %s, %s bytes)",
            attachment.pk, tenant.slug, purpose, problem, found, size, proof.sha256, proof.size,
        )  # fmt: skip
        record_event(
            "archive.download_refused",
            tenant=tenant,
            actor=actor,
            target=attachment,
            details={
                **details, "found_sha256": found, "found_size": size, "problem": problem,
                "purpose": purpose,
            },
        )  # fmt: skip
        raise AttachmentTampered(problem)
    copy.seek(0)
    return attachment, proof, copy, details


def download_attachment(
    *, tenant: Tenant, actor: Actor, attachment_id: int, endpoint: str
) -> AttachmentDownload:
    """Hand ``actor`` the stored bytes of ``attachment_id``, verified by :func:`_verified_copy`.
    Records ``archive.download``; on a mismatch records ``archive.download_refused``, logs it and
    raises :class:`AttachmentTampered`. Raises :class:`AttachmentNotAvailable` for anything not
    stored in this tenant."""
    attachment, proof, copy, details = _verified_copy(
        tenant=tenant, actor=actor, attachment_id=attachment_id, endpoint=endpoint,
        purpose="download",
    )  # fmt: skip
    record_event("archive.download", tenant=tenant, actor=actor, target=attachment, details=details)
    mime_type = download_mime_type(attachment.mime_type or proof.mime_type)
    return AttachmentDownload(
        attachment=attachment,
        content=copy,
        filename=download_filename(
            filename=attachment.filename, mime_type=mime_type, attachment_id=attachment.pk
        ),
        mime_type=mime_type,
        sha256=proof.sha256,
        size=proof.size,
    )


class AttachmentNotPreviewable(Exception):
    """The stored bytes are not an image, sound or video the page may show: download only."""


# A preview is audited once per reader, attachment and day: a page of 40 photos fetches 40
# previews each time it is opened, and 40 rows per visit would drown the trail without telling an
# auditor more than "this person saw this file that day". The conversation page's own
# ``archive.read`` already names every message shown; this entry adds that the bytes were served.
_PREVIEW_AUDIT_SECONDS = 24 * 3600


def _first_preview_today(*, tenant: Tenant, actor: Actor, attachment_id: int) -> bool:
    """True when ``actor`` has not been served this preview yet today (so it is audited now).
    Errs on the side of auditing: a cache that cannot answer counts as "not yet"."""
    who = actor.user.pk if actor.user is not None else actor.label
    key = f"archive:preview-audited:{tenant.pk}:{who}:{attachment_id}:{timezone.now():%Y-%m-%d}"
    try:
        return bool(cache.add(key, 1, timeout=_PREVIEW_AUDIT_SECONDS))
    except Exception:
        logger.warning("preview audit cache unavailable; auditing the preview", exc_info=True)
        return True


def preview_attachment(
    *, tenant: Tenant, actor: Actor, attachment_id: int, endpoint: str
) -> AttachmentDownload:
    """The verified bytes of ``attachment_id`` to show in the page, typed by their own first
    bytes (:func:`archive.media_kinds.sniff`), never by what the sender declared. Raises
    :class:`AttachmentNotPreviewable` for anything else (an HTML or SVG file declared as an
    image included), :class:`AttachmentTampered` (audited) for changed bytes and
    :class:`AttachmentNotAvailable` for anything not stored in this tenant. Records
    ``archive.preview`` once per reader, attachment and day (see ``_PREVIEW_AUDIT_SECONDS``)."""
    attachment, proof, copy, details = _verified_copy(
        tenant=tenant, actor=actor, attachment_id=attachment_id, endpoint=endpoint,
        purpose="preview",
    )  # fmt: skip
    preview = sniff(copy.read(HEAD_SIZE))
    copy.seek(0)
    if preview is None:
        copy.close()
        raise AttachmentNotPreviewable
    if _first_preview_today(tenant=tenant, actor=actor, attachment_id=attachment.pk):
        record_event(
            "archive.preview", tenant=tenant, actor=actor, target=attachment,
            details={**details, "mime_type": preview.mime_type},
        )  # fmt: skip
    return AttachmentDownload(
        attachment=attachment,
        content=copy,
        filename=download_filename(
            filename=attachment.filename, mime_type=preview.mime_type, attachment_id=attachment.pk
        ),
        mime_type=preview.mime_type,
        sha256=proof.sha256,
        size=proof.size,
    )
