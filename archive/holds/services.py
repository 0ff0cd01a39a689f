"""Writes of legal holds: place one, correct its matter or reason, release it. Each audits itself
(``archive.legal_hold_placed``, ``archive.legal_hold_updated``, ``archive.legal_hold_released``).

The scope is fixed when a hold is placed (archive/holds/models.py): a different scope is a
release with its reason and a new hold, so the trail shows what was frozen from when to when.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.models import Tenant
from consent.models import Employee

from ..models import Conversation
from ..search.models import SavedSearch, SavedSearchVersion
from ..search.query import QueryError
from .models import EMPTY_SCOPE, LegalHold
from .selectors import hold_messages, lock_holds, saved_filters

MAX_MATTER = 200
MAX_COUNTERPARTY = 300


class HoldError(ValueError):
    """A hold that cannot be placed, changed or released as asked, with what is wrong
    (``field``: the input at fault, for forms and the API)."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _ids(values: Iterable[int], *, what: str, field: str) -> list[int]:
    ids = sorted(set(values))
    if any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in ids):
        raise HoldError(f"Each {what} is named by its id (a whole number from 1).", field=field)
    return ids


def _existing(model: type[Employee] | type[Conversation], *, tenant: Tenant, ids: list[int],
              what: str, field: str) -> None:  # fmt: skip
    found = set(model.objects.filter(tenant=tenant, pk__in=ids).values_list("pk", flat=True))
    # Another firm's id reads the same as a missing one: no hint that it exists elsewhere.
    missing = [str(i) for i in ids if i not in found]
    if missing:
        plural = what + ("s" if len(missing) > 1 else "")
        raise HoldError(f"There is no {plural} {', '.join(missing)} in this firm.", field=field)


def _pinned_version(
    *, tenant: Tenant, saved_search: int | None, version: int | None
) -> SavedSearchVersion | None:
    if saved_search is None:
        if version is not None:
            raise HoldError("Choose the saved search whose version is meant.", field="saved_search")
        return None
    saved = SavedSearch.objects.filter(
        tenant=tenant, pk=saved_search, deleted_at__isnull=True
    ).first()
    if saved is None:
        raise HoldError("There is no such saved search in this firm.", field="saved_search")
    number = saved.version if version is None else version
    pinned = SavedSearchVersion.objects.filter(
        tenant=tenant, saved_search=saved, number=number
    ).first()
    if pinned is None:
        raise HoldError(f"“{saved.name}” has no version {number}.", field="saved_search_version")
    try:
        saved_filters(pinned.filters)
    except QueryError as error:
        raise HoldError(error.message, field="saved_search") from None
    return pinned


def _scope_details(hold: LegalHold) -> dict[str, Any]:
    """The hold's scope as the audit trail keeps it."""
    version = hold.saved_search_version
    return {
        "employee_ids": hold.employee_ids,
        "conversation_ids": hold.conversation_ids,
        "counterparty": hold.counterparty,
        "since": hold.since.isoformat() if hold.since else None,
        "until": hold.until.isoformat() if hold.until else None,
        "saved_search": (
            {
                "id": hold.saved_search_id,
                "version": version.number,
                "name": version.name,
                "query": version.query,
                "filters": version.filters,
            }
            if version is not None
            else None
        ),
    }


def _text(value: str, *, field: str, missing: str, limit: int | None = None) -> str:
    value = value.strip()
    if not value:
        raise HoldError(missing, field=field)
    if limit is not None and len(value) > limit:
        raise HoldError(f"At most {limit} characters.", field=field)
    return value


