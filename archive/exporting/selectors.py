"""Reads of exports: the tenant's list, and what to tell a person about one export's state."""

from __future__ import annotations

from django.db.models import QuerySet
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from compliance_hub.tenancy.models import Role, Tenant

from .models import Export
from .services import Progress, export_progress

# The issue gives exports to auditors; admins run the tenant and may do what its auditors do.
# Officers work alerts: an export is a bulk disclosure, not part of reviewing one.
EXPORT_ROLES = (Role.AUDITOR, Role.ADMIN)


def tenant_exports(*, tenant: Tenant) -> QuerySet[Export]:
    """The tenant's exports, newest first."""
    return (
        Export.objects.filter(tenant=tenant)
        .select_related("requested_by", "legal_hold")
        .order_by("-created_at", "-id")
    )


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def status_text(export: Export, progress: Progress | None = None) -> str:
    """One sentence on where the export stands, in the requester's words."""
    progress = progress or export_progress(export)
    if export.is_expired:
        when = timezone.localtime(export.expires_at) if export.expires_at else None
        on = f" on {when:%Y-%m-%d %H:%M}" if when else ""
        return f"Expired{on}: the file was deleted. Start a new export to get it again."
    if export.status == Export.Status.QUEUED:
        return f"Waiting for a worker… ({_plural(progress.total, 'message')} to export)"
    if export.status == Export.Status.RUNNING:
        return (
            f"Preparing… {progress.percent} % "
            f"({progress.done:,} of {_plural(progress.total, 'message')})"
        )
    if export.status == Export.Status.READY:
        counts = export.counts or {}
        return (
            f"Ready: {_plural(counts.get('messages', 0), 'message')} in "
            f"{_plural(counts.get('conversations', 0), 'conversation')}, "
            f"{filesizeformat(export.size or 0)}."
        )
    return f"Failed: {export.error}"
