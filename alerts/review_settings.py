"""A firm's settings of alert review: pseudonymised review (on by default for firms established
in the EU/EEA) and the review's SLA per severity (defaulting to settings.ALERTS_SLA_HOURS).

A firm without a stored row has the defaults, so new firms need no set-up and existing ones
keep their behaviour. Only admins change them, through :func:`update_review_settings`, which
audits the change with its before and after.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.context import read_scope, tenant_scope
from compliance_hub.tenancy.models import Tenant

from .models import ReviewSettings

# The EU's 27 member states and the EEA's three others (Iceland, Liechtenstein, Norway): where
# the GDPR applies, and so where pseudonymised review is the default. ISO 3166-1 alpha-2.
# fmt: off
EU_EEA_COUNTRIES = frozenset({
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    "IS", "LI", "NO",
})
# fmt: on
# A year: an SLA longer than that is a typing mistake, not a promise to a regulator.
SLA_MAX_HOURS = 24 * 365


class ReviewSettingsError(ValueError):
    """Refused settings; ``problems`` maps a field (a severity, or "pseudonymise") to the
    sentence the page shows next to it."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__(" ".join(self.problems.values()))


@dataclass(frozen=True)
class ReviewChoices:
    """What applies to a firm now: its stored choices over the defaults."""

    pseudonymise: bool
    sla_hours: dict[str, int] = field(default_factory=dict)
    stored: bool = False


def default_sla_hours() -> dict[str, int]:
    return {severity: int(hours) for severity, hours in settings.ALERTS_SLA_HOURS.items()}


def severities() -> list[str]:
    """The severities with an SLA, most urgent first (the settings' order)."""
    return list(settings.ALERTS_SLA_HOURS)


def pseudonymised_by_default(tenant: Tenant) -> bool:
    return tenant.country.upper() in EU_EEA_COUNTRIES


def review_choices(tenant: Tenant) -> ReviewChoices:
    with read_scope(tenant):
        stored = ReviewSettings.objects.filter(tenant=tenant).first()
    hours = default_sla_hours()
    if stored is None:
        return ReviewChoices(pseudonymise=pseudonymised_by_default(tenant), sla_hours=hours)
    hours.update({k: int(v) for k, v in stored.sla_hours.items() if k in hours})
    return ReviewChoices(pseudonymise=stored.pseudonymise, sla_hours=hours, stored=True)


def sla_hours_of(tenant_id: int) -> dict[str, int]:
    """Severity -> hours for the firm (alerts.raising.due_at's input)."""
    with tenant_scope(tenant_id):
        stored = ReviewSettings.objects.filter(tenant_id=tenant_id).values_list(
            "sla_hours", flat=True
        )
        own = next(iter(stored), None) or {}
    hours = default_sla_hours()
    hours.update({k: int(v) for k, v in own.items() if k in hours})
    return hours


def parse_sla_hours(text: str) -> int:
    """Hours as typed on the settings page: a whole number from 1 to SLA_MAX_HOURS written
    with the digits 0-9. Raises ValueError with the sentence to show."""
    text = text.strip()
    if not text:
        raise ValueError("Give the number of hours.")
    if text.startswith("-"):
        raise ValueError("The time to review cannot be negative.")
    # '١٢'.isdigit() and '²'.isdigit() are true; int() reads one and refuses the other.
    if not (text.isascii() and text.isdigit()):
        raise ValueError("Write a whole number of hours with the digits 0-9 (e.g. 24).")
    if len(text) > 6 or int(text) > SLA_MAX_HOURS:
        raise ValueError(f"At most {SLA_MAX_HOURS} hours (a year).")
    hours = int(text)
    if hours < 1:
        raise ValueError("At least 1 hour: an alert cannot be due when it is raised.")
    return hours


def update_review_settings(
    *, tenant: Tenant, actor: Actor, pseudonymise: bool, sla_hours: Mapping[str, int]
) -> ReviewChoices:
    """Store the firm's choices (an admin's doing) and audit what changed. Hours must be whole
    numbers from 1 to SLA_MAX_HOURS for known severities (else ReviewSettingsError). A changed
    SLA applies to alerts raised from now on; alerts already raised keep their due time."""
    known = set(severities())
    problems: dict[str, str] = {}
    for severity, hours in sla_hours.items():
        if severity not in known:
            problems[severity] = f"{severity!r} is not a severity."
        elif isinstance(hours, bool) or not isinstance(hours, int):
            problems[severity] = "Give a whole number of hours."
        elif not 1 <= hours <= SLA_MAX_HOURS:
            problems[severity] = f"Give between 1 and {SLA_MAX_HOURS} hours."
    if problems:
        raise ReviewSettingsError(problems)
    before = review_choices(tenant)
    merged = {**before.sla_hours, **sla_hours}
    with tenant_scope(tenant), transaction.atomic():
        ReviewSettings.objects.update_or_create(
            tenant=tenant, defaults={"pseudonymise": pseudonymise, "sla_hours": merged}
        )
        after = ReviewChoices(pseudonymise=pseudonymise, sla_hours=merged, stored=True)
        if (before.pseudonymise, before.sla_hours) != (after.pseudonymise, after.sla_hours):
            record_event(
                "alert_settings.changed",
                tenant=tenant,
                actor=actor,
                target_label="Alert review settings",
                details={
                    "before": {"pseudonymise": before.pseudonymise, "sla_hours": before.sla_hours},
                    "after": {"pseudonymise": after.pseudonymise, "sla_hours": after.sla_hours},
                },
            )
    return after
