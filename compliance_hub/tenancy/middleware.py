"""Resolve the tenant of a browser request from the logged-in user's membership."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.db import InterfaceError, OperationalError, transaction
from django.http import HttpRequest, HttpResponse

from compliance_hub.errors import service_unavailable

from .context import activate_in_transaction, deactivate
from .requests import ResolvedRequest
from .selectors import resolve_membership

SESSION_TENANT_KEY = "active_tenant_id"
# Probes must answer even when the database does not (opening a transaction would fail first).
# Meta's webhooks name their tenant in the URL and prove it with a signature: their view opens
# its own transaction and activates the tenant itself, so no membership is looked up for them
# (a stray session cookie never chooses their tenant). ingestion/middleware.py normally sends
# them there before this middleware; the prefix is here should that lane be removed.
EXEMPT_PREFIXES = ("/healthz", "/readyz", "/static/", "/favicon.ico", "/webhooks/")


class TenantMiddleware:
    """Opens the request's transaction and sets the tenant inside it.

    ATOMIC_REQUESTS would start the transaction only around the view, after middleware, and a
    transaction-local ``set_config`` made here would be lost (shared/reference/postgres-tenancy.md,
    fact 8); so this middleware owns the transaction. The tenant comes from the membership of the
    logged-in user (the session only remembers which of their memberships is active), never from
    the URL or a form field.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        resolved = cast(ResolvedRequest, request)  # what this middleware makes of it
        resolved.tenant = None
        resolved.membership = None
        resolved.api_key = None
        if request.path.startswith(EXEMPT_PREFIXES):
            return self.get_response(request)
        try:
            return self._in_transaction(resolved)
        except (OperationalError, InterfaceError):
            # The database is down or unreachable: say so (503, try again) instead of a 500.
            return service_unavailable(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, (OperationalError, InterfaceError)):
            return service_unavailable(request)
        return None

    def _in_transaction(self, request: ResolvedRequest) -> HttpResponse:
        with transaction.atomic():
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                membership = resolve_membership(user, request.session.get(SESSION_TENANT_KEY))
                if membership is not None:
                    request.membership = membership
                    request.tenant = membership.tenant
                    activate_in_transaction(membership.tenant_id)
            try:
                return self.get_response(request)
            finally:
                deactivate()
