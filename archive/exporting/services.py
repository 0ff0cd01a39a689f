"""The verbs of exports, each audited:

- :func:`export_to_file` (the ``export`` command): a bag written to a file,
  ``archive.export_written``;
- :func:`request_export` (pages and API): an auditor's request, ``archive.export_requested``
  with query, filters, formats, matter and how many messages matched;
- :func:`prepare_export` (the Celery job): the bag through :func:`.build.write_export`,
  ``archive.export_finished``: ready (counts, size, the tag-manifest hash, the checkpoint) or
  failed (the reason given to the requester);
- :func:`download_export`: ``archive.export_downloaded`` with the tag-manifest hash and size;
- :func:`expire_exports` (beat): the file deleted after settings.EXPORT_RETENTION_DAYS,
  ``archive.export_expired``;
- :func:`fail_stalled_exports` (beat): a running export whose progress has not moved for
  settings.EXPORT_STALL_MINUTES (its worker died) marked failed, ``archive.export_finished``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_start
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from ..export.payload import FORMATS
from ..holds.selectors import hold_messages, legal_holds
from ..models import Message
from ..search.query import QueryError
from ..search.selectors import SearchFilters, matching_messages
from .build import ExportError, ExportRequest, ExportResult, NothingToExport, write_export
from .models import Export

logger = logging.getLogger(__name__)

MAX_MATTER = 200
# A progress write at most this often (seconds): a bag of a million messages reports a million
# times, and the page polls every second or two.
PROGRESS_INTERVAL = 0.5
FILTER_FIELDS = tuple(field.name for field in dataclasses.fields(SearchFilters))
FilterValue = str | int | bool | None


class ExportRefused(ValueError):
    """An export that cannot be started as asked, with what is wrong (``field``: the input at
    fault; empty for the request as a whole). Nothing was recorded."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ExportNotDownloadable(Exception):
    """The export has no file to give: not ready yet, failed, or expired (with what to say)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- the search an export keeps ----------------------------------------------------------------


def filters_json(filters: SearchFilters) -> dict[str, FilterValue]:
    """The filters as the Export row keeps them: only those given, instants as ISO UTC."""
    kept: dict[str, FilterValue] = {}
    for name in FILTER_FIELDS:
        value = getattr(filters, name)
        if value is None or value == "":
            continue
        kept[name] = value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value
    return kept


def filters_from_json(kept: dict[str, FilterValue]) -> SearchFilters:
    """The inverse of :func:`filters_json`."""
    values: dict[str, object] = {}
    for name, value in kept.items():
        if name not in FILTER_FIELDS:
            continue
        values[name] = (
            datetime.fromisoformat(value)
            if name in ("since", "until") and isinstance(value, str)
            else value
        )
    return SearchFilters(**values)  # type: ignore[arg-type]


def date_range(filters: SearchFilters) -> tuple[date | None, date | None]:
    """The first and last UTC day the filters cover (``until`` is exclusive), for the bag."""
    first = filters.since.astimezone(UTC).date() if filters.since else None
    last = (
        (filters.until.astimezone(UTC) - timedelta(microseconds=1)).date()
        if filters.until
        else None
    )
    return first, last


def _formats(formats: list[str] | tuple[str, ...]) -> list[str]:
    chosen = {str(f).strip().lower() for f in formats if str(f).strip()}
    if not chosen:
        raise ExportRefused("Choose at least one format.", field="formats")
    unknown = sorted(chosen - set(FORMATS))
    if unknown:
        raise ExportRefused(
            f"Not an export format: {', '.join(unknown)}. Choose from {', '.join(FORMATS)}.",
            field="formats",
        )
    return [f for f in FORMATS if f in chosen]


class BadDateRange(ExportError):
    pass


def search_selection(
    *, tenant: Tenant, query: str, date_from: date | None, date_until: date | None
) -> QuerySet[Message]:
    """The messages a search selects for export: ``query`` as the search page reads it, sent
    on ``date_from`` .. ``date_until`` (whole UTC days, both included). Raises
    :class:`BadDateRange` for a reversed range and the search's ``QueryError`` for a bad query."""
    if date_from is not None and date_until is not None and date_until < date_from:
        raise BadDateRange(
            f"The end of the date range ({date_until}) comes before its start ({date_from})."
        )
    filters = SearchFilters(
        since=datetime.combine(date_from, day_start(), UTC) if date_from else None,
        until=datetime.combine(date_until + timedelta(days=1), day_start(), UTC)
        if date_until
        else None,
    )
    with tenant_scope(tenant):  # the search reads the tenant's lexicon under its RLS
        return matching_messages(tenant=tenant, query=query, filters=filters).rows


