"""Employees, their WhatsApp numbers, consent notices and the consent history.

Consent history is append-only (:class:`ConsentEvent`): the gate must answer correctly for any
past moment, and a regulator may ask for the proof of any consent years later.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from compliance_hub.audit.actors import EMPLOYEE_LINK_PREFIX
from compliance_hub.tenancy.models import TenantOwnedModel

# An employee's language: the one list in settings.LANGUAGES (members EN, PT_BR, ES, HI).
# The stubs' overloads of the functional API take member names only; Django (as Enum) also
# takes (name, value) pairs, used here to give each member its code and label.
Language = models.TextChoices(  # type: ignore[call-overload]
    "Language",
    [(code.replace("-", "_").upper(), (code, label)) for code, label in settings.LANGUAGES],
)


class ConsentState(models.TextChoices):
    COVERED = "covered", "Covered"
    PENDING = "pending", "Pending"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"
    NONE = "none", "No consent"


class Team(TenantOwnedModel):
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                models.F("tenant"), Lower("name"), name="team_name_unique_per_tenant"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Employee(TenantOwnedModel):
    """A monitored person. Deactivation (offboarding) is final: a re-hire is a new employee, so
    every past moment maps to exactly one employee per number."""

    full_name = models.CharField(max_length=200)
    email = models.EmailField()
    employee_id = models.CharField(max_length=64)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="employees"
    )
    region = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.EN)
    phone_number = models.CharField(max_length=20, help_text="E.164")
    whatsapp_phone_number_id = models.CharField(max_length=32, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    deactivation_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["full_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "employee_id"], name="employee_id_unique_per_tenant"
            ),
            models.UniqueConstraint(
                fields=["tenant", "phone_number"],
                condition=Q(active=True),
                name="employee_active_number_unique",
            ),
            models.UniqueConstraint(
                fields=["tenant", "whatsapp_phone_number_id"],
                condition=Q(active=True) & ~Q(whatsapp_phone_number_id=""),
                name="employee_active_phone_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "whatsapp_phone_number_id"], name="employee_phone_id"),
            models.Index(fields=["tenant", "team"], name="employee_team"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.employee_id})"

    @property
    def audit_label(self) -> str:
        """How the audit trail names the employee when they act themselves, through the links
        of their emails (they have no account)."""
        return f"{EMPLOYEE_LINK_PREFIX}{self.employee_id}"


class NumberAssignment(TenantOwnedModel):
    """Which employee a WhatsApp phone number id belonged to, and when. The gate reads this
    history, so a message is judged by whoever held the number at the message's time."""

    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="assignments")
    whatsapp_phone_number_id = models.CharField(max_length=32)
    phone_number = models.CharField(max_length=20)
    assigned_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["assigned_at", "id"]
        indexes = [
            models.Index(
                fields=["tenant", "whatsapp_phone_number_id", "assigned_at"],
                name="assignment_lookup",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "whatsapp_phone_number_id"],
                condition=Q(released_at__isnull=True),
                name="assignment_one_open_per_phone_id",
            )
        ]

    def __str__(self) -> str:
        return f"{self.whatsapp_phone_number_id} → {self.employee_id}"


class NumberClaim(models.Model):
    """Platform-wide register of numbers held by active employees, so that one number belongs to
    one active employee of one tenant. Holds only a keyed digest of the number (no tenant can
    learn another's numbers from it, and the operator sees no phone numbers), never content."""

    class Kind(models.TextChoices):
        E164 = "e164", "Phone number"
        PHONE_NUMBER_ID = "phone_id", "WhatsApp phone number id"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    digest = models.CharField(max_length=64)
    tenant = models.ForeignKey("compliance_hub.Tenant", on_delete=models.CASCADE, related_name="+")
    employee_pk = models.BigIntegerField()
    claimed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "digest"], name="number_claim_unique")
        ]
        indexes = [models.Index(fields=["tenant", "employee_pk"], name="number_claim_employee")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} claim of tenant {self.tenant_id}"