@transaction.atomic
def place_hold(
    *,
    tenant: Tenant,
    actor: Actor,
    matter: str,
    reason: str,
    employee_ids: Iterable[int] = (),
    conversation_ids: Iterable[int] = (),
    counterparty: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    saved_search: int | None = None,
    saved_search_version: int | None = None,
) -> LegalHold:
    """Freeze what the scope names, now and whatever is captured later, against disposition and
    erasure. ``since`` (inclusive) and ``until`` (exclusive) are instants with a time zone;
    a saved search is pinned at ``saved_search_version`` (its current version by default).
    Raises :class:`HoldError` for bad input (nothing kept, nothing audited)."""
    matter = _text(matter, field="matter", missing="Name the matter.", limit=MAX_MATTER)
    reason = _text(reason, field="reason", missing="Give the reason for the hold.")
    employees = _ids(employee_ids, what="employee", field="employees")
    conversations = _ids(conversation_ids, what="conversation", field="conversations")
    counterparty = counterparty.strip()
    if len(counterparty) > MAX_COUNTERPARTY:
        raise HoldError(f"At most {MAX_COUNTERPARTY} characters.", field="counterparty")
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.utcoffset() is None:
            raise HoldError("Give the time with its time zone.", field=name)
    if since is not None and until is not None and since >= until:
        raise HoldError("The end of the date range must come after its start.", field="until")
    _existing(Employee, tenant=tenant, ids=employees, what="employee", field="employees")
    _existing(
        Conversation, tenant=tenant, ids=conversations, what="conversation", field="conversations"
    )
    version = _pinned_version(
        tenant=tenant, saved_search=saved_search, version=saved_search_version
    )
    if not (employees or conversations or counterparty or since or until or version):
        raise HoldError(EMPTY_SCOPE, field="scope")

    # Waits for a disposition or erasure of this tenant that is reading the holds right now.
    lock_holds(tenant=tenant, shared=False)
    hold = LegalHold.objects.create(
        tenant=tenant,
        matter=matter,
        reason=reason,
        employee_ids=employees,
        conversation_ids=conversations,
        counterparty=counterparty,
        since=since,
        until=until,
        saved_search_id=version.saved_search_id if version else None,
        saved_search_version=version,
        created_by=actor.user,
        created_by_label=actor.label,
    )
    count = hold_messages(tenant=tenant, hold=hold).count()
    record_event(
        "archive.legal_hold_placed",
        tenant=tenant,
        actor=actor,
        target=hold,
        target_label=f"Legal hold “{matter}”: {count} message{'' if count == 1 else 's'} now",
        details={"matter": matter, "reason": reason, "scope": _scope_details(hold),
                 "count": count},
    )  # fmt: skip
    return hold


def _locked(*, tenant: Tenant, hold: LegalHold) -> LegalHold:
    return LegalHold.objects.select_for_update().get(tenant=tenant, pk=hold.pk)


@transaction.atomic
def update_hold(
    *,
    tenant: Tenant,
    actor: Actor,
    hold: LegalHold,
    matter: str | None = None,
    reason: str | None = None,
) -> LegalHold:
    """Correct the matter's name or the reason of a hold (its scope never changes: release it
    and place a new one). Nothing is recorded when nothing changes."""
    locked = _locked(tenant=tenant, hold=hold)
    new_matter = locked.matter if matter is None else _text(
        matter, field="matter", missing="Name the matter.", limit=MAX_MATTER
    )  # fmt: skip
    new_reason = locked.reason if reason is None else _text(
        reason, field="reason", missing="Give the reason for the hold."
    )  # fmt: skip
    if (new_matter, new_reason) == (locked.matter, locked.reason):
        return locked
    before = {"matter": locked.matter, "reason": locked.reason}
    locked.matter, locked.reason = new_matter, new_reason
    locked.save(update_fields=["matter", "reason"])
    record_event(
        "archive.legal_hold_updated", tenant=tenant, actor=actor, target=locked,
        details={"before": before, "after": {"matter": new_matter, "reason": new_reason}},
    )  # fmt: skip
    return locked


@transaction.atomic
def release_hold(*, tenant: Tenant, actor: Actor, hold: LegalHold, reason: str) -> LegalHold:
    """End a hold: what it held follows its retention again from the next disposition run.
    Needs a reason; a hold released already is refused (:class:`HoldError`)."""
    reason = _text(reason, field="reason", missing="Give the reason for releasing the hold.")
    locked = _locked(tenant=tenant, hold=hold)
    if not locked.is_active:
        raise HoldError("This hold was released already.", field="hold")
    count = hold_messages(tenant=tenant, hold=locked).count()
    locked.status = LegalHold.Status.RELEASED
    locked.released_at = timezone.now()
    locked.released_by = actor.user
    locked.released_by_label = actor.label
    locked.release_reason = reason
    locked.save(
        update_fields=["status", "released_at", "released_by", "released_by_label",
                       "release_reason"]
    )  # fmt: skip
    record_event(
        "archive.legal_hold_released",
        tenant=tenant,
        actor=actor,
        target=locked,
        target_label=f"Legal hold “{locked.matter}” released ({count} message"
        f"{'' if count == 1 else 's'} it held)",
        details={"matter": locked.matter, "reason": reason, "scope": _scope_details(locked),
                 "count": count},
    )  # fmt: skip
    return locked