def export_to_file(
    *,
    tenant: Tenant,
    actor: Actor,
    export: ExportRequest,
    messages: QuerySet[Message],
    path: Path,
    progress: Callable[[int, int], None] | None = None,
) -> ExportResult:
    """Write the export bag to ``path`` (whole or not at all: written beside it, then renamed)
    and record ``archive.export_written`` with what the bag holds and its tag manifest's hash
    (the value that identifies this exact bag, and that its signature covers)."""
    folder = path.parent if str(path.parent) else Path(".")
    handle, scratch = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            result = write_export(
                tenant=tenant, request=export, messages=messages, out=out, progress=progress
            )
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
    record_event(
        "archive.export_written",
        tenant=tenant,
        actor=actor,
        target_label=f"export {export.export_id}",
        details={
            "export_id": export.export_id,
            "tag_manifest_sha256": result.tag_manifest_sha256,
            "checkpoint_id": result.checkpoint_id,
            "tree_size": result.tree_size,
            "size": result.size,
            "formats": list(export.formats),
            "query": export.query[:500],
            "matter": export.matter[:200],
            "date_from": export.date_from.isoformat() if export.date_from else None,
            "date_until": export.date_until.isoformat() if export.date_until else None,
            "conversations": result.counts.conversations,
            "messages": result.counts.messages,
            "events": result.counts.events,
            "attachments": result.counts.attachments,
            "destination": "file",
        },
    )
    return result


# --- requesting --------------------------------------------------------------------------------


@transaction.atomic
def request_export(
    *,
    tenant: Tenant,
    actor: Actor,
    query: str,
    filters: SearchFilters,
    formats: list[str] | tuple[str, ...],
    matter: str = "",
    legal_hold: int | None = None,
) -> Export:
    """Queue an export of the messages ``query`` and ``filters`` select (the search's own
    definition, archive/search/selectors.py), or of those the tenant's hold ``legal_hold`` (an
    id) names, in ``formats``; a hold's matter is the export's unless one is given. Raises
    :class:`ExportRefused` for bad input, a hold together with a search, or nothing to export
    (nothing recorded, nothing queued)."""
    chosen = _formats(formats)
    matter = matter.strip()
    if len(matter) > MAX_MATTER:
        raise ExportRefused(f"A matter has at most {MAX_MATTER} characters.", field="matter")
    if legal_hold is not None:
        return _request_hold_export(
            tenant=tenant, actor=actor, hold_id=legal_hold, searched=bool(query.strip())
            or filters != SearchFilters(), formats=chosen, matter=matter,
        )  # fmt: skip
    for name in ("since", "until"):
        value = getattr(filters, name)
        if value is not None and value.utcoffset() is None:
            raise ExportRefused("Give the time with its UTC offset (Z or +01:00).", field=name)
    if filters.since and filters.until and filters.until <= filters.since:
        raise ExportRefused("The end of the date range is before its start.", field="until")
    try:
        count = matching_messages(tenant=tenant, query=query, filters=filters).rows.count()
    except QueryError as error:
        named = "character" in error.message
        where = f" (at character {error.position})" if error.position and not named else ""
        raise ExportRefused(error.message + where, field="query") from None
    if count == 0:
        raise ExportRefused(
            "Nothing matches this search, so there is nothing to export. "
            "Change the query or the filters."
        )
    export = Export.objects.create(
        tenant=tenant,
        requested_by=actor.user,
        requester=actor.label,
        matter=matter,
        query=query,
        filters=filters_json(filters),
        formats=chosen,
        progress_total=count,
    )
    _record(
        export, "archive.export_requested", actor=actor,
        details={"query": query, "filters": export.filters, "formats": chosen, "matter": matter,
                 "count": count},
    )  # fmt: skip
    _queue(export)
    return export


