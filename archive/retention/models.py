"""Retention policies, erasure requests and the restrictions they leave (models of the
``archive`` app, imported by archive/models.py)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from compliance_hub.phones import phone_for_display
from compliance_hub.tenancy.models import TenantOwnedModel

from .rules import PRESETS, Scope


class RetentionPolicy(TenantOwnedModel):
    """How long the firm keeps messages: a regulation's preset, its years (never below the
    preset's floor: services check it with rules.check_years), and where it applies (the whole
    firm, one team, or the employees of one country)."""

    class ScopeChoice(models.TextChoices):
        TENANT = Scope.TENANT.value, "The whole firm"
        TEAM = Scope.TEAM.value, "One team"
        REGION = Scope.REGION.value, "One country"

    preset = models.CharField(
        max_length=32, choices=[(code, p.name) for code, p in PRESETS.items()]
    )
    years = models.PositiveSmallIntegerField()
    scope = models.CharField(max_length=16, choices=ScopeChoice.choices)
    team = models.ForeignKey(
        "consent.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    region = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    created_at = models.DateTimeField(default=timezone.now)
    created_by_label = models.CharField(max_length=254, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["scope", "region", "team_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(scope="tenant", team__isnull=True, region="")
                    | Q(scope="team", team__isnull=False, region="")
                    | Q(scope="region", team__isnull=True, region__regex=r"^[A-Z]{2}$")
                ),
                name="retention_policy_scope_shape",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "scope"], name="retention_policy_scope")]

    def __str__(self) -> str:
        return f"{PRESETS[self.preset].name}: {self.years} years ({self.scope_label})"

    @property
    def scope_label(self) -> str:
        if self.scope == Scope.TEAM:
            return f"team {self.team}" if self.team_id else "a team"
        if self.scope == Scope.REGION:
            return f"employees in {self.region}"
        return "the whole firm"


class SubjectKind(models.TextChoices):
    COUNTERPARTY = "counterparty", "A client (by WhatsApp number)"
    EMPLOYEE = "employee", "An employee"


class ErasureRequest(TenantOwnedModel):
    """A data subject's request to erase their data (GDPR Art. 17, LGPD Art. 18), as an admin
    recorded it, and the decision: refused with its legal basis written out (the data are then
    restricted, GDPR Art. 18) or carried out with tombstones."""

    class Law(models.TextChoices):
        GDPR = "gdpr", "GDPR Art. 17 (right to erasure)"
        LGPD = "lgpd", "LGPD Art. 18 (elimination)"

    class Decision(models.TextChoices):
        REFUSED = "refused", "Refused: records must be kept (data restricted)"
        CARRIED_OUT = "carried_out", "Carried out: content erased, tombstones kept"

    subject_kind = models.CharField(max_length=16, choices=SubjectKind.choices)
    counterparty_wa_id = models.CharField(max_length=32, blank=True)  # digits, as WhatsApp's
    employee = models.ForeignKey(
        "consent.Employee", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    law = models.CharField(max_length=8, choices=Law.choices)
    requested_by = models.CharField(max_length=200)  # who asked (the subject, their lawyer...)
    requested_on = models.DateField()
    recorded_by_label = models.CharField(max_length=254)
    recorded_at = models.DateTimeField(default=timezone.now)
    decision = models.CharField(max_length=16, choices=Decision.choices)
    basis = models.TextField(blank=True)  # the legal basis of a refusal, one line per reason
    message_count = models.PositiveIntegerField(default=0)
    disposed = models.JSONField(default=dict, blank=True)  # rows tombstoned per table

    class Meta:
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(subject_kind="counterparty", employee__isnull=True)
                    & ~Q(counterparty_wa_id="")
                    | Q(subject_kind="employee", employee__isnull=False, counterparty_wa_id="")
                ),
                name="erasure_request_subject_shape",
            ),
        ]

    def __str__(self) -> str:
        return f"erasure request {self.pk} ({self.get_decision_display()})"

    @property
    def subject_label(self) -> str:
        if self.subject_kind == SubjectKind.EMPLOYEE and self.employee is not None:
            return f"Employee {self.employee.full_name} ({self.employee.employee_id})"
        return f"Client {phone_for_display(self.counterparty_wa_id)}"


class SubjectRestriction(TenantOwnedModel):
    """GDPR Art. 18: the subject's data are kept (a retention rule or a hold requires it) but
    their processing is restricted: pages say so, and later detection or model training reads
    :func:`archive.retention.selectors.restricted_q` to leave them out."""

    erasure_request = models.ForeignKey(
        ErasureRequest, on_delete=models.PROTECT, related_name="restrictions"
    )
    subject_kind = models.CharField(max_length=16, choices=SubjectKind.choices)
    counterparty_wa_id = models.CharField(max_length=32, blank=True)
    employee = models.ForeignKey(
        "consent.Employee", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "counterparty_wa_id"], name="restriction_counterparty"),
            models.Index(fields=["tenant", "employee"], name="restriction_employee"),
        ]

    def __str__(self) -> str:
        return f"restriction of {self.counterparty_wa_id or self.employee_id}"
