"""The audit trail of human actions: append-only, enforced by the database."""

from __future__ import annotations

import json

from django.db import models
from django.utils import timezone

from compliance_hub.tenancy.models import TenantOwnedModel

from .actions import action_label, target_type_label


class AuditEvent(TenantOwnedModel):
    """Who did what, when, from where. Rows are never updated or deleted (database triggers and
    withheld privileges). Events with no tenant (a failed login for an unknown address) belong to
    the platform trail and are invisible to every tenant."""

    # Django lets a model override a field of its abstract base (here: nullable, for the
    # platform's rows); the stubs type fields as plain attributes, so mypy sees a narrowing.
    tenant = models.ForeignKey(  # type: ignore[assignment]
        "compliance_hub.Tenant",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        "compliance_hub.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Kept as text too, so the trail still reads right if a person is later renamed.
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=254, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    details = models.JSONField(default=dict, blank=True)

    append_only = True  # no UPDATE/DELETE grants; triggers in the migration

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-occurred_at"], name="audit_tenant_time"),
            models.Index(fields=["tenant", "action", "-occurred_at"], name="audit_tenant_action"),
            models.Index(fields=["tenant", "actor", "-occurred_at"], name="audit_tenant_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"

    @property
    def action_label(self) -> str:
        return action_label(self.action)

    @property
    def target_type_label(self) -> str:
        return target_type_label(self.target_type)

    @property
    def details_items(self) -> list[tuple[str, str]]:
        """The details as "Key: value" lines for people; nested values stay JSON."""
        items = []
        for key, value in sorted(self.details.items()):
            if isinstance(value, bool):
                text = "yes" if value else "no"
            elif isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
                text = ", ".join(str(v) for v in value) or "none"
            elif isinstance(value, dict | list):
                text = json.dumps(value, sort_keys=True, ensure_ascii=False)
            else:
                text = "—" if value in (None, "") else str(value)
            label = key.replace("_", " ")
            items.append((label[:1].upper() + label[1:], text))
        return items

    @property
    def details_json(self) -> str:
        return json.dumps(self.details, sort_keys=True, ensure_ascii=False)
