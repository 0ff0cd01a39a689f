"""The audit of searches: every search a person (or an API key) runs is one ``archive.search``
event holding the query, the filters, the exact count and the messages shown (17a-4 and the
firms' own reviewers ask who looked for what)."""

from __future__ import annotations

from typing import Any

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.models import Tenant


def record_search(
    *,
    tenant: Tenant,
    actor: Actor,
    query: str,
    filters: dict[str, Any],
    count: int,
    message_ids: list[int],
    endpoint: str,
) -> AuditEvent:
    """One ``archive.search`` event for one page of results: ``count`` is every match (not only
    the page), ``message_ids`` the messages this page showed."""
    shown = f"“{query}”" if query.strip() else "filters only"
    return record_event(
        "archive.search",
        tenant=tenant,
        actor=actor,
        target_label=f"Search {shown}: {count} message{'' if count == 1 else 's'}",
        details={
            "endpoint": endpoint,
            "query": query,
            "filters": filters,
            "count": count,
            "message_ids": message_ids,
        },
    )
