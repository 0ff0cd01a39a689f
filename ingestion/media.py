"""Media of archived messages: fetched at once, verified, kept.

Meta's media ids live 7 days and its download URLs 5 minutes, and there is no later recovery, so
every archived message with media gets an :class:`~archive.models.Attachment` (``pending``) in
the same transaction as the message, and a fetch is queued after commit (ingestion/media_tasks.py).

A fetch downloads the bytes from the Graph API with the tenant's access token (the ``url`` that a
webhook may already carry first, a fresh one from the media id otherwise), checks them against
the SHA-256 Meta sent (hex or base64: Meta's examples use both), and keeps them in Django's
default storage under a content-addressed name, ``attachments/<tenant>/<aa>/<sha256>``: the same
bytes are stored once per tenant, and a stored file is never overwritten. Bytes that do not match
are never stored. A failure never reaches message processing: the attachment is marked
``missing`` (retried with backoff) or, after ``MAX_ATTEMPTS`` or once its media id is past its
7 days, ``failed``, with the reason in ``last_error``. The access token appears in no log line
and no ``last_error``.

No database transaction is held open during a download: the attachment is read in one short
tenant scope and the outcome written in another, under a row lock and conditionally, so two
concurrent fetches of one attachment (a retry and a sweep) store it once.
"""

from __future__ import annotations

import base64
import binascii
import logging
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from archive.models import Attachment, Message
from archive.services import (
    add_attachments,
    fail_expired_attachments,
    mark_attachment_not_fetched,
    mark_attachment_stored,
)
from compliance_hub.tenancy.context import tenant_scope, unscoped
from compliance_hub.tenancy.models import Tenant

from .graph import Download, GraphClient, GraphError, MediaInfo
from .models import WhatsAppSettings
from .notices import draft_for_lost_media, raise_notices

if TYPE_CHECKING:
    from archive.services import MessageRecord

logger = logging.getLogger(__name__)

MEDIA_ID_LIFETIME = timedelta(days=7)  # Meta: "Media IDs in webhooks expire after 7 days"
WEBHOOK_URL_LIFETIME = timedelta(minutes=5)  # Meta: a media URL "expires after 5 minutes"
MAX_ATTEMPTS = 15
# Quick retries by the task itself (seconds: 15, 30, 60, 120) for the first attempts; after
# those the beat task's slower schedule (see ``attachments_to_fetch``) takes over.
QUICK_RETRIES = 4
QUICK_RETRY_BASE_SECONDS = 15
PENDING_GRACE = timedelta(minutes=2)  # pending longer than this was probably never queued
SWEEP_BATCH = 500
SPOOL_BYTES = 8 * 1024 * 1024  # media up to this size is held in memory while verified
EXPIRED = "the media id expired before it could be fetched (Meta keeps media 7 days)"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
Status = Attachment.Status


@dataclass(frozen=True)
class FetchResult:
    status: str  # an Attachment.Status value, or "gone" when there is no such attachment
    attempts: int = 0
    error: str = ""


class HashMismatch(Exception):
    pass


def decode_sha256(value: str) -> bytes | None:
    """The 32-byte digest in Meta's ``sha256``: 64 hex characters or base64 (standard or
    URL-safe, padding optional). None when it is neither."""
    text = (value or "").strip()
    if len(text) == 64:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    text = text.replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


def storage_name(*, tenant_id: int, sha256_hex: str) -> str:
    """Content-addressed, per tenant (a tenant's files can be listed, exported or disposed of
    without touching another's)."""
    return f"attachments/{tenant_id}/{sha256_hex[:2]}/{sha256_hex}"


# --- Creation, inside message processing -------------------------------------------------------


def record_attachments(*, tenant: Tenant, records: Iterable[MessageRecord]) -> list[int]:
    """Create the pending attachments of the archived messages among ``records`` (in the
    caller's tenant scope and transaction) and queue one fetch per attachment after commit.
    Idempotent: an attachment that exists is not created again; one still pending is queued
    again (a replay). Returns the ids queued. Costs no query when no record has media."""
    wamids = [r.wamid for r in records if isinstance(r.structured.get("media"), dict)]
    if not wamids:
        return []
    ids = add_attachments(tenant=tenant, wamids=wamids)
    if not ids:
        return []
    # robust: a broker that is down must not undo the archive; the beat task picks them up.
    transaction.on_commit(partial(queue_fetches, tenant_id=tenant.pk, ids=ids), robust=True)
    return ids


def queue_fetches(*, tenant_id: int, ids: Iterable[int]) -> None:
    from .media_tasks import fetch_media_task  # the tasks module imports this one

    for attachment_id in ids:
        fetch_media_task.delay(tenant_id=tenant_id, attachment_id=attachment_id)


# --- Fetching, in its own task -------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    media_id: str
    meta_sha256: str
    webhook_url: str
    received_at: datetime
    access_token: str


def _webhook_url_usable(url: str) -> bool:
    """A ``url`` from the webhook gets our bearer token only on Meta's download hosts
    (GRAPH_MEDIA_URL_HOSTS), over HTTPS except on loopback (the test server)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    allowed = {h.lower() for h in getattr(settings, "GRAPH_MEDIA_URL_HOSTS", ())}
    if host not in allowed:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK)


def _access_token(whatsapp: WhatsAppSettings | None) -> tuple[str, str]:
    """(token, why there is none)."""
    try:
        token = whatsapp.access_token if whatsapp else ""
    except ValueError:
        return "", "the WhatsApp access token cannot be decrypted (FIELD_ENCRYPTION_KEYS changed?)"
    if not token:
        return "", "no WhatsApp access token is set for this firm: an admin must enter one"
    return token, ""


def _scrub(text: str, secret: str) -> str:
    return text.replace(secret, "[access token]") if secret else text


def _download(graph: GraphClient, job: _Job, sink: Any) -> tuple[Download, MediaInfo | None]:
    """The webhook's URL when there is a usable one (it saves a call, and may be all there is
    while the media id is new); on any retryable failure of it, a fresh URL from the media id."""
    # Only with a SHA-256 to check against: otherwise the lookup below is what gives one.
    verifiable = decode_sha256(job.meta_sha256) is not None
    fresh = timezone.now() - job.received_at < WEBHOOK_URL_LIFETIME
    if job.webhook_url and verifiable and fresh and _webhook_url_usable(job.webhook_url):
        try:
            return graph.download(job.webhook_url, into=sink), None
        except GraphError as error:
            if error.permanent:
                raise
            logger.info("webhook media URL of %s failed (%s); asking the Graph API",
                        job.media_id, error)  # fmt: skip
            sink.seek(0)
            sink.truncate()
    info = graph.media_info(job.media_id)
    return graph.download(info.url, into=sink), info


def _store(*, tenant_id: int, download: Download, sink: Any) -> tuple[str, bool]:
    """(name, whether this call wrote it). Only verified bytes reach here, so a file at the
    content-addressed name holds these bytes, unless a crash cut it short: then the size
    differs and the storage writes a new name beside it (it never overwrites)."""
    name = storage_name(tenant_id=tenant_id, sha256_hex=download.sha256.hex())
    if default_storage.exists(name) and default_storage.size(name) == download.size:
        return name, False
    sink.seek(0)
    content = File(sink, name=name.rsplit("/", 1)[-1])
    content.size = download.size
    return default_storage.save(name, content), True


def _record_stored(
    *, tenant: Tenant, attachment_id: int, name: str, written: bool, download: Download,
    info: MediaInfo | None, note: str,
) -> FetchResult:  # fmt: skip
    content_type = download.content_type.split(";", 1)[0].strip()
    outcome = mark_attachment_stored(
        tenant=tenant, attachment_id=attachment_id, storage_name=name,
        sha256=download.sha256.hex(), size=download.size,
        mime_type=(info.mime_type if info else "") or content_type, note=note,
    )  # fmt: skip
    row = outcome.attachment
    if outcome.changed:
        assert row is not None, "a changed attachment is returned by the service that changed it"
        return FetchResult(status=row.status, attempts=row.attempts, error=note)
    # A concurrent fetch won. A file we wrote beside the canonical name is nobody's; the
    # canonical one may be another attachment's (same bytes) and stays.
    canonical = storage_name(tenant_id=tenant.pk, sha256_hex=download.sha256.hex())
    if written and name != canonical and (row is None or row.file.name != name):
        default_storage.delete(name)
    return FetchResult(status=row.status if row else "gone", attempts=row.attempts if row else 0)


def _record_failure(
    *, tenant: Tenant, attachment_id: int, error: str, permanent: bool
) -> FetchResult:
    # One transaction: the attachment given up on and the admin's notice of it.
    with tenant_scope(tenant):
        outcome = mark_attachment_not_fetched(
            tenant=tenant,
            attachment_id=attachment_id,
            error=error,
            permanent=permanent,
            max_attempts=MAX_ATTEMPTS,
        )
        row = outcome.attachment
        if not outcome.changed:  # stored meanwhile (or gone): nothing to record
            return FetchResult(status=row.status if row else "gone",
                               attempts=row.attempts if row else 0)  # fmt: skip
        assert row is not None, "a changed attachment is returned by the service that changed it"
        if row.status == Status.FAILED:
            _tell_the_admin(tenant, [(_phone_number_id(row), error)])
        return FetchResult(status=row.status, attempts=row.attempts, error=row.last_error)


def _phone_number_id(attachment: Attachment) -> str:
    return (
        Message.objects.filter(pk=attachment.message_id)
        .values_list("conversation__business_phone_number_id", flat=True)
        .first()
        or ""
    )


def _tell_the_admin(tenant: Tenant, lost: list[tuple[str, str]]) -> None:
    """A capture notice per number (once a day) for media given up on, in the caller's scope."""
    drafts = {phone: draft_for_lost_media(phone_number_id=phone, reason=why) for phone, why in lost}
    raise_notices(tenant=tenant, drafts=list(drafts.values()), day=timezone.now().date())


