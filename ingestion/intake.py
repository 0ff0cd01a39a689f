"""One delivery from Meta, from its request to its answer: the rules both doors of the webhook
call, the Django view (ingestion/webhook.py, through the fast lane) and the intake server's lean
path (ingestion/wsgi.py). Nothing here knows which door it came through.

The promises: a 200 only once the delivery is committed in PostgreSQL; 503 (Meta retries) when
the database cannot be read or written; the signature checked on every delivery with the
tenant's own app secret, read from the database each time (never cached across deliveries, so a
suspended tenant or a new secret applies at once); the tenant's RLS setting on every statement;
the size limit before the body is read.

Two round trips to PostgreSQL per delivery, each one implicit transaction (the connection is in
autocommit; a string of several statements runs as one transaction): the tenant, its RLS
setting and its app secret (statements prepared once per connection); then the setting again
and the insert, committed before the call returns. An explicit BEGIN and COMMIT around both
would cost two more round trips (docs/benchmarks.md, headroom on the webhook) and buy nothing:
the read needs no lock (a tenant suspended a moment after the read could as well have
been suspended a moment after a commit), and the write is one statement.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.backends.utils import CursorWrapper

from compliance_hub.crypto import decrypt_text
from compliance_hub.digits import parse_count
from compliance_hub.tenancy.models import Tenant

from .models import WhatsAppSettings
from .services import STORE_PREPARED, store_signed_delivery
from .whatsapp.signature import signature_is_valid

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"

# The tenant, its RLS setting (transaction-local) and its app secret in one round trip: two
# statements in one execute, the second reading the secret under the setting the first made.
# Both are prepared once per connection: planning them (a join, a subquery and the settings
# table's RLS policy) cost PostgreSQL four times what executing them does, 0.19 of its 0.24 ms
# per delivery (docs/benchmarks.md, headroom on the webhook). The prepared plans still read the
# rows and the setting on every execution.
_TENANT = Tenant._meta.db_table
_SETTINGS = WhatsAppSettings._meta.db_table
_PREPARED = {
    "intake_set_tenant": (
        "PREPARE intake_set_tenant(text, text) AS SELECT set_config('app.tenant_id', COALESCE("  # noqa: S608  # nosec B608  # our table's name
        f"(SELECT id::text FROM {_TENANT} WHERE slug = $1 AND status = $2), ''), true); "  # nosec B608  # our table's name
    ),
    "intake_secret": (
        "PREPARE intake_secret(text, text) AS "  # noqa: S608  # nosec B608  # our table's name
        f"SELECT t.id, s.app_secret_encrypted FROM {_TENANT} t "  # nosec B608  # our table's name
        f"LEFT JOIN {_SETTINGS} s ON s.tenant_id = t.id "  # nosec B608  # our table's name
        "WHERE t.slug = $1 AND t.status = $2; "
    ),
    STORE_PREPARED[0]: STORE_PREPARED[1],
}
_LOOKUP_SQL = (
    "EXECUTE intake_set_tenant(%(slug)s, %(status)s); EXECUTE intake_secret(%(slug)s, %(status)s)"
)


@dataclass(frozen=True, slots=True)
class Answer:
    """What the webhook answers, for either door to send as it sends things."""

    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    retry_after: str | None = None


def plain(text: str, status: int) -> Answer:
    return Answer(status, text.encode())


# Made once: the same bytes on every acknowledged delivery.
RECEIVED = Answer(200, b'{"status": "received"}', "application/json")
RETRY_LATER = Answer(503, b"Temporarily unable to store the delivery; retry.", retry_after="30")
UNKNOWN_TENANT = plain("Unknown or suspended tenant.", 404)


@contextmanager
def _statements() -> Iterator[None]:
    """Where the webhook's statements run. Its own request: autocommit, each execute one
    implicit transaction. Inside a caller's transaction (a test's): a savepoint, so a failed
    statement leaves the caller's transaction usable, as a failed request leaves the next one."""
    # No health check of a reused connection (CONN_HEALTH_CHECKS sends a "SELECT 1" before a
    # request's first query: a round trip and a tenth of the delivery's CPU). A connection that
    # died while idle fails the first statement instead: the answer is 503, so Meta retries, and
    # the connection is dropped (below), so the retry gets a fresh one. Pages keep the check.
    connection.health_check_done = True  # type: ignore[attr-defined]  # not in django-stubs
    if connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    try:
        yield
    except DatabaseError:
        # Whatever failed (the database went away, a migration changed a prepared statement's
        # table under it), the next delivery starts on a fresh connection and prepares anew.
        connection.close()
        raise


