"""One row-maker per tenant-owned model, used by the RLS and cross-tenant tests.

A new tenant-owned model MUST add its maker here: tests/test_rls.py fails for a model without
one, so no table escapes the isolation tests.
"""

from __future__ import annotations

from collections.abc import Callable

from compliance_hub.accounts.services import invite_user
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.models import Role, Tenant


def make_invitation(tenant: Tenant) -> None:
    invite_user(tenant=tenant, email=f"invitee@{tenant.slug}.example", role=Role.OFFICER)


def make_audit_event(tenant: Tenant) -> None:
    record_event("test.row", tenant=tenant, actor_label=f"marker-{tenant.slug}")


ROW_MAKERS: dict[str, Callable[[Tenant], None]] = {
    "compliance_hub.Invitation": make_invitation,
    "compliance_hub.AuditEvent": make_audit_event,
}


def make_rows_for(tenant: Tenant) -> None:
    for maker in ROW_MAKERS.values():
        maker(tenant)
