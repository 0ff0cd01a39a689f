"""Pseudonymised review: the one rule for how alert pages (and the alerts API) name people.

When a firm has pseudonymised review on (alerts/review_settings.py), reviewers (officers, senior
officers, admins) see the employee as ``Employee 7F3A9C`` and the counterparty as ``Client
19C2AB`` until they unmask that one alert with a reason (:func:`unmask_alert`: audited, listed
for admins, lasting for that reviewer and that alert). Message texts keep their content (the
review masks people, not what they wrote); phone numbers and names are never shown while masked.
Auditors are not masked: they examine the review, and their archive search and exports are not
pseudonymised either.

The pseudonyms themselves are compliance_hub/tenancy/pseudonyms.py (a keyed HMAC of firm and
person); outside the alert pages the wall (compliance_hub/tenancy/walls.py) decides what a
masked officer may read, from the source this module registers (:func:`reader_wall_of`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypedDict

from django import forms
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction

from compliance_hub.accounts.models import User
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.phones import phone_for_display
from compliance_hub.tenancy.context import read_scope, tenant_scope
from compliance_hub.tenancy.models import Membership, Tenant

# The pure rule lives below the apps (the archive and policies draw the same pseudonyms).
from compliance_hub.tenancy.pseudonyms import client_pseudonym, employee_pseudonym
from compliance_hub.tenancy.roles import REVIEWER_ROLES
from compliance_hub.tenancy.walls import OPEN, ReaderWall

# The small-team rule lives below the apps (the policy editor and legal holds draw it too).
from consent.pseudonymised import SMALL_TEAM as SMALL_TEAM
from consent.pseudonymised import SMALL_TEAM_WORDS as SMALL_TEAM_WORDS
from consent.pseudonymised import named_teams as named_teams
from consent.pseudonymised import team_is_named as team_is_named

from .models import Alert, Unmasking
from .review_settings import review_choices

REASON_MAX_LENGTH = 1000
# Keys of AlertEvent.details that name the employee (alerts.notify.services.send_employee_notice).
NAMING_DETAILS = frozenset({"to", "subject", "body"})


class UnmaskRefused(ValueError):
    """``str(error)`` is the sentence the page shows."""


class People(TypedDict):
    """How one viewer sees the people of one alert."""

    employee: str
    counterparty: str
    masked: bool


@dataclass(frozen=True)
class Masking:
    """How one viewer sees people on one page: whether the firm pseudonymises for their role,
    and which of the page's alerts they unmasked."""

    tenant_id: int
    on: bool
    unmasked: frozenset[int] = field(default_factory=frozenset)

    def masks(self, alert: Alert) -> bool:
        return self.on and alert.pk not in self.unmasked

    def employee(self, alert: Alert) -> str:
        if self.masks(alert):
            return employee_pseudonym(self.tenant_id, alert.employee_id)
        employee = alert.employee
        return f"{employee.full_name} ({employee.employee_id})"

    def counterparty(self, alert: Alert) -> str:
        conversation = alert.conversation
        if self.masks(alert):
            return client_pseudonym(self.tenant_id, conversation.counterparty_key)
        number = phone_for_display(conversation.counterparty_wa_id)
        name = conversation.counterparty_name or conversation.counterparty_username
        return f"{name} ({number})" if name and number else name or number or "Unknown"

    def employee_name(self, alert: Alert) -> str:
        """The employee in a sentence (an email's subject): the pseudonym, or their name."""
        return self.employee(alert) if self.masks(alert) else alert.employee.full_name

    def event_details(self, alert: Alert, details: dict[str, object]) -> dict[str, object]:
        """An entry of the alert's history as this viewer reads it: a notice sent to the
        employee holds their address and the text that greets them by name."""
        if not self.masks(alert):
            return details
        return {key: value for key, value in details.items() if key not in NAMING_DETAILS}

    def team(self, alert: Alert) -> str:
        """The employee's team as this viewer reads it ("" when they have none)."""
        team = alert.employee.team
        if team is None:
            return ""
        if self.masks(alert) and not team_is_named(team):
            return SMALL_TEAM_WORDS
        return team.name

    def people(self, alert: Alert) -> People:
        return {
            "employee": self.employee(alert),
            "counterparty": self.counterparty(alert),
            "masked": self.masks(alert),
        }


def _role(tenant_id: int, user: User) -> str | None:
    membership = Membership.objects.active().filter(tenant_id=tenant_id, user=user).first()
    return membership.role if membership else None