def _prepare_lookup(cursor: CursorWrapper) -> None:
    """Prepare the lookup's statements on this session, once: those it lacks (a PREPARE
    survives the rollback of the transaction it ran in, so after a failure some may exist)."""
    cursor.execute(
        "SELECT name FROM pg_prepared_statements WHERE name = ANY(%s)", [list(_PREPARED)]
    )
    have = {name for (name,) in cursor.fetchall()}
    missing = "".join(sql for name, sql in _PREPARED.items() if name not in have)
    if missing:
        cursor.execute(missing)


def active_tenant(tenant_slug: str) -> tuple[int, str] | None:
    """The id of the active tenant of this slug and its encrypted app secret ("" when WhatsApp
    is not configured), or None; ``app.tenant_id`` is set to it for the rest of the current
    transaction (the handshake's, which the view opened; a delivery's ends with the read)."""
    with connection.cursor() as cursor:
        # The connection this thread holds now (opened by cursor() if there was none). Kept
        # itself, not its id: a new connection may reuse a closed one's address, and psycopg2's
        # connections take no weak references.
        session = connection.connection
        if getattr(connection, "intake_prepared_on", None) is not session:
            connection.intake_prepared_on = None  # type: ignore[attr-defined]
            _prepare_lookup(cursor)
            connection.intake_prepared_on = session  # type: ignore[attr-defined]
        cursor.execute(_LOOKUP_SQL, {"slug": tenant_slug, "status": Tenant.Status.ACTIVE})
        row = cursor.fetchone()
    if row is None:
        return None
    return row[0], row[1] or ""


def accept_delivery(
    *,
    tenant_slug: str,
    content_length: str | None,
    read_body: Callable[[int], bytes],
    headers: Mapping[str, str],
) -> Answer:
    """Check and store one POSTed delivery. ``content_length``: the header as sent (None when
    absent); ``read_body(n)``: the request's body, ``n`` bytes announced; ``headers``: the
    request's, case-insensitive (of which ``KEPT_HEADERS`` are stored). The order of the checks
    is the answer Meta sees first: unknown tenant, size, signature, then the database."""
    try:
        with _statements():
            found = active_tenant(tenant_slug)
    except DatabaseError:
        logger.exception("webhook for %s: database unavailable; asking Meta to retry", tenant_slug)
        return RETRY_LATER
    if found is None:
        return UNKNOWN_TENANT
    tenant_id, encrypted_secret = found
    length = parse_count(content_length or "0")
    if length is None:
        return plain("Invalid Content-Length.", 400)
    if length > settings.WEBHOOK_MAX_BODY_BYTES:
        return plain("Body too large.", 413)
    body = read_body(length)
    header = headers.get(SIGNATURE_HEADER)
    if not header:
        return plain(f"Missing {SIGNATURE_HEADER}.", 401)
    app_secret = decrypt_text(encrypted_secret) if encrypted_secret else ""
    if not app_secret:
        # Nothing can be verified, so nothing is stored; Meta retries once it is configured.
        return plain("WhatsApp is not configured for this tenant.", 403)
    if not signature_is_valid(body, header, app_secret):
        return plain("Invalid signature.", 403)
    try:
        with _statements():
            store_signed_delivery(tenant_id=tenant_id, body=body, headers=headers)
    except DatabaseError:
        # Nothing was committed: the statement and its implicit transaction failed together.
        logger.exception("delivery for tenant %s not stored; asking Meta to retry", tenant_id)
        return RETRY_LATER
    return RECEIVED
