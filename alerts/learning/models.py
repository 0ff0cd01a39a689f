"""An admin's exclusion of one closed alert from the firm's training examples (a decision made
in haste, a test alert): the alert and its decision stay as they were; retraining skips it."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from compliance_hub.tenancy.models import TenantOwnedModel


class ExampleExclusion(TenantOwnedModel):
    alert = models.OneToOneField("alerts.Alert", on_delete=models.PROTECT, related_name="+")
    excluded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    excluded_by_label = models.CharField(max_length=254)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "alert"], name="exampleexclusion_alert")]

    def __str__(self) -> str:
        return f"Alert {self.alert_id} left out of training"