class ConsentNotice(TenantOwnedModel):
    """A versioned notice. Drafts may change; a published version never does (database trigger),
    and its SHA-256 is what each consent records."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    version = models.PositiveIntegerField(null=True, blank=True)
    # {"en": {"title": ..., "body": ...}, "pt-br": {...}, "es": {...}}
    texts = models.JSONField(default=dict)
    content_sha256 = models.CharField(max_length=64, blank=True)
    reconsent_deadline = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Consents to earlier versions stop covering capture at this moment.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        "compliance_hub.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        "compliance_hub.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-version", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "version"],
                condition=Q(version__isnull=False),
                name="notice_version_unique_per_tenant",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | (Q(version__isnull=False) & ~Q(content_sha256="")),
                name="notice_published_has_version_and_hash",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """How people tell notices apart: a version by its number, a draft by its title and
        language (never by an internal id)."""
        if self.version:
            return f"Notice version {self.version}"
        labels = dict(Language.choices)
        for code, entry in self.texts.items():
            title = (entry or {}).get("title", "").strip()
            if title:
                return f"Draft “{title}” ({labels.get(code, code)})"
        return "Empty draft"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def language_labels(self) -> list[str]:
        labels = dict(Language.choices)
        return [labels.get(code, code) for code in self.texts]

    def text_for(self, language: str) -> dict[str, str]:
        return self.texts.get(language) or self.texts.get("en") or next(iter(self.texts.values()))


class ConsentInvitation(TenantOwnedModel):
    """A single-use, expiring link an employee opens to read the notice and accept or decline."""

    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="invitations")
    notice = models.ForeignKey(ConsentNotice, on_delete=models.PROTECT, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    language = models.CharField(max_length=8, choices=Language.choices)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(
        "compliance_hub.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "employee", "-created_at"], name="invite_emp")]

    def __str__(self) -> str:
        return f"Consent invitation for {self.employee_id}"

    @property
    def is_open(self) -> bool:
        return (
            self.responded_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )


def evidence_path(instance: ConsentEvent, filename: str) -> str:
    # Named by content hash, not by what the uploader called it.
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"consent-evidence/{instance.tenant_id}/{instance.evidence_sha256}.{suffix}"


EVIDENCE_KIND_LABELS = {
    "application/pdf": "PDF document",
    "image/png": "PNG image",
    "image/jpeg": "JPEG image",
}


class ConsentEvent(TenantOwnedModel):
    """One entry of an employee's consent history. Append-only: never updated, never deleted."""

    class Kind(models.TextChoices):
        GRANTED = "granted", "Granted"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"
        EXPIRED = "expired", "Expired (re-consent overdue)"

    class Method(models.TextChoices):
        LINK = "link", "Accepted through the invitation link"
        RECORDED = "recorded", "Recorded by an admin (paper or other evidence)"
        EMPLOYEE = "employee", "By the employee (withdrawal link)"
        ADMIN = "admin", "By an admin"
        SYSTEM = "system", "By the system"

    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="consent_events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    method = models.CharField(max_length=16, choices=Method.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    notice = models.ForeignKey(
        ConsentNotice, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    notice_version = models.PositiveIntegerField(null=True, blank=True)
    notice_sha256 = models.CharField(max_length=64, blank=True)
    language = models.CharField(max_length=8, blank=True)
    signature_name = models.CharField(max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    evidence = models.FileField(upload_to=evidence_path, blank=True)
    evidence_sha256 = models.CharField(max_length=64, blank=True)
    evidence_size = models.PositiveIntegerField(null=True, blank=True)
    evidence_content_type = models.CharField(max_length=100, blank=True)
    evidence_reference = models.CharField(max_length=500, blank=True)
    reason = models.CharField(max_length=1000, blank=True)
    invitation = models.ForeignKey(
        ConsentInvitation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # For a grant: the hash of the secret in the confirmation email's withdrawal link.
    withdrawal_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    recorded_by = models.ForeignKey(
        "compliance_hub.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    append_only = True  # no UPDATE/DELETE grants; triggers in the migration

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(fields=["tenant", "employee", "occurred_at"], name="consent_history"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="granted") | ~Q(notice_sha256=""),
                name="consent_grant_records_notice_hash",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d %H:%M}"

    @property
    def language_label(self) -> str:
        return dict(Language.choices).get(self.language, self.language)

    @property
    def evidence_kind_label(self) -> str:
        """What the admin uploaded, in words (the evidence types the consent services accept)."""
        return EVIDENCE_KIND_LABELS.get(self.evidence_content_type, "File")


class EmployeeImport(TenantOwnedModel):
    """An uploaded CSV held for preview: nothing is imported until an admin confirms it."""

    class Status(models.TextChoices):
        PREVIEW = "preview", "Awaiting confirmation"
        IMPORTED = "imported", "Imported"
        DISCARDED = "discarded", "Discarded"

    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    rows = models.JSONField(default=list)
    errors = models.JSONField(default=list)
    total_lines = models.PositiveIntegerField(default=0)
    # The admin chose "create the teams this file names": confirming creates ``new_teams``.
    create_teams = models.BooleanField(default=False)
    new_teams = models.JSONField(default=list)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PREVIEW)
    uploaded_by = models.ForeignKey(
        "compliance_hub.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import of {self.filename}"

    @property
    def problem_summary(self) -> str:
        """ "3 problems in 2 rows", "1 problem with the whole file": problems and the rows
        they are in, counted apart (one row often has several)."""
        return problem_summary(self.errors)

    @property
    def status_label(self) -> str:
        """The status as the admin needs it: a held file with problems is not "awaiting
        confirmation", it cannot be imported at all."""
        if self.status == self.Status.PREVIEW and self.errors:
            return "Cannot be imported: fix the problems and upload the file again"
        if self.status == self.Status.PREVIEW and not self.rows:
            return "Nothing to import: the file has no employee rows"
        return self.get_status_display()


def _counted(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def problem_summary(errors: list[dict]) -> str:
    """Problems of an import counted by row: line 0 is a problem with the whole file."""
    if not errors:
        return "no problems"
    in_rows = [error for error in errors if error.get("line")]
    whole_file = len(errors) - len(in_rows)
    parts = []
    if in_rows:
        rows = len({error["line"] for error in in_rows})
        parts.append(f"{_counted(len(in_rows), 'problem')} in {_counted(rows, 'row')}")
    if whole_file:
        parts.append(f"{_counted(whole_file, 'problem')} with the whole file")
    return " and ".join(parts)
