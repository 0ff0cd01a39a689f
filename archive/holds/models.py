"""Legal holds: a matter's freeze on the messages it names, whatever their retention says.

A hold's scope is a set of conditions, not a list of message ids, so a message captured after the
hold was placed is held as soon as it matches (shared/reference/archive-and-export.md, 4.2). The
conditions of one hold all apply together (a custodian's messages in a date range); each list
(employees, conversations) matches any of its members. A saved search is pinned at the version
chosen when the hold was placed: a later edit of the search never widens or narrows a hold.

The scope never changes once placed: a different scope is a release and a new hold, so the trail
shows exactly what was frozen when. Only the matter's name and reason may be corrected.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from compliance_hub.tenancy.models import TenantOwnedModel

EMPTY_SCOPE = (
    "A hold must name at least one employee, conversation, counterparty, date range or saved "
    "search."
)


class LegalHold(TenantOwnedModel):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RELEASED = "released", "Released"

    matter = models.CharField(max_length=200, help_text="The matter (case, inquiry) it serves")
    reason = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)

    # Scope. Ids rather than many-to-many tables: the scope is frozen when placed, employees and
    # conversations are never deleted (messages protect them), and disposition reads the lists
    # once per run as plain values.
    employee_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    conversation_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    counterparty = models.CharField(
        max_length=300, blank=True, help_text="A number, user id or part of a name, as in search"
    )
    since = models.DateTimeField(null=True, blank=True)  # UTC, inclusive
    until = models.DateTimeField(null=True, blank=True)  # UTC, exclusive
    saved_search = models.ForeignKey(
        "archive.SavedSearch", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    saved_search_version = models.ForeignKey(
        "archive.SavedSearchVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_label = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    released_by_label = models.CharField(max_length=255, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["status", "-created_at", "-id"]  # "active" sorts before "released"
        indexes = [models.Index(fields=["tenant", "status"], name="legalhold_status")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(employee_ids=[])
                | ~Q(conversation_ids=[])
                | ~Q(counterparty="")
                | Q(since__isnull=False)
                | Q(until__isnull=False)
                | Q(saved_search_version__isnull=False),
                name="legalhold_scope_not_empty",
            ),
            models.CheckConstraint(
                condition=Q(since__isnull=True)
                | Q(until__isnull=True)
                | Q(since__lt=models.F("until")),
                name="legalhold_dates_in_order",
            ),
            models.CheckConstraint(
                condition=Q(status="active", released_at__isnull=True, release_reason="")
                | Q(status="released", released_at__isnull=False) & ~Q(release_reason=""),
                name="legalhold_release_recorded",
            ),
            models.CheckConstraint(
                condition=Q(saved_search__isnull=True, saved_search_version__isnull=True)
                | Q(saved_search__isnull=False, saved_search_version__isnull=False),
                name="legalhold_saved_search_pinned",
            ),
        ]

    def __str__(self) -> str:
        return self.matter

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE
