"""Models of the platform app, gathered so Django registers them under ``compliance_hub``."""

from compliance_hub.accounts.models import Invitation, User
from compliance_hub.api.models import ApiKey
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.models import Membership, Role, Tenant, TenantOwnedModel

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Invitation",
    "Membership",
    "Role",
    "Tenant",
    "TenantOwnedModel",
    "User",
]
