"""A firm's policies: a named policy and its versions. A version is never changed (the alerts it
raised remember it), so every save adds one; the policy's latest version is the one that scans."""

from __future__ import annotations

from django.db import models

from compliance_hub.tenancy.models import TenantOwnedModel


class Policy(TenantOwnedModel):
    name = models.CharField(max_length=200)
    active = models.BooleanField(default=False)  # scanning with its latest version
    # The built-in pack a policy was copied from ("financial_services"), "" for the firm's own.
    pack = models.CharField(max_length=64, blank=True)
    version = models.PositiveIntegerField(default=1)  # the latest version's number
    created_at = models.DateTimeField(auto_now_add=True)
    created_by_label = models.CharField(max_length=254)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="policy_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class PolicyVersion(TenantOwnedModel):
    """One state of a policy's document, never changed."""

    append_only = True

    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    document = models.JSONField()
    # SHA-256 of the document's canonical JSON: the compiled detectors are cached by it, and a
    # save that changes nothing adds no version.
    document_sha256 = models.CharField(max_length=64)
    note = models.CharField(max_length=500, blank=True)  # why it changed, in the author's words
    created_at = models.DateTimeField(auto_now_add=True)
    created_by_label = models.CharField(max_length=254)

    class Meta:
        ordering = ["policy", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "policy", "number"], name="policy_version_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document.get('name', 'policy')} (version {self.number})"
