"""Per-tenant API keys."""

from __future__ import annotations

from django.db import models

from compliance_hub.tenancy.models import Role, Tenant


class ApiKey(models.Model):
    """A machine credential of one tenant with one role. Platform table like Membership: the
    tenant is resolved *from* the key. Only a SHA-256 of the secret is stored; the key is shown
    once. Keys are 256-bit random, so a fast hash is right here (no password stretching needed)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    role = models.CharField(max_length=16, choices=Role.choices)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        "compliance_hub.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A key that acts for a person (issued for a member): it carries at most their role and
    # their masking, works only while they are an active member whose role allows it, and may
    # claim and move alerts as them. Empty: a machine's key, acting for nobody.
    user = models.ForeignKey(
        "compliance_hub.User",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="personal_api_keys",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