def _request_hold_export(
    *, tenant: Tenant, actor: Actor, hold_id: int, searched: bool, formats: list[str],
    matter: str,
) -> Export:  # fmt: skip
    """The hold half of :func:`request_export` (already in its transaction)."""
    if searched:
        raise ExportRefused(
            "Export either a search or a legal hold, not both: clear the search, or leave the "
            "legal hold out.",
            field="legal_hold",
        )
    # Another tenant's hold reads as a missing one: its existence is not ours to reveal.
    hold = legal_holds(tenant=tenant).filter(pk=hold_id).first()
    if hold is None:
        raise ExportRefused("There is no such legal hold.", field="legal_hold")
    try:
        count = hold_messages(tenant=tenant, hold=hold).count()
    except QueryError as error:  # its pinned saved search can no longer be read
        raise ExportRefused(error.message, field="legal_hold") from None
    if count == 0:
        raise ExportRefused(
            f"The legal hold {hold.matter} covers no message, so there is nothing to export.",
            field="legal_hold",
        )
    matter = matter or hold.matter[:MAX_MATTER]
    export = Export.objects.create(
        tenant=tenant,
        requested_by=actor.user,
        requester=actor.label,
        matter=matter,
        legal_hold=hold,
        formats=formats,
        progress_total=count,
    )
    _record(
        export, "archive.export_requested", actor=actor,
        details={"legal_hold": hold.pk, "legal_hold_matter": hold.matter,
                 "legal_hold_status": hold.status, "formats": formats, "matter": matter,
                 "count": count},
    )  # fmt: skip
    _queue(export)
    return export


def _queue(export: Export) -> None:
    from .tasks import prepare_export_task  # the task module imports these services

    tenant_id, export_id = export.tenant_id, export.pk
    transaction.on_commit(
        lambda: prepare_export_task.delay(tenant_id=tenant_id, export_id=export_id)
    )


def _record(export: Export, action: str, *, actor: Actor, details: dict[str, object]) -> None:
    shown = f" for {export.matter}" if export.matter else ""
    record_event(
        action,
        tenant=export.tenant,
        actor=actor,
        target=export,
        target_label=f"Export {export.pk}{shown}",
        details={"export": export.pk, **details},
    )


# --- progress ----------------------------------------------------------------------------------


def _progress_key(export: Export | int, tenant_id: int) -> str:
    pk = export if isinstance(export, int) else export.pk
    return f"archive:export-progress:{tenant_id}:{pk}"


def _heartbeat_key(export: Export) -> str:
    return f"archive:export-heartbeat:{export.tenant_id}:{export.pk}"


# Kept well beyond the stall limit, so a missing heartbeat means "never beat" or a lost cache.
HEARTBEAT_TIMEOUT = 7 * 24 * 3600


def _heartbeat(export: Export) -> None:
    """When the export last moved (epoch seconds), for :func:`fail_stalled_exports`. In the
    cache for the reason its progress is: the worker's read transaction hides row updates."""
    cache.set(_heartbeat_key(export), time.time(), timeout=HEARTBEAT_TIMEOUT)


def _forget_progress(export: Export) -> None:
    cache.delete_many([_progress_key(export, export.tenant_id), _heartbeat_key(export)])


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    percent: int


