"""The current tenant: one context variable, mirrored into PostgreSQL's ``app.tenant_id``.

The boundary (middleware, the API base class, the Celery task base class) resolves the tenant once
and enters :func:`tenant_scope`; everything below reads :func:`current_tenant_id` or, better, takes
``tenant=`` explicitly. The database setting is transaction-local (``set_config(..., true)``) so it
never leaks to the next user of a pooled connection; that is why every scope opens a transaction.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.db import connection, transaction

if TYPE_CHECKING:
    from .models import Tenant

_current_tenant_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "current_tenant_id", default=None
)
_unscoped: contextvars.ContextVar[bool] = contextvars.ContextVar("unscoped", default=False)


class TenantNotSet(RuntimeError):
    """A tenant-owned model was queried with no tenant in context: fail closed."""


def current_tenant_id() -> int | None:
    return _current_tenant_id.get()


def is_unscoped() -> bool:
    return _unscoped.get()


def _set_db_setting(name: str, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", [name, value])


@contextmanager
def tenant_scope(tenant: Tenant | int) -> Iterator[None]:
    """Run the block as ``tenant``: ORM scoping and RLS both see it, and nothing else.

    Opens a transaction (or a savepoint inside one) and restores the previous tenant on exit, so
    scopes nest (an audit write for another tenant inside a request) without leaking.
    """
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    previous = _current_tenant_id.get()
    if previous == tenant_id and connection.in_atomic_block:
        # Already this tenant, inside the transaction that set it: the setting stands, only the
        # savepoint remains (services rely on the scope being all-or-nothing).
        with transaction.atomic():
            yield
        return
    token = _current_tenant_id.set(tenant_id)
    try:
        with transaction.atomic():
            _set_db_setting("app.tenant_id", str(tenant_id))
            try:
                yield
            finally:
                if connection.in_atomic_block and not connection.needs_rollback:
                    _set_db_setting("app.tenant_id", "" if previous is None else str(previous))
    finally:
        _current_tenant_id.reset(token)


@contextmanager
def read_scope(tenant: Tenant | int) -> Iterator[None]:
    """:func:`tenant_scope` for a read: when the transaction already runs as ``tenant`` (a
    request's), no savepoint is opened (a read has nothing to undo), so a question asked on
    every request (compliance_hub/tenancy/walls.py) costs its one query."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    if _current_tenant_id.get() == tenant_id and connection.in_atomic_block:
        yield
        return
    with tenant_scope(tenant):
        yield


@contextmanager
def unscoped() -> Iterator[None]:
    """DANGER: see every tenant's rows. Only for platform code (operator CLIs, sweepers) that
    must span tenants and says so at the call site. Never reachable from a tenant user's request.
    """
    token = _unscoped.set(True)
    try:
        with transaction.atomic():
            _set_db_setting("app.unscoped", "on")
            try:
                yield
            finally:
                if connection.in_atomic_block and not connection.needs_rollback:
                    _set_db_setting("app.unscoped", "")
    finally:
        _unscoped.reset(token)


def activate_in_transaction(tenant_id: int) -> None:
    """Set the tenant for the rest of the current request or task, whose boundary already opened
    the transaction (used where the tenant is learned late: DRF authenticates inside the view).
    The boundary calls :func:`deactivate` when it ends."""
    if not connection.in_atomic_block:
        raise RuntimeError("activate_in_transaction() needs an open transaction")
    _current_tenant_id.set(tenant_id)
    _set_db_setting("app.tenant_id", str(tenant_id))


def activated_by_caller(tenant_id: int) -> None:
    """Record the tenant of the current transaction whose caller has already set
    ``app.tenant_id`` (transaction-local) in the same statement that found the tenant: the
    webhook does so to save two round trips per delivery (ingestion/webhook.py). Like
    :func:`activate_in_transaction`, the boundary calls :func:`deactivate` when it ends."""
    if not connection.in_atomic_block:
        raise RuntimeError("activated_by_caller() needs an open transaction")
    _current_tenant_id.set(tenant_id)


def deactivate() -> None:
    _current_tenant_id.set(None)