def fetch_attachment(*, tenant: Tenant, attachment_id: int) -> FetchResult:
    """Fetch, verify and store one attachment; record the outcome on it. Never raises for a
    failure of Meta, the network, the bytes or the storage: those become ``missing`` (to be
    retried) or ``failed`` with the reason in ``last_error``."""
    with tenant_scope(tenant):
        row = (
            Attachment.objects.select_related("message")
            .defer("message__raw", "message__text")
            .filter(pk=attachment_id)
            .first()
        )
        if row is None:
            return FetchResult(status="gone")
        if row.status in (Status.STORED, Status.FAILED):
            return FetchResult(status=row.status, attempts=row.attempts)
        token, token_problem = _access_token(WhatsAppSettings.objects.filter(tenant=tenant).first())
        media = (row.message.structured or {}).get("media") or {}
        job = _Job(
            media_id=row.media_id,
            meta_sha256=row.meta_sha256,
            webhook_url=str(media.get("url") or "") if isinstance(media, dict) else "",
            received_at=row.message.received_at,
            access_token=token,
        )

    def failed(message: str, *, permanent: bool = False) -> FetchResult:
        message = _scrub(message, job.access_token)
        logger.warning("media %s of attachment %s (tenant %s) not fetched: %s",
                       job.media_id, attachment_id, tenant.pk, message)  # fmt: skip
        return _record_failure(
            tenant=tenant, attachment_id=attachment_id, error=message, permanent=permanent
        )

    if timezone.now() - job.received_at > MEDIA_ID_LIFETIME:
        return failed(EXPIRED, permanent=True)
    if token_problem:
        return failed(token_problem)

    try:
        with (
            GraphClient(access_token=job.access_token) as graph,
            tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as sink,
        ):
            download, info = _download(graph, job, sink)
            sent = job.meta_sha256
            expected = decode_sha256(sent)
            if expected is None and info is not None:
                sent, expected = info.sha256, decode_sha256(info.sha256)
            note = ""
            if expected is None:
                # Meta always sends one; should it not, keeping the bytes beats losing them.
                note = "stored unverified: Meta sent no SHA-256 that reads as hex or base64"
            elif expected != download.sha256:
                raise HashMismatch(
                    f"SHA-256 mismatch: Meta sent {sent[:88]}, the {download.size} bytes "
                    f"downloaded hash to {download.sha256.hex()}; not stored"
                )
            name, written = _store(tenant_id=tenant.pk, download=download, sink=sink)
    except GraphError as error:
        return failed(str(error), permanent=error.permanent)
    except HashMismatch as error:
        return failed(str(error))
    except Exception as error:  # storage down, disk full, a bug: recorded, retried, never lost
        logger.exception("fetching attachment %s of tenant %s failed", attachment_id, tenant.pk)
        return failed(f"{type(error).__name__}: {error}")
    return _record_stored(
        tenant=tenant, attachment_id=attachment_id, name=name, written=written,
        download=download, info=info, note=note,
    )  # fmt: skip