def export_progress(export: Export) -> Progress:
    """How far a running export is. While it runs, the worker's one long read transaction
    cannot commit its counts to the row, so they go to the cache (Redis), throttled; the row
    holds the total from the start and the final figures at the end."""
    done, total = export.progress_done, export.progress_total
    if export.status == Export.Status.RUNNING:
        live = cache.get(_progress_key(export, export.tenant_id))
        if live:
            done, total = live
    if export.status == Export.Status.READY:
        done = total = max(total, done)
    percent = 100 if export.status == Export.Status.READY else (
        min(100, done * 100 // total) if total else 0
    )  # fmt: skip
    return Progress(done=done, total=total, percent=percent)


class _Reporter:
    """The ``progress`` callback of write_export: at most one cache write per interval, and
    always the last one."""

    def __init__(self, export: Export) -> None:
        self.export = export
        self.key = _progress_key(export, export.tenant_id)
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last >= PROGRESS_INTERVAL or done >= total:
            self.last = now
            cache.set(self.key, (done, total), timeout=24 * 3600)
            _heartbeat(self.export)


# --- preparing (the worker) --------------------------------------------------------------------

FAILED_MESSAGE = (
    "The export could not be prepared because of a problem on our side. Start it again; if it "
    "fails again, tell your administrator (the details are in the server's log)."
)
NOTHING_MESSAGE = (
    "Nothing matched the search any more when the export was prepared, so there is nothing "
    "to export."
)


def _claim(*, tenant: Tenant, export_id: int) -> Export | None:
    """Mark the export running; None when it is gone or finished already (a redelivered task)."""
    with tenant_scope(tenant):
        claimed = Export.objects.filter(
            tenant=tenant, pk=export_id, status__in=[Export.Status.QUEUED, Export.Status.RUNNING]
        ).update(status=Export.Status.RUNNING, started_at=timezone.now(), error="")
        if not claimed:
            return None
        export = Export.objects.select_related("requested_by", "legal_hold").get(
            tenant=tenant, pk=export_id
        )
    _heartbeat(export)
    return export


def prepare_export(*, tenant: Tenant, actor: Actor, export_id: int) -> Export | None:
    """Write the export's bag (archive/exporting/build.py) into a temporary file, store it
    privately and mark the export ready, or failed with a reason for the requester (the log gets
    the traceback). Audits ``archive.export_finished`` and e-mails the requester either way.
    Returns None when there is nothing to do (gone, or finished by an earlier run)."""
    export = _claim(tenant=tenant, export_id=export_id)
    if export is None:
        return None
    filters = filters_from_json(export.filters)
    first, last = date_range(filters)
    hold = export.legal_hold
    request = ExportRequest(
        export_id=str(export.pk),
        requester=export.requester,
        matter=export.matter,
        query=export.query,
        date_from=first,
        date_until=last,
        formats=tuple(export.formats),
        created_at=export.created_at,
        legal_hold=f"{hold.matter} (hold {hold.pk}, {hold.get_status_display().lower()})"
        if hold is not None
        else "",
    )
    stored = ""
    try:
        with tempfile.TemporaryFile() as out:
            with tenant_scope(tenant):  # the search reads the tenant's lexicon under its RLS
                rows = (
                    hold_messages(tenant=tenant, hold=hold)
                    if hold is not None
                    else matching_messages(tenant=tenant, query=export.query, filters=filters).rows
                )
            # Outside our scope: write_export opens its own, and commits the checkpoint it cuts.
            result = write_export(
                tenant=tenant, request=request, messages=rows, out=out,
                progress=_Reporter(export),
            )  # fmt: skip
            out.seek(0)
            stored = default_storage.save(f"exports/{tenant.pk}/export-{export.pk}.zip", File(out))
    except NothingToExport:
        return _finish_failed(export, actor=actor, reason=NOTHING_MESSAGE)
    except (ExportError, QueryError) as error:
        # Written for the person who asked (an unknown format, a query the parser now refuses).
        logger.warning("export %s of tenant %s refused: %s", export.pk, tenant.slug, error)
        return _finish_failed(export, actor=actor, reason=str(error))
    except Exception:
        logger.exception("export %s of tenant %s failed", export.pk, tenant.slug)
        return _finish_failed(export, actor=actor, reason=FAILED_MESSAGE)
    return _finish_ready(export, actor=actor, stored=stored, result=result)


def _finish_ready(export: Export, *, actor: Actor, stored: str, result: ExportResult) -> Export:
    counts = dataclasses.asdict(result.counts)
    now = timezone.now()
    with tenant_scope(export.tenant):
        export.status = Export.Status.READY
        export.file.name = stored
        export.size = result.size
        export.tag_manifest_sha256 = result.tag_manifest_sha256
        export.checkpoint_id = result.checkpoint_id
        export.tree_size = result.tree_size
        export.counts = counts
        export.progress_done = export.progress_total = counts.get("messages", 0)
        export.finished_at = now
        export.expires_at = now + timedelta(days=settings.EXPORT_RETENTION_DAYS)
        export.save()
        _record(
            export, "archive.export_finished", actor=actor,
            details={"status": export.status, "counts": counts, "size": export.size,
                     "tag_manifest_sha256": export.tag_manifest_sha256,
                     "checkpoint": export.checkpoint_id, "tree_size": export.tree_size},
        )  # fmt: skip
        _mail_requester(export)
    _forget_progress(export)
    return export


def _finish_failed(export: Export, *, actor: Actor, reason: str) -> Export:
    with tenant_scope(export.tenant):
        export.status = Export.Status.FAILED
        export.error = reason
        export.finished_at = timezone.now()
        export.save(update_fields=["status", "error", "finished_at"])
        _record(
            export, "archive.export_finished", actor=actor,
            details={"status": export.status, "error": reason},
        )  # fmt: skip
        _mail_requester(export)
    _forget_progress(export)
    return export


def export_page_url(export: Export) -> str:
    """The export's page as an absolute link (settings.SITE_URL: never the host a request
    named)."""
    return settings.SITE_URL.rstrip("/") + reverse("archive:export", args=[export.pk])


def _mail_requester(export: Export) -> None:
    """Tell the person who asked (an API key has no address: its client polls). The mail holds
    the page's address only: the page gives a signed link to whoever is signed in as them."""
    person = export.requested_by
    if person is None or not person.email:
        return
    ready = export.status == Export.Status.READY
    subject = "Your export is ready" if ready else "Your export could not be prepared"
    if export.matter:
        subject += f": {export.matter}"
    body = render_to_string(
        "archive/email/export_finished.txt",
        {"export": export, "ready": ready, "link": export_page_url(export),
         "tenant": export.tenant},
    )  # fmt: skip
    transaction.on_commit(
        lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [person.email])
    )


