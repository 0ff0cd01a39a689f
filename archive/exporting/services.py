"""The verbs of exports: write one to a file, audited (the command's; the Celery job of the
export pages has its own service on top of :func:`archive.exporting.build.write_export`)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from django.db.models import QuerySet

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from ..models import Message
from ..search.selectors import SearchFilters, matching_messages
from .build import ExportError, ExportRequest, ExportResult, write_export


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
        since=datetime.combine(date_from, time(), UTC) if date_from else None,
        until=datetime.combine(date_until + timedelta(days=1), time(), UTC) if date_until else None,
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
