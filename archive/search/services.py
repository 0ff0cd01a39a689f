"""Writes of search: the audit of each search run, and saved searches.

Every search a person (or an API key) runs is one ``archive.search`` event holding the query,
the filters, the exact count and the messages shown (17a-4 and the firms' own reviewers ask who
looked for what). Saved searches change only here, each change audited and kept as a version."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.models import Tenant

from .models import SavedSearch, SavedSearchVersion
from .query import parse

# The messages search's filters (its query parameters), which a saved search may keep.
SEARCH_FILTERS = frozenset(
    {"employee", "team", "counterparty", "direction", "conversation", "type",
     "has_attachment", "edited", "deleted", "since", "until", "order", "legal_hold"}
)  # fmt: skip
MAX_NAME = 200


class SavedSearchError(ValueError):
    """A saved search that cannot be kept as given, with what is wrong (``field``: the input at
    fault)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def record_search(
    *,
    tenant: Tenant,
    actor: Actor,
    query: str,
    filters: dict[str, str | int | bool],
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


def _checked(*, name: str, query: str, filters: dict[str, str]) -> tuple[str, str, dict[str, str]]:
    name = name.strip()
    if not name:
        raise SavedSearchError("Give the search a name.", field="name")
    if len(name) > MAX_NAME:
        raise SavedSearchError(f"A name has at most {MAX_NAME} characters.", field="name")
    unknown = sorted(set(filters) - SEARCH_FILTERS)
    if unknown:
        raise SavedSearchError(f"Not a search filter: {', '.join(unknown)}.", field="filters")
    if any(not isinstance(value, str) for value in filters.values()):
        raise SavedSearchError("Each filter's value is text, as in the URL.", field="filters")
    filters = {key: value for key, value in sorted(filters.items()) if value != ""}
    if query.strip():
        parse(query)  # QueryError: the reviewer sees what is wrong and where
    elif not filters:
        raise SavedSearchError("Give a query or at least one filter.", field="query")
    return name, query, filters


def _add_version(saved: SavedSearch, *, actor: Actor) -> None:
    SavedSearchVersion.objects.create(
        tenant=saved.tenant,
        saved_search=saved,
        number=saved.version,
        name=saved.name,
        query=saved.query,
        filters=saved.filters,
        created_by_label=actor.label,
    )


def _content(saved: SavedSearch) -> dict[str, Any]:
    return {"name": saved.name, "query": saved.query, "filters": saved.filters}


@transaction.atomic
def create_saved_search(
    *, tenant: Tenant, actor: Actor, name: str, query: str, filters: dict[str, str]
) -> SavedSearch:
    """Keep a search under a name for the tenant's reviewers (version 1). Raises
    :class:`SavedSearchError` or :class:`QueryError` for bad input (nothing kept)."""
    name, query, filters = _checked(name=name, query=query, filters=filters)
    saved = SavedSearch.objects.create(
        tenant=tenant, owner=actor.user, owner_label=actor.label, name=name, query=query,
        filters=filters,
    )  # fmt: skip
    _add_version(saved, actor=actor)
    record_event(
        "saved_search.created", tenant=tenant, actor=actor, target=saved,
        details={"version": 1, **_content(saved)},
    )  # fmt: skip
    return saved


@transaction.atomic
def update_saved_search(
    *,
    saved: SavedSearch,
    actor: Actor,
    name: str | None = None,
    query: str | None = None,
    filters: dict[str, str] | None = None,
) -> SavedSearch:
    """Rename a saved search or change its query or filters: a new version, the earlier ones
    kept. Nothing changes (and nothing is recorded) when the content is the same."""
    locked = SavedSearch.objects.select_for_update().get(
        tenant=saved.tenant, pk=saved.pk, deleted_at__isnull=True
    )
    new = _checked(
        name=locked.name if name is None else name,
        query=locked.query if query is None else query,
        filters=locked.filters if filters is None else filters,
    )
    before = _content(locked)
    if new == (locked.name, locked.query, locked.filters):
        return locked
    locked.name, locked.query, locked.filters = new
    locked.version += 1
    locked.save(update_fields=["name", "query", "filters", "version", "updated_at"])
    _add_version(locked, actor=actor)
    record_event(
        "saved_search.updated", tenant=locked.tenant, actor=actor, target=locked,
        details={"version": locked.version, "before": before, "after": _content(locked)},
    )  # fmt: skip
    return locked


@transaction.atomic
def delete_saved_search(*, saved: SavedSearch, actor: Actor) -> None:
    """Take a saved search off the list; its versions stay (what it meant remains on record)."""
    updated = SavedSearch.objects.filter(
        tenant=saved.tenant, pk=saved.pk, deleted_at__isnull=True
    ).update(deleted_at=timezone.now())
    if updated:
        record_event(
            "saved_search.deleted", tenant=saved.tenant, actor=actor, target=saved,
            details={"version": saved.version, **_content(saved)},
        )  # fmt: skip