def masking_for(
    *,
    tenant: Tenant,
    viewer: User | AnonymousUser,
    role: str | None,
    alerts: Iterable[Alert] = (),
    on: bool | None = None,
) -> Masking:
    """The masking of a page that shows ``alerts`` to ``viewer`` (whose role in the firm is
    ``role``). One query for the setting (none when ``on`` is what an earlier call of the same
    request answered), one for the viewer's unmaskings among ``alerts``."""
    if on is None:
        on = role in REVIEWER_ROLES and review_choices(tenant).pseudonymise
    ids = [a.pk for a in alerts]
    if not on or not ids or viewer.pk is None:
        return Masking(tenant_id=tenant.pk, on=on)
    with tenant_scope(tenant):
        unmasked = Unmasking.objects.filter(
            tenant=tenant, user_id=viewer.pk, alert_id__in=ids
        ).values_list("alert_id", flat=True)
        return Masking(tenant_id=tenant.pk, on=on, unmasked=frozenset(unmasked))


def masking_of_member(*, tenant: Tenant, user: User, alerts: Iterable[Alert] = ()) -> Masking:
    """:func:`masking_for` a member whose role is looked up: for what reaches them outside a
    request (emails), where no membership was resolved."""
    return masking_for(tenant=tenant, viewer=user, role=_role(tenant.pk, user), alerts=alerts)


def display_people(alert: Alert, viewer: User) -> People:
    """How ``viewer`` (a member of the alert's firm) sees the employee and the counterparty of
    ``alert``; for the REST API and any page that shows one alert."""
    return masking_of_member(tenant=alert.tenant, user=viewer, alerts=[alert]).people(alert)


def mask_employee_choices(form: forms.Form, *, tenant_id: int) -> None:
    """The queue's employee filter, for a masked reviewer: pseudonyms, in an order (the rows'
    ids) that does not give away the names' alphabetical one."""
    field = form.fields["employee"]
    assert isinstance(field, forms.ModelChoiceField)
    field.label_from_instance = lambda employee: employee_pseudonym(tenant_id, employee.pk)  # type: ignore[method-assign,assignment]
    if field.queryset is not None:
        field.queryset = field.queryset.order_by("pk")


def mask_team_choices(form: forms.Form, *, tenant: Tenant) -> None:
    """The queue's team filter, for a masked reviewer: only the teams named to them, so a small
    team is neither offered nor accepted."""
    field = form.fields["team"]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = named_teams(tenant)


def reader_wall_of(tenant: Tenant, user_id: int | None) -> ReaderWall:
    """The wall source registered with compliance_hub.tenancy.walls: closed when the firm
    pseudonymises; the conversations of the alerts this person unmasked stay open to them.
    Called only for the walled roles (officers, senior officers)."""
    if not review_choices(tenant).pseudonymise:
        return OPEN
    if user_id is None:  # a key acting for nobody unmasks nothing
        return ReaderWall(closed=True)
    with read_scope(tenant):
        opened = Unmasking.objects.filter(tenant=tenant, user_id=user_id).values_list(
            "alert__conversation_id", flat=True
        )
        return ReaderWall(closed=True, open_conversations=frozenset(opened))


def unmask_alert(*, alert: Alert, actor: Actor, reason: str) -> Unmasking:
    """Let the actor see the real people of this one alert, for a reason that is kept (audited
    as ``alert.unmasked`` and listed for admins). Unmasking again returns the first record."""
    user = actor.user
    if user is None:
        raise UnmaskRefused("Only a signed-in reviewer can unmask an alert.")
    reason = reason.strip()
    if not reason:
        raise UnmaskRefused("Say why you need to see who this is.")
    if len(reason) > REASON_MAX_LENGTH:
        raise UnmaskRefused(f"Keep the reason under {REASON_MAX_LENGTH} characters.")
    tenant = alert.tenant
    if _role(tenant.pk, user) not in REVIEWER_ROLES:
        raise UnmaskRefused("Only the firm's reviewers unmask alerts.")
    if not review_choices(tenant).pseudonymise:
        raise UnmaskRefused("Review is not pseudonymised in this firm: nothing to unmask.")
    with tenant_scope(tenant):
        existing = Unmasking.objects.filter(tenant=tenant, alert=alert, user=user).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                made = Unmasking.objects.create(
                    tenant=tenant, alert=alert, user=user, user_label=actor.label, reason=reason
                )
                record_event(
                    "alert.unmasked", tenant=tenant, actor=actor, target=alert,
                    details={"reason": reason},
                )  # fmt: skip
        except IntegrityError:  # the same reviewer's second click, at the same moment
            return Unmasking.objects.get(tenant=tenant, alert=alert, user=user)
    return made


def unmaskings(*, tenant: Tenant, limit: int = 200) -> list[Unmasking]:
    """The firm's latest unmaskings, newest first (the admins' list)."""
    with tenant_scope(tenant):
        return list(Unmasking.objects.filter(tenant=tenant).select_related("alert")[:limit])