# --- downloading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportDownload:
    content: IO[bytes]
    filename: str
    size: int


def download_export(*, tenant: Tenant, actor: Actor, export: Export) -> ExportDownload:
    """The export's zip, opened, for ``actor``; ``archive.export_downloaded`` records the bag's
    tag-manifest hash and the size. Raises :class:`ExportNotDownloadable` when it is not ready or
    has expired (nothing recorded)."""
    if export.tenant_id != tenant.pk:
        raise ExportNotDownloadable("No such export.")
    if export.is_expired:
        raise ExportNotDownloadable(
            "This export has expired and its file was deleted. Start a new export."
        )
    if export.status != Export.Status.READY or not export.file:
        raise ExportNotDownloadable("This export is not ready to download.")
    try:
        content = export.file.open("rb")
    except FileNotFoundError:
        logger.error("export %s of tenant %s: file %s missing", export.pk, tenant.slug,
                     export.file.name)  # fmt: skip
        raise ExportNotDownloadable(
            "This export's file is no longer stored. Start a new export."
        ) from None
    _record(
        export, "archive.export_downloaded", actor=actor,
        details={"tag_manifest_sha256": export.tag_manifest_sha256, "size": export.size},
    )  # fmt: skip
    return ExportDownload(
        content=content,
        filename=f"{tenant.slug}-export-{export.pk}.zip",
        size=export.size or 0,
    )


# --- expiry (beat) -----------------------------------------------------------------------------


def expire_exports(*, tenant: Tenant, actor: Actor) -> int:
    """Delete the files of the tenant's exports past ``expires_at`` and mark them expired;
    returns how many. The file goes first: a crash between the two leaves a row that the next
    run finishes (deleting a missing file is no error), never a file nobody will delete."""
    now = timezone.now()
    expired = 0
    with tenant_scope(tenant):
        due = list(
            Export.objects.filter(tenant=tenant, status=Export.Status.READY, expires_at__lte=now)
        )
    for export in due:
        with tenant_scope(tenant):
            name = export.file.name or ""
            if name:
                default_storage.delete(name)
            export.file.name = ""
            export.status = Export.Status.EXPIRED
            export.save(update_fields=["file", "status"])
            _record(
                export, "archive.export_expired", actor=actor,
                details={"file": name, "expires_at": export.expires_at.isoformat()
                         if export.expires_at else None},
            )  # fmt: skip
        expired += 1
    return expired


# --- interrupted exports (beat) ----------------------------------------------------------------

STALLED_MESSAGE = "The export was interrupted; start it again."


def fail_stalled_exports(*, tenant: Tenant, actor: Actor) -> int:
    """Mark failed the tenant's running exports whose progress has not moved for
    settings.EXPORT_STALL_MINUTES (a worker killed mid-export never finishes them); audits
    ``archive.export_finished`` and tells the requester, as any failure. Returns how many.

    The last move is the worker's heartbeat in the cache, or its start when the cache lost it.
    A worker that was only slow and finishes afterwards still marks its export ready."""
    now = timezone.now()
    cutoff = now - timedelta(minutes=settings.EXPORT_STALL_MINUTES)
    with tenant_scope(tenant):
        running = list(
            Export.objects.filter(
                tenant=tenant, status=Export.Status.RUNNING, started_at__lte=cutoff
            ).select_related("requested_by")
        )
    failed = 0
    for export in running:
        beat = cache.get(_heartbeat_key(export))
        moved = datetime.fromtimestamp(beat, UTC) if beat else export.started_at
        if moved is not None and moved > cutoff:
            continue
        with tenant_scope(tenant):
            # Only if still running: the worker may have finished since the list was read.
            if not Export.objects.filter(
                tenant=tenant, pk=export.pk, status=Export.Status.RUNNING
            ).update(status=Export.Status.FAILED, error=STALLED_MESSAGE, finished_at=now):
                continue
            export.status, export.error, export.finished_at = (
                Export.Status.FAILED, STALLED_MESSAGE, now
            )  # fmt: skip
            _record(
                export, "archive.export_finished", actor=actor,
                details={"status": export.status, "error": STALLED_MESSAGE,
                         "interrupted": True,
                         "last_progress": moved.isoformat() if moved else None},
            )  # fmt: skip
            _mail_requester(export)
        _forget_progress(export)
        failed += 1
    return failed
