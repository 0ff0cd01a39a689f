"""Saved searches: a named query with its filters, kept for the tenant's reviewers.

Versioned: every change (a new name, a new query or filters) adds a version and keeps the earlier
ones, so a hold or an export that named the search can always show what it meant at the time
(shared/reference/archive-and-export.md). Deleting one only marks it deleted: its versions stay.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from compliance_hub.tenancy.models import TenantOwnedModel


class SavedSearch(TenantOwnedModel):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    owner_label = models.CharField(max_length=255, help_text="Who saved it (a person or a key)")
    # The current version's content, copied here for lists; SavedSearchVersion holds them all.
    name = models.CharField(max_length=200)
    query = models.TextField(blank=True)
    filters = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["tenant", "name"], name="savedsearch_name")]

    def __str__(self) -> str:
        return self.name


class SavedSearchVersion(TenantOwnedModel):
    """One state of a saved search, never changed."""

    append_only = True

    saved_search = models.ForeignKey(SavedSearch, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    query = models.TextField(blank=True)
    filters = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by_label = models.CharField(max_length=255)

    class Meta:
        ordering = ["saved_search", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "saved_search", "number"], name="savedsearch_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} (version {self.number})"
