"""The lock that keeps disposition and new legal holds apart.

A hold placed while disposition runs must never lose a message to it: disposition checks the
holds and blanks the content in one transaction holding this lock, and placing a hold takes
the same lock, so one waits for the other. Per tenant (a transaction-level advisory lock: it
blocks nothing else, not ingestion, not reads, and ends with the transaction)."""

from __future__ import annotations

from django.db import connection

from compliance_hub.tenancy.models import Tenant

# The first key of pg_advisory_xact_lock(int, int): "holds and disposition" (any constant that
# no other advisory lock of the project uses); the second is the tenant.
HOLDS_AND_DISPOSITION = 0x48_4F_4C_44  # "HOLD"


def lock_holds_and_disposition(*, tenant: Tenant) -> None:
    """Wait for, then hold until the end of the current transaction, the tenant's lock."""
    if not connection.in_atomic_block:
        raise RuntimeError("lock_holds_and_disposition() needs an open transaction")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [HOLDS_AND_DISPOSITION, tenant.pk])
