"""``GET/POST /webhooks/whatsapp/<tenant-slug>/``: Meta's verification handshake and deliveries.

The one place where the URL names the tenant; every POST is authenticated by that tenant's own
app secret. A 200 means the delivery is durably stored (the request's transaction commits before
the response leaves); if the database cannot be written the answer is 503, so Meta retries.
"""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from compliance_hub.crypto import decrypt_text
from compliance_hub.digits import parse_count
from compliance_hub.tenancy.context import activated_by_caller, deactivate
from compliance_hub.tenancy.models import Tenant

from .models import WhatsAppSettings
from .services import receive_delivery, whatsapp_settings
from .whatsapp.signature import signature_is_valid

logger = logging.getLogger(__name__)

# The hot path learns the tenant, sets it for the transaction (RLS) and reads its app secret in
# one round trip to PostgreSQL: two statements in one execute, the second reading the secret
# under the setting the first made (transaction-local, so it never outlives this request). Three
# round trips through the ORM's compiler cost ~1 ms of CPU per delivery, then ~0.3 ms as three
# plain statements (docs/benchmarks.md, webhook acceptance and headroom). Both are read on every
# delivery, never cached, so a suspended tenant or a changed secret takes effect with the next one.
_TENANT = Tenant._meta.db_table
_SETTINGS = WhatsAppSettings._meta.db_table
_LOOKUP_SQL = (
    "SELECT set_config('app.tenant_id', COALESCE("  # noqa: S608  # nosec B608  # our tables' names
    f"(SELECT id::text FROM {_TENANT} WHERE slug = %(slug)s AND status = %(status)s), ''), true); "  # nosec B608  # our table's name
    f"SELECT t.id, s.app_secret_encrypted FROM {_TENANT} t "  # nosec B608  # our table's name
    f"LEFT JOIN {_SETTINGS} s ON s.tenant_id = t.id "  # nosec B608  # our table's name
    "WHERE t.slug = %(slug)s AND t.status = %(status)s"
)


# JsonResponse's bytes, made once rather than serialised on every delivery.
_RECEIVED = b'{"status": "received"}'


def _plain(text: str, status: int) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


def _retry_later() -> HttpResponse:
    response = _plain("Temporarily unable to store the delivery; retry.", 503)
    response["Retry-After"] = "30"
    return response


def _active_tenant(slug: str) -> tuple[Tenant, str] | None:
    """The active tenant of this slug, set for the rest of the request's transaction, and its
    encrypted app secret ("" when not configured); None when there is no such active tenant.
    The view opened the transaction and deactivates the tenant when the request ends."""
    with connection.cursor() as cursor:
        cursor.execute(_LOOKUP_SQL, {"slug": slug, "status": Tenant.Status.ACTIVE})
        row = cursor.fetchone()
    if row is None:
        return None
    activated_by_caller(row[0])
    # The fields read, the others deferred (loaded on access, which the webhook never needs).
    tenant = Tenant.from_db(
        connection.alias, ["id", "slug", "status"], [row[0], slug, Tenant.Status.ACTIVE]
    )
    return tenant, row[1] or ""


@csrf_exempt
def whatsapp_webhook(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    """Owns its transaction (ingestion/middleware.py sends these requests here directly, past
    TenantMiddleware): the tenant is set inside it, and it commits before the answer leaves."""
    # No health check of a reused connection (CONN_HEALTH_CHECKS sends a "SELECT 1" before each
    # request's first query: a round trip and a tenth of the delivery's CPU). Here a connection
    # that died while idle fails the first statement instead: the answer is 503, so Meta
    # retries, and Django drops the connection at the end of this request (errors occurred),
    # so the retry gets a fresh one. Browser pages keep the check.
    connection.health_check_done = True  # type: ignore[attr-defined]  # not in django-stubs
    try:
        with transaction.atomic():
            try:
                return _handle(request, tenant_slug)
            finally:
                deactivate()
    except (OperationalError, InterfaceError):
        # The database is unreachable, or the commit failed: nothing is stored, Meta retries.
        logger.exception("webhook for %s: database unavailable; asking Meta to retry", tenant_slug)
        return _retry_later()


def _handle(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    found = _active_tenant(tenant_slug)
    if found is None:
        return _plain("Unknown or suspended tenant.", 404)
    tenant, encrypted_secret = found
    if request.method == "GET":
        return _verify_subscription(request, tenant)
    if request.method != "POST":
        return _plain("Method not allowed.", 405)
    return _accept_delivery(request, tenant, encrypted_secret)


def _verify_subscription(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    connected = whatsapp_settings(tenant=tenant)
    expected = connected.verify_token if connected else ""
    given = request.GET.get("hub.verify_token", "")
    if (
        request.GET.get("hub.mode") == "subscribe"
        and expected
        and hmac.compare_digest(given.encode(), expected.encode())
    ):
        return _plain(request.GET.get("hub.challenge", ""), 200)
    return _plain("Verification failed.", 403)


def _accept_delivery(request: HttpRequest, tenant: Tenant, encrypted_secret: str) -> HttpResponse:
    length = parse_count(request.META.get("CONTENT_LENGTH") or "0")
    if length is None:
        return _plain("Invalid Content-Length.", 400)
    if length > settings.WEBHOOK_MAX_BODY_BYTES:
        return _plain("Body too large.", 413)
    body = request.body
    header = request.headers.get("X-Hub-Signature-256")
    if not header:
        return _plain("Missing X-Hub-Signature-256.", 401)
    app_secret = decrypt_text(encrypted_secret) if encrypted_secret else ""
    if not app_secret:
        # Nothing can be verified, so nothing is stored; Meta retries once it is configured.
        return _plain("WhatsApp is not configured for this tenant.", 403)
    if not signature_is_valid(body, header, app_secret):
        return _plain("Invalid signature.", 403)
    try:
        receive_delivery(tenant=tenant, body=body, headers=request.headers)
    except DatabaseError:
        # Nothing of this request may commit, and the failed statement left the transaction
        # unusable: roll it back whole (TenantMiddleware then touches it no more).
        transaction.set_rollback(True)
        logger.exception("delivery for tenant %s not stored; asking Meta to retry", tenant.pk)
        return _retry_later()
    return HttpResponse(_RECEIVED, content_type="application/json")
