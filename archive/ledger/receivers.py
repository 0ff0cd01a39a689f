"""Every audit entry of a tenant is a leaf of its Merkle log.

The audit trail lives in ``compliance_hub``, which must not import the apps built on it, so it
announces each entry (``audit_event_recorded``, sent inside the entry's transaction) and the
log listens here. Connected by ArchiveConfig.ready() (archive/apps.py).
"""

from __future__ import annotations

from django.dispatch import receiver

from compliance_hub.audit.models import AuditEvent
from compliance_hub.audit.services import audit_event_recorded


@receiver(audit_event_recorded, dispatch_uid="archive-ledger-audit-leaf")
def log_audit_event(sender, event: AuditEvent, **kwargs) -> None:
    tenant = event.tenant
    if tenant is None:
        return  # the platform's own trail (no tenant) has no tenant log to belong to
    from .services import log_records

    log_records(tenant=tenant, records=AuditEvent.objects.filter(pk=event.pk))