def quick_retry_delay(retries: int) -> int | None:
    """Seconds before the task's own next try after ``retries`` tries, or None when the quick
    retries are used up (the beat task's schedule takes over)."""
    if retries >= QUICK_RETRIES:
        return None
    return QUICK_RETRY_BASE_SECONDS * 2**retries


# --- The beat: what to fetch again, what to give up on ----------------------------------------


def _due(status: str, attempts: int, received_at: datetime, now: datetime) -> bool:
    """Pending: past a grace period (never queued: the broker was down). Missing: attempt n+1
    no sooner than 2^n minutes after reception (2 min, 4, 8 ... 17 h, 34 h, 2.8 days, 5.7
    days), which spreads the attempts over the media id's 7 days."""
    if status == Status.PENDING:
        return received_at <= now - PENDING_GRACE
    return received_at <= now - timedelta(minutes=2 ** min(attempts, 16))


def attachments_to_fetch(now: datetime | None = None) -> list[tuple[int, int]]:
    """(tenant id, attachment id) of attachments due for another fetch. Platform code: spans
    tenants, reads no content."""
    now = now or timezone.now()
    with unscoped():
        rows = list(
            Attachment.all_tenants.filter(
                status__in=[Status.PENDING, Status.MISSING],
                attempts__lt=MAX_ATTEMPTS,
                message__received_at__gt=now - MEDIA_ID_LIFETIME,
                tenant__status=Tenant.Status.ACTIVE,
            )
            .order_by("message__received_at")
            .values_list("tenant_id", "pk", "status", "attempts", "message__received_at")[
                : SWEEP_BATCH * 4
            ]
        )
    due = [(t, pk) for t, pk, status, attempts, at in rows if _due(status, attempts, at, now)]
    return due[:SWEEP_BATCH]


def expire_attachments(now: datetime | None = None) -> int:
    """Mark ``failed`` every attachment still waiting whose media id is past its 7 days, so
    that nobody reads "retrying" where nothing can be retried, and tell each firm's admin.
    Platform code: spans tenants."""
    now = now or timezone.now()
    expired = fail_expired_attachments(received_by=now - MEDIA_ID_LIFETIME, reason=EXPIRED)
    for tenant in Tenant.objects.filter(pk__in=expired.numbers):
        with tenant_scope(tenant):
            _tell_the_admin(tenant, [(phone, EXPIRED) for phone in expired.numbers[tenant.pk]])
    return expired.count
